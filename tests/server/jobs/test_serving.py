"""Serving: which predictor an endpoint id gets, and when a change of the endpoint is seen."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from server.jobs.records import JobRecords
from server.jobs.serving import EndpointUnavailable, Predictors


class CountingRecords(JobRecords):
    """Job records that count the endpoint reads."""

    reads = 0

    def get_endpoint(self, id: str):  # noqa: ANN201 - as the parent's
        self.reads += 1
        return super().get_endpoint(id)


def _serving_endpoint(records: JobRecords, tmp_path: Path, model: str = "m1") -> None:
    records.create_job(
        "modeltraining", model, {"request": {}}, str(tmp_path / model), str(tmp_path / f"{model}.log")
    )
    records.claim("w")
    records.finish("modeltraining", model, "w", "Completed")
    records.put_endpoint("ep", {}, ("modeltraining", model), None, update=False)


@pytest.fixture
def counting(records: JobRecords) -> CountingRecords:
    return CountingRecords(records.engine)


def test_a_serving_endpoint_is_read_again_only_after_recheck_s(counting: CountingRecords, tmp_path) -> None:
    _serving_endpoint(counting, tmp_path)
    loaded: list[Path] = []
    predictors = Predictors(counting, recheck_s=0.3, load=lambda path: loaded.append(path) or object())
    first = predictors.get("ep")
    reads = counting.reads
    assert [predictors.get("ep") for _ in range(5)] == [first] * 5
    assert counting.reads == reads  # trusted for recheck_s: no record read per query
    assert loaded == [tmp_path / "m1"]

    JobRecords(counting.engine).delete_endpoint("ep")  # by another process (its own records)
    assert predictors.get("ep") is first
    time.sleep(0.35)
    with pytest.raises(EndpointUnavailable, match="no ML endpoint"):
        predictors.get("ep")


def test_forget_applies_a_change_at_once(counting: CountingRecords, tmp_path) -> None:
    _serving_endpoint(counting, tmp_path)
    predictors = Predictors(counting, recheck_s=3600, load=lambda path: path)
    assert predictors.get("ep") == tmp_path / "m1"
    JobRecords(counting.engine).delete_endpoint("ep")
    predictors.forget("ep")  # what the REST routes call after a change
    with pytest.raises(EndpointUnavailable):
        predictors.get("ep")


def test_an_update_is_served_once_its_model_is_ready(counting: CountingRecords, tmp_path) -> None:
    """Written through this process's records (the in-process worker): seen at once."""
    _serving_endpoint(counting, tmp_path)
    predictors = Predictors(counting, recheck_s=3600, load=lambda path: path)
    assert predictors.get("ep") == tmp_path / "m1"
    counting.create_job(
        "modeltraining", "m2", {"request": {}}, str(tmp_path / "m2"), str(tmp_path / "m2.log")
    )
    counting.put_endpoint("ep", {}, ("modeltraining", "m2"), None, update=True)
    assert predictors.get("ep") == tmp_path / "m1"  # Updating: the old model still serves
    counting.claim("w")
    counting.finish("modeltraining", "m2", "w", "Completed")
    assert predictors.get("ep") == tmp_path / "m2"
