"""Java's ``hashCode()`` of Gremlin values and ``java.util.HashMap``'s iteration order.

Gremlin Server's ``group()`` keeps its groups in a ``HashMap`` and runs the value traversal of
each group in that map's order. The order is invisible unless the value traversals draw from a
shared generator (``sample()`` under ``SeedStrategy``) or have side effects; then the TinkerPop
suite's expected results follow it. :func:`hashmap_order` gives that order for keys whose Java
hash is known (:func:`java_hash`), so seeded runs draw for the same group first.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from server.structure.elements import Element
from server.structure.values import BigInt, Float32, Int64

_INT_MASK = 0xFFFFFFFF
_DEFAULT_CAPACITY, _LOAD_FACTOR = 16, 0.75


def _string_hash(text: str) -> int:
    """``String.hashCode``: ``s[0]*31^(n-1) + ... + s[n-1]`` over UTF-16 code units."""
    units = text.encode("utf-16-be")
    h = 0
    for i in range(0, len(units), 2):
        h = (31 * h + (units[i] << 8 | units[i + 1])) & _INT_MASK
    return h


def _long_hash(bits: int) -> int:
    """``Long.hashCode``: the two halves of the 64-bit value XORed."""
    bits &= 0xFFFFFFFFFFFFFFFF
    return (bits ^ (bits >> 32)) & _INT_MASK


def java_hash(value: Any) -> int | None:
    """The unsigned 32-bit ``hashCode()`` Java computes for ``value`` (strings, booleans, the
    integer and floating types, vertices and edges by their id); None when it is not known here."""
    if isinstance(value, bool):
        return 1231 if value else 1237
    if isinstance(value, str):
        return _string_hash(value)
    if isinstance(value, BigInt):
        return None
    if isinstance(value, Int64):
        return _long_hash(value)
    if isinstance(value, int):  # Integer, Short, Byte: the value itself
        return value & _INT_MASK
    if isinstance(value, Float32):
        return struct.unpack(">I", struct.pack(">f", value))[0]
    if isinstance(value, float):
        return _long_hash(struct.unpack(">Q", struct.pack(">d", value))[0])
    if isinstance(value, Element):  # TinkerPop elements hash by their id
        return java_hash(value.id)
    return None


def hashmap_order(keys: Sequence[Any]) -> list[int] | None:
    """Positions of ``keys`` (distinct, in insertion order) in the order a ``java.util.HashMap``
    built by inserting them iterates: by bucket (the spread hash modulo a table of 16 doubled
    while more than 3/4 full), insertion order within a bucket. None when a key's hash is unknown."""
    hashes = [java_hash(k) for k in keys]
    if any(h is None for h in hashes):
        return None
    capacity = _DEFAULT_CAPACITY
    while len(keys) > capacity * _LOAD_FACTOR:
        capacity *= 2
    buckets = [(h ^ (h >> 16)) & (capacity - 1) for h in hashes]  # type: ignore[operator]
    return sorted(range(len(keys)), key=lambda i: (buckets[i], i))
