"""PropertyFilter -> SQL. Each filter becomes ``owner IN (SELECT owner FROM props WHERE key = k AND
<narrowing>)``, answered from the ``(key, vnum)`` / ``(key, vidx)`` indexes.

The narrowing is exact where the columns allow it (strings, booleans, UUIDs, numbers below
2**53). Elsewhere it is a superset (numbers compared as doubles, long strings by prefix,
neq/without by key only) and the connection rechecks the candidates with
:func:`server.store.filters.matches`, so every backend agrees with the memory reference.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from typing import Any

import sqlalchemy as sa

from server.store.interface import PropertyFilter
from server.store.sql.codec import NUMERIC_TYPES, STRING_TYPES, sql_number
from server.store.sql.schema import VIDX_CHARS
from server.structure.values import ValueType, is_number

VT = ValueType
_EXACT_DOUBLE = 2**53
_LOOSE = {"lt": "lte", "gt": "gte", "lte": "lte", "gte": "gte"}


def condition(props: sa.Table, flt: PropertyFilter) -> tuple[sa.ColumnElement[bool], bool]:
    """``(where clause on props rows, exact)`` for one filter; ``exact`` False means recheck."""
    key = props.c.key == flt.key
    op = flt.op
    if op == "exists":
        return key, True
    if op in ("neq", "without"):
        return key, False
    if op == "eq":
        clause, exact = _equals(props, flt.value)
        return sa.and_(key, clause), exact
    if op == "within":
        parts = [_equals(props, v) for v in flt.value]
        if not parts:
            return sa.false(), True
        return sa.and_(key, sa.or_(*(c for c, _ in parts))), all(e for _, e in parts)
    if op in _LOOSE:
        clause, exact = _ordered(props, op, flt.value)
        return sa.and_(key, clause), exact
    raise ValueError(f"unknown filter op {op!r}")


def _equals(props: sa.Table, value: Any) -> tuple[sa.ColumnElement[bool], bool]:
    c = props.c
    if isinstance(value, bool):
        return sa.and_(c.vtype == int(VT.BOOLEAN), c.vnum == float(value)), True
    if is_number(value):
        if _is_nan(value):
            return sa.false(), True
        num = sql_number(value)
        return sa.and_(c.vtype.in_([int(t) for t in NUMERIC_TYPES]), c.vnum == num), _exact_number(value)
    if isinstance(value, str):
        clause = sa.and_(c.vtype.in_([int(t) for t in STRING_TYPES]), c.vidx == value[:VIDX_CHARS])
        return clause, len(value) <= VIDX_CHARS
    if isinstance(value, uuid.UUID):
        return sa.and_(c.vtype == int(VT.UUID), c.vstr == str(value)), True
    if isinstance(value, dt.datetime):
        return sa.and_(c.vtype == int(VT.DATETIME), c.vnum == sql_number(value)), False
    return sa.true(), False


def _ordered(props: sa.Table, op: str, value: Any) -> tuple[sa.ColumnElement[bool], bool]:
    c = props.c
    if isinstance(value, bool):
        return _compare(c.vnum, op, float(value)) & (c.vtype == int(VT.BOOLEAN)), True
    if is_number(value):
        if _is_nan(value):
            return sa.false(), True
        exact = _exact_number(value)
        column_op = op if exact else _LOOSE[op]
        clause = _compare(c.vnum, column_op, sql_number(value))
        return sa.and_(c.vtype.in_([int(t) for t in NUMERIC_TYPES]), clause), exact
    if isinstance(value, str):
        prefix = _compare(c.vidx, _LOOSE[op], value[:VIDX_CHARS])
        return sa.and_(c.vtype.in_([int(t) for t in STRING_TYPES]), prefix, _compare(c.vstr, op, value)), True
    if isinstance(value, uuid.UUID):
        return sa.and_(c.vtype == int(VT.UUID), _compare(c.vstr, op, str(value))), True
    if isinstance(value, dt.datetime):
        return sa.and_(c.vtype == int(VT.DATETIME), _compare(c.vnum, _LOOSE[op], sql_number(value))), False
    return sa.false(), True  # Gremlin orders no other kind of value


def _compare(column: sa.ColumnElement, op: str, value: Any) -> sa.ColumnElement[bool]:
    if op == "lt":
        return column < value
    if op == "lte":
        return column <= value
    if op == "gt":
        return column > value
    return column >= value


def _exact_number(value: Any) -> bool:
    """Whether comparing doubles gives the same answer as comparing the exact numbers."""
    return isinstance(value, (int, float)) and abs(value) < _EXACT_DOUBLE


def _is_nan(value: Any) -> bool:
    try:
        return math.isnan(value)
    except (TypeError, ValueError, OverflowError):
        return False
