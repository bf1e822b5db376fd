"""The real engine and the SQL store behind the real server, through gremlinpython, on SQLite and
PostgreSQL; and ``seer serve`` as a subprocess on its embedded SQLite default."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gremlin_python.driver import serializer
from gremlin_python.driver.client import Client
from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
from gremlin_python.driver.protocol import GremlinServerError
from gremlin_python.process.anonymous_traversal import traversal
from gremlin_python.process.graph_traversal import GraphTraversalSource, __
from gremlin_python.process.traversal import T

from server.api.app import create_app
from server.config import Settings
from tests.conftest import seer_command, seer_env
from tests.server.protocol.serving import free_port, serve


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("e2e")
    if request.param == "sqlite":
        settings = Settings(data_dir=data_dir)
    else:
        settings = Settings(data_dir=data_dir, db_url=request.getfixturevalue("pg_url"))
    app = create_app(settings)
    with app.state.store.connect() as conn:
        conn.clear()
        conn.commit()
    with serve(app) as url:
        yield url


def _ws(url: str) -> str:
    return url.replace("http", "ws") + "/gremlin"


@pytest.fixture(scope="module")
def g(server_url: str) -> Iterator[GraphTraversalSource]:
    conn = DriverRemoteConnection(_ws(server_url), "g")
    g = traversal().with_(conn)
    marko = g.add_v("person").property(T.id, 1).property("name", "marko").property("age", 29).next()
    vadas = g.add_v("person").property(T.id, 2).property("name", "vadas").property("age", 27).next()
    lop = g.add_v("software").property(T.id, 3).property("name", "lop").property("lang", "java").next()
    g.V(marko.id).add_e("knows").to(__.V(vadas.id)).property("weight", 0.5).iterate()
    g.V(marko.id).add_e("created").to(__.V(lop.id)).property("weight", 0.4).iterate()
    yield g
    conn.close()


def test_traversals_through_the_driver(g: GraphTraversalSource) -> None:
    assert sorted(g.V(1).out().values("name").to_list()) == ["lop", "vadas"]
    assert g.V().count().next() == 3
    assert g.V().group_count().by(T.label).next() == {"person": 2, "software": 1}
    v = g.V(1).next()
    assert {p.label: p.value for p in v.properties} == {"name": "marko", "age": 29}
    path = g.V(1).out_e("knows").in_v().path().next()
    assert [type(o).__name__ for o in path.objects] == ["Vertex", "Edge", "Vertex"]
    assert g.V(1).out_e("knows").values("weight").next() == 0.5


def test_graphson_and_script_text(server_url: str) -> None:
    conn = DriverRemoteConnection(
        _ws(server_url), "g", message_serializer=serializer.GraphSONSerializersV3d0()
    )
    try:
        gs = traversal().with_(conn)
        assert sorted(gs.V().has("person", "age", 29).values("name").to_list()) == ["marko"]
    finally:
        conn.close()
    client = Client(_ws(server_url), "g")
    try:
        assert client.submit("g.V(x).out('knows').values('name')", {"x": 1}).all().result() == ["vadas"]
        with pytest.raises(GremlinServerError, match="^597: Syntax error at line 1, column"):
            client.submit("g.V().out(").all().result()
        assert client.submit("g.V().count()").all().result() == [3]  # still usable
    finally:
        client.close()


def test_transactions(server_url: str, g: GraphTraversalSource) -> None:
    tx = g.tx()
    gtx = tx.begin()
    gtx.add_v("temp").iterate()
    assert g.V().has_label("temp").count().next() == 0
    tx.rollback()
    assert g.V().has_label("temp").count().next() == 0
    tx = g.tx()
    gtx = tx.begin()
    gtx.add_v("temp").iterate()
    tx.commit()
    assert g.V().has_label("temp").count().next() == 1
    g.V().has_label("temp").drop().iterate()


def test_http_json(server_url: str, g: GraphTraversalSource) -> None:
    r = httpx.post(f"{server_url}/gremlin", json={"gremlin": "g.V(1).values('name')"})
    assert r.status_code == 200 and r.json()["result"]["data"]["@value"] == ["marko"]


def test_seer_serve_subprocess(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        seer_command("serve", "--port", str(port), "--data-dir", str(tmp_path)),
        env=seer_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/status").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"seer serve did not start: {proc.stdout.read() if proc.stdout else ''}")
            time.sleep(0.2)
        conn = DriverRemoteConnection(f"ws://127.0.0.1:{port}/gremlin", "g")
        try:
            g = traversal().with_(conn)
            g.add_v("x").property("n", 1).iterate()
            assert g.V().values("n").to_list() == [1]
        finally:
            conn.close()
        assert (tmp_path / "seer.db").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_tree_and_subgraph_results(server_url: str, g: GraphTraversalSource) -> None:
    conn = DriverRemoteConnection(
        _ws(server_url), "g", message_serializer=serializer.GraphSONSerializersV3d0()
    )
    try:
        gs = traversal().with_(conn)
        sg = gs.V(1).out_e("knows").subgraph("sg").cap("sg").next()
        assert sg["@type"] == "tinker:graph"  # gremlinpython has no reader: it hands over the JSON
        assert len(sg["@value"]["edges"]) == 1 and len(sg["@value"]["vertices"]) == 2
        tree = gs.V(1).out("knows").tree().by("name").next()
        assert tree["@type"] == "g:Tree" and tree["@value"][0]["key"] == "marko"
    finally:
        conn.close()
    # GraphBinary (the default): a tree comes back as nested maps gremlinpython can read.
    tree = g.V(1).out("knows").tree().by("name").next()
    assert tree == {"marko": {"vadas": {}}}
    with pytest.raises(GremlinServerError, match="^599: A subgraph .* GraphSON"):
        g.V(1).out_e("knows").subgraph("sg").cap("sg").next()
