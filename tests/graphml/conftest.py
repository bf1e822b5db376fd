"""Shared fixtures: a small synthetic CSV graph and processed versions of it (built once)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from graphml.processing.synthetic import write_synthetic_graph

torch.set_num_threads(1)

NC = {
    "targets": [
        {"node": "person", "property": "group", "type": "classification", "split_rate": [0.6, 0.2, 0.2]}
    ]
}
REG = {
    "targets": [{"node": "person", "property": "score", "type": "regression", "split_rate": [0.6, 0.2, 0.2]}]
}
LP = {"targets": [{"edge": ["person", "knows", "person"], "type": "link_prediction"}]}
FAST = {"num-epochs": 6, "batch-size": 64, "num-hidden": 16, "fanout": [5, 5]}


@pytest.fixture(scope="session")
def csv_graph(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_graph(tmp_path_factory.mktemp("csv"))


def _processed(tmp_path_factory: pytest.TempPathFactory, csv_graph: Path, config: dict, name: str) -> Path:
    from graphml.api import run_data_processing

    out = tmp_path_factory.mktemp(name)
    run_data_processing(csv_graph, out, config=config)
    return out


@pytest.fixture(scope="session")
def nc_dir(tmp_path_factory, csv_graph) -> Path:
    return _processed(tmp_path_factory, csv_graph, NC, "nc")


@pytest.fixture(scope="session")
def reg_dir(tmp_path_factory, csv_graph) -> Path:
    return _processed(tmp_path_factory, csv_graph, REG, "reg")


@pytest.fixture(scope="session")
def lp_dir(tmp_path_factory, csv_graph) -> Path:
    return _processed(tmp_path_factory, csv_graph, LP, "lp")


@pytest.fixture(scope="session")
def nc_model(tmp_path_factory, nc_dir) -> Path:
    from graphml.api import run_training

    out = tmp_path_factory.mktemp("nc-model")
    run_training(nc_dir, out, max_hpo_jobs=1, overrides=dict(FAST, **{"enable-early-stop": False}))
    return out
