"""Neptune-shaped HTTP errors for the REST resources that mirror Neptune's APIs (``/ml``, ``/loader``).

Neptune answers ``{"code": "BadRequestException", "requestId": ..., "detailedMessage": ...}``;
the AWS SDK reads ``code`` and ``message``, so both ``message`` and ``detailedMessage`` are sent.
:class:`NeptuneRoute` is the ``route_class`` of those routers: it turns request-validation errors
(unknown, missing or mistyped fields) and :class:`NeptuneError` into such bodies, naming the
field, without touching the rest of the application.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute


class NeptuneError(Exception):
    """An error answered with Neptune's error body and ``status_code``."""

    def __init__(self, status_code: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status_code, self.code, self.message, self.field = status_code, code, message, field


def bad_request(message: str, field: str | None = None, code: str = "BadRequestException") -> NeptuneError:
    return NeptuneError(400, code, f"{field}: {message}" if field else message, field)


def not_found(message: str, field: str | None = None) -> NeptuneError:
    return NeptuneError(404, "MLResourceNotFoundException", message, field)


def error_response(exc: NeptuneError) -> JSONResponse:
    body: dict[str, Any] = {
        "code": exc.code,
        "requestId": str(uuid.uuid4()),
        "message": exc.message,
        "detailedMessage": exc.message,
    }
    if exc.field:
        body["field"] = exc.field
    return JSONResponse(body, status_code=exc.status_code, headers={"x-amzn-ErrorType": exc.code})


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def validation_error(exc: RequestValidationError) -> NeptuneError:
    """The first validation problem, as a 400 naming the field."""
    first = exc.errors()[0]
    field = _field_of(tuple(first.get("loc", ())))
    kind = first.get("type", "")
    if kind == "extra_forbidden":
        return bad_request(
            "unknown field (check its spelling against Neptune's API)", field, "InvalidParameterException"
        )
    if kind == "missing":
        return bad_request("this field is required", field, "MissingParameterException")
    if kind == "json_invalid":
        return bad_request(f"the request body is not valid JSON ({first.get('msg')})", "body")
    return bad_request(first.get("msg", "invalid value"), field, "InvalidParameterException")


class NeptuneRoute(APIRoute):
    """Routes whose errors use Neptune's body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return error_response(validation_error(exc))
            except NeptuneError as exc:
                return error_response(exc)

        return route
