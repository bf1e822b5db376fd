"""Every Neptune ML query form through gremlinpython against a real server, with models trained
through the REST job API on a small generated airline graph; answers are compared with the
predictions computed directly from the model artifacts (``graphml.api.load_predictor``).
Regression and edge tasks, which need three more models, are in ``test_ml_queries_more.py``.
The same models are also served by a ``seer endpoint`` process, which a second server configured
with ``endpoint_url`` (``SEER_ENDPOINT_URL``) asks over HTTP (``live.remote``)."""

from __future__ import annotations

from typing import Any

import pytest
from gremlin_python.driver.client import Client
from gremlin_python.driver.protocol import GremlinServerError
from gremlin_python.process.graph_traversal import __

from tests.gremlin_ext.livemodels import (
    DETERMINISTIC,
    DISABLE_CACHE,
    EP,
    IAM_ROLE_ARN,
    INDUCTIVE,
    LIMIT,
    LP,
    NC,
    SCORE,
    THRESHOLD,
    Live,
    invocations,
    live_context,
    live_server,
    new_airport,
    rewire,
    script_client,
    threshold_between,
)
from tests.gremlin_ext.livemodels import ids_of as _ids


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory):
    with live_server(
        tmp_path_factory.mktemp("mlq"), ["lp", "nc"], default_endpoint="nc", remote=True
    ) as server:
        yield server


# -- link prediction -------------------------------------------------------------------------------


def test_link_prediction_out_and_in_match_the_artifacts(live: Live) -> None:
    predictor = live.predictors["lp"]
    sources = live.graph.ids[:6]
    for direction in ("out", "in"):
        for source in sources:
            step = __.out("route") if direction == "out" else __.in_("route")  # traversals are mutable
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


def test_classification_limit_and_threshold_match_the_artifacts(live: Live) -> None:
    """Neptune's example 1: top classes per vertex (limit) at least as likely as the threshold."""
    ids = live.graph.ids[:8]
    want = live.predictors["nc"].classify(ids, property="region", limit=3)
    cut = threshold_between([s for row in want for _, s in row])
    props = live.ml("nc", limit=3, threshold=cut).V(*ids).properties("region", SCORE).with_(NC).to_list()
    kept = [(c, s) for row in want for c, s in row if s >= cut]
    assert 0 < len(kept) < sum(map(len, want)), "the threshold keeps some classes and drops others"
    assert [p.value for p in props[0::2]] == [c for c, _ in kept]
    assert [p.value for p in props[1::2]] == pytest.approx([s for _, s in kept], rel=1e-5)
    assert {p.key for p in props[1::2]} == {SCORE}


def test_classification_steps_neptune_allows_after_it(live: Live) -> None:
    predictor = live.predictors["nc"]
    source = live.graph.ids[7]
    want = predictor.classify([source], property="region")[0][0][0]

    def predicted():  # a fresh traversal each time: gremlinpython traversals grow in place
        return live.ml("nc").V(source).properties("region").with_(NC)

    assert predicted().value().to_list() == [want]
    assert predicted().key().to_list() == ["region"]
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

    predictor = live.predictors["nc"]
    with new_airport(live, "ZZZ") as new:
        transductive = live.ml("nc").V(new.id).properties("region").with_(NC).to_list()
        assert transductive == [], "a vertex the model never saw gets nothing without inductive inference"
        answers = {}
        for r, region in enumerate(live.graph.region_names[:2]):
            country, peers = rewire(live, new.id, r)
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
                neighbors=[("contains", "in", country, "country")]
                + [("route", d, p, "airport") for p in peers for d in ("out", "in")],
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


def _inductive_links(predictor: Any, vid: Any, direction: str, context: Any) -> list[str]:
    """The predictor's own top-5 ``route`` airports (ids) for vertex ``vid`` in ``direction``,
    given its live neighbourhood ``context``, sampled deterministically: what the query must answer."""
    rows = predictor.predict_links(
        [str(vid)],
        edge_label="route",
        direction=direction,
        target_label="airport",
        limit=5,
        contexts=[context],
        deterministic=True,
    )[0]
    return _ids(rows)


def test_inductive_link_prediction_for_a_vertex_created_after_training(live: Live) -> None:
    """Predicted routes of a new airport, both directions, follow its live edges and match the
    predictor given the same neighbourhood."""
    predictor = live.predictors["lp"]
    with new_airport(live, "ZZY") as new:

        def predicted(direction: str, *inductive: str) -> list[str]:
            step = __.out("route") if direction == "out" else __.in_("route")
            for predicate in (LP, *inductive):
                step = step.with_(predicate)
            return [
                str(v)
                for v in live.ml("lp", limit=5).V(new.id).flat_map(step.has_label("airport")).id_().to_list()
            ]

        answers = []
        for region in (0, 1):
            rewire(live, new.id, region)
            if region == 0:
                assert predicted("out") == [], "transductive: a vertex the model never saw gets nothing"
            context = live_context(live.g, new.id)
            for direction in ("out", "in"):
                want = _inductive_links(predictor, new.id, direction, context)
                got = predicted(direction, INDUCTIVE, DETERMINISTIC)
                assert len(got) == 5 and got == want, (region, direction)
            answers.append(got)
        assert answers[0] != answers[1], "the predicted links follow the vertex's live edges"


# -- over HTTP to a ``seer endpoint`` process --------------------------------------------------------


def test_remote_endpoint_classification_matches_the_artifacts(live: Live) -> None:
    """The server configured with ``endpoint_url`` sends the step's batch to the endpoint process
    in one request, for a named endpoint and for the default one; a ``http://.../endpoints/<id>``
    endpoint name reaches it from the plain server too. Every answer is the artifacts'."""
    remote, predictor = live.remote, live.predictors["nc"]
    ids = live.graph.ids[:5]
    want = predictor.classify(ids, property="region", limit=2)
    expected = [kv for row in want for cls, score in row for kv in (("region", cls), (SCORE, score))]
    by_url = live.ml(f"{live.endpoint_url}/endpoints/nc", limit=2)
    for g in (remote.ml("nc", limit=2), by_url):
        before = invocations(live.endpoint, "nc")
        props = g.V(*ids).properties("region", SCORE).with_(NC).to_list()
        assert invocations(live.endpoint, "nc", at_least=before + 1) == before + 1, "one request"
        assert [p.key for p in props] == [k for k, _ in expected]
        for p, (key, value) in zip(props, expected, strict=True):
            assert p.value == value if key == "region" else p.value == pytest.approx(value, rel=1e-5)
    before = invocations(live.endpoint, "nc")
    default = remote.g.V(*ids).properties("region").with_(NC).value().to_list()  # SEER_ML_ENDPOINT
    assert default == [row[0][0] for row in want]
    assert invocations(live.endpoint, "nc", at_least=before + 1) == before + 1


def test_remote_endpoint_inductive_classification(live: Live) -> None:
    """A vertex created after training, asked with inductiveInference + deterministic through
    the endpoint process: its live neighbourhood travels as JSON (a datetime and a UUID property,
    which JSON has no type for, included) and the answer is the in-process predictor's for the
    same context; it follows the vertex's edges."""
    import datetime as dt
    import uuid

    remote, predictor = live.remote, live.predictors["nc"]
    with new_airport(remote, "ZZW") as new:
        opened = dt.datetime(2021, 6, 1, 12, 30, tzinfo=dt.UTC)
        remote.g.V(new.id).property("opened", opened).property("ref", uuid.uuid4()).iterate()
        assert remote.ml("nc").V(new.id).properties("region").with_(NC).to_list() == []
        answers = []
        for region in (0, 1):
            rewire(remote, new.id, region)
            context = live_context(remote.g, new.id)
            assert context.properties["opened"] == opened
            want = predictor.classify(
                [str(new.id)], property="region", limit=2, contexts=[context], deterministic=True
            )[0]
            before = invocations(live.endpoint, "nc")
            got = (
                remote.ml("nc", limit=2)
                .V(new.id)
                .properties("region", SCORE)
                .with_(NC)
                .with_(INDUCTIVE)
                .with_(DETERMINISTIC)
                .to_list()
            )
            assert invocations(live.endpoint, "nc", at_least=before + 1) == before + 1
            assert [p.value for p in got[0::2]] == [c for c, _ in want], region
            assert [p.value for p in got[1::2]] == pytest.approx([s for _, s in want], rel=1e-5)
            sampled = [
                predictor.classify([str(new.id)], property="region", contexts=[context])[0][0][1]
                for _ in range(5)
            ]
            assert any(s != pytest.approx(want[0][1], rel=1e-5) for s in sampled), (
                "12 routes each way exceed the fanout: only deterministic sampling gives this answer"
            )
            answers.append(want[0][0])
        assert answers[0] != answers[1], "the prediction follows the vertex's live edges"


def test_remote_endpoint_inductive_link_prediction(live: Live) -> None:
    remote, predictor = live.remote, live.predictors["lp"]
    with new_airport(remote, "ZZV") as new:
        answers = []
        for region in (0, 1):
            rewire(remote, new.id, region)
            context = live_context(remote.g, new.id)
            for direction in ("out", "in"):
                want = _inductive_links(predictor, new.id, direction, context)
                step = __.out("route") if direction == "out" else __.in_("route")
                step = step.with_(LP).with_(INDUCTIVE).with_(DETERMINISTIC).has_label("airport")
                before = invocations(live.endpoint, "lp")
                got = remote.ml("lp", limit=5).V(new.id).flat_map(step).id_().to_list()
                assert invocations(live.endpoint, "lp", at_least=before + 1) == before + 1
                assert [str(v) for v in got] == want and len(got) == 5, (region, direction)
            answers.append(got)
        assert answers[0] != answers[1], "the predicted links follow the vertex's live edges"


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


def test_script_text_classification(live: Live) -> None:
    ids = live.graph.ids[:3]
    scores = live.predictors["nc"].classify(ids, property="region", limit=2)
    cut = threshold_between([s for row in scores for _, s in row])
    want = [[(c, s) for c, s in row if s >= cut] for row in scores]
    script = (
        f'g.with("{EP}","nc").with("{IAM_ROLE_ARN}","arn:aws:iam::123456789012:role/NeptuneML")'
        f'.with("{LIMIT}",2).with("{THRESHOLD}",{cut!r}D).V({", ".join(map(repr, ids))})'
        f'.properties("region","{SCORE}").with("{NC}")'
    )
    with script_client(live) as client:
        props = client.submit(script).all().result()
    expected = [kv for row in want for cls, score in row for kv in (("region", cls), (SCORE, score))]
    assert [p.key for p in props] == [k for k, _ in expected]
    for p, (key, value) in zip(props, expected, strict=True):
        assert p.value == value if key == "region" else p.value == pytest.approx(value, rel=1e-5)


def test_iam_role_arn_is_accepted_and_checked(live: Live) -> None:
    source = live.graph.ids[5]
    want = live.predictors["nc"].classify([source], property="region")[0][0][0]
    arn = "arn:aws:iam::123456789012:role/NeptuneMLRole"
    got = live.ml("nc", iamRoleArn=arn).V(source).properties("region").with_(NC).value().to_list()
    assert got == [want]
    with pytest.raises(GremlinServerError, match="InvalidParameterException.*iamRoleArn"):
        live.ml("nc", iamRoleArn="NeptuneMLRole").V(source).properties("region").with_(NC).to_list()


def test_disable_metadata_cache_rereads_changed_artifacts(live: Live) -> None:
    """Neptune caches a model's inductive metadata (layers, fanout); after the artifacts change in
    place, only ``disableInductiveInferenceMetadataCache`` sees the new ones. Here the fanout in
    ``model-config.json`` drops to 1 neighbour per relation, which changes the inductive answer."""
    import json

    from graphml import api

    config = live.data_dir / "ml" / "modeltraining" / live.jobs["nc"]["modeltraining"] / "model-config.json"
    original = config.read_text()
    with new_airport(live, "ZZX") as new:
        rewire(live, new.id, 0)
        context = live_context(live.g, new.id)

        def predicted(*source_options: str, over: Live = live) -> float:
            g = over.ml("nc")
            for option in source_options:
                g = g.with_(option)
            step = g.V(new.id).properties("region", SCORE).with_(NC).with_(INDUCTIVE).with_(DETERMINISTIC)
            return step.to_list()[1].value

        def expected(predictor) -> float:
            return predictor.classify(
                [str(new.id)], property="region", contexts=[context], deterministic=True
            )[0][0][1]

        before = predicted()
        assert before == pytest.approx(expected(live.predictors["nc"]), rel=1e-5)
        assert predicted(over=live.remote) == pytest.approx(before, rel=1e-5)  # loaded there too
        try:
            changed = json.loads(original)
            changed["hyperparameters"]["fanout"] = [1] * len(changed["hyperparameters"]["fanout"])
            config.write_text(json.dumps(changed))
            after = expected(api.load_predictor(config.parent))
            assert after != pytest.approx(before, rel=1e-3), "the new fanout changes the answer"
            assert predicted() == pytest.approx(before, rel=1e-5), "cached: the old metadata"
            assert predicted(DISABLE_CACHE) == pytest.approx(after, rel=1e-5), "reloaded: the new one"
            # Served by the `seer endpoint` process: the cache is there, and the flag reaches it.
            assert predicted(over=live.remote) == pytest.approx(before, rel=1e-5), "cached over HTTP"
            assert predicted(DISABLE_CACHE, over=live.remote) == pytest.approx(after, rel=1e-5)
        finally:
            config.write_text(original)
        assert predicted(DISABLE_CACHE) == pytest.approx(before, rel=1e-5)
        assert predicted(DISABLE_CACHE, over=live.remote) == pytest.approx(before, rel=1e-5)
