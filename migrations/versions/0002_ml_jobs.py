"""ML job tables: ml_jobs (data processing, training, transform), ml_endpoints, loader_jobs.

See server/jobs/tables.py for what each column means; the two must stay identical
(tests/server/jobs/test_migration.py compares them).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A database that held only job tables (created by server.jobs.records.create_tables for a
    # server whose graph lived elsewhere) keeps them: they are these tables.
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if {"ml_jobs", "ml_endpoints", "loader_jobs"} <= existing:
        return
    op.create_table(
        "ml_jobs",
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("id", sa.String(256), primary_key=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("output_dir", sa.Text, nullable=False),
        sa.Column("log_path", sa.Text, nullable=False),
        sa.Column("depends_kind", sa.String(32)),
        sa.Column("depends_id", sa.String(256)),
        sa.Column("progress", sa.JSON),
        sa.Column("result", sa.JSON),
        sa.Column("failure_reason", sa.Text),
        sa.Column("worker_id", sa.String(128)),
        sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("clean_requested", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("started_at", sa.Float),
        sa.Column("heartbeat_at", sa.Float),
        sa.Column("finished_at", sa.Float),
    )
    op.create_index("ix_ml_jobs_status_created", "ml_jobs", ["status", "created_at"])
    op.create_table(
        "ml_endpoints",
        sa.Column("id", sa.String(256), primary_key=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("source_kind", sa.String(32), nullable=False),
        sa.Column("source_id", sa.String(256), nullable=False),
        sa.Column("model_name", sa.String(64)),
        sa.Column("artifacts_dir", sa.Text),
        sa.Column("failure_reason", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "loader_jobs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("report", sa.JSON),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float),
    )


def downgrade() -> None:
    op.drop_table("loader_jobs")
    op.drop_table("ml_endpoints")
    op.drop_index("ix_ml_jobs_status_created", table_name="ml_jobs")
    op.drop_table("ml_jobs")
