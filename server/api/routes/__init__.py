"""One router module per resource. Each module exposes ``router: APIRouter`` and may define
``async def startup(app)`` / ``async def shutdown(app)``, called from the app's lifespan in this
order (shutdown in reverse). Append new modules to ``ROUTER_MODULES``."""

ROUTER_MODULES: list[str] = [
    "server.api.routes.gremlin",
    "server.api.routes.status",
    "server.api.routes.ml",
    "server.api.routes.loader",
]
