"""The Gremlin Server WebSocket protocol on one connection (``ws://HOST:PORT/gremlin``).

Each frame is one request; its mime prefix picks the serializer, and every response to it uses
that serializer (binary frames answer binary requests, text frames answer text ones). Requests
run concurrently, up to ``max_in_flight_per_connection``. Bad frames get an error response and
the connection stays open. With users configured, the first request is held and answered 407;
the client's SASL PLAIN ``authentication`` request then releases it (or gets 401). An upgrade
request signed with AWS SigV4 (Neptune's IAM clients) authenticates the connection instead: no
407 follows, and a bad signature is refused with HTTP 401 before the upgrade.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import uuid
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from server.protocol.auth import ANONYMOUS, AuthenticationFailed, User
from server.protocol.codecs import GRAPHBINARY, GRAPHSON3, Codec, split_frame
from server.protocol.errors import MalformedRequest, ProtocolError, Status
from server.protocol.http import error_response
from server.protocol.messages import RequestMessage, ResponseMessage
from server.protocol.service import GremlinService
from server.protocol.sigv4 import ReceivedRequest, is_sigv4
from server.protocol.status import status_for

log = logging.getLogger(__name__)


SEND_WINDOW = 8
"""206 frames of one request that may wait to be written while the worker produces the next
batch; a worker that gets this far ahead of the socket (a slow reader) waits for it."""


class _Emitter:
    """Writes one request's responses to the socket with that request's serializer.

    A 206 batch is encoded on the worker thread and queued (``call_soon_threadsafe``) for a
    writer task on the event loop, so the worker goes on producing the next batch instead of
    waiting for each write; at most :data:`SEND_WINDOW` frames wait at a time. The final message
    (``flush``) and the watchdog's 598 (``send``) go out after every queued frame.
    """

    def __init__(self, conn: WebSocketConnection, codec: Codec, text: bool, materialize: bool) -> None:
        self.conn = conn
        self.codec = codec
        self.text = text
        self.materialize = materialize
        self.loop = asyncio.get_running_loop()
        self.final: bytes | None = None
        self._window: threading.Semaphore | None = None
        """Made by the first 206 (most requests have one frame and never need it)."""
        self._queued: collections.deque[bytes] = collections.deque()
        self._writer: asyncio.Task[None] | None = None
        self._error: BaseException | None = None

    def encode(self, msg: ResponseMessage) -> bytes:
        return self.codec.write_response(msg, materialize_properties=self.materialize)

    def send_sync(self, msg: ResponseMessage) -> None:
        data = self.encode(msg)
        if self._window is None:
            self._window = threading.Semaphore(SEND_WINDOW)
        while not self._window.acquire(timeout=1.0):
            self._raise_if_gone()
        self._raise_if_gone()
        self.loop.call_soon_threadsafe(self._enqueue, data)

    def _raise_if_gone(self) -> None:
        """ConnectionError once writing a frame failed or the client went away."""
        if self._error is not None:
            raise ConnectionError("the client disconnected") from self._error
        if not self.conn.open:
            raise ConnectionError("the client disconnected")

    def finish_sync(self, msg: ResponseMessage) -> None:
        self.final = self.encode(msg)

    def _enqueue(self, data: bytes) -> None:
        """On the event loop: queue one frame, starting the writer task if it is not running."""
        self._queued.append(data)
        if self._writer is None:
            self._writer = self.loop.create_task(self._write_queued())

    async def _write_queued(self) -> None:
        try:
            while self._queued:
                data = self._queued.popleft()
                try:
                    if self._error is None:
                        await self.conn.send(data, self.text)
                except Exception as exc:  # noqa: BLE001 - the worker learns it on its next batch
                    self._error = exc
                finally:
                    if self._window is not None:  # always set: made before the first frame
                        self._window.release()
        finally:
            self._writer = None

    async def _drained(self) -> None:
        """Wait until every queued 206 frame is written; raise if writing one failed."""
        while self._writer is not None:
            await asyncio.shield(self._writer)
        if self._error is not None:
            raise ConnectionError("the client disconnected") from self._error

    async def flush(self) -> None:
        if self.final is not None:
            data, self.final = self.final, None
            await self._drained()
            await self.conn.send(data, self.text)

    async def send(self, msg: ResponseMessage) -> None:
        await self._drained()
        await self.conn.send(self.encode(msg), self.text)


class WebSocketConnection:
    """State of one client connection: its user, held requests, running requests, sessions."""

    def __init__(self, ws: WebSocket, service: GremlinService) -> None:
        self.ws = ws
        self.service = service
        self.settings = service.settings
        self.user: User | None = None if service.authenticator.enabled else ANONYMOUS
        self.held: list[tuple[Codec, bool, RequestMessage]] = []
        self.tasks: set[asyncio.Task[Any]] = set()
        self.sessions: set[str] = set()
        self._send_lock = asyncio.Lock()
        self.open = True
        """False once the client is gone: workers stop queueing frames for it."""

    async def send(self, data: bytes, text: bool = False) -> None:
        if not self.open:
            raise ConnectionError("the client disconnected")
        async with self._send_lock:
            if text:
                await self.ws.send_text(data.decode("utf-8"))
            else:
                await self.ws.send_bytes(data)

    async def run(self) -> None:
        if self.user is None and is_sigv4(self.ws.headers.get("authorization")):
            try:
                self.user = self.service.authenticator.sigv4(ReceivedRequest.of(self.ws, "GET", b""))
            except AuthenticationFailed as exc:
                await self._deny(str(exc))
                return
        await self.ws.accept()
        self.service.metrics.connections.inc()
        try:
            while True:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if message.get("bytes") is not None:
                    await self.on_frame(message["bytes"], text=False)
                elif message.get("text") is not None:
                    await self.on_frame(message["text"].encode("utf-8"), text=True)
        except WebSocketDisconnect:
            pass
        finally:
            self.open = False
            self.service.metrics.connections.dec()
            for task in list(self.tasks):
                task.cancel()
            loop = asyncio.get_running_loop()
            for sid in self.sessions:  # uncommitted work of a vanished client is rolled back
                await loop.run_in_executor(None, self.service.sessions.close, sid)

    async def _deny(self, message: str) -> None:
        """Refuse the upgrade: HTTP 401 with the reason where the server can send a response
        (the ASGI ``websocket.http.response`` extension), else a bare close (HTTP 403)."""
        if "websocket.http.response" in self.ws.scope.get("extensions", {}):
            await self.ws.send_denial_response(error_response(401, message, None))
        else:
            await self.ws.close(code=1008, reason=message[:120])

    # -- frames --------------------------------------------------------------------------------

    async def on_frame(self, frame: bytes, *, text: bool) -> None:
        codec: Codec = GRAPHSON3 if text else GRAPHBINARY
        request_id: uuid.UUID | None = None
        try:
            if text:
                payload = frame
            else:
                codec, payload = split_frame(frame)
            request_id = codec.peek_request_id(payload)
            limit = self.settings.max_frame_bytes
            if len(frame) > limit:
                raise MalformedRequest(
                    f"The request frame of {len(frame)} bytes exceeds the limit of {limit} bytes "
                    "(max_frame_bytes, SEER_MAX_FRAME_BYTES)"
                )
            request = codec.read_request(payload)
        except ProtocolError as exc:
            await self._reply(codec, text, request_id, exc.status, exc.message)
            return
        except Exception as exc:  # noqa: BLE001 - garbage must never take the connection down
            code, message, _ = status_for(exc)
            await self._reply(codec, text, request_id, Status.REQUEST_ERROR_MALFORMED_REQUEST, message)
            return
        await self.on_request(codec, text, request)

    async def _reply(
        self, codec: Codec, text: bool, request_id: uuid.UUID | None, code: Status, message: str = ""
    ) -> None:
        try:
            await self.send(codec.write_response(ResponseMessage(request_id, code, message)), text)
        except Exception:  # noqa: BLE001 - the client is gone
            pass

    async def on_request(self, codec: Codec, text: bool, request: RequestMessage) -> None:
        if request.op == "authentication":
            await self.authenticate(codec, text, request)
            return
        if self.user is None:
            if len(self.held) >= self.settings.max_in_flight_per_connection:
                await self._too_many(codec, text, request)
                return
            self.held.append((codec, text, request))
            if len(self.held) == 1:
                await self._reply(codec, text, request.request_id, Status.AUTHENTICATE)
            return
        if request.op == "close":
            await self.close_session(codec, text, request)
            return
        if len(self.tasks) >= self.settings.max_in_flight_per_connection:
            await self._too_many(codec, text, request)
            return
        task = asyncio.create_task(self.serve(codec, text, request, self.user))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _too_many(self, codec: Codec, text: bool, request: RequestMessage) -> None:
        limit = self.settings.max_in_flight_per_connection
        await self._reply(
            codec,
            text,
            request.request_id,
            Status.TOO_MANY_REQUESTS,
            f"Too many requests in flight on this connection: the limit is {limit} "
            "(max_in_flight_per_connection, SEER_MAX_IN_FLIGHT_PER_CONNECTION)",
        )

    async def serve(self, codec: Codec, text: bool, request: RequestMessage, user: User) -> None:
        try:
            plan = self.service.plan(request, user)
        except ProtocolError as exc:
            await self._reply(codec, text, request.request_id, exc.status, exc.message)
            self.service.metrics.observe(request.op, "ws", int(exc.status), 0.0)
            return
        if plan.session is not None:
            self.sessions.add(plan.session.id)
        emitter = _Emitter(self, codec, text, plan.materialize == "all")
        try:
            await self.service.execute(plan, emitter, transport="ws")
        except Exception:  # noqa: BLE001 - logged; the connection lives on
            log.exception("request %s failed outside the engine", request.request_id)

    async def close_session(self, codec: Codec, text: bool, request: RequestMessage) -> None:
        sid = request.args.get("session")
        if sid is None:
            await self._reply(
                codec,
                text,
                request.request_id,
                Status.REQUEST_ERROR_INVALID_REQUEST_ARGUMENTS,
                "A message with [close] op code requires a [session] argument",
            )
            return
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.service.sessions.close, str(sid))
        self.sessions.discard(str(sid))
        await self._reply(codec, text, request.request_id, Status.NO_CONTENT)

    # -- SASL ----------------------------------------------------------------------------------

    async def authenticate(self, codec: Codec, text: bool, request: RequestMessage) -> None:
        sasl = request.args.get("sasl")
        if not self.service.authenticator.enabled or self.user is not None:
            await self._reply(codec, text, request.request_id, Status.NO_CONTENT)
            return
        if sasl is None:
            await self._fail_auth(
                "Failed to authenticate: the [sasl] argument is missing", codec, text, request
            )
            return
        if not isinstance(sasl, str):
            await self._reply(
                codec,
                text,
                request.request_id,
                Status.REQUEST_ERROR_MALFORMED_REQUEST,
                "Incorrect type for : sasl - base64 encoded String is expected",
            )
            return
        loop = asyncio.get_running_loop()
        try:  # scrypt is deliberately slow: keep it off the event loop
            user = await loop.run_in_executor(None, self.service.authenticator.sasl_plain, sasl)
        except AuthenticationFailed as exc:
            await self._fail_auth(str(exc), codec, text, request)
            return
        self.user = user
        held, self.held = self.held, []
        if not held:
            await self._reply(codec, text, request.request_id, Status.NO_CONTENT)
        for h_codec, h_text, h_request in held:
            await self.on_request(h_codec, h_text, h_request)

    async def _fail_auth(self, message: str, codec: Codec, text: bool, request: RequestMessage) -> None:
        """401 for the authentication request and every request held behind it."""
        held, self.held = self.held, []
        if all(req.request_id != request.request_id for _, _, req in held):
            await self._reply(codec, text, request.request_id, Status.UNAUTHORIZED, message)
        for h_codec, h_text, req in held:
            await self._reply(h_codec, h_text, req.request_id, Status.UNAUTHORIZED, message)
