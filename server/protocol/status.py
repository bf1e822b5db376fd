"""Translate core exceptions into Gremlin Server status codes and messages (the only place that
does; the engine and the store raise named exceptions and know nothing about the wire)."""

from __future__ import annotations

import logging

from server.gremlin import errors as gremlin_errors
from server.protocol.errors import ProtocolError, Status
from server.store import errors as store_errors

log = logging.getLogger(__name__)

_STORE_CODES: dict[type[Exception], Status] = {
    store_errors.ConflictError: Status.SERVER_ERROR_TEMPORARY,
    store_errors.ElementNotFound: Status.SERVER_ERROR,
    store_errors.DuplicateId: Status.SERVER_ERROR,
    store_errors.InvalidValue: Status.SERVER_ERROR,
    store_errors.TransactionError: Status.SERVER_ERROR,
}


def status_for(exc: BaseException) -> tuple[Status, str, dict[str, object]]:
    """``(code, message, status attributes)`` for an exception raised while serving a request.

    Messages are shown to users as they are, so they come from the exception; unexpected
    exceptions are logged with their stack and answered 500 naming the exception type.
    """
    attributes: dict[str, object] = {"exceptions": [type(exc).__name__]}
    if isinstance(exc, ProtocolError):
        return exc.status, exc.message, attributes
    if isinstance(exc, gremlin_errors.FailStepError):
        attributes["failStepMessage"] = str(exc)
        return Status.SERVER_ERROR_FAIL_STEP, str(exc), attributes
    if isinstance(exc, gremlin_errors.GremlinError):
        return Status(exc.status_code), str(exc), attributes
    if isinstance(exc, store_errors.StoreError):
        code = next((c for t, c in _STORE_CODES.items() if isinstance(exc, t)), Status.SERVER_ERROR)
        return code, str(exc), attributes  # a ConflictError's message already says to retry
    if isinstance(exc, NotImplementedError):
        return Status.SERVER_ERROR_EVALUATION, f"Not implemented: {exc}", attributes
    log.exception("unexpected error while serving a Gremlin request", exc_info=exc)
    return Status.SERVER_ERROR, f"{type(exc).__name__}: {exc}", attributes
