"""Tables of the job layer (SQLAlchemy Core). Alembic revision ``0002`` creates them; keep the two
in step. Times are UTC epoch seconds (floats) so that SQLite and PostgreSQL compare them alike.

``ml_jobs`` holds data-processing, training, transform and endpoint-deployment jobs. Neptune keeps
one id namespace per resource kind, so the key is ``(kind, id)``. ``depends_on`` names another
job of this table (``kind/id``) that must complete before this one may be claimed.

``ml_endpoints`` are published models: ``source_kind/source_id`` is the training or transform job
whose artifacts they serve; an endpoint whose source is still running stays ``Creating`` and turns
``InService`` when that job completes.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

ml_jobs = sa.Table(
    "ml_jobs",
    metadata,
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
    sa.Index("ix_ml_jobs_status_created", "status", "created_at"),
)

ml_endpoints = sa.Table(
    "ml_endpoints",
    metadata,
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

loader_jobs = sa.Table(
    "loader_jobs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("report", sa.JSON),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float),
)
