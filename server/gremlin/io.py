"""The ``io()`` step: read or write the whole graph as GraphSON 3 (adjacency lines) or GraphML.

Paths are relative to the engine's io root (``GremlinEngine(io_root=...)`` or the
``SEER_GREMLIN_IO_ROOT`` environment variable); without one, ``io()`` is refused, and a path that
leaves the root is refused too. Reading goes through the store interface in batches of writes
inside the caller's transaction. Gryo (Java serialization) is not supported. Readers and writers
are hand-written because the formats are small and no maintained Python library reads TinkerPop's
typed GraphSON 3 into a property graph; the XML side uses the standard library's ElementTree.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from server.gremlin.compiler import step
from server.gremlin.errors import GremlinArgumentError, GremlinError
from server.gremlin.ir import GremlinClass
from server.gremlin.runtime import Context, Step, Trav
from server.structure import Cardinality, Direction
from server.structure.values import BigInt, Float32, Int8, Int16, Int64

_GRAPHSON_DECODERS: dict[str, Any] = {
    "g:Int32": int,
    "g:Int64": Int64,
    "g:Double": float,
    "g:Float": Float32,
    "gx:Int16": Int16,
    "gx:Byte": Int8,
    "gx:BigInteger": lambda v: BigInt(int(v)),
    "gx:BigDecimal": lambda v: decimal.Decimal(str(v)),
    "g:UUID": uuid.UUID,
    "g:Date": lambda ms: dt.datetime.fromtimestamp(ms / 1000, dt.UTC),
}


def _decode(x: Any) -> Any:
    if isinstance(x, dict) and "@type" in x:
        t, v = x["@type"], x["@value"]
        if t == "g:List":
            return [_decode(i) for i in v]
        if t == "g:Set":
            return {_decode(i) for i in v}
        if t == "g:Map":
            return {_decode(v[i]): _decode(v[i + 1]) for i in range(0, len(v), 2)}
        fn = _GRAPHSON_DECODERS.get(t)
        if fn is None:
            raise GremlinError(f"GraphSON type {t} is not supported by io()")
        return fn(v)
    return x


def _encode(v: Any) -> Any:
    if isinstance(v, bool) or isinstance(v, str) or v is None:
        return v
    for cls, name in ((Int64, "g:Int64"), (Int16, "gx:Int16"), (Int8, "gx:Byte"), (BigInt, "gx:BigInteger")):
        if isinstance(v, cls):
            return {"@type": name, "@value": int(v)}
    if isinstance(v, int):
        return {"@type": "g:Int32" if -(2**31) <= v < 2**31 else "g:Int64", "@value": v}
    if isinstance(v, Float32):
        return {"@type": "g:Float", "@value": float(v)}
    if isinstance(v, float):
        return {"@type": "g:Double", "@value": v}
    if isinstance(v, decimal.Decimal):
        return {"@type": "gx:BigDecimal", "@value": str(v)}
    if isinstance(v, uuid.UUID):
        return {"@type": "g:UUID", "@value": str(v)}
    if isinstance(v, dt.datetime):
        return {"@type": "g:Date", "@value": int(v.timestamp() * 1000)}
    if isinstance(v, (list, tuple)):
        return {"@type": "g:List", "@value": [_encode(i) for i in v]}
    if isinstance(v, (set, frozenset)):
        return {"@type": "g:Set", "@value": [_encode(i) for i in v]}
    if isinstance(v, dict):
        flat: list[Any] = []
        for k, x in v.items():
            flat += [_encode(k), _encode(x)]
        return {"@type": "g:Map", "@value": flat}
    raise GremlinError(f"io() cannot write {type(v).__name__} values")


def read_graphson(conn: Any, path: Path) -> None:
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    made: dict[Any, Any] = {}
    for o in lines:
        vid = _decode(o["id"])
        v = conn.add_vertex(o.get("label", "vertex"), vid)
        made[vid] = v
        for key, plist in (o.get("properties") or {}).items():
            for p in plist:
                meta = [(k, _decode(m)) for k, m in (p.get("properties") or {}).items()]
                conn.add_vertex_property(
                    v, key, _decode(p["value"]), Cardinality.list_, _decode(p.get("id")), meta
                )
    for o in lines:
        for label, edges in (o.get("outE") or {}).items():
            for e in edges:
                edge = conn.add_edge(
                    label, made[_decode(o["id"])], made[_decode(e["inV"])], _decode(e.get("id"))
                )
                for k, pv in (e.get("properties") or {}).items():
                    conn.set_edge_property(edge, k, _decode(pv))


_GRAPHML_TYPES = {
    "int": int,
    "long": Int64,
    "float": Float32,
    "double": float,
    "boolean": lambda s: s == "true",
}


def read_graphml(conn: Any, path: Path) -> None:
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    root = ET.parse(path).getroot()
    keys = {
        k.get("id"): (k.get("attr.name"), k.get("attr.type", "string")) for k in root.findall("g:key", ns)
    }

    def value(key: str, text: str) -> tuple[str, Any]:
        name, kind = keys.get(key, (key, "string"))
        return name, _GRAPHML_TYPES.get(kind, str)(text)

    graph = root.find("g:graph", ns)
    if graph is None:
        raise GremlinError(f"{path.name} holds no <graph>")
    made: dict[str, Any] = {}
    for node in graph.findall("g:node", ns):
        data = [value(d.get("key"), d.text or "") for d in node.findall("g:data", ns)]
        label = next((v for k, v in data if k == "labelV"), "vertex")
        vid = node.get("id")
        v = conn.add_vertex(label, int(vid) if vid.lstrip("-").isdigit() else vid)
        made[vid] = v
        for k, val in data:
            if k != "labelV":
                conn.add_vertex_property(v, k, val, Cardinality.list_)
    for edge in graph.findall("g:edge", ns):
        data = [value(d.get("key"), d.text or "") for d in edge.findall("g:data", ns)]
        label = next((v for k, v in data if k == "labelE"), "edge")
        eid = edge.get("id")
        e = conn.add_edge(
            label,
            made[edge.get("source")],
            made[edge.get("target")],
            int(eid) if eid and eid.lstrip("-").isdigit() else eid,
        )
        for k, val in data:
            if k != "labelE":
                conn.set_edge_property(e, k, val)


def _all(conn: Any) -> tuple[list[Any], list[list[Any]], list[Any], list[list[Any]]]:
    vs = list(conn.vertices())
    es = list(conn.edges())
    return vs, conn.vertex_properties(vs), es, conn.edge_properties(es)


def write_graphson(conn: Any, path: Path) -> None:
    vs, vprops, es, eprops = _all(conn)
    out_e: dict[Any, dict[str, list]] = {}
    in_e: dict[Any, dict[str, list]] = {}
    for e, props in zip(es, eprops, strict=True):
        body = {"id": _encode(e.id), "properties": {p.key: _encode(p.value) for p in props}}
        out_e.setdefault(e.out_v.id, {}).setdefault(e.label, []).append({**body, "inV": _encode(e.in_v.id)})
        in_e.setdefault(e.in_v.id, {}).setdefault(e.label, []).append({**body, "outV": _encode(e.out_v.id)})
    with path.open("w", encoding="utf-8") as f:
        for v, props in zip(vs, vprops, strict=True):
            pmap: dict[str, list] = {}
            for p in props:
                entry: dict[str, Any] = {"id": _encode(p.id), "value": _encode(p.value)}
                if p.properties:
                    entry["properties"] = {m.key: _encode(m.value) for m in p.properties}
                pmap.setdefault(p.key, []).append(entry)
            line = {"id": _encode(v.id), "label": v.label, "properties": pmap}
            if v.id in out_e:
                line["outE"] = out_e[v.id]
            if v.id in in_e:
                line["inE"] = in_e[v.id]
            f.write(json.dumps(line) + "\n")


def write_graphml(conn: Any, path: Path) -> None:
    vs, vprops, es, eprops = _all(conn)
    root = ET.Element("graphml", xmlns="http://graphml.graphdrawing.org/xmlns")
    types = {int: "int", Int64: "long", float: "double", Float32: "float", bool: "boolean", str: "string"}
    seen: dict[tuple[str, str], str] = {}
    for kind, props_list in (("node", vprops), ("edge", eprops)):
        for props in props_list:
            for p in props:
                seen.setdefault((kind, p.key), types.get(type(p.value), "string"))
    ET.SubElement(
        root, "key", id="labelV", attrib={"for": "node", "attr.name": "labelV", "attr.type": "string"}
    )
    ET.SubElement(
        root, "key", id="labelE", attrib={"for": "edge", "attr.name": "labelE", "attr.type": "string"}
    )
    for (kind, key), t in seen.items():
        ET.SubElement(root, "key", id=key, attrib={"for": kind, "attr.name": key, "attr.type": t})
    graph = ET.SubElement(root, "graph", id="G", edgedefault="directed")
    for v, props in zip(vs, vprops, strict=True):
        node = ET.SubElement(graph, "node", id=str(v.id))
        ET.SubElement(node, "data", key="labelV").text = v.label
        for p in props:
            ET.SubElement(node, "data", key=p.key).text = (
                str(p.value).lower() if isinstance(p.value, bool) else str(p.value)
            )
    for e, props in zip(es, eprops, strict=True):
        edge = ET.SubElement(graph, "edge", id=str(e.id), source=str(e.out_v.id), target=str(e.in_v.id))
        ET.SubElement(edge, "data", key="labelE").text = e.label
        for p in props:
            ET.SubElement(edge, "data", key=p.key).text = str(p.value)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


class IoStep(Step):
    """``g.io(file).read()`` / ``.write()``, with ``with(IO.reader|IO.writer, graphson|graphml)``."""

    name = "io"
    streamable = False

    def __init__(self, file: str) -> None:
        super().__init__()
        self.file = file
        self.mode: str | None = None
        self.is_start = True

    def accepts(self, name: str) -> bool:
        return name in ("read", "write")

    def modulate(self, c: Any, name: str, args: tuple) -> None:
        self.mode = name

    def _format(self, key: str) -> str:
        chosen = self.with_options.get(key)
        if isinstance(chosen, GremlinClass):
            chosen = chosen.name
        name = str(chosen or Path(self.file).suffix.lstrip(".")).lower()
        if "graphml" in name or name == "xml":
            return "graphml"
        if "graphson" in name or name == "json":
            return "graphson"
        if "gryo" in name or name == "kryo":
            raise GremlinArgumentError("Gryo (kryo) files are Java-only: use GraphSON or GraphML")
        raise GremlinArgumentError(f"io() cannot tell the format of {self.file!r}; use with(IO.reader, ...)")

    def _path(self, ctx: Context) -> Path:
        root = getattr(ctx.engine, "io_root", None)
        if root is None:
            raise GremlinArgumentError("io() is disabled: the server has no io root configured")
        base = Path(root).resolve()
        path = (base / self.file).resolve()
        if base != path and base not in path.parents:
            raise GremlinArgumentError(f"io() path {self.file!r} leaves the io root")
        return path

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        if self.mode is None:
            raise GremlinArgumentError("io() needs read() or write()")
        if self.mode == "read":
            if ctx.read_only:
                from server.gremlin.errors import ReadOnlyViolation

                raise ReadOnlyViolation(
                    "The provided traversal has a mutating step and thus is not read only: io()"
                )
            fmt = self._format("~tinkerpop.io.reader")
            path = self._path(ctx)
            if not path.exists():
                raise GremlinArgumentError(f"io() file {self.file!r} does not exist")
            (read_graphml if fmt == "graphml" else read_graphson)(ctx.conn, path)
        else:
            fmt = self._format("~tinkerpop.io.writer")
            path = self._path(ctx)
            path.parent.mkdir(parents=True, exist_ok=True)
            (write_graphml if fmt == "graphml" else write_graphson)(ctx.conn, path)
        return
        yield


@step("io")
def _io(c: Any, args: tuple) -> Step:
    if not args or not isinstance(args[0], str):
        raise GremlinArgumentError("io() takes a file name")
    return IoStep(args[0])


def default_io_root() -> str | None:
    return os.environ.get("SEER_GREMLIN_IO_ROOT") or None


_ = Direction
