"""Java's hashCode() of Gremlin values and HashMap's iteration order (what group() reduces by)."""

from __future__ import annotations

import pytest

from server.gremlin.javahash import hashmap_order, java_hash
from server.structure.elements import Vertex
from server.structure.values import Float32, Int64


def _signed(h: int) -> int:
    return h - (1 << 32) if h >= 1 << 31 else h


@pytest.mark.parametrize(
    ("value", "java"),
    [
        ("", 0),
        ("person", -991716523),  # "person".hashCode() in Java
        ("software", 1319330215),
        ("hello", 99162322),
        ("\U0001f600", 1772899),  # outside the BMP: two UTF-16 units
        (True, 1231),
        (False, 1237),
        (7, 7),  # Integer
        (-1, -1),
        (Int64(5), 5),  # Long: the halves XORed
        (Int64(-1), 0),
        (Int64(1 << 32), 1),
        (1.0, 1072693248),  # Double.hashCode(1.0)
        (Float32(1.0), 1065353216),  # Float.hashCode(1.0f)
        (Vertex(1, "person"), 1),  # elements hash by their id
    ],
)
def test_java_hash_matches_java(value: object, java: int) -> None:
    assert _signed(java_hash(value)) == java


def test_hashmap_order_follows_buckets_then_insertion() -> None:
    # "person" lands in bucket 6 and "software" in bucket 4 of a 16-slot table
    assert hashmap_order(["person", "software"]) == [1, 0]
    # integers are their own hash: bucket = value mod 16, so 17 shares bucket 1 with 1 and follows it
    assert hashmap_order([17, 3, 1]) == [0, 2, 1]
    # thirteen keys make the table grow to 32: 16 and 0 no longer share a bucket
    keys = [16, *range(12)]
    assert hashmap_order(keys) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0]


def test_unknown_hash_keeps_no_order() -> None:
    assert java_hash(["a", "b"]) is None
    assert hashmap_order(["a", ("b",)]) is None
