"""Regression and edge-task query forms (three more models to train, about 25 s), compared with
the predictions computed directly from the model artifacts."""

from __future__ import annotations

import pytest
from gremlin_python.process.graph_traversal import __
from gremlin_python.process.traversal import P

from tests.gremlin_ext.livemodels import NC, NR, Live, live_server


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
