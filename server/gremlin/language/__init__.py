"""gremlin-lang: TinkerPop's script language (``Gremlin.g4``), parsed into the IR.

Contract: :func:`parse` turns script text such as ``g.V().has("name", "marko").out()`` into a
:class:`~server.gremlin.ir.Bytecode`; bare identifiers are parameters looked up in ``bindings``.
Errors are :class:`~server.gremlin.errors.GremlinSyntaxError` with a 1-based line and column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from server.gremlin.ir import Bytecode


def parse(script: str, bindings: Mapping[str, Any] | None = None) -> Bytecode:
    """Parse one gremlin-lang traversal."""
    raise NotImplementedError("the parser is being built (issue 3)")
