"""Every read and write of the job tables, in one class so that the REST layer, the worker and the
endpoint server agree on what a status means.

Statuses of ``ml_jobs`` (Neptune's / SageMaker's names, plus ``Queued`` before a worker takes it):
``Queued`` -> ``InProgress`` -> ``Completed`` | ``Failed`` | ``Stopping`` -> ``Stopped``.
Endpoints: ``Creating`` -> ``InService`` | ``Failed``; ``Updating`` while new artifacts are pending.

Claiming is safe with several workers on one database: PostgreSQL takes the candidate row with
``SELECT ... FOR UPDATE SKIP LOCKED`` (so concurrent claimers skip each other's rows instead of
waiting), and on every backend the final ``UPDATE ... WHERE status = 'Queued'`` only succeeds for
one claimer (SQLite serialises writers, so the conditional update alone is enough there).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, RowMapping

from server.jobs.tables import loader_jobs, metadata, ml_endpoints, ml_jobs

QUEUED, IN_PROGRESS, STOPPING = "Queued", "InProgress", "Stopping"
COMPLETED, FAILED, STOPPED = "Completed", "Failed", "Stopped"
ACTIVE = (QUEUED, IN_PROGRESS, STOPPING)
FINISHED = (COMPLETED, FAILED, STOPPED)

CREATING, IN_SERVICE, UPDATING = "Creating", "InService", "Updating"

KINDS = ("dataprocessing", "modeltraining", "modeltransform")


class JobExists(Exception):
    """A job (or endpoint) with this id already exists."""


@dataclasses.dataclass(frozen=True)
class JobRecord:
    """One row of ``ml_jobs``."""

    kind: str
    id: str
    status: str
    params: dict[str, Any]
    output_dir: str
    log_path: str
    depends_kind: str | None
    depends_id: str | None
    progress: dict[str, Any] | None
    result: dict[str, Any] | None
    failure_reason: str | None
    worker_id: str | None
    cancel_requested: bool
    clean_requested: bool
    created_at: float
    started_at: float | None
    heartbeat_at: float | None
    finished_at: float | None

    @classmethod
    def from_row(cls, row: RowMapping) -> JobRecord:
        return cls(**{f.name: row[f.name] for f in dataclasses.fields(cls)})


@dataclasses.dataclass(frozen=True)
class EndpointRecord:
    """One row of ``ml_endpoints``."""

    id: str
    status: str
    params: dict[str, Any]
    source_kind: str
    source_id: str
    model_name: str | None
    artifacts_dir: str | None
    failure_reason: str | None
    created_at: float
    updated_at: float

    @classmethod
    def from_row(cls, row: RowMapping) -> EndpointRecord:
        return cls(**{f.name: row[f.name] for f in dataclasses.fields(cls)})


@dataclasses.dataclass(frozen=True)
class LoaderRecord:
    """One row of ``loader_jobs``."""

    id: str
    status: str
    params: dict[str, Any]
    report: dict[str, Any] | None
    created_at: float
    finished_at: float | None

    @classmethod
    def from_row(cls, row: RowMapping) -> LoaderRecord:
        return cls(**{f.name: row[f.name] for f in dataclasses.fields(cls)})


def make_engine(url: str) -> Engine:
    """An engine for the job tables. SQLite waits for a busy writer instead of failing at once."""
    if url.startswith("sqlite"):
        return sa.create_engine(url, connect_args={"timeout": 30})
    return sa.create_engine(url, pool_pre_ping=True)


class SchemaMissing(Exception):
    """The database is managed by Alembic but lacks the job tables: run ``seer migrate``."""


def create_tables(engine: Engine) -> None:
    """Make sure the job tables exist.

    A database that Alembic manages (it has ``alembic_version``) gets them from revision 0002
    only, so that the two never disagree; any other database (tests, throw-away files) gets them
    created here. Raises :class:`SchemaMissing`."""
    inspector = sa.inspect(engine)
    if not inspector.has_table("alembic_version"):
        metadata.create_all(engine)
        return
    missing = [t for t in metadata.tables if not inspector.has_table(t)]
    if missing:
        raise SchemaMissing(
            f"{engine.url.render_as_string(hide_password=True)} lacks {', '.join(missing)}: run `seer migrate`"
        )


class JobRecords:
    """The job tables of one database. Thread-safe (each call uses its own connection).

    ``writes`` counts the transactions this object committed (or tried to): a cache of what the
    tables say (:class:`~server.jobs.serving.Predictors`) knows from it when this process
    changed them; changes by other processes it cannot see."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.writes = 0

    @contextlib.contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        """A write transaction; ``writes`` moves on once it is over, committed or not."""
        try:
            with self.engine.begin() as conn:
                yield conn
        finally:
            self.writes += 1

    # -- jobs ------------------------------------------------------------------------------

    def create_job(
        self,
        kind: str,
        id: str,
        params: dict[str, Any],
        output_dir: str,
        log_path: str,
        depends: tuple[str, str] | None = None,
    ) -> JobRecord:
        """Queue a new job. Raises :class:`JobExists` when ``(kind, id)`` is taken."""
        now = time.time()
        row = {
            "kind": kind,
            "id": id,
            "status": QUEUED,
            "params": params,
            "output_dir": output_dir,
            "log_path": log_path,
            "depends_kind": depends[0] if depends else None,
            "depends_id": depends[1] if depends else None,
            "progress": {"stage": "queued"},
            "cancel_requested": False,
            "clean_requested": False,
            "created_at": now,
        }
        try:
            with self._write() as conn:
                conn.execute(ml_jobs.insert().values(**row))
        except sa.exc.IntegrityError as exc:
            raise JobExists(f"a {kind} job with id {id!r} already exists") from exc
        job = self.get_job(kind, id)
        assert job is not None  # noqa: S101 - just inserted
        return job

    def get_job(self, kind: str, id: str) -> JobRecord | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(ml_jobs).where(ml_jobs.c.kind == kind, ml_jobs.c.id == id))
                .mappings()
                .first()
            )
        return JobRecord.from_row(row) if row else None

    def list_jobs(self, kind: str, max_items: int) -> list[str]:
        """Ids of the ``max_items`` most recent jobs of ``kind``, newest first."""
        query = (
            sa.select(ml_jobs.c.id)
            .where(ml_jobs.c.kind == kind)
            .order_by(ml_jobs.c.created_at.desc(), ml_jobs.c.id)
            .limit(max_items)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def request_cancel(self, kind: str, id: str, clean: bool) -> JobRecord | None:
        """Cancel a job: a queued one stops at once, a running one is asked to stop (its worker
        sees ``cancel_requested`` on its next heartbeat). Finished jobs keep their status;
        ``clean`` is remembered either way. Returns the updated record (``None``: unknown id)."""
        now = time.time()
        where = (ml_jobs.c.kind == kind, ml_jobs.c.id == id)
        with self._write() as conn:
            conn.execute(
                ml_jobs.update()
                .where(*where, ml_jobs.c.status == QUEUED)
                .values(status=STOPPED, finished_at=now, cancel_requested=True, progress={"stage": "stopped"})
            )
            conn.execute(
                ml_jobs.update()
                .where(*where, ml_jobs.c.status == IN_PROGRESS)
                .values(status=STOPPING, cancel_requested=True)
            )
            if clean:
                conn.execute(ml_jobs.update().where(*where).values(clean_requested=True))
        return self.get_job(kind, id)

    def delete_job(self, kind: str, id: str) -> None:
        with self._write() as conn:
            conn.execute(ml_jobs.delete().where(ml_jobs.c.kind == kind, ml_jobs.c.id == id))

    def claim(self, worker_id: str) -> JobRecord | None:
        """Take the oldest queued job whose dependency (if any) has completed, or ``None``."""
        dep = ml_jobs.alias("dep")
        ready = sa.or_(
            ml_jobs.c.depends_id.is_(None),
            sa.exists().where(
                dep.c.kind == ml_jobs.c.depends_kind,
                dep.c.id == ml_jobs.c.depends_id,
                dep.c.status == COMPLETED,
            ),
        )
        candidates = (
            sa.select(ml_jobs.c.kind, ml_jobs.c.id)
            .where(ml_jobs.c.status == QUEUED, ready)
            .order_by(ml_jobs.c.created_at, ml_jobs.c.id)
            .limit(8)
            .with_for_update(skip_locked=True, of=ml_jobs)
        )
        now = time.time()
        with self._write() as conn:
            for kind, id in conn.execute(candidates).all():
                taken = conn.execute(
                    ml_jobs.update()
                    .where(ml_jobs.c.kind == kind, ml_jobs.c.id == id, ml_jobs.c.status == QUEUED)
                    .values(
                        status=IN_PROGRESS,
                        worker_id=worker_id,
                        started_at=now,
                        heartbeat_at=now,
                        progress={"stage": "starting"},
                    )
                ).rowcount
                if taken == 1:
                    break
            else:
                return None
        return self.get_job(kind, id)

    def heartbeat(self, kind: str, id: str, worker_id: str, progress: dict[str, Any] | None) -> bool:
        """Record that ``worker_id`` still runs the job (and its progress). Returns whether the
        job should stop: cancellation was requested, or another party already gave up on it."""
        values: dict[str, Any] = {"heartbeat_at": time.time()}
        if progress is not None:
            values["progress"] = progress
        where = (ml_jobs.c.kind == kind, ml_jobs.c.id == id, ml_jobs.c.worker_id == worker_id)
        with self._write() as conn:
            conn.execute(
                ml_jobs.update().where(*where, ml_jobs.c.status.in_((IN_PROGRESS, STOPPING))).values(**values)
            )
            row = conn.execute(sa.select(ml_jobs.c.status, ml_jobs.c.cancel_requested).where(*where)).first()
        return row is None or bool(row.cancel_requested) or row.status not in (IN_PROGRESS, STOPPING)

    def finish(
        self,
        kind: str,
        id: str,
        worker_id: str,
        status: str,
        *,
        result: dict[str, Any] | None = None,
        failure_reason: str | None = None,
        progress: dict[str, Any] | None = None,
    ) -> bool:
        """Close a job this worker holds with ``status`` (Completed, Failed or Stopped).

        A completed training or transform job turns the endpoints that wait on it ``InService``.
        Returns ``False`` when the job was no longer this worker's (e.g. reaped as stale)."""
        now = time.time()
        values: dict[str, Any] = {
            "status": status,
            "finished_at": now,
            "heartbeat_at": now,
            "result": result,
            "failure_reason": failure_reason,
        }
        if progress is not None:
            values["progress"] = progress
        with self._write() as conn:
            done = conn.execute(
                ml_jobs.update()
                .where(
                    ml_jobs.c.kind == kind,
                    ml_jobs.c.id == id,
                    ml_jobs.c.worker_id == worker_id,
                    ml_jobs.c.status.in_((IN_PROGRESS, STOPPING)),
                )
                .values(**values)
            ).rowcount
            if done:
                self._settle_endpoints(conn, kind, id, status, failure_reason, now)
        return bool(done)

    def requeue(self, kind: str, id: str, worker_id: str, note: str) -> bool:
        """Put a job this worker holds back in the queue (its worker is shutting down cleanly);
        another worker starts it again from the beginning."""
        with self._write() as conn:
            return bool(
                conn.execute(
                    ml_jobs.update()
                    .where(
                        ml_jobs.c.kind == kind,
                        ml_jobs.c.id == id,
                        ml_jobs.c.worker_id == worker_id,
                        ml_jobs.c.status == IN_PROGRESS,
                        ml_jobs.c.cancel_requested.is_(False),
                    )
                    .values(
                        status=QUEUED,
                        worker_id=None,
                        started_at=None,
                        progress={"stage": "queued", "note": note},
                    )
                ).rowcount
            )

    def reap_stale(self, timeout_s: float) -> list[JobRecord]:
        """Fail running jobs whose worker has not heartbeated for ``timeout_s`` seconds, and queued
        jobs whose dependency failed or stopped. Returns the jobs it failed."""
        now = time.time()
        reaped: list[JobRecord] = []
        with self._write() as conn:
            stale = conn.execute(
                sa.select(ml_jobs).where(
                    ml_jobs.c.status.in_((IN_PROGRESS, STOPPING)), ml_jobs.c.heartbeat_at < now - timeout_s
                )
            ).mappings()
            for row in list(stale):
                reason = (
                    f"WorkerLost: worker {row['worker_id']} stopped heartbeating "
                    f"({now - row['heartbeat_at']:.0f} s without a heartbeat; timeout {timeout_s:g} s)"
                )
                reaped += self._fail_if(conn, row, (IN_PROGRESS, STOPPING), reason, now)
            dep = ml_jobs.alias("dep")
            orphans = conn.execute(
                sa.select(ml_jobs, dep.c.status.label("dep_status"))
                .join(dep, sa.and_(dep.c.kind == ml_jobs.c.depends_kind, dep.c.id == ml_jobs.c.depends_id))
                .where(ml_jobs.c.status == QUEUED, dep.c.status.in_((FAILED, STOPPED)))
            ).mappings()
            for row in list(orphans):
                reason = (
                    f"DependencyFailed: {row['depends_kind']} job {row['depends_id']} is {row['dep_status']}"
                )
                reaped += self._fail_if(conn, row, (QUEUED,), reason, now)
        return reaped

    def _fail_if(
        self, conn: sa.Connection, row: RowMapping, statuses: tuple[str, ...], reason: str, now: float
    ):
        done = conn.execute(
            ml_jobs.update()
            .where(ml_jobs.c.kind == row["kind"], ml_jobs.c.id == row["id"], ml_jobs.c.status.in_(statuses))
            .values(status=FAILED, failure_reason=reason, finished_at=now)
        ).rowcount
        if not done:
            return []
        self._settle_endpoints(conn, row["kind"], row["id"], FAILED, reason, now)
        return [dataclasses.replace(JobRecord.from_row(row), status=FAILED, failure_reason=reason)]

    def _settle_endpoints(
        self, conn: sa.Connection, kind: str, id: str, status: str, reason: str | None, now: float
    ) -> None:
        """Endpoints waiting on job ``kind/id``: InService when it completed; else Failed, or back
        InService on their previous artifacts when it was an update."""
        waiting = (
            ml_endpoints.c.source_kind == kind,
            ml_endpoints.c.source_id == id,
            ml_endpoints.c.status.in_((CREATING, UPDATING)),
        )
        if status == COMPLETED:
            output = conn.execute(
                sa.select(ml_jobs.c.output_dir).where(ml_jobs.c.kind == kind, ml_jobs.c.id == id)
            ).scalar_one()
            conn.execute(
                ml_endpoints.update()
                .where(*waiting)
                .values(status=IN_SERVICE, artifacts_dir=output, failure_reason=None, updated_at=now)
            )
        else:
            why = f"{kind} job {id} is {status}: {reason}"
            # An update that cannot happen leaves the endpoint serving its previous model.
            for old, new in ((UPDATING, IN_SERVICE), (CREATING, FAILED)):
                conn.execute(
                    ml_endpoints.update()
                    .where(*waiting[:2], ml_endpoints.c.status == old)
                    .values(status=new, failure_reason=why, updated_at=now)
                )

    # -- endpoints -------------------------------------------------------------------------

    def put_endpoint(
        self,
        id: str,
        params: dict[str, Any],
        source: tuple[str, str],
        model_name: str | None,
        *,
        update: bool,
    ) -> EndpointRecord:
        """Create endpoint ``id`` (or, with ``update``, point an existing one at new artifacts).

        The endpoint is ``InService`` at once when the source job has completed, else ``Creating``
        (``Updating`` for an update, which keeps serving the old artifacts meanwhile)."""
        now = time.time()
        with self._write() as conn:
            source_job = (
                conn.execute(sa.select(ml_jobs).where(ml_jobs.c.kind == source[0], ml_jobs.c.id == source[1]))
                .mappings()
                .one()
            )
            ready = source_job["status"] == COMPLETED
            existing = conn.execute(sa.select(ml_endpoints).where(ml_endpoints.c.id == id)).mappings().first()
            values: dict[str, Any] = {
                "params": params,
                "source_kind": source[0],
                "source_id": source[1],
                "model_name": model_name,
                "failure_reason": None,
                "updated_at": now,
            }
            if ready:
                values.update(status=IN_SERVICE, artifacts_dir=source_job["output_dir"])
            if existing is not None and update:
                values.setdefault("status", UPDATING if existing["artifacts_dir"] else CREATING)
                conn.execute(ml_endpoints.update().where(ml_endpoints.c.id == id).values(**values))
            elif existing is not None:
                raise JobExists(
                    f"an endpoint with id {id!r} already exists (send update=true to replace its model)"
                )
            else:
                values.setdefault("status", CREATING)
                try:
                    conn.execute(ml_endpoints.insert().values(id=id, created_at=now, **values))
                except sa.exc.IntegrityError as exc:
                    raise JobExists(f"an endpoint with id {id!r} already exists") from exc
        endpoint = self.get_endpoint(id)
        assert endpoint is not None  # noqa: S101 - just written
        return endpoint

    def get_endpoint(self, id: str) -> EndpointRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(ml_endpoints).where(ml_endpoints.c.id == id)).mappings().first()
        return EndpointRecord.from_row(row) if row else None

    def list_endpoints(self, max_items: int) -> list[str]:
        query = (
            sa.select(ml_endpoints.c.id)
            .order_by(ml_endpoints.c.created_at.desc(), ml_endpoints.c.id)
            .limit(max_items)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def delete_endpoint(self, id: str) -> bool:
        with self._write() as conn:
            return bool(conn.execute(ml_endpoints.delete().where(ml_endpoints.c.id == id)).rowcount)

    # -- loader jobs -----------------------------------------------------------------------

    def create_load(self, id: str, params: dict[str, Any]) -> None:
        with self._write() as conn:
            conn.execute(
                loader_jobs.insert().values(
                    id=id, status="LOAD_IN_PROGRESS", params=params, created_at=time.time()
                )
            )

    def finish_load(self, id: str, status: str, report: dict[str, Any]) -> None:
        with self._write() as conn:
            conn.execute(
                loader_jobs.update()
                .where(loader_jobs.c.id == id)
                .values(status=status, report=report, finished_at=time.time())
            )

    def get_load(self, id: str) -> LoaderRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(loader_jobs).where(loader_jobs.c.id == id)).mappings().first()
        return LoaderRecord.from_row(row) if row else None

    def list_loads(self, limit: int) -> list[str]:
        query = sa.select(loader_jobs.c.id).order_by(loader_jobs.c.created_at.desc()).limit(limit)
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def fail_unfinished_loads(self, reason: str) -> int:
        """Loads that were in progress when their server stopped can never finish: fail them."""
        with self._write() as conn:
            return conn.execute(
                loader_jobs.update()
                .where(loader_jobs.c.status == "LOAD_IN_PROGRESS")
                .values(
                    status="LOAD_FAILED",
                    report={"overallStatus": {"status": "LOAD_FAILED", "errors": [reason]}},
                    finished_at=time.time(),
                )
            ).rowcount
