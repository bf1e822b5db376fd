"""``seer serve``: the database server (Gremlin WebSocket + HTTP, REST API) on one port, and
``seer hash-password``: the password hash to put in ``SEER_USERS``."""

from __future__ import annotations

from pathlib import Path

import click

from server.cli.main import cli


@cli.command()
@click.option("--db", "db_url", default=None, help="Store URL (default: SQLite file under the data dir).")
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default 8182).")
@click.option("--data-dir", default=None, type=click.Path(path_type=Path), help="Data directory.")
@click.option(
    "--insecure",
    is_flag=True,
    default=False,
    help="Allow binding a non-loopback address with authentication off (no users configured).",
)
@click.option("--log-level", default="info", show_default=True)
def serve(
    db_url: str | None,
    host: str | None,
    port: int | None,
    data_dir: Path | None,
    insecure: bool,
    log_level: str,
) -> None:
    """Serve Gremlin (ws://HOST:PORT/gremlin, POST /gremlin) and the REST API."""
    import uvicorn

    from server.api.app import create_app
    from server.config import Settings
    from server.protocol.auth import InsecureBinding, check_bind_security

    overrides = {
        k: v
        for k, v in {"db_url": db_url, "host": host, "port": port, "data_dir": data_dir}.items()
        if v is not None
    }
    if insecure:
        overrides["allow_remote_without_auth"] = True
    settings = Settings(**overrides)
    try:
        check_bind_security(settings)
    except InsecureBinding as exc:
        raise click.ClickException(str(exc)) from None
    app = create_app(settings)
    click.echo(f"seer: serving {settings.database_url} on ws://{settings.host}:{settings.port}/gremlin")
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        # Frames up to twice the limit reach the handler, which answers them with an error naming
        # the limit; only larger ones are cut by uvicorn.
        ws_max_size=2 * settings.max_frame_bytes + 1024,
    )


@cli.command("hash-password")
@click.password_option()
def hash_password(password: str) -> None:
    """Print the scrypt hash of a password for SEER_USERS' password_hash."""
    from server.protocol.auth import hash_password as make_hash

    click.echo(make_hash(password))
