"""The one settings object. Built by :func:`get_settings` (environment ``SEER_*`` and ``.env``)
or passed explicitly to factories; nothing reads the environment at import time."""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import BaseModel, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class UserSpec(BaseModel):
    """One user: a name, credentials, and write permission.

    Credentials are a salted password hash (never the password; HTTP Basic and SASL PLAIN), an
    AWS-style key pair (requests signed with SigV4, as the AWS SDK and Neptune's IAM clients send
    them), or both. SigV4 is a shared-secret HMAC scheme: checking a signature needs the secret
    access key itself, as AWS keeps it, so unlike the password it is held as given. Keep it out of
    files under version control: pass it in the environment (``SEER_USERS``) like the rest.
    """

    name: str
    password_hash: str | None = None
    read_only: bool = False
    access_key_id: str | None = None
    """The key id clients sign with (``aws_access_key_id``)."""
    secret_access_key: SecretStr | None = None
    """Its secret (``aws_secret_access_key``); hidden in reprs and logs."""

    @model_validator(mode="after")
    def _has_credentials(self) -> UserSpec:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError(f"user {self.name!r}: access_key_id and secret_access_key go together")
        if self.password_hash is None and self.access_key_id is None:
            raise ValueError(f"user {self.name!r} needs a password_hash or an access key pair")
        return self


class Settings(BaseSettings):
    """Configuration of every Seer process (server, worker, endpoint, CLI)."""

    model_config = SettingsConfigDict(env_prefix="SEER_", env_file=".env", extra="ignore")

    data_dir: Path = Path("data")
    """Where the embedded database, job artifacts and models live."""

    ml_endpoint: str | None = None
    """Default ``Neptune#ml.endpoint`` for traversals that name none (Neptune's cluster parameter
    ``neptune_ml_endpoint``): an endpoint id or a model-training job id."""

    db_url: str | None = None
    """SQLAlchemy URL of the store; default: a SQLite file ``seer.db`` under ``data_dir``."""

    host: str = "127.0.0.1"
    port: int = 8182

    # -- Gremlin server (server.protocol) ----------------------------------------------------
    batch_size: int = 64
    """Results per response message (Gremlin Server's resultIterationBatchSize)."""
    evaluation_timeout_ms: int = 30_000
    """Default evaluationTimeout of a request; 0 disables it."""
    max_frame_bytes: int = 10 * 1024 * 1024
    """Largest request frame (WebSocket message or HTTP body) accepted."""
    max_result_items: int = 1_000_000
    """Most results one request may return (bulk counted); 0 disables the limit."""
    max_in_flight_per_connection: int = 16
    """Most requests one WebSocket connection may have running at once."""
    engine_threads: int = 8
    """Worker threads that run traversals (the engine is blocking)."""
    session_idle_timeout_s: float = 600.0
    """An idle session (its transaction rolled back) is closed after this long."""

    # -- authentication (server.protocol.auth) -----------------------------------------------
    users: list[UserSpec] = []
    """Users allowed in; empty means authentication is off (loopback only, see below).
    ``SEER_USERS='[{"name": "ann", "password_hash": "scrypt$...", "read_only": false}]'``;
    make a hash with ``seer hash-password``. A user signing with SigV4 adds
    ``"access_key_id": "AKIA...", "secret_access_key": "..."`` (see :class:`UserSpec`)."""
    allow_remote_without_auth: bool = False
    """Bind a non-loopback address with no users configured (``seer serve --insecure``)."""

    # -- ML jobs and endpoints (server.jobs) ---------------------------------------------------
    embedded_worker: bool = True
    """Run an ML job worker inside ``seer serve`` (turn off when ``seer worker`` processes run)."""
    job_heartbeat_s: float = 5.0
    """How often a running ML job's worker writes its heartbeat."""
    job_stale_after_s: float = 60.0
    """A running job whose worker has not heartbeated for this long is failed (worker lost)."""
    endpoint_url: str | None = None
    """Base URL of a ``seer endpoint`` server; ``None`` serves ML endpoints in-process."""

    @field_validator("users")
    @classmethod
    def _unique_key_ids(cls, users: list[UserSpec]) -> list[UserSpec]:
        key_ids = [u.access_key_id for u in users if u.access_key_id is not None]
        if len(key_ids) != len(set(key_ids)):
            raise ValueError("two users share an access_key_id")
        return users

    @field_validator("db_url")
    @classmethod
    def _normalise_db_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @property
    def database_url(self) -> str:
        """The store URL actually used."""
        return self.db_url or f"sqlite:///{(self.data_dir / 'seer.db').resolve()}"


@functools.cache
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings()
