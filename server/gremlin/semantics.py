"""Gremlin value semantics: equality, comparability, orderability and numeric arithmetic.

Follows TinkerPop 3.8's rules (``semantics/*.feature``): numbers compare by value across numeric
types; comparing values of different kinds (a string with a number) is an *error* state that a
filter treats as false (``None`` here, a ternary boolean); ``order()`` uses a total order across
types (null < boolean < number < date < string < uuid < vertex < edge < vertex property <
property < path < set < list < map < anything else). Arithmetic keeps the widest operand type and
promotes on overflow (Int + Int that overflows becomes a Long), as TinkerPop's NumberHelper does.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import functools
import math
import uuid
from typing import Any

from server.gremlin.errors import GremlinTypeError
from server.structure import Edge, Path, Property, Vertex, VertexProperty
from server.structure.values import (
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    BigInt,
    Float32,
    Int8,
    Int16,
    Int64,
    is_number,
)

# -- numbers ---------------------------------------------------------------------------------

_RANK = {Int8: 0, Int16: 1, int: 2, Int64: 3, BigInt: 4, Float32: 5, float: 6, decimal.Decimal: 7}
_BY_RANK = {v: k for k, v in _RANK.items()}
_BOUNDS = {0: (-128, 127), 1: (-(2**15), 2**15 - 1), 2: (INT32_MIN, INT32_MAX), 3: (INT64_MIN, INT64_MAX)}


def num_rank(x: Any) -> int:
    """Position of x's numeric type in the promotion order (byte ... BigDecimal)."""
    t = type(x)
    r = _RANK.get(t)
    if r is not None:
        if t is int and not INT32_MIN <= x <= INT32_MAX:
            return 3
        return r
    if isinstance(x, bool) or not is_number(x):
        raise GremlinTypeError(f"{x!r} ({type(x).__name__}) is not a number")
    for base, rank in ((Int64, 3), (BigInt, 4), (Float32, 5), (int, 2), (float, 6)):
        if isinstance(x, base):
            return rank
    return 7


def wrap(value: Any, rank: int) -> Any:
    """``value`` as the numeric type of ``rank``, promoting integers that overflow it."""
    if rank <= 4:
        value = int(value)
        while rank < 4 and not (_BOUNDS[rank][0] <= value <= _BOUNDS[rank][1]):
            rank += 1
        cls = _BY_RANK[rank]
        return int(value) if cls is int else cls(value)
    if rank == 5:
        return Float32(value)
    if rank == 6:
        return float(value)
    return value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value))


def _operands(a: Any, b: Any) -> tuple[Any, Any, int]:
    ra, rb = num_rank(a), num_rank(b)
    rank = max(ra, rb)
    if rank == 7:
        return _dec(a), _dec(b), rank
    if rank >= 5:
        return float(a), float(b), rank
    return int(a), int(b), rank


def _dec(x: Any) -> decimal.Decimal:
    return x if isinstance(x, decimal.Decimal) else decimal.Decimal(str(x))


def add(a: Any, b: Any) -> Any:
    x, y, r = _operands(a, b)
    return wrap(x + y, r)


def sub(a: Any, b: Any) -> Any:
    x, y, r = _operands(a, b)
    return wrap(x - y, r)


def mul(a: Any, b: Any) -> Any:
    x, y, r = _operands(a, b)
    return wrap(x * y, r)


def div(a: Any, b: Any) -> Any:
    x, y, r = _operands(a, b)
    if r <= 4:
        if y == 0:
            raise GremlinTypeError("Division by zero")
        q = abs(x) // abs(y)
        return wrap(q if (x >= 0) == (y >= 0) else -q, r)
    if r == 7:
        if y == 0:
            raise GremlinTypeError("Division by zero")
        return x / y
    if y == 0:
        if x == 0 or math.isnan(x):
            return wrap(math.nan, r)
        return wrap(math.copysign(math.inf, x) * math.copysign(1, y), r)
    return wrap(x / y, r)


def num_min(a: Any, b: Any) -> Any:
    return a if compare_numbers(a, b) <= 0 else b


def num_max(a: Any, b: Any) -> Any:
    return a if compare_numbers(a, b) >= 0 else b


def is_nan(x: Any) -> bool:
    return (isinstance(x, float) and math.isnan(x)) or (isinstance(x, decimal.Decimal) and x.is_nan())


def _exact(x: Any) -> Any:
    if isinstance(x, float) and math.isfinite(x):
        return decimal.Decimal(x)
    return x


def compare_numbers(a: Any, b: Any) -> int:
    """-1/0/1 by value; NaN sorts above everything (orderability)."""
    na, nb = is_nan(a), is_nan(b)
    if na or nb:
        return (na > nb) - (na < nb)
    x, y = _exact(a), _exact(b)
    return (x > y) - (x < y)


# -- equality and comparability -----------------------------------------------------------------


def equals(a: Any, b: Any) -> bool:
    """Gremlin equality (``P.eq``): numbers by value (NaN equals nothing), containers deeply."""
    if a is None or b is None:
        return a is None and b is None
    if is_number(a):
        return is_number(b) and not is_nan(a) and not is_nan(b) and compare_numbers(a, b) == 0
    if is_number(b):
        return False
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(map(equals, a, b))
    if isinstance(a, dict):
        if not isinstance(b, dict) or len(a) != len(b):
            return False
        for k, v in a.items():
            found = _dict_get(b, k)
            if found is _MISSING or not equals(v, found):
                return False
        return True
    if isinstance(a, (set, frozenset)):
        if not isinstance(b, (set, frozenset)) or len(a) != len(b):
            return False
        return all(any(equals(x, y) for y in b) for x in a)
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if isinstance(a, Path) and isinstance(b, Path):
        return equals(a.objects, b.objects) and a.labels == b.labels
    return type(a) is type(b) and a == b or (isinstance(a, Vertex) and a == b)


_MISSING = object()


def _dict_get(d: dict, key: Any) -> Any:
    try:
        if key in d:
            return d[key]
    except TypeError:
        pass
    for k, v in d.items():
        if equals(k, key):
            return v
    return _MISSING


def _kind(x: Any) -> str | None:
    if is_number(x):
        return "num"
    if isinstance(x, bool):
        return "bool"
    if isinstance(x, str):
        return "str"
    if isinstance(x, dt.datetime):
        return "date"
    if isinstance(x, uuid.UUID):
        return "uuid"
    if isinstance(x, dt.timedelta):
        return "duration"
    if isinstance(x, (list, tuple)):
        return "list"
    return None


INTEGERS = frozenset({int, Int64, Int16, Int8, BigInt})
"""Integer classes (not bool): any two compare exactly as Python ints."""


def compare(a: Any, b: Any) -> int | None:
    """Comparability (``P.lt`` etc.): -1/0/1, or ``None`` when the values do not compare
    (different kinds, NaN, null)."""
    if type(a) in INTEGERS and type(b) in INTEGERS:  # the common case, without the kind checks
        return (a > b) - (a < b)
    if a is None or b is None:
        return 0 if a is None and b is None else None
    ka, kb = _kind(a), _kind(b)
    if ka is None or ka != kb:
        return None
    if ka == "num":
        if is_nan(a) or is_nan(b):
            return None
        return compare_numbers(a, b)
    if ka == "list":
        for x, y in zip(a, b, strict=False):
            c = compare(x, y)
            if c is None or c != 0:
                return c
        return (len(a) > len(b)) - (len(a) < len(b))
    if ka == "date":
        a, b = _aware(a), _aware(b)
    return (a > b) - (a < b)


def _aware(d: dt.datetime) -> dt.datetime:
    return d if d.tzinfo is not None else d.replace(tzinfo=dt.UTC)


# -- orderability ----------------------------------------------------------------------------------


def _order_class(x: Any) -> int:
    if isinstance(x, enum.Enum):
        return 4
    if x is None:
        return 0
    if isinstance(x, bool):
        return 1
    if is_number(x):
        return 2
    if isinstance(x, dt.datetime):
        return 3
    if isinstance(x, str):
        return 4
    if isinstance(x, uuid.UUID):
        return 5
    if isinstance(x, Vertex):
        return 6
    if isinstance(x, Edge):
        return 7
    if isinstance(x, VertexProperty):
        return 8
    if isinstance(x, Property):
        return 9
    if isinstance(x, Path):
        return 10
    if isinstance(x, (set, frozenset)):
        return 11
    if isinstance(x, (list, tuple)):
        return 12
    if isinstance(x, dict):
        return 13
    return 14


_NATIVE_NUMBERS = INTEGERS | {float, Float32}


def natively_ordered(values: list[Any]) -> bool:
    """Whether Python's own ``<`` orders ``values`` as :func:`order_compare` does, so that a sort
    can skip the comparison function: all numbers without NaN (Python compares ints and floats
    exactly, as :func:`compare_numbers` does), or all plain strings."""
    kinds = set(map(type, values))
    if kinds <= _NATIVE_NUMBERS:
        return all(v == v for v in values)  # NaN sorts above everything: not Python's way
    return kinds == {str}


def order_compare(a: Any, b: Any) -> int:
    """Total order used by ``order()``: never fails, mixes kinds by class rank."""
    ca, cb = _order_class(a), _order_class(b)
    if ca != cb:
        return (ca > cb) - (ca < cb)
    if ca == 0:
        return 0
    if ca == 2:
        return compare_numbers(a, b)
    if ca == 3:
        a, b = _aware(a), _aware(b)
        return (a > b) - (a < b)
    if ca == 4:
        a = a.value if isinstance(a, enum.Enum) else a
        b = b.value if isinstance(b, enum.Enum) else b
        return (a > b) - (a < b)
    if ca in (1, 5):
        return (a > b) - (a < b)
    if ca in (6, 7, 8):
        return order_compare(a.id, b.id)
    if ca == 9:
        c = order_compare(a.key, b.key)
        return c if c else order_compare(a.value, b.value)
    if ca == 10:
        return _seq_compare(a.objects, b.objects)
    if ca == 11:
        return _seq_compare(sorted(a, key=order_key), sorted(b, key=order_key))
    if ca == 12:
        return _seq_compare(a, b)
    if ca == 13:
        return _seq_compare(
            sorted(a.items(), key=lambda kv: order_key(kv[0])),
            sorted(b.items(), key=lambda kv: order_key(kv[0])),
        )
    return (str(a) > str(b)) - (str(a) < str(b))


def _seq_compare(a: Any, b: Any) -> int:
    for x, y in zip(a, b, strict=False):
        c = order_compare(x, y)
        if c:
            return c
    return (len(a) > len(b)) - (len(a) < len(b))


order_key = functools.cmp_to_key(order_compare)


# -- hashing for dedup / group keys ------------------------------------------------------------------


def hkey(x: Any) -> Any:
    """A hashable key under which Gremlin-equal values collide (1 and 1L and 1.0 share a key)."""
    if x is None or isinstance(x, (bool, str)):
        return (type(x).__name__ if isinstance(x, bool) else "", x)
    if is_number(x):
        if is_nan(x):
            return ("nan",)
        if isinstance(x, float) and math.isinf(x):
            return ("n", x)
        e = _exact(x)
        if isinstance(e, decimal.Decimal):
            return ("n", int(e)) if e == e.to_integral_value() else ("n", e.normalize())
        return ("n", int(e))
    if isinstance(x, (Vertex, Edge, VertexProperty)):
        return (type(x).__name__, hkey(x.id))
    if isinstance(x, (list, tuple)):
        return ("l", tuple(hkey(i) for i in x))
    if isinstance(x, (set, frozenset)):
        return ("s", frozenset(hkey(i) for i in x))
    if isinstance(x, dict):
        return ("m", frozenset((hkey(k), hkey(v)) for k, v in x.items()))
    if isinstance(x, Path):
        return ("p", tuple(hkey(o) for o in x.objects), tuple(map(frozenset, x.labels)))
    if isinstance(x, Property):
        return ("pr", x.key, hkey(x.value))
    try:
        hash(x)
        return x
    except TypeError:
        return ("r", repr(x))


def as_bool(x: Any) -> bool:
    """Truthiness used by filters on ``is``-less boolean results."""
    return bool(x)
