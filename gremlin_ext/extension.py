"""The engine extension: turns compiled ``out()/in()/properties()`` steps that carry
``Neptune#ml.*`` modulators into :class:`MLStep`, which makes one inference call per batch.

It plugs into :class:`server.gremlin.engine.GremlinEngine` through the extension API: the engine
compiles the traversal as usual (``with`` modulators land in ``step.with_options``, ``g.with_()``
options in ``context.source_options``) and then calls :meth:`NeptuneMLExtension.strategies`,
whose strategy rewrites every pipeline (children included, so ML steps work inside ``repeat()``,
``by()``, ``union()``...). Where the predictors come from is the server's business: it hands
the extension a :class:`PredictorSource`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from gremlin_ext.backend import InferenceBackend
from gremlin_ext.errors import MissingParameterException
from gremlin_ext.execute import ContextBuilder, StepRun, run_step
from gremlin_ext.options import MLOptions, parse_options, step_options
from gremlin_ext.plan import ML_STEP, MLStepSpec, spec_for
from server.gremlin.extensions import EngineExtension
from server.gremlin.ir import Instruction, P
from server.gremlin.runtime import Context, Pipeline, Step, Trav
from server.gremlin.steps.filter import HasStep
from server.gremlin.steps.flatmap import PropertiesStep, VertexStep
from server.structure import Edge, Vertex


class PredictorSource(Protocol):
    """Finds the model behind an endpoint name (endpoint id, training job id, URL)."""

    def backend(self, endpoint: str, *, reload: bool = False) -> InferenceBackend:
        """The inference backend of ``endpoint``; raises
        :class:`~gremlin_ext.errors.BadRequestException` when there is none."""
        ...


class MLStep(Step):
    """A Neptune ML step: one batched inference call for every traverser of a batch."""

    name = ML_STEP
    path_extending = True

    def __init__(self, spec: MLStepSpec, extension: NeptuneMLExtension) -> None:
        super().__init__()
        self.spec = spec
        self.extension = extension

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        run = self.extension.step_run(self.spec, ctx)
        # Equal elements are asked about once (bulked traversers, repeat() revisiting a vertex).
        unique: dict[tuple[str, Any], Any] = {}
        for t in batch:
            v = t.value
            if isinstance(v, (Vertex, Edge)):
                unique.setdefault((type(v).__name__, v.id), v)
        elements = list(unique.values())
        answers = dict(zip(unique, run_step(run, elements), strict=True)) if elements else {}
        out: list[Trav] = []
        for t in batch:
            v = t.value
            if not isinstance(v, (Vertex, Edge)):
                continue
            for value in answers.get((type(v).__name__, v.id), ()):
                out.append(t.split(value, ctx))
        return out

    def __repr__(self) -> str:
        return f"MLStep({self.spec.describe()})"


def _as_instruction(step: Step) -> tuple[str, tuple[Any, ...]]:
    """The step instruction a compiled step came from (for the checks in :func:`spec_for`)."""
    if isinstance(step, VertexStep):
        return step.name, tuple(step.edge_labels or ())
    if isinstance(step, PropertiesStep):
        return step.name, tuple(step.keys or ())
    return getattr(step, "name", type(step).__name__), ()


def _has_label_instruction(step: Step | None) -> Instruction | None:
    """``hasLabel(labels...)`` when ``step`` is exactly that, else a stand-in naming the step."""
    if step is None:
        return None
    if isinstance(step, HasStep) and len(step.conds) == 1 and step.conds[0][0] == "label":
        predicate = step.conds[0][1]
        if isinstance(predicate, P) and predicate.name == "eq":
            return Instruction("hasLabel", predicate.args)
        if isinstance(predicate, P) and predicate.name == "within":
            args = (
                predicate.args[0]
                if len(predicate.args) == 1 and isinstance(predicate.args[0], (list, tuple))
                else predicate.args
            )
            return Instruction("hasLabel", tuple(args))
        return Instruction("hasLabel", (predicate,))
    return Instruction(getattr(step, "name", type(step).__name__), ())


class NeptuneMLExtension(EngineExtension):
    """``GremlinEngine(store, extensions=[NeptuneMLExtension(source)])``."""

    name = "neptune-ml"

    def __init__(
        self,
        predictors: PredictorSource,
        *,
        default_endpoint: str | None = None,
        build_contexts: ContextBuilder | None = None,
    ) -> None:
        self.predictors = predictors
        self.default_endpoint = default_endpoint
        if build_contexts is None:
            from gremlin_ext.context import build_contexts as default_builder

            build_contexts = default_builder
        self.build_contexts = build_contexts

    # -- the engine's extension API -------------------------------------------------------------

    def strategies(self) -> list[Callable[[Any], None]]:
        return [self.rewrite]

    def rewrite(self, compiled: Any) -> None:
        """Replace the Neptune ML steps of every pipeline of ``compiled``."""
        source = parse_options(compiled.source_options)  # validates g.with_() options up front
        found = False
        for pipe in compiled.pipelines():
            found |= self._rewrite_pipeline(pipe)
        if found or source.any_set:
            compiled.context.ml_options = source

    def _rewrite_pipeline(self, pipe: Pipeline) -> bool:
        steps: list[Step] = []
        found = False
        i = 0
        while i < len(pipe.steps):
            step = pipe.steps[i]
            following = pipe.steps[i + 1] if i + 1 < len(pipe.steps) else None
            name, args = _as_instruction(step)
            spec = spec_for(name, args, list(step.with_options.items()), _has_label_instruction(following))
            if spec is None:
                steps.append(step)
                i += 1
                continue
            found = True
            ml = MLStep(spec, self)
            ml.labels = set(step.labels)
            i += 1
            if spec.task == "link_prediction":  # hasLabel(target) belongs to the ML step
                ml.labels |= following.labels  # type: ignore[union-attr]
                i += 1
            steps.append(ml)
        pipe.steps = steps
        return found

    # -- running -------------------------------------------------------------------------------

    def step_run(self, spec: MLStepSpec, ctx: Context) -> StepRun:
        source: MLOptions = getattr(ctx, "ml_options", None) or parse_options(ctx.source_options)
        options = step_options(source, spec.options)
        endpoint = options.endpoint or self.default_endpoint
        if endpoint is None:
            raise MissingParameterException(
                'no ML endpoint: name one with g.with("Neptune#ml.endpoint", "<endpoint id>") '
                "(or set SEER_ML_ENDPOINT for a default)"
            )
        # disableInductiveInferenceMetadataCache: reload the model once per traversal, not per batch.
        reloaded: set[str] = ctx.__dict__.setdefault("ml_reloaded", set())
        reload = options.disable_metadata_cache and endpoint not in reloaded
        backend = self.predictors.backend(endpoint, reload=reload)
        if reload:
            reloaded.add(endpoint)
        return StepRun(spec, options, backend, ctx.conn, self.build_contexts)
