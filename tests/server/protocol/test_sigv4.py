"""AWS SigV4 authentication (what boto3's neptunedata client and Neptune's IAM Gremlin clients
send): a real server, the real SDK, the real gremlinpython driver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
from gremlin_python.driver.protocol import ConfigurationError
from gremlin_python.process.anonymous_traversal import traversal

from server.config import Settings, UserSpec
from tests.server.protocol.conftest import sqlite_app
from tests.server.protocol.serving import serve

RW_KEY, RW_SECRET = "AKIASEERWRITER000001", "writer/secret+key"
RO_KEY, RO_SECRET = "AKIASEERREADER000001", "reader/secret+key"


@pytest.fixture(scope="module")
def iam_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = sqlite_app(
        tmp_path_factory.mktemp("sigv4"),
        users=[
            UserSpec(name="writer", access_key_id=RW_KEY, secret_access_key=RW_SECRET),
            UserSpec(name="reader", access_key_id=RO_KEY, secret_access_key=RO_SECRET, read_only=True),
        ],
    )
    with serve(app) as url:
        yield url


def neptunedata(url: str, key: str, secret: str) -> Any:
    """The AWS SDK's Neptune data client with static credentials, pointed at Seer."""
    return boto3.client(
        "neptunedata",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )


def signed(method: str, url: str, body: bytes = b"", secret: str = RW_SECRET, **headers: str) -> AWSRequest:
    """A request signed as the SDK signs it (service neptune-db)."""
    request = AWSRequest(method, url, data=body, headers=headers)
    SigV4Auth(Credentials(RW_KEY, secret), "neptune-db", "us-east-1").add_auth(request)
    return request


def send(request: AWSRequest, **replace: str) -> httpx.Response:
    headers = {**dict(request.headers.items()), **replace}
    return httpx.request(request.method, request.url, content=request.body, headers=headers)


def test_neptunedata_client_with_iam_credentials(iam_server: str) -> None:
    client = neptunedata(iam_server, RW_KEY, RW_SECRET)
    answer = client.execute_gremlin_query(gremlinQuery="g.addV('signed').count()")
    assert answer["status"]["code"] == 200 and answer["result"]["data"]["@value"][0]["@value"] == 1
    assert client.list_loader_jobs()["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert client.list_ml_data_processing_jobs()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_wrong_secret_or_unknown_key_is_refused(iam_server: str) -> None:
    bad_secret = neptunedata(iam_server, RW_KEY, "not-the-secret")
    with pytest.raises(bad_secret.exceptions.AccessDeniedException, match="signature does not match"):
        bad_secret.execute_gremlin_query(gremlinQuery="g.inject(1)")
    with pytest.raises(ClientError) as caught:
        bad_secret.list_loader_jobs()
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401
    with pytest.raises(ClientError) as caught:
        bad_secret.list_ml_data_processing_jobs()
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401
    unknown = neptunedata(iam_server, "AKIANOBODY0000000000", RW_SECRET)
    with pytest.raises(unknown.exceptions.AccessDeniedException, match="Unknown access key id") as denied:
        unknown.execute_gremlin_query(gremlinQuery="g.inject(1)")
    assert RW_SECRET not in str(denied.value)


def test_read_only_key_cannot_write(iam_server: str) -> None:
    client = neptunedata(iam_server, RO_KEY, RO_SECRET)
    assert client.execute_gremlin_query(gremlinQuery="g.inject(1)")["status"]["code"] == 200
    with pytest.raises(ClientError, match="not read only: addV"):
        client.execute_gremlin_query(gremlinQuery="g.addV('ro-signed')")
    with pytest.raises(ClientError) as caught:
        client.start_loader_job(source="/nowhere", format="csv", s3BucketRegion="us-east-1", iamRoleArn="x")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    rw = neptunedata(iam_server, RW_KEY, RW_SECRET)
    count = rw.execute_gremlin_query(gremlinQuery="g.V().hasLabel('ro-signed').count()")
    assert count["result"]["data"]["@value"][0]["@value"] == 0


def test_signature_covers_body_date_and_refuses_session_tokens(iam_server: str) -> None:
    body = json.dumps({"gremlin": "g.inject(1)"}).encode()
    request = signed("POST", f"{iam_server}/gremlin", body)
    assert send(request).status_code == 200
    tampered = httpx.post(
        request.url, content=body.replace(b"1", b"2"), headers=dict(request.headers.items())
    )
    assert tampered.status_code == 401 and "signature does not match" in tampered.json()["message"]
    r = send(request, **{"X-Amz-Date": "20200101T000000Z"})
    assert r.status_code == 401 and "more than 15 minutes" in r.json()["message"]
    r = send(signed("POST", f"{iam_server}/gremlin", body, **{"X-Amz-Security-Token": "token"}))
    assert r.status_code == 401 and "X-Amz-Security-Token" in r.json()["message"]
    r = send(signed("GET", f"{iam_server}/gremlin?gremlin=g.inject(7)"))  # query string signed
    assert r.status_code == 200 and r.json()["result"]["data"]["@value"][0]["@value"] == 7


def test_signed_websocket_upgrade(iam_server: str) -> None:
    ws_url = iam_server.replace("http", "ws") + "/gremlin"
    headers = dict(signed("GET", f"{iam_server}/gremlin").headers.items())
    conn = DriverRemoteConnection(ws_url, "g", headers=headers)
    try:  # no username/password: the signed upgrade authenticated the connection
        assert traversal().with_(conn).inject(1, 2).to_list() == [1, 2]
    finally:
        conn.close()
    unsigned = DriverRemoteConnection(ws_url, "g")
    try:  # challenged (407) as before, and without credentials the driver cannot answer
        with pytest.raises(ConfigurationError):
            traversal().with_(unsigned).inject(1).to_list()
    finally:
        unsigned.close()
    bad = dict(signed("GET", f"{iam_server}/gremlin", secret="wrong").headers.items())
    r = httpx.get(
        f"{iam_server}/gremlin",
        headers={
            **bad,
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    )
    assert r.status_code == 401 and "signature does not match" in r.json()["message"]


def test_key_pairs_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    users = [{"name": "iam", "access_key_id": RW_KEY, "secret_access_key": RW_SECRET, "read_only": True}]
    monkeypatch.setenv("SEER_USERS", json.dumps(users))
    (user,) = Settings().users
    assert user.access_key_id == RW_KEY and user.read_only and user.password_hash is None
    assert user.secret_access_key is not None and user.secret_access_key.get_secret_value() == RW_SECRET
    assert RW_SECRET not in repr(user)
    with pytest.raises(ValueError, match="go together"):
        UserSpec(name="half", access_key_id=RW_KEY)
    with pytest.raises(ValueError, match="share an access_key_id"):
        Settings(users=[UserSpec(name=n, access_key_id=RW_KEY, secret_access_key="s") for n in "ab"])
