"""End-to-end training on tiny graphs: node classification and regression, link prediction
(RGCN and KGE), edge regression, reproducibility, artifacts, HPO parameters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from graphml.api import ConfigError, run_data_processing, run_training
from graphml.training.kge_trainer import Triples, add_n3_gradient, train_kge
from graphml.training.params import trial_params, tuned_tiers
from tests.graphml.conftest import FAST


def test_node_classification_learns_and_writes_artifacts(nc_model: Path) -> None:
    for name in ("model.pt", "model-config.json", "metrics.json", "training-curves.png"):
        assert (nc_model / name).stat().st_size > 0
    metrics = json.loads((nc_model / "metrics.json").read_text())
    assert metrics["eval_metric"] == "acc"
    assert metrics["test"]["acc"] >= 0.8  # two well separated communities; chance is 0.5
    assert len(metrics["curves"]["train_loss"]) == FAST["num-epochs"]
    assert (nc_model / "training-curves.png").read_bytes()[:4] == b"\x89PNG"


def test_regression_beats_the_mean(reg_dir: Path, tmp_path: Path) -> None:
    events: list[dict] = []
    summary = run_training(
        reg_dir,
        tmp_path,
        max_hpo_jobs=1,
        overrides=dict(FAST, **{"num-epochs": 25, "lr": 0.01, "enable-early-stop": False}),
        progress=events.append,
    )
    # scores are 1 or 3 (+ noise): predicting the mean would give an RMSE of about 1
    assert summary["valid"]["rmse"] < 0.6
    epochs = [e["epoch"] for e in events if "epoch" in e]
    assert epochs and epochs[0] == 1 and all(e["stage"] == "training" for e in events if "epoch" in e)
    assert events[-1]["stage"] == "done"


def test_rgcn_link_prediction_reports_ranking_metrics(lp_dir: Path, tmp_path: Path) -> None:
    summary = run_training(lp_dir, tmp_path, max_hpo_jobs=1, overrides=dict(FAST, **{"num-epochs": 3}))
    assert summary["model"] == "rgcn" and summary["eval_metric"] == "mrr"
    for key in ("mrr", "hits@1", "hits@3", "hits@10"):
        assert 0.0 <= summary["test"][key] <= 1.0
    assert summary["test"]["hits@1"] <= summary["test"]["hits@3"] <= summary["test"]["hits@10"]


@pytest.mark.parametrize("model", ["transe", "distmult", "rotate"])
def test_kge_models_train_from_a_processed_graph(lp_dir: Path, tmp_path: Path, model: str) -> None:
    summary = run_training(
        lp_dir,
        tmp_path,
        model_name=model,
        max_hpo_jobs=1,
        overrides={"num-epochs": 3, "num-hidden": 16, "batch-size": 128},
    )
    assert summary["model"] == model and 0.0 < summary["valid"]["mrr"] <= 1.0
    config = json.loads((tmp_path / "model-config.json").read_text())
    assert config["num_entities"] == 96 and config["num_relations"] == 2


def chain_triples(n: int = 40) -> Triples:
    """``next`` (i -> i+1) and ``skip`` (i -> i+2) edges; every sixth ``next`` edge is held out
    (alternately valid and test) and is implied by the others."""
    nxt = [(i, 0, i + 1) for i in range(n - 1)]
    held = nxt[5::6]
    train = [t for t in nxt if t not in held] + [(i, 1, i + 2) for i in range(n - 2)]
    return Triples(torch.tensor(train), torch.tensor(held[::2]), torch.tensor(held[1::2]), n, 2)


def test_kge_learns_a_chain() -> None:
    """``next`` (i -> i+1) edges held out are implied by ``skip`` (i -> i+2) and the other ``next``
    edges; RotatE (rotations compose) must recover them, TransE must beat random ranking."""
    data = chain_triples()
    n = data.num_entities
    over = {
        "num-epochs": 60,
        "num-hidden": 32,
        "batch-size": 32,
        "lr": 0.02,
        "dropout": 0.0,
        "enable-early-stop": False,
    }
    rotate = train_kge("rotate", data, trial_params("rotate", 0, 1, over))
    assert rotate.metrics["test"]["mrr"] > 0.9
    transe = train_kge("transe", data, trial_params("transe", 0, 1, over))
    random_mrr = sum(1 / r for r in range(1, n)) / (n - 1)  # about 0.11
    assert transe.metrics["valid"]["mrr"] + transe.metrics["test"]["mrr"] > 2 * random_mrr


def test_kge_adagrad_with_n3_learns_the_chain_and_keeps_embeddings_small() -> None:
    """The FB15k-237 recipe (Adagrad, N3 on the batch's embeddings) must learn the chain too, and
    a strong N3 weight must shrink the embeddings it learns."""
    data = chain_triples()
    over = {
        "num-epochs": 40,
        "num-hidden": 32,
        "batch-size": 32,
        "optimizer": "adagrad",
        "lr": 0.1,
        "dropout": 0.0,
        "label-smoothing": 0.0,
        "enable-early-stop": False,
    }
    plain = train_kge("rotate", data, trial_params("rotate", 0, 1, over))
    assert plain.metrics["test"]["mrr"] > 0.9
    heavy = train_kge(
        "rotate", data, trial_params("rotate", 0, 1, dict(over, **{"regularization-coef": 0.5}))
    )
    assert heavy.model.entity.weight.abs().pow(3).sum() < 0.5 * plain.model.entity.weight.abs().pow(3).sum()
    batch = data.train[:8]
    assert add_n3_gradient(plain.model, batch, 1.0) == pytest.approx(float(n3_penalty(plain.model, batch)))


def n3_penalty(model: torch.nn.Module, queries: torch.Tensor) -> torch.Tensor:
    """Reference N3 through autograd: ``Σ |x|^3 / b`` over each query's head, relation and tail
    embeddings, looked up the ordinary way."""
    factors = [model.entity(queries[:, 0]), model.relation(queries[:, 1]), model.entity(queries[:, 2])]
    return sum(f.abs().pow(3).sum() for f in factors) / len(queries)


@pytest.mark.parametrize("model", ["distmult", "rotate"])
def test_n3_gradient_written_out_matches_autograd(model: str) -> None:
    from graphml.models.kge import make_kge

    torch.manual_seed(0)
    queries = torch.tensor([[0, 1, 2], [2, 0, 0], [0, 3, 4], [5, 1, 2]])  # repeated rows on purpose
    auto, mine = make_kge(model, 6, 2, 8), make_kge(model, 6, 2, 8)
    mine.load_state_dict(auto.state_dict())
    (0.3 * n3_penalty(auto, queries)).backward()
    value = add_n3_gradient(mine, queries, 0.3)
    assert value == pytest.approx(float(0.3 * n3_penalty(auto, queries)), rel=1e-6)
    for a, b in zip(auto.parameters(), mine.parameters(), strict=True):
        assert torch.allclose(a.grad, b.grad, atol=1e-7)


def test_edge_regression(csv_graph: Path, tmp_path: Path) -> None:
    cfg = {"targets": [{"edge": ["person", "likes", "product"], "property": "since", "type": "regression"}]}
    run_data_processing(csv_graph, tmp_path / "p", config=cfg)
    summary = run_training(
        tmp_path / "p", tmp_path / "m", max_hpo_jobs=1, overrides=dict(FAST, **{"num-epochs": 2})
    )
    assert summary["eval_metric"] == "rmse" and summary["valid"]["rmse"] > 0


def test_same_seed_same_model(nc_dir: Path, tmp_path: Path) -> None:
    over = dict(FAST, **{"num-epochs": 2, "seed": 3})
    a = run_training(nc_dir, tmp_path / "a", max_hpo_jobs=1, overrides=over)
    b = run_training(nc_dir, tmp_path / "b", max_hpo_jobs=1, overrides=over)
    assert a["valid"] == b["valid"]
    wa, wb = torch.load(tmp_path / "a" / "model.pt"), torch.load(tmp_path / "b" / "model.pt")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    run_training(nc_dir, tmp_path / "c", max_hpo_jobs=1, overrides=dict(over, seed=4))
    wc = torch.load(tmp_path / "c" / "model.pt")
    assert not all(torch.equal(wa[k], wc[k]) for k in wa)


def test_bad_requests(nc_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        run_training(nc_dir, tmp_path, model_name="transe", max_hpo_jobs=1)
    assert info.value.field == "modelName"
    with pytest.raises(ConfigError) as info:
        run_training(nc_dir, tmp_path, max_hpo_jobs=1, overrides={"num-epochz": 3})
    assert info.value.field == "overrides.num-epochz"
    with pytest.raises(ConfigError) as info:
        run_training(nc_dir, tmp_path, max_hpo_jobs=0)
    assert info.value.field == "maxHPONumberOfTrainingJobs"


def test_unknown_kge_optimizer_is_refused(lp_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        run_training(lp_dir, tmp_path, model_name="distmult", max_hpo_jobs=1, overrides={"optimizer": "sgd"})
    assert info.value.field == "overrides.optimizer" and "adagrad" in str(info.value)


def test_hpo_tiers_follow_neptune() -> None:
    assert tuned_tiers(2) == {1} and tuned_tiers(10) == {1, 2} and tuned_tiers(51) == {1, 2, 3}
    base = trial_params("rgcn", 0, 5, {})
    assert base["num-hidden"] == 64 and base["fanout"] == [10, 15, 15]
    drawn = [trial_params("rgcn", k, 5, {"lr": 0.002}) for k in range(1, 6)]
    assert all(16 <= p["num-hidden"] <= 128 and p["lr"] == 0.002 for p in drawn)
    assert all(p["dropout"] == 0.3 for p in drawn)  # tier 2 is not tuned below 10 trials
    assert trial_params("rgcn", 3, 5, {}) == trial_params("rgcn", 3, 5, {})


def test_parallel_hpo_in_processes(nc_dir: Path, tmp_path: Path) -> None:
    events: list[dict] = []
    summary = run_training(
        nc_dir,
        tmp_path,
        max_hpo_jobs=3,
        max_hpo_parallel=2,
        overrides={"num-epochs": 3, "batch-size": 64, "fanout": [5, 5]},
        progress=events.append,
    )
    assert summary["trials"] == 3 and len(summary["all_trials"]) == 3
    assert {e["trial"] for e in events if "epoch" in e} == {1, 2, 3}
    assert all((tmp_path / "trials" / str(k) / "model.pt").exists() for k in range(3))
