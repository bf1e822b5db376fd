"""gremlinpython helpers for the protocol tests: build requests the way the driver does."""

from __future__ import annotations

import uuid
from typing import Any

from gremlin_python.driver.request import RequestMessage
from gremlin_python.driver.serializer import GraphBinarySerializersV1, GraphSONSerializersV3d0
from gremlin_python.process.graph_traversal import GraphTraversalSource
from gremlin_python.process.traversal import TraversalStrategies
from gremlin_python.structure.graph import Graph

GB = GraphBinarySerializersV1()
GS = GraphSONSerializersV3d0()


def source() -> GraphTraversalSource:
    """A traversal source that only builds bytecode."""
    return GraphTraversalSource(Graph(), TraversalStrategies())


def frame(
    serializer: Any, op: str, args: dict[str, Any], processor: str = "traversal", rid: str = ""
) -> bytes:
    """The exact bytes gremlinpython sends for a request (mime prefix included)."""
    rid = rid or str(uuid.uuid4())
    if serializer is GB:  # exactly these args (the driver's processors would add aliases, refuse ops)
        return serializer.build_message(rid, processor, op, args)
    return serializer.serialize_message(rid, RequestMessage(processor, op, args))


def payload(data: bytes) -> bytes:
    """The frame without its mime prefix."""
    return data[1 + data[0] :]
