"""One module per REST resource. Each listed module defines ``router: APIRouter`` and may define
``async def startup(app)`` / ``async def shutdown(app)``; :func:`server.api.app.create_app`
includes them in this order."""

ROUTER_MODULES: list[str] = [
    "server.api.routes.ml",
    "server.api.routes.loader",
]
