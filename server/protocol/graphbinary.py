"""GraphBinary v1: requests in, responses out (``application/vnd.graphbinary-v1.0``).

Written here rather than borrowed from gremlinpython because the server needs what the driver
lacks: readers for P, TextP, Lambda, strategies and classes, the exact numeric type of every
argument (``1`` Int is not ``1L`` Long; gremlinpython reads both as ``int``), and writers for
element properties, BulkSet and Tree. gremlinpython is only a dev dependency; the tests check
this codec byte-for-byte against its serializers.

Layout facts: ``../shared/design/reference/gremlin-server-protocol.md`` section 2.
"""

from __future__ import annotations

import datetime as dt
import decimal
import struct
import uuid
from collections.abc import Callable
from typing import Any

from server.gremlin.engine import Traverser
from server.gremlin.ir import Binding, Bytecode, GremlinClass, Lambda, P, Strategy, TextP
from server.protocol.errors import ResultSerializationError, SerializationError
from server.protocol.messages import RequestMessage, ResponseMessage
from server.protocol.wire import bytecode_from_wire, engine_result_types, hashable, strategy_name
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
from server.structure.tokens import TOKEN_TYPES, _Token
from server.structure.values import INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN

MIME = "application/vnd.graphbinary-v1.0"
VERSION = 0x81
NULL = b"\xfe\x01"
MAX_DEPTH = 100
"""Deepest nesting a request may use; deeper input is refused instead of exhausting the stack."""

_I32 = struct.Struct(">i")
_I64 = struct.Struct(">q")
_I16 = struct.Struct(">h")
_I8 = struct.Struct(">b")
_F32 = struct.Struct(">f")
_F64 = struct.Struct(">d")

# Enum type codes: token class name -> code.
ENUM_CODES: dict[str, int] = {
    "Barrier": 0x13,
    "Cardinality": 0x16,
    "Column": 0x17,
    "Direction": 0x18,
    "Operator": 0x19,
    "Order": 0x1A,
    "Pick": 0x1B,
    "Pop": 0x1C,
    "Scope": 0x1F,
    "T": 0x20,
    "Merge": 0x2E,
    "DT": 0x2F,
    "GType": 0x30,
}
_ENUM_BY_CODE = {code: TOKEN_TYPES[name] for name, code in ENUM_CODES.items()}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def token_from_wire(cls: type[_Token], name: str) -> _Token:
    """A token from its wire name; tolerates the trailing underscore some clients keep."""
    try:
        return cls.from_name(name)
    except ValueError:
        if name.endswith("_"):
            return cls.from_name(name[:-1])
        raise


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


class _Reader:
    """A cursor over one message; every read checks bounds and reports the byte offset."""

    __slots__ = ("data", "pos", "depth")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.depth = 0

    def fail(self, message: str) -> SerializationError:
        return SerializationError(f"GraphBinary request is invalid at byte {self.pos}: {message}")

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if n < 0 or end > len(self.data):
            raise self.fail(f"needs {n} more bytes, {len(self.data) - self.pos} left")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise self.fail("unexpected end of message")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def unpack(self, fmt: struct.Struct) -> Any:
        end = self.pos + fmt.size
        if end > len(self.data):
            raise self.fail("unexpected end of message")
        (value,) = fmt.unpack_from(self.data, self.pos)
        self.pos = end
        return value

    def int32(self) -> int:
        return self.unpack(_I32)

    def length(self, min_item_size: int = 1) -> int:
        pos = self.pos + 4
        if pos > len(self.data):
            raise self.fail("unexpected end of message")
        (n,) = _I32.unpack_from(self.data, self.pos)
        self.pos = pos
        if n < 0 or n * min_item_size > len(self.data) - pos:
            raise self.fail(f"length {n} does not fit the {len(self.data) - pos} bytes left")
        return n

    def string(self) -> str:
        n = self.length()
        start = self.pos
        self.pos = start + n
        try:
            return self.data[start : self.pos].decode("utf-8")
        except UnicodeDecodeError as exc:
            self.pos = start
            raise self.fail(f"string is not UTF-8 ({exc.reason})") from None

    # -- fully qualified values ---------------------------------------------------------------

    def value(self) -> Any:
        """A fully qualified value: type code, value flag, value."""
        data = self.data
        start = self.pos
        # Fast path for the two commonest request values (step arguments, map keys): a non-null
        # String or Int, read straight from the buffer. Anything unusual (short, bad length,
        # invalid UTF-8) falls through to the checked path below, which reports it.
        if start + 6 <= len(data) and data[start + 1] == 0:
            code = data[start]
            if code == 0x03:
                (n,) = _I32.unpack_from(data, start + 2)
                end = start + 6 + n
                if n >= 0 and end <= len(data):
                    try:
                        text = data[start + 6 : end].decode("utf-8")
                    except UnicodeDecodeError:
                        pass
                    else:
                        self.pos = end
                        return text
            elif code == 0x01:
                self.pos = start + 6
                return _I32.unpack_from(data, start + 2)[0]
        code = self.byte()
        flag = self.byte()
        if flag == 0x01:
            return None
        if flag != 0x00:
            self.pos = start + 1
            raise self.fail(f"value flag 0x{flag:02x} is neither 0x00 nor 0x01")
        read = _READERS.get(code)
        if read is None:
            self.pos = start
            raise self.fail(f"type code 0x{code:02x} is not supported in requests")
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"values nest deeper than {MAX_DEPTH} levels")
        try:
            return read(self)
        finally:
            self.depth -= 1

    def bare(self, code: int) -> Any:
        """A value of a known type without type code and flag."""
        return _READERS[code](self)


def _read_list(r: _Reader) -> list[Any]:
    return [r.value() for _ in range(r.length(2))]


def _read_set(r: _Reader) -> set[Any] | list[Any]:
    items = [hashable(v) for v in _read_list(r)]
    return set(items)


def _read_map(r: _Reader) -> dict[Any, Any]:
    n = r.length(4)
    out: dict[Any, Any] = {}
    for _ in range(n):
        key = hashable(r.value())
        out[key] = r.value()
    return out


def _read_datetime_ms(r: _Reader) -> dt.datetime:
    ms = r.unpack(_I64)
    try:
        return _EPOCH + dt.timedelta(milliseconds=ms)
    except OverflowError:
        raise r.fail(f"date {ms} ms is out of range") from None


def _read_offset_datetime(r: _Reader) -> dt.datetime:
    year = r.int32()
    month = r.unpack(_I8)
    day = r.unpack(_I8)
    nanos = r.unpack(_I64)
    offset = r.int32()
    try:
        tz = dt.timezone(dt.timedelta(seconds=offset))
        return dt.datetime(year, month, day, tzinfo=tz) + dt.timedelta(microseconds=nanos // 1000)
    except (ValueError, OverflowError) as exc:
        raise r.fail(f"OffsetDateTime is invalid ({exc})") from None


def _read_bigint(r: _Reader) -> int:
    return int.from_bytes(r.take(r.length()), "big", signed=True)


def _read_bigdecimal(r: _Reader) -> decimal.Decimal:
    scale = r.int32()
    unscaled = _read_bigint(r)
    return decimal.Decimal(unscaled).scaleb(-scale)


def _read_float(r: _Reader) -> Float32:
    return Float32(r.unpack(_F32))


def _read_char(r: _Reader) -> Char:
    first = r.byte()
    size = 1 if first < 0x80 else 2 if first < 0xE0 else 3 if first < 0xF0 else 4
    raw = bytes([first]) + r.take(size - 1)
    try:
        return Char(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise r.fail("Char is not UTF-8") from None


def _read_duration(r: _Reader) -> dt.timedelta:
    seconds = r.unpack(_I64)
    nanos = r.int32()
    try:
        return dt.timedelta(seconds=seconds, microseconds=nanos // 1000)
    except OverflowError:
        raise r.fail("Duration is out of range") from None


def _read_vertex(r: _Reader) -> Vertex:
    vid = r.value()
    label = r.string()
    r.value()  # properties: a client sends reference vertices; ignore what it claims
    return Vertex(hashable(vid), label)


def _read_edge(r: _Reader) -> Edge:
    eid = r.value()
    label = r.string()
    in_id = r.value()
    in_label = r.string()
    out_id = r.value()
    out_label = r.string()
    r.value()  # parent
    r.value()  # properties
    return Edge(hashable(eid), label, Vertex(hashable(out_id), out_label), Vertex(hashable(in_id), in_label))


def _read_vertex_property(r: _Reader) -> VertexProperty:
    vpid = r.value()
    key = r.string()
    value = r.value()
    r.value()  # parent
    r.value()  # properties
    return VertexProperty(hashable(vpid), key, value, None)


def _read_property(r: _Reader) -> Property:
    key = r.string()
    value = r.value()
    r.value()  # parent
    return Property(key, value, None)


def _read_path(r: _Reader) -> Path:
    labels = r.value() or []
    objects = r.value() or []
    return Path([frozenset(x or ()) for x in labels], objects)


def _read_instructions(r: _Reader) -> list[tuple[str, tuple[Any, ...]]]:
    out = []
    for _ in range(r.length(8)):
        name = r.string()
        args = tuple(r.value() for _ in range(r.length(2)))
        out.append((name, args))
    return out


def _read_bytecode(r: _Reader) -> Bytecode:
    steps = _read_instructions(r)
    source = _read_instructions(r)
    return bytecode_from_wire(source, steps)


def _read_predicate(cls: type[P] | type[TextP]) -> Callable[[_Reader], Any]:
    def read(r: _Reader) -> Any:
        name = r.string()
        args = tuple(r.value() for _ in range(r.length(2)))
        if name in ("within", "without") and len(args) == 1 and isinstance(args[0], (list, tuple, set)):
            args = tuple(args[0])
        return cls(name, args)

    return read


def _read_lambda(r: _Reader) -> Lambda:
    language = r.string()
    script = r.string()
    arguments = r.int32()
    return Lambda(script, language, arguments)


def _read_strategy(r: _Reader) -> Strategy:
    fqcn = r.string()
    config = r.bare(0x0A)
    return Strategy(strategy_name(fqcn), config)


def _read_traverser(r: _Reader) -> Traverser:
    bulk = r.unpack(_I64)
    return Traverser(r.value(), bulk)


def _read_bulkset(r: _Reader) -> BulkSet:
    items = []
    for _ in range(r.length(10)):
        value = r.value()
        items.append((value, r.unpack(_I64)))
    return BulkSet(items)


def _enum_reader(cls: type[_Token]) -> Callable[[_Reader], Any]:
    def read(r: _Reader) -> Any:
        name = r.value()
        if not isinstance(name, str):
            raise r.fail(f"{cls.__name__} name must be a String")
        try:
            return token_from_wire(cls, name)
        except ValueError as exc:
            raise r.fail(str(exc)) from None

    return read


_READERS: dict[int, Callable[[_Reader], Any]] = {
    0x01: lambda r: r.int32(),
    0x02: lambda r: Int64(r.unpack(_I64)),
    0x03: _Reader.string,
    0x04: _read_datetime_ms,
    0x05: _read_datetime_ms,
    0x06: lambda r: GremlinClass(r.string()),
    0x07: lambda r: r.unpack(_F64),
    0x08: _read_float,
    0x09: _read_list,
    0x0A: _read_map,
    0x0B: _read_set,
    0x0C: lambda r: uuid.UUID(bytes=r.take(16)),
    0x0D: _read_edge,
    0x0E: _read_path,
    0x0F: _read_property,
    0x11: _read_vertex,
    0x12: _read_vertex_property,
    0x14: lambda r: Binding(r.string(), r.value()),
    0x15: _read_bytecode,
    0x1D: _read_lambda,
    0x1E: _read_predicate(P),
    0x21: _read_traverser,
    0x22: _read_bigdecimal,
    0x23: lambda r: BigInt(_read_bigint(r)),
    0x24: lambda r: Int8(r.unpack(_I8)),
    0x25: lambda r: r.take(r.length()),
    0x26: lambda r: Int16(r.unpack(_I16)),
    0x27: lambda r: r.byte() != 0,
    0x28: _read_predicate(TextP),
    0x29: _read_strategy,
    0x2A: _read_bulkset,
    0x80: _read_char,
    0x81: _read_duration,
    0x88: _read_offset_datetime,
    **{code: _enum_reader(cls) for code, cls in _ENUM_BY_CODE.items()},
}


def read_value(data: bytes) -> Any:
    """One fully qualified value (used by tests and by the fuzzers)."""
    r = _Reader(data)
    return r.value()


def read_request(payload: bytes) -> RequestMessage:
    """A request message without its mime prefix.

    Raises:
        SerializationError: truncated or invalid bytes (the message names the byte offset).
    """
    r = _Reader(payload)
    version = r.byte()
    if version != VERSION:
        raise r.fail(f"version byte is 0x{version:02x}, expected 0x81")
    request_id = uuid.UUID(bytes=r.take(16))
    op = r.string()
    processor = r.string()
    args = _read_args(r)
    if r.pos != len(payload):
        raise r.fail(f"{len(payload) - r.pos} bytes left over after the message")
    return RequestMessage(request_id, op, processor, args)


def _read_args(r: _Reader) -> dict[str, Any]:
    """The request's args map (bare Map): its keys are Strings in practice, kept as ``str``
    without the generic map's ``hashable`` pass; any other key is read and turned into a str."""
    out: dict[str, Any] = {}
    for _ in range(r.length(4)):
        key = r.value()
        out[key if type(key) is str else str(hashable(key))] = r.value()
    return out


def peek_request_id(payload: bytes) -> uuid.UUID | None:
    """The request id of a (possibly invalid) request, so that an error can name it."""
    if len(payload) >= 17 and payload[0] == VERSION:
        return uuid.UUID(bytes=bytes(payload[1:17]))
    return None


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def _w_string_bare(out: bytearray, s: str) -> None:
    raw = s.encode("utf-8")
    out += _I32.pack(len(raw))
    out += raw


class _Writer:
    """Writes fully qualified values; one instance per response, ``materialize`` as requested."""

    def __init__(self, materialize_properties: bool = True) -> None:
        self.props = materialize_properties

    def write(self, out: bytearray, value: Any) -> None:
        if value is None:
            out += NULL
            return
        writer = _WRITERS.get(type(value))
        if writer is None:
            writer = _fallback_writer(value)
        writer(self, out, value)

    # -- elements -----------------------------------------------------------------------------

    def vertex(self, out: bytearray, v: Vertex) -> None:
        out += b"\x11\x00"
        self.write(out, v.id)
        _w_string_bare(out, v.label)
        if self.props and v.properties is not None:
            out += b"\x09\x00"
            out += _I32.pack(len(v.properties))
            for vp in v.properties:
                self.vertex_property(out, vp)
        else:
            out += NULL

    def edge(self, out: bytearray, e: Edge) -> None:
        out += b"\x0d\x00"
        self.write(out, e.id)
        _w_string_bare(out, e.label)
        self.write(out, e.in_v.id)
        _w_string_bare(out, e.in_v.label)
        self.write(out, e.out_v.id)
        _w_string_bare(out, e.out_v.label)
        out += NULL
        self._properties(out, e.properties)

    def vertex_property(self, out: bytearray, vp: VertexProperty) -> None:
        out += b"\x12\x00"
        self.write(out, vp.id)
        _w_string_bare(out, vp.label)
        self.write(out, vp.value)
        out += NULL
        self._properties(out, vp.properties)

    def _properties(self, out: bytearray, props: list[Property] | None) -> None:
        if self.props and props is not None:
            out += b"\x09\x00"
            out += _I32.pack(len(props))
            for p in props:
                self.property(out, p)
        else:
            out += NULL

    def property(self, out: bytearray, p: Property) -> None:
        out += b"\x0f\x00"
        _w_string_bare(out, p.key)
        self.write(out, p.value)
        out += NULL

    def path(self, out: bytearray, p: Path) -> None:
        out += b"\x0e\x00\x09\x00"
        out += _I32.pack(len(p.labels))
        for labels in p.labels:
            out += b"\x0b\x00"
            out += _I32.pack(len(labels))
            for label in sorted(labels):
                out += b"\x03\x00"
                _w_string_bare(out, label)
        self.list(out, p.objects)

    # -- collections --------------------------------------------------------------------------

    def list(self, out: bytearray, items: Any, code: bytes = b"\x09\x00") -> None:
        out += code
        out += _I32.pack(len(items))
        for item in items:
            self.write(out, item)

    def map(self, out: bytearray, m: dict[Any, Any]) -> None:
        out += b"\x0a\x00"
        out += _I32.pack(len(m))
        for k, v in m.items():
            self.write(out, k)
            self.write(out, v)

    def bulkset(self, out: bytearray, b: BulkSet) -> None:
        out += b"\x2a\x00"
        out += _I32.pack(len(b.items))
        for value, bulk in b.items:
            self.write(out, value)
            out += _I64.pack(bulk)

    def tree(self, out: bytearray, t: dict[Any, Any]) -> None:
        # GraphBinary has a Tree type (0x2b), but gremlinpython 3.8 cannot read it ("43 is not a
        # valid DataType") and the other GLVs skip tree() too; a nested map carries the same
        # content and every driver reads it. GraphSON keeps g:Tree, which gremlinpython reads.
        self.map(out, {key: sub if isinstance(sub, dict) else Tree() for key, sub in t.items()})

    def results(self, out: bytearray, items: list[Any]) -> None:
        """A response's result list: Traversers (bytecode) or bare values (eval). The common
        values (String, Int, Double, Vertex and Traversers of them) are written inline, without
        a writer lookup per item; the rest go through :meth:`write`."""
        out += b"\x09\x00"
        out += _I32.pack(len(items))
        i32, i64, f64 = _I32.pack, _I64.pack, _F64.pack
        for item in items:
            kind = type(item)
            if kind is Traverser:
                out += b"\x21\x00"
                out += i64(item.bulk)
                item = item.value
                kind = type(item)
            if kind is str:
                raw = item.encode("utf-8")
                out += b"\x03\x00"
                out += i32(len(raw))
                out += raw
            elif kind is int and INT32_MIN <= item <= INT32_MAX:
                out += b"\x01\x00"
                out += i32(item)
            elif kind is float:
                out += b"\x07\x00"
                out += f64(item)
            elif kind is Vertex:
                self.vertex(out, item)
            else:
                self.write(out, item)

    def traverser(self, out: bytearray, t: Traverser) -> None:
        out += b"\x21\x00"
        out += _I64.pack(t.bulk)
        self.write(out, t.value)


def _w_int(w: _Writer, out: bytearray, v: int) -> None:
    if INT32_MIN <= v <= INT32_MAX:
        out += b"\x01\x00"
        out += _I32.pack(v)
    else:
        _w_long(w, out, v)


def _w_long(w: _Writer, out: bytearray, v: int) -> None:
    if not INT64_MIN <= v <= INT64_MAX:
        _w_bigint(w, out, v)
        return
    out += b"\x02\x00"
    out += _I64.pack(v)


def _bigint_bytes(v: int) -> bytes:
    size = (v.bit_length() if v >= 0 else (v + 1).bit_length()) // 8 + 1
    return _I32.pack(size) + v.to_bytes(size, "big", signed=True)


def _w_bigint(w: _Writer, out: bytearray, v: int) -> None:
    out += b"\x23\x00"
    out += _bigint_bytes(int(v))


def _w_decimal(w: _Writer, out: bytearray, v: decimal.Decimal) -> None:
    if not v.is_finite():
        raise ResultSerializationError(f"BigDecimal {v} cannot be written in GraphBinary")
    sign, digits, exponent = v.as_tuple()
    unscaled = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
    out += b"\x22\x00"
    out += _I32.pack(-exponent)
    out += _bigint_bytes(unscaled)


def _w_string(w: _Writer, out: bytearray, v: str) -> None:
    out += b"\x03\x00"
    _w_string_bare(out, v)


def _w_char(w: _Writer, out: bytearray, v: str) -> None:
    out += b"\x80\x00"
    out += v.encode("utf-8")


def _w_datetime(w: _Writer, out: bytearray, v: dt.datetime) -> None:
    if v.tzinfo is None:
        v = v.replace(tzinfo=dt.UTC)
    offset = v.utcoffset() or dt.timedelta(0)
    nanos = ((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000_000 + v.microsecond * 1000
    out += b"\x88\x00"
    out += _I32.pack(v.year) + _I8.pack(v.month) + _I8.pack(v.day)
    out += _I64.pack(nanos) + _I32.pack(int(offset.total_seconds()))


def _w_duration(w: _Writer, out: bytearray, v: dt.timedelta) -> None:
    seconds = v.days * 86400 + v.seconds
    out += b"\x81\x00" + _I64.pack(seconds) + _I32.pack(v.microseconds * 1000)


def _w_token(w: _Writer, out: bytearray, v: _Token) -> None:
    out.append(ENUM_CODES[type(v).__name__])
    out.append(0)
    _w_string(w, out, v.value)


def _w_subgraph(w: _Writer, out: bytearray, v: Subgraph) -> None:
    raise ResultSerializationError(
        "A subgraph (TinkerGraph) result cannot be returned in GraphBinary: gremlinpython has no "
        "reader for it. Request GraphSON (GraphSONSerializersV3d0) to receive it as tinker:graph."
    )


def _w_p(w: _Writer, out: bytearray, v: P | TextP) -> None:
    out += b"\x1e\x00" if isinstance(v, P) else b"\x28\x00"
    _w_string_bare(out, v.name)
    out += _I32.pack(len(v.args))
    for a in v.args:
        w.write(out, a)


_WRITERS: dict[type, Callable[[_Writer, bytearray, Any], None]] = {
    bool: lambda w, out, v: out.extend(b"\x27\x00\x01" if v else b"\x27\x00\x00"),
    int: _w_int,
    Int64: _w_long,
    Int16: lambda w, out, v: out.extend(b"\x26\x00" + _I16.pack(v)),
    Int8: lambda w, out, v: out.extend(b"\x24\x00" + _I8.pack(v)),
    BigInt: _w_bigint,
    float: lambda w, out, v: out.extend(b"\x07\x00" + _F64.pack(v)),
    Float32: lambda w, out, v: out.extend(b"\x08\x00" + _F32.pack(v)),
    decimal.Decimal: _w_decimal,
    str: _w_string,
    Char: _w_char,
    uuid.UUID: lambda w, out, v: out.extend(b"\x0c\x00" + v.bytes),
    dt.datetime: _w_datetime,
    dt.timedelta: _w_duration,
    bytes: lambda w, out, v: out.extend(b"\x25\x00" + _I32.pack(len(v)) + v),
    bytearray: lambda w, out, v: out.extend(b"\x25\x00" + _I32.pack(len(v)) + v),
    list: _Writer.list,
    tuple: _Writer.list,
    set: lambda w, out, v: w.list(out, v, b"\x0b\x00"),
    frozenset: lambda w, out, v: w.list(out, v, b"\x0b\x00"),
    dict: _Writer.map,
    Vertex: _Writer.vertex,
    Edge: _Writer.edge,
    VertexProperty: _Writer.vertex_property,
    Property: _Writer.property,
    Path: _Writer.path,
    Traverser: _Writer.traverser,
    BulkSet: _Writer.bulkset,
    Tree: _Writer.tree,
    Subgraph: _w_subgraph,
    P: _w_p,
    TextP: _w_p,
    **dict.fromkeys(TOKEN_TYPES.values(), _w_token),
}


def _engine_writer(value: Any) -> Any:
    """The writer for the engine's own Tree/Subgraph classes (looked up at run time: importing
    the engine while this module loads would be circular); remembered per class."""
    kinds = engine_result_types()
    writer = _Writer.tree if isinstance(value, kinds["tree"]) else None
    if isinstance(value, kinds["subgraph"]):
        writer = _w_subgraph
    if writer is not None:
        _WRITERS[type(value)] = writer
    return writer


def _fallback_writer(value: Any) -> Callable[[_Writer, bytearray, Any], None]:
    engine_writer = _engine_writer(value)
    if engine_writer is not None:
        return engine_writer
    for cls, writer in _WRITERS.items():
        if isinstance(value, cls):
            return writer
    raise ResultSerializationError(
        f"A result of type {type(value).__name__} cannot be serialized in GraphBinary"
    )


def write_value(value: Any, *, materialize_properties: bool = True) -> bytes:
    """One fully qualified value."""
    out = bytearray()
    _Writer(materialize_properties).write(out, value)
    return bytes(out)


def write_response(msg: ResponseMessage, *, materialize_properties: bool = True) -> bytes:
    """A response message (responses carry no mime prefix)."""
    w = _Writer(materialize_properties)
    out = bytearray([VERSION])
    if msg.request_id is None:
        out.append(0x01)
    else:
        out.append(0x00)
        out += msg.request_id.bytes
    out += _I32.pack(int(msg.code))
    if msg.message is None:
        out.append(0x01)
    else:
        out.append(0x00)
        _w_string_bare(out, msg.message)
    for m in (msg.attributes, msg.meta):
        out += _I32.pack(len(m))
        for k, v in m.items():
            w.write(out, k)
            w.write(out, v)
    if type(msg.data) is list:
        w.results(out, msg.data)
    else:
        w.write(out, msg.data)
    return bytes(out)
