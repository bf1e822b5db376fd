"""Two METIS partitions over DistDGL on loopback train as well as one process on the same data."""

from __future__ import annotations

import re

import psutil
import pytest

from graphml.datasets import load_planetoid
from graphml.distributed import DistributedError, train_node_classification
from graphml.models.sage_training import SageConfig, train_node_classifier
from tests.conftest import DATASETS

# Full neighbourhoods and no dropout: each trainer's share of the training nodes is one batch, so
# DDP's averaged gradient is the full-batch gradient of single-process training on the same data.
CONFIG = SageConfig(
    fanouts=[-1, -1], hidden=64, dropout=0.0, lr=0.01, weight_decay=5e-4, batch_size=70, epochs=30, seed=0
)


def _dist_processes(work_dir: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if "graphml.distributed" in cmd and work_dir in cmd:
            found.append(proc)
    return found


def test_two_partitions_on_distdgl_match_single_process_accuracy(tmp_path):
    graph = load_planetoid("cora", DATASETS / "planetoid")
    single = train_node_classifier(graph, CONFIG, progress=False)
    work = tmp_path / "dist"
    result = train_node_classification(graph, 2, CONFIG, work_dir=work, timeout_s=540)
    assert result["num_partitions"] == 2
    assert len(result["epochs"]) == CONFIG.epochs
    # the partitions really were METIS partitions served by two servers
    assert (work / "parts" / "part0").is_dir() and (work / "parts" / "part1").is_dir()
    for i in (0, 1):
        log = (work / f"machine-{i}.log").read_text()
        assert f"start graph service on server {i} for part {i}" in log
        # client ids follow registration order, so only the machine id is fixed
        assert re.search(rf"Machine \({i}\) group \(0\) client \(\d\) connect to server successfuly", log)
    assert result["test_acc"] > 0.75
    assert abs(result["test_acc"] - single.test_acc) <= 0.01, (result["test_acc"], single.test_acc)
    assert _dist_processes(str(work)) == []  # no server or trainer left behind


def test_a_failing_trainer_is_reported_and_nothing_is_left(tmp_path):
    graph = load_planetoid("cora", DATASETS / "planetoid")
    bad = SageConfig(fanouts=[-1, -1], epochs=1, hidden=-5)  # the trainer fails building the model
    with pytest.raises(DistributedError, match="machine-"):
        train_node_classification(graph, 2, bad, work_dir=tmp_path / "dist", timeout_s=300)
    assert _dist_processes(str(tmp_path / "dist")) == []
