"""Batched Predictor answers equal the one-source-at-a-time reference (the pre-batching
algorithm, re-implemented here): link prediction with threshold, limit and exclude_existing
for RGCN and KGE models, classification with and without inductive contexts."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from graphml.api import load_predictor, run_training
from graphml.inference import NodeContext
from graphml.inference.predictor import Predictor
from tests.graphml.conftest import FAST


@pytest.fixture(scope="module")
def lp_predictors(tmp_path_factory, lp_dir: Path) -> dict[str, Predictor]:
    out = tmp_path_factory.mktemp("batched")
    run_training(lp_dir, out / "rgcn", max_hpo_jobs=1, overrides=dict(FAST, **{"num-epochs": 2}))
    run_training(
        lp_dir,
        out / "kge",
        model_name="distmult",
        max_hpo_jobs=1,
        overrides={"num-epochs": 2, "num-hidden": 16},
    )
    return {name: load_predictor(out / name) for name in ("rgcn", "kge")}


def _reference(pred: Predictor, nid: str, direction: str, limit: int, threshold, exclude: bool, ctx=None):
    """One source scored alone against every candidate (the per-source implementation)."""
    et = ("person", "knows", "person")
    g, pg = pred.pg.graph, pred.pg
    row = pg.index["person"].get(nid)
    with torch.no_grad():
        if pred.model_name == "rgcn":
            h = pred._embedding(nid, "person", {ctx.id: ctx} if ctx else {}, True)
            if h is None:
                return []
            scores = torch.sigmoid(pred.model.head.score_all(h.view(1, -1), pred.final["person"])[0])
        else:
            if row is None:
                return []
            r = pred.relations.index(et) + (0 if direction == "out" else len(pred.relations))
            q = torch.tensor([pred.offsets["person"] + row])
            probs = torch.softmax(pred.model.score_all(q, torch.tensor([r]))[0], 0)
            start = pred.offsets["person"]
            scores = probs[start : start + g.num_nodes("person")].clone()
    if row is not None and exclude:
        scores[g.successors(row, etype=et) if direction == "out" else g.predecessors(row, etype=et)] = -1e30
        scores[scores == -1e30] = float("-inf")
    if row is not None:
        scores[row] = float("-inf")
    k = min(limit, len(scores))
    values, idx = torch.topk(scores, k)
    return [
        (pg.id_maps["person"][int(i)], float(v))
        for v, i in zip(values, idx, strict=True)
        if (threshold is None or float(v) >= threshold) and float(v) != float("-inf")
    ]


def _same(got, want) -> None:
    assert [i for i, _ in got] == [i for i, _ in want]
    assert [s for _, s in got] == pytest.approx([s for _, s in want], abs=1e-6)


@pytest.mark.parametrize("model", ["rgcn", "kge"])
@pytest.mark.parametrize(
    ("direction", "limit", "threshold", "exclude"),
    [("out", 5, None, True), ("in", 3, None, False), ("out", 100, 0.5, True), ("out", 1000, None, True)],
)
def test_batched_links_equal_one_at_a_time(
    lp_predictors, model, direction, limit, threshold, exclude
) -> None:
    pred = lp_predictors[model]
    ids = [f"p{i}" for i in range(0, 80, 3)] + ["nobody", "q1", "p0"]
    kwargs = {"direction": direction, "target_label": "person", "limit": limit, "threshold": threshold}
    batched = pred.predict_links(ids, "knows", exclude_existing=exclude, **kwargs)
    assert len(batched) == len(ids) and batched[ids.index("nobody")] == [] and batched[ids.index("q1")] == []
    for nid, got in zip(ids, batched, strict=True):
        if nid.startswith("p"):
            _same(got, _reference(pred, nid, direction, limit, threshold, exclude))
            _same(pred.predict_links([nid], "knows", exclude_existing=exclude, **kwargs)[0], got)
    if threshold is not None:
        assert all(s >= threshold for res in batched for _, s in res)
    if limit == 1000:  # everything but the vertex itself and (out) its existing successors
        row = pred.pg.index["person"]["p3"]
        n_succ = len(set(pred.pg.graph.successors(row, etype=("person", "knows", "person")).tolist()))
        assert len(batched[1]) == pred.pg.graph.num_nodes("person") - 1 - n_succ


def test_batched_links_with_an_inductive_context(lp_predictors) -> None:
    pred = lp_predictors["rgcn"]
    ctx = NodeContext(
        "new", "person", {}, [("knows", "out", "p1", "person"), ("knows", "in", "p2", "person")]
    )
    batched = pred.predict_links(
        ["p5", "new", "p6"], "knows", "out", "person", limit=4, contexts=[ctx], deterministic=True
    )
    _same(batched[1], _reference(pred, "new", "out", 4, None, True, ctx))
    _same(batched[0], _reference(pred, "p5", "out", 4, None, True))


def test_batched_classify_equals_one_at_a_time(nc_model: Path) -> None:
    pred = load_predictor(nc_model)
    ctx = NodeContext("new", "person", {"age": 50}, [("knows", "out", "p1", "person")])
    ids = ["p0", "p1", "nobody", "new", "p7"]
    for limit, threshold in ((1, None), (2, None), (2, 0.6)):
        batched = pred.classify(ids, "group", limit, threshold, contexts=[ctx], deterministic=True)
        for nid, got in zip(ids, batched, strict=True):
            one = pred.classify([nid], "group", limit, threshold, contexts=[ctx], deterministic=True)[0]
            _same(got, one)
        assert batched[2] == []
