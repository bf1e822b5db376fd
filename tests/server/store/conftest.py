"""The ``store`` fixture: one test suite over the memory, SQLite and PostgreSQL backends.

PostgreSQL tests run in their own schema (``search_path`` set through the URL), so they never
touch tables that other suites keep in the same database.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.store import GraphStore, open_store
from server.store.sql import SqlStore, migrate
from server.store.sql.schema import metadata

GRAPH_TABLES = ["meta_properties", "vertex_properties", "edge_properties", "edges", "vertices"]


def schema_url(base: str, schema: str) -> str:
    """``base`` with a fresh, empty PostgreSQL schema ``schema`` first on its search_path."""
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine.dispose()
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={urllib.parse.quote(f'-csearch_path={schema}')}"


@pytest.fixture(scope="session")
def pg_store_url(pg_url: str) -> str:
    url = schema_url(pg_url, "seer_store_tests")
    migrate(url)
    return url


def _empty(store: SqlStore) -> None:
    with store.engine.begin() as conn:
        for name in GRAPH_TABLES:
            conn.execute(metadata.tables[name].delete())


@pytest.fixture(
    params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    """An empty graph store of each kind."""
    if request.param == "memory":
        yield open_store("memory://")
        return
    if request.param == "sqlite":
        s = open_store(f"sqlite:///{tmp_path / 'graph.db'}")
    else:
        s = open_store(request.getfixturevalue("pg_store_url"))
        _empty(s)
    try:
        yield s
    finally:
        s.dispose()
