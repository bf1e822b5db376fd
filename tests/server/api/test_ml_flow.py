"""The whole Neptune ML flow through the AWS SDK against a real server: processing (exported from
the live database), training, transform, endpoint, inference; list and cancel calls."""

from __future__ import annotations

import json

import httpx
import pytest

from graphml.inference.remote import RemoteInferenceError, RemotePredictor
from server.api.inference import create_endpoint_app
from server.config import Settings
from server.jobs.records import JobRecords, make_engine
from server.jobs.serving import Predictors
from server.store.memory import MemoryStore
from tests.server.api.live import build_app, neptunedata, serve, wait_for
from tests.server.jobs.graphs import social_graph

DONE = ("Completed", "Failed", "Stopped")


@pytest.fixture
def server(tmp_path):
    store = MemoryStore()
    social_graph(store, people=60)
    settings = Settings(data_dir=tmp_path / "data", job_heartbeat_s=0.3)

    def restarted():  # a new server process's app over the same database and data folder
        return serve(build_app(settings, store))

    with serve(build_app(settings, store)) as url:
        yield url, tmp_path, restarted


def test_node_classification_flow_through_the_sdk(server) -> None:
    url, tmp, restarted = server
    client = neptunedata(url)
    # Export-time targets, as Neptune users write them, in the input location; the graph itself
    # is exported from the live database because the folder holds no CSV files.
    spec = tmp / "spec"
    spec.mkdir()
    targets = {"targets": [{"node": "person", "property": "team", "type": "classification"}]}
    (spec / "training-data-configuration.json").write_text(json.dumps(targets))
    started = client.start_ml_data_processing_job(
        id="nc", inputDataS3Location=spec.as_uri(), processedDataS3Location=str(tmp / "processed")
    )
    assert started["id"] == "nc" and started["arn"].endswith("dataprocessing/nc")
    processing = wait_for(
        lambda: client.get_ml_data_processing_job(id="nc"), lambda r: r["status"] in DONE, 60
    )
    assert processing["status"] == "Completed", processing
    assert processing["processingJob"]["outputLocation"] == (tmp / "processed").as_uri()
    # Fix the epochs the way Neptune users do from an SDK: model-HPO-configuration.json beside
    # the processed data.
    hpo = {
        "models": [{"model": "rgcn", "fixed-param": [{"param": "num-epochs", "type": "int", "default": 3}]}]
    }
    (tmp / "processed" / "model-HPO-configuration.json").write_text(json.dumps(hpo))
    client.start_ml_model_training_job(
        id="nc",
        dataProcessingJobId="nc",
        trainModelS3Location=str(tmp / "model"),
        maxHPONumberOfTrainingJobs=1,
        trainingInstanceType="ml.m5.xlarge",
    )
    training = wait_for(lambda: client.get_ml_model_training_job(id="nc"), lambda r: r["status"] in DONE, 90)
    assert training["status"] == "Completed", training
    assert training["mlModels"][0]["name"] == "nc"
    detail = httpx.get(f"{url}/ml/modeltraining/nc").json()
    assert detail["progress"]["best_metric"]["value"] is not None
    assert detail["progress"]["epochs"] == 3 and detail["result"]["hyperparameters"]["num-epochs"] == 3
    assert (tmp / "model" / "model.pt").exists()

    client.start_ml_model_transform_job(
        id="nc-t",
        dataProcessingJobId="nc",
        mlModelTrainingJobId="nc",
        modelTransformOutputS3Location=str(tmp / "t"),
    )
    transform = wait_for(
        lambda: client.get_ml_model_transform_job(id="nc-t"), lambda r: r["status"] in DONE, 60
    )
    assert transform["status"] == "Completed", transform

    client.create_ml_endpoint(id="nc-ep", mlModelTransformJobId="nc-t")
    endpoint = client.get_ml_endpoint(id="nc-ep")
    assert endpoint["status"] == "InService" and endpoint["endpoint"]["status"] == "InService"
    assert client.list_ml_endpoints(maxItems=5)["ids"] == ["nc-ep"]

    predictor = RemotePredictor(f"{url}/ml", "nc-ep")
    assert predictor.describe()["task"] == "node_class"
    answers = predictor.classify(["p0", "p1", "p2", "unknown"], "team", limit=2)
    assert [len(a) for a in answers] == [2, 2, 2, 0]  # transductive: an unknown vertex gets nothing
    assert all(label in ("red", "green", "blue") and 0 <= p <= 1 for label, p in answers[0])
    with pytest.raises(RemoteInferenceError) as wrong:
        predictor.classify(["p0"], "age")
    assert wrong.value.status_code == 400 and "team" in str(wrong.value)
    with pytest.raises(RemoteInferenceError) as missing:
        RemotePredictor(f"{url}/ml", "nope").describe()
    assert missing.value.status_code == 404

    # The `seer endpoint` application serves the same model over HTTP from the same database
    # (its command line is run by the air-routes flow, under `slow`).
    engine = make_engine(f"sqlite:///{tmp / 'data' / 'seer.db'}")
    records = JobRecords(engine)
    with serve(create_endpoint_app(records, Predictors(records))) as base:
        assert httpx.get(base + "/endpoints").json() == {"ids": ["nc-ep"]}
        with RemotePredictor(base, "nc-ep") as remote:
            assert remote.classify(["p0", "p1", "p2", "unknown"], "team", limit=2) == answers
    engine.dispose()

    # A restarted server knows the jobs and the endpoint, and serves the model from its artifacts.
    with restarted() as again:
        client_again = neptunedata(again)
        assert client_again.get_ml_model_training_job(id="nc")["status"] == "Completed"
        assert client_again.get_ml_model_transform_job(id="nc-t")["status"] == "Completed"
        assert client_again.get_ml_endpoint(id="nc-ep")["status"] == "InService"
        with RemotePredictor(f"{again}/ml", "nc-ep") as remote:
            assert remote.classify(["p0", "p1", "p2", "unknown"], "team", limit=2) == answers

    # Lists and cancellation of finished work.
    assert client.list_ml_data_processing_jobs(maxItems=10)["ids"] == ["nc"]
    assert client.list_ml_model_training_jobs()["ids"] == ["nc"]
    assert client.list_ml_model_transform_jobs()["ids"] == ["nc-t"]
    assert client.delete_ml_endpoint(id="nc-ep")["status"] == "Deleted"
    assert client.cancel_ml_model_transform_job(id="nc-t", clean=True)["status"] == "Completed"
    assert not (tmp / "t").exists()
