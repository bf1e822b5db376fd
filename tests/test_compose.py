"""The docker-compose stack definition: docker-compose's own validation (when the Debian
``docker-compose`` binary is installed) and a pure-Python check of what the stack needs."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from server.cli.main import cli
from server.config import Settings
from tests.conftest import REPO_ROOT

COMPOSE = REPO_ROOT / "docker-compose.yml"
SEER_SERVICES = {"migrate": "migrate", "seer": "serve", "worker": "worker", "endpoint": "endpoint"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_services_and_their_commands(compose: dict) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", *SEER_SERVICES}
    for name, sub in SEER_SERVICES.items():
        command = services[name]["command"]
        assert command[:2] == ["seer", sub], name
        assert sub in cli.commands, f"`seer {sub}` is not a command"


def test_postgres_health_gates_migrate_which_gates_the_rest(compose: dict) -> None:
    services = compose["services"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"
    for name in ("seer", "worker", "endpoint"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_configuration_is_seer_settings(compose: dict) -> None:
    """Every Seer service points at the compose PostgreSQL; variables parse as Settings."""
    postgres_env = compose["services"]["postgres"]["environment"]
    for name in SEER_SERVICES:
        env = compose["services"][name]["environment"]
        assert all(key.startswith("SEER_") for key in env), name
        settings = Settings(**{k.removeprefix("SEER_").lower(): v for k, v in env.items()})
        assert settings.database_url.startswith("postgresql+psycopg://")
        assert f"@postgres:5432/{postgres_env['POSTGRES_DB']}" in settings.database_url
        assert str(settings.data_dir) == "/data"
    assert compose["services"]["seer"]["ports"] == ["8182:8182"]
    server = compose["services"]["seer"]["environment"]
    assert server["SEER_EMBEDDED_WORKER"] == "false", "the worker service runs the jobs"
    port = compose["services"]["endpoint"]["command"][-1]
    assert server["SEER_ENDPOINT_URL"] == f"http://endpoint:{port}"


def test_volumes_for_data_and_models(compose: dict) -> None:
    assert {"pgdata", "data", "models"} <= set(compose["volumes"])
    for name in ("seer", "worker", "endpoint"):
        mounts = dict(m.split(":")[:2][::-1] for m in compose["services"][name]["volumes"])
        assert mounts == {"/data": "data", "/data/ml": "models"}, name


def test_dockerfile_installs_the_pinned_stack() -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("# Seer") and "FROM python:3.11-slim" in dockerfile
    assert "pip install '.[ml]'" in dockerfile
    assert 'CMD ["seer", "serve"]' in dockerfile


@pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="Debian's docker-compose is not installed (`make docker-compose`; `make test` installs it)",
)
def test_docker_compose_config_validates() -> None:
    out = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
    )
    assert out.returncode == 0, out.stderr
