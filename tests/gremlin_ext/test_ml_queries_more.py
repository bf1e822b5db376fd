"""Regression and edge-task query forms (three more models to train, about 25 s): from outE(),
inE() and E(ids), as bytecode and script text, and inductively for an edge created after
training; compared with the predictions computed directly from the model artifacts."""

from __future__ import annotations

import pytest
from gremlin_python.process.graph_traversal import __
from gremlin_python.process.traversal import P

from tests.gremlin_ext.livemodels import (
    DETERMINISTIC,
    EP,
    INDUCTIVE,
    LIMIT,
    NC,
    NR,
    SCORE,
    THRESHOLD,
    Live,
    live_context,
    live_server,
    new_airport,
    rewire,
    script_client,
    threshold_between,
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory):
    with live_server(tmp_path_factory.mktemp("mlq-more"), ["nr", "ec", "er"]) as server:
        yield server


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
    # limit and threshold do not apply to regression (Neptune): one value per vertex regardless
    ignored = live.ml("nr", limit=3, threshold=1e9).V(*ids).properties("runways").with_(NR).value()
    assert ignored.to_list() == pytest.approx(want, rel=1e-5)


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


def _triples(edges: list) -> list[tuple[str, str, str]]:
    return [(str(e.outV.id), e.label, str(e.inV.id)) for e in edges]


def _pairs(props: list) -> list[tuple[str, object]]:
    return [(p.key, p.value) for p in props]


def _scored(rows: list) -> list[tuple[str, object]]:
    """A predictor's ``[[(class, score), ...], ...]`` as the key/value stream of
    ``properties(key, "Neptune#ml.score")``."""
    return [kv for row in rows for cls, score in row for kv in (("kind", cls), (SCORE, score))]


def _assert_scored(got: list, want: list) -> None:
    assert [k for k, _ in got] == [k for k, _ in want]
    for (key, value), (_, expected) in zip(got, want, strict=True):
        assert value == expected if key == "kind" else value == pytest.approx(expected, rel=1e-5)


def test_edge_forms_from_in_e_and_edge_ids(live: Live) -> None:
    """``inE(l)`` and ``E(ids)`` (outE is above), classification with scores and a limit, and
    regression."""
    target = live.graph.ids[1]
    edges = live.g.V(target).in_e("route").to_list()
    triples = _triples(edges)
    assert triples and all(t[2] == target for t in triples)
    want = live.predictors["ec"].classify_edges(triples, property="kind", limit=2)
    got = live.ml("ec", limit=2).V(target).in_e("route").properties("kind", SCORE).with_(NC).to_list()
    _assert_scored(_pairs(got), _scored(want))
    reg = live.predictors["er"].regress_edges(triples, property="dist")
    got = live.ml("er").V(target).in_e("route").properties("dist").with_(NR).value().to_list()
    assert got == pytest.approx(reg, rel=1e-5)

    eids = [e.id for e in edges[:3]] + [live.g.V(target).out_e("route").id_().next()]
    in_order = live.g.E(*eids).to_list()  # the order E(ids) streams them
    triples = _triples(in_order)
    want = live.predictors["ec"].classify_edges(triples, property="kind")
    assert live.ml("ec").E(*eids).properties("kind").with_(NC).value().to_list() == [w[0][0] for w in want]
    reg = live.predictors["er"].regress_edges(triples, property="dist")
    assert live.ml("er").E(*eids).properties("dist").with_(NR).value().to_list() == pytest.approx(
        reg, rel=1e-5
    )


def test_edge_classification_limit_and_threshold(live: Live) -> None:
    source = live.graph.ids[2]
    triples = _triples(live.g.V(source).out_e("route").to_list())
    want = live.predictors["ec"].classify_edges(triples, property="kind", limit=2)
    cut = threshold_between([s for row in want for _, s in row])
    kept = [[(c, s) for c, s in row if s >= cut] for row in want]
    assert 0 < sum(map(len, kept)) < sum(map(len, want)), "the threshold keeps some classes and drops others"
    got = (
        live.ml("ec", limit=2, threshold=cut)
        .V(source)
        .out_e("route")
        .properties("kind", SCORE)
        .with_(NC)
        .to_list()
    )
    _assert_scored(_pairs(got), _scored(kept))


def test_script_text_edge_forms(live: Live) -> None:
    target = live.graph.ids[3]
    edges = live.g.V(target).in_e("route").to_list()
    triples = _triples(edges)
    scores = live.predictors["ec"].classify_edges(triples, property="kind", limit=2)
    cut = threshold_between([s for row in scores for _, s in row])
    want = [[(c, s) for c, s in row if s >= cut] for row in scores]
    reg = live.predictors["er"].regress_edges(triples[:2], property="dist")
    with script_client(live) as client:
        got = (
            client.submit(
                f'g.with("{EP}","ec").with("{LIMIT}",2).with("{THRESHOLD}",{cut!r}D).V("{target}").inE("route")'
                f'.properties("kind","{SCORE}").with("{NC}")'
            )
            .all()
            .result()
        )
        values = (
            client.submit(
                f'g.with("{EP}","er").E("{edges[0].id}","{edges[1].id}").properties("dist").with("{NR}").value()'
            )
            .all()
            .result()
        )
    _assert_scored(_pairs(got), _scored(want))
    assert values == pytest.approx(reg, rel=1e-5)


def test_inductive_inference_for_an_edge_created_after_training(live: Live) -> None:
    """A route from a new airport: nothing transductively; inductively, the class, the score and
    the value the predictors give for the live neighbourhoods of both ends, and the regression
    follows the new airport's edges (node regression of the new airport too)."""
    values = []
    with new_airport(live, "ZZW") as new:
        for region in (0, 1):
            _, peers = rewire(live, new.id, region)
            edge = live.g.V(new.id).out_e("route").where(__.in_v().has_id(peers[0])).next()
            triple = (str(new.id), "route", peers[0])
            contexts = [live_context(live.g, new.id), live_context(live.g, peers[0])]
            if region == 0:
                assert live.ml("ec").E(edge.id).properties("kind").with_(NC).to_list() == []
                assert live.ml("er").E(edge.id).properties("dist").with_(NR).to_list() == []
            want = live.predictors["ec"].classify_edges(
                [triple], property="kind", limit=2, contexts=contexts, deterministic=True
            )
            got = (
                live.ml("ec", limit=2)
                .E(edge.id)
                .properties("kind", SCORE)
                .with_(NC)
                .with_(INDUCTIVE)
                .with_(DETERMINISTIC)
                .to_list()
            )
            _assert_scored(_pairs(got), _scored(want))
            reg = live.predictors["er"].regress_edges(
                [triple], property="dist", contexts=contexts, deterministic=True
            )[0]
            got = (
                live.ml("er")
                .V(new.id)
                .out_e("route")
                .where(__.in_v().has_id(peers[0]))
                .properties("dist")
                .with_(NR)
                .with_(INDUCTIVE)
                .with_(DETERMINISTIC)
                .value()
                .to_list()
            )
            assert got == [pytest.approx(reg, rel=1e-5)]
            values.append(reg)
            node = live.predictors["nr"].regress(
                [str(new.id)], property="runways", contexts=contexts[:1], deterministic=True
            )[0]
            runways = live.ml("nr").V(new.id).properties("runways").with_(NR).with_(INDUCTIVE)
            assert runways.with_(DETERMINISTIC).value().to_list() == [pytest.approx(node, rel=1e-5)]
    assert values[0] != pytest.approx(values[1], rel=1e-4), "the prediction follows the live edges"
