"""A real server with models trained through the REST job API on a small generated airline graph,
for the Neptune ML query tests; plus the ``Neptune#ml.*`` names they use."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
from gremlin_python.process.anonymous_traversal import traversal
from gremlin_python.process.graph_traversal import GraphTraversalSource

from server.config import Settings
from server.demo.generate import GeneratedGraph, GraphSpec, generate_csv
from server.demo.mlclient import SeerRest
from tests.server.api.live import build_app, serve

EP = "Neptune#ml.endpoint"
LIMIT = "Neptune#ml.limit"
THRESHOLD = "Neptune#ml.threshold"
LP = "Neptune#ml.prediction"
NC = "Neptune#ml.classification"
NR = "Neptune#ml.regression"
SCORE = "Neptune#ml.score"
INDUCTIVE = "Neptune#ml.inductiveInference"
DETERMINISTIC = "Neptune#ml.deterministic"

NONE_FEATURES = [
    {"node": label, "property": p, "type": "none"}
    for label in ("airport", "country")
    for p in ("code", "name")
]
ROUTE = ["airport", "route", "airport"]
MODELS: dict[str, tuple[dict[str, Any], int]] = {
    "lp": ({"targets": [{"edge": ROUTE, "type": "link_prediction"}]}, 3),
    "nc": ({"targets": [{"node": "airport", "property": "region", "type": "classification"}]}, 15),
    "nr": ({"targets": [{"node": "airport", "property": "runways", "type": "regression"}]}, 2),
    "ec": ({"targets": [{"edge": ROUTE, "property": "kind", "type": "classification"}]}, 2),
    "er": ({"targets": [{"edge": ROUTE, "property": "dist", "type": "regression"}]}, 2),
}
SPEC = GraphSpec(airports=120, mean_degree=8, regions=3, seed=7)


@dataclasses.dataclass
class Live:
    base: str
    g: GraphTraversalSource
    graph: GeneratedGraph
    data_dir: Path
    predictors: dict[str, Any]
    jobs: dict[str, dict[str, str]]

    def ml(self, endpoint: str, **options: Any) -> GraphTraversalSource:
        """``g.with_("Neptune#ml.endpoint", endpoint)`` plus ``Neptune#ml.<key>`` options."""
        g = self.g.with_(EP, endpoint)
        for key, value in options.items():
            g = g.with_(f"Neptune#ml.{key}", value)
        return g


@contextlib.contextmanager
def live_server(root: Path, models: list[str], *, default_endpoint: str | None = None) -> Iterator[Live]:
    """Generate, start, load through ``/loader``, train ``models`` through ``/ml``, connect."""
    from graphml import api

    graph = generate_csv(root / "csv", SPEC)
    settings = Settings(data_dir=root / "data", ml_endpoint=default_endpoint)
    with serve(build_app(settings, None)) as base:
        rest = SeerRest(base)
        rest.load(str(root / "csv"))
        jobs = {}
        for name in models:
            neptune_ml, epochs = MODELS[name]
            jobs[name] = rest.train_endpoint(
                name,
                {**neptune_ml, "features": NONE_FEATURES},
                overrides={"num-epochs": epochs, "seed": 1},
                timeout_s=600,
            )
        rest.close()
        predictors = {
            name: api.load_predictor(settings.data_dir / "ml" / "modeltraining" / ids["modeltraining"])
            for name, ids in jobs.items()
        }
        conn = DriverRemoteConnection(base.replace("http", "ws") + "/gremlin", "g")
        try:
            yield Live(base, traversal().with_remote(conn), graph, settings.data_dir, predictors, jobs)
        finally:
            conn.close()


def ids_of(rows: list) -> list[str]:
    """The vertex ids of a predictor's ``[(id, score), ...]``."""
    return [str(i) for i, _ in rows]
