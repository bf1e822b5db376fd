"""Crash safety: ``kill -9`` of ``seer serve`` in the middle of a bulk load and in the middle of a
stream of write traversals, then a restart on the same database.

What must hold (issue 7): the database opens, nothing of the interrupted load is visible, and every
write the server acknowledged is there. SQLite runs in WAL mode; PostgreSQL as it is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
from gremlin_python.process.anonymous_traversal import traversal

from tests.reliability.serverproc import ServerProcess, reset_graph

WRITERS = 4


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'crash.db'}"
        return
    url = request.getfixturevalue("pg_url")
    reset_graph(url)
    yield url
    reset_graph(url)


def _write_big_csv(folder: Path, vertices: int, edges: int) -> None:
    """A Neptune CSV graph big enough that loading it takes several seconds."""
    folder.mkdir()
    with open(folder / "vertices.csv", "w") as f:
        f.write("~id,~label,name:String,rank:Int\n")
        f.writelines(f"v{i},node,name {i},{i}\n" for i in range(vertices))
    with open(folder / "edges.csv", "w") as f:
        f.write("~id,~from,~to,~label,weight:Double\n")
        f.writelines(
            f"e{i},v{i % vertices},v{(i * 7919 + 1) % vertices},link,{i % 10}.5\n" for i in range(edges)
        )


def _counts(server: ServerProcess) -> tuple[int, int]:
    conn = DriverRemoteConnection(server.ws, "g")
    try:
        g = traversal().with_(conn)
        return g.V().count().next(), g.E().count().next()
    finally:
        conn.close()


def _load_status(server: ServerProcess, load_id: str) -> dict:
    """Neptune's ``overallStatus`` of a load, from ``GET /loader/{id}``."""
    return httpx.get(f"{server.http}/loader/{load_id}").json()["payload"]["overallStatus"]


def _start_load(server: ServerProcess, source: Path, **options: str) -> str:
    """POST a Neptune CSV load of ``source`` to ``/loader``; its load id."""
    answer = httpx.post(f"{server.http}/loader", json={"source": str(source), "format": "csv", **options})
    assert answer.status_code == 200, answer.text
    return answer.json()["payload"]["loadId"]


def test_kill_9_during_bulk_load_leaves_nothing_of_it(db_url: str, tmp_path: Path) -> None:
    source = tmp_path / "big"
    _write_big_csv(source, vertices=40_000, edges=600_000)
    server = ServerProcess(db_url, tmp_path)
    try:
        load_id = _start_load(server, source, failOnError="TRUE")
        # Kill only once the load has demonstrably written part of the graph.
        deadline = time.monotonic() + 120
        while True:
            status = _load_status(server, load_id)
            assert status["status"] == "LOAD_IN_PROGRESS", f"the load ended before the kill: {status}"
            if status["totalRecords"] > 0:
                break
            assert time.monotonic() < deadline, "the load never reported progress"
            time.sleep(0.05)
    finally:
        server.kill()

    restarted = ServerProcess(db_url, tmp_path)
    try:
        assert _counts(restarted) == (0, 0), "part of the interrupted load is visible"
        status = _load_status(restarted, load_id)
        assert status["status"] == "LOAD_FAILED", status
        # The database still takes writes after the crash.
        conn = DriverRemoteConnection(restarted.ws, "g")
        try:
            traversal().with_(conn).add_v("after").iterate()
        finally:
            conn.close()
        assert _counts(restarted) == (1, 0)
    finally:
        restarted.stop()


def test_kill_9_right_after_a_completed_load_keeps_all_of_it(db_url: str, tmp_path: Path) -> None:
    """On SQLite the load's commit is in the write-ahead log and the checkpoint into the database
    file runs on a background thread: killed as soon as the load reports LOAD_COMPLETED (while
    that checkpoint most likely runs), the restarted server has the whole graph."""
    source = tmp_path / "medium"
    _write_big_csv(source, vertices=20_000, edges=200_000)
    server = ServerProcess(db_url, tmp_path)
    try:
        load_id = _start_load(server, source)
        deadline = time.monotonic() + 180
        while True:
            status = _load_status(server, load_id)
            if status["status"] == "LOAD_COMPLETED":
                break
            assert status["status"] == "LOAD_IN_PROGRESS", status
            assert time.monotonic() < deadline, "the load did not finish"
            time.sleep(0.02)
    finally:
        server.kill()
    restarted = ServerProcess(db_url, tmp_path)
    try:
        assert _counts(restarted) == (20_000, 200_000)
    finally:
        restarted.stop()


def test_kill_9_during_write_stream_keeps_every_acknowledged_write(db_url: str, tmp_path: Path) -> None:
    server = ServerProcess(db_url, tmp_path)
    acknowledged: list[set[int]] = [set() for _ in range(WRITERS)]
    attempted: list[set[int]] = [set() for _ in range(WRITERS)]

    def write(worker: int) -> None:
        conn = DriverRemoteConnection(server.ws, "g")
        g = traversal().with_(conn)
        try:
            for seq in range(1_000_000):
                n = worker * 1_000_000 + seq
                attempted[worker].add(n)
                g.add_v("w").property("n", n).property("worker", worker).iterate()
                acknowledged[worker].add(n)  # the server answered: this write must survive
        except Exception:  # noqa: BLE001 - the server died under us; that is the point
            pass
        finally:
            try:
                conn.close()
            except Exception:  # noqa: BLE001
                pass

    threads = [threading.Thread(target=write, args=(w,), daemon=True) for w in range(WRITERS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while sum(map(len, acknowledged)) < 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()
    for t in threads:
        t.join(timeout=60)
    acked = set().union(*acknowledged)
    tried = set().union(*attempted)
    assert len(acked) >= 200, "the writers never got going"

    restarted = ServerProcess(db_url, tmp_path)
    try:
        conn = DriverRemoteConnection(restarted.ws, "g")
        try:
            stored = traversal().with_(conn).V().has_label("w").values("n").to_list()
        finally:
            conn.close()
    finally:
        restarted.stop()
    assert len(stored) == len(set(stored)), "a write was applied twice"
    missing = acked - set(stored)
    assert not missing, f"{len(missing)} acknowledged writes were lost: {sorted(missing)[:10]}"
    # Writes in flight at the kill may or may not have landed, but nothing was invented.
    assert set(stored) <= tried
    assert len(set(stored) - acked) <= WRITERS
