"""Request and response messages of the Gremlin Server protocol, independent of the wire format."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from server.protocol.errors import Status


@dataclasses.dataclass
class RequestMessage:
    """``{requestId, op, processor, args}`` as a client sent it (values already decoded)."""

    request_id: uuid.UUID | None
    op: str
    processor: str = ""
    args: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class ResponseMessage:
    """``{requestId, status: {code, message, attributes}, result: {data, meta}}``.

    ``data`` is a list for 200/206 and ``None`` for 204, 407 and errors.
    """

    request_id: uuid.UUID | None
    code: Status
    message: str = ""
    attributes: dict[str, Any] = dataclasses.field(default_factory=dict)
    data: Any = None
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)
