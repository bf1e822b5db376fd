"""Flat-map steps: adjacency (``out``/``in``/``both``/``outE``/...), edge ends, ``properties``,
``values``, ``unfold``, ``flatMap``. Each asks the store once per batch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from server.gremlin.compiler import step
from server.gremlin.errors import GremlinTypeError
from server.gremlin.runtime import Context, MapEntry, Pipeline, Step, Trav
from server.structure import Direction, Edge, Path, Property, Vertex, VertexProperty


def _labels(args: tuple) -> list[str] | None:
    labels = [a for a in args if a is not None]
    flat: list[str] = []
    for a in labels:
        flat.extend(a if isinstance(a, (list, tuple)) else [a])
    return flat or None


def _need_vertices(batch: list[Trav], step_name: str) -> None:
    for t in batch:
        if not isinstance(t.value, Vertex):
            raise GremlinTypeError(
                f"The {step_name}() step expects vertices, got {type(t.value).__name__} {t.value!r}"
            )


class VertexStep(Step):
    """``out/in/both`` (vertices) and ``outE/inE/bothE`` (edges) for a whole batch at once.

    When traversers are mergeable (no paths, no sacks), equal start vertices are queried once and
    equal results folded into one bulked traverser: 3-hop counts stay proportional to the number
    of distinct vertices rather than of paths.
    """

    path_extending = True

    def __init__(self, direction: Direction, labels: list[str] | None, edges: bool) -> None:
        super().__init__()
        self.direction = direction
        self.edge_labels = labels
        self.edges = edges
        self.subgraph: tuple[Pipeline | None, Pipeline | None] | None = None
        self.name = {Direction.OUT: "out", Direction.IN: "in", Direction.BOTH: "both"}[direction] + (
            "E" if edges else ""
        )

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        _need_vertices(batch, self.name)
        conn = ctx.conn
        if self.subgraph is not None:
            return self._filtered(batch, ctx)
        if ctx.can_merge:
            groups: dict[Any, list[Trav]] = {}
            for t in batch:
                groups.setdefault((t.value.id, t.loops, t.root, ctx.path_key(t)), []).append(t)
            firsts = [g[0] for g in groups.values()]
            bulks = [sum(t.bulk for t in g) for g in groups.values()]
            verts = [t.value for t in firsts]
            if self.edges:
                found = conn.incident_edges(verts, self.direction, self.edge_labels)
            else:
                found = conn.adjacent_vertices(verts, self.direction, self.edge_labels)
            merged: dict[Any, Trav] = {}
            for t, bulk, targets in zip(firsts, bulks, found, strict=True):
                pk = ctx.path_key(t)
                for el in targets:
                    key = (el.id, t.loops, t.root, pk)
                    m = merged.get(key)
                    if m is None:
                        merged[key] = Trav(el, bulk, t.path, t.loops, None, t.root)
                    else:
                        m.bulk += bulk
            return list(merged.values())
        slot: dict[Any, int] = {}
        verts = []
        for t in batch:
            if t.value.id not in slot:
                slot[t.value.id] = len(verts)
                verts.append(t.value)
        if self.edges:
            found = conn.incident_edges(verts, self.direction, self.edge_labels)
        else:
            found = conn.adjacent_vertices(verts, self.direction, self.edge_labels)
        return [t.split(el, ctx) for t in batch for el in found[slot[t.value.id]]]

    def _filtered(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        """Adjacency restricted by SubgraphStrategy / PartitionStrategy filters."""
        vf, ef = self.subgraph  # type: ignore[misc]
        found = ctx.conn.incident_edges([t.value for t in batch], self.direction, self.edge_labels)
        rows = []
        for t, edges in zip(batch, found, strict=True):
            for e in edges:
                other = e.in_v if e.out_v == t.value and (self.direction is not Direction.IN) else e.out_v
                if self.direction is Direction.IN:
                    other = e.out_v
                rows.append((t, e, other))
        if ef is not None and rows:
            ok = ctx.child_any(ef, [Trav(e) for _, e, _ in rows])
            rows = [r for r, k in zip(rows, ok, strict=True) if k]
        if vf is not None and rows:
            ok = ctx.child_any(vf, [Trav(o) for _, _, o in rows])
            rows = [r for r, k in zip(rows, ok, strict=True) if k]
        return [t.split(e if self.edges else o, ctx) for t, e, o in rows]


class DegreeCountStep(Step):
    """``out().count()`` and friends answered from edge counts (``GraphConnection.degrees``),
    without fetching the last hop's elements. Put in place by :func:`strategies.optimize`."""

    name = "count"
    streamable = False

    def __init__(self, hop: VertexStep) -> None:
        super().__init__()
        self.hop = hop

    def count_each(self, travs: list[Trav], ctx: Context, keep_bulk: bool) -> list[Trav] | None:
        """What :meth:`apply` gives for each traverser alone, as the first step of a child
        traversal (``where(out().count().is(gt(5)))``, ``by(out().count())``), from one
        ``degrees`` call for them all: traverser ``i`` of the answer has ``root`` ``i``. None when
        paths are tracked or a value is not a vertex (the child then runs traverser by traverser,
        and raises the error)."""
        from server.structure import Int64

        if ctx.track_paths or self.labels or not all(isinstance(t.value, Vertex) for t in travs):
            return None
        ctx.check()
        uniq: dict[Any, Vertex] = {}
        for t in travs:
            uniq.setdefault(t.value.id, t.value)
        degrees = ctx.conn.degrees(list(uniq.values()), self.hop.direction, self.hop.edge_labels)
        degree = dict(zip(uniq, degrees, strict=True))
        return [
            Trav(Int64(degree[t.value.id] * (t.bulk if keep_bulk else 1)), 1, (), (), ctx.new_sack(), i)
            for i, t in enumerate(travs)
        ]

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        from server.structure import Int64

        total = 0
        first: Trav | None = None
        for batch in it:
            ctx.check()
            _need_vertices(batch, self.hop.name)
            if first is None and batch:
                first = batch[0]
            bulks: dict[Any, int] = {}
            verts: dict[Any, Vertex] = {}
            for t in batch:
                key = t.value.id
                bulks[key] = bulks.get(key, 0) + t.bulk
                verts.setdefault(key, t.value)
            uniq = list(verts.values())
            degrees = ctx.conn.degrees(uniq, self.hop.direction, self.hop.edge_labels)
            total += sum(d * bulks[v.id] for v, d in zip(uniq, degrees, strict=True))
        result = Int64(total)
        # like every reducing barrier: labels bound before it stay visible (where()/match())
        path = first.path if first is not None and ctx.track_paths else ()
        if ctx.full_paths:
            path = ((result, frozenset()),)
        yield [Trav(result, 1, path, (), ctx.new_sack())]


def _vertex_builder(direction: Direction, edges: bool):
    def build(c: Any, args: tuple) -> Step:
        return VertexStep(direction, _labels(args), edges)

    return build


for _name, _dir, _edges in (
    ("out", Direction.OUT, False),
    ("in", Direction.IN, False),
    ("both", Direction.BOTH, False),
    ("outE", Direction.OUT, True),
    ("inE", Direction.IN, True),
    ("bothE", Direction.BOTH, True),
):
    step(_name)(_vertex_builder(_dir, _edges))


class EdgeVertexStep(Step):
    """``outV``/``inV``/``bothV``/``otherV`` of edges."""

    path_extending = True

    def __init__(self, which: str) -> None:
        super().__init__()
        self.which = which
        self.name = which

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        out: list[Trav] = []
        for t in batch:
            e = t.value
            if not isinstance(e, Edge):
                raise GremlinTypeError(f"The {self.which}() step expects edges, got {e!r}")
            if self.which == "outV":
                out.append(t.split(e.out_v, ctx))
            elif self.which == "inV":
                out.append(t.split(e.in_v, ctx))
            elif self.which == "bothV":
                out.append(t.split(e.out_v, ctx))
                out.append(t.split(e.in_v, ctx))
            else:  # otherV: the end that is not the previous vertex on the path
                prev = None
                for obj, _ in reversed(t.path[:-1]):
                    if isinstance(obj, Vertex):
                        prev = obj
                        break
                if prev is None:
                    raise GremlinTypeError("otherV() needs the path to know where the traverser came from")
                out.append(t.split(e.in_v if prev == e.out_v else e.out_v, ctx))
        return out


for _w in ("outV", "inV", "bothV", "otherV"):
    step(_w)((lambda w: lambda c, a: EdgeVertexStep(w))(_w))


class PropertiesStep(Step):
    """``properties(keys...)`` and ``values(keys...)``: one store call per batch."""

    path_extending = True

    def __init__(self, keys: list[str] | None, values: bool) -> None:
        super().__init__()
        self.keys = keys
        self.values = values
        self.name = "values" if values else "properties"
        self.vp_filter: Pipeline | None = None

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        els, idx = [], []
        out: list[Trav] = []
        results: list[list[Any]] = [[] for _ in batch]
        for i, t in enumerate(batch):
            v = t.value
            if isinstance(v, (Vertex, Edge)):
                els.append(v)
                idx.append(i)
            elif isinstance(v, VertexProperty):
                props = v.properties
                if props is None:
                    props = []
                results[i] = [p for p in props if self.keys is None or p.key in self.keys]
            elif isinstance(v, dict) and self.values:
                results[i] = [_Raw(v[k]) for k in (self.keys or list(v)) if k in v]
            elif isinstance(v, Property):
                results[i] = []
            else:
                raise GremlinTypeError(
                    f"The {self.name}() step expects an element, got {type(v).__name__} {v!r}"
                )
        if els and self.values and self.keys is not None and self.vp_filter is None:
            # values(keys): the values alone, without property objects
            at, found = ctx.element_values(els, self.keys)
            for j, vals in zip(at, found, strict=True):
                results[idx[j]] = [_Raw(v) for v in vals]
        elif els:
            for i, props in zip(idx, ctx.load_properties(els, self.keys), strict=True):
                results[i] = props
            if self.vp_filter is not None:
                for i in idx:
                    vps = [p for p in results[i] if isinstance(p, VertexProperty)]
                    if vps:
                        ok = ctx.child_any(self.vp_filter, [Trav(p) for p in vps])
                        keep = {id(p) for p, k in zip(vps, ok, strict=True) if k}
                        results[i] = [
                            p for p in results[i] if not isinstance(p, VertexProperty) or id(p) in keep
                        ]
        for t, props in zip(batch, results, strict=True):
            for p in props:
                if isinstance(p, _Raw):
                    out.append(t.split(p.value, ctx))
                else:
                    out.append(t.split(p.value if self.values else p, ctx))
        return out


class _Raw:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


@step("properties")
def _properties(c: Any, args: tuple) -> Step:
    return PropertiesStep(list(args) or None, False)


@step("values")
def _values(c: Any, args: tuple) -> Step:
    return PropertiesStep(list(args) or None, True)


def unfold_value(v: Any) -> list[Any]:
    """What ``unfold()`` makes of one value: a list's items, a map's entries, else the value."""
    if isinstance(v, dict):
        return [MapEntry({k: val}) for k, val in v.items()]
    if isinstance(v, (list, tuple, set, frozenset)):
        return list(v)
    if isinstance(v, Path):
        return list(v.objects)
    if (
        hasattr(v, "__iter__")
        and not isinstance(v, (str, bytes, Vertex, Edge, VertexProperty))
        and not hasattr(v, "keys")
    ):
        return list(v)
    return [v]


class UnfoldStep(Step):
    path_extending = True
    name = "unfold"

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        return [t.split(x, ctx) for t in batch for x in unfold_value(t.value)]


@step("unfold")
def _unfold(c: Any, args: tuple) -> Step:
    return UnfoldStep()


class FlatMapStep(Step):
    """``flatMap(traversal)``: everything the child produces for each traverser."""

    path_extending = True
    name = "flatMap"

    def __init__(self, child: Pipeline) -> None:
        super().__init__()
        self.child = child

    @property
    def streamable(self) -> bool:  # type: ignore[override]
        return self.child.streamable

    def children(self) -> list[Pipeline]:
        return [self.child]

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        out: list[Trav] = []
        for t, results in zip(batch, ctx.run_child(self.child, batch), strict=True):
            for r in results:
                n = t.split(r.value, ctx)
                n.bulk = t.bulk * r.bulk
                n.root = t.root
                n.loops = t.loops
                out.append(n)
        return out


@step("flatMap")
def _flat_map(c: Any, args: tuple) -> Step:
    return FlatMapStep(c.child(args[0]))


def iter_batches(items: list[Trav], size: int) -> Iterator[list[Trav]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
