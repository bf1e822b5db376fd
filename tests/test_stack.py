"""The docker-compose stack without Docker: every Seer service of ``docker-compose.yml`` runs its
own command with its own environment as a local process on loopback, against the real
PostgreSQL (``SEER_TEST_PG_URL``), and the whole flow goes across them: migrate, bulk load, REST
job submission, the worker trains, the endpoint serves, and a gremlinpython query with
``Neptune#ml.prediction`` on the server returns predicted vertices computed by the endpoint."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import yaml

from server.demo.generate import GraphSpec, generate_csv
from server.demo.mlclient import SeerRest
from server.demo.processes import Service, free_port, services
from tests.conftest import REPO_ROOT, seer_command, seer_env
from tests.gremlin_ext.livemodels import invocations

pytestmark = pytest.mark.postgres

COMPOSE = REPO_ROOT / "docker-compose.yml"


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def local_argv(command: list[str], port: int | None) -> list[str]:
    """The service's command for this checkout, bound to loopback (and ``port`` when it has one)."""
    assert command[0] == "seer", command
    args = list(command[1:])
    for i, arg in enumerate(args[:-1]):
        if arg == "--host":
            args[i + 1] = "127.0.0.1"
        if arg == "--port" and port is not None:
            args[i + 1] = str(port)
    return seer_command(*args)


def local_env(env: dict[str, str], pg_url: str, data_dir: Path, ports: dict[str, int]) -> dict[str, str]:
    """The service's compose environment with compose host names replaced by loopback ones."""
    out: dict[str, str] = {}
    for key, value in env.items():
        value = str(value)
        if key == "SEER_DB_URL":
            value = pg_url
        elif key == "SEER_DATA_DIR":
            value = str(data_dir)
        else:
            value = re.sub(
                r"http://(\w+):(\d+)",
                lambda m: f"http://127.0.0.1:{ports.get(m.group(1), m.group(2))}",
                value,
            )
        out[key] = value
    return seer_env(**out)


def test_local_translation_of_the_compose_file(tmp_path: Path) -> None:
    compose = _compose()["services"]
    env = local_env(compose["seer"]["environment"], "postgresql+psycopg://x/y", tmp_path, {"endpoint": 4242})
    assert env["SEER_DB_URL"] == "postgresql+psycopg://x/y"
    assert env["SEER_ENDPOINT_URL"] == "http://127.0.0.1:4242"
    assert env["SEER_DATA_DIR"] == str(tmp_path)
    argv = local_argv(compose["seer"]["command"], 5555)
    assert argv[-4:] == ["--host", "127.0.0.1", "--port", "5555"]


def test_stack_flow_across_local_processes(tmp_path: Path, pg_url: str) -> None:
    from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
    from gremlin_python.process.anonymous_traversal import traversal
    from gremlin_python.process.graph_traversal import __

    from graphml.inference.remote import RemotePredictor

    compose = _compose()["services"]
    ports = {"seer": free_port(), "endpoint": free_port()}
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    logs = tmp_path / "logs"

    def start(name: str) -> Service:
        spec = compose[name]
        return Service(
            name,
            local_argv(spec["command"], ports.get(name)),
            local_env(spec["environment"], pg_url, data_dir, ports),
            logs / f"{name}.log",
        )

    migrate = start("migrate")
    assert migrate.wait_exit(timeout=120) == 0, migrate.log_tail()

    with services() as running:
        running += [start("endpoint"), start("worker"), start("seer")]
        endpoint, worker, seer = running
        base = f"http://127.0.0.1:{ports['seer']}"
        seer.wait_http(f"{base}/status", timeout=90)
        endpoint.wait_http(f"http://127.0.0.1:{ports['endpoint']}/docs", timeout=90)

        conn = DriverRemoteConnection(f"ws://127.0.0.1:{ports['seer']}/gremlin", "g")
        try:
            g = traversal().with_remote(conn)
            g.V().drop().iterate()  # the test database may hold an earlier graph
            graph = generate_csv(tmp_path / "graph", GraphSpec(airports=120, mean_degree=6, seed=11))
            rest = SeerRest(base)
            rest.load(str(tmp_path / "graph"))
            assert g.V().has_label("airport").count().next() == 120

            name = f"stack-{uuid.uuid4().hex[:8]}"
            ids = rest.train_endpoint(
                name,
                {
                    "targets": [{"edge": ["airport", "route", "airport"], "type": "link_prediction"}],
                    "features": [
                        {"node": "airport", "property": p, "type": "none"} for p in ("code", "name")
                    ],
                },
                overrides={"num-epochs": 3},
                timeout_s=240,
            )
            rest.close()
            worker.check_alive()
            assert ids["modeltraining"] in worker.log_path.read_text(), "the worker service ran the training"

            source = graph.ids[0]
            with RemotePredictor(
                f"http://127.0.0.1:{ports['endpoint']}", ids["endpoint"], timeout_s=120
            ) as remote:
                direct = remote.predict_links([source], edge_label="route", target_label="airport", limit=3)
            predicted = (
                g.with_("Neptune#ml.endpoint", ids["endpoint"])
                .with_("Neptune#ml.limit", 3)
                .V(source)
                .out("route")
                .with_("Neptune#ml.prediction")
                .has_label("airport")
                .id_()
                .to_list()
            )
            calls_before_many = invocations(endpoint, ids["endpoint"], at_least=2)
            many = (
                g.with_("Neptune#ml.endpoint", ids["endpoint"])
                .with_("Neptune#ml.limit", 3)
                .V(*graph.ids[:10])
                .project("from", "to")
                .by(__.id_())
                .by(__.out("route").with_("Neptune#ml.prediction").has_label("airport").id_().fold())
                .to_list()
            )
            calls_after_many = invocations(endpoint, ids["endpoint"], at_least=3)
        finally:
            conn.close()
        assert len(predicted) == 3 and set(predicted) <= set(graph.ids)
        assert calls_before_many == 2, (
            "the server asked the endpoint service (after this test's own direct call)"
        )
        # One traversal over ten vertices: the ML step asks the endpoint once, for all of them.
        assert [row["from"] for row in many] == graph.ids[:10]
        assert all(len(row["to"]) == 3 for row in many)
        assert calls_after_many == 3, "one batched invocation per ML step, not one per traverser"
        assert [str(v) for v, _ in direct[0]] == [str(v) for v in predicted]
