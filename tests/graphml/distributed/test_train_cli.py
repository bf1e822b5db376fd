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
    result = CliRunner().invoke(cli, [*args, "--sampler", "gns", "--hidden", "16"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output[result.output.index("{") :])
    # 15 epochs of GNS with 16 hidden units land between 0.58 and 0.71 from run to run (DGL's
    # threaded sampling is not bit-reproducible); chance is 0.14 and the majority class 0.32, so
    # 0.45 still fails when the command does not train.
    assert metrics["test_acc"] > 0.45 and len(metrics["epochs"]) == 15
