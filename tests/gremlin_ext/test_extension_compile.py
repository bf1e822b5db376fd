"""The extension inside the real engine: ML steps are found in compiled pipelines (children
too), misuse fails at compile time with Neptune's exception names, and a query with no endpoint
or an unknown one says so."""

from __future__ import annotations

import pytest
from gremlin_python.process.graph_traversal import __

from gremlin_ext.errors import (
    BadRequestException,
    InvalidParameterException,
    MissingParameterException,
    UnsupportedOperationException,
)
from gremlin_ext.extension import MLStep, NeptuneMLExtension
from server.gremlin.engine import GremlinEngine
from server.store.memory import MemoryStore
from tests.gremlin_ext.irbuild import g, to_ir


class NoModels:
    """A predictor source with no endpoints at all (a fresh server)."""

    def backend(self, endpoint: str, *, reload: bool = False):
        raise BadRequestException(f"no ML endpoint or model training job with id {endpoint!r}")


@pytest.fixture()
def engine() -> GremlinEngine:
    store = MemoryStore()
    with store.connect() as conn:
        v = conn.add_vertex("airport", id="1")
        conn.add_vertex_property(v, "code", "AUS")
        conn.commit()
    return GremlinEngine(store, extensions=[NeptuneMLExtension(NoModels())])


def _ml_steps(compiled) -> list[MLStep]:
    return [s for p in compiled.pipelines() for s in p.steps if isinstance(s, MLStep)]


def test_ml_steps_replace_compiled_steps_children_included(engine: GremlinEngine) -> None:
    t = (
        g.with_("Neptune#ml.endpoint", "ep")
        .V("1")
        .repeat(__.out("route").with_("Neptune#ml.prediction").has_label("airport"))
        .times(2)
        .project("c")
        .by(__.properties("region").with_("Neptune#ml.classification").value())
    )
    with engine.store.connect() as conn:
        compiled = engine.compile(to_ir(t), conn)
    steps = _ml_steps(compiled)
    assert [s.spec.task for s in steps] == ["link_prediction", "classification"]
    assert steps[0].spec.target_label == "airport"
    # hasLabel(target) was taken into the ML step, not left as a filter behind it
    body = next(
        p
        for p in compiled.pipelines()
        if any(isinstance(s, MLStep) and s.spec.task == "link_prediction" for s in p.steps)
    )
    assert len(body.steps) == 1


@pytest.mark.parametrize(
    ("traversal", "error", "message"),
    [
        (
            g.V().both("route").with_("Neptune#ml.prediction").has_label("a"),
            UnsupportedOperationException,
            "both",
        ),
        (
            g.V().out("route").with_("Neptune#ml.prediction").values("code"),
            UnsupportedOperationException,
            "hasLabel",
        ),
        (
            g.V().properties("a", "b").with_("Neptune#ml.classification"),
            InvalidParameterException,
            "one property",
        ),
        (g.with_("Neptune#ml.limit", 500).V(), InvalidParameterException, "between 1 and 100"),
        (g.V().values("a").with_("Neptune#ml.regression"), UnsupportedOperationException, "properties"),
    ],
)
def test_misuse_fails_at_compile(engine: GremlinEngine, traversal, error, message: str) -> None:
    with engine.store.connect() as conn, pytest.raises(error, match=message):
        engine.compile(to_ir(traversal), conn)


def test_no_endpoint_and_unknown_endpoint(engine: GremlinEngine) -> None:
    with engine.store.connect() as conn:
        t = g.V("1").out("route").with_("Neptune#ml.prediction").has_label("airport")
        with pytest.raises(MissingParameterException, match="no ML endpoint"):
            list(engine.execute(to_ir(t), conn))
        t = (
            g.with_("Neptune#ml.endpoint", "nope")
            .V("1")
            .properties("region")
            .with_("Neptune#ml.classification")
        )
        with pytest.raises(BadRequestException, match="'nope'"):
            list(engine.execute(to_ir(t), conn))
        # no traverser reaches the step: no model is needed, nothing fails
        t = (
            g.with_("Neptune#ml.endpoint", "nope")
            .V("missing")
            .out("route")
            .with_("Neptune#ml.prediction")
            .has_label("a")
        )
        assert list(engine.execute(to_ir(t), conn)) == []


def test_script_text_forms(engine: GremlinEngine) -> None:
    from server.gremlin.language import parse

    script = (
        'g.with("Neptune#ml.endpoint","x").with("Neptune#ml.limit",5).with("Neptune#ml.threshold",0.5D)'
        '.with("Neptune#ml.iamRoleArn","arn:aws:iam::0:role/r").V("1").in("route").with("Neptune#ml.prediction")'
        '.with("Neptune#ml.inductiveInference").hasLabel("airport").properties("region","Neptune#ml.score")'
        '.with("Neptune#ml.classification").with("Neptune#ml.endpoint","y")'
    )
    with engine.store.connect() as conn:
        compiled = engine.compile(parse(script), conn)
    lp, nc = _ml_steps(compiled)
    assert (lp.spec.step, lp.spec.edge_label, lp.spec.inductive) == ("in", "route", True)
    assert (nc.spec.key, nc.spec.with_score, dict(nc.spec.options)) == (
        "region",
        True,
        {"Neptune#ml.endpoint": "y"},
    )
    assert compiled.context.ml_options.limit == 5 and compiled.context.ml_options.threshold == 0.5
