"""The /ml API's answers to bad requests, and its records surviving a server restart.

A real uvicorn server on loopback, driven by the AWS SDK's neptunedata client and by httpx."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError, ParamValidationError

from graphml.processing.features import FEATURE_TYPES
from server.config import Settings
from server.jobs.records import COMPLETED, JobRecords, make_engine
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
        (
            "/ml/dataprocessing",
            {
                "additionalParams": {
                    "neptune_ml": {
                        "targets": [{"node": "person", "property": "team", "type": "clasification"}]
                    }
                }
            },
            400,
            "BadRequestException",
            "additionalParams.neptune_ml.targets[0].type",
        ),
        (
            "/ml/dataprocessing",
            {
                "additionalParams": {
                    "neptune_ml": {"targets": [{"node": "person", "type": "link_prediction"}]}
                }
            },
            400,
            "BadRequestException",
            "additionalParams.neptune_ml.targets[0].type",
        ),
        (
            "/ml/dataprocessing",
            {
                "additionalParams": {
                    "neptune_ml": {
                        "target": [{"node": "person", "property": "team", "type": "classification"}]
                    }
                }
            },
            400,
            "BadRequestException",
            "additionalParams.neptune_ml.target",
        ),
        (
            "/ml/dataprocessing",
            {
                "additionalParams": {
                    "neptune_ml": {"features": [{"node": "person", "property": ["age"], "type": "numerical"}]}
                }
            },
            400,
            "BadRequestException",
            "additionalParams.neptune_ml.features[0].property",
        ),
        (
            "/ml/dataprocessing",
            {
                "additionalParams": {
                    "neptune_ml": {
                        "features": [
                            {"node": "person", "property": "age", "type": "numerical", "norm": "minmax"}
                        ]
                    }
                }
            },
            400,
            "BadRequestException",
            "additionalParams.neptune_ml.features[0].norm",
        ),
        (
            "/ml/dataprocessing",
            {
                "additionalParams": {
                    "neptune_ml": {
                        "features": [
                            {
                                "node": "person",
                                "property": "age",
                                "type": "numerical",
                                "normalise": "standard",
                            }
                        ]
                    }
                }
            },
            400,
            "BadRequestException",
            "additionalParams.neptune_ml.features[0].normalise",
        ),
        (
            "/ml/dataprocessing",
            {"additionalParams": {"neptune_ml": {"targets": [{"node": "person", "type": "classification"}]}}},
            400,
            "BadRequestException",
            "additionalParams.neptune_ml.targets[0].property",
        ),
        (
            "/ml/dataprocessing",
            {
                "additionalParams": {
                    "neptune_ml": {"targets": [{"edge": ["person", "knows"], "type": "link_prediction"}]}
                }
            },
            400,
            "BadRequestException",
            "additionalParams.neptune_ml.targets[0].edge",
        ),
        (
            "/ml/dataprocessing",
            {
                "additionalParams": {
                    "neptune_ml": {
                        "targets": [
                            {
                                "node": "person",
                                "property": "team",
                                "type": "classification",
                                "split_rate": [0.8, 0.2],
                            }
                        ]
                    }
                }
            },
            400,
            "BadRequestException",
            "additionalParams.neptune_ml.targets[0].split_rate",
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


@pytest.mark.parametrize(
    "feature_type",
    ["text_sbert", "text_sbert128", "text_sbert512", "text_fasttext", "text_word2vec", "word2vec"],
)
def test_neptune_feature_types_seer_does_not_implement(server, feature_type) -> None:
    url, _ = server
    features = [{"node": "person", "property": "age", "type": feature_type}]
    body = {"additionalParams": {"neptune_ml": {"features": features}}}
    status, _, message = _error(httpx.post(url + "/ml/dataprocessing", json=body))
    assert status == 400
    assert message.startswith("additionalParams.neptune_ml.features[0].type:")
    assert f"{feature_type!r} is a Neptune ML type Seer does not implement" in message
    assert message.endswith("use one of: " + ", ".join(FEATURE_TYPES))


def test_every_feature_type_processing_implements_is_accepted(server) -> None:
    url, _ = server
    required = {"bucket_numerical": {"range": [0, 100], "bucket_cnt": 10}}  # options it cannot do without
    for feature_type in FEATURE_TYPES:
        features = [
            {"node": "person", "property": "age", "type": feature_type, **required.get(feature_type, {})}
        ]
        response = httpx.post(
            url + "/ml/dataprocessing", json={"additionalParams": {"neptune_ml": {"features": features}}}
        )
        assert response.status_code == 200, (feature_type, response.text)
    features = [{"node": "person", "property": "age", "type": "bucket_numerical"}]
    status, _, message = _error(
        httpx.post(
            url + "/ml/dataprocessing", json={"additionalParams": {"neptune_ml": {"features": features}}}
        )
    )
    assert status == 400 and "bucket_numerical needs range and bucket_cnt" in message, message


def _published(label: dict[str, Any], features: list[dict[str, Any]]) -> dict[str, Any]:
    """A published training-data-configuration.json for the files of :func:`_csv_input`."""
    person = {"file_name": "nodes/person.csv", "separator": ",", "node": ["~id", "person"],
              "features": features, "labels": [label]}  # fmt: skip
    knows = {"file_name": "edges/knows.csv", "separator": ",", "source": ["~from", "person"],
             "relation": ["", "knows"], "dest": ["~to", "person"], "features": [], "labels": []}  # fmt: skip
    return {"version": "v2.0", "query_engine": "gremlin", "graph": [{"nodes": [person], "edges": [knows]}]}


def _csv_input(folder: Path, config: dict[str, Any]) -> str:
    """An input location of Neptune Gremlin CSV files (people who know each other) and ``config``."""
    (folder / "nodes").mkdir(parents=True)
    (folder / "nodes" / "person.csv").write_text(
        "~id,~label,team:String,age:Int\np1,person,red,20\np2,person,blue,30\n"
    )
    (folder / "edges").mkdir()
    (folder / "edges" / "knows.csv").write_text("~id,~from,~to,~label\ne1,p1,p2,knows\n")
    (folder / "training-data-configuration.json").write_text(json.dumps(config))
    return folder.as_uri()


TEAM = {"label": ["team", "classification"]}
AGE = {"feature": ["age", "age", "numerical"], "norm": "min-max"}


@pytest.mark.parametrize(
    ("label", "features", "field", "named"),
    [
        ({"label": ["colour", "classification"]}, [AGE], "graph[0].nodes[0].labels[0].label[0]", "'colour'"),
        (
            {"label": ["team", "clasification"]},
            [AGE],
            "graph[0].nodes[0].labels[0].label[1]",
            "'clasification'",
        ),
        ({**TEAM, "split_rates": [0.8, 0.1, 0.1]}, [AGE], "graph[0].nodes[0].labels[0].split_rates", "Extra"),
        (
            TEAM,
            [{"feature": ["age", "age", "text_sbert"]}],
            "graph[0].nodes[0].features[0].feature[2]",
            "Neptune ML",
        ),
        (
            TEAM,
            [{"feature": ["agee", "agee", "numerical"]}],
            "graph[0].nodes[0].features[0].feature[0]",
            "'agee'",
        ),
    ],
)
def test_published_config_over_csv_files(server, tmp_path, label, features, field, named) -> None:
    """A published configuration beside CSV files is checked against its schema and the files' headers."""
    url, _ = server
    location = _csv_input(tmp_path / "input", _published(label, features))
    status, _, message = _error(
        httpx.post(url + "/ml/dataprocessing", json={"inputDataS3Location": location})
    )
    assert status == 400 and message.startswith(f"configFileName.{field}:") and named in message, message


def test_published_config_over_csv_files_is_accepted(server, tmp_path) -> None:
    url, _ = server
    location = _csv_input(tmp_path / "input", _published(TEAM, [AGE]))
    response = httpx.post(url + "/ml/dataprocessing", json={"inputDataS3Location": location})
    assert response.status_code == 200, response.text


def test_training_overrides_are_checked_at_request_time(server) -> None:
    url, _ = server
    assert httpx.post(url + "/ml/dataprocessing", json={"id": "for-overrides"}).status_code == 200
    for body, field in [
        ({"overrides": {"num-epoch": 3}}, "overrides.num-epoch"),
        ({"modelName": "rgcn", "overrides": {"optimizer": "adam"}}, "overrides.optimizer"),  # a KGE parameter
        ({"modelName": "transe", "overrides": {"optimizer": "sgd"}}, "overrides.optimizer"),
    ]:
        body = {"dataProcessingJobId": "for-overrides", **body}
        status, _, message = _error(httpx.post(url + "/ml/modeltraining", json=body))
        assert status == 400 and message.startswith(f"{field}:"), (body, message)
    body = {"dataProcessingJobId": "for-overrides", "overrides": {"num-epochs": 3}}
    assert httpx.post(url + "/ml/modeltraining", json=body).status_code == 200


def test_previous_jobs_must_exist_and_have_completed(server) -> None:
    """Incremental processing and warm-started training reuse a previous job's output (its
    configuration, its best hyper-parameters), so that job must exist (404) and be Completed (400);
    this server runs no job, so they stay Queued."""
    url, _ = server
    assert httpx.post(url + "/ml/dataprocessing", json={"id": "prev"}).status_code == 200
    training = {"id": "prev", "dataProcessingJobId": "prev"}
    assert httpx.post(url + "/ml/modeltraining", json=training).status_code == 200
    for path, body, field in [
        ("/ml/dataprocessing", {}, "previousDataProcessingJobId"),
        ("/ml/modeltraining", {"dataProcessingJobId": "prev"}, "previousModelTrainingJobId"),
    ]:
        status, _, message = _error(httpx.post(url + path, json={**body, field: "prev"}))
        assert status == 400 and message.startswith(f"{field}:") and "Queued" in message, message
        status, _, message = _error(httpx.post(url + path, json={**body, field: "nope"}))
        assert status == 404 and message.startswith(f"{field}:"), message


def test_fixed_params_of_a_finished_processing_job_are_checked(tmp_path, store) -> None:
    """Neptune users fix hyper-parameters in model-HPO-configuration.json beside the processed data."""
    settings = Settings(data_dir=tmp_path, embedded_worker=False)
    with serve(build_app(settings, store)) as url:
        assert httpx.post(url + "/ml/dataprocessing", json={"id": "done"}).status_code == 200
        records = JobRecords(make_engine(settings.database_url))
        job = records.claim("this-test")  # as a worker would: take the job, and finish it
        assert job is not None and records.finish(job.kind, job.id, "this-test", COMPLETED)
        Path(job.output_dir).mkdir(parents=True)
        fixed = [{"param": "num-epoch", "type": "int", "default": 3}]
        hpo = {"models": [{"model": "rgcn", "fixed-param": fixed}]}
        (Path(job.output_dir) / "model-HPO-configuration.json").write_text(json.dumps(hpo))
        status, _, message = _error(
            httpx.post(url + "/ml/modeltraining", json={"dataProcessingJobId": "done"})
        )
        assert (
            status == 400 and message.startswith("model-HPO-configuration.json:") and "num-epoch" in message
        )
        fixed[0]["param"] = "num-epochs"
        (Path(job.output_dir) / "model-HPO-configuration.json").write_text(json.dumps(hpo))
        assert httpx.post(url + "/ml/modeltraining", json={"dataProcessingJobId": "done"}).status_code == 200


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
