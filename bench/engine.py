"""The traversal engine in-process on air-routes (SQLite): OLTP and multi-hop traversals.

    python -m bench engine [--db PATH] [--runs N]

Loads air-routes (Neptune CSV) into a SQLite file once (kept at ``--db`` for later runs), then
times each traversal through :meth:`GremlinEngine.execute` (parse + compile + run + property
materialisation, no network) and prints wall p50/min and CPU p50 in milliseconds. The baseline printed beside it
is the store alone answering the same question with its batched calls, so the ratio is what the
engine adds on top of the store.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from server.gremlin.engine import GremlinEngine
from server.gremlin.language import parse
from server.store import open_store
from server.store.interface import ElementQuery, PropertyFilter
from server.structure import Direction

SHARED = Path(os.environ.get("SEER_SHARED_DIR", Path(__file__).resolve().parents[1].parent / "shared"))
AIR_ROUTES = SHARED / "datasets" / "air-routes"

TRAVERSALS = {
    "aus_out_codes": "g.V().has('airport','code','AUS').out('route').values('code')",
    "2hop_count": "g.V().has('airport','code','AUS').out('route').out('route').count()",
    "3hop_count": "g.V().has('airport','code','AUS').out('route').out('route').out('route').count()",
    "groupcount_country": "g.V().hasLabel('airport').groupCount().by('country')",
    "aus_dest_countries": "g.V().has('airport','code','AUS').out('route').groupCount().by('country')",
    "shortest_aus_wlg": "g.V().has('airport','code','AUS').repeat(out('route').simplePath())"
    ".until(has('code','WLG')).path().by('code').limit(1)",
    "airport_count": "g.V().hasLabel('airport').count()",
    "airport_codes": "g.V().hasLabel('airport').values('code')",
    "hubs_where": "g.V().hasLabel('airport').where(out('route').count().is(gt(100))).count()",
    "hubs_order": "g.V().hasLabel('airport').order().by(out('route').count(), desc).limit(3).values('code')",
    "runways_order": "g.V().hasLabel('airport').order().by('runways', desc).limit(5).values('code')",
}


def _store(db: Path):  # noqa: ANN202
    fresh = not db.exists()
    store = open_store(f"sqlite:///{db}")
    if fresh:
        from server.store.loaders import load

        started = time.perf_counter()
        load(store, [AIR_ROUTES / "air-routes-latest-nodes.csv", AIR_ROUTES / "air-routes-latest-edges.csv"])
        print(f"loaded air-routes into {db} in {time.perf_counter() - started:.1f} s")
    return store


def _store_only(store) -> None:  # noqa: ANN001
    """The AUS out-neighbour codes with the store's two batched calls and nothing else."""
    with store.connect() as conn:
        [aus] = list(
            conn.vertices(ElementQuery(labels=["airport"], filters=[PropertyFilter("code", "eq", "AUS")]))
        )
        conn.adjacent_values([aus], Direction.OUT, ["route"], "code")


def _time(fn, runs: int) -> tuple[float, float, float]:  # noqa: ANN001
    """``(wall p50, wall min, CPU p50)`` in ms: CPU time (this process only) is the figure that
    stays meaningful on a shared, loaded machine."""
    times, cpu = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - cpu_started) * 1000)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times), statistics.median(cpu)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench engine")
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "seer-bench-air-routes.db")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    store = _store(args.db)
    engine = GremlinEngine(store)

    def run(text: str):  # noqa: ANN202
        def go() -> None:
            with store.connect() as conn:
                for _ in engine.execute(parse(text), conn):
                    pass

        return go

    base_p50, _, base_cpu = _time(lambda: _store_only(store), max(args.runs, 20))
    for name, text in TRAVERSALS.items():
        runs = max(args.runs, 20) if name == "aus_out_codes" else args.runs
        p50, best, cpu = _time(run(text), runs)
        extra = (
            f"  store-only {base_p50:.2f} ms (CPU {base_cpu:.2f})  ratio {p50 / base_p50:.1f}x"
            if name == "aus_out_codes"
            else ""
        )
        print(f"{name:20s} p50 {p50:9.2f} ms  min {best:9.2f} ms  CPU p50 {cpu:8.2f} ms{extra}", flush=True)
    store.dispose()


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
