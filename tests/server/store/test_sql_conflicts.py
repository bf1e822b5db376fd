"""Write conflicts surface as ConflictError (retry) on SQLite and PostgreSQL; SQLite runs in WAL
mode with foreign keys on."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.store import ConflictError, open_store


def test_sqlite_is_wal_with_foreign_keys(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'g.db'}")
    with store.connect() as c:
        raw = c.sa_connection
        assert raw.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert raw.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert raw.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
    store.dispose()


def test_sqlite_stale_writer_gets_conflict(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'g.db'}")
    with store.connect() as a, store.connect() as b:
        a.add_vertex("x", id=1)
        a.commit()
        assert b.count_vertices() == 1  # b's transaction now reads an old snapshot
        a.add_vertex("x", id=2)
        a.commit()
        with pytest.raises(ConflictError, match="retry"):
            b.add_vertex("y", id=3)
    store.dispose()


@pytest.mark.postgres
def test_postgres_lock_timeout_is_a_conflict(pg_store_url: str) -> None:
    store = open_store(pg_store_url)
    with store.connect() as a, store.connect() as b:
        a.clear()
        v = a.add_vertex("x", id=1)
        e = a.add_edge("e", v, v, id=2)
        a.set_edge_property(e, "w", 1)
        a.commit()
        a.set_edge_property(e, "w", 2)  # holds the row lock, uncommitted
        b.sa_connection.exec_driver_sql("SET lock_timeout = '200ms'")
        with pytest.raises(ConflictError, match="retry"):
            b.set_edge_property(e, "w", 3)
        a.rollback()
    store.dispose()
