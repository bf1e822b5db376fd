"""The engine's front door: compile a :class:`~server.gremlin.ir.Bytecode` and run it.

Contract used by the protocol layer (``server.protocol``) and by ``gremlin_ext``:

- :meth:`GremlinEngine.execute` returns a *lazy* iterator of :class:`Traverser` (value + bulk).
  The caller pulls batches (64 by default) and may stop early; nothing is computed ahead of need
  beyond one internal batch. Element results (vertices, edges, vertex properties) come out with
  their properties loaded when ``options.materialize_properties == "all"``.
- All reads and writes go through the given :class:`~server.store.interface.GraphConnection`;
  the caller owns the transaction (commit / rollback), the engine never commits.
- Errors are :mod:`server.gremlin.errors` exceptions, raised from ``execute`` (compile errors) or
  from the iterator (run-time errors). The iterator checks ``options.deadline`` inside every step
  (and every repeat() iteration) and raises :class:`~server.gremlin.errors.EvaluationTimeout`
  once it has passed.

Extensions (see :mod:`server.gremlin.extensions`) add steps and strategies.
"""

from __future__ import annotations

import dataclasses
import gc
import itertools
from collections.abc import Iterator, Sequence
from typing import Any, Literal

import server.gremlin.steps  # noqa: F401  (registers the built-in steps)
from server.gremlin import strategies
from server.gremlin.compiler import FULL_PATH_STEPS, SIDE_EFFECT_STEPS, Compiler, shape, unbind
from server.gremlin.errors import GremlinArgumentError, GremlinError, UnknownStepError
from server.gremlin.ir import Bytecode, Strategy, StrategyClass
from server.gremlin.runtime import Context, Pipeline, Trav
from server.store.errors import ConflictError, StoreError
from server.store.interface import GraphConnection, GraphStore
from server.structure import Edge, Operator, Path, Vertex, VertexProperty


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


@dataclasses.dataclass
class CompiledTraversal:
    """What strategies see: the compiled root pipeline and the run's context (source options
    such as ``Neptune#ml.endpoint`` are in ``context.source_options``)."""

    pipeline: Pipeline
    context: Context

    @property
    def source_options(self) -> dict[str, Any]:
        return self.context.source_options

    def pipelines(self) -> list[Pipeline]:
        """The root pipeline and every child pipeline, for strategies that rewrite steps."""
        return strategies.walk_pipelines(self.pipeline)


GC_THRESHOLDS = (50_000, 50, 100)
"""Cyclic garbage collector thresholds while an engine exists (CPython's default: 700, 10, 10).

A multi-hop traversal allocates hundreds of thousands of short-lived traversers and path tuples
(none in reference cycles). With the default, a young-generation collection runs every 700
allocations and the older ones keep re-scanning the growing set of live traversers: 60% of the
CPU time of a shortest-path search on air-routes went to the collector. Reference counting
still frees everything at once; only cycles wait a little longer."""


def tune_gc() -> None:
    """Raise the collector's thresholds to :data:`GC_THRESHOLDS` (never lowers them)."""
    current = gc.get_threshold()
    if current[0] < GC_THRESHOLDS[0]:
        gc.set_threshold(*(max(a, b) for a, b in zip(current, GC_THRESHOLDS, strict=True)))


class GremlinEngine:
    """Compiles and runs traversals against one store; shared by all requests (thread-safe:
    every run has its own compiler and context)."""

    def __init__(
        self,
        store: GraphStore | None = None,
        *,
        extensions: Sequence[Any] = (),
        io_root: str | None = None,
    ) -> None:
        from server.gremlin.io import default_io_root

        tune_gc()
        self.store = store
        self.extensions = list(extensions)
        self.io_root = io_root if io_root is not None else default_io_root()
        """Folder that io() reads and writes under (None: io() is refused)."""

    def compile(
        self, bytecode: Bytecode, conn: GraphConnection, options: ExecutionOptions | None = None
    ) -> CompiledTraversal:
        """Compile ``bytecode`` and apply source instructions and strategies."""
        options = options or ExecutionOptions()
        ctx = Context(conn, options, self)
        compiler = Compiler(self)
        for ins in bytecode.source:
            self._source(ins.name, unbind(ins.args), ctx, compiler)
        pipe = compiler.compile(bytecode)
        if not pipe.steps:
            raise GremlinArgumentError("The traversal has no steps")
        info = shape(bytecode)  # one walk over the instructions answers the questions below
        ctx.full_paths = ctx.track_paths or info.uses(FULL_PATH_STEPS) or _ext_needs_paths(self, bytecode)
        ctx.track_paths = ctx.full_paths or info.reads_paths
        # side effects must see every traverser: no folding where a child hands them bulk-1 copies
        ctx.no_merge = info.uses(SIDE_EFFECT_STEPS) or (
            info.uses({"local"}) and info.uses(set(), {"groupCount", "group", "tree"})
        )
        if ctx.has_sack:
            ctx.bulk_enabled = ctx.bulk_enabled
        first = pipe.steps[0]
        if hasattr(first, "is_start"):
            first.is_start = True
        elif type(first).__name__ not in ("RepeatStep",):
            raise UnknownStepError(f"A traversal cannot start with {first.name}()")
        strategies.optimize(
            pipe, degree_counts=not ({"SubgraphStrategy", "PartitionStrategy"} & set(ctx.strategies))
        )
        strategies.apply(pipe, ctx)
        compiled = CompiledTraversal(pipe, ctx)
        for ext in self.extensions:
            for strat in getattr(ext, "strategies", lambda: [])() or []:
                strat(compiled)
        strategies.fuse(compiled.pipeline, ctx)
        return compiled

    def execute(
        self, bytecode: Bytecode, conn: GraphConnection, options: ExecutionOptions | None = None
    ) -> Iterator[Traverser]:
        """Compile ``bytecode`` and return its lazy result stream."""
        return itertools.chain.from_iterable(self.execute_batches(bytecode, conn, options))

    def execute_batches(
        self, bytecode: Bytecode, conn: GraphConnection, options: ExecutionOptions | None = None
    ) -> Iterator[list[Traverser]]:
        """Compile ``bytecode`` and return its lazy result stream a batch at a time (as the
        engine makes them): what the server streams, without a Python step per result."""
        compiled = self.compile(bytecode, conn, options)
        return self._results(compiled.pipeline, compiled.context)

    # -- source instructions ---------------------------------------------------------------------

    def _source(self, name: str, args: tuple, ctx: Context, compiler: Compiler) -> None:
        if name == "withStrategies":
            for s in args:
                if isinstance(s, StrategyClass):
                    s = Strategy(s.name)
                if not isinstance(s, Strategy):
                    raise GremlinArgumentError(f"withStrategies() takes strategies, got {s!r}")
                strategies.configure(ctx, s, compiler)
        elif name == "withoutStrategies":
            for s in args:
                n = getattr(s, "name", s)
                compiler.removed.add(n)
                ctx.strategies.pop(n, None)
                if n == "ReadOnlyStrategy":
                    ctx.read_only = bool(getattr(ctx.options, "read_only", False))
        elif name == "withSideEffect":
            key, value = args[0], args[1]
            if isinstance(value, set):
                value = set(value)
            elif isinstance(value, list):
                value = list(value)
            elif isinstance(value, dict):
                value = dict(value)
            ctx.side_effects[key] = value
            if len(args) > 2:
                ctx.side_effect_ops[key] = args[2]
        elif name == "withSack":
            ctx.has_sack = True
            ctx.sack_init = args[0]
            rest = list(args[1:])
            if len(rest) == 1 and isinstance(rest[0], Operator):
                ctx.sack_merge = rest[0]
            else:
                if rest:
                    ctx.sack_split = rest[0]
                if len(rest) > 1:
                    ctx.sack_merge = rest[1]
        elif name == "withBulk":
            ctx.bulk_enabled = bool(args[0]) if args else True
        elif name == "withPath":
            ctx.track_paths = True
        elif name == "with":
            ctx.source_options[args[0]] = args[1] if len(args) > 1 else True
        elif name in ("withComputer",):
            raise UnknownStepError("withComputer() (OLAP) is not supported by Seer")
        elif name == "tx":
            pass
        else:
            raise UnknownStepError(f"The source instruction {name}() is not known to this Gremlin engine")

    # -- results ---------------------------------------------------------------------------------

    def _results(self, pipe: Pipeline, ctx: Context) -> Iterator[list[Traverser]]:
        materialize = getattr(ctx.options, "materialize_properties", "all") == "all"
        try:
            for batch in pipe.run(iter([[]]), ctx):
                ctx.check()
                if materialize:
                    _materialize(ctx, batch)
                bulked = ctx.bulk_enabled
                out = [Traverser(t.value, t.bulk if bulked else 1) for t in batch if t.bulk > 0]
                if out:
                    yield out
        except ConflictError:
            raise  # the caller retries: the protocol answers 596 for it
        except StoreError as exc:
            raise GremlinError(str(exc)) from exc
        except RecursionError as exc:
            raise GremlinError("The traversal nests too deeply") from exc


_HOLDERS = (Vertex, Edge, Path, list, VertexProperty)
"""What :func:`_materialize` looks into."""


def _materialize(ctx: Context, batch: list[Trav]) -> None:
    """Load the properties of every element about to leave the engine, one call per kind."""
    els: list[Any] = []
    for t in batch:
        v = t.value
        if not isinstance(v, _HOLDERS):  # strings, numbers, maps: nothing to load (most results)
            continue
        if isinstance(v, (Vertex, Edge)) and v.properties is None:
            els.append(v)
        elif isinstance(v, Path):
            els.extend(o for o in v.objects if isinstance(o, (Vertex, Edge)) and o.properties is None)
        elif isinstance(v, list):
            els.extend(o for o in v if isinstance(o, (Vertex, Edge)) and o.properties is None)
        elif isinstance(v, VertexProperty) and v.properties is None:
            v.properties = []
    if els:
        uniq: dict[int, Any] = {id(e): e for e in els}
        ctx.load_properties(list(uniq.values()))


def _ext_needs_paths(engine: GremlinEngine, bytecode: Bytecode) -> bool:
    return any(getattr(ext, "needs_paths", lambda b: False)(bytecode) for ext in engine.extensions)
