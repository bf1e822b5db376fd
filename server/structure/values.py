"""Typed Gremlin scalars.

Python has one ``int`` and one ``float``; Gremlin has Byte, Short, Int, Long, BigInteger, Float,
Double and BigDecimal, and the type shows through on the wire (``d[1].i`` is not ``d[1].l``).
Seer keeps the type in the value itself:

=====================  ==============================  =========================================
Gremlin type           Python value                    note
=====================  ==============================  =========================================
Int (Int32)            ``int``                         a plain int is an Int32 when it fits
Long (Int64)           :class:`Int64` (int subclass)   what ``count()`` and generated ids return
Short / Byte           :class:`Int16` / :class:`Int8`
BigInteger             :class:`BigInt`
Double                 ``float``
Float                  :class:`Float32` (float subcl.)
BigDecimal             ``decimal.Decimal``
Boolean                ``bool``
String / Char          ``str`` / :class:`Char`
DateTime               ``datetime.datetime`` (aware)   OffsetDateTime in 3.8; naive means UTC
UUID                   ``uuid.UUID``
Duration               ``datetime.timedelta``
Binary (ByteBuffer)    ``bytes``
List / Set / Map       ``list`` / ``set``-like / ``dict``
null                   ``None``
=====================  ==============================  =========================================

The subclasses hash and compare like the plain Python number, so they work as dict keys; code that
does arithmetic must re-wrap results in the right type (``server.gremlin`` owns numeric promotion).
"""

from __future__ import annotations

import datetime as _dt
import decimal
import enum
import uuid
from typing import Any

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class Int64(int):
    """A Gremlin Long."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{int(self)}L"


class Int16(int):
    """A Gremlin Short."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{int(self)}S"


class Int8(int):
    """A Gremlin Byte (signed, -128..127)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{int(self)}B"


class BigInt(int):
    """A Gremlin BigInteger."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{int(self)}N"


class Float32(float):
    """A Gremlin Float (single precision); a plain ``float`` is a Double."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{float(self)}F"


class Char(str):
    """A Gremlin Char: a string of exactly one character."""

    __slots__ = ()


class ValueType(enum.IntEnum):
    """Stable codes for the value types a property may hold; the store persists these numbers."""

    NULL = 0
    BOOLEAN = 1
    BYTE = 2
    SHORT = 3
    INT = 4
    LONG = 5
    BIGINT = 6
    FLOAT = 7
    DOUBLE = 8
    BIGDECIMAL = 9
    STRING = 10
    CHAR = 11
    DATETIME = 12
    UUID = 13
    DURATION = 14
    BINARY = 15
    LIST = 20
    SET = 21
    MAP = 22


_EXACT: dict[type, ValueType] = {
    bool: ValueType.BOOLEAN,
    Int8: ValueType.BYTE,
    Int16: ValueType.SHORT,
    Int64: ValueType.LONG,
    BigInt: ValueType.BIGINT,
    Float32: ValueType.FLOAT,
    float: ValueType.DOUBLE,
    decimal.Decimal: ValueType.BIGDECIMAL,
    str: ValueType.STRING,
    Char: ValueType.CHAR,
    _dt.datetime: ValueType.DATETIME,
    uuid.UUID: ValueType.UUID,
    _dt.timedelta: ValueType.DURATION,
    bytes: ValueType.BINARY,
    list: ValueType.LIST,
    tuple: ValueType.LIST,
    set: ValueType.SET,
    frozenset: ValueType.SET,
    dict: ValueType.MAP,
    type(None): ValueType.NULL,
}


def value_type(value: Any) -> ValueType:
    """The Gremlin type of a Python value; a plain ``int`` is INT when it fits 32 bits, else LONG.

    Raises:
        TypeError: the value is not a Gremlin property value (e.g. a graph element).
    """
    kind = type(value)
    found = _EXACT.get(kind)
    if found is not None:
        return found
    if kind is int:
        return ValueType.INT if INT32_MIN <= value <= INT32_MAX else ValueType.LONG
    for base, code in _EXACT.items():  # subclasses of the builtins, e.g. an OrderedDict
        if isinstance(value, base) and base is not type(None):
            return code
    if isinstance(value, int):
        return ValueType.INT if INT32_MIN <= value <= INT32_MAX else ValueType.LONG
    raise TypeError(f"{kind.__name__} is not a Gremlin value type")


def is_number(value: Any) -> bool:
    """True for every Gremlin numeric type (bool is not a number in Gremlin)."""
    return isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)
