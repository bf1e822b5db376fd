"""GraphSON 3.0: requests in, responses out (``application/vnd.gremlin-v3.0+json``).

Requests from gremlinpython mix typed and untyped values: only ``args.gremlin`` goes through its
GraphSON writer, every other argument is plain ``json.dumps`` output (so ``500`` arrives as a bare
JSON number). The reader accepts both. Responses are always fully typed, except ``requestId``,
which is a plain string (gremlinpython matches responses by ``str(uuid)``).

Written here rather than borrowed from gremlinpython for the reasons given in
:mod:`server.protocol.graphbinary` (typed numbers, predicates, strategies, element properties).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
import re
import uuid
from collections.abc import Callable
from typing import Any

from server.gremlin.engine import Traverser
from server.gremlin.ir import Binding, GremlinClass, Lambda, P, Strategy, TextP
from server.protocol.errors import MalformedRequest, ResultSerializationError, SerializationError
from server.protocol.graphbinary import MAX_DEPTH, token_from_wire
from server.protocol.messages import RequestMessage, ResponseMessage
from server.protocol.wire import (
    bytecode_from_wire,
    engine_result_types,
    hashable,
    strategy_name,
    subgraph_parts,
)
from server.structure import (
    BigInt,
    Char,
    Edge,
    Float32,
    Int8,
    Int16,
    Int64,
    Path,
    Property,
    Vertex,
    VertexProperty,
)
from server.structure.results import BulkSet, Subgraph, Tree
from server.structure.tokens import TOKEN_TYPES
from server.structure.values import INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN

MIME = "application/vnd.gremlin-v3.0+json"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_DURATION = re.compile(
    r"^(-)?P(?:(-?\d+)D)?(?:T(?:(-?\d+)H)?(?:(-?\d+)M)?(?:(-?\d+(?:\.\d+)?)S)?)?$", re.IGNORECASE
)


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def _fail(message: str) -> SerializationError:
    return SerializationError(f"GraphSON request is invalid: {message}")


def _double(v: Any) -> float:
    if isinstance(v, str):
        special = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
        if v in special:
            return special[v]
        raise _fail(f"{v!r} is not a Double")
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _fail(f"{v!r} is not a number")
    return float(v)


def _integer(v: Any, lo: int | None, hi: int | None, kind: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, str)):
        raise _fail(f"{v!r} is not an {kind}")
    try:
        n = int(v)
    except ValueError:
        raise _fail(f"{v!r} is not an {kind}") from None
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        raise _fail(f"{n} is out of range for {kind}")
    return n


def parse_duration(text: Any) -> dt.timedelta:
    """An ISO-8601 duration as Java's ``Duration.toString`` writes it (``PT1H2M3.5S``, ``P2D``)."""
    m = _DURATION.match(text) if isinstance(text, str) else None
    if not m:
        raise _fail(f"{text!r} is not an ISO-8601 duration")
    neg, days, hours, minutes, seconds = m.groups()
    delta = dt.timedelta(
        days=int(days or 0), hours=int(hours or 0), minutes=int(minutes or 0), seconds=float(seconds or 0)
    )
    return -delta if neg else delta


def format_duration(d: dt.timedelta) -> str:
    """Java's ``Duration.toString`` shape: ``PT26H3M4.5S`` (hours, not days)."""
    total_us = (d.days * 86400 + d.seconds) * 1_000_000 + d.microseconds
    if total_us == 0:
        return "PT0S"
    sign = "-" if total_us < 0 else ""
    total_us = abs(total_us)
    hours, rest = divmod(total_us, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    seconds, micros = divmod(rest, 1_000_000)
    out = "PT"
    if hours:
        out += f"{sign}{hours}H"
    if minutes:
        out += f"{sign}{minutes}M"
    if seconds or micros:
        frac = f".{micros:06d}".rstrip("0") if micros else ""
        out += f"{sign}{seconds}{frac}S"
    return out


def _parse_datetime(v: Any) -> dt.datetime:
    if not isinstance(v, str):
        raise _fail(f"{v!r} is not an ISO-8601 date-time")
    try:
        parsed = dt.datetime.fromisoformat(v[:-1] + "+00:00" if v.endswith("Z") else v)
    except ValueError:
        raise _fail(f"{v!r} is not an ISO-8601 date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _ms_datetime(v: Any) -> dt.datetime:
    try:
        return _EPOCH + dt.timedelta(milliseconds=_integer(v, INT64_MIN, INT64_MAX, "Int64"))
    except OverflowError:
        raise _fail(f"date {v} is out of range") from None


class _Reader:
    """Turns decoded JSON into Gremlin values; tracks nesting depth."""

    def __init__(self) -> None:
        self.depth = 0

    def value(self, obj: Any) -> Any:
        if obj is None or isinstance(obj, (str, bool)):
            return obj
        if isinstance(obj, int):
            return obj if INT32_MIN <= obj <= INT32_MAX else Int64(obj)
        if isinstance(obj, float):
            return obj
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _fail(f"values nest deeper than {MAX_DEPTH} levels")
        try:
            if isinstance(obj, list):
                return [self.value(v) for v in obj]
            if isinstance(obj, dict):
                if "@type" in obj:
                    return self.typed(obj.get("@type"), obj.get("@value"))
                return {k: self.value(v) for k, v in obj.items()}
            raise _fail(f"unexpected JSON value {obj!r}")
        finally:
            self.depth -= 1

    def typed(self, type_name: Any, v: Any) -> Any:
        if not isinstance(type_name, str):
            raise _fail(f"@type must be a string, not {type_name!r}")
        read = _TYPED.get(type_name)
        if read is not None:
            return read(self, v)
        prefix, _, name = type_name.partition(":")
        token_cls = TOKEN_TYPES.get(name) if prefix == "g" else None
        if token_cls is not None:
            if not isinstance(v, str):
                raise _fail(f"{type_name} value must be a string")
            try:
                return token_from_wire(token_cls, v)
            except ValueError as exc:
                raise _fail(str(exc)) from None
        if isinstance(v, dict) and "fqcn" in v:  # a strategy: g:SubgraphStrategy {fqcn, conf}
            conf = v.get("conf") or {}
            if not isinstance(conf, dict):
                raise _fail(f"{type_name} conf must be an object")
            return Strategy(strategy_name(str(v["fqcn"])), {k: self.value(x) for k, x in conf.items()})
        raise _fail(f"type {type_name} is not supported in requests")

    def list(self, v: Any) -> list[Any]:
        if not isinstance(v, list):
            raise _fail(f"expected a JSON array, got {type(v).__name__}")
        return [self.value(x) for x in v]

    def map(self, v: Any) -> dict[Any, Any]:
        items = self.list(v)
        if len(items) % 2:
            raise _fail("g:Map needs an even number of entries")
        return {hashable(items[i]): items[i + 1] for i in range(0, len(items), 2)}

    def obj(self, v: Any, *keys: str) -> dict[str, Any]:
        if not isinstance(v, dict):
            raise _fail(f"expected a JSON object with {', '.join(keys)}")
        missing = [k for k in keys if k not in v]
        if missing:
            raise _fail(f"missing {', '.join(missing)}")
        return v

    def instructions(self, v: Any) -> list[tuple[str, tuple[Any, ...]]]:
        out = []
        for inst in v or []:
            if not isinstance(inst, list) or not inst or not isinstance(inst[0], str):
                raise _fail(f"bytecode instruction {inst!r} is not [name, args...]")
            out.append((inst[0], tuple(self.value(a) for a in inst[1:])))
        return out

    def bytecode(self, v: Any) -> Any:
        d = self.obj(v)
        return bytecode_from_wire(self.instructions(d.get("source")), self.instructions(d.get("step")))

    def predicate(self, cls: type[P] | type[TextP], v: Any) -> Any:
        d = self.obj(v, "predicate")
        name = d["predicate"]
        raw = d.get("value")
        value = self.value(raw)
        if name in ("within", "without"):
            args = tuple(value) if isinstance(value, (list, tuple, set)) else (value,)
        elif name in ("between", "inside", "outside", "and", "or") and isinstance(raw, list):
            args = tuple(value)
        elif name == "not" or raw is not None or "value" in d:
            args = (value,)
        else:
            args = ()
        return cls(str(name), args)

    def set(self, v: Any) -> set[Any]:
        return {hashable(x) for x in self.list(v)}

    def vertex(self, v: Any) -> Vertex:
        d = self.obj(v, "id")
        return Vertex(hashable(self.value(d["id"])), str(d.get("label", "vertex")))

    def edge(self, v: Any) -> Edge:
        d = self.obj(v, "id")
        out_v = Vertex(hashable(self.value(d.get("outV"))), str(d.get("outVLabel", "vertex")))
        in_v = Vertex(hashable(self.value(d.get("inV"))), str(d.get("inVLabel", "vertex")))
        return Edge(hashable(self.value(d["id"])), str(d.get("label", "edge")), out_v, in_v)

    def vertex_property(self, v: Any) -> VertexProperty:
        d = self.obj(v, "id", "label")
        return VertexProperty(
            hashable(self.value(d["id"])), str(d["label"]), self.value(d.get("value")), None
        )

    def path(self, v: Any) -> Path:
        d = self.obj(v, "labels", "objects")
        labels = self.value(d["labels"]) or []
        return Path([frozenset(x or ()) for x in labels], self.value(d["objects"]) or [])

    def bulkset(self, v: Any) -> BulkSet:
        items = self.list(v)
        if len(items) % 2:
            raise _fail("g:BulkSet needs value, bulk pairs")
        pairs = [(items[i], _integer(items[i + 1], 0, None, "integer bulk")) for i in range(0, len(items), 2)]
        return BulkSet(pairs)


def _typed_int(kind: str, lo: int, hi: int, wrap: Callable[[int], Any]) -> Callable[[_Reader, Any], Any]:
    return lambda r, v: wrap(_integer(v, lo, hi, kind))


def _bigdecimal(r: _Reader, v: Any) -> decimal.Decimal:
    try:
        return decimal.Decimal(str(v))
    except decimal.InvalidOperation:
        raise _fail(f"{v!r} is not a BigDecimal") from None


def _bytebuffer(r: _Reader, v: Any) -> bytes:
    try:
        return base64.b64decode(v, validate=True)
    except (ValueError, TypeError):
        raise _fail("gx:ByteBuffer is not base64") from None


def _char(r: _Reader, v: Any) -> Char:
    if not isinstance(v, str) or len(v) != 1:
        raise _fail(f"gx:Char {v!r} is not one character")
    return Char(v)


def _uuid(r: _Reader, v: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(v))
    except ValueError:
        raise _fail(f"{v!r} is not a UUID") from None


def _binding(r: _Reader, v: Any) -> Binding:
    d = r.obj(v, "key")
    return Binding(str(d["key"]), r.value(d.get("value")))


def _lambda(r: _Reader, v: Any) -> Lambda:
    d = r.obj(v, "script")
    return Lambda(str(d["script"]), str(d.get("language", "gremlin-groovy")), int(d.get("arguments", -1)))


def _traverser(r: _Reader, v: Any) -> Traverser:
    d = r.obj(v, "value")
    return Traverser(r.value(d["value"]), int(r.value(d.get("bulk", 1))))


def _property(r: _Reader, v: Any) -> Property:
    d = r.obj(v, "key")
    return Property(str(d["key"]), r.value(d.get("value")), None)


_TYPED: dict[str, Callable[[_Reader, Any], Any]] = {
    "g:Int32": _typed_int("Int32", INT32_MIN, INT32_MAX, int),
    "g:Int64": _typed_int("Int64", INT64_MIN, INT64_MAX, Int64),
    "gx:Int16": _typed_int("Int16", -(2**15), 2**15 - 1, Int16),
    "gx:Byte": _typed_int("Byte", -128, 127, Int8),
    "gx:BigInteger": lambda r, v: BigInt(_integer(v, None, None, "BigInteger")),
    "g:Float": lambda r, v: Float32(_double(v)),
    "g:Double": lambda r, v: _double(v),
    "gx:BigDecimal": _bigdecimal,
    "g:List": _Reader.list,
    "g:Set": _Reader.set,
    "g:Map": _Reader.map,
    "g:UUID": _uuid,
    "g:Date": lambda r, v: _ms_datetime(v),
    "g:Timestamp": lambda r, v: _ms_datetime(v),
    "gx:OffsetDateTime": lambda r, v: _parse_datetime(v),
    "gx:Duration": lambda r, v: parse_duration(v),
    "gx:Char": _char,
    "gx:ByteBuffer": _bytebuffer,
    "g:Class": lambda r, v: GremlinClass(str(v)),
    "g:Vertex": _Reader.vertex,
    "g:Edge": _Reader.edge,
    "g:VertexProperty": _Reader.vertex_property,
    "g:Property": _property,
    "g:Path": _Reader.path,
    "g:Traverser": _traverser,
    "g:BulkSet": _Reader.bulkset,
    "g:Bytecode": _Reader.bytecode,
    "g:P": lambda r, v: r.predicate(P, v),
    "g:TextP": lambda r, v: r.predicate(TextP, v),
    "g:Binding": _binding,
    "g:Lambda": _lambda,
}


def read_value(obj: Any) -> Any:
    """One GraphSON value from decoded JSON (used by tests and the fuzzers)."""
    return _Reader().value(obj)


def read_request(payload: bytes | str) -> RequestMessage:
    """A request message without its mime prefix (UTF-8 JSON).

    Raises:
        MalformedRequest: not JSON, or not a request object.
        SerializationError: a value inside cannot be read.
    """
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedRequest(f"request is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise MalformedRequest("request must be a JSON object with requestId, op, processor and args")
    reader = _Reader()
    rid = doc.get("requestId")
    if isinstance(rid, dict):
        rid = rid.get("@value")
    try:
        request_id = uuid.UUID(str(rid)) if rid is not None else None
    except ValueError:
        raise MalformedRequest(f"requestId {rid!r} is not a UUID") from None
    op = doc.get("op")
    if not isinstance(op, str):
        raise MalformedRequest("request has no op")
    processor = doc.get("processor") or ""
    args = doc.get("args") or {}
    if isinstance(args, dict) and args.get("@type") == "g:Map":
        args = reader.map(args.get("@value"))
    elif isinstance(args, dict):
        args = {k: reader.value(v) for k, v in args.items()}
    else:
        raise MalformedRequest("request args must be a map")
    return RequestMessage(request_id, op, str(processor), {str(k): v for k, v in args.items()})


def peek_request_id(payload: bytes | str) -> uuid.UUID | None:
    """The request id of a possibly invalid request, when it can be found."""
    try:
        doc = json.loads(payload)
        rid = doc.get("requestId")
        return uuid.UUID(str(rid.get("@value") if isinstance(rid, dict) else rid))
    except Exception:  # noqa: BLE001 - any failure just means "unknown"
        return None


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def _t(type_name: str, value: Any) -> dict[str, Any]:
    return {"@type": type_name, "@value": value}


def _w_float(value: float, type_name: str) -> dict[str, Any]:
    if math.isnan(value):
        return _t(type_name, "NaN")
    if math.isinf(value):
        return _t(type_name, "Infinity" if value > 0 else "-Infinity")
    return _t(type_name, float(value))


class _Writer:
    """Turns Gremlin values into typed JSON-ready structures."""

    def __init__(self, materialize_properties: bool = True) -> None:
        self.props = materialize_properties

    def write(self, value: Any) -> Any:
        if value is None or type(value) is str or type(value) is bool:
            return value
        writer = _WRITERS.get(type(value))
        if writer is None:
            writer = _fallback_writer(value)
        return writer(self, value)

    def vertex(self, v: Vertex) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.write(v.id), "label": v.label}
        if self.props and v.properties:
            grouped: dict[str, list[Any]] = {}
            for vp in v.properties:
                grouped.setdefault(vp.label, []).append(self.vertex_property(vp))
            body["properties"] = grouped
        return _t("g:Vertex", body)

    def edge(self, e: Edge) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.write(e.id),
            "label": e.label,
            "inVLabel": e.in_v.label,
            "outVLabel": e.out_v.label,
            "inV": self.write(e.in_v.id),
            "outV": self.write(e.out_v.id),
        }
        if self.props and e.properties:
            body["properties"] = {p.key: self.property(p) for p in e.properties}
        return _t("g:Edge", body)

    def vertex_property(self, vp: VertexProperty) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.write(vp.id), "value": self.write(vp.value), "label": vp.label}
        if self.props and vp.properties:
            body["properties"] = {p.key: self.write(p.value) for p in vp.properties}
        return _t("g:VertexProperty", body)

    def property(self, p: Property) -> dict[str, Any]:
        return _t("g:Property", {"key": p.key, "value": self.write(p.value)})

    def path(self, p: Path) -> dict[str, Any]:
        labels = [_t("g:Set", sorted(x)) for x in p.labels]
        return _t(
            "g:Path",
            {"labels": _t("g:List", labels), "objects": _t("g:List", [self.write(o) for o in p.objects])},
        )

    def map(self, m: dict[Any, Any]) -> dict[str, Any]:
        flat: list[Any] = []
        for k, v in m.items():
            flat.append(self.write(k))
            flat.append(self.write(v))
        return _t("g:Map", flat)

    def bulkset(self, b: BulkSet) -> dict[str, Any]:
        flat: list[Any] = []
        for value, bulk in b.items:
            flat.append(self.write(value))
            flat.append(_t("g:Int64", bulk))
        return _t("g:BulkSet", flat)

    def tree(self, t: dict[Any, Any]) -> dict[str, Any]:
        entries = [
            {"key": self.write(k), "value": self.tree(sub if isinstance(sub, dict) else Tree())}
            for k, sub in t.items()
        ]
        return _t("g:Tree", entries)

    def subgraph(self, g: Subgraph) -> dict[str, Any]:
        vertices, edges = subgraph_parts(g)
        return _t(
            "tinker:graph",
            {"vertices": [self.vertex(v) for v in vertices], "edges": [self.edge(e) for e in edges]},
        )

    def traverser(self, t: Traverser) -> dict[str, Any]:
        return _t("g:Traverser", {"bulk": _t("g:Int64", t.bulk), "value": self.write(t.value)})

    def predicate(self, p: P | TextP) -> dict[str, Any]:
        kind = "g:P" if isinstance(p, P) else "g:TextP"
        args = [self.write(a) for a in p.args]
        if p.name in ("within", "without"):
            value: Any = _t("g:List", args)
        elif len(args) == 1:
            value = args[0]
        else:
            value = args
        return _t(kind, {"predicate": p.name, "value": value})


def _w_int(w: _Writer, v: int) -> Any:
    if INT32_MIN <= v <= INT32_MAX:
        return _t("g:Int32", int(v))
    return _w_long(w, v)


def _w_long(w: _Writer, v: int) -> Any:
    if INT64_MIN <= v <= INT64_MAX:
        return _t("g:Int64", int(v))
    return _t("gx:BigInteger", str(int(v)))


def _w_datetime(w: _Writer, v: dt.datetime) -> Any:
    if v.tzinfo is None:
        v = v.replace(tzinfo=dt.UTC)
    return _t("gx:OffsetDateTime", v.isoformat())


def _w_token(w: _Writer, v: Any) -> Any:
    return _t(f"g:{type(v).__name__}", v.value)


_WRITERS: dict[type, Callable[[_Writer, Any], Any]] = {
    int: _w_int,
    Int64: _w_long,
    Int16: lambda w, v: _t("gx:Int16", int(v)),
    Int8: lambda w, v: _t("gx:Byte", int(v)),
    BigInt: lambda w, v: _t("gx:BigInteger", str(int(v))),
    float: lambda w, v: _w_float(v, "g:Double"),
    Float32: lambda w, v: _w_float(v, "g:Float"),
    decimal.Decimal: lambda w, v: _t("gx:BigDecimal", str(v)),
    Char: lambda w, v: _t("gx:Char", str(v)),
    uuid.UUID: lambda w, v: _t("g:UUID", str(v)),
    dt.datetime: _w_datetime,
    dt.timedelta: lambda w, v: _t("gx:Duration", format_duration(v)),
    bytes: lambda w, v: _t("gx:ByteBuffer", base64.b64encode(v).decode("ascii")),
    bytearray: lambda w, v: _t("gx:ByteBuffer", base64.b64encode(bytes(v)).decode("ascii")),
    list: lambda w, v: _t("g:List", [w.write(x) for x in v]),
    tuple: lambda w, v: _t("g:List", [w.write(x) for x in v]),
    set: lambda w, v: _t("g:Set", [w.write(x) for x in v]),
    frozenset: lambda w, v: _t("g:Set", [w.write(x) for x in v]),
    dict: _Writer.map,
    Vertex: _Writer.vertex,
    Edge: _Writer.edge,
    VertexProperty: _Writer.vertex_property,
    Property: _Writer.property,
    Path: _Writer.path,
    Traverser: _Writer.traverser,
    BulkSet: _Writer.bulkset,
    Tree: _Writer.tree,
    Subgraph: _Writer.subgraph,
    P: _Writer.predicate,
    TextP: _Writer.predicate,
    **dict.fromkeys(TOKEN_TYPES.values(), _w_token),
}


def _engine_writer(value: Any) -> Any:
    """The writer for the engine's own Tree/Subgraph classes (looked up at run time: importing
    the engine while this module loads would be circular); remembered per class."""
    kinds = engine_result_types()
    writer = _Writer.tree if isinstance(value, kinds["tree"]) else None
    if isinstance(value, kinds["subgraph"]):
        writer = _Writer.subgraph
    if writer is not None:
        _WRITERS[type(value)] = writer
    return writer


def _fallback_writer(value: Any) -> Callable[[_Writer, Any], Any]:
    if isinstance(value, str):
        return lambda w, v: str(v)
    if isinstance(value, bool):
        return lambda w, v: bool(v)
    engine_writer = _engine_writer(value)
    if engine_writer is not None:
        return engine_writer
    for cls, writer in _WRITERS.items():
        if isinstance(value, cls):
            return writer
    raise ResultSerializationError(
        f"A result of type {type(value).__name__} cannot be serialized in GraphSON"
    )


def write_value(value: Any, *, materialize_properties: bool = True) -> Any:
    """One value as typed JSON-ready data."""
    return _Writer(materialize_properties).write(value)


def response_document(msg: ResponseMessage, *, materialize_properties: bool = True) -> dict[str, Any]:
    """The response as a JSON-ready dict (the HTTP endpoint embeds it as is)."""
    w = _Writer(materialize_properties)
    return {
        "requestId": str(msg.request_id) if msg.request_id is not None else None,
        "status": {"message": msg.message, "code": int(msg.code), "attributes": w.map(msg.attributes)},
        "result": {"data": w.write(msg.data), "meta": w.map(msg.meta)},
    }


def write_response(msg: ResponseMessage, *, materialize_properties: bool = True) -> bytes:
    """A response message as UTF-8 JSON (no mime prefix)."""
    doc = response_document(msg, materialize_properties=materialize_properties)
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def is_graphson_type(value: Any) -> bool:
    """True for a JSON-ready typed value (used by the HTTP layer to detect typed bindings)."""
    return isinstance(value, dict) and "@type" in value and "@value" in value
