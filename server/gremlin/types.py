"""``P.typeOf(GType.X)``: which Python values count as which Gremlin type."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

from server.gremlin.errors import GremlinArgumentError
from server.structure import Edge, GType, Path, Property, Vertex, VertexProperty
from server.structure.values import BigInt, Char, Float32, Int8, Int16, Int64, is_number, value_type
from server.structure.values import ValueType as VT

_BY_VALUE_TYPE = {
    VT.BOOLEAN: GType.BOOLEAN,
    VT.BYTE: GType.BYTE,
    VT.SHORT: GType.SHORT,
    VT.INT: GType.INT,
    VT.LONG: GType.LONG,
    VT.BIGINT: GType.BIGINT,
    VT.FLOAT: GType.FLOAT,
    VT.DOUBLE: GType.DOUBLE,
    VT.BIGDECIMAL: GType.BIGDECIMAL,
    VT.STRING: GType.STRING,
    VT.CHAR: GType.CHAR,
    VT.DATETIME: GType.DATETIME,
    VT.UUID: GType.UUID,
    VT.DURATION: GType.DURATION,
    VT.BINARY: GType.BINARY,
    VT.LIST: GType.LIST,
    VT.SET: GType.SET,
    VT.MAP: GType.MAP,
    VT.NULL: GType.NULL,
}

_NAMES = {
    "String": GType.STRING,
    "Integer": GType.INT,
    "Long": GType.LONG,
    "Double": GType.DOUBLE,
    "Float": GType.FLOAT,
    "Boolean": GType.BOOLEAN,
    "Short": GType.SHORT,
    "Byte": GType.BYTE,
}


def gtype_of(v: Any) -> GType | None:
    """The GType of a value (None when it has none, e.g. an unknown object)."""
    from server.gremlin.runtime import BulkSet
    from server.gremlin.steps.sideeffect import Subgraph, Tree

    if isinstance(v, Tree):
        return GType.TREE
    if isinstance(v, BulkSet):
        return GType.SET
    if isinstance(v, Subgraph):
        return GType.GRAPH
    if isinstance(v, Vertex):
        return GType.VERTEX
    if isinstance(v, Edge):
        return GType.EDGE
    if isinstance(v, VertexProperty):
        return GType.VPROPERTY
    if isinstance(v, Property):
        return GType.PROPERTY
    if isinstance(v, Path):
        return GType.PATH
    try:
        return _BY_VALUE_TYPE.get(value_type(v))
    except TypeError:
        return None


def type_matches(value: Any, wanted: Any) -> bool:
    if isinstance(wanted, str):
        found = _NAMES.get(wanted)
        if found is None:
            try:
                found = GType(wanted.upper())
            except ValueError:
                raise GremlinArgumentError(f"{wanted!r} is not a known type name") from None
        wanted = found
    if not isinstance(wanted, GType):
        raise GremlinArgumentError(f"typeOf() needs a GType, got {wanted!r}")
    if wanted is GType.NUMBER:
        return is_number(value)
    return gtype_of(value) is wanted


_ = (dt, decimal, uuid, BigInt, Char, Float32, Int8, Int16, Int64)
