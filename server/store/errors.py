"""Named exceptions of the store. The Gremlin protocol and the REST API translate these into
Gremlin status codes and HTTP errors; nothing below the edges raises HTTP or Gremlin errors."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every store error."""


class ElementNotFound(StoreError):
    """An element named by id does not exist (e.g. an edge endpoint, a vertex to drop)."""


class DuplicateId(StoreError):
    """A user-supplied id is already taken by another element of the same kind."""


class InvalidValue(StoreError):
    """A property value, key or label the store cannot hold (e.g. a vertex as a property value)."""


class TransactionError(StoreError):
    """Misuse of transactions: commit with none open, work on a closed connection, ..."""


class ConflictError(StoreError):
    """A concurrent writer changed the same data; the caller should retry the whole request."""


class LoadError(StoreError):
    """A bulk load failed. ``errors`` lists each problem as ``file:line:column: message``."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []
