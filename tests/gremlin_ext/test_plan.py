"""Finding and validating Neptune ML steps and options (Neptune's query forms and restrictions)."""

from __future__ import annotations

import pytest
from gremlin_python.process.graph_traversal import __

from gremlin_ext.errors import (
    InvalidParameterException,
    MissingParameterException,
    UnsupportedOperationException,
)
from gremlin_ext.options import MLOptions, read_source_options, step_options
from gremlin_ext.plan import ML_STEP, MLStepSpec, rewrite
from tests.gremlin_ext.irbuild import g, to_ir

EP = "Neptune#ml.endpoint"


def test_source_options_from_gremlinpython_with() -> None:
    t = (
        g.with_(EP, "air-lp")
        .with_("Neptune#ml.iamRoleArn", "arn:aws:iam::1:role/x")
        .with_("Neptune#ml.limit", 5)
        .with_("Neptune#ml.threshold", 0.25)
        .with_("Neptune#ml.disableInductiveInferenceMetadataCache")
        .V()
    )
    assert read_source_options(to_ir(t)) == MLOptions(
        endpoint="air-lp",
        iam_role_arn="arn:aws:iam::1:role/x",
        limit=5,
        threshold=0.25,
        disable_metadata_cache=True,
    )
    assert read_source_options(to_ir(g.V())) == MLOptions()
    assert MLOptions().limit == 1


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("Neptune#ml.limit", 0, "between 1 and 100"),
        ("Neptune#ml.limit", 101, "between 1 and 100"),
        ("Neptune#ml.limit", "5", "integer"),
        ("Neptune#ml.threshold", "high", "number"),
        ("Neptune#ml.endpoint", "", "non-empty"),
        ("Neptune#ml.iamRoleArn", "role", "ARN"),
        ("Neptune#ml.bogus", 1, "unknown traversal-source option 'Neptune#ml.bogus'"),
    ],
)
def test_bad_source_options(key: str, value: object, message: str) -> None:
    with pytest.raises(InvalidParameterException, match=message):
        read_source_options(to_ir(g.with_(key, value).V()))


def test_link_prediction_out_and_in() -> None:
    bc, specs = rewrite(
        to_ir(g.V("1").out("route").with_("Neptune#ml.prediction").has_label("airport").values("code"))
    )
    assert [s.name for s in bc.steps] == ["V", ML_STEP, "values"]
    assert specs == [
        MLStepSpec(task="link_prediction", step="out", edge_label="route", target_label="airport")
    ]
    assert bc.steps[1].args == (specs[0],)
    _, specs = rewrite(
        to_ir(
            g.V("1")
            .in_("rated")
            .with_("Neptune#ml.prediction")
            .with_("Neptune#ml.inductiveInference")
            .with_("Neptune#ml.deterministic")
            .has_label("user")
            .id_()
        )
    )
    assert specs[0].step == "in" and specs[0].inductive and specs[0].deterministic


def test_classification_regression_and_score() -> None:
    _, specs = rewrite(
        to_ir(g.V().properties("region", "Neptune#ml.score").with_("Neptune#ml.classification").value())
    )
    assert specs == [MLStepSpec(task="classification", step="properties", key="region", with_score=True)]
    _, specs = rewrite(to_ir(g.E("e1").properties("dist").with_("Neptune#ml.regression")))
    assert specs[0].task == "regression" and specs[0].key == "dist"
    _, specs = rewrite(to_ir(g.V("1").out_e("route").properties("kind").with_("Neptune#ml.classification")))
    assert specs[0].task == "classification"


def test_several_ml_steps_and_ml_inside_children() -> None:
    t = (
        g.V("1")
        .repeat(__.out("route").with_("Neptune#ml.prediction").has_label("airport"))
        .times(2)
        .project("code", "region")
        .by(__.values("code"))
        .by(__.properties("region").with_("Neptune#ml.classification").value())
    )
    bc, specs = rewrite(to_ir(t))
    assert [s.task for s in specs] == ["link_prediction", "classification"]
    assert bc.steps[1].args[0].steps[0].name == ML_STEP  # inside repeat()
    assert bc.steps[4].args[0].steps == to_ir(__.values("code")).steps


def test_step_level_endpoint_limit_threshold_override_the_source() -> None:
    t = (
        g.with_(EP, "lp")
        .with_("Neptune#ml.limit", 3)
        .V("1")
        .out("route")
        .with_("Neptune#ml.prediction")
        .has_label("airport")
        .properties("region")
        .with_("Neptune#ml.classification")
        .with_(EP, "nc")
        .with_("Neptune#ml.threshold", 0.5)
    )
    bc = to_ir(t)
    _, specs = rewrite(bc)
    source = read_source_options(bc)
    assert step_options(source, specs[0].options) == MLOptions(endpoint="lp", limit=3)
    assert step_options(source, specs[1].options) == MLOptions(endpoint="nc", limit=3, threshold=0.5)


def test_other_with_modulators_are_left_alone() -> None:
    t = g.V().value_map().with_("~tinkerpop.valueMap.tokens")
    bc, specs = rewrite(to_ir(t))
    assert specs == [] and bc.steps == to_ir(t).steps


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
        (g.V().out("route").with_("Neptune#ml.prediction"), UnsupportedOperationException, "hasLabel"),
        (g.V().out().with_("Neptune#ml.prediction").has_label("a"), MissingParameterException, "edge label"),
        (
            g.V().out("a", "b").with_("Neptune#ml.prediction").has_label("a"),
            InvalidParameterException,
            "one edge label",
        ),
        (
            g.V().out("a").with_("Neptune#ml.prediction").has_label("a", "b"),
            InvalidParameterException,
            "one target",
        ),
        (
            g.V().properties("a", "b").with_("Neptune#ml.classification"),
            InvalidParameterException,
            "one property",
        ),
        (g.V().properties().with_("Neptune#ml.regression"), MissingParameterException, "property key"),
        (
            g.V().properties("Neptune#ml.score").with_("Neptune#ml.classification"),
            MissingParameterException,
            "property key",
        ),
        (
            g.V().properties("a", "Neptune#ml.score").with_("Neptune#ml.regression"),
            InvalidParameterException,
            "classification only",
        ),
        (
            g.V().properties("a").with_("Neptune#ml.classification").with_("Neptune#ml.regression"),
            InvalidParameterException,
            "classification and regression",
        ),
        (g.V().values("a").with_("Neptune#ml.classification"), UnsupportedOperationException, "properties"),
        (g.V().properties("a").with_("Neptune#ml.prediction"), UnsupportedOperationException, "out"),
        (g.V().properties("a").with_("Neptune#ml.inductiveInference"), MissingParameterException, "no task"),
        (
            g.V().properties("a").with_("Neptune#ml.iamRoleArn", "arn:x"),
            InvalidParameterException,
            "source option",
        ),
        (g.V().properties("a").with_("Neptune#ml.limit", 3), UnsupportedOperationException, "task predicate"),
        (
            g.V().properties("a").with_("Neptune#ml.classification").with_("Neptune#ml.limit", 300),
            InvalidParameterException,
            "between 1 and 100",
        ),
        (g.V().properties("a").with_("Neptune#ml.nope"), InvalidParameterException, "unknown step predicate"),
    ],
)
def test_misuse_is_named(traversal, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message) as info:
        rewrite(to_ir(traversal))
    assert str(info.value).startswith(error.__name__)
