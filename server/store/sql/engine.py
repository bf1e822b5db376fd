"""Engines for the SQL store: URL handling, SQLite pragmas and transaction control, and the
translation of driver errors into the store's named exceptions."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from server.store.errors import ConflictError, DuplicateId, ElementNotFound, InvalidValue, StoreError

SQLITE_BUSY_TIMEOUT_MS = 5000
_PG_CONFLICT_STATES = {"40001", "40P01", "55P03"}  # serialization failure, deadlock, lock not available


def normalise_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` mean psycopg 3; everything else is kept."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_engine(url: str) -> sa.Engine:
    """An engine for ``sqlite:///path`` or ``postgresql+psycopg://...``.

    SQLite: WAL journal, foreign keys on, a busy timeout, and BEGIN/SAVEPOINT issued by
    SQLAlchemy rather than by the sqlite3 module (whose implicit transactions break savepoints).
    """
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, connect_args={"check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        # REPEATABLE READ: two transactions that read and then update the same rows cannot both
        # commit (the second gets a serialization failure, which becomes ConflictError), so a
        # read-modify-write traversal never silently loses an update as READ COMMITTED would.
        return sa.create_engine(url, pool_pre_ping=True, isolation_level="REPEATABLE READ")
    raise StoreError(f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}")


def _configure_sqlite(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # noqa: ANN001 - DBAPI types
        dbapi_connection.isolation_level = None  # autocommit at the driver; we send BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # on the DBAPI connection: exec_driver_sql costs a full SQLAlchemy execution per request
        conn.connection.driver_connection.execute("BEGIN")


def is_conflict(exc: sa.exc.DBAPIError) -> bool:
    """True when the error means "another writer got there first; retry"."""
    state = getattr(exc.orig, "sqlstate", None)
    if state in _PG_CONFLICT_STATES:
        return True
    text = str(exc.orig).lower()
    return "database is locked" in text or "database is busy" in text or "database table is locked" in text


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """Turn driver errors into ConflictError / DuplicateId / ElementNotFound / InvalidValue
    (e.g. a NUL character in a PostgreSQL text value)."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        if is_conflict(exc):
            raise ConflictError(
                f"a concurrent transaction changed the same data ({exc.orig}); retry the request"
            ) from exc
        if isinstance(exc, sa.exc.DataError):
            raise InvalidValue(f"the database cannot hold that value ({exc.orig})") from exc
        if isinstance(exc, sa.exc.IntegrityError):
            text = str(exc.orig).lower()
            if "foreign key" in text:
                raise ElementNotFound(f"a referenced element does not exist ({exc.orig})") from exc
            if "unique" in text or "duplicate" in text:
                raise DuplicateId(f"an element with that id already exists ({exc.orig})") from exc
        raise
