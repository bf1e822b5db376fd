"""Learned links through gremlinpython on air-routes: how fast a traversal gets predicted routes.

    python -m bench ml_queries                                    # as part of `make bench`
    python -m bench.ml_queries [--epochs N] [--runs N] [--keep DIR]  # with options

Starts the embedded server (``seer serve``, SQLite), bulk-loads ``../shared/datasets/air-routes``
through ``/loader``, trains a link-prediction model on ``route`` through the REST job API (a few
epochs: the figures are about query time, not model quality), publishes an endpoint, then times:

- ``top10``: top-10 predicted routes of one airport (AUS), p50/p90 over ``--runs`` queries;
  goal p50 <= 5 ms. Baseline: the same traversal over the real routes (no ML).
- ``all``: one traversal predicting the top-10 routes of every one of the 3,504 airports;
  goal < 2 s. Baseline: the real routes of every airport.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from server.demo.mlclient import SeerRest
from server.demo.processes import Service, free_port, seer_argv

AIR_ROUTES = Path(
    os.environ.get("SEER_SHARED_DIR", Path(__file__).resolve().parents[1].parent / "shared")
) / ("datasets/air-routes")
EP = "Neptune#ml.endpoint"
LP = "Neptune#ml.prediction"


def _csv_folder(tmp: Path) -> Path:
    """Only the Neptune CSV pair (the dataset folder also holds GraphML and notes)."""
    out = tmp / "air-routes-csv"
    out.mkdir()
    for name in ("air-routes-latest-nodes.csv", "air-routes-latest-edges.csv"):
        os.symlink(AIR_ROUTES / name, out / name)
    return out


def _times(fn, runs: int) -> list[float]:
    fn()  # warm: connection, model load, caches
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ml_queries")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--keep", type=Path, default=None, help="Reuse/keep the data directory here.")
    args = parser.parse_args(argv)
    if not AIR_ROUTES.exists():
        print(f"skipped: {AIR_ROUTES} is not there")
        return
    from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
    from gremlin_python.process.anonymous_traversal import traversal

    tmp = Path(tempfile.mkdtemp(prefix="seer-bench-ml-"))
    data_dir = args.keep or tmp / "data"
    fresh = not (data_dir / "seer.db").exists()
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = dict(os.environ, SEER_DATA_DIR=str(data_dir.resolve()), SEER_PORT=str(port))
    env.pop("SEER_DB_URL", None)
    env.pop("SEER_ENDPOINT_URL", None)
    server = Service("seer serve", seer_argv("serve", "--port", str(port)), env, tmp / "server.log")
    try:
        server.wait_http(f"http://127.0.0.1:{port}/status", timeout=120)
        rest = SeerRest(f"http://127.0.0.1:{port}", echo=print)
        endpoint = "bench-routes"
        if fresh:
            t0 = time.perf_counter()
            rest.load(str(_csv_folder(tmp)))
            print(f"load: {time.perf_counter() - t0:.1f}s")
            t0 = time.perf_counter()
            rest.train_endpoint(
                endpoint,
                {"targets": [{"edge": ["airport", "route", "airport"], "type": "link_prediction"}]},
                overrides={"num-epochs": args.epochs},
                timeout_s=1800,
            )
            print(f"process + train + endpoint: {time.perf_counter() - t0:.1f}s")
        rest.close()
        conn = DriverRemoteConnection(f"ws://127.0.0.1:{port}/gremlin", "g")
        try:
            g = traversal().with_remote(conn)
            ml = g.with_(EP, endpoint).with_("Neptune#ml.limit", 10)
            airports = g.V().has_label("airport").count().next()

            def top10() -> list:
                return (
                    ml.V()
                    .has("airport", "code", "AUS")
                    .out("route")
                    .with_(LP)
                    .has_label("airport")
                    .values("code")
                    .to_list()
                )

            def real10() -> list:
                return g.V().has("airport", "code", "AUS").out("route").limit(10).values("code").to_list()

            def everyone() -> int:
                return ml.V().has_label("airport").out("route").with_(LP).has_label("airport").count().next()

            def everyone_real() -> int:
                return g.V().has_label("airport").out("route").has_label("airport").count().next()

            print(f"AUS top-10 predicted: {top10()}")
            t_ml, t_real = _times(top10, args.runs), _times(real10, args.runs)
            p50, p90 = statistics.median(t_ml) * 1e3, statistics.quantiles(t_ml, n=10)[-1] * 1e3
            base = statistics.median(t_real) * 1e3
            print(
                f"top10 (one airport): p50 {p50:.2f} ms, p90 {p90:.2f} ms (goal p50 <= 5 ms); "
                f"real routes p50 {base:.2f} ms; ratio {p50 / base:.2f}x"
            )
            n = everyone()
            all_ml = min(_times(everyone, 3))
            all_real = min(_times(everyone_real, 3))
            print(
                f"all {airports} airports, top-10 each ({n} predicted routes): {all_ml:.2f} s (goal < 2 s); "
                f"real routes {all_real:.2f} s; ratio {all_ml / all_real:.2f}x"
            )
        finally:
            conn.close()
    finally:
        server.stop()
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
