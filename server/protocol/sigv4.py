"""AWS Signature Version 4 verification, for Neptune clients that use IAM authentication.

The AWS SDK (boto3 ``neptunedata``) signs every request with SigV4 under the service name
``neptune-db``; Neptune's IAM-enabled Gremlin WebSocket clients sign the HTTP upgrade request the
same way. A signed request carries::

    Authorization: AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/neptune-db/aws4_request,
                   SignedHeaders=host;x-amz-date, Signature=<64 hex digits>
    X-Amz-Date: 20240101T120000Z

Verification recomputes the signature over the request as received (method, raw path, raw query
string, the signed headers, the SHA-256 of the body) with the caller's secret key and compares it
in constant time. The canonicalisation is botocore's own (:class:`botocore.auth.SigV4Auth`), so
Seer and the SDK cannot disagree about it; the one thing overridden is which headers are signed:
the client's ``SignedHeaders`` list, not botocore's choice for outgoing requests (which leaves
out e.g. ``user-agent`` and ``upgrade`` that other clients may sign).

SigV4 is a shared-secret HMAC scheme: the verifier needs the secret access key itself, exactly as
AWS keeps it, so unlike passwords it cannot be stored as a one-way hash. Session tokens
(``X-Amz-Security-Token``, temporary credentials) and pre-signed URLs are not supported. The
region in the credential scope is not checked (Seer has no regions); the service must be
``neptune-db``.

This module imports nothing from Seer; :class:`server.protocol.auth.Authenticator` maps its
:class:`SignatureRejected` to the 401 every door answers.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import hmac
from collections.abc import Callable

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "neptune-db"
MAX_CLOCK_SKEW = datetime.timedelta(minutes=15)
"""How far ``X-Amz-Date`` may be from the server's clock (AWS's own limit)."""
_REQUIRED_SIGNED = ("host", "x-amz-date")


class SignatureRejected(Exception):
    """A SigV4 signature that is malformed, stale, for an unknown key, or wrong."""


@dataclasses.dataclass(frozen=True)
class ReceivedRequest:
    """What a SigV4 signature covers, as the server received it."""

    method: str
    path: str
    """The raw (still percent-encoded) path, without the query string."""
    query: str
    """The raw query string, without ``?``."""
    headers: Headers
    body: bytes

    @classmethod
    def of(cls, conn: HTTPConnection, method: str, body: bytes) -> ReceivedRequest:
        """The request behind a Starlette ``Request`` or ``WebSocket`` (a WebSocket upgrade is a
        ``GET`` with an empty body)."""
        scope = conn.scope
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        query: bytes = scope.get("query_string", b"")
        return cls(method, raw_path.decode("latin-1"), query.decode("latin-1"), conn.headers, body)


@dataclasses.dataclass(frozen=True)
class Authorization:
    """The parts of an ``Authorization: AWS4-HMAC-SHA256 ...`` header."""

    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def is_sigv4(authorization: str | None) -> bool:
    """True when an ``Authorization`` header value is a SigV4 signature."""
    return authorization is not None and authorization.split(" ", 1)[0] == ALGORITHM


def parse_authorization(value: str) -> Authorization:
    """Split ``AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...``."""
    algorithm, _, rest = value.partition(" ")
    if algorithm != ALGORITHM:
        raise SignatureRejected(f"Unsupported signature algorithm {algorithm!r}: expected {ALGORITHM}")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, val = part.strip().partition("=")
        if sep:
            fields[key] = val
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if not fields.get(k)]
    if missing:
        raise SignatureRejected(f"Malformed SigV4 Authorization header: {', '.join(missing)} missing")
    scope = fields["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise SignatureRejected(
            "Malformed SigV4 credential scope: expected ACCESS_KEY_ID/DATE/REGION/SERVICE/aws4_request"
        )
    signed = tuple(fields["SignedHeaders"].lower().split(";"))
    return Authorization(scope[0], scope[1], scope[2], scope[3], signed, fields["Signature"].lower())


class _ReceivedRequestSigner(SigV4Auth):
    """botocore's SigV4 signer, signing exactly the headers the client listed as signed."""

    def __init__(self, credentials: Credentials, auth: Authorization, headers: Headers) -> None:
        super().__init__(credentials, auth.service, auth.region)
        self._signed = auth.signed_headers
        self._received = headers

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        header_map = HTTPHeaders()
        for name in self._signed:
            for value in self._received.getlist(name):
                header_map[name] = value
        return header_map

    def signature_of(self, request: AWSRequest, timestamp: str) -> str:
        """The hex signature botocore computes for ``request`` signed at ``timestamp``."""
        request.context["timestamp"] = timestamp
        canonical = self.canonical_request(request)
        return self.signature(self.string_to_sign(request, canonical), request)


def _checked_date(request: ReceivedRequest, auth: Authorization, now: datetime.datetime) -> str:
    """``X-Amz-Date`` once it is present, well formed, matches the scope and is recent."""
    stamp = request.headers.get("x-amz-date")
    if not stamp:
        raise SignatureRejected("SigV4 request without an X-Amz-Date header")
    try:
        signed_at = datetime.datetime.strptime(stamp, SIGV4_TIMESTAMP).replace(tzinfo=datetime.UTC)
    except ValueError:
        raise SignatureRejected(f"X-Amz-Date {stamp!r} is not in the form YYYYMMDDTHHMMSSZ") from None
    if abs(now - signed_at) > MAX_CLOCK_SKEW:
        raise SignatureRejected(
            f"Signature expired or not yet valid: X-Amz-Date {stamp} is more than 15 minutes from the "
            f"server time {now.strftime(SIGV4_TIMESTAMP)}"
        )
    if stamp[:8] != auth.date:
        raise SignatureRejected(f"The credential scope date {auth.date} does not match X-Amz-Date {stamp}")
    return stamp


def _check_shape(request: ReceivedRequest, auth: Authorization) -> None:
    """Refuse what this verifier does not support before looking at keys."""
    if "x-amz-security-token" in request.headers:
        raise SignatureRejected(
            "Temporary credentials (X-Amz-Security-Token) are not supported: sign with a static "
            "access key pair configured for a Seer user"
        )
    if auth.service != SERVICE:
        raise SignatureRejected(f"The credential scope names service {auth.service!r}: expected {SERVICE!r}")
    unsigned = [h for h in _REQUIRED_SIGNED if h not in auth.signed_headers]
    if unsigned:
        raise SignatureRejected(f"SignedHeaders must include {', '.join(unsigned)}")
    absent = [h for h in auth.signed_headers if h not in request.headers]
    if absent:
        raise SignatureRejected(f"Signed header(s) {', '.join(absent)} missing from the request")
    declared = request.headers.get("x-amz-content-sha256")
    if declared is not None and declared.lower() != hashlib.sha256(request.body).hexdigest():
        raise SignatureRejected("X-Amz-Content-SHA256 does not match the SHA-256 of the request body")


def verify(
    request: ReceivedRequest,
    secret_for: Callable[[str], str | None],
    *,
    now: datetime.datetime | None = None,
) -> str:
    """The access key id of a correctly signed ``request``, or :class:`SignatureRejected` naming
    what was wrong (never the secret). ``secret_for`` maps a key id to its secret (``None`` when
    unknown)."""
    auth = parse_authorization(request.headers.get("authorization", ""))
    _check_shape(request, auth)
    stamp = _checked_date(request, auth, now or datetime.datetime.now(datetime.UTC))
    secret = secret_for(auth.access_key_id)
    if secret is None:
        raise SignatureRejected(f"Unknown access key id {auth.access_key_id!r}")
    signer = _ReceivedRequestSigner(Credentials(auth.access_key_id, secret), auth, request.headers)
    # "http://" keeps botocore hashing the body (it may skip that for https); the host it names is
    # unused, headers_to_sign above takes the received Host header.
    url = f"http://seer{request.path}" + (f"?{request.query}" if request.query else "")
    expected = signer.signature_of(AWSRequest(request.method, url, data=request.body), stamp)
    if not hmac.compare_digest(expected.encode("ascii"), auth.signature.encode("ascii", "replace")):
        raise SignatureRejected(
            f"The request signature does not match for access key id {auth.access_key_id!r}: check "
            "the secret access key, and that nothing changed the request after it was signed"
        )
    return auth.access_key_id
