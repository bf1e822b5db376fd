"""The worker loop: claim a queued job, run it with a heartbeat, record how it ended.

One :class:`Worker` runs one job at a time, in the thread that calls :meth:`Worker.run_once` (the
embedded server starts it on a background thread; ``seer worker`` runs it in the foreground).
While a job runs, a heartbeat thread writes ``heartbeat_at`` and the latest progress every
``heartbeat_s`` seconds and reads back ``cancel_requested``; the job's ``should_stop()`` reads
that flag, so a ``DELETE`` reaches a running job within one heartbeat. Every loop iteration
first fails jobs whose worker stopped heartbeating for ``stale_after_s`` (a killed process), so
no job is left ``InProgress`` forever. An exception inside a job fails that job, with
``<ExceptionType>: <message>`` as its reason, and the loop goes on. A worker that shuts down
cleanly (SIGTERM, server restart) puts its running job back in the queue instead.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

from server.jobs.export import ExportCancelled
from server.jobs.records import COMPLETED, FAILED, QUEUED, STOPPED, JobRecord, JobRecords
from server.jobs.runner import JobContext, run_job
from server.store.interface import GraphStore

log = logging.getLogger(__name__)


def _jsonable(value: Any) -> Any:
    """``value`` with numpy scalars, paths and the like turned into JSON types."""

    def default(obj: Any) -> Any:
        if hasattr(obj, "item"):
            return obj.item()
        if hasattr(obj, "tolist"):
            return obj.tolist()
        return str(obj)

    return json.loads(json.dumps(value, default=default))


def remove_artifacts(job: JobRecord) -> None:
    """Delete what a job wrote: its output folder and, for processing, its export."""
    for path in (job.output_dir, job.params.get("export_dir")):
        if path:
            shutil.rmtree(path, ignore_errors=True)


class _Heartbeat(threading.Thread):
    """Writes the job's heartbeat and latest progress; sets ``stop`` when the job must stop."""

    def __init__(self, records: JobRecords, job: JobRecord, worker_id: str, interval_s: float) -> None:
        super().__init__(name=f"heartbeat-{job.kind}-{job.id}", daemon=True)
        self.records, self.job, self.worker_id, self.interval_s = records, job, worker_id, interval_s
        self.stop = threading.Event()
        self.done = threading.Event()
        self.progress: dict[str, Any] = {"stage": "starting"}
        self._dirty = True

    def update(self, progress: dict[str, Any]) -> None:
        merged = {**self.progress, **progress}
        best = progress.get("best_metric")
        if best is not None:
            merged["best_metric"] = best
        self.progress = merged
        self._dirty = True

    def beat(self) -> None:
        progress = _jsonable(self.progress) if self._dirty else None
        self._dirty = False
        if self.records.heartbeat(self.job.kind, self.job.id, self.worker_id, progress):
            self.stop.set()

    def run(self) -> None:
        while not self.done.wait(self.interval_s):
            try:
                self.beat()
            except Exception:  # noqa: BLE001 - a lost database connection must not kill the job
                log.exception("heartbeat of %s/%s failed", self.job.kind, self.job.id)


class Worker:
    """Claims and runs jobs from one database."""

    def __init__(
        self,
        records: JobRecords,
        *,
        store: GraphStore | None = None,
        worker_id: str | None = None,
        poll_s: float = 1.0,
        heartbeat_s: float = 5.0,
        stale_after_s: float = 60.0,
    ) -> None:
        self.records = records
        self.store = store
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.poll_s = poll_s
        self.heartbeat_s = heartbeat_s
        self.stale_after_s = stale_after_s
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one job ---------------------------------------------------------------------------

    def run_once(self) -> JobRecord | None:
        """Reap stale jobs, then claim and run one job. Returns it as it ended (``None``: idle)."""
        for job in self.records.reap_stale(self.stale_after_s):
            log.warning("%s job %s failed: %s", job.kind, job.id, job.failure_reason)
        job = self.records.claim(self.worker_id)
        if job is None:
            return None
        self._execute(job)
        return self.records.get_job(job.kind, job.id)

    def _execute(self, job: JobRecord) -> None:
        Path(job.output_dir).mkdir(parents=True, exist_ok=True)
        Path(job.log_path).parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(job.log_path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        job_log = logging.getLogger(f"seer.job.{job.kind}.{job.id}")
        loggers = [job_log, logging.getLogger("graphml")]
        for logger in loggers:
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
        heartbeat = _Heartbeat(self.records, job, self.worker_id, self.heartbeat_s)
        timeout_s = job.params.get("timeout_s")
        deadline = time.monotonic() + timeout_s if timeout_s else None
        last_logged: dict[str, Any] = {}

        def progress(fields: dict[str, Any]) -> None:
            heartbeat.update(fields)
            key = {k: fields.get(k) for k in ("stage", "epoch", "trial")}
            if key != last_logged:
                last_logged.clear()
                last_logged.update(key)
                job_log.info("progress %s", json.dumps(_jsonable(fields)))

        def timed_out() -> bool:
            return deadline is not None and time.monotonic() > deadline

        def should_stop() -> bool:
            return heartbeat.stop.is_set() or timed_out() or self._stopping.is_set()

        job_log.info("worker %s starts %s job %s", self.worker_id, job.kind, job.id)
        heartbeat.start()
        status, result, reason = COMPLETED, None, None
        try:
            result = _jsonable(run_job(job, JobContext(self.store, progress, should_stop)))
            heartbeat.update({"stage": "completed", "percent": 100})
        except Exception as exc:  # noqa: BLE001 - every failure ends the job, never the worker
            cancelled = type(exc).__name__ == "Cancelled" or isinstance(exc, ExportCancelled)
            if cancelled and timed_out():
                status, reason = FAILED, f"Timeout: the job ran longer than {timeout_s} s"
            elif cancelled and self._stopping.is_set() and not heartbeat.stop.is_set():
                status, reason = QUEUED, f"worker {self.worker_id} shut down during the job; queued again"
            elif cancelled:
                status = STOPPED
            else:
                status = FAILED
                field = getattr(exc, "field", None)
                reason = f"{type(exc).__name__}: {f'{field}: ' if field else ''}{exc}"
                job_log.error("job failed\n%s", traceback.format_exc())
            heartbeat.update({"stage": status.lower()})
        finally:
            heartbeat.done.set()
            heartbeat.join()
            for logger in loggers:
                logger.removeHandler(handler)
            handler.close()
        with open(job.log_path, "a", encoding="utf-8") as out:
            out.write(
                f"{time.strftime('%Y-%m-%d %H:%M:%S')} job ended: {status}{f' ({reason})' if reason else ''}\n"
            )
        if status == QUEUED and self.records.requeue(job.kind, job.id, self.worker_id, reason or ""):
            return
        if status == QUEUED:  # cancelled meanwhile
            status = STOPPED
        if status != COMPLETED:  # a cancel with clean=true: the artifacts go before the status says so
            current = self.records.get_job(job.kind, job.id)
            if current is not None and current.clean_requested:
                remove_artifacts(current)
        self.records.finish(
            job.kind, job.id, self.worker_id, status, result=result, failure_reason=reason,
            progress=_jsonable(heartbeat.progress),
        )  # fmt: skip
        final = self.records.get_job(job.kind, job.id)  # a clean request that came in meanwhile
        if final is not None and final.clean_requested and final.status != COMPLETED:
            remove_artifacts(final)

    # -- the loop --------------------------------------------------------------------------

    def run_forever(self) -> None:
        """Run jobs until :meth:`stop` is called. Database errors are logged and retried."""
        log.info("worker %s started", self.worker_id)
        while not self._stopping.is_set():
            try:
                ran = self.run_once()
            except Exception:  # noqa: BLE001 - e.g. the database restarting; try again later
                log.exception("worker %s: loop iteration failed", self.worker_id)
                ran = None
            if ran is None:
                self._stopping.wait(self.poll_s)

    def start(self) -> None:
        """Run the loop on a daemon thread (the embedded server's in-process worker)."""
        self._thread = threading.Thread(target=self.run_forever, name=f"worker-{self.worker_id}", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Ask the loop to stop; a running job is asked to stop too and goes back to the queue, so
        that the next worker (or this server after a restart) runs it again."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
