"""The property-graph store: one narrow, batched interface (:mod:`server.store.interface`) and
its backends — SQLAlchemy over SQLite (embedded default) or PostgreSQL, and an in-memory
reference backend used by tests."""

from server.store.errors import (
    ConflictError,
    DuplicateId,
    ElementNotFound,
    InvalidValue,
    LoadError,
    StoreError,
    TransactionError,
)
from server.store.interface import ElementQuery, GraphConnection, GraphStore, PropertyFilter

__all__ = [
    "ConflictError",
    "DuplicateId",
    "ElementNotFound",
    "ElementQuery",
    "GraphConnection",
    "GraphStore",
    "InvalidValue",
    "LoadError",
    "PropertyFilter",
    "StoreError",
    "TransactionError",
    "open_store",
]


def open_store(url: str, *, migrate: bool | None = None) -> GraphStore:
    """Open the store at ``url``: ``memory://``, ``sqlite:///path``, ``postgresql[+psycopg]://...``.

    ``migrate``: upgrade the schema to the newest revision first. Default: yes for SQLite (the
    embedded database migrates itself on start), no for PostgreSQL (run ``seer migrate``).
    """
    if url.startswith("memory:"):
        from server.store.memory import MemoryStore

        return MemoryStore()
    from server.store.sql import SqlStore

    if migrate is None:
        migrate = url.startswith("sqlite")
    return SqlStore(url, migrate_on_open=migrate)
