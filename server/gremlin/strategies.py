"""Traversal strategies: source configuration (``withStrategies``) and compile-time rewrites.

Built in: ReadOnlyStrategy, SubgraphStrategy, PartitionStrategy, SeedStrategy,
ProductiveByStrategy, OptionsStrategy, plus the verification strategies the suite names
(EdgeLabelVerificationStrategy, ReservedKeysVerificationStrategy, LambdaRestrictionStrategy,
...). Optimisations that need no configuration (has() folded into V(), property() folded into
addV()) run for every traversal in :func:`optimize`.
"""

from __future__ import annotations

from typing import Any

from server.gremlin import predicates
from server.gremlin.errors import GremlinArgumentError, GremlinError
from server.gremlin.ir import Bytecode, P
from server.gremlin.runtime import Context, Pipeline, Step
from server.gremlin.steps.filter import HasStep, TraversalFilterStep
from server.gremlin.steps.flatmap import PropertiesStep, VertexStep
from server.gremlin.steps.mutation import (
    AddEdgeStep,
    AddVertexStep,
    MergeEdgeStep,
    MergeVertexStep,
    PropertyStep,
)
from server.gremlin.steps.start import GraphStep
from server.structure import T

KNOWN = {
    "ReadOnlyStrategy",
    "SubgraphStrategy",
    "PartitionStrategy",
    "SeedStrategy",
    "ProductiveByStrategy",
    "OptionsStrategy",
    "EdgeLabelVerificationStrategy",
    "ReservedKeysVerificationStrategy",
    "LambdaRestrictionStrategy",
    "StandardVerificationStrategy",
    "ComputerVerificationStrategy",
    "ElementIdStrategy",
    "HaltedTraverserStrategy",
    "ReferenceElementStrategy",
    "AdjacentToIncidentStrategy",
    "ByModulatorOptimizationStrategy",
    "ConnectiveStrategy",
    "CountStrategy",
    "EarlyLimitStrategy",
    "FilterRankingStrategy",
    "IdentityRemovalStrategy",
    "IncidentToAdjacentStrategy",
    "InlineFilterStrategy",
    "LazyBarrierStrategy",
    "MatchPredicateStrategy",
    "OrderLimitStrategy",
    "PathProcessorStrategy",
    "PathRetractionStrategy",
    "RepeatUnrollStrategy",
    "GraphFilterStrategy",
    "MatchAlgorithmStrategy",
    "MessagePassingReductionStrategy",
    "ProfileStrategy",
    "VertexProgramRestrictionStrategy",
    "ComputerFinalizationStrategy",
    "EventStrategy",
    "TranslationStrategy",
    "VertexProgramStrategy",
}


def walk_pipelines(pipe: Pipeline) -> list[Pipeline]:
    """The pipeline and every child pipeline below it."""
    out = [pipe]
    for s in pipe.steps:
        for c in s.children():
            out += walk_pipelines(c)
    return out


def optimize(pipe: Pipeline, degree_counts: bool = True) -> None:
    """Rewrites that never change results: fold has()/hasLabel() after V()/E() into the store
    query, fold property() into addV()/addE() so ids and labels are known at creation, and
    answer ``out().count()`` from edge counts (``degree_counts``: off when Subgraph or Partition
    strategies filter the adjacency)."""
    for p in walk_pipelines(pipe):
        steps = p.steps
        out: list[Step] = []
        for s in steps:
            prev = out[-1] if out else None
            if (
                isinstance(prev, GraphStep)
                and isinstance(s, HasStep)
                and not prev.labels
                and not s.labels
                and _fold_has(prev, s)
            ):
                continue
            if (
                isinstance(prev, (AddVertexStep, AddEdgeStep))
                and isinstance(s, PropertyStep)
                and (s.cardinality is None or isinstance(prev, AddVertexStep))
                and not isinstance(s.key, dict)
            ):
                prev.props.append(s)
                prev.labels |= s.labels
                continue
            if (
                degree_counts
                and type(s).__name__ == "CountStep"
                and not s.local
                and not s.labels
                and isinstance(prev, VertexStep)
                and not prev.labels
                and prev.subgraph is None
            ):
                from server.gremlin.steps.flatmap import DegreeCountStep

                out[-1] = DegreeCountStep(prev)
                continue
            out.append(s)
        p.steps = out


def _fold_has(g: GraphStep, h: HasStep) -> bool:
    filters = []
    labels = None
    ids = None
    for cond in h.conds:
        kind = cond[0]
        if kind == "prop":
            f = predicates.to_filters(cond[1], cond[2])
            if f is None:
                return False
            filters += f
        elif kind == "exists":
            filters.append(predicates.PropertyFilter(cond[1], "exists"))
        elif kind == "label":
            p = cond[1]
            if isinstance(p, P) and p.name == "eq" and isinstance(p.args[0], str):
                labels = [p.args[0]]
            elif isinstance(p, P) and p.name == "within" and all(isinstance(a, str) for a in p.args):
                labels = list(p.args)
            else:
                return False
        elif kind == "id":
            p = cond[1]
            if isinstance(p, P) and p.name == "eq":
                ids = [p.args[0]]
            elif isinstance(p, P) and p.name == "within":
                ids = list(p.args)
            else:
                return False
        else:
            return False
    if labels is not None and g.labels_filter is not None:
        labels = [lab for lab in labels if lab in g.labels_filter]
    if ids is not None:
        if g.ids is not None:
            from server.gremlin import semantics as sem

            ids = [i for i in ids if any(sem.equals(i, j) for j in g.ids)]
        g.ids = ids
    if labels is not None:
        g.labels_filter = labels
    g.filters += filters
    return True


def configure(ctx: Context, strategy: Any, compiler: Any) -> None:
    """Apply one ``withStrategies`` entry to the run's context."""
    name = strategy.name
    cfg = dict(strategy.config)
    if name not in KNOWN and not _extension_knows(ctx, name):
        raise GremlinArgumentError(f"The strategy {name} is not known to this Gremlin engine")
    if name == "VertexProgramStrategy":
        raise GremlinArgumentError(
            "The TraversalSource does not allow the use of a GraphComputer: Seer runs OLTP traversals only"
        )
    if name == "ReadOnlyStrategy":
        ctx.read_only = True
    elif name == "SeedStrategy":
        seed = cfg.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise GremlinArgumentError(f"SeedStrategy's seed must be an integer, not {seed!r}")
        ctx.seed = seed
    elif name == "OptionsStrategy":
        ctx.source_options.update(cfg)
    elif name == "SubgraphStrategy":
        cfg = {k: compiler.child(v) if isinstance(v, Bytecode) else v for k, v in cfg.items()}
    elif name == "PartitionStrategy":
        if "partitionKey" not in cfg:
            raise GremlinArgumentError("PartitionStrategy needs a partitionKey")
    ctx.strategies[name] = cfg


def _extension_knows(ctx: Context, name: str) -> bool:
    for ext in getattr(ctx.engine, "extensions", []):
        if name in getattr(ext, "strategy_names", ()):
            return True
    return False


def apply(pipe: Pipeline, ctx: Context) -> None:
    """Rewrite the compiled traversal for the configured strategies."""
    if ctx.read_only:
        from server.gremlin.errors import ReadOnlyViolation
        from server.gremlin.steps.mutation import MutatingStep

        for p in walk_pipelines(pipe):
            for s in p.steps:
                if isinstance(s, MutatingStep):
                    raise ReadOnlyViolation(
                        f"The provided traversal has a mutating step and thus is not read only: {s.name}()"
                    )
    sg = ctx.strategies.get("SubgraphStrategy")
    if sg is not None:
        _subgraph(pipe, sg)
    part = ctx.strategies.get("PartitionStrategy")
    if part is not None:
        _partition(pipe, part)
    if "EdgeLabelVerificationStrategy" in ctx.strategies:
        cfg = ctx.strategies["EdgeLabelVerificationStrategy"]
        for p in walk_pipelines(pipe):
            for s in p.steps:
                if isinstance(s, VertexStep) and not s.edge_labels and cfg.get("throwException"):
                    raise GremlinError(
                        f"The provided traversal contains a vertex step without any specified edge label: {s.name}()"
                    )
    if "ReservedKeysVerificationStrategy" in ctx.strategies:
        cfg = ctx.strategies["ReservedKeysVerificationStrategy"]
        keys = set(cfg.get("keys", ["id", "label"]))
        for p in walk_pipelines(pipe):
            for s in p.steps:
                props = [s] if isinstance(s, PropertyStep) else getattr(s, "props", [])
                for ps in props:
                    if isinstance(ps.key, str) and ps.key in keys and cfg.get("throwException"):
                        raise GremlinError(
                            f"The provided traversal is setting a property key to a reserved word: {ps.key}"
                        )


def _subgraph(pipe: Pipeline, cfg: dict) -> None:
    vf: Pipeline | None = cfg.get("vertices")
    ef: Pipeline | None = cfg.get("edges")
    pf: Pipeline | None = cfg.get("vertexProperties")
    for p in walk_pipelines(pipe):
        if p is vf or p is ef or p is pf:
            continue
        out: list[Step] = []
        for s in p.steps:
            out.append(s)
            if isinstance(s, GraphStep):
                f = vf if s.kind == "V" else ef
                if f is not None:
                    out.append(_filter(f, s))
                if s.kind == "E" and vf is not None and cfg.get("checkAdjacentVertices", True):
                    # both ends must be in the subgraph too
                    out.append(_ends_filter(vf))
            elif isinstance(s, VertexStep):
                check = cfg.get("checkAdjacentVertices", True)
                s.subgraph = (vf if (check or not s.edges) else None, ef)
            elif isinstance(s, PropertiesStep) and pf is not None:
                s.vp_filter = pf
            elif type(s).__name__ == "EdgeVertexStep" and vf is not None:
                out.append(_filter(vf, s))
        p.steps = out


def _filter(f: Pipeline, s: Step) -> Step:
    step = TraversalFilterStep("filter", [f])
    step.labels = set(s.labels)
    s.labels = set()
    return step


def _ends_filter(vf: Pipeline) -> Step:
    from server.gremlin.steps.flatmap import EdgeVertexStep

    class EndsFilter(TraversalFilterStep):
        def keep(self, batch, ctx):  # type: ignore[no-untyped-def]
            from server.gremlin.runtime import Trav

            outs = ctx.child_any(vf, [Trav(t.value.out_v) for t in batch])
            ins = ctx.child_any(vf, [Trav(t.value.in_v) for t in batch])
            return [a and b for a, b in zip(outs, ins, strict=True)]

    _ = EdgeVertexStep
    return EndsFilter("filter", [vf])


def _partition(pipe: Pipeline, cfg: dict) -> None:
    key = cfg["partitionKey"]
    write = cfg.get("writePartition")
    reads = cfg.get("readPartitions") or ([write] if write is not None else [])
    if isinstance(reads, (set, tuple)):
        reads = list(reads)
    include_meta = bool(cfg.get("includeMetaProperties"))
    cond = HasStep([("prop", key, P("within", tuple(reads)))])
    read_filter = Pipeline([cond])
    for p in walk_pipelines(pipe):
        if p is read_filter:
            continue
        out: list[Step] = []
        for s in p.steps:
            out.append(s)
            if isinstance(s, GraphStep):
                out.append(_filter(read_filter, s))
            elif isinstance(s, VertexStep):
                s.subgraph = (None if s.edges else read_filter, read_filter)
            elif type(s).__name__ == "EdgeVertexStep":
                out.append(_filter(read_filter, s))
            elif isinstance(s, PropertiesStep) and include_meta:
                s.vp_filter = read_filter
            if isinstance(s, (AddVertexStep, AddEdgeStep)) and write is not None:
                s.props.append(PropertyStep(None, key, write, []))
            elif isinstance(s, PropertyStep) and include_meta and write is not None:
                s.meta.append((key, write))
            elif isinstance(s, (MergeVertexStep, MergeEdgeStep)) and write is not None:
                s.partition = (key, write, reads)
        p.steps = out


_ = T


def fuse(pipe: Pipeline, ctx: Context) -> None:
    """Replace plain step runs by fused steps that ask the store once (see
    :mod:`server.gremlin.steps.fused`): ``out().values(k)``, ``out().groupCount().by(k)``,
    ``V().values(k)``, ``V().groupCount().by(k)``, ``V().count()`` and ``out()...out().count()``.
    Runs last, after every other strategy and extension has seen the plain steps. Only steps without labels, filters or side effects are fused; the fused steps
    run the originals when a run needs paths."""
    if {"SubgraphStrategy", "PartitionStrategy"} & set(ctx.strategies) or ctx.full_paths:
        return
    from server.gremlin.steps.flatmap import DegreeCountStep
    from server.gremlin.steps.fused import (
        AdjacentGroupCountStep,
        AdjacentValuesStep,
        ElementCountStep,
        VertexGroupCountStep,
        VertexValuesStep,
        WalkCountStep,
    )
    from server.gremlin.steps.map import CountStep
    from server.gremlin.steps.sideeffect import GroupCountStep

    for p in walk_pipelines(pipe):
        out: list[Step] = []
        for s in p.steps:
            prev = out[-1] if out else None
            hop = prev if _plain_hop(prev) else None
            if hop is not None and type(s) is PropertiesStep and _plain_values(s):
                out[-1] = AdjacentValuesStep(hop, s)
                continue
            if hop is not None and type(s) is GroupCountStep and _plain_group_count(s):
                out[-1] = AdjacentGroupCountStep(hop, s)
                continue
            if _plain_start(prev, "V") and type(s) is PropertiesStep and _plain_values(s):
                out[-1] = VertexValuesStep(prev, s)  # type: ignore[arg-type]
                continue
            if _plain_start(prev, "V") and type(s) is GroupCountStep and _plain_group_count(s):
                out[-1] = VertexGroupCountStep(prev, s)  # type: ignore[arg-type]
                continue
            if _plain_start(prev, "V", "E") and type(s) is CountStep and not s.local and not s.labels:
                out[-1] = ElementCountStep(prev, s)  # type: ignore[arg-type]
                continue
            if type(s) is DegreeCountStep and not s.labels and _plain_hop(prev):
                hops: list[VertexStep] = []
                while out and _plain_hop(out[-1]):
                    hops.insert(0, out.pop())  # type: ignore[arg-type]
                out.append(WalkCountStep(hops, s))
                continue
            out.append(s)
        p.steps = out


def _plain_hop(s: Step | None) -> bool:
    """``out``/``in``/``both`` with no step label and no Subgraph/Partition filter."""
    return (
        type(s) is VertexStep and not s.edges and not s.labels and s.subgraph is None and not s.with_options  # type: ignore[union-attr]
    )


def _plain_start(s: Step | None, *kinds: str) -> bool:
    """``V(..)`` or ``E(..)`` (``kinds``) starting the traversal (has() filters folded in), with
    no step label."""
    from server.gremlin.steps.start import GraphStep

    return type(s) is GraphStep and s.is_start and s.kind in kinds and not s.labels  # type: ignore[union-attr]


def _plain_values(s: PropertiesStep) -> bool:
    """``values(key)`` of one key, unlabelled, with no vertex-property filter."""
    return (
        s.values
        and not s.labels
        and not s.with_options
        and s.vp_filter is None
        and s.keys is not None
        and len(s.keys) == 1
    )


def _plain_group_count(s: Step) -> bool:
    """``groupCount().by(key)``: no side-effect key, no label, one by() naming a property."""
    return (
        getattr(s, "key", None) is None
        and not s.labels
        and not s.with_options
        and len(s.bys) == 1
        and s.bys[0].kind == "key"
        and isinstance(s.bys[0].arg, str)
    )
