"""The suite's graphs in a store: load once per backend and run, clear for mutating scenarios.

One database per backend holds one graph at a time. Scenarios run grouped by graph, so each
read-only graph (modern, crew, grateful, sink) is loaded once per backend per run; scenarios on
the ``empty`` graph get a cleared database each. A read scenario that changed its graph (an engine
bug: only ``empty`` may change) is noticed by the element counts, and the graph is reloaded.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from server.store.interface import GraphStore
from tests.conformance.features import DATA
from tests.conformance.notation import GraphIndex

GRAPH_FILES = {
    "modern": "tinkerpop-modern-v3.json",
    "classic": "tinkerpop-classic-v3.json",
    "crew": "tinkerpop-crew-v3.json",
    "grateful": "grateful-dead-v3.json",
    "sink": "tinkerpop-sink-v3.json",
}


def load_graphson(store: GraphStore, path: Path) -> None:
    """Load a GraphSON 3.0 adjacency-list file with the store's own bulk loader."""
    from server.store.loaders import load  # the store's loader (issue 2)

    report = load(store, path, format="graphson")
    if report.status != "LOAD_COMPLETED":
        raise RuntimeError(f"loading {path.name} failed: {report.status} {getattr(report, 'errors', '')}")


@dataclasses.dataclass
class GraphCache:
    """Which graph the backend's database holds now, with its name index and element counts."""

    store: GraphStore
    current: str | None = None
    index: GraphIndex | None = None
    counts: tuple[int, int] = (0, 0)
    loads: int = 0

    def clear(self) -> None:
        with self.store.connect() as conn:
            with conn.atomic():
                conn.clear()
            conn.commit()
        self.current, self.index = "empty", GraphIndex()

    def use(self, graph: str) -> GraphIndex:
        """Make the database hold ``graph`` (loading only when needed); returns its index."""
        if graph == "empty":
            self.clear()
            return self.index  # type: ignore[return-value]
        if self.current == graph and self._counts() == self.counts:
            return self.index  # type: ignore[return-value]
        self.clear()
        load_graphson(self.store, DATA / GRAPH_FILES[graph])
        self.loads += 1
        self.current = graph
        self.index = self.refresh_index()
        self.counts = self._counts()
        return self.index

    def refresh_index(self) -> GraphIndex:
        with self.store.connect() as conn:
            self.index = GraphIndex.build(conn)
            conn.rollback()
        return self.index

    def _counts(self) -> tuple[int, int]:
        with self.store.connect() as conn:
            counts = (conn.count_vertices(), conn.count_edges())
            conn.rollback()
        return counts
