"""The FastAPI application factory: one app per process, one router per resource.

``create_app(settings, store=...)`` wires the shared objects into ``app.state``:
``settings`` (:class:`~server.config.Settings`), ``store`` (the graph store; opened from
``settings.database_url`` and migrated when not given), ``engine`` (the Gremlin engine) and
``gremlin`` (the protocol service behind ``/gremlin``). Routers come from
:data:`server.api.routes.ROUTER_MODULES`.
"""

from __future__ import annotations

import contextlib
import importlib
import time
from collections.abc import AsyncIterator
from types import ModuleType

from fastapi import FastAPI

from server.api.ml_predictors import ml_extensions
from server.api.routes import ROUTER_MODULES
from server.config import Settings, get_settings
from server.gremlin.engine import GremlinEngine
from server.protocol.service import GremlinService
from server.store.interface import GraphStore


def open_configured_store(settings: Settings) -> GraphStore:
    """Open the store the settings name, its schema migrated to the newest revision (the server
    migrates on start, SQLite and PostgreSQL alike; ``seer migrate`` does it without serving)."""
    from server.store import open_store

    url = settings.database_url
    if url.startswith("sqlite:"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return open_store(url, migrate=not url.startswith("memory:"))


def create_app(settings: Settings | None = None, *, store: GraphStore | None = None) -> FastAPI:
    """Build the app; ``store`` overrides the one the settings name (tests pass their own)."""
    settings = settings or get_settings()
    owns_store = store is None
    store = store if store is not None else open_configured_store(settings)
    extensions, ml_predictors = ml_extensions(settings)
    engine = GremlinEngine(store, extensions=extensions)
    modules: list[ModuleType] = [importlib.import_module(name) for name in ROUTER_MODULES]

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        started: list[ModuleType] = []
        try:
            for module in modules:
                startup = getattr(module, "startup", None)
                if startup is not None:
                    await startup(app)
                started.append(module)
            yield
        finally:
            for module in reversed(started):
                shutdown = getattr(module, "shutdown", None)
                if shutdown is not None:
                    await shutdown(app)
            app.state.gremlin.close()
            if owns_store:
                store.dispose()

    app = FastAPI(
        title="Seer",
        summary="A graph database that answers Gremlin and predicts the links it does not have yet.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.engine = engine
    ml_predictors.state = app.state
    app.state.gremlin = GremlinService(settings, store, engine)
    app.state.started_at = time.time()
    for module in modules:
        app.include_router(module.router)
    return app
