"""Fixtures shared by the whole suite.

PostgreSQL: tests marked ``postgres`` use ``SEER_TEST_PG_URL`` (default: the machine's test
server, 127.0.0.1:5432, user postgres, database test). They fail — they do not skip — when it is
unreachable, unless ``SEER_SKIP_PG=1`` is set explicitly.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SEER_SHARED_DIR", REPO_ROOT.parent / "shared"))
TINKERPOP = SHARED / "tinkerpop"
DATASETS = SHARED / "datasets"

PG_URL = os.environ.get("SEER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def seer_command(*args: str) -> list[str]:
    """The argv that runs the ``seer`` CLI from this checkout (works without an installed script)."""
    return [sys.executable, "-m", "server.cli.main", *args]


def seer_env(**extra: str) -> dict[str, str]:
    """Environment for a child process that must import this checkout's packages."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))
    env.update(extra)
    return env


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("SEER_SKIP_PG") != "1":
        return
    skip = pytest.mark.skip(reason="SEER_SKIP_PG=1 was set explicitly")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The PostgreSQL test database URL (fails loudly when the server does not answer)."""
    import sqlalchemy as sa

    engine = sa.create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means the same thing here
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL}: {exc}. Run `make postgres`.")
    finally:
        engine.dispose()
    return PG_URL
