"""Gremlin comparison semantics for :class:`~server.store.interface.PropertyFilter`, in Python.

The reference (memory) backend filters with these functions, and SQL backends use them for the
parts of a filter their indexes cannot answer, so every backend agrees on what matches.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import uuid
from typing import Any

from server.store.interface import PropertyFilter
from server.structure.values import is_number


def comparable(a: Any, b: Any) -> bool:
    """True when Gremlin orders ``a`` against ``b``: numbers with numbers, strings with strings,
    booleans, datetimes and UUIDs with their own kind."""
    if is_number(a) and is_number(b):
        return not (_is_nan(a) or _is_nan(b))
    for kind in (str, bool, dt.datetime, uuid.UUID):
        if isinstance(a, kind) and isinstance(b, kind):
            return True
    return False


def values_equal(a: Any, b: Any) -> bool:
    """Gremlin equality: numbers by value across numeric types (NaN equals nothing), else ``==``
    with matching kinds (``True`` is not ``1``)."""
    if is_number(a) and is_number(b):
        if _is_nan(a) or _is_nan(b):
            return False
        return _num(a) == _num(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if is_number(a) or is_number(b):
        return False
    return bool(a == b)


def matches(flt: PropertyFilter, value: Any) -> bool:
    """Whether one property value satisfies the filter (``exists`` always does)."""
    op = flt.op
    if op == "exists":
        return True
    if op == "eq":
        return values_equal(value, flt.value)
    if op == "neq":
        return not values_equal(value, flt.value)
    if op == "within":
        return any(values_equal(value, v) for v in flt.value)
    if op == "without":
        return not any(values_equal(value, v) for v in flt.value)
    if not comparable(value, flt.value):
        return False
    a, b = (_num(value), _num(flt.value)) if is_number(value) else (value, flt.value)
    if op == "lt":
        return a < b
    if op == "lte":
        return a <= b
    if op == "gt":
        return a > b
    if op == "gte":
        return a >= b
    raise ValueError(f"unknown filter op {op!r}")


def _num(x: Any) -> Any:
    # Exact comparison across int / float / Decimal: Decimal compares exactly with both.
    if isinstance(x, float) and math.isfinite(x):
        return decimal.Decimal(x)
    return x


def _is_nan(x: Any) -> bool:
    return (isinstance(x, float) and math.isnan(x)) or (isinstance(x, decimal.Decimal) and x.is_nan())
