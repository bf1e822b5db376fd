"""Neptune's /loader API through the AWS SDK: a load completes with counts, a bad row fails the
load naming its line, bad requests name the field."""

from __future__ import annotations

import httpx
import pytest
from botocore.exceptions import ClientError

from server.config import Settings
from server.store.memory import MemoryStore
from tests.server.api.live import build_app, neptunedata, serve, wait_for


@pytest.fixture
def server(tmp_path):
    store = MemoryStore()
    with serve(build_app(Settings(data_dir=tmp_path / "data", embedded_worker=False), store)) as url:
        yield url, store, tmp_path


def _finished(client, load_id: str) -> dict:
    return wait_for(
        lambda: client.get_loader_job_status(loadId=load_id, details=True, errors=True),
        lambda r: r["payload"]["overallStatus"]["status"] != "LOAD_IN_PROGRESS",
        30,
    )["payload"]


def test_load_completes_with_counts(server) -> None:
    url, store, tmp = server
    folder = tmp / "graph"
    folder.mkdir()
    (folder / "nodes.csv").write_text("~id,~label,name:String,age:Int\nv1,person,ann,30\nv2,person,bob,40\n")
    (folder / "edges.csv").write_text("~id,~from,~to,~label,since:Int\ne1,v1,v2,knows,2020\n")
    client = neptunedata(url)
    started = client.start_loader_job(
        source=folder.as_uri(), format="csv", s3BucketRegion="us-east-1", iamRoleArn="x"
    )
    assert started["status"] == "200 OK"
    payload = _finished(client, started["payload"]["loadId"])
    assert payload["overallStatus"]["status"] == "LOAD_COMPLETED"
    assert payload["overallStatus"]["totalRecords"] >= 3
    with store.connect() as conn:
        assert (conn.count_vertices(), conn.count_edges()) == (2, 1)
    listed = httpx.get(f"{url}/loader").json()["payload"]["loadIds"]
    assert listed == [started["payload"]["loadId"]]


def test_bad_row_fails_the_load_and_names_the_line(server) -> None:
    url, store, tmp = server
    bad = tmp / "bad.csv"
    bad.write_text("~id,~label,age:Int\nv1,person,30\nv2,person,forty\nv3,person,50\n")
    client = neptunedata(url)
    load_id = client.start_loader_job(
        source=str(bad), format="csv", s3BucketRegion="us-east-1", iamRoleArn="x", failOnError=True
    )["payload"]["loadId"]
    payload = _finished(client, load_id)
    assert payload["overallStatus"]["status"] == "LOAD_FAILED"
    logs = payload["errors"]["errorLogs"]
    assert logs and logs[0]["recordNum"] == 3 and "forty" in logs[0]["errorMessage"]
    with store.connect() as conn:
        assert conn.count_vertices() == 0  # nothing of a failed load is committed


def test_loader_bad_requests(server) -> None:
    url, _, tmp = server
    response = httpx.post(f"{url}/loader", json={"source": "s3://bucket/x", "format": "csv"})
    assert response.status_code == 400 and response.json()["message"].startswith("source:")
    response = httpx.post(f"{url}/loader", json={"source": str(tmp), "format": "turtle"})
    assert response.status_code == 400 and response.json()["message"].startswith("format:")
    response = httpx.post(f"{url}/loader", json={"source": str(tmp), "format": "csv", "failOnErrors": True})
    assert response.status_code == 400 and response.json()["message"].startswith("failOnErrors:")
    with pytest.raises(ClientError) as info:
        neptunedata(url).get_loader_job_status(loadId="nope")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
