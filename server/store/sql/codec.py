"""Gremlin values <-> SQL columns: ids (``id_num``/``id_str``/``id_type``) and property values
(``vtype``/``vnum``/``vstr``/``vidx``). See :mod:`server.store.sql.schema` for the layout."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
import uuid
from typing import Any

from server.store.errors import InvalidValue
from server.store.sql.schema import VIDX_CHARS
from server.structure.values import (
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    BigInt,
    Char,
    Float32,
    Int8,
    Int16,
    Int64,
    ValueType,
    value_type,
)

VT = ValueType
NUMERIC_TYPES = (VT.BYTE, VT.SHORT, VT.INT, VT.LONG, VT.BIGINT, VT.FLOAT, VT.DOUBLE, VT.BIGDECIMAL)
STRING_TYPES = (VT.STRING, VT.CHAR)
_INT_CLASSES = {VT.BYTE: Int8, VT.SHORT: Int16, VT.INT: int, VT.LONG: Int64, VT.BIGINT: BigInt}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_STRING, _INT, _DOUBLE = int(VT.STRING), int(VT.INT), int(VT.DOUBLE)

# -- ids ---------------------------------------------------------------------------------------

IdColumns = tuple[int | None, str | None, int]


def encode_id(id: Any) -> IdColumns:
    """``(id_num, id_str, id_type)`` of a user-supplied id.

    Raises:
        InvalidValue: not an integer (within 64 bits), a string or a UUID.
    """
    kind = type(id)
    if kind is str:  # the common case first: loaders call this a million times
        return None, id, _STRING
    if isinstance(id, bool):
        raise InvalidValue(f"{id!r} (boolean) cannot be an element id")
    if isinstance(id, int):
        if not INT64_MIN <= id <= INT64_MAX:
            raise InvalidValue(f"id {id} does not fit in 64 bits")
        kind = value_type(id)
        return int(id), None, int(kind if kind in _INT_CLASSES else VT.LONG)
    if isinstance(id, str):
        return None, str(id), int(VT.STRING)
    if isinstance(id, uuid.UUID):
        return None, str(id), int(VT.UUID)
    raise InvalidValue(
        f"{type(id).__name__} {id!r} cannot be an element id (use an integer, a string or a UUID)"
    )


def try_encode_id(id: Any) -> IdColumns | None:
    """Like :func:`encode_id`, but None for values that can never be ids (lookups find nothing)."""
    try:
        return encode_id(id)
    except InvalidValue:
        return None


def decode_id(id_num: int | None, id_str: str | None, id_type: int) -> Any:
    if id_num is not None:
        return _INT_CLASSES.get(id_type, Int64)(id_num)  # IntEnum keys: a plain int finds them
    if id_type == VT.UUID:
        return uuid.UUID(id_str)
    return id_str


# -- property values ---------------------------------------------------------------------------

ValueColumns = tuple[int, float | None, str | None, str | None]


def encode_value(value: Any) -> ValueColumns:
    """``(vtype, vnum, vstr, vidx)`` of a property value.

    Raises:
        InvalidValue: ``None`` or a value that is not a Gremlin property value.
    """
    plain = type(value)
    if plain is str:  # fast paths for what bulk loads are made of
        return _STRING, None, value, value[:VIDX_CHARS]
    if plain is int and INT32_MIN <= value <= INT32_MAX:
        return _INT, float(value), str(value), None
    if plain is float and value == value:
        return _DOUBLE, value, repr(value), None
    if value is None:
        raise InvalidValue("a property value cannot be null")
    try:
        kind = value_type(value)
    except TypeError as exc:
        raise InvalidValue(f"{value!r} cannot be a property value: {exc}") from None
    if kind in STRING_TYPES:
        return int(kind), None, value, value[:VIDX_CHARS]
    if kind in _INT_CLASSES:
        return int(kind), _float(value), str(int(value)), None
    if kind in (VT.FLOAT, VT.DOUBLE):
        f = float(value)
        return int(kind), (None if math.isnan(f) else f), repr(f), None
    if kind is VT.BOOLEAN:
        return int(kind), float(value), None, None
    if kind is VT.BIGDECIMAL:
        return int(kind), (None if value.is_nan() else _float(value)), str(value), None
    if kind is VT.DATETIME:
        return int(kind), _timestamp(value), value.isoformat(), None
    if kind is VT.UUID:
        return int(kind), None, str(value), None
    if kind is VT.DURATION:
        return int(kind), value.total_seconds(), f"{value.days},{value.seconds},{value.microseconds}", None
    if kind is VT.BINARY:
        return int(kind), None, base64.b64encode(bytes(value)).decode("ascii"), None
    if kind in (VT.LIST, VT.SET, VT.MAP):
        return int(kind), None, json.dumps(_to_json(value), separators=(",", ":")), None
    raise InvalidValue(f"{value!r} cannot be a property value")


def decode_value(vtype: int, vnum: float | None, vstr: str | None) -> Any:
    if vtype == _STRING:  # the common case first, without an enum lookup
        return vstr
    kind = VT(vtype)
    if kind is VT.STRING:
        return vstr
    if kind is VT.CHAR:
        return Char(vstr)
    cls = _INT_CLASSES.get(kind)
    if cls is not None:
        return cls(int(vstr))
    if kind is VT.DOUBLE:
        return float(vstr)
    if kind is VT.FLOAT:
        return Float32(vstr)
    if kind is VT.BOOLEAN:
        return bool(vnum)
    if kind is VT.BIGDECIMAL:
        return decimal.Decimal(vstr)
    if kind is VT.DATETIME:
        return dt.datetime.fromisoformat(vstr)
    if kind is VT.UUID:
        return uuid.UUID(vstr)
    if kind is VT.DURATION:
        days, seconds, micros = map(int, vstr.split(","))
        return dt.timedelta(days=days, seconds=seconds, microseconds=micros)
    if kind is VT.BINARY:
        return base64.b64decode(vstr)
    if kind in (VT.LIST, VT.SET, VT.MAP):
        return _from_json([int(kind), json.loads(vstr)])
    raise InvalidValue(f"unknown stored value type {vtype}")


def sql_number(value: Any) -> float:
    """The double a number (or datetime/duration) is compared by in SQL."""
    if isinstance(value, dt.datetime):
        return _timestamp(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return _float(value)


def _float(value: Any) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _timestamp(value: dt.datetime) -> float:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return (aware - _EPOCH).total_seconds()


# Collections are stored as typed JSON: every item is [vtype, payload], so that an Int64 inside a
# list comes back an Int64. Maps are lists of [key, value] pairs because keys need not be strings.


def _to_json(value: Any) -> Any:
    kind = value_type(value)
    if kind is VT.MAP:
        return [[_item(k), _item(v)] for k, v in value.items()]
    return [_item(v) for v in value]


def _item(value: Any) -> list:
    if value is None:
        return [int(VT.NULL), None]
    kind, vnum, vstr, _ = encode_value(value)
    if kind in (VT.LIST, VT.SET, VT.MAP):
        return [kind, _to_json(value)]
    return [kind, vstr if vstr is not None else vnum]


def _from_json(item: list) -> Any:
    kind, payload = VT(item[0]), item[1]
    if kind is VT.NULL:
        return None
    if kind is VT.LIST:
        return [_from_json(x) for x in payload]
    if kind is VT.SET:
        members = [_from_json(x) for x in payload]
        try:
            return set(members)
        except TypeError:  # unhashable members (lists, maps): keep them, in order
            return members
    if kind is VT.MAP:
        return {_hashable(_from_json(k)): _from_json(v) for k, v in payload}
    if kind is VT.BOOLEAN:
        return decode_value(kind, payload, None)
    return decode_value(kind, None, payload)


def _hashable(key: Any) -> Any:
    if isinstance(key, list):
        return tuple(key)
    if isinstance(key, set):
        return frozenset(key)
    return key
