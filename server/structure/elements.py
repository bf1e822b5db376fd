"""Graph elements as the engine and the serializers see them.

Elements are identified by ``id`` (a Gremlin value: int, :class:`~server.structure.values.Int64`,
str, UUID, ...). Two elements of the same kind are equal when their ids are equal, as in TinkerPop.

``ref`` is a store-private handle (for the SQL store, the row key) that lets the store skip an id
lookup when the engine hands an element back. It never takes part in equality, is never
serialized, and may be ``None`` (e.g. for a reference vertex sent by a client): stores must then
resolve the element by id.

``properties`` is ``None`` until someone loads them; the engine loads them in batches before
results go out (Gremlin Server's ``materializeProperties=all``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any


class Element:
    """Base class of Vertex, Edge and VertexProperty: identity by (kind, id)."""

    __slots__ = ("id", "label", "ref")

    def __init__(self, id: Any, label: str, ref: Any = None) -> None:
        self.id = id
        self.label = label
        self.ref = ref

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.id == self.id  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.id))


class Vertex(Element):
    """A vertex. ``properties``: its vertex properties in insertion order, once loaded."""

    __slots__ = ("properties",)

    def __init__(
        self,
        id: Any,
        label: str = "vertex",
        ref: Any = None,
        properties: list[VertexProperty] | None = None,
    ) -> None:
        super().__init__(id, label, ref)
        self.properties = properties

    def __repr__(self) -> str:
        return f"v[{self.id}]"


class Edge(Element):
    """An edge from ``out_v`` to ``in_v`` (both may be reference vertices: id and label only)."""

    __slots__ = ("out_v", "in_v", "properties")

    def __init__(
        self,
        id: Any,
        label: str,
        out_v: Vertex,
        in_v: Vertex,
        ref: Any = None,
        properties: list[Property] | None = None,
    ) -> None:
        super().__init__(id, label, ref)
        self.out_v = out_v
        self.in_v = in_v
        self.properties = properties

    def vertex(self, direction_out: bool) -> Vertex:
        return self.out_v if direction_out else self.in_v

    def __repr__(self) -> str:
        return f"e[{self.id}][{self.out_v.id}-{self.label}->{self.in_v.id}]"


class VertexProperty(Element):
    """A vertex property; ``label`` is its key. ``properties`` holds its meta-properties."""

    __slots__ = ("value", "vertex", "properties")

    def __init__(
        self,
        id: Any,
        key: str,
        value: Any,
        vertex: Vertex | None,
        ref: Any = None,
        properties: list[Property] | None = None,
    ) -> None:
        super().__init__(id, key, ref)
        self.value = value
        self.vertex = vertex
        self.properties = properties

    @property
    def key(self) -> str:
        return self.label

    def __repr__(self) -> str:
        return f"vp[{self.label}->{self.value!r}]"


class Property:
    """A key/value property of an edge or a meta-property of a vertex property."""

    __slots__ = ("key", "value", "element")

    def __init__(self, key: str, value: Any, element: Element | None) -> None:
        self.key = key
        self.value = value
        self.element = element

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Property)
            and other.key == self.key
            and other.value == self.value
            and other.element == self.element
        )

    def __hash__(self) -> int:
        return hash((self.key, _hashable(self.value)))

    def __repr__(self) -> str:
        return f"p[{self.key}->{self.value!r}]"


class Path:
    """A traverser's history: ``objects[i]`` was labelled with every name in ``labels[i]``."""

    __slots__ = ("labels", "objects")

    def __init__(self, labels: Sequence[frozenset[str]], objects: Sequence[Any]) -> None:
        self.labels = list(labels)
        self.objects = list(objects)

    def __len__(self) -> int:
        return len(self.objects)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.objects)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Path) and other.objects == self.objects and other.labels == self.labels

    def __hash__(self) -> int:
        return hash(tuple(_hashable(o) for o in self.objects))

    def __repr__(self) -> str:
        return f"path[{', '.join(map(repr, self.objects))}]"


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((repr(k), repr(v)) for k, v in value.items()))
    if isinstance(value, (list, set)):
        return tuple(map(repr, value))
    return value
