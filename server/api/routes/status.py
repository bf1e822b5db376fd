"""``/status`` (Neptune-shaped health) and ``/metrics`` (Prometheus text format)."""

from __future__ import annotations

import datetime as dt
import time

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

router = APIRouter(tags=["status"])


@router.get("/status", summary="Server health, in the shape of Neptune's status endpoint")
async def status(request: Request) -> dict[str, object]:
    state = request.app.state
    started = dt.datetime.fromtimestamp(state.started_at, dt.UTC)
    return {
        "status": "healthy",
        "startTime": started.strftime("%a %b %d %H:%M:%S UTC %Y"),
        "uptimeSeconds": round(time.time() - state.started_at, 3),
        "dbEngineVersion": "seer-0.1.0",
        "role": "writer",
        "store": state.store.url,
        "gremlin": {"version": "tinkerpop-3.8.2"},
        "auth": "on" if state.settings.users else "off",
    }


@router.get("/metrics", summary="Prometheus metrics")
async def metrics(request: Request) -> Response:
    return Response(request.app.state.gremlin.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
