"""RGCN on a graph with one vertex label and one edge label (DGL hands plain tensors, not
per-type dicts, for such graphs and their blocks): process, train, transform and predict."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from graphml.api import load_predictor, run_data_processing, run_training, run_transform
from graphml.inference import NodeContext

FAST = {"num-epochs": 2, "batch-size": 32, "num-hidden": 8, "fanout": [4, 4], "enable-early-stop": False}


def _write_graph(folder: Path, n: int = 40, seed: int = 3) -> Path:
    """``n`` ``site`` vertices in two regions, ``link`` edges mostly inside a region."""
    rng = random.Random(seed)
    (folder / "nodes").mkdir(parents=True)
    (folder / "edges").mkdir(parents=True)
    with open(folder / "nodes" / "site.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["~id", "~label", "height:Int", "region:String"])
        for i in range(n):
            w.writerow([f"s{i}", "site", rng.randint(0, 10) + 20 * (i % 2), "east" if i % 2 else "west"])
    with open(folder / "edges" / "link.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["~id", "~from", "~to", "~label"])
        k = 0
        for i in range(n):
            for j in rng.sample([j for j in range(n) if j % 2 == i % 2 and j != i], 3):
                w.writerow([f"e{k}", f"s{i}", f"s{j}", "link"])
                k += 1
    return folder


@pytest.fixture(scope="module")
def one_type_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_graph(tmp_path_factory.mktemp("one-type") / "csv")


@pytest.mark.parametrize(
    "target",
    [
        {"node": "site", "property": "region", "type": "classification", "split_rate": [0.6, 0.2, 0.2]},
        {"edge": ["site", "link", "site"], "type": "link_prediction"},
    ],
    ids=["node_class", "link_prediction"],
)
def test_one_vertex_and_edge_label_end_to_end(one_type_csv: Path, tmp_path: Path, target: dict) -> None:
    summary = run_data_processing(one_type_csv, tmp_path / "processed", config={"targets": [target]})
    assert summary
    metrics = run_training(tmp_path / "processed", tmp_path / "model", max_hpo_jobs=1, overrides=FAST)
    assert metrics
    run_transform(tmp_path / "processed", tmp_path / "model", tmp_path / "tx")
    ctx = NodeContext(
        "new", "site", {"height": 25}, [("link", "out", "s1", "site"), ("link", "in", "s3", "site")]
    )
    for folder in (tmp_path / "tx", tmp_path / "model"):
        pred = load_predictor(folder)
        if "node" in target:
            out = pred.classify(["s0", "s1", "nope", "new"], "region", limit=2, contexts=[ctx])
            assert out[2] == []
            for res in (out[0], out[1], out[3]):
                assert {c for c, _ in res} == {"east", "west"}
                assert sum(p for _, p in res) == pytest.approx(1.0, abs=1e-5)
        else:
            out = pred.predict_links(["s0", "s1", "nope", "new"], "link", limit=5, contexts=[ctx])
            assert out[2] == []
            for res in (out[0], out[1], out[3]):
                assert len(res) == 5 and all(i.startswith("s") for i, _ in res)
                assert [p for _, p in res] == sorted((p for _, p in res), reverse=True)
            existing = set(pred.pg.graph.successors(0).tolist())
            row0 = pred.pg.id_maps["site"][0]
            best0 = pred.predict_links([row0], "link", limit=100)[0]
            assert not {pred.pg.index["site"][i] for i, _ in best0} & (existing | {0})
