"""The property-graph store interface: the only way the engine reaches the data.

Assumptions the interface makes, and every backend honours:

- **Batched.** Reads take a sequence of elements and answer for all of them with one round trip
  (or a few, never one per element). Results are *aligned*: ``answer[i]`` belongs to ``input[i]``.
- **Ids are Gremlin values** (int, Int64, str, UUID, ...). A backend may be given elements whose
  ``ref`` is ``None`` and must then resolve them by id. Generated ids are :class:`Int64`.
  Numeric ids match by value whatever their integer type (``1`` finds the vertex whose id is
  ``1L``); strings never match numbers.
- **Values keep their Gremlin types** (see :mod:`server.structure.values`); ``None`` is never
  stored: setting a property to ``None`` is the caller's business (TinkerPop removes it).
- **Order.** Unfiltered scans return elements in insertion order; adjacency and properties come
  back in insertion order too, so results are stable from run to run.
- **Transactions.** A :class:`GraphConnection` holds one database connection and at most one open
  transaction. Reads and writes happen inside it; :meth:`GraphConnection.atomic` nests on
  savepoints; nothing is visible to other connections before :meth:`GraphConnection.commit`.

Public methods validate and normalise their arguments; backends implement the same names.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal

from server.structure import Cardinality, Direction, Edge, Property, Vertex, VertexProperty

SCAN_PAGE = 5000
"""Vertices per page of :meth:`GraphConnection.scan_values`."""

FilterOp = Literal["eq", "neq", "lt", "lte", "gt", "gte", "within", "without", "exists"]


@dataclasses.dataclass(frozen=True)
class PropertyFilter:
    """A predicate on one property that a backend can answer from its indexes.

    ``eq``/``neq``/``lt``/``lte``/``gt``/``gte`` take one value; ``within``/``without`` take a
    tuple; ``exists`` takes none. Comparison follows Gremlin: numbers compare by value across
    numeric types, strings with strings, and values of other types never satisfy an ordering.
    A vertex matches when *any* of its values for ``key`` matches (multi-properties).
    The engine pushes down only what it can express here and filters the rest itself.
    """

    key: str
    op: FilterOp
    value: Any = None


@dataclasses.dataclass(frozen=True)
class ElementQuery:
    """Which vertices or edges a scan returns: all filters must hold (AND)."""

    ids: Sequence[Any] | None = None
    labels: Sequence[str] | None = None
    filters: Sequence[PropertyFilter] = ()


class GraphConnection(abc.ABC):
    """One connection to the graph, with its transaction. Not thread-safe: one user at a time."""

    # -- transactions ------------------------------------------------------------------------

    @abc.abstractmethod
    def atomic(self) -> AbstractContextManager[None]:
        """A block that commits together or not at all: BEGIN at top level, SAVEPOINT inside.

        Leaving it by an exception rolls back to where it began and re-raises.
        """

    @abc.abstractmethod
    def commit(self) -> None:
        """Commit the open transaction (a no-op when none is open)."""

    @abc.abstractmethod
    def rollback(self) -> None:
        """Roll back the open transaction (a no-op when none is open)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Roll back anything uncommitted and give the connection back."""

    def __enter__(self) -> GraphConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reads -------------------------------------------------------------------------------

    @abc.abstractmethod
    def vertices(self, query: ElementQuery = ElementQuery()) -> Iterator[Vertex]:
        """Vertices matching ``query``, streamed.

        With ``query.ids``: in the order of the ids, a repeated id repeated, unknown ids skipped.
        Without: every vertex in insertion order (a backend fetches in chunks; callers may stop).
        """

    @abc.abstractmethod
    def edges(self, query: ElementQuery = ElementQuery()) -> Iterator[Edge]:
        """Edges matching ``query``, streamed, with the same ordering rules as :meth:`vertices`."""

    @abc.abstractmethod
    def incident_edges(
        self,
        vertices: Sequence[Vertex],
        direction: Direction,
        labels: Sequence[str] | None = None,
    ) -> list[list[Edge]]:
        """For each vertex, its edges in ``direction`` (with ``labels`` when given).

        ``BOTH`` lists out-edges first, then in-edges, so a self-loop appears twice.
        Edges carry reference vertices (id, label and ``ref``) at both ends.
        """

    @abc.abstractmethod
    def adjacent_vertices(
        self,
        vertices: Sequence[Vertex],
        direction: Direction,
        labels: Sequence[str] | None = None,
    ) -> list[list[Vertex]]:
        """For each vertex, the vertices at the other end of its edges (one per edge)."""

    @abc.abstractmethod
    def vertex_properties(
        self, vertices: Sequence[Vertex], keys: Sequence[str] | None = None
    ) -> list[list[VertexProperty]]:
        """For each vertex, its vertex properties (all keys, or ``keys``), meta-properties loaded
        into ``VertexProperty.properties``. Order: insertion order of the properties."""

    @abc.abstractmethod
    def edge_properties(
        self, edges: Sequence[Edge], keys: Sequence[str] | None = None
    ) -> list[list[Property]]:
        """For each edge, its properties (all keys, or ``keys``) in insertion order."""

    def degrees(
        self,
        vertices: Sequence[Vertex],
        direction: Direction,
        labels: Sequence[str] | None = None,
    ) -> list[int]:
        """For each vertex, how many edges it has in ``direction`` (``BOTH`` counts a self-loop
        twice). Backends override this with one counting query; the default fetches the edges."""
        return [len(edges) for edges in self.incident_edges(vertices, direction, labels)]

    def vertex_values(self, vertices: Sequence[Vertex], keys: Sequence[str]) -> list[list[Any]]:
        """For each vertex, the values of its properties ``keys`` in property insertion order
        (what ``values(keys...)`` yields), without building property objects. The default asks
        :meth:`vertex_properties`; backends override it with one lighter query."""
        return [[p.value for p in props] for props in self.vertex_properties(vertices, list(keys))]

    def scan_values(self, query: ElementQuery, key: str) -> Iterator[list[list[Any]]]:
        """The values of property ``key`` (in insertion order) of each vertex that ``query`` finds,
        in :meth:`vertices` order, a page of vertices at a time; vertices without ``key`` are left
        out. ``V().hasLabel(..).values(key)`` and ``V().hasLabel(..).groupCount().by(key)`` are
        answered from this without building the vertices (see :mod:`server.gremlin.strategies`).
        Backends override it with one query per page."""
        page: list[Vertex] = []
        for vertex in self.vertices(query):
            page.append(vertex)
            if len(page) == SCAN_PAGE:
                yield [vals for vals in self.vertex_values(page, [key]) if vals]
                page = []
        if page:
            yield [vals for vals in self.vertex_values(page, [key]) if vals]

    def adjacent_values(
        self,
        vertices: Sequence[Vertex],
        direction: Direction,
        labels: Sequence[str] | None,
        key: str,
    ) -> list[list[tuple[Any, list[Any]]]]:
        """For each vertex, one ``(neighbour, values)`` pair per edge in ``direction`` (with
        ``labels`` when given), in :meth:`adjacent_vertices` order: ``values`` are the values of
        the neighbour's property ``key`` in insertion order, ``neighbour`` a hashable key equal
        for equal vertices (ids in the default, row keys in SQL backends). Edges whose neighbour
        has no ``key`` are left out. ``out().values(key)`` and ``out().groupCount().by(key)``
        are answered from this in one call (see :mod:`server.gremlin.strategies`)."""
        adjacent = self.adjacent_vertices(vertices, direction, labels)
        uniq: dict[Any, Vertex] = {}
        for near in adjacent:
            for v in near:
                uniq.setdefault(v.id, v)
        values = dict(zip(uniq, self.vertex_values(list(uniq.values()), [key]), strict=True))
        return [[(v.id, values[v.id]) for v in near if values[v.id]] for near in adjacent]

    def walk_count(
        self,
        vertices: Sequence[Vertex],
        hops: Sequence[tuple[Direction, Sequence[str] | None]],
        bulks: Sequence[int] | None = None,
    ) -> int:
        """How many walks leave ``vertices`` along ``hops`` (each a direction and edge labels,
        None for any), a walk from ``vertices[i]`` counting ``bulks[i]`` times (default 1): what
        ``out().out()...count()`` answers. Counted hop by hop with one count per frontier vertex,
        so the cost follows the edges read, not the (often exponential) number of walks.

        Raises:
            ValueError: ``hops`` is empty.
        """
        if not hops:
            raise ValueError("walk_count needs at least one hop")
        frontier: dict[Any, list[Any]] = {}  # id -> [vertex, walks reaching it]
        for i, v in enumerate(vertices):
            entry = frontier.setdefault(v.id, [v, 0])
            entry[1] += 1 if bulks is None else bulks[i]
        for direction, labels in hops[:-1]:
            starts = list(frontier.values())
            found = self.adjacent_vertices([v for v, _ in starts], direction, labels)
            frontier = {}
            for (_, n), near in zip(starts, found, strict=True):
                for v in near:
                    entry = frontier.setdefault(v.id, [v, 0])
                    entry[1] += n
        direction, labels = hops[-1]
        starts = list(frontier.values())
        counts = self.degrees([v for v, _ in starts], direction, labels)
        return sum(n * d for (_, n), d in zip(starts, counts, strict=True))

    @abc.abstractmethod
    def count_vertices(self, query: ElementQuery = ElementQuery()) -> int:
        """How many vertices match, without fetching them."""

    @abc.abstractmethod
    def count_edges(self, query: ElementQuery = ElementQuery()) -> int:
        """How many edges match, without fetching them."""

    # -- writes ------------------------------------------------------------------------------

    @abc.abstractmethod
    def add_vertex(self, label: str, id: Any = None) -> Vertex:
        """Create a vertex; ``id=None`` generates an Int64. Raises DuplicateId."""

    @abc.abstractmethod
    def add_edge(self, label: str, out_v: Vertex, in_v: Vertex, id: Any = None) -> Edge:
        """Create an edge ``out_v -label-> in_v``. Raises ElementNotFound, DuplicateId."""

    @abc.abstractmethod
    def add_vertex_property(
        self,
        vertex: Vertex,
        key: str,
        value: Any,
        cardinality: Cardinality = Cardinality.single,
        id: Any = None,
        meta: Sequence[tuple[str, Any]] = (),
    ) -> VertexProperty:
        """Add a vertex property with its meta-properties.

        ``single`` replaces every existing value of ``key``; ``list`` appends; ``set`` appends
        unless an equal value exists, in which case the existing property is returned.
        """

    @abc.abstractmethod
    def set_edge_property(self, edge: Edge, key: str, value: Any) -> Property:
        """Set (replace) an edge property."""

    @abc.abstractmethod
    def set_meta_property(self, vertex_property: VertexProperty, key: str, value: Any) -> Property:
        """Set (replace) a meta-property of a vertex property."""

    @abc.abstractmethod
    def remove_vertices(self, vertices: Sequence[Vertex]) -> None:
        """Remove vertices with their properties and incident edges; unknown ones are ignored."""

    @abc.abstractmethod
    def remove_edges(self, edges: Sequence[Edge]) -> None:
        """Remove edges with their properties; unknown ones are ignored."""

    @abc.abstractmethod
    def remove_vertex_properties(self, vertex_properties: Sequence[VertexProperty]) -> None:
        """Remove vertex properties (by id) with their meta-properties."""

    @abc.abstractmethod
    def remove_properties(self, properties: Sequence[Property]) -> None:
        """Remove edge properties and meta-properties (by owning element and key)."""

    @abc.abstractmethod
    def clear(self) -> None:
        """Remove every element."""


class GraphStore(abc.ABC):
    """A graph database: hands out connections and owns the schema. Thread-safe."""

    @abc.abstractmethod
    def connect(self) -> GraphConnection:
        """A new connection (use as a context manager, or call ``close()``)."""

    @abc.abstractmethod
    def dispose(self) -> None:
        """Close every pooled connection."""

    @property
    @abc.abstractmethod
    def url(self) -> str:
        """The database URL, without the password."""
