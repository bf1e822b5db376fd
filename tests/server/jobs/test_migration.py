"""Revision 0002 builds exactly the tables of server/jobs/tables.py, on SQLite and PostgreSQL,
and its downgrade removes them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from server.jobs.records import JobRecords, SchemaMissing, create_tables
from server.jobs.tables import metadata
from server.store.sql import downgrade, migrate
from tests.server.jobs.conftest import reset_pg

JOB_TABLES = set(metadata.tables)


def _ours(obj, name, type_, reflected, compare_to) -> bool:
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return table is None or table.name in JOB_TABLES


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'm.db'}"
    return reset_pg(request.getfixturevalue("pg_url"))


def test_revision_0002_matches_the_tables_and_downgrades(empty_url: str) -> None:
    engine = sa.create_engine(empty_url)
    try:
        migrate(empty_url, "0001")
        assert _tables(engine) & JOB_TABLES == set()
        with pytest.raises(SchemaMissing, match="seer migrate"):  # Alembic owns this database
            create_tables(engine)
        migrate(empty_url)
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == "0002"
            context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _ours})
            assert compare_metadata(context, metadata) == []
        create_tables(engine)  # present now: nothing to do
        JobRecords(engine).create_job("dataprocessing", "x", {"a": [1]}, "/o", "/l")
        assert JobRecords(engine).get_job("dataprocessing", "x").params == {"a": [1]}
        engine.dispose()
        downgrade(empty_url, "0001")
        assert _tables(engine) & JOB_TABLES == set()
    finally:
        engine.dispose()


def test_job_tables_made_without_alembic_are_adopted_by_the_migration(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'adopt.db'}"
    engine = sa.create_engine(url)
    create_tables(engine)  # a server whose graph lived elsewhere wrote its jobs here
    JobRecords(engine).create_job("modeltraining", "kept", {}, "/o", "/l")
    engine.dispose()
    migrate(url)  # then the store moves in: 0001 + 0002
    engine = sa.create_engine(url)
    assert JobRecords(engine).get_job("modeltraining", "kept") is not None
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0002"
    engine.dispose()
