"""``seer load``: bulk-load Neptune CSV, GraphSON 3.0 or GraphML files into the database."""

from __future__ import annotations

import json
import sys

import click

from server.cli.main import cli


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--db", "db_url", default=None, help="Database URL (default: SEER_DB_URL or the embedded SQLite file)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "csv", "graphson", "graphml"]),
    default="auto",
    show_default=True,
    help="Input format; auto picks by file suffix.",
)
@click.option(
    "--no-fail-on-error", "keep_going", is_flag=True, help="Load the good records and report the bad ones."
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print Neptune's loader status JSON instead of a summary."
)
def load(paths: tuple[str, ...], db_url: str | None, fmt: str, keep_going: bool, as_json: bool) -> None:
    """Load PATHS (files or folders) into the graph; nothing is committed if a record fails
    (unless --no-fail-on-error)."""
    from tqdm import tqdm

    from server.config import Settings
    from server.store import LoadError, open_store
    from server.store.loaders import LoadReport
    from server.store.loaders import load as load_files

    store = open_store(db_url or Settings().database_url, migrate=True)
    bar = tqdm(unit=" records", disable=None, file=sys.stderr)

    def progress(report: LoadReport) -> None:
        bar.update(report.records - bar.n)
        bar.set_postfix(vertices=report.vertices, edges=report.edges, refresh=False)

    try:
        report = load_files(store, list(paths), format=fmt, fail_on_error=not keep_going, progress=progress)
    except LoadError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        bar.close()
        store.dispose()
    if as_json:
        click.echo(json.dumps(report.to_neptune(), indent=2))
    else:
        for line in report.errors[:20]:
            click.echo(f"error: {line}", err=True)
        if len(report.errors) > 20:
            click.echo(f"... and {len(report.errors) - 20} more errors", err=True)
        click.echo(
            f"{report.status}: {report.vertices} vertices, {report.edges} edges, "
            f"{report.vertex_properties + report.edge_properties} properties in {report.seconds:.1f}s"
        )
    if report.status != "LOAD_COMPLETED":
        sys.exit(1)
