"""Concurrent gremlinpython clients mixing reads and writes against ``seer serve`` (issue 7).

    python -m bench concurrency [--clients 32] [--seconds 60] [--backend sqlite --backend postgres]

For each backend: load a generated airline graph (600 airports, ~6,000 routes) through ``/loader``,
then run a baseline of ONE client for a fifth of the time and then ``--clients`` clients for
``--seconds`` seconds, each one its own WebSocket connection. Every client loops over a fixed mix:
70% reads (an airport's out-neighbours' codes, a 2-hop count), 30% writes (a new vertex with a
unique ``(client, seq)`` key and an edge to a random airport). A write answered 596 (conflict:
"retry") is retried and counted as a retry, never as an error.

At the end every acknowledged write is looked up: ``lost`` counts acknowledged writes that are not
in the database (must be 0). Printed per backend: throughput (requests/s), p50/p99 latency,
errors, retries, lost writes, and the throughput ratio against the one-client baseline. After
every backend has printed its figures, the run exits with status 1 if any of them had an error or
a lost write, so that ``make bench`` fails loudly.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.gremlin import free_port, start_server

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
READ_SHARE = 0.7


@dataclass
class Outcome:
    """What one run of clients got wrong: both must be 0."""

    errors: int
    lost: int


@dataclass
class ClientStats:
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    retries: int = 0
    acked: list[str] = field(default_factory=list)


def _client(ws_url: str, index: int, airports: list[str], stop_at: float, stats: ClientStats) -> None:
    from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
    from gremlin_python.driver.protocol import GremlinServerError
    from gremlin_python.process.anonymous_traversal import traversal
    from gremlin_python.process.graph_traversal import __

    rng = random.Random(index)
    conn = DriverRemoteConnection(ws_url, "g")
    g = traversal().with_(conn)
    seq = 0
    try:
        while time.monotonic() < stop_at:
            code = rng.choice(airports)
            start = time.perf_counter()
            try:
                if rng.random() < READ_SHARE:
                    if rng.random() < 0.5:
                        g.V().has("airport", "code", code).out("route").values("code").to_list()
                    else:
                        g.V().has("airport", "code", code).out("route").out("route").count().next()
                else:
                    key = f"c{index}-{seq}"
                    seq += 1
                    for _attempt in range(100):
                        try:
                            g.add_v("visitor").property("key", key).add_e("visits").to(
                                __.V().has("airport", "code", code)
                            ).iterate()
                            break
                        except GremlinServerError as exc:
                            if exc.status_code != 596:
                                raise
                            stats.retries += 1
                    else:
                        raise RuntimeError(f"write {key} still conflicting after 100 retries")
                    stats.acked.append(key)
            except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
                stats.errors.append(f"{type(exc).__name__}: {exc}"[:200])
                continue
            stats.latencies_ms.append((time.perf_counter() - start) * 1000)
    finally:
        conn.close()


def _run(ws_url: str, clients: int, seconds: float, airports: list[str]) -> list[ClientStats]:
    stats = [ClientStats() for _ in range(clients)]
    stop_at = time.monotonic() + seconds
    threads = [
        threading.Thread(target=_client, args=(ws_url, i, airports, stop_at, stats[i]))
        for i in range(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return stats


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _lost(ws_url: str, stats: list[ClientStats]) -> int:
    from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
    from gremlin_python.process.anonymous_traversal import traversal

    conn = DriverRemoteConnection(ws_url, "g")
    try:
        stored = set(traversal().with_(conn).V().has_label("visitor").values("key").to_list())
    finally:
        conn.close()
    return sum(1 for s in stats for key in s.acked if key not in stored)


def _summary(label: str, stats: list[ClientStats], seconds: float, lost: int) -> tuple[float, Outcome]:
    """Print one row of the table; returns the throughput and the errors and lost writes."""
    lat = [x for s in stats for x in s.latencies_ms]
    errors = [e for s in stats for e in s.errors]
    throughput = len(lat) / seconds
    print(
        f"  {label:<12} {throughput:8.1f} req/s | p50 {_pct(lat, 0.5):7.2f} ms | p99 {_pct(lat, 0.99):8.2f} ms"
        f" | errors {len(errors)} | retries {sum(s.retries for s in stats)} | lost writes {lost}",
        flush=True,
    )
    for e in errors[:3]:
        print(f"    error: {e}")
    return throughput, Outcome(errors=len(errors), lost=lost)


def bench_backend(backend: str, clients: int, seconds: float) -> list[str]:
    """Run the baseline and the ``clients`` run on one backend; returns its failures (rows with
    errors or lost writes), empty when it did everything right."""
    from server.demo.generate import generate_csv

    work = Path(tempfile.mkdtemp(prefix=f"seer-conc-{backend}-"))
    if backend == "sqlite":
        url = f"sqlite:///{work / 'seer.db'}"
    else:
        url = PG_URL
        from server.store import open_store
        from server.store.sql import migrate

        migrate(url)
        store = open_store(url)
        with store.connect() as conn:
            conn.clear()
            conn.commit()
        store.dispose()
    graph_dir = work / "graph"
    generate_csv(graph_dir)
    port = free_port()
    proc: subprocess.Popen = start_server(url, work, port)
    try:
        http = f"http://127.0.0.1:{port}"
        load_id = httpx.post(f"{http}/loader", json={"source": str(graph_dir), "format": "csv"}).json()
        load_id = load_id["payload"]["loadId"]
        while True:
            status = httpx.get(f"{http}/loader/{load_id}").json()["payload"]["overallStatus"]["status"]
            if status != "LOAD_IN_PROGRESS":
                break
            time.sleep(0.2)
        assert status == "LOAD_COMPLETED", status
        ws = f"ws://127.0.0.1:{port}/gremlin"
        rows = [line.split(",") for line in (graph_dir / "vertices.csv").read_text().splitlines()[1:]]
        airports = [row[2] for row in rows if row[1] == "airport"]
        print(f"{backend}: {len(airports)} airports; {clients} clients x {seconds:.0f} s", flush=True)
        base_seconds = max(5.0, seconds / 5)
        baseline = _run(ws, 1, base_seconds, airports)
        base, base_outcome = _summary("1 client", baseline, base_seconds, _lost(ws, baseline))
        loaded = _run(ws, clients, seconds, airports)
        many, outcome = _summary(f"{clients} clients", loaded, seconds, _lost(ws, loaded + baseline))
        print(f"  throughput ratio {clients} clients / 1 client: {many / base:.2f}x", flush=True)
        return [
            f"{backend}, {label}: {o.errors} errors, {o.lost} lost writes"
            for label, o in (("1 client", base_outcome), (f"{clients} clients", outcome))
            if o.errors or o.lost
        ]
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench concurrency")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgres"])
    args = parser.parse_args(argv)
    failures = [
        failure
        for backend in args.backend or ["sqlite", "postgres"]
        for failure in bench_backend(backend, args.clients, args.seconds)
    ]
    if failures:  # after the table: every backend has printed its figures
        sys.exit("concurrency FAILED (errors and lost writes must be 0): " + "; ".join(failures))
