"""Fixtures: a real server (uvicorn, loopback) over the memory store with the mini engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from server.api.app import create_app
from server.config import Settings
from server.store.memory import MemoryStore
from tests.server.protocol.miniengine import MiniEngine
from tests.server.protocol.serving import serve


def mini_app(settings: Settings | None = None, store=None):  # noqa: ANN001, ANN201
    settings = settings or Settings(data_dir="/nonexistent")
    app = create_app(settings, store=store or MemoryStore())
    engine = MiniEngine(app.state.store)
    app.state.engine = engine
    app.state.gremlin.engine = engine
    return app


@pytest.fixture(scope="module")
def mini_server() -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a server with default settings."""
    with serve(mini_app()) as url:
        yield url
