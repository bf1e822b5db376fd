"""The fixed per-request cost of the Gremlin Server protocol path, end to end.

    python -m bench protocol [--db URL] [--runs N] [--keep DIR] [--baseline CHECKOUT]

Loads ``../shared/datasets/air-routes`` with ``seer load`` (once; SQLite under ``--keep``, default
``bench/out/protocol``, or ``--db``), starts ``seer serve`` in its own process and times through
gremlinpython (GraphBinary over WebSocket), one request at a time:

- ``inject(1)``: no store work at all, so its cost is the protocol and serving path alone;
- ``oltp``: ``g.V().has('airport','code','AUS').out('route').values('code')`` (98 results, two
  response frames at the default batch size 64); goal p50 <= 2 ms.

For each it prints p50/p99 latency and the CPU time the server process spent per request (from
the process's own counters: steadier than wall time on a shared machine), plus the bench
process's (the driver's) CPU per request.

``--baseline CHECKOUT`` also serves the same store from another checkout of Seer (say a
``git worktree`` of main) and alternates requests between the two servers, one to each in turn,
so both see the same machine load; it prints both and the ratio baseline / this checkout.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.gremlin import AIR_ROUTES, EDGES, NODES, REPO, free_port, p


def seer_load(url: str) -> None:
    """``seer load`` air-routes into ``url`` in a child process, as a user would."""
    cmd = [sys.executable, "-m", "server.cli.main", "load", "--db", url, str(NODES), str(EDGES)]
    subprocess.run(cmd, check=True, cwd=REPO)


def serve(checkout: Path, url: str, data_dir: Path) -> tuple[subprocess.Popen, int]:
    """``seer serve`` from ``checkout`` on a free port; returns once it answers."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(checkout))
    cmd = [sys.executable, "-m", "server.cli.main", "serve", "--port", str(port), "--data-dir", str(data_dir)]
    proc = subprocess.Popen(
        [*cmd, "--db", url, "--log-level", "warning"], cwd=checkout, env=env, stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"http://127.0.0.1:{port}/status").status_code == 200:
                return proc, port
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"seer serve from {checkout} did not start")


class Target:
    """One server, its driver connection and its timings."""

    def __init__(self, name: str, proc: subprocess.Popen, port: int) -> None:
        from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
        from gremlin_python.process.anonymous_traversal import traversal

        self.name = name
        self.proc = proc
        self.ps = psutil.Process(proc.pid)
        self.conn = DriverRemoteConnection(f"ws://127.0.0.1:{port}/gremlin", "g", pool_size=1)
        g = traversal().with_(self.conn)
        self.cases: dict[str, Callable[[], Any]] = {
            "inject(1)": lambda: g.inject(1).to_list(),
            "oltp": lambda: g.V().has("airport", "code", "AUS").out("route").values("code").to_list(),
        }

    def cpu(self) -> float:
        times = self.ps.cpu_times()
        return times.user + times.system

    def close(self) -> None:
        self.conn.close()
        self.proc.terminate()
        self.proc.wait(timeout=30)


def measure(case: str, targets: list[Target], runs: int) -> list[tuple[list[float], float, float]]:
    """Latencies of ``runs`` calls to each target, one target after the other per round (after
    20 warm-ups each); server and client (this process) CPU seconds per call, per target."""
    for t in targets:
        for _ in range(20):
            t.cases[case]()
    lat: list[list[float]] = [[] for _ in targets]
    client = [0.0 for _ in targets]
    server0 = [t.cpu() for t in targets]
    for _ in range(runs):
        for i, t in enumerate(targets):
            c0 = time.process_time()
            t0 = time.perf_counter()
            t.cases[case]()
            lat[i].append(time.perf_counter() - t0)
            client[i] += time.process_time() - c0
    return [(lat[i], (t.cpu() - server0[i]) / runs, client[i] / runs) for i, t in enumerate(targets)]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench protocol")
    parser.add_argument("--db", default=None, help="Store URL (default: SQLite under --keep).")
    parser.add_argument("--runs", type=int, default=500, help="Requests per traversal.")
    parser.add_argument("--keep", type=Path, default=REPO / "bench" / "out" / "protocol")
    parser.add_argument("--baseline", type=Path, default=None, help="Another Seer checkout to compare.")
    args = parser.parse_args(argv)
    if not NODES.exists():
        print(f"skipped: {AIR_ROUTES} is not there")
        return
    args.keep.mkdir(parents=True, exist_ok=True)
    db_file = (args.keep / "seer.db").resolve()
    url = args.db or f"sqlite:///{db_file}"
    if args.db or not db_file.exists():
        t0 = time.perf_counter()
        seer_load(url)
        print(f"loaded air-routes in {time.perf_counter() - t0:.1f} s", flush=True)

    targets = [Target("this", *serve(REPO, url, args.keep))]
    if args.baseline is not None:
        targets.append(Target("baseline", *serve(args.baseline.resolve(), url, args.keep)))
    try:
        for t in targets:
            codes = t.cases["oltp"]()
            if len(codes) < 65:
                raise RuntimeError(f"air-routes looks wrong: AUS has {len(codes)} destinations")
        for case in targets[0].cases:
            results = measure(case, targets, args.runs)
            for t, (lat, server_cpu, client_cpu) in zip(targets, results, strict=True):
                print(
                    f"{case:<10} {t.name:<9} p50 {p(lat, 0.5):7.2f} ms  p99 {p(lat, 0.99):7.2f} ms  "
                    f"server CPU {server_cpu * 1000:6.2f} ms/req  client CPU {client_cpu * 1000:6.2f} ms/req",
                    flush=True,
                )
            if len(results) == 2:
                (ours, our_cpu, _), (base, base_cpu, _) = results
                print(
                    f"{case:<10} baseline / this: p50 {p(base, 0.5) / p(ours, 0.5):.2f}x, "
                    f"server CPU {base_cpu / our_cpu:.2f}x",
                    flush=True,
                )
    finally:
        for t in targets:
            t.close()


if __name__ == "__main__":
    main(sys.argv[1:])
