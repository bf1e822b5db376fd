"""Alembic environment: runs revisions against ``sqlalchemy.url`` (set by server.store.sql).

Online mode only: Seer always migrates a live database. SQLite gets the same engine settings as
the store (WAL, foreign keys) and batch mode, so ALTERs work there too.
"""

from __future__ import annotations

from alembic import context

from server.store.sql.engine import create_engine
from server.store.sql.schema import metadata

config = context.config


def run_migrations_online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Seer migrations run online only: `seer migrate --db URL`")
run_migrations_online()
