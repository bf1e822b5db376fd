"""``seer train`` is registered and answers bad input with a usage error."""

from __future__ import annotations

import json

from click.testing import CliRunner

from server.cli.main import cli
from tests.conftest import DATASETS


def test_train_command_rejects_an_unknown_dataset(tmp_path):
    result = CliRunner().invoke(cli, ["train", "--dataset", str(tmp_path / "missing.bin")])
    assert result.exit_code == 2
    assert "not a dataset name or a graph file" in result.output


def test_train_command_trains_one_process(tmp_path):
    args = ["train", "--dataset", "cora", "--data-dir", str(DATASETS / "planetoid"), "--epochs", "15"]
    result = CliRunner().invoke(cli, [*args, "--sampler", "gns", "--hidden", "16", "--lr", "0.03"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output[result.output.index("{") :])
    # 15 epochs of GNS with 16 hidden units at lr 0.03 land between 0.75 and 0.78 from run to run
    # (at the default lr 0.01 the model is still far from converged: 0.47-0.64; DGL's threaded
    # sampling is not bit-reproducible); chance is 0.14 and the majority class 0.32, so 0.6
    # still fails when the command does not train.
    assert metrics["test_acc"] > 0.6 and len(metrics["epochs"]) == 15
