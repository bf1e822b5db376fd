"""A real server with models trained through the REST job API on a small generated airline graph,
for the Neptune ML query tests; plus the ``Neptune#ml.*`` names they use. On request, also a
``seer endpoint`` process serving those models and a second Gremlin server configured
(``SEER_ENDPOINT_URL``) to ask it over HTTP, as the compose stack does."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gremlin_python.driver.client import Client
from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
from gremlin_python.process.anonymous_traversal import traversal
from gremlin_python.process.graph_traversal import GraphTraversalSource, __

from server.config import Settings
from server.demo.generate import GeneratedGraph, GraphSpec, generate_csv
from server.demo.mlclient import SeerRest
from server.demo.processes import Service, free_port, services
from tests.conftest import seer_command, seer_env
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
IAM_ROLE_ARN = "Neptune#ml.iamRoleArn"
DISABLE_CACHE = "Neptune#ml.disableInductiveInferenceMetadataCache"

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
    remote: Live | None = None
    """With ``live_server(..., remote=True)``: a second Gremlin server on the same store whose ML
    endpoints are answered over HTTP by :attr:`endpoint` (same graph, models and predictors)."""
    endpoint: Service | None = None
    """With ``remote=True``: the ``seer endpoint`` process :attr:`remote` calls."""
    endpoint_url: str | None = None
    """With ``remote=True``: the base URL of :attr:`endpoint`."""

    def ml(self, endpoint: str, **options: Any) -> GraphTraversalSource:
        """``g.with_("Neptune#ml.endpoint", endpoint)`` plus ``Neptune#ml.<key>`` options."""
        g = self.g.with_(EP, endpoint)
        for key, value in options.items():
            g = g.with_(f"Neptune#ml.{key}", value)
        return g


@contextlib.contextmanager
def live_server(
    root: Path, models: list[str], *, default_endpoint: str | None = None, remote: bool = False
) -> Iterator[Live]:
    """Generate, start, load through ``/loader``, train ``models`` through ``/ml``, connect.

    ``remote``: also start a ``seer endpoint`` process on the same database (it imports torch
    while the models train) and a second server, sharing the first one's store, with
    ``endpoint_url`` set to it: ``Live.remote`` and ``Live.endpoint``."""
    from graphml import api

    graph = generate_csv(root / "csv", SPEC)
    settings = Settings(data_dir=root / "data", ml_endpoint=default_endpoint)
    app = build_app(settings, None)
    with contextlib.ExitStack() as stack:
        base = stack.enter_context(serve(app))
        endpoint_url = None
        if remote:
            endpoint, endpoint_url = stack.enter_context(endpoint_process(settings, root / "endpoint.log"))
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
        live = Live(base, _connect(base, stack), graph, settings.data_dir, predictors, jobs)
        if endpoint_url is not None:
            endpoint.wait_http(f"{endpoint_url}/health", timeout=120)
            remote_settings = Settings(
                data_dir=settings.data_dir,
                ml_endpoint=default_endpoint,
                endpoint_url=endpoint_url,
                embedded_worker=False,
            )
            remote_base = stack.enter_context(serve(build_app(remote_settings, app.state.store)))
            live.remote = Live(
                remote_base, _connect(remote_base, stack), graph, settings.data_dir, predictors, jobs
            )
            live.endpoint, live.endpoint_url = endpoint, endpoint_url
        yield live


def _connect(base: str, stack: contextlib.ExitStack) -> GraphTraversalSource:
    conn = DriverRemoteConnection(base.replace("http", "ws") + "/gremlin", "g")
    stack.callback(conn.close)
    return traversal().with_remote(conn)


@contextlib.contextmanager
def endpoint_process(settings: Settings, log: Path) -> Iterator[tuple[Service, str]]:
    """``seer endpoint`` on a free loopback port over the database of ``settings``; yields the
    service and its base URL (it answers once it has imported the learning stack)."""
    port = free_port()
    env = seer_env(SEER_DATA_DIR=str(settings.data_dir), SEER_DB_URL=settings.database_url)
    with services() as running:
        running.append(Service("endpoint", seer_command("endpoint", "--port", str(port)), env, log))
        yield running[0], f"http://127.0.0.1:{port}"


def invocations(service: Service, endpoint_id: str, at_least: int = 0) -> int:
    """How many inference requests a ``seer endpoint`` service has logged for ``endpoint_id``,
    once it has logged ``at_least`` (its access log line may follow the answer by a moment) or
    5 s passed."""
    deadline = time.monotonic() + 5
    while True:
        count = service.log_path.read_text().count(f"/endpoints/{endpoint_id}/invocations")
        if count >= at_least or time.monotonic() > deadline:
            return count
        time.sleep(0.05)


def ids_of(rows: list) -> list[str]:
    """The vertex ids of a predictor's ``[(id, score), ...]``."""
    return [str(i) for i, _ in rows]


def threshold_between(scores: list[float]) -> float:
    """A threshold halfway between two middle distinct ``scores``: it keeps some and drops some,
    and no score sits on it (no float ties between the server's and the test's predictor)."""
    distinct = sorted(set(scores))
    if len(distinct) < 2:
        raise ValueError(f"need two distinct scores to cut between, got {distinct}")
    mid = len(distinct) // 2
    return (distinct[mid - 1] + distinct[mid]) / 2


@contextlib.contextmanager
def script_client(live: Live) -> Iterator[Client]:
    """A gremlinpython ``Client`` for script text (``client.submit("g.with(...)...")``)."""
    client = Client(live.base.replace("http", "ws") + "/gremlin", "g")
    try:
        yield client
    finally:
        client.close()


@contextlib.contextmanager
def new_airport(live: Live, code: str) -> Iterator[Any]:
    """An airport created after training (no edges yet), dropped afterwards."""
    vertex = live.g.add_v("airport").property("code", code).property("runways", 3).next()
    try:
        yield vertex
    finally:
        live.g.V(vertex.id).drop().iterate()


def rewire(live: Live, vid: Any, region: int, n: int = 12) -> tuple[str, list[str]]:
    """Replace the edges of vertex ``vid``: routes both ways to the first ``n`` airports of region
    number ``region`` and a ``contains`` edge from the first one's country. Returns
    ``(country id, peer ids)``. ``n`` exceeds the models' first-layer fanout (10), so inductive
    answers depend on which neighbours are sampled and ``Neptune#ml.deterministic`` matters."""
    g = live.g
    g.V(vid).both_e().drop().iterate()
    peers = [v for v, r in zip(live.graph.ids, live.graph.region, strict=True) if r == region][:n]
    country = live.graph.country_ids[int(live.graph.country[live.graph.ids.index(peers[0])])]
    g.V(country).add_e("contains").to(__.V(vid)).iterate()
    for peer in peers:
        g.V(vid).add_e("route").to(__.V(peer)).iterate()
        g.V(peer).add_e("route").to(__.V(vid)).iterate()
    return country, peers


def live_context(g: GraphTraversalSource, vid: Any) -> Any:
    """The ``NodeContext`` of vertex ``vid`` read through plain Gremlin (label, properties, every
    incident edge): what inductive inference must hand the model, built without gremlin_ext."""
    from graphml.inference.inductive import NodeContext

    label = g.V(vid).label().next()
    properties = {k: v[0] for k, v in g.V(vid).value_map().next().items()}
    outgoing = (
        g.V(vid).out_e().project("e", "id", "l").by(__.label()).by(__.in_v().id_()).by(__.in_v().label())
    )
    incoming = (
        g.V(vid).in_e().project("e", "id", "l").by(__.label()).by(__.out_v().id_()).by(__.out_v().label())
    )
    neighbours = [(r["e"], "out", str(r["id"]), r["l"]) for r in outgoing.to_list()]
    neighbours += [(r["e"], "in", str(r["id"]), r["l"]) for r in incoming.to_list()]
    return NodeContext(id=str(vid), label=label, properties=properties, neighbors=neighbours)
