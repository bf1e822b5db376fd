"""Alembic: upgrade from empty and downgrade, on SQLite and PostgreSQL; revision 0001 builds
exactly the tables of server/store/sql/schema.py; `seer migrate` works; SQLite opens migrated."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from server.store import open_store
from server.store.sql import downgrade, migrate
from server.store.sql.schema import metadata
from tests.conftest import seer_command, seer_env
from tests.server.store.conftest import schema_url

GRAPH = {"vertices", "edges", "vertex_properties", "meta_properties", "edge_properties", "seer_counters"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'm.db'}"
    return schema_url(request.getfixturevalue("pg_url"), "seer_migration_tests")


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_matches_schema_and_downgrade_removes_it(empty_url: str) -> None:
    assert _tables(empty_url) == set()
    migrate(empty_url, "0001")
    assert GRAPH <= _tables(empty_url)
    engine = sa.create_engine(empty_url)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0001"
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    engine.dispose()
    assert diff == []
    downgrade(empty_url, "base")
    assert _tables(empty_url) & GRAPH == set()
    migrate(empty_url)  # and back up to head
    store = open_store(empty_url, migrate=False)
    with store.connect() as c:
        assert type(c.add_vertex("x").id).__name__ == "Int64"
        c.commit()
    store.dispose()


def test_seer_migrate_command_and_sqlite_migrates_on_open(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    done = subprocess.run(
        seer_command("migrate", "--db", url), env=seer_env(), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "migrated" in done.stdout and GRAPH <= _tables(url)
    fresh = tmp_path / "sub" / "fresh.db"
    store = open_store(f"sqlite:///{fresh}")
    with store.connect() as c:
        c.add_vertex("x")
        c.commit()
    store.dispose()
    assert GRAPH <= _tables(f"sqlite:///{fresh}")
