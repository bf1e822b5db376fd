"""The /ml API's answers to bad requests, and its records surviving a server restart.

A real uvicorn server on loopback, driven by the AWS SDK's neptunedata client and by httpx."""

from __future__ import annotations

import json

import httpx
import pytest
from botocore.exceptions import ClientError, ParamValidationError

from server.config import Settings
from server.store.memory import MemoryStore
from tests.server.api.live import build_app, neptunedata, serve
from tests.server.jobs.graphs import social_graph


@pytest.fixture(scope="module")
def store() -> MemoryStore:
    graph = MemoryStore()
    social_graph(graph, people=30)
    return graph


@pytest.fixture(scope="module")
def server(tmp_path_factory, store):
    """A server whose jobs are never run (no worker), so requests see records as they were queued."""
    data = tmp_path_factory.mktemp("data")
    settings = Settings(data_dir=data, embedded_worker=False)
    with serve(build_app(settings, store)) as url:
        yield url, data


def _error(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["code"], body["message"]


@pytest.mark.parametrize(
    ("path", "body", "status", "code", "field"),
    [
        (
            "/ml/dataprocessing",
            {"id": "x", "procesedDataS3Location": "/tmp/x"},
            400,
            "InvalidParameterException",
            "procesedDataS3Location",
        ),
        ("/ml/dataprocessing", {"modelType": "gnn"}, 400, "InvalidParameterException", "modelType"),
        (
            "/ml/dataprocessing",
            {"inputDataS3Location": "s3://bucket/graph"},
            400,
            "BadRequestException",
            "inputDataS3Location",
        ),
        (
            "/ml/dataprocessing",
            {"inputDataS3Location": "/no/such/folder"},
            400,
            "BadRequestException",
            "inputDataS3Location",
        ),
        (
            "/ml/modeltraining",
            {"trainModelS3Location": "/tmp/m"},
            400,
            "MissingParameterException",
            "dataProcessingJobId",
        ),
        (
            "/ml/modeltraining",
            {"dataProcessingJobId": "nope"},
            404,
            "MLResourceNotFoundException",
            "dataProcessingJobId",
        ),
        (
            "/ml/modeltraining",
            {"dataProcessingJobId": "p", "maxHPONumberOfTrainingJobs": 0},
            400,
            "InvalidParameterException",
            "maxHPONumberOfTrainingJobs",
        ),
        (
            "/ml/modeltraining",
            {"dataProcessingJobId": "p", "modelName": "gat"},
            400,
            "InvalidParameterException",
            "modelName",
        ),
        (
            "/ml/modeltransform",
            {"dataProcessingJobId": "p"},
            400,
            "BadRequestException",
            "mlModelTrainingJobId",
        ),
        ("/ml/endpoints", {"id": "e"}, 400, "BadRequestException", "mlModelTrainingJobId"),
        (
            "/ml/endpoints",
            {"mlModelTrainingJobId": "nope"},
            404,
            "MLResourceNotFoundException",
            "mlModelTrainingJobId",
        ),
    ],
)
def test_bad_request_names_the_field(server, path, body, status, code, field) -> None:
    url, _ = server
    got_status, got_code, message = _error(httpx.post(url + path, json=body))
    assert (got_status, got_code) == (status, code)
    assert message.startswith(f"{field}:") or field in message, message


def test_bad_config_json_and_unknown_feature_type(server, tmp_path) -> None:
    url, _ = server
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "training-data-configuration.json").write_text("{not json")
    status, _, message = _error(
        httpx.post(url + "/ml/dataprocessing", json={"inputDataS3Location": str(tmp_path / "bad")})
    )
    assert status == 400 and message.startswith("configFileName:") and "not valid JSON" in message
    (tmp_path / "odd").mkdir()
    config = {"targets": [{"node": "person", "property": "team", "type": "classification"}],
              "features": [{"node": "person", "property": "age", "type": "numerics"}]}  # fmt: skip
    (tmp_path / "odd" / "training-data-configuration.json").write_text(json.dumps(config))
    status, _, message = _error(
        httpx.post(url + "/ml/dataprocessing", json={"inputDataS3Location": f"file://{tmp_path / 'odd'}"})
    )
    assert status == 400 and message.startswith("configFileName.features[0].type:") and "numerics" in message


def test_target_property_must_exist_in_the_graph(server) -> None:
    url, _ = server
    body = {
        "additionalParams": {
            "neptune_ml": {"targets": [{"node": "person", "property": "colour", "type": "classification"}]}
        }
    }
    status, _, message = _error(httpx.post(url + "/ml/dataprocessing", json=body))
    assert status == 400
    assert message.startswith("additionalParams.neptune_ml.targets[0].property:") and "colour" in message


def test_sdk_sees_codes_and_messages(server) -> None:
    url, _ = server
    client = neptunedata(url)
    with pytest.raises(ClientError) as info:
        client.get_ml_model_training_job(id="missing")
    assert info.value.response["Error"]["Code"] == "MLResourceNotFoundException"
    assert "missing" in info.value.response["Error"]["Message"]
    with pytest.raises(ParamValidationError):  # the SDK itself insists on Neptune's required fields
        client.start_ml_data_processing_job(id="x")
    with pytest.raises(ClientError) as info:
        client.list_ml_endpoints(maxItems=5000)
    assert info.value.response["Error"]["Code"] == "InvalidParameterException"
    assert info.value.response["Error"]["Message"].startswith("maxItems:")


def test_duplicate_id_is_refused(server) -> None:
    url, _ = server
    client = neptunedata(url)
    client.start_ml_data_processing_job(
        id="twice", inputDataS3Location="", processedDataS3Location="out/twice"
    )
    with pytest.raises(ClientError) as info:
        client.start_ml_data_processing_job(
            id="twice", inputDataS3Location="", processedDataS3Location="out/twice"
        )
    assert "already exists" in info.value.response["Error"]["Message"]


def test_jobs_and_endpoints_survive_a_restart(tmp_path, store) -> None:
    settings = Settings(data_dir=tmp_path, embedded_worker=False)
    with serve(build_app(settings, store)) as url:
        client = neptunedata(url)
        client.start_ml_data_processing_job(id="proc", inputDataS3Location="", processedDataS3Location="proc")
        client.start_ml_model_training_job(
            id="train", dataProcessingJobId="proc", trainModelS3Location="model"
        )
        client.create_ml_endpoint(id="ep", mlModelTrainingJobId="train")
        before = {
            "proc": client.get_ml_data_processing_job(id="proc")["status"],
            "train": client.get_ml_model_training_job(id="train")["status"],
            "ep": client.get_ml_endpoint(id="ep")["status"],
        }
    assert before == {"proc": "InProgress", "train": "InProgress", "ep": "Creating"}
    with serve(build_app(settings, store)) as url:
        client = neptunedata(url)
        assert client.get_ml_data_processing_job(id="proc")["processingJob"]["status"] == "Queued"
        assert client.get_ml_endpoint(id="ep")["status"] == "Creating"
        assert client.cancel_ml_data_processing_job(id="proc")["status"] == "Stopped"  # queued: stops at once
        assert client.list_ml_data_processing_jobs()["ids"] == ["proc"]
        assert client.list_ml_model_training_jobs()["ids"] == ["train"]
        assert client.list_ml_endpoints()["ids"] == ["ep"]
        # the stopped processing job fails the training queued on it, which fails the endpoint
        training = client.get_ml_model_training_job(id="train")
        assert training["status"] == "Failed"
        assert "dataprocessing job proc is Stopped" in training["hpoJob"]["failureReason"]
        endpoint = client.get_ml_endpoint(id="ep")
        assert (
            endpoint["status"] == "Failed"
            and "modeltraining job train" in endpoint["endpoint"]["failureReason"]
        )
        assert client.delete_ml_endpoint(id="ep")["status"] == "Deleted"
        assert client.list_ml_endpoints()["ids"] == []
