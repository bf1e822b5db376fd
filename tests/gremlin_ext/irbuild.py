"""Test helper: gremlinpython traversals -> Seer's IR, the way the wire decoders deliver them."""

from __future__ import annotations

from typing import Any

from gremlin_python.process.graph_traversal import GraphTraversalSource
from gremlin_python.process.strategies import TraversalStrategy
from gremlin_python.process.traversal import Bytecode as PyBytecode
from gremlin_python.process.traversal import TraversalStrategies
from gremlin_python.structure.graph import Graph

from server.gremlin.ir import Bytecode, Instruction, Strategy

g = GraphTraversalSource(Graph(), TraversalStrategies())


def _arg(value: Any) -> Any:
    if isinstance(value, PyBytecode):
        return to_ir(value)
    if hasattr(value, "bytecode") and isinstance(value.bytecode, PyBytecode):
        return to_ir(value.bytecode)
    if isinstance(value, TraversalStrategy):
        return Strategy(value.strategy_name, {k: _arg(v) for k, v in value.configuration.items()})
    return value


def to_ir(bytecode: Any) -> Bytecode:
    bc = bytecode.bytecode if hasattr(bytecode, "bytecode") else bytecode
    return Bytecode(
        [Instruction(i[0], tuple(_arg(a) for a in i[1:])) for i in bc.source_instructions],
        [Instruction(i[0], tuple(_arg(a) for a in i[1:])) for i in bc.step_instructions],
    )
