"""The SQL backend of the store (SQLAlchemy 2 Core over SQLite or PostgreSQL).

- :mod:`.schema` the tables, :mod:`.codec` values <-> columns, :mod:`.predicates` filters -> SQL,
  :mod:`.connection` the batched :class:`~server.store.interface.GraphConnection`,
  :mod:`.engine` URLs, SQLite pragmas and error translation.
- The schema is created and changed only by the Alembic revisions in ``migrations/``;
  :func:`migrate` upgrades a database to the newest one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa

from server.store.interface import GraphStore
from server.store.sql.connection import SqlConnection
from server.store.sql.engine import create_engine, normalise_url

__all__ = ["SqlConnection", "SqlStore", "alembic_config", "migrate"]

logger = logging.getLogger(__name__)


def alembic_config(url: str):  # noqa: ANN201 - alembic.config.Config, imported lazily
    """An Alembic configuration for ``url`` using the packaged ``migrations/``."""
    from alembic.config import Config

    import migrations

    folder = Path(migrations.__file__).resolve().parent
    config = Config(str(folder / "alembic.ini"))
    config.set_main_option("script_location", str(folder))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision`` (creating the SQLite file if needed)."""
    from alembic import command

    _ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    """Downgrade the database at ``url`` to ``revision`` (``base``: drop everything)."""
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def _ensure_sqlite_dir(url: str) -> None:
    parsed = sa.engine.make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


class SqlStore(GraphStore):
    """A graph in a SQL database; connections come from SQLAlchemy's pool."""

    def __init__(self, url: str, *, migrate_on_open: bool = False) -> None:
        url = normalise_url(url)
        if migrate_on_open:
            migrate(url)
        self._engine = create_engine(url)
        self._dialect = self._engine.dialect.name
        self._background: list[threading.Thread] = []
        self._lock = threading.Lock()

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._dialect

    @property
    def url(self) -> str:
        return self._engine.url.render_as_string(hide_password=True)

    def connect(self) -> SqlConnection:
        return SqlConnection(self._engine.connect(), self._dialect)

    def checkpoint_in_background(self) -> None:
        """SQLite: copy the write-ahead log into the database file on a thread of its own (a
        PASSIVE checkpoint: readers and writers go on meanwhile), as SQLite advises for writers
        that turned the automatic checkpoint off (see ``sqlite_checkpoint_in_background`` in
        :mod:`server.store.loaders.sinks`). A no-op on PostgreSQL, whose checkpointer does this."""
        if self._dialect == "sqlite":
            self._in_background("seer-sqlite-checkpoint", ["PRAGMA wal_checkpoint(PASSIVE)"])

    def analyze_in_background(self, tables: Sequence[str]) -> None:
        """PostgreSQL: refresh the planner's statistics of ``tables`` on a thread of its own,
        after a bulk load committed (what autovacuum would do within a minute or so, sooner).
        ANALYZE takes a lock that readers and writers do not wait for. A no-op on SQLite, whose
        loads sample their statistics inside the load (cheaply: ``analysis_limit``)."""
        if self._dialect == "postgresql":
            self._in_background("seer-analyze", [f"ANALYZE {table}" for table in tables])

    def wait_for_background(self) -> None:
        """Return once the background work started so far (checkpoints, ANALYZE) is done."""
        with self._lock:
            running = list(self._background)
        for thread in running:
            thread.join()

    def _in_background(self, name: str, statements: Sequence[str]) -> None:
        thread = threading.Thread(target=self._run_quietly, args=(statements,), name=name, daemon=True)
        with self._lock:
            self._background = [t for t in self._background if t.is_alive()] + [thread]
        thread.start()

    def _run_quietly(self, statements: Sequence[str]) -> None:
        """Run maintenance ``statements`` on a connection of their own and commit; a failure is
        logged, not raised: the database does the same work later by itself."""
        try:
            raw = self._engine.raw_connection()
            try:
                for statement in statements:
                    raw.driver_connection.execute(statement)
                raw.commit()
            finally:
                raw.close()
        except Exception:  # noqa: BLE001 - harmless: an automatic checkpoint / autovacuum does it
            logger.warning("background %s failed", "; ".join(statements), exc_info=True)

    def dispose(self) -> None:
        self.wait_for_background()
        self._engine.dispose()
