"""Typed comparison of results with the expected values of a scenario.

Every value is turned into a *canonical key*: a hashable tuple that keeps the Gremlin type
(``('int', 1)`` is not ``('long', 1)``), identifies elements by id (as TinkerPop does), ignores
path labels and treats a map as the set of its entries. Unordered checks then compare multisets
of keys, ordered checks lists of keys.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import math
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

from server.structure import BigInt, Edge, Float32, Int8, Int16, Int64, Path, Property, Vertex, VertexProperty
from server.structure.values import INT32_MAX, INT32_MIN


def _element_id(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return ("num", int(value))
    return ("obj", canon(value))


def canon(value: Any) -> Any:
    """The canonical, type-preserving, hashable key of a result or expected value."""
    if value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, Int8):
        return ("byte", int(value))
    if isinstance(value, Int16):
        return ("short", int(value))
    if isinstance(value, Int64):
        return ("long", int(value))
    if isinstance(value, BigInt):
        return ("bigint", int(value))
    if isinstance(value, int):
        return ("int" if INT32_MIN <= value <= INT32_MAX else "long", int(value))
    if isinstance(value, Float32):
        return ("float", _float_key(float(value), single=True))
    if isinstance(value, float):
        return ("double", _float_key(value))
    if isinstance(value, decimal.Decimal):
        return ("decimal", value.normalize() if value.is_finite() else str(value))
    if isinstance(value, str):
        return ("str", str(value))
    if isinstance(value, Vertex):
        return ("v", _element_id(value.id))
    if isinstance(value, Edge):
        return ("e", _element_id(value.id))
    if isinstance(value, VertexProperty):
        return ("vp", _element_id(value.id))
    if isinstance(value, Property):
        return ("property", value.key, canon(value.value))
    if isinstance(value, Path):
        return ("path", tuple(canon(o) for o in value.objects))
    if isinstance(value, dict):
        return ("map", frozenset((canon(k), canon(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return ("list", tuple(canon(v) for v in value))
    if isinstance(value, (set, frozenset)):
        return ("set", frozenset(canon(v) for v in value))
    if isinstance(value, datetime.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
        return ("datetime", aware.astimezone(datetime.UTC))
    if isinstance(value, uuid.UUID):
        return ("uuid", value)
    if isinstance(value, enum.Enum):
        return ("token", type(value).__name__, value.value)
    if isinstance(value, datetime.timedelta):
        return ("duration", value)
    if isinstance(value, (bytes, bytearray)):
        return ("bytes", bytes(value))
    return ("other", type(value).__name__, repr(value))


def _float_key(value: float, *, single: bool = False) -> Any:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return value
    # Java's harness accepts doubles within 1e-15; 12 significant digits keeps that spirit while
    # making the key hashable. Float32 values are compared at single precision.
    return float(f"{value:.{7 if single else 12}g}")


def show(value: Any) -> str:
    """A compact, typed rendering for failure messages: ``1L``, ``1.5F``, ``v[1]``, ``{k: v}``."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{show(k)}: {show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(show(v) for v in value)) + "}"
    if isinstance(value, Path):
        return "path[" + ", ".join(show(v) for v in value.objects) + "]"
    if type(value) is int:
        return f"{value}i"
    if type(value) is float:
        return f"{value!r}d"
    return repr(value)


def compare(kind: str, actual: Sequence[Any], expected: Sequence[Any]) -> str | None:
    """``None`` when ``actual`` satisfies the check, else a one-line reason.

    ``kind``: ``unordered`` (same multiset), ``ordered`` (same sequence), ``of`` (every result
    is one of ``expected``), ``empty``.
    """
    got = [canon(v) for v in actual]
    want = [canon(v) for v in expected]
    if kind == "empty":
        return None if not got else f"expected no results, got {len(got)}: {_preview(actual)}"
    if kind == "ordered":
        if got == want:
            return None
        return f"expected in order {_preview(expected)}, got {_preview(actual)}"
    if kind == "unordered":
        if Counter(got) == Counter(want):
            return None
        missing = list((Counter(want) - Counter(got)).elements())
        extra = list((Counter(got) - Counter(want)).elements())
        return (
            f"expected {len(want)} results, got {len(got)}; missing {_preview_keys(missing, expected, want)}, "
            f"unexpected {_preview_keys(extra, actual, got)}"
        )
    if kind == "of":
        allowed = set(want)
        bad = [a for a, k in zip(actual, got, strict=True) if k not in allowed]
        return None if not bad else f"results not among the expected values: {_preview(bad)}"
    raise ValueError(f"unknown comparison {kind!r}")


def _preview(values: Sequence[Any], limit: int = 6) -> str:
    shown = ", ".join(show(v) for v in list(values)[:limit])
    more = f", ... ({len(values)} in all)" if len(values) > limit else ""
    return f"[{shown}{more}]"


def _preview_keys(keys: list[Any], values: Sequence[Any], all_keys: list[Any]) -> str:
    by_key = {}
    for value, key in zip(values, all_keys, strict=True):
        by_key.setdefault(key, value)
    return _preview([by_key[k] for k in keys])
