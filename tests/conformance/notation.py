"""The suite's value notation (``d[1].i``, ``v[marko]``, ``m[{...}]``, ``p[...]``) decoded into
Seer's value model (:mod:`server.structure`), so results compare with their Gremlin types.

The rules and their precedence follow ``../shared/tinkerpop/README.md`` ("Value notation").
Elements are looked up in a :class:`GraphIndex` of the scenario's graph, built after its
initializer has run.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import json
import re
import uuid
from typing import Any

from server.store.interface import GraphConnection
from server.structure import (
    BigInt,
    Direction,
    Edge,
    Float32,
    Int8,
    Int16,
    Int64,
    Merge,
    Path,
    T,
    Vertex,
    VertexProperty,
)


class NotationError(ValueError):
    """A cell or parameter the decoder cannot read (a harness bug or an unknown notation)."""


@dataclasses.dataclass
class GraphIndex:
    """The scenario graph's elements by the names the notation uses."""

    vertices: dict[str, Vertex] = dataclasses.field(default_factory=dict)
    edges: dict[tuple[str, str, str], Edge] = dataclasses.field(default_factory=dict)
    vertex_properties: dict[str, list[VertexProperty]] = dataclasses.field(default_factory=dict)

    @classmethod
    def build(cls, conn: GraphConnection) -> GraphIndex:
        """Read the whole (small) graph once: names of vertices, edge ends, vertex properties."""
        index = cls()
        vertices = list(conn.vertices())
        names_by_id: dict[Any, str] = {}
        for vertex, props in zip(vertices, conn.vertex_properties(vertices), strict=True):
            name = next((p.value for p in props if p.key == "name"), None)
            if isinstance(name, str):
                index.vertices.setdefault(name, vertex)
                index.vertex_properties[name] = props
                names_by_id[_id_key(vertex.id)] = name
        for edge in conn.edges():
            out_name = names_by_id.get(_id_key(edge.out_v.id))
            in_name = names_by_id.get(_id_key(edge.in_v.id))
            if out_name is not None and in_name is not None:
                index.edges.setdefault((out_name, edge.label, in_name), edge)
        return index


def _id_key(value: Any) -> Any:
    return ("n", int(value)) if isinstance(value, int) and not isinstance(value, bool) else ("o", value)


_NUMBER = re.compile(r"^d\[(.*)\]\.([bsilfdmn])$")
_EDGE = re.compile(r"^(.+?)-(.+?)->(.+)$")
_INTS = {"b": Int8, "s": Int16, "i": int, "l": Int64, "n": BigInt}


class Decoder:
    """Decodes notation strings against one graph."""

    def __init__(self, index: GraphIndex | None = None) -> None:
        self.index = index or GraphIndex()

    def decode(self, text: str) -> Any:
        if text.startswith("str[") and text.endswith("]"):
            return text[4:-1]
        if text == "null":
            return None
        if text in ("true", "false"):
            return text == "true"
        if text.startswith("d[") and text.endswith("]"):
            special = {"d[NaN]": float("nan"), "d[Infinity]": float("inf"), "d[-Infinity]": float("-inf")}
            if text in special:
                return special[text]
        if m := _NUMBER.match(text):
            return self._number(m.group(1), m.group(2), text)
        if text.startswith("dt[") and text.endswith("]"):
            value = datetime.datetime.fromisoformat(text[3:-1].replace("Z", "+00:00"))
            return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
        if text.startswith("uuid[") and text.endswith("]"):
            return uuid.UUID(text[5:-1])
        if text.startswith("v[") and (text.endswith("]") or text.endswith("].id") or text.endswith("].sid")):
            return self._vertex(text)
        if text.startswith("e[") and (text.endswith("]") or text.endswith("].id") or text.endswith("].sid")):
            return self._edge(text)
        if text.startswith("vp[") and text.endswith("]"):
            return self._vertex_property(text[3:-1])
        if text.startswith("l[") and text.endswith("]"):
            return [self.decode(item) for item in split_items(text[2:-1])]
        if text.startswith("s[") and text.endswith("]"):
            return {_hashable(self.decode(item)) for item in split_items(text[2:-1])}
        if text.startswith("m[") and text.endswith("]"):
            return self._map(json.loads(text[2:-1]))
        if text.startswith("p[") and text.endswith("]"):
            objects = [self.decode(item) for item in split_items(text[2:-1])]
            return Path([frozenset()] * len(objects), objects)
        if text.startswith("t[") and text.endswith("]"):
            return T.from_name(text[2:-1])
        if text.startswith("D[") and text.endswith("]"):
            return Direction.from_name(text[2:-1])
        if text.startswith("M[") and text.endswith("]"):
            return Merge.from_name(text[2:-1])
        return text

    def _number(self, digits: str, suffix: str, text: str) -> Any:
        try:
            if suffix in _INTS:
                return _INTS[suffix](int(digits))
            if suffix == "f":
                return Float32(float(digits))
            if suffix == "d":
                return float(digits)
            return decimal.Decimal(digits)
        except ValueError as exc:
            raise NotationError(f"bad number {text!r}") from exc

    def _vertex(self, text: str) -> Any:
        body, _, attr = text[2:].rpartition("]")
        if attr not in ("", ".id", ".sid"):
            raise NotationError(f"bad vertex notation {text!r}")
        vertex = self.index.vertices.get(body) or Vertex(body)
        return _attribute(vertex, attr)

    def _edge(self, text: str) -> Any:
        body, _, attr = text[2:].rpartition("]")
        m = _EDGE.match(body)
        if not m:
            raise NotationError(f"bad edge notation {text!r}")
        key = (m.group(1), m.group(2), m.group(3))
        edge = self.index.edges.get(key)
        if edge is None:
            raise NotationError(f"no edge {body!r} in the scenario graph")
        return _attribute(edge, attr)

    def _vertex_property(self, body: str) -> VertexProperty:
        m = _EDGE.match(body)
        if not m:
            raise NotationError(f"bad vertex property notation vp[{body}]")
        name, key, raw = m.groups()
        value = self.decode(raw)
        for prop in self.index.vertex_properties.get(name, []):
            if prop.key == key and prop.value == value and type(prop.value) is type(value):
                return prop
        raise NotationError(f"no vertex property vp[{body}] in the scenario graph")

    def _map(self, obj: Any) -> Any:
        if isinstance(obj, dict):
            return {_hashable(self._json_key(k)): self._map(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self._map(v) for v in obj]
        if isinstance(obj, str):
            return self.decode(obj)
        if isinstance(obj, float) and obj.is_integer():
            return int(obj)
        return obj

    def _json_key(self, key: str) -> Any:
        return self.decode(key)


def _attribute(element: Any, attr: str) -> Any:
    if attr == ".id":
        return element.id
    if attr == ".sid":
        return str(element.id)
    return element


def split_items(body: str) -> list[str]:
    """Split ``a,l[b,c],d`` at the commas that are not inside brackets or braces."""
    if not body.strip():
        return []
    items, depth, start = [], 0, 0
    for i, ch in enumerate(body):
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(body[start:i].strip())
            start = i + 1
    items.append(body[start:].strip())
    return items


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return frozenset(value)
    if isinstance(value, dict):
        return tuple((k, _hashable(v)) for k, v in value.items())
    return value
