"""Gremlin through gremlinpython on air-routes, beside gremlite (embedded Gremlin over SQLite).

    python -m bench gremlin [--db URL] [--runs N] [--keep DIR]

Loads ``../shared/datasets/air-routes`` (Neptune CSV: 3,749 vertices, 57,645 edges) into Seer's
store (SQLite under ``--keep``, default ``bench/out/gremlin``; or ``--db`` PostgreSQL) and into a
gremlite database, starts ``seer serve`` as a separate process and times, through the real
driver (GraphBinary, WebSocket):

- ``oltp x1`` / ``oltp x8``: one airport's out-neighbours' codes, 1 and 8 concurrent clients
  (p50/p99 latency and throughput); goal p50 <= 2 ms.
- ``2-hop`` / ``3-hop``: route counts from an airport; ``groupCount`` / ``groupCount 2-hop``: its
  destinations one and two stops away counted by country; ``groupCount all``: every airport by
  country (air-routes' classic ``g.V().hasLabel('airport').groupCount().by('country')``);
  ``shortest``: the shortest route AUS-SYD with repeat(out().simplePath()).until().
  Goal: 10x faster than gremlite on the multi-hop ones (all but the 1-hop ``groupCount``).

gremlite runs the same gremlinpython traversals in this process (no network). Each row prints
both figures and the ratio gremlite / Seer (above 1: Seer is faster).
"""

from __future__ import annotations

import argparse
import csv
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm import tqdm

REPO = Path(__file__).resolve().parents[1]
AIR_ROUTES = Path(os.environ.get("SEER_SHARED_DIR", REPO.parent / "shared")) / "datasets" / "air-routes"
NODES = AIR_ROUTES / "air-routes-latest-nodes.csv"
EDGES = AIR_ROUTES / "air-routes-latest-edges.csv"

_CASTS: dict[str, Callable[[str], Any]] = {"int": int, "double": float, "string": str}


def read_csv() -> tuple[
    list[tuple[str, str, dict[str, Any]]], list[tuple[str, str, str, str, dict[str, Any]]]
]:
    """Neptune CSV: vertices ``(id, label, props)`` and edges ``(id, from, to, label, props)``."""

    def typed(header: list[str], row: list[str]) -> dict[str, Any]:
        props = {}
        for name, value in zip(header, row, strict=False):
            if name.startswith("~") or value == "":
                continue
            key, _, kind = name.partition(":")
            props[key] = _CASTS.get(kind or "string", str)(value)
        return props

    with NODES.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        vertices = [(row[0], row[1], typed(header, row)) for row in reader]
    with EDGES.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        edges = [(row[0], row[1], row[2], row[3], typed(header, row)) for row in reader]
    return vertices, edges


def load_seer(url: str, vertices: list, edges: list) -> None:
    """Bulk-load air-routes with Seer's own loader (skipped when already loaded)."""
    from server.store import open_store
    from server.store.loaders import load

    store = open_store(url, migrate=True)
    try:
        with store.connect() as conn:
            if conn.count_vertices() == len(vertices) and conn.count_edges() == len(edges):
                return
            conn.clear()
            conn.commit()
        report = load(store, [NODES, EDGES], format="csv")
        if report.status != "LOAD_COMPLETED":
            raise RuntimeError(f"air-routes did not load: {report.to_neptune('bench')}")
    finally:
        store.dispose()


def load_gremlite(path: Path, vertices: list, edges: list) -> Any:
    """A gremlite traversal source over ``path`` holding air-routes."""
    from gremlin_python.process.anonymous_traversal import traversal
    from gremlite import SQLiteConnection

    fresh = not path.exists()
    remote = SQLiteConnection(path)
    g = traversal().with_(remote)
    if fresh or g.V().count().next() != len(vertices):
        ids: dict[str, Any] = {}
        for vid, label, props in tqdm(vertices, desc="gremlite: vertices", leave=False):
            t = g.add_v(label)
            for key, value in props.items():
                t = t.property(key, value)
            ids[vid] = t.id_().next()
        for _eid, out_id, in_id, label, props in tqdm(edges, desc="gremlite: edges", leave=False):
            # gremlite's addE takes step labels only: from_("a").to("b")
            t = g.V(ids[out_id]).as_("a").V(ids[in_id]).as_("b").add_e(label).from_("a").to("b")
            for key, value in props.items():
                t = t.property(key, value)
            t.to_list()  # gremlite has no discard() (what iterate() sends in 3.8)
        remote.commit()
    return g


def lite_source(path: Path) -> Any:
    """Another gremlite source over an already loaded database (one per thread)."""
    from gremlin_python.process.anonymous_traversal import traversal
    from gremlite import SQLiteConnection

    return traversal().with_(SQLiteConnection(path))


# -- the traversals ----------------------------------------------------------------------------


def traversals(g: Any, *, lite: bool = False) -> dict[str, Callable[[], Any]]:
    """The timed traversals; ``lite``: gremlite has no groupCount(), so its row counts the
    countries of ``values("country")`` in Python (the same answer)."""
    from collections import Counter

    from gremlin_python.process.graph_traversal import __

    def group_count(start: Callable[[], Any]) -> Callable[[], Any]:
        """Countries of the airports that ``start()`` reaches, counted."""

        def run() -> Any:
            if lite:
                return Counter(start().values("country").to_list())
            return start().group_count().by("country").next()

        return run

    def aus() -> Any:
        return g.V().has("airport", "code", "AUS")

    return {
        "oltp": lambda: g.V().has("airport", "code", "AUS").out("route").values("code").to_list(),
        "2-hop": lambda: g.V().has("airport", "code", "AUS").out("route").out("route").count().next(),
        "3-hop": lambda: (
            g.V().has("airport", "code", "AUS").out("route").out("route").out("route").count().next()
        ),
        "groupCount": group_count(lambda: aus().out("route")),
        "groupCount 2-hop": group_count(lambda: aus().out("route").out("route")),
        "groupCount all": group_count(lambda: g.V().has_label("airport")),
        "shortest": lambda: (
            g.V()
            .has("airport", "code", "AUS")
            .repeat(__.out("route").simple_path())
            .until(__.has("code", "SYD"))
            .limit(1)
            .path()
            .by("code")
            .next()
        ),
    }


HOP_MIN_S = 2.0
"""Each multi-hop traversal runs at least ``--hop-runs`` times and for at least this long."""


def timed(fn: Callable[[], Any], runs: int, budget_s: float, min_s: float = 0.0) -> list[float]:
    """Latencies of ``runs`` calls (after one warm-up), or more while under ``min_s`` seconds (so
    that a fast traversal's p50 rests on hundreds of samples, not on ``runs``), stopping after
    ``budget_s``."""
    fn()
    out: list[float] = []
    start = time.monotonic()
    enough, stop = start + min_s, start + budget_s
    while (len(out) < runs or time.monotonic() < enough) and time.monotonic() < stop:
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def concurrent(
    make_fn: Callable[[], Callable[[], Any]], clients: int, per_client: int
) -> tuple[list[float], float]:
    """``clients`` threads, each with its own client made in its own thread (sqlite3 connections
    stay in their thread), running ``per_client`` calls; latencies and calls per second."""
    lat: list[list[float]] = [[] for _ in range(clients)]
    ready = threading.Barrier(clients + 1)
    go = threading.Barrier(clients + 1)

    def worker(i: int) -> None:
        fn = make_fn()
        fn()
        ready.wait()
        go.wait()
        for _ in range(per_client):
            t0 = time.perf_counter()
            fn()
            lat[i].append(time.perf_counter() - t0)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    ready.wait()
    t0 = time.perf_counter()
    go.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    flat = [x for xs in lat for x in xs]
    return flat, len(flat) / elapsed


def p(lat: list[float], q: float) -> float:
    """The q-quantile in milliseconds."""
    if not lat:
        return float("nan")
    xs = sorted(lat)
    return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000


def row(
    name: str, seer: list[float], lite: list[float], seer_tput: float = 0.0, lite_tput: float = 0.0
) -> None:
    s50, l50 = p(seer, 0.5), p(lite, 0.5)
    extra = f"  {seer_tput:8.0f}/s {lite_tput:8.0f}/s" if seer_tput else ""
    print(
        f"{name:<16} seer p50 {s50:8.2f} ms p99 {p(seer, 0.99):8.2f} ms | gremlite p50 {l50:8.2f} ms "
        f"p99 {p(lite, 0.99):8.2f} ms | ratio {l50 / s50:6.1f}x{extra}",
        flush=True,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(url: str, data_dir: Path, port: int) -> subprocess.Popen:
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    )
    cmd = [sys.executable, "-m", "server.cli.main", "serve", "--port", str(port), "--data-dir", str(data_dir)]
    cmd += ["--db", url, "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/status").status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("seer serve did not start")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench gremlin")
    parser.add_argument("--db", default=None, help="Store URL (default: SQLite under --keep).")
    parser.add_argument("--runs", type=int, default=200, help="OLTP queries per client.")
    parser.add_argument("--hop-runs", type=int, default=10, help="Runs of each multi-hop traversal.")
    parser.add_argument("--keep", type=Path, default=REPO / "bench" / "out" / "gremlin")
    args = parser.parse_args(argv)
    if not NODES.exists():
        print(f"skipped: {AIR_ROUTES} is not there")
        return
    from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
    from gremlin_python.process.anonymous_traversal import traversal

    args.keep.mkdir(parents=True, exist_ok=True)
    url = args.db or f"sqlite:///{(args.keep / 'seer.db').resolve()}"
    vertices, edges = read_csv()
    t0 = time.perf_counter()
    load_seer(url, vertices, edges)
    print(f"seer store ready ({url.split('@')[-1]}) in {time.perf_counter() - t0:.1f} s", flush=True)
    t0 = time.perf_counter()
    lite = load_gremlite(args.keep / "gremlite.db", vertices, edges)
    print(f"gremlite ready in {time.perf_counter() - t0:.1f} s", flush=True)

    port = free_port()
    server = start_server(url, args.keep, port)
    conns: list[Any] = []

    def seer_g() -> Any:
        conn = DriverRemoteConnection(f"ws://127.0.0.1:{port}/gremlin", "g", pool_size=1)
        conns.append(conn)
        return traversal().with_(conn)

    try:
        g = seer_g()
        ours, theirs = traversals(g), traversals(lite, lite=True)
        assert sorted(ours["oltp"]()) == sorted(theirs["oltp"]()), "Seer and gremlite disagree on oltp"
        for name in ("groupCount", "groupCount 2-hop", "groupCount all"):
            assert ours[name]() == dict(theirs[name]()), f"Seer and gremlite disagree on {name}"
        row("oltp x1", timed(ours["oltp"], args.runs, 60), timed(theirs["oltp"], args.runs, 60))
        s_lat, s_tp = concurrent(lambda: traversals(seer_g())["oltp"], 8, args.runs // 2)
        lite_path = args.keep / "gremlite.db"
        l_lat, l_tp = concurrent(
            lambda: traversals(lite_source(lite_path), lite=True)["oltp"], 8, args.runs // 2
        )
        row("oltp x8", s_lat, l_lat, s_tp, l_tp)
        for name in ("2-hop", "3-hop", "groupCount", "groupCount 2-hop", "groupCount all", "shortest"):
            s = timed(ours[name], args.hop_runs, 60, min_s=HOP_MIN_S)
            ll = timed(theirs[name], args.hop_runs, 60, min_s=HOP_MIN_S)
            row(name, s, ll)
        print(
            f"(shortest AUS-SYD {ours['shortest']()}; 2-hop count {ours['2-hop']()}, 3-hop count {ours['3-hop']()})"
        )
    finally:
        for conn in conns:
            conn.close()
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main(sys.argv[1:])
