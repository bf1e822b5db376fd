"""Start steps: ``V()``, ``E()``, ``inject()`` (also usable mid-traversal)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from server.gremlin.compiler import step
from server.gremlin.runtime import BATCH, Context, Step, Trav
from server.store.interface import ElementQuery, PropertyFilter
from server.structure import Edge, Vertex, VertexProperty


def _ids(args: tuple) -> list[Any] | None:
    if not args:
        return None
    flat: list[Any] = []
    for a in args:
        if isinstance(a, (list, tuple, set)):
            flat.extend(a)
        else:
            flat.append(a)
    return [a.id if isinstance(a, (Vertex, Edge, VertexProperty)) else a for a in flat]


class GraphStep(Step):
    """``V(ids...)`` / ``E(ids...)``; has()/hasLabel() filters right after it are pushed into the
    store query by :func:`server.gremlin.optimize.fold_has`."""

    path_extending = True

    def __init__(self, kind: str, ids: list[Any] | None) -> None:
        super().__init__()
        self.kind = kind
        self.ids = ids
        self.labels_filter: list[str] | None = None
        self.filters: list[PropertyFilter] = []
        self.is_start = False
        self.name = kind

    def query(self) -> ElementQuery:
        ids = self.ids
        if ids is not None:
            ids = [i for i in ids if i is not None and not isinstance(i, bool)]
            ids = [i for i in ids if isinstance(i, (int, str)) or type(i).__name__ == "UUID"]
            alt = []
            for i in ids:
                alt.append(i)
                if isinstance(i, str) and i.lstrip("-").isdigit():
                    alt.append(int(i))
            ids = alt
        return ElementQuery(ids=ids, labels=self.labels_filter, filters=tuple(self.filters))

    def _scan(self, ctx: Context) -> Iterator[Any]:
        q = self.query()
        if q.ids is not None and not q.ids:
            return iter(())
        return ctx.conn.vertices(q) if self.kind == "V" else ctx.conn.edges(q)

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        if self.is_start:
            batch: list[Trav] = []
            track = ctx.full_paths
            for el in self._scan(ctx):
                sack = ctx.new_sack()
                batch.append(Trav(el, 1, ((el, frozenset()),) if track else (), (), sack))
                if len(batch) >= BATCH:
                    ctx.check()
                    yield batch
                    batch = []
            if batch:
                yield batch
            return
        for travs in it:
            ctx.check()
            els = list(self._scan(ctx))
            yield [t.split(el, ctx) for t in travs for el in els]


@step("V")
def _v(c: Any, args: tuple) -> Step:
    return GraphStep("V", _ids(args))


@step("E")
def _e(c: Any, args: tuple) -> Step:
    return GraphStep("E", _ids(args))


class InjectStep(Step):
    """``inject(values...)``: as a start, the values; mid-traversal, appended to the stream."""

    path_extending = True

    def __init__(self, values: list[Any]) -> None:
        super().__init__()
        self.values = values
        self.is_start = False

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        if not self.is_start:
            yield from it
        track = ctx.full_paths
        out = [Trav(v, 1, ((v, frozenset()),) if track else (), (), ctx.new_sack()) for v in self.values]
        if out:
            yield out


@step("inject")
def _inject(c: Any, args: tuple) -> Step:
    values = list(args)
    if len(args) == 1 and args[0] is None:
        values = [None]
    return InjectStep(values)
