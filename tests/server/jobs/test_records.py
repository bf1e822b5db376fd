"""Job records: claiming, dependencies, cancellation, stale workers — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest

from server.jobs.records import JobRecords, make_engine


def _queue(records: JobRecords, kind: str, id: str, tmp_path, depends=None):
    return records.create_job(
        kind, id, {"request": {}}, str(tmp_path / kind / id), str(tmp_path / "logs" / f"{id}.log"), depends
    )


def test_claim_takes_oldest_job_once(records: JobRecords, tmp_path) -> None:
    _queue(records, "dataprocessing", "a", tmp_path)
    _queue(records, "dataprocessing", "b", tmp_path)
    first = records.claim("w1")
    second = records.claim("w2")
    assert (first.id, first.status, first.worker_id) == ("a", "InProgress", "w1")
    assert (second.id, second.worker_id) == ("b", "w2")
    assert records.claim("w3") is None


def test_duplicate_id_is_refused_per_kind(records: JobRecords, tmp_path) -> None:
    from server.jobs.records import JobExists

    _queue(records, "dataprocessing", "same", tmp_path)
    _queue(records, "modeltraining", "same", tmp_path)  # another resource kind: its own namespace
    with pytest.raises(JobExists, match="same"):
        _queue(records, "dataprocessing", "same", tmp_path)


def test_job_waits_for_its_dependency(records: JobRecords, tmp_path) -> None:
    _queue(records, "dataprocessing", "p", tmp_path)
    _queue(records, "modeltraining", "t", tmp_path, depends=("dataprocessing", "p"))
    assert records.claim("w").id == "p"
    assert records.claim("w") is None  # training waits while processing runs
    records.finish("dataprocessing", "p", "w", "Completed", result={"ok": 1})
    claimed = records.claim("w")
    assert (claimed.kind, claimed.id) == ("modeltraining", "t")


def test_failed_dependency_fails_the_waiting_job(records: JobRecords, tmp_path) -> None:
    _queue(records, "dataprocessing", "p", tmp_path)
    _queue(records, "modeltraining", "t", tmp_path, depends=("dataprocessing", "p"))
    records.claim("w")
    records.finish("dataprocessing", "p", "w", "Failed", failure_reason="ValueError: boom")
    reaped = records.reap_stale(60)
    assert [(j.kind, j.id) for j in reaped] == [("modeltraining", "t")]
    job = records.get_job("modeltraining", "t")
    assert job.status == "Failed"
    assert "dataprocessing job p is Failed" in job.failure_reason


def test_cancel_queued_and_running(records: JobRecords, tmp_path) -> None:
    _queue(records, "dataprocessing", "run", tmp_path)
    _queue(records, "dataprocessing", "wait", tmp_path)
    records.claim("w")
    assert records.request_cancel("dataprocessing", "wait", clean=False).status == "Stopped"
    running = records.request_cancel("dataprocessing", "run", clean=True)
    assert (running.status, running.cancel_requested, running.clean_requested) == ("Stopping", True, True)
    assert records.heartbeat("dataprocessing", "run", "w", {"stage": "train"}) is True  # told to stop
    assert records.finish("dataprocessing", "run", "w", "Stopped")
    assert records.get_job("dataprocessing", "run").status == "Stopped"


def test_stale_worker_fails_its_job(records: JobRecords, tmp_path) -> None:
    _queue(records, "modeltraining", "t", tmp_path)
    records.claim("ghost")
    assert records.reap_stale(60) == []  # fresh heartbeat
    time.sleep(0.3)
    reaped = records.reap_stale(0.2)
    assert [j.id for j in reaped] == ["t"]
    job = records.get_job("modeltraining", "t")
    assert job.status == "Failed"
    assert job.failure_reason.startswith("WorkerLost: worker ghost stopped heartbeating")
    # the dead worker, should it come back, can no longer close the job
    assert records.finish("modeltraining", "t", "ghost", "Completed") is False
    assert records.heartbeat("modeltraining", "t", "ghost", None) is True


def test_endpoint_turns_in_service_when_its_training_completes(records: JobRecords, tmp_path) -> None:
    _queue(records, "modeltraining", "t", tmp_path)
    endpoint = records.put_endpoint("ep", {}, ("modeltraining", "t"), "rgcn", update=False)
    assert endpoint.status == "Creating"
    records.claim("w")
    records.finish("modeltraining", "t", "w", "Completed")
    endpoint = records.get_endpoint("ep")
    assert (endpoint.status, endpoint.artifacts_dir) == ("InService", str(tmp_path / "modeltraining" / "t"))


@pytest.mark.postgres
def test_concurrent_claimers_on_postgres_never_share_a_job(pg_url: str, tmp_path) -> None:
    """Four claimers with their own connection pools race over 60 jobs (SKIP LOCKED path)."""
    from tests.server.jobs.conftest import reset_pg

    pg_url = reset_pg(pg_url)
    setup = make_engine(pg_url)
    from server.jobs.records import create_tables

    create_tables(setup)
    seed = JobRecords(setup)
    for i in range(60):
        _queue(seed, "dataprocessing", f"j{i:02d}", tmp_path)
    claims: dict[str, list[str]] = {}
    lock = threading.Lock()

    def claimer(name: str) -> None:
        own = JobRecords(make_engine(pg_url))
        while (job := own.claim(name)) is not None:
            with lock:
                claims.setdefault(job.id, []).append(name)
        own.engine.dispose()

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claims) == [f"j{i:02d}" for i in range(60)]
    assert all(len(who) == 1 for who in claims.values()), {k: v for k, v in claims.items() if len(v) > 1}
    assert len({who[0] for who in claims.values()}) > 1  # the work really was shared
    setup.dispose()


def test_requeue_gives_the_job_to_the_next_worker(records: JobRecords, tmp_path) -> None:
    _queue(records, "modeltraining", "t", tmp_path)
    records.claim("leaving")
    assert records.requeue("modeltraining", "t", "leaving", "worker leaving shut down") is True
    job = records.get_job("modeltraining", "t")
    assert (job.status, job.worker_id, job.progress["stage"]) == ("Queued", None, "queued")
    assert records.claim("next").worker_id == "next"
    records.request_cancel("modeltraining", "t", clean=False)
    assert records.requeue("modeltraining", "t", "next", "x") is False  # a cancelled job is not requeued


def test_endpoint_update_keeps_serving_until_the_new_model_is_ready(records: JobRecords, tmp_path) -> None:
    _queue(records, "modeltraining", "old", tmp_path)
    records.claim("w")
    records.finish("modeltraining", "old", "w", "Completed")
    assert records.put_endpoint("ep", {}, ("modeltraining", "old"), None, update=False).status == "InService"
    _queue(records, "modeltraining", "new", tmp_path)
    updating = records.put_endpoint("ep", {}, ("modeltraining", "new"), None, update=True)
    assert (updating.status, updating.artifacts_dir) == ("Updating", str(tmp_path / "modeltraining" / "old"))
    records.claim("w")
    records.finish("modeltraining", "new", "w", "Completed")
    assert records.get_endpoint("ep").artifacts_dir == str(tmp_path / "modeltraining" / "new")
    assert records.get_endpoint("ep").status == "InService"
    _queue(records, "modeltraining", "bad", tmp_path)
    records.put_endpoint("ep", {}, ("modeltraining", "bad"), None, update=True)
    records.claim("w")
    records.finish("modeltraining", "bad", "w", "Failed", failure_reason="ValueError: x")
    kept = records.get_endpoint("ep")
    assert (kept.status, kept.artifacts_dir) == ("InService", str(tmp_path / "modeltraining" / "new"))
    assert "modeltraining job bad is Failed" in kept.failure_reason
