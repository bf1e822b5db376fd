"""Users, password hashes and the credential formats the Gremlin doors accept.

- Passwords are stored as ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>`` (:func:`hash_password`);
  the server never sees a plain password in its configuration.
- WebSocket: SASL PLAIN (``base64("\\0user\\0password")``), the flow gremlinpython's
  ``username=``/``password=`` options drive after a 407 challenge.
- HTTP: ``Authorization: Basic ...`` on ``POST /gremlin`` and the REST routes.
- AWS SigV4 (``Authorization: AWS4-HMAC-SHA256 ...``, service ``neptune-db``) from users with an
  access key pair, wherever Basic is accepted, and on the WebSocket upgrade request (a signed
  upgrade authenticates the connection; no 407 follows). This is what boto3's ``neptunedata``
  client and Neptune's IAM Gremlin clients send; :mod:`server.protocol.sigv4` checks it.

Authentication is off when no users are configured; that is allowed only on loopback unless the
operator says otherwise explicitly (:func:`check_bind_security`).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import ipaddress
import os
from collections.abc import Sequence

from server.config import Settings, UserSpec
from server.protocol.sigv4 import ReceivedRequest, SignatureRejected, is_sigv4, verify

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


@dataclasses.dataclass(frozen=True)
class User:
    """An authenticated caller."""

    name: str
    read_only: bool = False


ANONYMOUS = User("anonymous", read_only=False)
"""The caller when authentication is off."""


class AuthenticationFailed(Exception):
    """Wrong, missing or unreadable credentials."""


class InsecureBinding(Exception):
    """A non-loopback bind address without users and without the explicit opt-out."""


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """A salted scrypt hash of ``password`` in the settings' ``password_hash`` format."""
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches the ``stored`` hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p)
        )
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(expected, actual)


class Authenticator:
    """Checks credentials against the configured users. Thread-safe (immutable)."""

    def __init__(self, users: Sequence[UserSpec]) -> None:
        self._users = {u.name: u for u in users}
        self._keys = {u.access_key_id: u for u in users if u.access_key_id is not None}

    @property
    def enabled(self) -> bool:
        return bool(self._users)

    def authenticate(self, username: str, password: str) -> User:
        """The user, or :class:`AuthenticationFailed` (the same error whatever was wrong)."""
        spec = self._users.get(username)
        if spec is None or spec.password_hash is None or not verify_password(password, spec.password_hash):
            raise AuthenticationFailed("Username and/or password are incorrect")
        return User(spec.name, spec.read_only)

    def sasl_plain(self, sasl: str) -> User:
        """Check a SASL PLAIN response: ``base64([authzid] \\0 authcid \\0 password)``."""
        try:
            raw = base64.b64decode(sasl, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationFailed("Invalid SASL PLAIN response: not base64 UTF-8") from None
        parts = raw.split("\0")
        if len(parts) != 3:
            raise AuthenticationFailed("Invalid SASL PLAIN response: expected [authzid]\\0user\\0password")
        return self.authenticate(parts[1], parts[2])

    def basic(self, authorization: str | None) -> User:
        """Check an HTTP ``Authorization: Basic`` header."""
        if not authorization or not authorization.lower().startswith("basic "):
            raise AuthenticationFailed(
                "Authentication required: send HTTP Basic credentials or an AWS SigV4 signature"
            )
        try:
            raw = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationFailed("Invalid HTTP Basic credentials: not base64 UTF-8") from None
        username, sep, password = raw.partition(":")
        if not sep:
            raise AuthenticationFailed("Invalid HTTP Basic credentials: expected user:password")
        return self.authenticate(username, password)

    def sigv4(self, request: ReceivedRequest) -> User:
        """Check a request signed with AWS Signature Version 4 by a user's access key pair."""
        try:
            key_id = verify(request, self._secret_for)
        except SignatureRejected as exc:
            raise AuthenticationFailed(str(exc)) from None
        spec = self._keys[key_id]
        return User(spec.name, spec.read_only)

    def _secret_for(self, access_key_id: str) -> str | None:
        spec = self._keys.get(access_key_id)
        if spec is None or spec.secret_access_key is None:
            return None
        return spec.secret_access_key.get_secret_value()

    def http(self, request: ReceivedRequest) -> User:
        """Check an HTTP request's credentials: a SigV4 signature or else HTTP Basic."""
        authorization = request.headers.get("authorization")
        if is_sigv4(authorization):
            return self.sigv4(request)
        return self.basic(authorization)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind_security(settings: Settings) -> None:
    """Refuse to serve a non-loopback address without users unless explicitly allowed."""
    if settings.users or settings.allow_remote_without_auth or is_loopback(settings.host):
        return
    raise InsecureBinding(
        f"Refusing to bind {settings.host} with authentication off: configure users (SEER_USERS, "
        "see `seer hash-password`) or pass --insecure (SEER_ALLOW_REMOTE_WITHOUT_AUTH=true) to accept it."
    )
