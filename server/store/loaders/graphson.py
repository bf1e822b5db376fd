"""GraphSON 3.0 graph files (TinkerPop's ``GraphSONWriter`` "adjacency list" output, as in
``tinkerpop-modern-v3.json``): one JSON object per line, a vertex with its properties
(multi- and meta-properties) and its ``outE`` edges; ``inE`` repeats the same edges from the other
side and is only used to check that nothing is missing.

Typed values (``{"@type": "g:Int64", "@value": 1}``) become Seer's typed values, so ids and
property values keep their Gremlin types.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from server.store.loaders.records import EdgeRecord, LoadIssue, PropRecord, VertexRecord
from server.structure.values import BigInt, Char, Float32, Int8, Int16, Int64


class GraphSONError(ValueError):
    """A value that is not valid GraphSON 3.0."""


def _date(ms: Any) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def _float(cls: Callable[[float], Any]) -> Callable[[Any], Any]:
    def convert(raw: Any) -> Any:
        if isinstance(raw, str):  # NaN / Infinity are written as strings
            return cls(float(raw))
        return cls(raw)

    return convert


_SCALARS: dict[str, Callable[[Any], Any]] = {
    "g:Int32": int,
    "g:Int64": Int64,
    "gx:Int16": Int16,
    "gx:Byte": Int8,
    "gx:BigInteger": lambda raw: BigInt(int(raw)),
    "g:Float": _float(Float32),
    "g:Double": _float(float),
    "gx:BigDecimal": lambda raw: decimal.Decimal(str(raw)),
    "g:UUID": uuid.UUID,
    "g:Date": _date,
    "g:Timestamp": _date,
    "gx:OffsetDateTime": lambda raw: dt.datetime.fromisoformat(raw.replace("Z", "+00:00")),
    "gx:Char": Char,
    "gx:Duration": lambda raw: _duration(raw),
    "gx:ByteBuffer": lambda raw: __import__("base64").b64decode(raw),
}


def _duration(text: str) -> dt.timedelta:
    # ISO-8601 PTnHnMn.nS, as Java's Duration.toString() writes it
    body = text.upper().removeprefix("PT")
    seconds = 0.0
    number = ""
    for ch in body:
        if ch in "HMS":
            seconds += float(number) * {"H": 3600, "M": 60, "S": 1}[ch]
            number = ""
        else:
            number += ch
    return dt.timedelta(seconds=seconds)


def value(node: Any) -> Any:
    """The Seer value of a GraphSON 3.0 node. Raises GraphSONError for unknown types."""
    if isinstance(node, dict) and "@type" in node:
        kind, raw = node["@type"], node.get("@value")
        if kind == "g:List":
            return [value(x) for x in raw]
        if kind == "g:Set":
            items = [value(x) for x in raw]
            try:
                return set(items)
            except TypeError:
                return items
        if kind == "g:Map":
            it = iter(raw)
            return {_key(value(k)): value(v) for k, v in zip(it, it, strict=True)}
        convert = _SCALARS.get(kind)
        if convert is None:
            raise GraphSONError(f"unknown GraphSON type {kind!r}")
        try:
            return convert(raw)
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise GraphSONError(f"bad {kind} value {raw!r}: {exc}") from None
    if isinstance(node, (list, dict)):
        raise GraphSONError(
            f"untyped JSON {type(node).__name__} (GraphSON 3.0 wraps collections in g:List/g:Map)"
        )
    return node


def _key(k: Any) -> Any:
    return tuple(k) if isinstance(k, list) else k


def parse(path: Path) -> Iterator[VertexRecord | EdgeRecord | LoadIssue]:
    """Vertex records, then (per line) the vertex's out-edges; a LoadIssue per bad line."""
    name = str(path)
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except json.JSONDecodeError as exc:
                yield LoadIssue("parse", name, line_no, exc.pos + 1, f"invalid JSON: {exc.msg}")
                continue
            try:
                yield from _vertex(doc, name, line_no)
            except (GraphSONError, KeyError, TypeError, AttributeError) as exc:
                text = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
                yield LoadIssue("parse", name, line_no, None, f"not a GraphSON 3.0 vertex: {text}")


def _vertex(doc: dict, name: str, line: int) -> Iterator[VertexRecord | EdgeRecord]:
    vid = value(doc["id"])
    props: list[PropRecord] = []
    for key, entries in (doc.get("properties") or {}).items():
        for entry in entries:
            meta = tuple((k, value(v)) for k, v in (entry.get("properties") or {}).items())
            pid = value(entry["id"]) if "id" in entry else None
            props.append(PropRecord(key, value(entry["value"]), "list", pid, meta))
    edges = []
    for label, out_edges in (doc.get("outE") or {}).items():
        for e in out_edges:
            eprops = [(k, value(v)) for k, v in (e.get("properties") or {}).items()]
            edges.append(EdgeRecord(value(e["id"]), label, vid, value(e["inV"]), eprops, name, line))
    yield VertexRecord(vid, doc.get("label") or "vertex", props, name, line)
    yield from edges
