"""FastAPI dependencies shared by the REST routers (``/ml``, ``/loader``, ...).

``require_user(write=True)`` authenticates the caller with HTTP Basic or an AWS SigV4 signature
(when users are configured) and refuses read-only users on routes that change data::

    @router.post("/loader")
    def start_load(user: User = Depends(require_user(write=True))): ...
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from server.protocol.auth import ANONYMOUS, AuthenticationFailed, User
from server.protocol.service import GremlinService
from server.protocol.sigv4 import ReceivedRequest, is_sigv4


def require_user(write: bool = False) -> Callable[[Request], Awaitable[User]]:
    """A dependency returning the caller; 401 without valid credentials, 403 for a read-only
    user on a ``write`` route."""

    async def dependency(request: Request) -> User:
        service: GremlinService = request.app.state.gremlin
        if not service.authenticator.enabled:
            return ANONYMOUS
        # A signature covers the body; Basic does not, so only a signed request's body is read here
        # (Starlette caches it for the route).
        body = await request.body() if is_sigv4(request.headers.get("authorization")) else b""
        received = ReceivedRequest.of(request, request.method, body)
        try:  # scrypt is deliberately slow: keep it off the event loop
            user = await run_in_threadpool(service.authenticator.http, received)
        except AuthenticationFailed as exc:
            raise HTTPException(401, str(exc), headers={"WWW-Authenticate": 'Basic realm="seer"'}) from None
        if write and user.read_only:
            raise HTTPException(403, f"User {user.name} is read-only and cannot change data")
        return user

    return dependency


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_read_user = require_user(write=False)
_write_user = require_user(write=True)


async def authorize_by_method(request: Request) -> User:
    """Router-wide dependency: reads (GET/HEAD/OPTIONS) need any user, everything else a user
    who may write. ``APIRouter(dependencies=[Depends(authorize_by_method)])``."""
    return await (_read_user if request.method in _SAFE_METHODS else _write_user)(request)
