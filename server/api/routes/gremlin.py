"""The Gremlin doors: ``ws://HOST:PORT/gremlin`` and ``POST /gremlin``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request, WebSocket
from fastapi.responses import Response

from server.protocol.http import handle_http
from server.protocol.websocket import WebSocketConnection

router = APIRouter(tags=["gremlin"])


@router.websocket("/gremlin")
async def gremlin_websocket(ws: WebSocket) -> None:
    """Gremlin Server WebSocket protocol (GraphBinary v1 and GraphSON v3, per request)."""
    await WebSocketConnection(ws, ws.app.state.gremlin).run()


@router.post(
    "/gremlin",
    summary="Run a Gremlin query over HTTP",
    description=(
        'Body `{"gremlin": "g.V().limit(1)", "bindings": {...}}` (Gremlin Server and Neptune shape), '
        "answered with one GraphSON 3 ResponseMessage; or a serialized RequestMessage as gremlinpython "
        "sends it to an http:// URL."
    ),
)
async def gremlin_http(request: Request) -> Response:
    return await handle_http(request.app.state.gremlin, request)


async def shutdown(app: FastAPI) -> None:
    app.state.gremlin.sessions.close_all()
