"""Protocol-level errors and the Gremlin Server status codes.

Core errors (:mod:`server.gremlin.errors`, :mod:`server.store.errors`) are translated into a
status code and message in :mod:`server.protocol.status`; errors found while reading a request
are :class:`ProtocolError` carrying the code Gremlin Server would send.
"""

from __future__ import annotations

import enum


class Status(enum.IntEnum):
    """``ResponseStatusCode`` of Gremlin Server 3.x."""

    SUCCESS = 200
    NO_CONTENT = 204
    PARTIAL_CONTENT = 206
    UNAUTHORIZED = 401
    FORBIDDEN = 403
    AUTHENTICATE = 407
    TOO_MANY_REQUESTS = 429
    REQUEST_ERROR_SERIALIZATION = 497
    REQUEST_ERROR_MALFORMED_REQUEST = 498
    REQUEST_ERROR_INVALID_REQUEST_ARGUMENTS = 499
    SERVER_ERROR = 500
    SERVER_ERROR_FAIL_STEP = 595
    SERVER_ERROR_TEMPORARY = 596
    SERVER_ERROR_EVALUATION = 597
    SERVER_ERROR_TIMEOUT = 598
    SERVER_ERROR_SERIALIZATION = 599


class ProtocolError(Exception):
    """A request (or a result) that cannot be handled, with the status code to answer.

    ``position`` is the byte offset (GraphBinary) or JSON path (GraphSON) where reading failed.
    """

    def __init__(self, status: Status, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class SerializationError(ProtocolError):
    """A request value that cannot be deserialized [497]."""

    def __init__(self, message: str) -> None:
        super().__init__(Status.REQUEST_ERROR_SERIALIZATION, message)


class MalformedRequest(ProtocolError):
    """An unreadable envelope, a bad mime prefix or an unknown op [498]."""

    def __init__(self, message: str) -> None:
        super().__init__(Status.REQUEST_ERROR_MALFORMED_REQUEST, message)


class InvalidArguments(ProtocolError):
    """Missing or conflicting request arguments (gremlin, aliases, session, ...) [499]."""

    def __init__(self, message: str) -> None:
        super().__init__(Status.REQUEST_ERROR_INVALID_REQUEST_ARGUMENTS, message)


class ResultSerializationError(ProtocolError):
    """A result value that this serializer cannot write [599]."""

    def __init__(self, message: str) -> None:
        super().__init__(Status.SERVER_ERROR_SERIALIZATION, message)
