"""``POST /gremlin`` over HTTP, in the two shapes clients send.

- **Script form** (curl, Neptune's HTTP API, boto3 ``neptunedata.execute_gremlin_query``): a JSON
  body ``{"gremlin": "...", "bindings": {...}, "language": ..., "aliases": ..., "requestId": ...}``.
  Answered with one GraphSON 3 ResponseMessage (``Accept`` may ask for GraphBinary instead).
- **Serialized form** (gremlinpython with an ``http://`` URL): the body is exactly a WebSocket
  frame, mime prefix included; the answer is one ResponseMessage in that serializer, all results
  in one 200 (no 206 parts).

Errors are HTTP 4xx/5xx with a JSON body that gremlinpython (``message``, ``requestId``) and the
AWS SDK (``code``, ``message``) both read; the Gremlin status code rides along in ``status``.
Credentials, when users are configured, are HTTP Basic or an AWS SigV4 signature (what the AWS
SDK sends; the signature covers the body as received).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.protocol import graphson
from server.protocol.auth import ANONYMOUS, AuthenticationFailed, User
from server.protocol.codecs import Codec, codec_for_accept, split_frame
from server.protocol.errors import InvalidArguments, MalformedRequest, ProtocolError, Status
from server.protocol.messages import RequestMessage, ResponseMessage
from server.protocol.service import GremlinService
from server.protocol.sigv4 import ReceivedRequest

# Gremlin status -> (HTTP status, Neptune-style error code)
_HTTP_ERRORS: dict[int, tuple[int, str]] = {
    401: (401, "AccessDeniedException"),
    403: (403, "AccessDeniedException"),
    413: (413, "BadRequestException"),
    429: (429, "TooManyRequestsException"),
    497: (400, "BadRequestException"),
    498: (400, "BadRequestException"),
    499: (400, "BadRequestException"),
    595: (500, "FailStepException"),
    596: (500, "ConcurrentModificationException"),
    597: (400, "MalformedQueryException"),
    598: (500, "TimeLimitExceededException"),
    599: (500, "InternalFailureException"),
}


class _Collector:
    """The HTTP emitter: keeps the one final message."""

    def __init__(self) -> None:
        self.message: ResponseMessage | None = None

    def send_sync(self, msg: ResponseMessage) -> None:
        self.message = msg

    def finish_sync(self, msg: ResponseMessage) -> None:
        self.message = msg

    async def flush(self) -> None:
        pass

    async def send(self, msg: ResponseMessage) -> None:
        self.message = msg


def error_response(
    code: int, message: str, request_id: uuid.UUID | str | None, *, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The JSON error body both gremlinpython and the AWS SDK read."""
    http_status, neptune_code = _HTTP_ERRORS.get(code, (500, "InternalFailureException"))
    body = {
        "requestId": str(request_id) if request_id is not None else str(uuid.uuid4()),
        "code": neptune_code,
        "message": message,
        "detailedMessage": message,
        "status": {"code": code, "message": message},
    }
    return JSONResponse(body, status_code=http_status, headers=headers)


def _script_request(body: bytes) -> RequestMessage:
    """The JSON script form as a RequestMessage (op eval unless it says otherwise)."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedRequest(f"body is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise MalformedRequest('body must be a JSON object such as {"gremlin": "g.V().count()"}')
    if "args" in doc and "op" in doc:  # a full GraphSON RequestMessage
        return graphson.read_request(body)
    gremlin = doc.get("gremlin")
    if not isinstance(gremlin, str):
        raise InvalidArguments('body needs a "gremlin" string, e.g. {"gremlin": "g.V().count()"}')
    rid = doc.get("requestId")
    try:
        request_id = uuid.UUID(str(rid)) if rid else uuid.uuid4()
    except ValueError:
        raise InvalidArguments(f"requestId {rid!r} is not a UUID") from None
    args: dict[str, Any] = {"gremlin": gremlin}
    bindings = doc.get("bindings")
    if bindings is not None:
        if not isinstance(bindings, dict):
            raise InvalidArguments('"bindings" must be a JSON object of names to values')
        args["bindings"] = {k: graphson.read_value(v) for k, v in bindings.items()}
    for key in ("language", "aliases", "evaluationTimeout", "batchSize", "materializeProperties"):
        if key in doc:
            args[key] = graphson.read_value(doc[key])
    return RequestMessage(request_id, str(doc.get("op") or "eval"), "", args)


def _user(service: GremlinService, request: Request, received_body: bytes) -> User:
    if not service.authenticator.enabled:
        return ANONYMOUS
    return service.authenticator.http(ReceivedRequest.of(request, request.method, received_body))


def _query_request(request: Request) -> bytes:
    """``GET /gremlin?gremlin=...&bindings.x=...&language=...`` as the JSON script form (binding
    values are strings, as Gremlin Server reads them)."""
    params = request.query_params
    doc: dict[str, Any] = {"gremlin": params.get("gremlin")}
    bindings = {k[len("bindings.") :]: v for k, v in params.items() if k.startswith("bindings.")}
    if bindings:
        doc["bindings"] = bindings
    aliases = {k[len("aliases.") :]: v for k, v in params.items() if k.startswith("aliases.")}
    if aliases:
        doc["aliases"] = aliases
    for key in ("language", "requestId"):
        if key in params:
            doc[key] = params[key]
    return json.dumps(doc).encode("utf-8")


async def handle_http(service: GremlinService, request: Request) -> Response:
    """Serve one ``POST /gremlin`` (or ``GET /gremlin?gremlin=...``)."""
    received_body = b"" if request.method == "GET" else await request.body()
    body = _query_request(request) if request.method == "GET" else received_body
    limit = service.settings.max_frame_bytes
    if len(body) > limit:
        return error_response(
            413,
            f"The request body of {len(body)} bytes exceeds the limit of {limit} bytes "
            "(max_frame_bytes, SEER_MAX_FRAME_BYTES)",
            None,
        )
    request_id: uuid.UUID | None = None
    codec: Codec = codec_for_accept(request.headers.get("accept"))
    try:
        stripped = body.lstrip()
        if stripped[:1] == b"{":
            req = _script_request(stripped)
        else:
            codec, payload = split_frame(body)
            request_id = codec.peek_request_id(payload)
            req = codec.read_request(payload)
        request_id = req.request_id
        try:
            user = _user(service, request, received_body)
        except AuthenticationFailed as exc:
            return error_response(
                401, str(exc), request_id, headers={"WWW-Authenticate": 'Basic realm="seer"'}
            )
        plan = service.plan(req, user, stream=False)
    except ProtocolError as exc:
        service.metrics.observe("eval", "http", int(exc.status), 0.0)
        return error_response(int(exc.status), exc.message, request_id)
    collector = _Collector()
    code = await service.execute(plan, collector, transport="http")
    msg = collector.message
    if msg is None or code not in (Status.SUCCESS, Status.NO_CONTENT):
        return error_response(int(code), msg.message if msg else "no response", request_id)
    materialize = plan.materialize == "all"
    return Response(
        codec.write_response(msg, materialize_properties=materialize), media_type=_media_type(codec)
    )


def _media_type(codec: Codec) -> str:
    return codec.mime if codec.binary else "application/json"
