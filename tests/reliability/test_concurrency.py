"""Concurrent writers on the same vertex get a defined outcome: each read-modify-write traversal
either commits whole or fails with a conflict error that says to retry (Gremlin status 596); an
update is never silently lost."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
from gremlin_python.driver.protocol import GremlinServerError
from gremlin_python.process.anonymous_traversal import traversal
from gremlin_python.process.graph_traversal import __
from gremlin_python.process.traversal import T

from server.api.app import create_app
from server.config import Settings
from tests.reliability.serverproc import reset_graph
from tests.server.protocol.serving import serve

CLIENTS = 6
INCREMENTS = 10


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ws_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        settings = Settings(data_dir=tmp_path)
    else:
        url = request.getfixturevalue("pg_url")
        reset_graph(url)
        settings = Settings(data_dir=tmp_path, db_url=url)
    with serve(create_app(settings)) as http:
        yield http.replace("http", "ws") + "/gremlin"


def test_concurrent_increments_of_one_vertex_lose_nothing(ws_url: str) -> None:
    setup = DriverRemoteConnection(ws_url, "g")
    traversal().with_(setup).add_v("counter").property(T.id, 1).property("c", 0).iterate()
    setup.close()
    conflicts: list[str] = []
    other_errors: list[str] = []

    def increment() -> None:
        conn = DriverRemoteConnection(ws_url, "g")
        g = traversal().with_(conn)
        try:
            for _ in range(INCREMENTS):
                for _attempt in range(200):
                    try:
                        g.V(1).property("c", __.values("c").math("_ + 1")).iterate()
                        break
                    except GremlinServerError as exc:
                        if exc.status_code == 596 and "retry" in str(exc).lower():
                            conflicts.append(str(exc))
                            continue
                        other_errors.append(str(exc))
                        return
        finally:
            conn.close()

    threads = [threading.Thread(target=increment) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not other_errors, other_errors[:3]
    check = DriverRemoteConnection(ws_url, "g")
    try:
        final = traversal().with_(check).V(1).values("c").next()
    finally:
        check.close()
    assert final == CLIENTS * INCREMENTS, (
        f"lost updates: {final} != {CLIENTS * INCREMENTS} ({len(conflicts)} conflicts)"
    )
