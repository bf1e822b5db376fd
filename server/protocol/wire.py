"""Helpers both serializers share when they turn wire values into the engine's IR."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.gremlin.ir import Bytecode, CardinalityValue, GremlinClass, Instruction, Strategy, StrategyClass


def strategy_name(fqcn: str) -> str:
    """``org.apache...decoration.OptionsStrategy`` -> ``OptionsStrategy``."""
    return fqcn.rsplit(".", 1)[-1]


def hashable(value: Any) -> Any:
    """A value usable as a dict key or set member: lists become tuples, sets frozensets,
    maps tuples of pairs (Gremlin allows any value as a map key)."""
    if isinstance(value, list):
        return tuple(hashable(v) for v in value)
    if isinstance(value, set):
        return frozenset(hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple((hashable(k), hashable(v)) for k, v in value.items())
    return value


def bytecode_from_wire(
    source: Sequence[tuple[str, Sequence[Any]]], steps: Sequence[tuple[str, Sequence[Any]]]
) -> Any:
    """Build the IR from decoded instructions.

    Two wire idioms are normalised here: ``CardinalityValue.list_(x)`` travels as a bytecode
    holding only the source instruction ``CardinalityValueTraversal(cardinality, value)``, and
    the arguments of ``withoutStrategies`` arrive as classes (GraphBinary) or as
    strategy-shaped objects (GraphSON); both become :class:`StrategyClass`.
    """
    if not steps and len(source) == 1 and source[0][0] == "CardinalityValueTraversal":
        args = source[0][1]
        if len(args) == 2:
            return CardinalityValue(args[0], args[1])
    bc = Bytecode()
    for name, args in source:
        if name == "withoutStrategies":
            args = tuple(_strategy_class(a) for a in args)
        bc.source.append(Instruction(name, tuple(args)))
    for name, args in steps:
        bc.steps.append(Instruction(name, tuple(args)))
    return bc


def _strategy_class(arg: Any) -> Any:
    if isinstance(arg, GremlinClass):
        return StrategyClass(strategy_name(arg.name))
    if isinstance(arg, Strategy):
        return StrategyClass(arg.name)
    return arg
