"""Fixtures: a real server (uvicorn, loopback) running the real Gremlin engine over the SQL store
on a temporary SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from server.api.app import create_app
from server.config import Settings
from tests.server.protocol.serving import serve


def sqlite_app(data_dir: Path, **settings: Any) -> FastAPI:
    """The app as ``seer serve`` builds it: SQLite file under ``data_dir``, the real engine."""
    return create_app(Settings(data_dir=data_dir, **settings))


@pytest.fixture(scope="module")
def sqlite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a server with default settings."""
    with serve(sqlite_app(tmp_path_factory.mktemp("protocol"))) as url:
        yield url
