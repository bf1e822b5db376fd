"""A real uvicorn server on a loopback port, in a thread, for REST tests (boto3, httpx)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import uvicorn
from botocore.config import Config
from fastapi import FastAPI


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_app(settings: Any, store: Any) -> FastAPI:
    """The application as ``seer serve`` builds it."""
    from server.api.app import create_app

    return create_app(settings, store=store)


@contextlib.contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run ``app`` on a free loopback port; yields its base URL; stops it on exit."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


def neptunedata(base_url: str):
    """The AWS SDK's client pointed at a Seer server, as a Neptune user would build it."""
    return boto3.client(
        "neptunedata",
        endpoint_url=base_url,
        region_name="us-east-1",
        aws_access_key_id="seer",
        aws_secret_access_key="seer",
        config=Config(retries={"max_attempts": 1}),
    )


def wait_for(fetch, done, timeout_s: float = 60.0, interval_s: float = 0.2):
    """Poll ``fetch()`` until ``done(result)``; returns the last result."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = fetch()
        if done(result) or time.monotonic() > deadline:
            return result
        time.sleep(interval_s)
