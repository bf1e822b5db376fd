"""The engine's front door: compile a :class:`~server.gremlin.ir.Bytecode` and run it.

Contract used by the protocol layer (``server.protocol``) and by ``gremlin_ext``:

- :meth:`GremlinEngine.execute` returns a *lazy* iterator of :class:`Traverser` (value + bulk).
  The caller pulls batches (64 by default) and may stop early; nothing is computed ahead of need
  beyond one internal batch. Element results (vertices, edges, vertex properties) come out with
  their properties loaded when ``options.materialize_properties == "all"``.
- All reads and writes go through the given :class:`~server.store.interface.GraphConnection`;
  the caller owns the transaction (commit / rollback), the engine never commits.
- Errors are :mod:`server.gremlin.errors` exceptions, raised from ``execute`` (compile errors) or
  from the iterator (run-time errors). The iterator checks ``options.deadline`` between batches and
  raises :class:`~server.gremlin.errors.EvaluationTimeout` once it has passed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from server.gremlin.ir import Bytecode
from server.store.interface import GraphConnection, GraphStore


@dataclasses.dataclass
class Traverser:
    """One result: ``value`` standing for ``bulk`` identical results."""

    value: Any
    bulk: int = 1


@dataclasses.dataclass
class ExecutionOptions:
    """Per-request options that change how a traversal runs."""

    deadline: float | None = None
    """``time.monotonic()`` value after which the traversal fails with EvaluationTimeout."""
    read_only: bool = False
    """Refuse every mutation (a read-only user, or ReadOnlyStrategy)."""
    materialize_properties: Literal["all", "tokens"] = "all"
    """``all``: elements carry their properties; ``tokens``: id and label only."""


class GremlinEngine:
    """Compiles and runs traversals against one store; shared by all requests (thread-safe)."""

    def __init__(self, store: GraphStore, *, extensions: Sequence[Any] = ()) -> None:
        self.store = store
        self.extensions = list(extensions)

    def execute(
        self, bytecode: Bytecode, conn: GraphConnection, options: ExecutionOptions | None = None
    ) -> Iterator[Traverser]:
        """Compile ``bytecode`` and return its lazy result stream."""
        raise NotImplementedError("the engine is being built (issue 3)")
