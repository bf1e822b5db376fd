"""``seer demo``: the whole product in one run, the way a user would drive it.

1. a graph: the synthetic airline graph (:mod:`server.demo.generate`) or a Neptune CSV folder;
2. the embedded server (``seer serve``: one process, SQLite under the data directory);
3. ``/loader`` bulk load; ``/ml/dataprocessing`` -> ``/ml/modeltraining`` -> ``/ml/endpoints``
   for a link-prediction model (``route``) and a node-classification model (``region``);
4. Gremlin queries through gremlinpython with ``Neptune#ml.*``, printed with their answers and a
   few lines explaining each, including a vertex created after training (inductive inference).
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from server.demo.generate import GeneratedGraph, GraphSpec, generate_csv
from server.demo.mlclient import SeerRest
from server.demo.processes import Service, free_port, seer_argv

Echo = Callable[[str], None]

LP = "Neptune#ml.prediction"
NC = "Neptune#ml.classification"
EP = "Neptune#ml.endpoint"
LINK_BATCH_SIZE = 256
"""Edges per link-prediction batch: more optimizer steps per epoch than the default 1,024."""


@dataclasses.dataclass
class DemoConfig:
    data_dir: Path = Path(".seer/demo")
    data: Path | None = None
    """A Neptune CSV folder to load instead of the generated graph."""
    airports: int = 600
    link: tuple[str, str, str] = ("airport", "route", "airport")
    classify: tuple[str, str] = ("airport", "region")
    epochs: int | None = None
    """Training epochs of both models (default: 5 for links, 15 for classes)."""
    port: int | None = None
    keep_serving: bool = False
    seed: int = 7


def _neptune_ml_link(link: tuple[str, str, str], skip: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "version": "v2.0",
        "targets": [{"edge": list(link), "type": "link_prediction", "split_rate": [0.9, 0.05, 0.05]}],
        "features": [{"node": label, "property": p, "type": "none"} for label, p in skip],
    }


def _neptune_ml_class(classify: tuple[str, str], skip: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "version": "v2.0",
        "targets": [
            {
                "node": classify[0],
                "property": classify[1],
                "type": "classification",
                "split_rate": [0.8, 0.2, 0.0],
            }
        ],
        "features": [{"node": label, "property": p, "type": "none"} for label, p in skip],
    }


class Demo:
    def __init__(self, config: DemoConfig, echo: Echo = print) -> None:
        self.config = config
        self.echo = echo
        self.graph: GeneratedGraph | None = None
        self.started = time.monotonic()

    def say(self, text: str = "") -> None:
        self.echo(text)

    def step(self, title: str) -> None:
        self.say(f"\n[{time.monotonic() - self.started:5.1f}s] {title}")

    # -- setup --------------------------------------------------------------------------------

    def prepare(self) -> Path:
        """A fresh data directory; the graph's CSV folder."""
        config = self.config
        if config.data_dir.exists():
            shutil.rmtree(config.data_dir)
        config.data_dir.mkdir(parents=True)
        if config.data is not None:
            self.step(f"Using the Neptune CSV folder {config.data}")
            return config.data.resolve()
        self.step(f"Generating a synthetic airline graph ({config.airports} airports)")
        spec = GraphSpec(airports=config.airports, seed=config.seed)
        out = (config.data_dir / "graph").resolve()
        self.graph = generate_csv(out, spec)
        deg = self.graph.degrees()
        self.say(
            f"  {len(self.graph.ids)} airports in {len(self.graph.region_names)} regions, "
            f"{2 * len(self.graph.routes)} route edges; busiest airport has {deg.max()} routes, "
            f"median {int(sorted(deg)[len(deg) // 2])}; {int((~self.graph.labelled).sum())} airports "
            "have no region (the classifier will name it)."
        )
        return out

    def start_server(self) -> tuple[Service, int]:
        port = self.config.port or free_port()
        self.step(f"Starting the embedded server on port {port} (SQLite under {self.config.data_dir})")
        env = dict(__import__("os").environ)
        env.update({"SEER_DATA_DIR": str(self.config.data_dir.resolve()), "SEER_PORT": str(port)})
        env.pop("SEER_DB_URL", None)
        env.pop("SEER_ENDPOINT_URL", None)
        service = Service(
            "seer serve",
            seer_argv("serve", "--host", "127.0.0.1", "--port", str(port)),
            env,
            self.config.data_dir / "server.log",
        )
        service.wait_http(f"http://127.0.0.1:{port}/status", timeout=120)
        return service, port

    # -- the flow -----------------------------------------------------------------------------

    def run(self) -> int:
        csv_dir = self.prepare()
        service, port = self.start_server()
        try:
            rest = SeerRest(f"http://127.0.0.1:{port}", echo=self.say)
            self.step(f"POST /loader {csv_dir}")
            status = rest.load(str(csv_dir))
            self.say(f"  loaded {status.get('totalRecords', '?')} records")
            # Names and codes are identifiers, not features.
            skip = (
                [(label, p) for label in ("airport", "country") for p in ("code", "name")]
                if self.graph
                else []
            )
            lp_epochs, nc_epochs = (self.config.epochs, self.config.epochs) if self.config.epochs else (5, 15)
            self.step("Link prediction: /ml/dataprocessing -> /ml/modeltraining -> /ml/endpoints")
            # Small batches: link prediction needs optimizer steps more than epochs (air-routes'
            # 50k routes in batches of 1,024 gave the same top-5 for every airport after 5 epochs).
            lp = rest.train_endpoint(
                "demo-routes",
                _neptune_ml_link(self.config.link, skip),
                overrides={"num-epochs": lp_epochs, "batch-size": LINK_BATCH_SIZE},
            )
            self.step("Node classification: /ml/dataprocessing -> /ml/modeltraining -> /ml/endpoints")
            nc = rest.train_endpoint(
                "demo-region",
                _neptune_ml_class(self.config.classify, skip),
                overrides={"num-epochs": nc_epochs},
            )
            self.queries(port, lp["endpoint"], nc["endpoint"])
            self.step(f"Done in {time.monotonic() - self.started:.0f}s.")
            if self.config.keep_serving:
                self.say(
                    f"Serving on ws://127.0.0.1:{port}/gremlin and http://127.0.0.1:{port} (Ctrl-C stops)."
                )
                with contextlib.suppress(KeyboardInterrupt):
                    while True:
                        service.check_alive()
                        time.sleep(1)
            rest.close()
            return 0
        finally:
            service.stop()

    def queries(self, port: int, lp: str, nc: str) -> None:
        from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
        from gremlin_python.process.anonymous_traversal import traversal

        from server.demo.queries import DemoQueries

        conn = DriverRemoteConnection(f"ws://127.0.0.1:{port}/gremlin", "g")
        try:
            g = traversal().with_remote(conn)
            DemoQueries(g, lp, nc, self.config, self.graph, self.say, self.step).run_all()
        finally:
            conn.close()
