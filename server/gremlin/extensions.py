"""The engine's extension API: how ``gremlin_ext`` (Neptune ML) adds steps and strategies.

An extension is any object with some of these members (all optional)::

    class MyExtension(EngineExtension):
        name = "my-ext"
        strategy_names = {"MyStrategy"}        # accepted in withStrategies(...)

        def steps(self) -> dict[str, StepBuilder]:
            # step name -> builder(compiler, args) -> Step; replaces a built-in of that name
            return {"predict": lambda compiler, args: PredictStep(*args)}

        def strategies(self) -> list[Callable[[CompiledTraversal], None]]:
            # called after compilation, in order, with the whole compiled traversal
            return [rewrite_ml_steps]

Register it with ``GremlinEngine(store, extensions=[MyExtension()])``.

**Strategies** receive a :class:`~server.gremlin.engine.CompiledTraversal`:

- ``compiled.source_options``: the source-level options, e.g. ``g.with_("Neptune#ml.endpoint",
  "ep")`` arrives as an OptionsStrategy and shows up here as ``{"Neptune#ml.endpoint": "ep"}``.
- ``compiled.pipelines()``: the root pipeline and every child pipeline. Each has a mutable
  ``steps`` list; a strategy inspects ``step.name``, ``step.with_options`` (the step's
  ``.with_(key, value)`` modulators, e.g. ``{"Neptune#ml.prediction": True}``), ``step.labels``
  and ``step.bys``, and replaces steps in place (``pipe.steps[i] = MyStep(...)``).
- ``compiled.context``: the run's :class:`~server.gremlin.runtime.Context` (connection, options,
  side effects). A strategy may raise any :mod:`server.gremlin.errors` exception.

**Steps** subclass :class:`~server.gremlin.runtime.Step` and implement the same batched
interface as the built-in ones: ``process(batch, ctx) -> list[Trav]`` receives a list of
traversers and must answer for all of them with as few external calls as possible (one
inference request per batch for ML steps). ``Trav.split(value, ctx)`` makes the traverser that
moved on to ``value`` (keeping paths and bulks right); ``ctx.load_properties(elements, keys)``
loads properties in one store call; ``ctx.check()`` raises EvaluationTimeout past the deadline.
A step that must see every traverser before emitting overrides ``apply(batches, ctx)`` instead
and sets ``streamable = False``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from server.gremlin.runtime import Context, Pipeline, Step, Trav

if TYPE_CHECKING:
    from server.gremlin.engine import CompiledTraversal

StepBuilder = Callable[[Any, tuple], Step]
"""``builder(compiler, args) -> Step``; ``compiler.child(bytecode)`` compiles a child traversal."""


class EngineExtension:
    """Base class with empty defaults; subclass it and override what you need."""

    name = "extension"
    strategy_names: frozenset[str] = frozenset()

    def steps(self) -> dict[str, StepBuilder]:
        return {}

    def strategies(self) -> list[Callable[[CompiledTraversal], None]]:
        return []


def replace_steps(
    compiled: CompiledTraversal, match: Callable[[Step], bool], make: Callable[[Step], Step]
) -> int:
    """Replace every step (children included) for which ``match`` is true by ``make(step)``,
    keeping its ``as()`` labels. Returns how many were replaced."""
    count = 0
    for pipe in compiled.pipelines():
        for i, s in enumerate(pipe.steps):
            if match(s):
                new = make(s)
                new.labels |= s.labels
                pipe.steps[i] = new
                count += 1
    return count


__all__ = ["Context", "EngineExtension", "Pipeline", "Step", "StepBuilder", "Trav", "replace_steps"]
