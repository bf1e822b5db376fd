"""Fixtures of the job tests: job tables on a fresh SQLite file or a clean PostgreSQL schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from server.jobs.records import JobRecords, create_tables, make_engine
from server.jobs.tables import metadata


def reset_pg(url: str) -> None:
    """Drop the job tables of the PostgreSQL test database (tests own it while they run)."""
    engine = sa.create_engine(url)
    try:
        metadata.drop_all(engine)
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.db'}"
    url = request.getfixturevalue("pg_url")
    reset_pg(url)
    return url


@pytest.fixture
def records(db_url: str) -> Iterator[JobRecords]:
    engine = make_engine(db_url)
    create_tables(engine)
    yield JobRecords(engine)
    engine.dispose()
