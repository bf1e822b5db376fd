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
        self._checkpoints: list[threading.Thread] = []
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
        if self._dialect != "sqlite":
            return
        thread = threading.Thread(target=self._checkpoint, name="seer-sqlite-checkpoint", daemon=True)
        with self._lock:
            self._checkpoints = [t for t in self._checkpoints if t.is_alive()] + [thread]
        thread.start()

    def wait_for_checkpoints(self) -> None:
        """Return once the background checkpoints started so far are done."""
        with self._lock:
            running = list(self._checkpoints)
        for thread in running:
            thread.join()

    def _checkpoint(self) -> None:
        try:
            raw = self._engine.raw_connection()
            try:
                raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                raw.close()
        except Exception:  # noqa: BLE001 - harmless: the next automatic checkpoint does the work
            logger.warning("background WAL checkpoint failed", exc_info=True)

    def dispose(self) -> None:
        self.wait_for_checkpoints()
        self._engine.dispose()
