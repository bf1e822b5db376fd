"""The worker loop against the real learning core: crashes, cancellation, a killed worker, and
several worker processes sharing one PostgreSQL database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from server.jobs.export import export_store
from server.jobs.records import JobRecords, create_tables, make_engine
from server.jobs.worker import Worker
from server.store.memory import MemoryStore
from tests.conftest import seer_command, seer_env
from tests.server.jobs.conftest import reset_pg
from tests.server.jobs.graphs import social_graph

NC_TARGETS = {"targets": [{"node": "person", "property": "team", "type": "classification"}]}


def _processing(records: JobRecords, tmp: Path, id: str, **params) -> None:
    records.create_job(
        "dataprocessing",
        id,
        {
            "request": {},
            "input_dir": None,
            "export_dir": str(tmp / "export" / id),
            "neptune_ml": NC_TARGETS,
            **params,
        },
        str(tmp / "processed" / id),
        str(tmp / "logs" / f"p-{id}.log"),
    )


def _training(
    records: JobRecords,
    tmp: Path,
    id: str,
    processed: str,
    epochs: int,
    depends=None,
    early_stop: bool = True,
) -> None:
    records.create_job(
        "modeltraining",
        id,
        {
            "request": {},
            "processed_dir": str(tmp / "processed" / processed),
            "max_hpo_jobs": 1,
            "max_hpo_parallel": 1,
            "overrides": {"num-epochs": epochs, "enable-early-stop": early_stop},
        },
        str(tmp / "models" / id),
        str(tmp / "logs" / f"t-{id}.log"),
        depends,
    )


@pytest.fixture
def setup(tmp_path):
    store = MemoryStore()
    social_graph(store, people=45)
    engine = make_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
    create_tables(engine)
    records = JobRecords(engine)
    yield records, store, tmp_path
    engine.dispose()


def _wait(records: JobRecords, kind: str, id: str, predicate, timeout_s: float = 60.0):
    deadline = time.monotonic() + timeout_s
    while True:
        job = records.get_job(kind, id)
        if predicate(job) or time.monotonic() > deadline:
            return job
        time.sleep(0.1)


def test_crash_inside_training_fails_the_job_and_the_worker_goes_on(setup) -> None:
    records, store, tmp = setup
    worker = Worker(records, store=store, heartbeat_s=0.2)
    garbage = tmp / "processed" / "garbage"
    garbage.mkdir(parents=True)
    (garbage / "graph.bin").write_bytes(b"not a graph")
    (garbage / "meta.json").write_text("{")
    _training(records, tmp, "broken", "garbage", epochs=2)
    _processing(records, tmp, "after")
    broken = worker.run_once()
    assert (broken.id, broken.status) == ("broken", "Failed")
    assert broken.failure_reason and broken.failure_reason.split(":")[0].isidentifier(), broken.failure_reason
    assert "Traceback" in Path(broken.log_path).read_text()
    after = worker.run_once()  # the same worker takes the next job
    assert (after.id, after.status) == ("after", "Completed"), after.failure_reason
    assert after.result["export"] == {"vertices": 51, "edges": 270}


def test_cancel_a_running_job_and_clean_its_artifacts(setup) -> None:
    records, store, tmp = setup
    worker = Worker(records, store=store, heartbeat_s=0.2, poll_s=0.1)
    _processing(records, tmp, "p")
    worker.run_once()
    # No early stopping: the job must still be running when the cancel arrives.
    _training(records, tmp, "long", "p", epochs=5000, early_stop=False)
    worker.start()
    try:
        running = _wait(records, "modeltraining", "long", lambda j: (j.progress or {}).get("epoch"), 90)
        assert running.status == "InProgress", running
        records.request_cancel("modeltraining", "long", clean=True)
        stopped = _wait(records, "modeltraining", "long", lambda j: j.status == "Stopped", timeout_s=30)
        assert stopped.status == "Stopped"
        assert not Path(stopped.output_dir).exists()
    finally:
        worker.stop()


def test_killed_worker_leaves_its_job_failed_after_the_heartbeat_timeout(tmp_path) -> None:
    """``seer worker`` is killed (SIGKILL) while it runs a job; the next worker loop fails it."""
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    records = JobRecords(make_engine(url))
    create_tables(records.engine)
    graph = MemoryStore()
    social_graph(graph, people=30)
    export_store(graph, tmp_path / "csv")
    _processing(records, tmp_path, "p", input_dir=str(tmp_path / "csv"), export_dir=None, neptune_ml=None)
    proc = subprocess.Popen(
        seer_command("worker", "--db", url, "--heartbeat", "0.3", "--poll", "0.1", "--worker-id", "doomed"),
        env=seer_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        running = _wait(records, "dataprocessing", "p", lambda j: j.status != "Queued", 60)
        assert running.status == "InProgress" and running.worker_id == "doomed", running
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert Worker(records, stale_after_s=3.0).run_once() is None  # heartbeat still fresh: nothing to reap
    assert records.get_job("dataprocessing", "p").status == "InProgress"
    time.sleep(3.5)
    Worker(records, stale_after_s=3.0).run_once()
    job = records.get_job("dataprocessing", "p")
    assert job.status == "Failed"
    assert job.failure_reason.startswith("WorkerLost: worker doomed stopped heartbeating")
    records.engine.dispose()


@pytest.mark.postgres
def test_two_worker_processes_on_postgres_never_take_the_same_job(pg_url: str, tmp_path) -> None:
    url = reset_pg(pg_url)
    engine = make_engine(url)
    create_tables(engine)
    records = JobRecords(engine)
    graph = MemoryStore()
    social_graph(graph, people=30)
    csv_dir = tmp_path / "csv"
    export_store(graph, csv_dir)
    ids = [f"j{i}" for i in range(6)]
    for id in ids:
        _processing(records, tmp_path, id, input_dir=str(csv_dir), export_dir=None, neptune_ml=None)
    workers = [
        subprocess.Popen(
            seer_command("worker", "--db", url, "--poll", "0.2", "--worker-id", name),
            env=seer_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name in ("alpha", "beta")
    ]
    try:
        for id in ids:
            _wait(records, "dataprocessing", id, lambda j: j.status in ("Completed", "Failed"), 120)
    finally:
        for proc in workers:
            proc.send_signal(signal.SIGTERM)
        for proc in workers:
            proc.wait(30)
    jobs = [records.get_job("dataprocessing", id) for id in ids]
    assert [j.status for j in jobs] == ["Completed"] * 6, [j.failure_reason for j in jobs]
    for job in jobs:
        starts = [
            line
            for line in Path(job.log_path).read_text().splitlines()
            if " starts dataprocessing job " in line
        ]
        assert len(starts) == 1, starts  # one worker ran it, once
        assert job.worker_id in ("alpha", "beta") and job.worker_id in starts[0]
        assert json.loads(json.dumps(job.result))  # a summary was recorded
    engine.dispose()
