"""Done-when of the ML issue, through the REST API alone: air-routes bulk-loaded over ``/loader``,
processing for ``route`` link prediction and for classification of an airport property, training
with few epochs, transform, endpoints in service, predictions served. About 20 s on an idle 2-core
machine, so it runs in the default suite."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from graphml.inference.remote import RemotePredictor
from server.config import Settings
from server.jobs.export import export_id
from server.store.interface import ElementQuery, PropertyFilter
from tests.conftest import DATASETS, seer_command, seer_env
from tests.server.api.live import build_app, free_port, neptunedata, serve, wait_for

AIR_ROUTES = DATASETS / "air-routes"
DONE = ("Completed", "Failed", "Stopped")

pytestmark = pytest.mark.timeout(1200)  # about 20 s on an idle 2-core machine; minutes under load

SMALL = {"num-hidden": 16, "num-layer": 1, "fanout": [5], "batch-size": 4096}


def _run(client, start, get, id: str, timeout_s: float, **kwargs) -> dict:
    start(id=id, **kwargs)
    result = wait_for(lambda: get(id=id), lambda r: r["status"] in DONE, timeout_s, 1.0)
    assert result["status"] == "Completed", result
    return result


def test_air_routes_flow_through_rest(tmp_path) -> None:
    from server.store import open_store

    settings = Settings(
        data_dir=tmp_path / "data", db_url=f"sqlite:///{tmp_path / 'air.db'}", job_heartbeat_s=1.0
    )
    store = open_store(settings.database_url)
    with serve(build_app(settings, store)) as url:
        client = neptunedata(url)
        load_id = client.start_loader_job(
            source=str(AIR_ROUTES),
            format="csv",
            s3BucketRegion="us-east-1",
            iamRoleArn="arn:aws:iam::0:role/x",
        )["payload"]["loadId"]
        status = wait_for(
            lambda: client.get_loader_job_status(loadId=load_id),
            lambda r: r["payload"]["overallStatus"]["status"] != "LOAD_IN_PROGRESS",
            600,
            1.0,
        )
        assert status["payload"]["overallStatus"]["status"] == "LOAD_COMPLETED", status

        def process(id: str, neptune_ml: dict) -> None:
            response = httpx.post(
                f"{url}/ml/dataprocessing",
                json={"id": id, "additionalParams": {"neptune_ml": neptune_ml}},
                timeout=60,
            )
            assert response.status_code == 200, response.text
            result = wait_for(
                lambda: client.get_ml_data_processing_job(id=id), lambda r: r["status"] in DONE, 900, 1.0
            )
            assert result["status"] == "Completed", result

        def train(id: str, overrides: dict, model_name: str | None = None) -> dict:
            body = {
                "id": id,
                "dataProcessingJobId": id,
                "maxHPONumberOfTrainingJobs": 1,
                "overrides": overrides,
            }
            if model_name:
                body["modelName"] = model_name
            assert httpx.post(f"{url}/ml/modeltraining", json=body, timeout=60).status_code == 200
            result = wait_for(
                lambda: client.get_ml_model_training_job(id=id), lambda r: r["status"] in DONE, 1200, 1.0
            )
            assert result["status"] == "Completed", result
            return httpx.get(f"{url}/ml/modeltraining/{id}").json()

        # Link prediction on route edges (RGCN encoder + decoder), few epochs.
        process("lp", {"targets": [{"edge": ["airport", "route", "airport"], "type": "link_prediction"}]})
        lp = train("lp", {**SMALL, "num-epochs": 1, "num-negs": 2})
        assert "best_metric" in lp["progress"]
        # Node classification of an airport property.
        process("nc", {"targets": [{"node": "airport", "property": "country", "type": "classification"}]})
        train("nc", {**SMALL, "num-epochs": 2})
        _run(
            client,
            client.start_ml_model_transform_job,
            client.get_ml_model_transform_job,
            "lp-t",
            900,
            dataProcessingJobId="lp",
            mlModelTrainingJobId="lp",
            modelTransformOutputS3Location=str(tmp_path / "lp-t"),
        )
        client.create_ml_endpoint(id="air-routes-lp", mlModelTransformJobId="lp-t")
        client.create_ml_endpoint(id="air-routes-nc", mlModelTrainingJobId="nc")
        for endpoint in ("air-routes-lp", "air-routes-nc"):
            assert client.get_ml_endpoint(id=endpoint)["status"] == "InService"

        # Inference from `seer endpoint`, a separate process reading the same database.
        with store.connect() as conn:
            austin = next(
                conn.vertices(ElementQuery(labels=["airport"], filters=[PropertyFilter("code", "eq", "AUS")]))
            )
        port = free_port()
        proc = subprocess.Popen(
            seer_command("endpoint", "--db", settings.database_url, "--port", str(port)),
            env=seer_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: _health(base), bool, 120, 0.5)
            with RemotePredictor(base, "air-routes-lp") as lp_remote:
                [routes] = lp_remote.predict_links([export_id(austin.id)], "route", "out", "airport", limit=5)
            assert len(routes) == 5 and all(0 <= score <= 1 for _, score in routes)
            with RemotePredictor(base, "air-routes-nc") as nc_remote:
                [[(country, probability)]] = nc_remote.classify([export_id(austin.id)], "country")
            assert isinstance(country, str) and 0 < probability <= 1
        finally:
            proc.terminate()
            proc.wait(30)
    store.dispose()


def _health(base: str) -> bool:
    try:
        return httpx.get(base + "/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False
