"""Authentication (SASL PLAIN over WebSocket, HTTP Basic, require_user) and the request limits,
each refusal naming the limit and its setting."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import APIRouter, Depends
from gremlin_python.driver.client import Client
from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
from gremlin_python.driver.protocol import ConfigurationError, GremlinServerError
from gremlin_python.process.anonymous_traversal import traversal
from gremlin_python.process.graph_traversal import GraphTraversalSource, __
from gremlin_python.process.strategies import ReadOnlyStrategy

from server.api.deps import require_user
from server.config import Settings, UserSpec
from server.protocol.auth import (
    Authenticator,
    InsecureBinding,
    User,
    check_bind_security,
    hash_password,
    verify_password,
)
from tests.server.protocol.conftest import sqlite_app
from tests.server.protocol.gp import source
from tests.server.protocol.raw import Raw
from tests.server.protocol.serving import serve

ANN_HASH = hash_password("s3cret")
RO_HASH = hash_password("look")


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = sqlite_app(
        tmp_path_factory.mktemp("auth"),
        users=[
            UserSpec(name="ann", password_hash=ANN_HASH),
            UserSpec(name="ro", password_hash=RO_HASH, read_only=True),
        ],
    )
    router = APIRouter()

    @router.post("/probe")
    def probe(user: User = Depends(require_user(write=True))) -> dict[str, str]:
        return {"user": user.name}

    app.include_router(router)
    with serve(app) as url:
        yield url


def ws(url: str) -> str:
    return url.replace("http", "ws") + "/gremlin"


def test_password_hashes() -> None:
    assert ANN_HASH.startswith("scrypt$") and "s3cret" not in ANN_HASH
    assert verify_password("s3cret", ANN_HASH) and not verify_password("S3cret", ANN_HASH)
    assert not verify_password("x", "garbage")
    auth = Authenticator([UserSpec(name="ann", password_hash=ANN_HASH)])
    assert auth.sasl_plain("AGFubgBzM2NyZXQ=").name == "ann"  # \0ann\0s3cret


def test_hash_password_command() -> None:
    from click.testing import CliRunner

    from server.cli.main import cli

    out = CliRunner().invoke(cli, ["hash-password"], input="pw\npw\n")
    assert out.exit_code == 0
    assert verify_password("pw", out.output.strip().splitlines()[-1])


def test_sasl_with_gremlinpython_credentials(auth_server: str) -> None:
    conn = DriverRemoteConnection(ws(auth_server), "g", username="ann", password="s3cret")
    g = traversal().with_(conn)
    try:
        assert g.inject(1, 2).to_list() == [1, 2]
        assert g.add_v("p").count().next() == 1  # writes allowed
        assert g.inject(3).to_list() == [3]  # the connection stays authenticated
    finally:
        conn.close()
    client = Client(ws(auth_server), "g", username="ann", password="s3cret")
    try:
        assert client.submit("g.inject(1)").all().result() == [1]
    finally:
        client.close()


def test_wrong_or_missing_credentials_are_refused(auth_server: str) -> None:
    conn = DriverRemoteConnection(ws(auth_server), "g", username="ann", password="wrong")
    try:
        with pytest.raises(GremlinServerError, match="^401: Username and/or password are incorrect"):
            traversal().with_(conn).inject(1).to_list()
    finally:
        conn.close()
    conn = DriverRemoteConnection(ws(auth_server), "g")
    try:
        with pytest.raises(ConfigurationError):
            traversal().with_(conn).inject(1).to_list()
    finally:
        conn.close()


def test_read_only_user_cannot_write(auth_server: str) -> None:
    conn = DriverRemoteConnection(ws(auth_server), "g", username="ro", password="look")
    g = traversal().with_(conn)
    try:
        assert g.inject(1).to_list() == [1]
        with pytest.raises(GremlinServerError, match="^500: .*not read only: addV"):
            g.add_v("ro-write").to_list()
        assert g.V().has_label("ro-write").count().next() == 0
    finally:
        conn.close()


def _labelled(url: str, label: str) -> int:
    """How many vertices carry ``label``, counted by a user who may write."""
    conn = DriverRemoteConnection(ws(url), "g", username="ann", password="s3cret")
    try:
        return traversal().with_(conn).V().has_label(label).count().next()
    finally:
        conn.close()


def test_read_only_user_cannot_lift_the_read_only_strategy(auth_server: str) -> None:
    conn = DriverRemoteConnection(ws(auth_server), "g", username="ro", password="look")
    g: GraphTraversalSource = traversal().with_(conn)
    try:
        with pytest.raises(GremlinServerError, match="^500: .*not read only: addV"):
            g.without_strategies(ReadOnlyStrategy).add_v("ro-lifted").to_list()
        assert g.inject(1).to_list() == [1]  # refused, not disconnected
    finally:
        conn.close()
    client = Client(ws(auth_server), "g", username="ro", password="look")
    try:
        with pytest.raises(GremlinServerError, match="^500: .*not read only: addV"):
            client.submit("g.addV('ro-script')").all().result()
        with pytest.raises(GremlinServerError, match="^500: .*not read only: addV"):
            client.submit("g.withoutStrategies(ReadOnlyStrategy).addV('ro-script')").all().result()
    finally:
        client.close()
    assert _labelled(auth_server, "ro-lifted") == 0
    assert _labelled(auth_server, "ro-script") == 0


def test_read_only_user_may_read_but_not_change_ml_jobs(auth_server: str) -> None:
    ro = ("ro", "look")
    r = httpx.post(f"{auth_server}/ml/dataprocessing", json={"id": "ro-job"}, auth=ro)
    assert r.status_code == 403 and "read-only" in r.text
    assert httpx.delete(f"{auth_server}/ml/dataprocessing/ro-job", auth=ro).status_code == 403
    r = httpx.get(f"{auth_server}/ml/dataprocessing", auth=ro)
    assert r.status_code == 200 and "ro-job" not in r.json()["ids"]
    assert httpx.get(f"{auth_server}/ml/dataprocessing/ro-job", auth=ro).status_code == 404


def test_http_basic(auth_server: str) -> None:
    body = {"gremlin": "g.inject(1)"}
    r = httpx.post(f"{auth_server}/gremlin", json=body)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
    assert httpx.post(f"{auth_server}/gremlin", json=body, auth=("ann", "bad")).status_code == 401
    r = httpx.post(f"{auth_server}/gremlin", json=body, auth=("ann", "s3cret"))
    assert r.status_code == 200 and r.json()["result"]["data"]["@value"] == [
        {"@type": "g:Int32", "@value": 1}
    ]
    r = httpx.post(f"{auth_server}/gremlin", json={"gremlin": "g.addV('x')"}, auth=("ro", "look"))
    assert r.status_code == 500 and "not read only" in r.json()["message"]
    conn = DriverRemoteConnection(f"{auth_server}/", "g", username="ann", password="s3cret")
    try:
        assert traversal().with_(conn).inject(5).to_list() == [5]
    finally:
        conn.close()


def test_require_user_dependency(auth_server: str) -> None:
    assert httpx.post(f"{auth_server}/probe").status_code == 401
    assert httpx.post(f"{auth_server}/probe", auth=("ro", "look")).status_code == 403
    assert httpx.post(f"{auth_server}/probe", auth=("ann", "s3cret")).json() == {"user": "ann"}


def test_binding_another_host_without_auth_needs_the_flag() -> None:
    with pytest.raises(InsecureBinding, match="--insecure"):
        check_bind_security(Settings(host="0.0.0.0"))
    check_bind_security(Settings(host="0.0.0.0", allow_remote_without_auth=True))
    check_bind_security(Settings(host="0.0.0.0", users=[UserSpec(name="a", password_hash=ANN_HASH)]))
    check_bind_security(Settings(host="127.0.0.1"))
    from click.testing import CliRunner

    from server.cli.main import cli

    out = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--db", "memory://"])
    assert out.exit_code != 0 and "Refusing to bind 0.0.0.0" in out.output


# -- limits ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = sqlite_app(
        tmp_path_factory.mktemp("limited"),
        max_frame_bytes=4096,
        max_result_items=50,
        max_in_flight_per_connection=1,
    )
    with serve(app) as url:
        yield url


def _bc(t: object) -> dict[str, object]:
    return {"gremlin": t.bytecode, "aliases": {"g": "g"}}  # type: ignore[attr-defined]


def test_frame_size_limit(limited_server: str) -> None:
    with Raw(limited_server) as raw:
        rid = raw.request("bytecode", _bc(source().inject("x" * 5000)))
        (msg,) = raw.until_final()
        assert msg["requestId"] == rid and msg["status"]["code"] == 498
        assert (
            "max_frame_bytes" in msg["status"]["message"]
            and "SEER_MAX_FRAME_BYTES" in msg["status"]["message"]
        )
        raw.request("bytecode", _bc(source().inject(1)))
        assert raw.until_final()[-1]["status"]["code"] == 200
    r = httpx.post(f"{limited_server}/gremlin", json={"gremlin": "g.inject('" + "x" * 5000 + "')"})
    assert r.status_code == 413 and "max_frame_bytes" in r.json()["message"]


def test_result_size_limit(limited_server: str) -> None:
    with Raw(limited_server) as raw:
        raw.request("bytecode", {**_bc(source().inject(*range(51))), "batchSize": 100})
        msg = raw.until_final()[-1]
        assert msg["status"]["code"] == 500
        assert (
            "limit of 50 items" in msg["status"]["message"]
            and "SEER_MAX_RESULT_ITEMS" in msg["status"]["message"]
        )


def test_result_size_limit_over_http(limited_server: str) -> None:
    def inject(n: int) -> httpx.Response:
        script = f"g.inject({', '.join(map(str, range(n)))})"
        return httpx.post(f"{limited_server}/gremlin", json={"gremlin": script})

    r = inject(51)
    assert r.status_code == 500
    assert "limit of 50 items" in r.json()["message"] and "SEER_MAX_RESULT_ITEMS" in r.json()["message"]
    r = inject(50)  # at the limit: answered whole
    assert r.status_code == 200 and len(r.json()["result"]["data"]["@value"]) == 50


def test_in_flight_limit(limited_server: str) -> None:
    slow = source().inject(1).repeat(__.identity()).times(20000)  # a real traversal of ~0.5 s
    with Raw(limited_server) as raw:
        first = raw.request("bytecode", _bc(slow))
        second = raw.request("bytecode", _bc(source().inject(2)))
        msgs = {m["requestId"]: m for m in (raw.receive(), raw.receive())}
        assert msgs[first]["status"]["code"] == 200
        assert msgs[second]["status"]["code"] == 429
        message = msgs[second]["status"]["message"]
        assert "max_in_flight_per_connection" in message and "SEER_MAX_IN_FLIGHT_PER_CONNECTION" in message


@pytest.fixture(scope="module")
def timeout_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server whose default evaluation timeout, 300 ms, comes from SEER_EVALUATION_TIMEOUT_MS."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SEER_EVALUATION_TIMEOUT_MS", "300")
        app = sqlite_app(tmp_path_factory.mktemp("timeout"))
    with serve(app) as url:
        yield url


def test_default_evaluation_timeout(timeout_server: str) -> None:
    conn = DriverRemoteConnection(ws(timeout_server), "g")
    g = traversal().with_(conn)
    slow = __.repeat(__.identity()).times(10_000_000)  # ten million loops: minutes of work
    try:
        with pytest.raises(GremlinServerError, match="^598: A timeout occurred") as caught:
            g.inject(1).flat_map(slow).to_list()  # no evaluationTimeout of its own
        message = str(caught.value)
        assert "300 ms" in message
        assert "evaluation_timeout_ms" in message and "SEER_EVALUATION_TIMEOUT_MS" in message
        assert g.inject(1).to_list() == [1]  # the connection still answers
        with pytest.raises(GremlinServerError, match="^598: ") as caught:  # the request's own limit
            g.with_("evaluationTimeout", 200).inject(1).flat_map(slow).to_list()
        message = str(caught.value)
        assert "evaluationTimeout (200 ms)" in message and "request" in message
        assert "SEER_EVALUATION_TIMEOUT_MS" not in message
        assert g.inject(2).to_list() == [2]
    finally:
        conn.close()


def test_neptunedata_client_with_basic_credentials(auth_server: str) -> None:
    import base64

    import boto3
    from botocore.config import Config

    client = boto3.client(
        "neptunedata",
        endpoint_url=auth_server,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1}),
    )
    with pytest.raises(client.exceptions.AccessDeniedException):
        client.execute_gremlin_query(gremlinQuery="g.inject(1)")
    token = base64.b64encode(b"ann:s3cret").decode()

    def basic(request: object, **_: object) -> None:  # Basic instead of the SDK's SigV4 signature
        request.headers["Authorization"] = f"Basic {token}"  # type: ignore[attr-defined]

    client.meta.events.register("before-send.neptunedata.*", basic)
    assert client.execute_gremlin_query(gremlinQuery="g.inject(1)")["status"]["code"] == 200


def test_rest_routes_use_the_same_credentials(auth_server: str) -> None:
    assert httpx.get(f"{auth_server}/loader").status_code == 401
    assert httpx.get(f"{auth_server}/ml/dataprocessing").status_code == 401
    assert httpx.get(f"{auth_server}/loader", auth=("ro", "look")).status_code == 200
    r = httpx.post(f"{auth_server}/loader", json={"source": "/nowhere", "format": "csv"}, auth=("ro", "look"))
    assert r.status_code == 403 and "read-only" in r.text
    assert httpx.get(f"{auth_server}/ml/dataprocessing", auth=("ann", "s3cret")).status_code == 200


def test_only_basic_credentials_are_accepted(auth_server: str) -> None:
    """There are no tokens: a bearer token is refused on every door that takes credentials (SigV4
    signatures are covered in test_sigv4.py)."""
    bearer = {"Authorization": "Bearer czNjcmV0"}
    assert (
        httpx.post(f"{auth_server}/gremlin", json={"gremlin": "g.inject(1)"}, headers=bearer).status_code
        == 401
    )
    assert httpx.get(f"{auth_server}/loader", headers=bearer).status_code == 401
    r = httpx.get(f"{auth_server}/ml/dataprocessing", headers=bearer)
    assert r.status_code == 401 and "Basic" in r.headers["www-authenticate"]
