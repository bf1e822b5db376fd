"""The fixed per-request cost of the Gremlin Server protocol path, end to end.

    python -m bench protocol [--db URL] [--runs N] [--keep DIR]

Loads ``../shared/datasets/air-routes`` with ``seer load`` (once; SQLite under ``--keep``, default
``bench/out/protocol``, or ``--db``), starts ``seer serve`` in its own process and times through
gremlinpython (GraphBinary over WebSocket), one request at a time:

- ``inject(1)``: no store work at all, so its cost is the protocol and serving path alone;
- ``oltp``: ``g.V().has('airport','code','AUS').out('route').values('code')`` (98 results, two
  response frames at the default batch size 64); goal p50 <= 2 ms.

For each it prints p50/p99 latency and the CPU time the server process spent per request (from
the process's own counters: steadier than wall time on a shared machine), plus the bench
process's (the driver's) CPU per request.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from bench.gremlin import AIR_ROUTES, EDGES, NODES, REPO, free_port, p, start_server


def seer_load(url: str) -> None:
    """``seer load`` air-routes into ``url`` in a child process, as a user would."""
    cmd = [sys.executable, "-m", "server.cli.main", "load", "--db", url, str(NODES), str(EDGES)]
    subprocess.run(cmd, check=True, cwd=REPO)


def measure(fn: Callable[[], Any], runs: int, server: psutil.Process) -> tuple[list[float], float, float]:
    """Latencies of ``runs`` calls (after 20 warm-ups), server and client CPU seconds per call."""
    for _ in range(20):
        fn()
    lat: list[float] = []
    s0 = server.cpu_times()
    c0 = time.process_time()
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        lat.append(time.perf_counter() - t0)
    c1 = time.process_time()
    s1 = server.cpu_times()
    server_cpu = (s1.user + s1.system) - (s0.user + s0.system)
    return lat, server_cpu / runs, (c1 - c0) / runs


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench protocol")
    parser.add_argument("--db", default=None, help="Store URL (default: SQLite under --keep).")
    parser.add_argument("--runs", type=int, default=500, help="Requests per traversal.")
    parser.add_argument("--keep", type=Path, default=REPO / "bench" / "out" / "protocol")
    args = parser.parse_args(argv)
    if not NODES.exists():
        print(f"skipped: {AIR_ROUTES} is not there")
        return
    from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
    from gremlin_python.process.anonymous_traversal import traversal

    args.keep.mkdir(parents=True, exist_ok=True)
    db_file = (args.keep / "seer.db").resolve()
    url = args.db or f"sqlite:///{db_file}"
    if args.db or not db_file.exists():
        t0 = time.perf_counter()
        seer_load(url)
        print(f"loaded air-routes in {time.perf_counter() - t0:.1f} s", flush=True)

    port = free_port()
    proc = start_server(url, args.keep, port)
    conn = DriverRemoteConnection(f"ws://127.0.0.1:{port}/gremlin", "g", pool_size=1)
    try:
        g = traversal().with_(conn)
        codes = g.V().has("airport", "code", "AUS").out("route").values("code").to_list()
        if len(codes) < 65:
            raise RuntimeError(f"air-routes looks wrong: AUS has {len(codes)} destinations")
        cases: dict[str, Callable[[], Any]] = {
            "inject(1)": lambda: g.inject(1).to_list(),
            "oltp": lambda: g.V().has("airport", "code", "AUS").out("route").values("code").to_list(),
        }
        server = psutil.Process(proc.pid)
        for name, fn in cases.items():
            lat, server_cpu, client_cpu = measure(fn, args.runs, server)
            print(
                f"{name:<10} p50 {p(lat, 0.5):7.2f} ms  p99 {p(lat, 0.99):7.2f} ms  "
                f"server CPU {server_cpu * 1000:6.2f} ms/req  client CPU {client_cpu * 1000:6.2f} ms/req",
                flush=True,
            )
    finally:
        conn.close()
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main(sys.argv[1:])
