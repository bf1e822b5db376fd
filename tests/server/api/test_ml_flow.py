"""The whole Neptune ML flow through the AWS SDK against a real server: processing (exported from
the live database), training, transform, endpoint, inference; list and cancel calls."""

from __future__ import annotations

import json
from typing import Any

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


def _run(url: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST a job to ``/ml/<kind>`` as curl would, wait for it to end; its status document."""
    response = httpx.post(f"{url}/ml/{kind}", json=body)
    assert response.status_code == 200, response.text
    return wait_for(
        lambda: httpx.get(f"{url}/ml/{kind}/{body['id']}").json(), lambda r: r["status"] in DONE, 60
    )


def test_incremental_processing_and_warm_started_training(server) -> None:
    """Neptune's incremental workflows: after the graph grew, processing with
    ``previousDataProcessingJobId`` and no configuration applies the previous job's configuration
    and fitted encoders, and keeps the old vertices' positions; the old model's transform over it
    then answers for the new vertex (incremental transductive: endpoint updated to the transform).
    Training with ``previousModelTrainingJobId`` starts its HPO from the previous job's best
    hyper-parameters."""
    url, _, _ = server
    age = {
        "node": "person",
        "property": "age",
        "type": "bucket_numerical",
        "range": [20, 50],
        "bucket_cnt": 3,
    }
    budget = {"node": "project", "property": "budget", "type": "category"}
    neptune_ml = {
        "targets": [{"node": "person", "property": "team", "type": "classification"}],
        "features": [age, budget],
    }
    first = _run(url, "dataprocessing", {"id": "v1", "additionalParams": {"neptune_ml": neptune_ml}})
    assert first["status"] == "Completed", first
    # a new project with a budget no project had (a category the v1 encoder never saw) and a new
    # person working on it
    grow = "g.addV('project').property(T.id, 'j6').property('budget', 9000L)"
    assert httpx.post(f"{url}/gremlin", json={"gremlin": grow}).status_code == 200
    grow = "g.addV('person').property(T.id, 'p60').property('team', 'red').property('age', 27)"
    grow += ".addE('knows').to(V('p0')).outV().addE('works_on').to(V('j6'))"
    assert httpx.post(f"{url}/gremlin", json={"gremlin": grow}).status_code == 200

    second = _run(url, "dataprocessing", {"id": "v2", "previousDataProcessingJobId": "v1"})
    assert second["status"] == "Completed", second
    before, after = first["result"], second["result"]
    assert after["reused_configuration_from"] == "v1" and "reused_configuration_from" not in before
    assert after["nodes"]["person"] == before["nodes"]["person"] + 1  # the new export has the new vertex
    # the previous job's target and encodings, not the inferred ones (link prediction, plain numbers)
    assert after["target"] == before["target"] and after["target"]["property"] == "team"
    assert after["features"] == before["features"] and "age:bucket_numerical" in after["features"]["person"]
    # encoded by v1's encoders: the same widths (a refit would give the project budget 7 columns)
    assert after["feature_dims"] == before["feature_dims"] and before["feature_dims"]["project"] == 6
    assert after["kept_positions"] == {"person": 60, "project": 6}  # old vertices first, new ones after

    chosen = {"lr": 0.0042, "num-hidden": 24}  # values no trial would draw
    body = {"id": "t1", "dataProcessingJobId": "v1", "maxHPONumberOfTrainingJobs": 1}
    trained = _run(url, "modeltraining", {**body, "overrides": {**chosen, "num-epochs": 2}})
    assert trained["status"] == "Completed", trained

    # Incremental transductive: the v1 model transforms the v2 graph; an endpoint on the v1 model
    # knows nothing of p60 until it is updated to the transform.
    transform = _run(
        url, "modeltransform", {"id": "tr2", "dataProcessingJobId": "v2", "mlModelTrainingJobId": "t1"}
    )
    assert transform["status"] == "Completed", transform
    assert transform["result"]["feature_dims"] == before["feature_dims"]
    assert transform["result"]["new_nodes"] == {"person": 1, "project": 1}
    endpoint = {"id": "ep", "mlModelTrainingJobId": "t1"}
    assert httpx.post(f"{url}/ml/endpoints", json=endpoint).status_code == 200
    with RemotePredictor(f"{url}/ml", "ep") as predictor:
        assert predictor.classify(["p60"], "team") == [[]]
        update = {"id": "ep", "mlModelTransformJobId": "tr2", "update": True}
        assert httpx.post(f"{url}/ml/endpoints", json=update).status_code == 200
        (answer,) = predictor.classify(["p60"], "team", limit=3)
    assert sorted(label for label, _ in answer) == ["blue", "green", "red"]
    # v2 processed afresh (no previous job) refits the encoders: the v1 model no longer applies,
    # and the transform request says why (both jobs have finished, so it is checked at once)
    fresh = _run(url, "dataprocessing", {"id": "v3", "additionalParams": {"neptune_ml": neptune_ml}})
    assert fresh["result"]["feature_dims"]["project"] == 7 and "kept_positions" not in fresh["result"]
    refused = httpx.post(
        f"{url}/ml/modeltransform",
        json={"id": "tr3", "dataProcessingJobId": "v3", "mlModelTrainingJobId": "t1"},
    )
    reason = refused.json()["message"]
    assert refused.status_code == 400 and reason.startswith("dataProcessingJobId: feature widths"), reason
    assert "project 7 here, 6 when trained" in reason and "previousDataProcessingJobId" in reason

    body = {"id": "t2", "dataProcessingJobId": "v2", "previousModelTrainingJobId": "t1"}
    body |= {"maxHPONumberOfTrainingJobs": 2, "maxHPOParallelTrainingJobs": 1, "overrides": {"num-epochs": 1}}
    warm = _run(url, "modeltraining", body)
    assert warm["status"] == "Completed", warm
    assert warm["result"]["warm_started_from"] == "t1"
    first_trial, second_trial = (t["hyperparameters"] for t in warm["result"]["all_trials"])
    assert {k: first_trial[k] for k in chosen} == chosen  # the previous best trial's values
    assert first_trial["num-epochs"] == second_trial["num-epochs"] == 1  # the request's overrides win
    assert second_trial["lr"] != chosen["lr"]  # later trials are drawn as usual

    other_model = {"dataProcessingJobId": "v2", "previousModelTrainingJobId": "t1", "modelName": "transe"}
    response = httpx.post(f"{url}/ml/modeltraining", json=other_model)
    message = response.json()["message"]
    assert response.status_code == 400 and message.startswith("previousModelTrainingJobId:"), message
    assert "trained rgcn" in message
    # a previous processing job whose output was cleaned up has no configuration left to reuse
    assert httpx.delete(f"{url}/ml/dataprocessing/v1", params={"clean": "true"}).status_code == 200
    response = httpx.post(f"{url}/ml/dataprocessing", json={"previousDataProcessingJobId": "v1"})
    message = response.json()["message"]
    assert response.status_code == 400 and message.startswith("previousDataProcessingJobId:"), message
