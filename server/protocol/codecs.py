"""The serializers a request may name, chosen per request by its mime prefix.

A WebSocket (or HTTP) request body is ``[1 byte: mime length][mime][payload]``. Responses carry
no prefix and use the request's serializer. A text frame, or a body that starts with ``{``, is
GraphSON 3 JSON (Gremlin Server reads text frames as JSON too).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

from server.protocol import graphbinary, graphson
from server.protocol.errors import MalformedRequest
from server.protocol.messages import RequestMessage, ResponseMessage


@dataclasses.dataclass(frozen=True)
class Codec:
    """One wire format: how to read a request and write a response."""

    mime: str
    binary: bool
    read_request: Callable[[bytes], RequestMessage]
    write_response: Callable[..., bytes]
    peek_request_id: Callable[[bytes], uuid.UUID | None]


GRAPHBINARY = Codec(
    graphbinary.MIME, True, graphbinary.read_request, graphbinary.write_response, graphbinary.peek_request_id
)
GRAPHSON3 = Codec(
    graphson.MIME, False, graphson.read_request, graphson.write_response, graphson.peek_request_id
)

CODECS: dict[str, Codec] = {
    graphbinary.MIME: GRAPHBINARY,
    graphson.MIME: GRAPHSON3,
    # The untyped / "application/json" and GraphSON 2 forms are answered in GraphSON 3.
    "application/vnd.gremlin-v3.0+json;types=true": GRAPHSON3,
    "application/json": GRAPHSON3,
}


def codec_for_accept(accept: str | None, default: Codec = GRAPHSON3) -> Codec:
    """The codec for an HTTP ``Accept`` header (first known mime wins)."""
    for part in (accept or "").split(","):
        mime = part.split(";")[0].strip()
        if mime in CODECS:
            return CODECS[mime]
    return default


def split_frame(frame: bytes) -> tuple[Codec, bytes]:
    """``(codec, payload)`` for a binary frame or HTTP body.

    Raises:
        MalformedRequest: the prefix is missing, truncated or names no known serializer.
    """
    if not frame:
        raise MalformedRequest("empty request frame")
    if frame[:1] == b"{":
        return GRAPHSON3, frame
    size = frame[0]
    if size == 0 or size > 0x7F or len(frame) < 1 + size:
        raise MalformedRequest(
            f"request frame must start with the length of its mime type (1 byte) and the mime type; "
            f"got first byte 0x{size:02x}"
        )
    try:
        mime = frame[1 : 1 + size].decode("ascii")
    except UnicodeDecodeError:
        raise MalformedRequest("the mime type of the request frame is not ASCII") from None
    codec = CODECS.get(mime)
    if codec is None:
        known = ", ".join(sorted(CODECS))
        raise MalformedRequest(f"unknown serializer mime type {mime!r}; this server speaks {known}")
    return codec, frame[1 + size :]


def error_bytes(codec: Codec, request_id: uuid.UUID | None, code: Any, message: str) -> bytes:
    """A complete error response in ``codec``."""
    return codec.write_response(ResponseMessage(request_id, code, message))
