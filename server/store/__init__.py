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


def open_store(url: str) -> GraphStore:
    """Open the store at ``url``: ``memory://``, ``sqlite:///path``, ``postgresql://...``."""
    if url.startswith("memory:"):
        from server.store.memory import MemoryStore

        return MemoryStore()
    raise NotImplementedError("the SQL store is being built (issue 2)")
