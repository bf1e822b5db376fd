"""Bulk-load throughput (edges/s): air-routes (Neptune CSV) and a generated 1M-edge graph, on
SQLite and PostgreSQL.

    python -m bench load [--edges N] [--backend sqlite --backend postgres] [--pg-url URL]

Each run loads into an empty database (PostgreSQL: a scratch schema ``seer_bench_load``) and
prints wall time, this process's CPU time, the PostgreSQL server process's CPU time (``srv cpu``:
the backend that ran the load, read from its ``/proc`` entry with psutil; blank for SQLite,
which works inside this process), edges/s (``cpu e/s``: per CPU second of both) and ``after s``:
how long the work that a load leaves to a background thread went on after it returned (SQLite:
the WAL checkpoint; PostgreSQL: ANALYZE for the planner's statistics), which is not in the load's
wall time: the data is committed and readable meanwhile. The baseline, measured in the same
process, is the database's floor: the same edge rows written by a bare ``executemany`` / COPY
into an unindexed table, so the ratio shows what parsing, id checks and indexes cost on top.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import urllib.parse
from pathlib import Path

import psutil
import sqlalchemy as sa

from server.store import open_store
from server.store.loaders import load
from server.store.sql import migrate

SHARED = Path(os.environ.get("SEER_SHARED_DIR", Path(__file__).resolve().parents[1].parent / "shared"))
AIR_ROUTES = SHARED / "datasets" / "air-routes"
DEFAULT_PG = os.environ.get("SEER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def generate(folder: Path, edges: int, seed: int = 7) -> Path:
    """A Neptune CSV graph: ``edges // 10`` people (name, age, score) and ``edges`` ``knows``
    edges (weight) with a skewed (preferential) degree distribution."""
    rng = random.Random(seed)
    n = max(edges // 10, 2)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "vertices.csv", "w") as f:
        f.write("~id,~label,name:String,age:Int,score:Double\n")
        for i in range(n):
            f.write(f"p{i},person,name{i},{18 + i % 60},{rng.random():.6f}\n")
    with open(folder / "edges.csv", "w") as f:
        f.write("~id,~from,~to,~label,weight:Double\n")
        for i in range(edges):
            a = int(n * rng.random() ** 2)
            b = rng.randrange(n)
            f.write(f"e{i},p{a},p{b},knows,{rng.random():.4f}\n")
    return folder


def scratch_url(kind: str, pg_url: str, tmp: Path) -> str:
    if kind == "sqlite":
        db = tmp / f"bench-{time.time_ns()}.db"
        return f"sqlite:///{db}"
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS seer_bench_load CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA seer_bench_load")
    engine.dispose()
    sep = "&" if "?" in pg_url else "?"
    return f"{pg_url}{sep}options={urllib.parse.quote('-csearch_path=seer_bench_load')}"


def run_load(kind: str, source: Path, pg_url: str, tmp: Path) -> dict:
    url = scratch_url(kind, pg_url, tmp)
    migrate(url)
    store = open_store(url, migrate=False)
    backend = _backend(store) if kind == "postgres" else None
    server = _cpu_seconds(backend)
    wall, cpu = time.perf_counter(), time.process_time()
    report = load(store, source)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    started = time.perf_counter()
    store.wait_for_background()  # the WAL checkpoint or ANALYZE the load left to a thread
    background = time.perf_counter() - started
    server = _cpu_seconds(backend) - server if backend is not None else None
    if backend is not None and _backend(store).pid != backend.pid:
        server = None  # the load ran on another connection than the one measured
    store.dispose()
    if report.status != "LOAD_COMPLETED":
        raise SystemExit(f"load failed: {report.errors[:3]}")
    return {
        "vertices": report.vertices,
        "edges": report.edges,
        "wall": wall,
        "cpu": cpu,
        "server": server,
        "background": background,
    }


def _backend(store) -> psutil.Process | None:  # noqa: ANN001 - a SqlStore
    """The PostgreSQL server process behind the store's (single, pooled) connection, which the
    load then reuses; None when the server is not on this machine."""
    with store.connect() as conn:
        pid = conn.sa_connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        conn.rollback()
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


def _cpu_seconds(process: psutil.Process | None) -> float:
    if process is None:
        return 0.0
    times = process.cpu_times()
    return times.user + times.system


def baseline(kind: str, source: Path, pg_url: str, tmp: Path) -> float:
    """Seconds for the bare database to take the edge rows (ids, label, endpoints, no indexes)."""
    import csv

    rows = []
    for path in sorted(source.glob("*.csv")):
        with open(path, newline="") as f:
            reader = csv.reader(f)
            header = [h.lower() for h in next(reader)]
            if "~from" not in header:
                continue
            i, o, t, label = (header.index(c) for c in ("~id", "~from", "~to", "~label"))
            rows.extend((r[i], r[o], r[t], r[label]) for r in reader)
    url = scratch_url(kind, pg_url, tmp)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE raw_edges (id TEXT, src TEXT, dst TEXT, label TEXT)")
        raw = conn.connection.driver_connection
        start = time.perf_counter()
        if kind == "sqlite":
            raw.cursor().executemany("INSERT INTO raw_edges VALUES (?, ?, ?, ?)", rows)
        else:
            with raw.cursor() as cur, cur.copy("COPY raw_edges FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        seconds = time.perf_counter() - start
    engine.dispose()
    return seconds


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench load", description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=int, default=1_000_000, help="edges of the generated graph")
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgres"], help="default: both")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    args = parser.parse_args(argv)
    backends = args.backend or ["sqlite", "postgres"]
    with tempfile.TemporaryDirectory(prefix="seer-bench-load-") as tmp_name:
        tmp = Path(tmp_name)
        started = time.perf_counter()
        generated = generate(tmp / "generated", args.edges)
        print(f"generated {args.edges:,} edges in {time.perf_counter() - started:.1f}s ({tmp})")
        datasets = [("air-routes", AIR_ROUTES)] if AIR_ROUTES.exists() else []
        datasets.append((f"generated-{args.edges // 1000}k", generated))
        print(
            f"{'dataset':<16} {'backend':<9} {'vertices':>9} {'edges':>9} {'wall s':>7} {'cpu s':>7} "
            f"{'srv cpu':>7} {'edges/s':>9} {'cpu e/s':>9} {'floor s':>8} {'x floor':>7} {'after s':>7}"
        )
        for name, source in datasets:
            for kind in backends:
                got = run_load(kind, source, args.pg_url, tmp)
                floor = baseline(kind, source, args.pg_url, tmp)
                rate = got["edges"] / got["wall"]
                total_cpu = got["cpu"] + (got["server"] or 0.0)
                server = "" if got["server"] is None else f"{got['server']:.2f}"
                print(
                    f"{name:<16} {kind:<9} {got['vertices']:>9,} {got['edges']:>9,} {got['wall']:>7.2f} "
                    f"{got['cpu']:>7.2f} {server:>7} {rate:>9,.0f} {got['edges'] / total_cpu:>9,.0f} {floor:>8.2f} "
                    f"{got['wall'] / floor:>7.1f} {got['background']:>7.2f}",
                    flush=True,
                )
        if "postgres" in backends:
            engine = sa.create_engine(args.pg_url)
            with engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA IF EXISTS seer_bench_load CASCADE")
            engine.dispose()


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
