"""``POST /gremlin`` (JSON script form, the serialized form gremlinpython sends to an http:// URL,
and the AWS SDK's neptunedata client), plus /status, /metrics and /docs."""

from __future__ import annotations

import boto3
import httpx
import pytest
from botocore.config import Config
from gremlin_python.driver import serializer
from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
from gremlin_python.driver.protocol import GremlinServerError
from gremlin_python.process.anonymous_traversal import traversal
from gremlin_python.statics import long


def test_json_script_form(sqlite_server: str) -> None:
    r = httpx.post(
        f"{sqlite_server}/gremlin", json={"gremlin": "g.inject(x, 2).count()", "bindings": {"x": 1}}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["status"]["code"] == 200
    assert body["result"]["data"] == {"@type": "g:List", "@value": [{"@type": "g:Int64", "@value": 2}]}
    assert body["result"]["meta"] == {"@type": "g:Map", "@value": []}


def test_get_with_query_string(sqlite_server: str) -> None:
    r = httpx.get(f"{sqlite_server}/gremlin", params={"gremlin": "g.inject(x)", "bindings.x": "hi"})
    assert r.status_code == 200 and r.json()["result"]["data"]["@value"] == ["hi"]


def test_json_script_form_without_content_type_and_empty_result(sqlite_server: str) -> None:
    r = httpx.post(f"{sqlite_server}/gremlin", content=b'{"gremlin": "g.inject(1).limit(0)"}')
    assert r.status_code == 200
    assert r.json()["result"]["data"] == {"@type": "g:List", "@value": []}


@pytest.mark.parametrize(
    ("body", "status", "code", "text"),
    [
        (b'{"gremlin": "g.V("}', 400, "MalformedQueryException", "Syntax error at line 1, column 5"),
        (b'{"nothing": 1}', 400, "BadRequestException", '"gremlin"'),
        (b"{not json", 400, "BadRequestException", "not valid JSON"),
        (b'{"gremlin": "g.inject(1).fail(\'x\')"}', 500, "FailStepException", "x"),
    ],
)
def test_json_errors_are_neptune_shaped(
    sqlite_server: str, body: bytes, status: int, code: str, text: str
) -> None:
    r = httpx.post(f"{sqlite_server}/gremlin", content=body)
    assert r.status_code == status
    doc = r.json()
    assert doc["code"] == code and text in doc["message"] and doc["requestId"]


@pytest.mark.parametrize("ser", [serializer.GraphBinarySerializersV1, serializer.GraphSONSerializersV3d0])
def test_gremlinpython_over_http(sqlite_server: str, ser: type) -> None:
    conn = DriverRemoteConnection(f"{sqlite_server}/", "g", message_serializer=ser())  # posts to /gremlin
    g = traversal().with_(conn)
    try:
        assert g.inject(1, long(2), "x").to_list() == [1, 2, "x"]
        assert g.inject(*range(100)).to_list() == list(range(100))  # one 200, no 206 parts
        assert g.inject(1).limit(0).to_list() == []
        with pytest.raises(GremlinServerError, match="^500: over http"):
            g.inject(1).fail("over http").to_list()
    finally:
        conn.close()


def test_neptunedata_client(sqlite_server: str) -> None:
    client = boto3.client(
        "neptunedata",
        endpoint_url=sqlite_server,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1}),
    )
    out = client.execute_gremlin_query(gremlinQuery="g.inject('a', 'b')")
    assert out["status"]["code"] == 200
    assert out["result"]["data"]["@value"] == ["a", "b"]
    with pytest.raises(client.exceptions.MalformedQueryException, match="Syntax error"):
        client.execute_gremlin_query(gremlinQuery="g.V(")


def test_status_metrics_docs(sqlite_server: str) -> None:
    httpx.post(f"{sqlite_server}/gremlin", json={"gremlin": "g.inject(1)"})
    status = httpx.get(f"{sqlite_server}/status").json()
    assert status["status"] == "healthy" and status["gremlin"]["version"].startswith("tinkerpop-3.8")
    metrics = httpx.get(f"{sqlite_server}/metrics").text
    assert 'seer_gremlin_requests_total{code="200",op="eval",transport="http"}' in metrics
    assert httpx.get(f"{sqlite_server}/docs").status_code == 200
    assert "/gremlin" in httpx.get(f"{sqlite_server}/openapi.json").json()["paths"]
