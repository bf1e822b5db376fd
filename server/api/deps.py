"""FastAPI dependencies shared by the REST routers (``/ml``, ``/loader``, ...).

``require_user(write=True)`` authenticates the caller with HTTP Basic (when users are
configured) and refuses read-only users on routes that change data::

    @router.post("/loader")
    def start_load(user: User = Depends(require_user(write=True))): ...
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException, Request

from server.protocol.auth import ANONYMOUS, AuthenticationFailed, User
from server.protocol.service import GremlinService


def require_user(write: bool = False) -> Callable[[Request], User]:
    """A dependency returning the caller; 401 without valid credentials, 403 for a read-only
    user on a ``write`` route."""

    def dependency(request: Request) -> User:
        service: GremlinService = request.app.state.gremlin
        if not service.authenticator.enabled:
            return ANONYMOUS
        try:
            user = service.authenticator.basic(request.headers.get("authorization"))
        except AuthenticationFailed as exc:
            raise HTTPException(401, str(exc), headers={"WWW-Authenticate": 'Basic realm="seer"'}) from None
        if write and user.read_only:
            raise HTTPException(403, f"User {user.name} is read-only and cannot change data")
        return user

    return dependency
