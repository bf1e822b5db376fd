"""Fixtures of the job tests: job tables on a fresh SQLite file or a clean PostgreSQL schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from server.jobs.records import JobRecords, create_tables, make_engine
from tests.server.store.conftest import schema_url


def reset_pg(url: str) -> str:
    """A URL of the PostgreSQL test database whose search path is a fresh schema of its own."""
    return schema_url(url, "seer_jobs_tests")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.db'}"
    return reset_pg(request.getfixturevalue("pg_url"))


@pytest.fixture
def records(db_url: str) -> Iterator[JobRecords]:
    engine = make_engine(db_url)
    create_tables(engine)
    yield JobRecords(engine)
    engine.dispose()
