"""``seer worker``: run ML jobs from the database, standalone (the stack's ``worker`` service).

Several workers may share one PostgreSQL database; each job is taken by exactly one of them.
"""

from __future__ import annotations

import logging
import signal

import click

from server.cli.main import cli


@cli.command()
@click.option(
    "--db", "db_url", default=None, help="Database URL (default: SEER_DB_URL or the embedded SQLite file)."
)
@click.option(
    "--poll", "poll_s", type=float, default=1.0, show_default=True, help="Seconds between looks for work."
)
@click.option("--heartbeat", "heartbeat_s", type=float, default=None, help="Seconds between heartbeats.")
@click.option("--stale-after", "stale_s", type=float, default=None, help="Fail jobs silent this long (s).")
@click.option("--worker-id", default=None, help="Name in job records (default host:pid:random).")
def worker(
    db_url: str | None, poll_s: float, heartbeat_s: float | None, stale_s: float | None, worker_id: str | None
) -> None:
    """Claim queued ML jobs and run them until interrupted."""
    from server.config import Settings
    from server.jobs.records import JobRecords, create_tables, make_engine
    from server.jobs.worker import Worker
    from server.store import open_store

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings(db_url=db_url) if db_url else Settings()
    url = settings.database_url
    store = open_store(url)
    engine = make_engine(url)
    create_tables(engine)
    loop = Worker(
        JobRecords(engine),
        store=store,
        worker_id=worker_id,
        poll_s=poll_s,
        heartbeat_s=heartbeat_s or settings.job_heartbeat_s,
        stale_after_s=stale_s or settings.job_stale_after_s,
    )
    signal.signal(signal.SIGTERM, lambda *_: loop.stop(timeout_s=0))
    click.echo(f"seer worker {loop.worker_id} on {engine.url.render_as_string(hide_password=True)}", err=True)
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        loop.stop(timeout_s=0)
    finally:
        store.dispose()
        engine.dispose()
