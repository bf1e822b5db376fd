"""A raw WebSocket client for protocol-level assertions (status codes, batches, bad frames)."""

from __future__ import annotations

import uuid
from typing import Any

from gremlin_python.driver.serializer import GraphBinarySerializersV1, GraphSONSerializersV3d0
from websockets.sync.client import ClientConnection, connect

from tests.server.protocol.gp import GB, GS, frame


class Raw:
    """Send frames, read decoded responses (``{"requestId", "status", "result"}`` dicts)."""

    def __init__(self, base_url: str, serializer: Any = GB) -> None:
        self._cm = connect(base_url.replace("http", "ws") + "/gremlin", max_size=None)
        self.ws: ClientConnection = self._cm.__enter__()
        self.serializer = serializer

    def close(self) -> None:
        self._cm.__exit__(None, None, None)

    def __enter__(self) -> Raw:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, data: bytes | str) -> None:
        self.ws.send(data)

    def request(self, op: str, args: dict[str, Any], processor: str = "traversal", rid: str = "") -> str:
        rid = rid or str(uuid.uuid4())
        self.send(frame(self.serializer, op, args, processor, rid))
        return rid

    def receive(self, serializer: Any = None) -> dict[str, Any]:
        data = self.ws.recv(timeout=30)
        ser = serializer or self.serializer
        return ser.deserialize_message(data if isinstance(data, bytes) else data.encode())

    def until_final(self, serializer: Any = None) -> list[dict[str, Any]]:
        """Every message of one response stream, up to the first non-206."""
        out = [self.receive(serializer)]
        while out[-1]["status"]["code"] == 206:
            out.append(self.receive(serializer))
        return out


__all__ = ["GS", "GraphBinarySerializersV1", "GraphSONSerializersV3d0", "Raw"]
