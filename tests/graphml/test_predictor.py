"""Transform + Predictor against direct model outputs; inductive inference."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from graphml.api import load_predictor, run_training, run_transform
from graphml.inference import NodeContext, PredictionError
from graphml.processing.processed import ProcessedGraph
from graphml.training.artifacts import load_model
from graphml.training.graphs import message_graph, node_features
from tests.graphml.conftest import FAST


@pytest.fixture(scope="module")
def nc_transform(tmp_path_factory, nc_dir: Path, nc_model: Path) -> Path:
    out = tmp_path_factory.mktemp("nc-tx")
    run_transform(nc_dir, nc_model, out)
    return out


def _direct_probs(nc_dir: Path, nc_model: Path) -> tuple[torch.Tensor, ProcessedGraph]:
    model, _ = load_model(nc_model)
    pg = ProcessedGraph.load(nc_dir)
    mp = message_graph(pg.graph)
    with torch.no_grad():
        nids = {nt: torch.arange(mp.num_nodes(nt)) for nt in mp.ntypes}
        h = model.embed([mp] * len(model.encoder.layers), nids, node_features(pg.graph))
        return torch.softmax(model.head(h["person"]), 1), pg


def test_classify_matches_the_model(nc_dir: Path, nc_model: Path, nc_transform: Path) -> None:
    probs, pg = _direct_probs(nc_dir, nc_model)
    for folder in (nc_transform, nc_model):  # precomputed tables, or computed on load
        pred = load_predictor(folder)
        ids = ["p0", "p1", "p7", "unknown"]
        out = pred.classify(ids, "group", limit=2)
        assert out[-1] == []
        for nid, result in zip(ids[:3], out[:3], strict=True):
            row = probs[pg.index["person"][nid]]
            best = int(row.argmax())
            assert result[0] == (pg.target.classes[best], pytest.approx(float(row[best]), abs=1e-5))
            assert len(result) == 2 and result[0][1] >= result[1][1]
        thresholded = pred.classify(["p0"], "group", limit=2, threshold=0.99)[0]
        assert all(score >= 0.99 for _, score in thresholded)
    with pytest.raises(PredictionError):
        pred.classify(["p0"], "age")
    with pytest.raises(PredictionError):
        pred.regress(["p0"], "group")


def test_inductive_embedding_of_a_known_vertex_equals_the_transductive_one(
    csv_graph: Path, nc_model: Path
) -> None:
    pred = load_predictor(nc_model)
    pg = pred.pg
    g = pg.graph
    row = pg.index["person"]["p4"]
    neighbors = []
    for et in g.canonical_etypes:
        if et[0] == "person":
            for d in g.successors(row, etype=et).tolist():
                neighbors.append((et[1], "out", pg.id_maps[et[2]][d], et[2]))
        if et[2] == "person":
            for s in g.predecessors(row, etype=et).tolist():
                neighbors.append((et[1], "in", pg.id_maps[et[0]][s], et[0]))
    with open(csv_graph / "nodes" / "person.csv") as fh:
        rec = next(r for r in csv.DictReader(fh) if r["~id"] == "p4")
    props = {k.split(":")[0]: v for k, v in rec.items() if not k.startswith("~")}
    ctx = NodeContext("p4-copy", "person", props, neighbors)
    pred.fanouts = [100] * len(pred.fanouts)  # every neighbour, as in the full-graph pass
    new = pred.classify(["p4-copy"], "group", limit=2, contexts=[ctx], deterministic=True)[0]
    old = pred.classify(["p4"], "group", limit=2)[0]
    assert [c for c, _ in new] == [c for c, _ in old]
    assert new[0][1] == pytest.approx(old[0][1], abs=1e-4)


def test_inductive_new_vertex_is_deterministic(nc_model: Path) -> None:
    pred = load_predictor(nc_model)
    ctx = NodeContext(
        "new",
        "person",
        {"age": "55", "bio": "snow ski rock snow", "tags": "x;y", "joined": "2021-02-03"},
        [("knows", "out", f"p{i}", "person") for i in range(1, 40, 2)],
    )
    runs = [pred.classify(["new"], "group", contexts=[ctx], deterministic=True)[0] for _ in range(2)]
    assert runs[0] == runs[1] and runs[0][0][0] == "mountain"  # odd persons are the mountain community


def test_link_prediction_predictor(lp_dir: Path, tmp_path: Path) -> None:
    run_training(lp_dir, tmp_path / "m", max_hpo_jobs=1, overrides=dict(FAST, **{"num-epochs": 2}))
    run_transform(lp_dir, tmp_path / "m", tmp_path / "t")
    pred = load_predictor(tmp_path / "t")
    pg = pred.pg
    et = ("person", "knows", "person")
    out = pred.predict_links(["p0", "p1"], "knows", "out", "person", limit=5)
    existing = {
        pg.id_maps["person"][d] for d in pg.graph.successors(pg.index["person"]["p0"], etype=et).tolist()
    }
    assert len(out[0]) == 5 and not existing & {t for t, _ in out[0]} and "p0" not in {t for t, _ in out[0]}
    scores = [s for _, s in out[0]]
    assert scores == sorted(scores, reverse=True)
    # the top score equals the decoder applied to the two embeddings
    top, score = out[0][0]
    h = pred.final["person"]
    direct = torch.sigmoid(
        pred.model.head(h[pg.index["person"]["p0"]].view(1, -1), h[pg.index["person"][top]].view(1, -1))
    )
    assert score == pytest.approx(float(direct), abs=1e-5)
    inbound = pred.predict_links(["p0"], "knows", "in", "person", limit=3, exclude_existing=False)[0]
    assert len(inbound) == 3
    assert pred.predict_links(["p0"], "knows", "out", "product") == [[]]
    with pytest.raises(PredictionError):
        pred.predict_links(["p0"], "likes", "out", "product")


def test_kge_predictor_and_regression(lp_dir: Path, reg_dir: Path, tmp_path: Path) -> None:
    run_training(
        lp_dir,
        tmp_path / "k",
        model_name="distmult",
        max_hpo_jobs=1,
        overrides={"num-epochs": 2, "num-hidden": 16},
    )
    pred = load_predictor(tmp_path / "k")
    out = pred.predict_links(["p0", "nobody"], "knows", "out", "person", limit=3)
    assert len(out[0]) == 3 and out[1] == []
    run_training(reg_dir, tmp_path / "r", max_hpo_jobs=1, overrides=dict(FAST, **{"num-epochs": 2}))
    values = load_predictor(tmp_path / "r").regress(["p0", "p1", "nobody"], "score")
    assert isinstance(values[0], float) and values[2] is None
