"""Fused steps: a short run of plain steps answered with one store call per batch.

:func:`server.gremlin.strategies.fuse` puts them in place of

- ``out(labels).values(key)`` -> :class:`AdjacentValuesStep` (``GraphConnection.adjacent_values``:
  the neighbours' values without building neighbour vertices or property objects),
- ``out(labels).groupCount().by(key)`` -> :class:`AdjacentGroupCountStep` (same call, counted),
- ``V().hasLabel(..).values(key)`` -> :class:`VertexValuesStep` and
  ``V().hasLabel(..).groupCount().by(key)`` -> :class:`VertexGroupCountStep`
  (``GraphConnection.scan_values``: one query per page of vertices),
- ``V(..).count()`` / ``E(..).count()`` -> :class:`ElementCountStep` (``count_vertices`` /
  ``count_edges``: the store counts),
- ``out(..).out(..)...count()`` -> :class:`WalkCountStep` (``GraphConnection.walk_count``: walks
  counted hop by hop in the store, never materialised as traversers),

and likewise for ``in``/``both``. Each keeps the steps it replaces and runs them instead whenever
the run needs what the fused form does not keep (paths). Results are the same traversers, in the
same order, with the same bulks, as the unfused steps give.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from server.gremlin.runtime import Context, Step, Trav
from server.gremlin.steps.flatmap import DegreeCountStep, PropertiesStep, VertexStep, _need_vertices
from server.gremlin.steps.sideeffect import GroupCountStep
from server.gremlin.steps.start import GraphStep
from server.structure import Int64


def _starts(batch: list[Trav], ctx: Context, merge: bool) -> tuple[list[Trav], list[int]]:
    """The traversers a :class:`VertexStep` would query for (one per group of traversers it
    would fold together) and each group's summed bulk."""
    if not merge:
        return batch, [t.bulk for t in batch]
    groups: dict[Any, list[Any]] = {}
    for t in batch:
        key = (t.value.id, t.loops, t.root, ctx.path_key(t))
        found = groups.get(key)
        if found is None:
            groups[key] = [t, t.bulk]
        else:
            found[1] += t.bulk
    return [g[0] for g in groups.values()], [g[1] for g in groups.values()]


def _unique_vertices(travs: list[Trav]) -> tuple[list[Any], list[int]]:
    """Distinct start vertices and, for each traverser, the index of its vertex."""
    slot: dict[Any, int] = {}
    verts: list[Any] = []
    where = []
    for t in travs:
        i = slot.get(t.value.id)
        if i is None:
            i = slot[t.value.id] = len(verts)
            verts.append(t.value)
        where.append(i)
    return verts, where


class AdjacentValuesStep(Step):
    """``out(labels).values(key)`` in one store call per batch."""

    path_extending = True

    def __init__(self, hop: VertexStep, values: PropertiesStep) -> None:
        super().__init__()
        self.hop = hop
        self.values = values
        self.key: str = values.keys[0]  # type: ignore[index]
        self.name = "values"

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        if ctx.full_paths:  # paths would show the neighbours: run the steps themselves
            return self.values.apply(self.hop.apply(it, ctx), ctx)
        return super().apply(it, ctx)

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        hop = self.hop
        _need_vertices(batch, hop.name)
        merge = ctx.can_merge
        starts, bulks = _starts(batch, ctx, merge)
        verts, where = _unique_vertices(starts)
        found = ctx.conn.adjacent_values(verts, hop.direction, hop.edge_labels, self.key)
        if not merge:
            return [
                t.split(value, ctx)
                for t, i in zip(starts, where, strict=True)
                for _, vals in found[i]
                for value in vals
            ]
        # what VertexStep does: fold traversers reaching the same neighbour (first one's place)
        merged: dict[Any, list[Any]] = {}
        for t, bulk, i in zip(starts, bulks, where, strict=True):
            pk = ctx.path_key(t)
            for far, vals in found[i]:
                key = (far, t.loops, t.root, pk)
                m = merged.get(key)
                if m is None:
                    merged[key] = [t, bulk, vals]
                else:
                    m[1] += bulk
        return [
            Trav(value, bulk, t.path, t.loops, None, t.root)
            for t, bulk, vals in merged.values()
            for value in vals
        ]


class AdjacentGroupCountStep(Step):
    """``out(labels).groupCount().by(key)`` in one store call per batch."""

    name = "groupCount"
    path_extending = True
    streamable = False

    def __init__(self, hop: VertexStep, group: GroupCountStep) -> None:
        super().__init__()
        self.hop = hop
        self.group = group
        self.key: str = group.bys[0].arg

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        if ctx.full_paths or ctx.productive_by:
            # paths would show the neighbours; ProductiveByStrategy counts neighbours without
            # the key (under null), which adjacent_values leaves out: run the steps themselves
            yield from self.group.apply(self.hop.apply(it, ctx), ctx)
            return
        acc: dict[Any, list[Any]] = {}
        for batch in it:
            ctx.check()
            _need_vertices(batch, self.hop.name)
            starts, bulks = _starts(batch, ctx, True)
            verts, where = _unique_vertices(starts)
            found = ctx.conn.adjacent_values(verts, self.hop.direction, self.hop.edge_labels, self.key)
            # keys are first seen in edge order, as when counting the folded neighbours
            for bulk, i in zip(bulks, where, strict=True):
                for _, vals in found[i]:
                    GroupCountStep.tally(acc, vals[0], bulk)  # by(key): a multi-property's first value
        yield [Trav(GroupCountStep._result(acc), 1, (), (), ctx.new_sack())]


def _scan_values(start: GraphStep, key: str, ctx: Context) -> Iterator[list[list[Any]]]:
    query = start.query()
    if query.ids is not None and not query.ids:
        return iter(())
    return ctx.conn.scan_values(query, key)


class VertexValuesStep(Step):
    """``V().hasLabel(..).has(k, v).values(key)`` (a start step): the values, a page of vertices
    at a time, from ``GraphConnection.scan_values`` (no vertex is built)."""

    name = "values"
    path_extending = True

    def __init__(self, start: GraphStep, values: PropertiesStep) -> None:
        super().__init__()
        self.start = start
        self.values = values
        self.key: str = values.keys[0]  # type: ignore[index]
        self.is_start = True

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        if ctx.full_paths or ctx.has_sack:  # paths show the vertices; sacks split per vertex
            yield from self.values.apply(self.start.apply(it, ctx), ctx)
            return
        for page in _scan_values(self.start, self.key, ctx):
            ctx.check()
            out = [Trav(value) for values in page for value in values]
            if out:
                yield out


class VertexGroupCountStep(Step):
    """``V().hasLabel(..).has(k, v).groupCount().by(key)`` (a start step): the first value of
    ``key`` of each vertex, counted, from ``GraphConnection.scan_values`` (no vertex or
    traverser is built)."""

    name = "groupCount"
    path_extending = True
    streamable = False

    def __init__(self, start: GraphStep, group: GroupCountStep) -> None:
        super().__init__()
        self.start = start
        self.group = group
        self.key: str = group.bys[0].arg
        self.is_start = True

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        if ctx.full_paths or ctx.productive_by:  # as AdjacentGroupCountStep
            yield from self.group.apply(self.start.apply(it, ctx), ctx)
            return
        acc: dict[Any, list[Any]] = {}
        for page in _scan_values(self.start, self.key, ctx):
            ctx.check()
            for values in page:  # keys first seen in vertex order, as when counting traversers
                GroupCountStep.tally(acc, values[0], 1)  # by(key): a multi-property's first value
        yield [Trav(GroupCountStep._result(acc), 1, (), (), ctx.new_sack())]


class ElementCountStep(Step):
    """``V(..).count()`` / ``E(..).count()`` as a start (has() filters folded in): counted by
    the store (``GraphConnection.count_vertices`` / ``count_edges``: one COUNT query where SQL
    decides the filters exactly) without fetching an element."""

    name = "count"
    streamable = False

    def __init__(self, start: GraphStep, count: Step) -> None:
        super().__init__()
        self.start = start
        self.count = count
        self.is_start = True

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        if ctx.track_paths:  # the count's path comes from the first element, as WalkCountStep's
            yield from self.count.apply(self.start.apply(it, ctx), ctx)
            return
        query = self.start.query()
        if query.ids is not None and not query.ids:
            total = 0
        elif self.start.kind == "V":
            total = ctx.conn.count_vertices(query)
        else:
            total = ctx.conn.count_edges(query)
        yield [Trav(Int64(total), 1, (), (), ctx.new_sack())]


class WalkCountStep(Step):
    """``out(..).out(..)...count()``: the number of walks, counted by the store."""

    name = "count"
    streamable = False

    def __init__(self, hops: list[VertexStep], count: DegreeCountStep) -> None:
        super().__init__()
        self.hops = hops
        self.count = count
        self.spec = [(h.direction, h.edge_labels) for h in [*hops, count.hop]]

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        if ctx.track_paths:  # the count's path comes from the traverser it first sees
            for hop in self.hops:
                it = hop.apply(it, ctx)
            yield from self.count.apply(it, ctx)
            return
        total = 0
        for batch in it:
            ctx.check()
            _need_vertices(batch, self.hops[0].name)
            starts, bulks = _starts(batch, ctx, True)
            total += ctx.conn.walk_count([t.value for t in starts], self.spec, bulks)
        yield [Trav(Int64(total), 1, (), (), ctx.new_sack())]
