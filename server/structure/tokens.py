"""Gremlin's enum tokens (T, Direction, Order, ...).

Each member's ``value`` is its Gremlin name as it appears in gremlin-lang and on the wire
(``Scope("global")``, ``Order("desc")``); Python keywords get a trailing underscore in the member
name (``Scope.global_``). Look a token up by its Gremlin name with ``Token(name)``.
"""

from __future__ import annotations

import enum


class _Token(enum.Enum):
    def __repr__(self) -> str:
        return f"{type(self).__name__}.{self.value}"

    @classmethod
    def from_name(cls, name: str):  # noqa: ANN206 - returns the subclass
        """The member whose Gremlin name is ``name``; raises ValueError naming the enum."""
        try:
            return cls(name)
        except ValueError:
            known = ", ".join(m.value for m in cls)
            raise ValueError(f"{name!r} is not a {cls.__name__} (expected one of {known})") from None


class T(_Token):
    id = "id"
    label = "label"
    key = "key"
    value = "value"


class Direction(_Token):
    OUT = "OUT"
    IN = "IN"
    BOTH = "BOTH"

    @classmethod
    def from_name(cls, name: str) -> Direction:
        aliases = {"from": "OUT", "from_": "OUT", "to": "IN"}
        return super().from_name(aliases.get(name, name))

    def opposite(self) -> Direction:
        return {Direction.OUT: Direction.IN, Direction.IN: Direction.OUT}.get(self, self)


class Order(_Token):
    asc = "asc"
    desc = "desc"
    shuffle = "shuffle"


class Scope(_Token):
    global_ = "global"
    local = "local"


class Column(_Token):
    keys = "keys"
    values = "values"


class Pop(_Token):
    first = "first"
    last = "last"
    all_ = "all"
    mixed = "mixed"


class Cardinality(_Token):
    single = "single"
    list_ = "list"
    set_ = "set"


class Merge(_Token):
    onCreate = "onCreate"
    onMatch = "onMatch"
    outV = "outV"
    inV = "inV"


class Operator(_Token):
    sum = "sum"
    minus = "minus"
    mult = "mult"
    div = "div"
    min = "min"
    max = "max"
    assign = "assign"
    and_ = "and"
    or_ = "or"
    addAll = "addAll"
    sumLong = "sumLong"


class Pick(_Token):
    any = "any"
    none = "none"
    unproductive = "unproductive"


class Barrier(_Token):
    normSack = "normSack"


class DT(_Token):
    second = "second"
    minute = "minute"
    hour = "hour"
    day = "day"


class GType(_Token):
    BIGDECIMAL = "BIGDECIMAL"
    BIGINT = "BIGINT"
    BINARY = "BINARY"
    BOOLEAN = "BOOLEAN"
    BYTE = "BYTE"
    CHAR = "CHAR"
    DATETIME = "DATETIME"
    DOUBLE = "DOUBLE"
    DURATION = "DURATION"
    EDGE = "EDGE"
    FLOAT = "FLOAT"
    GRAPH = "GRAPH"
    INT = "INT"
    LIST = "LIST"
    LONG = "LONG"
    MAP = "MAP"
    NULL = "NULL"
    NUMBER = "NUMBER"
    PATH = "PATH"
    PROPERTY = "PROPERTY"
    SET = "SET"
    SHORT = "SHORT"
    STRING = "STRING"
    TREE = "TREE"
    UUID = "UUID"
    VERTEX = "VERTEX"
    VPROPERTY = "VPROPERTY"


class WithOptions:
    """Keys and values of the ``with()`` modulator options (not an enum on the wire: plain values)."""

    tokens = "~tinkerpop.valueMap.tokens"
    none = 0
    ids = 1
    labels = 2
    keys = 4
    values = 8
    all = 15
    indexer = "~tinkerpop.index.indexer"
    list = 0
    map = 1


TOKEN_TYPES: dict[str, type[_Token]] = {
    cls.__name__: cls
    for cls in (
        T,
        Direction,
        Order,
        Scope,
        Column,
        Pop,
        Cardinality,
        Merge,
        Operator,
        Pick,
        Barrier,
        DT,
        GType,
    )
}
"""Token classes by their Gremlin class name, for the parser and the deserializers."""
