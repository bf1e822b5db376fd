"""``seer migrate``: upgrade (or downgrade) the database schema with Alembic."""

from __future__ import annotations

import click

from server.cli.main import cli


@cli.command()
@click.option(
    "--db", "db_url", default=None, help="Database URL (default: SEER_DB_URL or the embedded SQLite file)."
)
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.option("--downgrade", "down", is_flag=True, help="Downgrade to --revision instead (e.g. base).")
def migrate(db_url: str | None, revision: str, down: bool) -> None:
    """Bring the database schema to REVISION (the newest by default)."""
    from server.config import Settings
    from server.store import sql

    url = db_url or Settings().database_url
    if down:
        target = "base" if revision == "head" else revision
        sql.downgrade(url, target)
        click.echo(f"downgraded {_safe(url)} to {target}")
    else:
        sql.migrate(url, revision)
        click.echo(f"migrated {_safe(url)} to {revision}")


def _safe(url: str) -> str:
    import sqlalchemy as sa

    return sa.engine.make_url(url).render_as_string(hide_password=True)
