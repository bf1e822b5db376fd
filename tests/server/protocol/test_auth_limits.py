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
from tests.conftest import seer_command, seer_env
from tests.server.protocol.conftest import mini_app
from tests.server.protocol.gp import source
from tests.server.protocol.raw import Raw
from tests.server.protocol.serving import serve

ANN_HASH = hash_password("s3cret")
RO_HASH = hash_password("look")


@pytest.fixture(scope="module")
def auth_server() -> Iterator[str]:
    settings = Settings(
        data_dir="/nonexistent",
        users=[
            UserSpec(name="ann", password_hash=ANN_HASH),
            UserSpec(name="ro", password_hash=RO_HASH, read_only=True),
        ],
    )
    app = mini_app(settings)
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
        with pytest.raises(GremlinServerError, match="read-only"):
            g.add_v("x").to_list()
    finally:
        conn.close()


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
    assert r.status_code == 500 and "read-only" in r.json()["message"]
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
    import subprocess

    out = subprocess.run(
        seer_command("serve", "--host", "0.0.0.0", "--db", "memory://"),
        env=seer_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0 and "Refusing to bind 0.0.0.0" in out.stderr


# -- limits ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def limited_server() -> Iterator[str]:
    settings = Settings(
        data_dir="/nonexistent", max_frame_bytes=4096, max_result_items=50, max_in_flight_per_connection=1
    )
    with serve(mini_app(settings)) as url:
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


def test_in_flight_limit(limited_server: str) -> None:
    slow = source().inject(1)
    slow.bytecode.add_step("sleep", 500)
    with Raw(limited_server) as raw:
        first = raw.request("bytecode", _bc(slow))
        second = raw.request("bytecode", _bc(source().inject(2)))
        msgs = {m["requestId"]: m for m in (raw.receive(), raw.receive())}
        assert msgs[first]["status"]["code"] == 200
        assert msgs[second]["status"]["code"] == 429
        assert "max_in_flight_per_connection" in msgs[second]["status"]["message"]
