"""``seer endpoint``: serve model inference over HTTP for every published ML endpoint (the stack's
``endpoint`` service). Endpoints are read from the database; a model is loaded on first use and
reloaded when its endpoint is updated."""

from __future__ import annotations

from pathlib import Path

import click

from server.cli.main import cli


@cli.command()
@click.option(
    "--db", "db_url", default=None, help="Database URL (default: SEER_DB_URL or the embedded SQLite file)."
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8190, show_default=True, type=int)
@click.option(
    "--models-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where this process sees the server's <data_dir>/ml folder, if mounted elsewhere.",
)
def endpoint(db_url: str | None, host: str, port: int, models_dir: Path | None) -> None:
    """Serve inference for the published ML endpoints."""
    import uvicorn

    from server.api.inference import create_endpoint_app
    from server.config import Settings
    from server.jobs.records import JobRecords, create_tables, make_engine
    from server.jobs.serving import Predictors

    settings = Settings(db_url=db_url) if db_url else Settings()
    engine = make_engine(settings.database_url)
    create_tables(engine)
    records = JobRecords(engine)
    app = create_endpoint_app(records, Predictors(records, models_dir))
    # Import the learning stack before taking requests: torch and DGL take seconds to import,
    # which the first query (a Gremlin traversal waiting on this answer) should not pay.
    import graphml.inference.predictor  # noqa: F401

    uvicorn.run(app, host=host, port=port, log_level="info")
