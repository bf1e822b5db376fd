"""Gremlin's value model, shared by the store, the engine and the serializers.

This package has no dependencies inside Seer: everything else may import it.
"""

from server.structure.elements import Edge, Element, Path, Property, Vertex, VertexProperty
from server.structure.tokens import (
    DT,
    Barrier,
    Cardinality,
    Column,
    Direction,
    GType,
    Merge,
    Operator,
    Order,
    Pick,
    Pop,
    Scope,
    T,
    WithOptions,
)
from server.structure.values import BigInt, Char, Float32, Int8, Int16, Int64, ValueType, value_type

__all__ = [
    "DT",
    "Barrier",
    "BigInt",
    "Cardinality",
    "Char",
    "Column",
    "Direction",
    "Edge",
    "Element",
    "Float32",
    "GType",
    "Int8",
    "Int16",
    "Int64",
    "Merge",
    "Operator",
    "Order",
    "Path",
    "Pick",
    "Pop",
    "Property",
    "Scope",
    "T",
    "ValueType",
    "Vertex",
    "VertexProperty",
    "WithOptions",
    "value_type",
]
