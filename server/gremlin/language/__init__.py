"""gremlin-lang: TinkerPop's script language (``Gremlin.g4``), parsed into the IR.

Contract: :func:`parse` turns script text such as ``g.V().has("name", "marko").out()`` into a
:class:`~server.gremlin.ir.Bytecode`; bare identifiers are parameters looked up in ``bindings``.
Errors are :class:`~server.gremlin.errors.GremlinSyntaxError` with a 1-based line and column;
lambdas and Groovy closures raise :class:`~server.gremlin.errors.LambdaNotSupported`.

The bytecode is what gremlinpython would send for the same traversal: Gremlin's camelCase step
names, ``g.with(k, v)`` as an ``OptionsStrategy`` in ``withStrategies``, the step modulator
``.with(k[, v])`` as a ``with`` step, child traversals as nested :class:`Bytecode`, numeric
suffixes as the typed values of :mod:`server.structure.values` (``1L`` -> ``Int64(1)``, ``1.0f``
-> ``Float32``, ``1m`` -> ``Decimal``, ``1n`` -> ``BigInt``; a bare integer is an Int32 when it fits,
a bare decimal a Double).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from server.gremlin.ir import Bytecode
from server.gremlin.language.parser import Parser


def parse(script: str, bindings: Mapping[str, Any] | None = None) -> Bytecode:
    """Parse one gremlin-lang traversal (``g....`` or an anonymous ``__....``)."""
    return Parser(script, bindings).parse_query()


__all__ = ["parse"]
