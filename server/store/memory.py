"""The reference backend: the whole graph in Python dicts.

Small and obviously correct rather than fast. The shared store test suite runs against it
alongside SQLite and PostgreSQL, and engine unit tests use it when they want no database.
Transactions copy the committed state on BEGIN and publish it on COMMIT (last writer wins);
savepoints keep a stack of copies.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from server.store.errors import DuplicateId, ElementNotFound, InvalidValue, TransactionError
from server.store.filters import matches, values_equal
from server.store.ids import id_key
from server.store.interface import ElementQuery, GraphConnection, GraphStore
from server.structure import Cardinality, Direction, Edge, Int64, Property, Vertex, VertexProperty


@dataclass
class _VP:
    id: Any
    key: str
    value: Any
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class _V:
    id: Any
    label: str
    props: list[_VP] = field(default_factory=list)
    out_edges: list[tuple[str, Any]] = field(default_factory=list)  # edge id keys
    in_edges: list[tuple[str, Any]] = field(default_factory=list)


@dataclass
class _E:
    id: Any
    label: str
    out_key: tuple[str, Any]
    in_key: tuple[str, Any]
    props: dict[str, Any] = field(default_factory=dict)


@dataclass
class _State:
    vertices: dict[tuple[str, Any], _V] = field(default_factory=dict)
    edges: dict[tuple[str, Any], _E] = field(default_factory=dict)
    vp_ids: set[tuple[str, Any]] = field(default_factory=set)
    next_id: int = 1


class MemoryStore(GraphStore):
    """An in-process graph; every connection sees the last committed state."""

    def __init__(self) -> None:
        self._state = _State()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return "memory://"

    def connect(self) -> MemoryConnection:
        return MemoryConnection(self)

    def dispose(self) -> None:
        pass

    def _snapshot(self) -> _State:
        with self._lock:
            return copy.deepcopy(self._state)

    def _publish(self, state: _State) -> None:
        with self._lock:
            self._state = state


class MemoryConnection(GraphConnection):
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._stack: list[_State] = []  # [working state, savepoint copies...]
        self._read: _State | None = None  # committed state seen by reads before any write
        self._closed = False

    # -- transactions ------------------------------------------------------------------------

    @contextmanager
    def atomic(self) -> Iterator[None]:
        self._check_open()
        top = not self._stack
        if top:
            self._stack.append(self._store._snapshot())
        else:
            self._stack.append(copy.deepcopy(self._stack[-1]))
        try:
            yield
        except BaseException:
            self._stack.pop()
            raise
        work = self._stack.pop()
        if top:
            self._store._publish(work)
        else:
            self._stack[-1] = work

    def commit(self) -> None:
        self._check_open()
        if self._stack:
            self._store._publish(self._stack[0])
            self._stack.clear()
        self._read = None

    def rollback(self) -> None:
        self._stack.clear()
        self._read = None

    def close(self) -> None:
        self.rollback()
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise TransactionError("the connection is closed")

    @property
    def _s(self) -> _State:
        """The state this connection reads: its transaction's copy once it has written, else the
        last committed state (shared, never mutated in place: writers work on a copy)."""
        self._check_open()
        if not self._stack:
            if self._read is None:
                self._read = self._store._state
            return self._read
        return self._stack[-1]

    @property
    def _w(self) -> _State:
        """The state this connection writes: a private copy, taken at the first write."""
        self._check_open()
        if not self._stack:
            self._stack.append(self._store._snapshot())
        return self._stack[-1]

    # -- element views -----------------------------------------------------------------------

    @staticmethod
    def _vertex(v: _V) -> Vertex:
        return Vertex(v.id, v.label, ref=id_key(v.id))

    def _edge(self, e: _E) -> Edge:
        s = self._s
        return Edge(
            e.id,
            e.label,
            self._vertex(s.vertices[e.out_key]),
            self._vertex(s.vertices[e.in_key]),
            ref=id_key(e.id),
        )

    @staticmethod
    def _vprop(vp: _VP, owner: Vertex) -> VertexProperty:
        prop = VertexProperty(vp.id, vp.key, vp.value, owner, ref=id_key(vp.id))
        prop.properties = [Property(k, val, prop) for k, val in vp.meta.items()]
        return prop

    def _find_v(self, vertex: Vertex) -> _V:
        found = self._s.vertices.get(id_key(vertex.id))
        if found is None:
            raise ElementNotFound(f"vertex {vertex.id!r} does not exist")
        return found

    def _find_e(self, edge: Edge) -> _E:
        found = self._s.edges.get(id_key(edge.id))
        if found is None:
            raise ElementNotFound(f"edge {edge.id!r} does not exist")
        return found

    # -- reads -------------------------------------------------------------------------------

    def _select(self, table: dict, query: ElementQuery, props_of) -> Iterator[Any]:
        if query.ids is not None:
            rows = (table.get(_safe_key(i)) for i in query.ids)
            rows = (r for r in rows if r is not None)
        else:
            rows = iter(list(table.values()))
        for row in rows:
            if query.labels is not None and row.label not in query.labels:
                continue
            if all(any(matches(f, val) for val in props_of(row, f.key)) for f in query.filters):
                yield row

    @staticmethod
    def _v_values(v: _V, key: str) -> list[Any]:
        return [p.value for p in v.props if p.key == key]

    @staticmethod
    def _e_values(e: _E, key: str) -> list[Any]:
        return [e.props[key]] if key in e.props else []

    def vertices(self, query: ElementQuery = ElementQuery()) -> Iterator[Vertex]:
        for v in self._select(self._s.vertices, query, self._v_values):
            yield self._vertex(v)

    def edges(self, query: ElementQuery = ElementQuery()) -> Iterator[Edge]:
        for e in self._select(self._s.edges, query, self._e_values):
            yield self._edge(e)

    def count_vertices(self, query: ElementQuery = ElementQuery()) -> int:
        return sum(1 for _ in self._select(self._s.vertices, query, self._v_values))

    def count_edges(self, query: ElementQuery = ElementQuery()) -> int:
        return sum(1 for _ in self._select(self._s.edges, query, self._e_values))

    def _incident(
        self, vertex: Vertex, direction: Direction, labels: Sequence[str] | None
    ) -> list[tuple[_E, bool]]:
        s = self._s
        v = s.vertices.get(id_key(vertex.id))
        if v is None:
            return []
        found: list[tuple[_E, bool]] = []
        if direction in (Direction.OUT, Direction.BOTH):
            found += [(s.edges[k], True) for k in v.out_edges]
        if direction in (Direction.IN, Direction.BOTH):
            found += [(s.edges[k], False) for k in v.in_edges]
        return [(e, out) for e, out in found if labels is None or e.label in labels]

    def incident_edges(
        self, vertices: Sequence[Vertex], direction: Direction, labels: Sequence[str] | None = None
    ) -> list[list[Edge]]:
        return [[self._edge(e) for e, _ in self._incident(v, direction, labels)] for v in vertices]

    def adjacent_vertices(
        self, vertices: Sequence[Vertex], direction: Direction, labels: Sequence[str] | None = None
    ) -> list[list[Vertex]]:
        s = self._s
        return [
            [
                self._vertex(s.vertices[e.in_key if out else e.out_key])
                for e, out in self._incident(v, direction, labels)
            ]
            for v in vertices
        ]

    def vertex_properties(
        self, vertices: Sequence[Vertex], keys: Sequence[str] | None = None
    ) -> list[list[VertexProperty]]:
        answer = []
        for vertex in vertices:
            v = self._s.vertices.get(id_key(vertex.id))
            props = [] if v is None else [p for p in v.props if keys is None or p.key in keys]
            answer.append([self._vprop(p, vertex) for p in props])
        return answer

    def edge_properties(
        self, edges: Sequence[Edge], keys: Sequence[str] | None = None
    ) -> list[list[Property]]:
        answer = []
        for edge in edges:
            e = self._s.edges.get(id_key(edge.id))
            items = [] if e is None else [(k, v) for k, v in e.props.items() if keys is None or k in keys]
            answer.append([Property(k, v, edge) for k, v in items])
        return answer

    # -- writes ------------------------------------------------------------------------------

    def _new_id(self, taken: set | dict) -> Int64:
        s = self._w
        while ("n", s.next_id) in taken:
            s.next_id += 1
        s.next_id += 1
        return Int64(s.next_id - 1)

    def add_vertex(self, label: str, id: Any = None) -> Vertex:
        _check_label(label)
        s = self._w
        if id is None:
            id = self._new_id(s.vertices)
        key = id_key(id)
        if key in s.vertices:
            raise DuplicateId(f"a vertex with id {id!r} already exists")
        s.vertices[key] = _V(id, label)
        return Vertex(id, label, ref=key)

    def add_edge(self, label: str, out_v: Vertex, in_v: Vertex, id: Any = None) -> Edge:
        _check_label(label)
        s = self._w
        tail, head = self._find_v(out_v), self._find_v(in_v)
        if id is None:
            id = self._new_id(s.edges)
        key = id_key(id)
        if key in s.edges:
            raise DuplicateId(f"an edge with id {id!r} already exists")
        s.edges[key] = _E(id, label, id_key(tail.id), id_key(head.id))
        tail.out_edges.append(key)
        head.in_edges.append(key)
        return self._edge(s.edges[key])

    def add_vertex_property(
        self,
        vertex: Vertex,
        key: str,
        value: Any,
        cardinality: Cardinality = Cardinality.single,
        id: Any = None,
        meta: Sequence[tuple[str, Any]] = (),
    ) -> VertexProperty:
        _check_key(key)
        _check_value(value)
        s = self._w
        v = self._find_v(vertex)
        if cardinality is Cardinality.set_:
            for p in v.props:
                if p.key == key and values_equal(p.value, value) and type(p.value) is type(value):
                    return self._vprop(p, self._vertex(v))
        if cardinality is Cardinality.single:
            for p in [p for p in v.props if p.key == key]:
                s.vp_ids.discard(id_key(p.id))
            v.props = [p for p in v.props if p.key != key]
        if id is None:
            id = self._new_id(s.vp_ids)
        pkey = id_key(id)
        if pkey in s.vp_ids:
            raise DuplicateId(f"a vertex property with id {id!r} already exists")
        s.vp_ids.add(pkey)
        for mk, mv in meta:
            _check_key(mk)
            _check_value(mv)
        prop = _VP(id, key, value, dict(meta))
        v.props.append(prop)
        return self._vprop(prop, self._vertex(v))

    def set_edge_property(self, edge: Edge, key: str, value: Any) -> Property:
        _check_key(key)
        _check_value(value)
        self._w
        e = self._find_e(edge)
        e.props.pop(key, None)  # a re-set moves the key to the end, like a fresh insert
        e.props[key] = value
        return Property(key, value, edge)

    def set_meta_property(self, vertex_property: VertexProperty, key: str, value: Any) -> Property:
        _check_key(key)
        _check_value(value)
        for v in self._w.vertices.values():
            for p in v.props:
                if id_key(p.id) == id_key(vertex_property.id):
                    p.meta.pop(key, None)
                    p.meta[key] = value
                    return Property(key, value, vertex_property)
        raise ElementNotFound(f"vertex property {vertex_property.id!r} does not exist")

    def remove_vertices(self, vertices: Sequence[Vertex]) -> None:
        s = self._w
        for vertex in vertices:
            v = s.vertices.get(_safe_key(vertex.id))
            if v is None:
                continue
            doomed = set(v.out_edges) | set(v.in_edges)
            self._drop_edge_keys(doomed)
            for p in v.props:
                s.vp_ids.discard(id_key(p.id))
            del s.vertices[id_key(v.id)]

    def remove_edges(self, edges: Sequence[Edge]) -> None:
        self._drop_edge_keys({k for k in (_safe_key(e.id) for e in edges) if k in self._w.edges})

    def _drop_edge_keys(self, keys: set) -> None:
        s = self._w
        for key in keys:
            e = s.edges.pop(key, None)
            if e is None:
                continue
            tail, head = s.vertices.get(e.out_key), s.vertices.get(e.in_key)
            if tail is not None:
                tail.out_edges = [k for k in tail.out_edges if k != key]
            if head is not None:
                head.in_edges = [k for k in head.in_edges if k != key]

    def remove_vertex_properties(self, vertex_properties: Sequence[VertexProperty]) -> None:
        s = self._w
        doomed = {_safe_key(vp.id) for vp in vertex_properties}
        for v in s.vertices.values():
            if any(id_key(p.id) in doomed for p in v.props):
                v.props = [p for p in v.props if id_key(p.id) not in doomed]
        s.vp_ids -= doomed

    def remove_properties(self, properties: Sequence[Property]) -> None:
        s = self._w
        for prop in properties:
            owner = prop.element
            if isinstance(owner, Edge):
                e = s.edges.get(_safe_key(owner.id))
                if e is not None:
                    e.props.pop(prop.key, None)
            elif isinstance(owner, VertexProperty):
                for v in s.vertices.values():
                    for p in v.props:
                        if id_key(p.id) == _safe_key(owner.id):
                            p.meta.pop(prop.key, None)
            else:
                raise InvalidValue(f"{prop!r} belongs to no edge or vertex property")

    def clear(self) -> None:
        s = self._w
        s.vertices.clear()
        s.edges.clear()
        s.vp_ids.clear()


def _safe_key(id: Any) -> tuple[str, Any] | None:
    """An id key, or None for values that can never be ids (so lookups just find nothing)."""
    try:
        return id_key(id)
    except InvalidValue:
        return None


def _check_label(label: str) -> None:
    if not isinstance(label, str) or not label:
        raise InvalidValue(f"label must be a non-empty string, not {label!r}")


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not key:
        raise InvalidValue(f"property key must be a non-empty string, not {key!r}")


def _check_value(value: Any) -> None:
    if value is None:
        raise InvalidValue("a property value cannot be null")
    from server.structure.values import value_type  # local: keeps the import graph flat

    try:
        value_type(value)
    except TypeError as exc:
        raise InvalidValue(f"{value!r} cannot be a property value: {exc}") from None
