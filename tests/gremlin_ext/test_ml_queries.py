"""Every Neptune ML query form through gremlinpython against a real server, with models trained
through the REST job API on a small generated airline graph; answers are compared with the
predictions computed directly from the model artifacts (``graphml.api.load_predictor``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from gremlin_python.driver.client import Client
from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
from gremlin_python.driver.protocol import GremlinServerError
from gremlin_python.process.anonymous_traversal import traversal
from gremlin_python.process.graph_traversal import GraphTraversalSource, __
from gremlin_python.process.traversal import P

from server.config import Settings
from server.demo.generate import GeneratedGraph, GraphSpec, generate_csv
from server.demo.mlclient import SeerRest
from tests.server.api.live import build_app, serve

EP = "Neptune#ml.endpoint"
LIMIT = "Neptune#ml.limit"
THRESHOLD = "Neptune#ml.threshold"
LP = "Neptune#ml.prediction"
NC = "Neptune#ml.classification"
NR = "Neptune#ml.regression"
SCORE = "Neptune#ml.score"
INDUCTIVE = "Neptune#ml.inductiveInference"
DETERMINISTIC = "Neptune#ml.deterministic"
NONE_FEATURES = [{"node": "airport", "property": p, "type": "none"} for p in ("code", "name")]

MODELS: dict[str, tuple[dict[str, Any], int]] = {
    "lp": ({"targets": [{"edge": ["airport", "route", "airport"], "type": "link_prediction"}]}, 3),
    "nc": ({"targets": [{"node": "airport", "property": "region", "type": "classification"}]}, 15),
    "nr": ({"targets": [{"node": "airport", "property": "runways", "type": "regression"}]}, 3),
    "ec": (
        {
            "targets": [
                {"edge": ["airport", "route", "airport"], "property": "kind", "type": "classification"}
            ]
        },
        3,
    ),
    "er": (
        {"targets": [{"edge": ["airport", "route", "airport"], "property": "dist", "type": "regression"}]},
        3,
    ),
}


@dataclasses.dataclass
class Live:
    base: str
    g: GraphTraversalSource
    graph: GeneratedGraph
    data_dir: Path
    predictors: dict[str, Any]
    jobs: dict[str, dict[str, str]]

    def ml(self, endpoint: str, **options: Any) -> GraphTraversalSource:
        g = self.g.with_(EP, endpoint)
        for key, value in options.items():
            g = g.with_(f"Neptune#ml.{key}", value)
        return g


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory):
    from graphml import api

    root = tmp_path_factory.mktemp("mlq")
    graph = generate_csv(root / "csv", GraphSpec(airports=150, mean_degree=8, regions=3, seed=5))
    settings = Settings(data_dir=root / "data", ml_endpoint="nc")
    with serve(build_app(settings, None)) as base:
        rest = SeerRest(base)
        rest.load(str(root / "csv"))
        jobs = {}
        for name, (neptune_ml, epochs) in MODELS.items():
            spec = {**neptune_ml, "features": NONE_FEATURES}
            jobs[name] = rest.train_endpoint(
                name, spec, overrides={"num-epochs": epochs, "seed": 1}, timeout_s=300
            )
        rest.close()
        predictors = {
            name: api.load_predictor(settings.data_dir / "ml" / "modeltraining" / ids["modeltraining"])
            for name, ids in jobs.items()
        }
        conn = DriverRemoteConnection(base.replace("http", "ws") + "/gremlin", "g")
        try:
            yield Live(base, traversal().with_remote(conn), graph, settings.data_dir, predictors, jobs)
        finally:
            conn.close()


def _ids(rows: list) -> list[str]:
    return [str(i) for i, _ in rows]


# -- link prediction -------------------------------------------------------------------------------


def test_link_prediction_out_and_in_match_the_artifacts(live: Live) -> None:
    predictor = live.predictors["lp"]
    sources = live.graph.ids[:6]
    for direction in ("out", "in"):
        step = __.out("route") if direction == "out" else __.in_("route")
        for source in sources:
            got = (
                live.ml("lp", limit=5).V(source).flat_map(step.with_(LP).has_label("airport")).id_().to_list()
            )
            want = predictor.predict_links(
                [source], edge_label="route", direction=direction, target_label="airport", limit=5
            )[0]
            assert [str(v) for v in got] == _ids(want), (direction, source)
            existing = set(map(str, live.g.V(source).both("route").id_().to_list()))
            assert not set(map(str, got)) & existing, "predicted routes are routes it does not have"


def test_link_prediction_plain_form_limit_default_and_threshold(live: Live) -> None:
    predictor = live.predictors["lp"]
    source = live.graph.ids[3]
    one = live.ml("lp").V(source).out("route").with_(LP).has_label("airport").to_list()
    assert len(one) == 1 and one[0].label == "airport"
    scores = predictor.predict_links([source], edge_label="route", target_label="airport", limit=10)[0]
    cut = scores[4][1]
    got = (
        live.ml("lp", limit=10, threshold=cut)
        .V(source)
        .out("route")
        .with_(LP)
        .has_label("airport")
        .id_()
        .to_list()
    )
    assert [str(v) for v in got] == [v for v, s in scores if s >= cut]
    assert len(got) >= 5
    # the traversal continues from the predicted vertices
    codes = (
        live.ml("lp", limit=3).V(source).out("route").with_(LP).has_label("airport").values("code").to_list()
    )
    index = dict(zip(live.graph.ids, live.graph.codes, strict=True))
    assert codes == [index[v] for v, _ in scores[:3]]


def test_one_traversal_predicts_for_many_vertices(live: Live) -> None:
    predictor = live.predictors["lp"]
    ids = live.graph.ids[:40]
    rows = (
        live.ml("lp", limit=2)
        .V(*ids)
        .project("s", "p")
        .by(__.id_())
        .by(__.out("route").with_(LP).has_label("airport").id_().fold())
        .to_list()
    )
    want = predictor.predict_links(ids, edge_label="route", target_label="airport", limit=2)
    assert {str(r["s"]): [str(v) for v in r["p"]] for r in rows} == {
        i: _ids(w) for i, w in zip(ids, want, strict=True)
    }


# -- node classification / regression --------------------------------------------------------------


def test_classification_with_scores_matches_the_artifacts(live: Live) -> None:
    predictor = live.predictors["nc"]
    ids = live.graph.ids[:5]
    props = live.ml("nc", limit=2).V(*ids).properties("region", SCORE).with_(NC).to_list()
    want = predictor.classify(ids, property="region", limit=2)
    flat = [(p.key, p.value) for p in props]
    expected = [kv for row in want for cls, score in row for kv in (("region", cls), (SCORE, score))]
    assert [k for k, _ in flat] == [k for k, _ in expected]
    for (k, v), (_, w) in zip(flat, expected, strict=True):
        assert v == w if k == "region" else v == pytest.approx(w, rel=1e-5)


def test_classification_steps_neptune_allows_after_it(live: Live) -> None:
    predictor = live.predictors["nc"]
    source = live.graph.ids[7]
    want = predictor.classify([source], property="region")[0][0][0]
    base = live.ml("nc").V(source).properties("region").with_(NC)
    assert base.value().to_list() == [want]
    assert base.key().to_list() == ["region"]
    assert live.ml("nc").V(source).properties("region").with_(NC).value().is_(want).to_list() == [want]
    assert live.ml("nc").V(source).properties("region").with_(NC).has_value(want).count().next() == 1
    other = next(r for r in live.graph.region_names if r != want)
    assert live.ml("nc").V(source).properties("region").with_(NC).has_value(other).to_list() == []
    mixed = (
        live.ml("nc")
        .V(source)
        .union(__.properties("code"), __.properties("region").with_(NC))
        .value()
        .to_list()
    )
    assert mixed == [live.graph.codes[7], want]
    path = live.ml("nc").V(source).properties("region").with_(NC).value().path().next()
    assert str(path.objects[0].id) == source and path.objects[-1] == want


def test_classification_names_the_unlabelled(live: Live) -> None:
    """The airports written without a region get one; most match the hidden truth."""
    unlabelled = [vid for vid, known in zip(live.graph.ids, live.graph.labelled, strict=True) if not known]
    rows = (
        live.ml("nc")
        .V()
        .has_label("airport")
        .has_not("region")
        .project("id", "p")
        .by(__.id_())
        .by(__.properties("region").with_(NC).value())
        .to_list()
    )
    assert sorted(str(r["id"]) for r in rows) == sorted(unlabelled)
    want = live.predictors["nc"].classify(unlabelled, property="region")
    assert {str(r["id"]): r["p"] for r in rows} == {i: w[0][0] for i, w in zip(unlabelled, want, strict=True)}


def test_node_regression(live: Live) -> None:
    ids = live.graph.ids[:4]
    want = live.predictors["nr"].regress(ids, property="runways")
    got = live.ml("nr").V(*ids).properties("runways").with_(NR).value().to_list()
    assert got == pytest.approx(want, rel=1e-5)
    ordered = (
        live.ml("nr")
        .V(*ids)
        .project("id", "r")
        .by(__.id_())
        .by(__.properties("runways").with_(NR).value())
        .order()
        .by("r")
        .select("id")
        .to_list()
    )
    assert [str(i) for i in ordered] == [i for _, i in sorted(zip(want, ids, strict=True))]
    assert (
        live.ml("nr").V(*ids).properties("runways").with_(NR).value().is_(P.gte(min(want))).count().next()
        == 4
    )


# -- edge classification / regression --------------------------------------------------------------


def test_edge_classification_and_regression(live: Live) -> None:
    source = live.graph.ids[0]
    edges = live.g.V(source).out_e("route").to_list()
    triples = [(str(e.outV.id), "route", str(e.inV.id)) for e in edges]
    want = live.predictors["ec"].classify_edges(triples, property="kind")
    got = live.ml("ec").V(source).out_e("route").properties("kind").with_(NC).value().to_list()
    assert got == [w[0][0] for w in want]
    reg = live.predictors["er"].regress_edges(triples, property="dist")
    got = live.ml("er").V(source).out_e("route").properties("dist").with_(NR).value().to_list()
    assert got == pytest.approx(reg, rel=1e-5)
    titles = (
        live.ml("ec")
        .V(source)
        .out_e("route")
        .as_("r")
        .properties("kind")
        .with_(NC)
        .value()
        .is_(want[0][0][0])
        .select("r")
        .in_v()
        .id_()
        .to_list()
    )
    assert [str(t) for t in titles] == [
        t[2] for t, w in zip(triples, want, strict=True) if w[0][0] == want[0][0][0]
    ]


# -- beyond Neptune --------------------------------------------------------------------------------


def test_default_endpoint_and_training_job_id(live: Live) -> None:
    source = live.graph.ids[2]
    want = live.predictors["nc"].classify([source], property="region")[0][0][0]
    assert live.g.V(source).properties("region").with_(NC).value().to_list() == [want]  # SEER_ML_ENDPOINT
    by_job = (
        live.ml(live.jobs["nc"]["modeltraining"]).V(source).properties("region").with_(NC).value().to_list()
    )
    assert by_job == [want]


def test_several_ml_steps_and_repeat(live: Live) -> None:
    lp, nc = live.predictors["lp"], live.predictors["nc"]
    source = live.graph.ids[1]
    first = _ids(lp.predict_links([source], edge_label="route", target_label="airport", limit=2)[0])
    second = lp.predict_links(first, edge_label="route", target_label="airport", limit=2)
    got = (
        live.ml("lp", limit=2)
        .V(source)
        .repeat(__.out("route").with_(LP).has_label("airport"))
        .times(2)
        .id_()
        .to_list()
    )
    assert sorted(map(str, got)) == sorted(v for row in second for v, _ in row)
    rows = (
        live.ml("lp", limit=2)
        .V(source)
        .out("route")
        .with_(LP)
        .has_label("airport")
        .project("id", "region")
        .by(__.id_())
        .by(__.properties("region").with_(NC).with_(EP, "nc").value())
        .to_list()
    )
    want = nc.classify(first, property="region")
    assert [(str(r["id"]), r["region"]) for r in rows] == [
        (i, w[0][0]) for i, w in zip(first, want, strict=True)
    ]


def test_inductive_inference_for_a_vertex_created_after_training(live: Live) -> None:
    from graphml.inference.inductive import NodeContext

    g = live.g
    predictor = live.predictors["nc"]
    new = g.add_v("airport").property("code", "ZZZ").property("runways", 3).next()
    try:
        transductive = live.ml("nc").V(new.id).properties("region").with_(NC).to_list()
        assert transductive == [], "a vertex the model never saw gets nothing without inductive inference"
        answers = {}
        for r, region in enumerate(live.graph.region_names[:2]):
            g.V(new.id).both_e().drop().iterate()
            peers = [vid for vid, reg in zip(live.graph.ids, live.graph.region, strict=True) if reg == r][:6]
            for peer in peers:
                g.V(new.id).add_e("route").to(__.V(peer)).iterate()
                g.V(peer).add_e("route").to(__.V(new.id)).iterate()
            got = (
                live.ml("nc", limit=1)
                .V(new.id)
                .properties("region", SCORE)
                .with_(NC)
                .with_(INDUCTIVE)
                .with_(DETERMINISTIC)
                .to_list()
            )
            context = NodeContext(
                id=str(new.id),
                label="airport",
                properties={"code": "ZZZ", "runways": 3},
                neighbors=[
                    (lbl, d, p, "airport") for p in peers for lbl, d in (("route", "out"), ("route", "in"))
                ],
            )
            want = predictor.classify(
                [str(new.id)], property="region", contexts=[context], deterministic=True
            )[0]
            assert [(p.key, p.value) for p in got][0] == ("region", want[0][0])
            assert got[1].value == pytest.approx(want[0][1], rel=1e-4)
            answers[region] = want[0][0]
        assert answers[live.graph.region_names[0]] != answers[live.graph.region_names[1]], (
            "the prediction follows the vertex's live edges"
        )
    finally:
        g.V(new.id).drop().iterate()


# -- script text and misuse over the wire ----------------------------------------------------------


def test_script_text_and_errors_over_the_wire(live: Live) -> None:
    client = Client(live.base.replace("http", "ws") + "/gremlin", "g")
    try:
        source = live.graph.ids[4]
        script = (
            f'g.with("{EP}","lp").with("{LIMIT}",3).V("{source}").out("route").with("{LP}")'
            '.hasLabel("airport").id()'
        )
        got = client.submit(script).all().result()
        want = live.predictors["lp"].predict_links(
            [source], edge_label="route", target_label="airport", limit=3
        )[0]
        assert [str(v) for v in got] == _ids(want)
        for bad, message in [
            (f'g.with("{EP}","lp").V("{source}").both("route").with("{LP}").hasLabel("airport")', "both()"),
            (f'g.with("{EP}","lp").V("{source}").out("route").with("{LP}").values("code")', "hasLabel"),
            (f'g.with("{EP}","lp").with("{LIMIT}",101).V()', "between 1 and 100"),
            (f'g.with("{EP}","nope").V("{source}").properties("region").with("{NC}")', "'nope'"),
            (f'g.with("{EP}","lp").V("{source}").properties("region").with("{NC}")', "link_prediction"),
        ]:
            with pytest.raises(GremlinServerError, match=message):
                client.submit(bad).all().result()
    finally:
        client.close()
