"""Errors of Neptune ML queries, named after the exceptions Neptune raises for the same misuse
(reference: neptune-ml.md §2.4). Each is a :class:`~server.gremlin.errors.GremlinError`, so the
protocol layer turns it into a Gremlin status code with the message as it is."""

from __future__ import annotations

from server.gremlin.errors import GremlinError


class NeptuneMLError(GremlinError):
    """Base class; the message starts with Neptune's exception name."""

    status_code = 597
    neptune_name = "NeptuneMLException"

    def __init__(self, message: str) -> None:
        super().__init__(f"{self.neptune_name}: {message}")
        self.detail = message


class InvalidParameterException(NeptuneMLError):
    """A Neptune#ml option or step argument is malformed or doubled (two property keys, two edge
    labels, classification and regression on one step, limit outside 1..100, ...)."""

    neptune_name = "InvalidParameterException"


class MissingParameterException(NeptuneMLError):
    """Something a Neptune ML step needs is absent: endpoint, property key, edge label."""

    neptune_name = "MissingParameterException"


class UnsupportedOperationException(NeptuneMLError):
    """A query shape Neptune ML does not support (``both()`` link prediction, no target label)."""

    neptune_name = "UnsupportedOperationException"


class BadRequestException(NeptuneMLError):
    """The named endpoint does not exist or is not ready to answer."""

    neptune_name = "BadRequestException"


class InferenceFailure(NeptuneMLError):
    """The inference service failed (HTTP error, unreadable artifacts). [500]"""

    status_code = 500
    neptune_name = "InternalFailureException"
