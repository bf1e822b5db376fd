"""Worker threads (server.protocol.workers): order, thread affinity, on-demand start, handing
results and errors back to an event loop."""

from __future__ import annotations

import asyncio
import threading

import pytest

from server.protocol.workers import Worker, WorkerPool, run_on


def test_a_worker_runs_its_jobs_in_order_on_one_thread() -> None:
    worker = Worker("w")
    seen: list[tuple[int, int]] = []
    try:
        futures = [worker.call(lambda i=i: seen.append((i, threading.get_ident()))) for i in range(50)]
        for f in futures:
            f.result(timeout=10)
        assert [i for i, _ in seen] == list(range(50))
        assert len({tid for _, tid in seen}) == 1
        assert seen[0][1] != threading.get_ident()
        assert worker.thread_count == 1
    finally:
        worker.shutdown()


def test_a_pool_starts_threads_as_concurrent_jobs_need_them() -> None:
    pool = WorkerPool("p", 3)
    assert pool.thread_count == 0  # nothing started before the first job
    try:
        assert pool.call(lambda: 5).result(timeout=10) == 5
        for i in range(20):  # one job at a time: the same thread takes each
            assert pool.call(lambda i=i: i).result(timeout=10) == i
        assert pool.thread_count == 1
        release = threading.Event()
        started = threading.Semaphore(0)

        def blocked() -> str:
            started.release()
            release.wait(10)
            return threading.current_thread().name

        futures = [pool.call(blocked) for _ in range(5)]
        for _ in range(3):
            assert started.acquire(timeout=10)  # three run at once, on three threads
        assert pool.thread_count == 3  # never more than the size
        release.set()
        names = {f.result(timeout=10) for f in futures}
        assert names <= {"p-0", "p-1", "p-2"} and len(names) >= 2
    finally:
        pool.shutdown()
    with pytest.raises(RuntimeError, match="shut down"):
        pool.call(lambda: 1)


def test_run_on_hands_results_and_errors_to_the_loop() -> None:
    pool = WorkerPool("r", 2)

    def fail() -> None:
        raise ValueError("boom")

    async def main() -> tuple[object, object]:
        loop = asyncio.get_running_loop()
        ok = await run_on(pool, loop, lambda a, b: (a, b, threading.get_ident()), 1, 2)
        with pytest.raises(ValueError, match="boom"):
            await run_on(pool, loop, fail)
        return ok, threading.get_ident()

    try:
        (a, b, worker_tid), loop_tid = asyncio.run(main())
        assert (a, b) == (1, 2) and worker_tid != loop_tid
    finally:
        pool.shutdown()


def test_a_cancelled_wait_drops_the_late_result() -> None:
    """The client went away (its task was cancelled) while the job ran: the result that comes
    later is dropped without error."""
    pool = WorkerPool("c", 1)
    release = threading.Event()
    ran = threading.Event()

    def job() -> int:
        release.wait(10)
        ran.set()
        return 1

    async def main() -> None:
        loop = asyncio.get_running_loop()
        future = run_on(pool, loop, job)
        future.cancel()
        release.set()
        assert await asyncio.to_thread(ran.wait, 10)
        await run_on(pool, loop, lambda: None)  # the late result was handed over before this one
        assert future.cancelled()

    try:
        asyncio.run(main())
    finally:
        pool.shutdown()


def test_shutdown_cancels_the_jobs_no_thread_started() -> None:
    worker = Worker("s")
    started, release = threading.Event(), threading.Event()

    def job() -> bool:
        started.set()
        return release.wait(10)

    try:
        running = worker.call(job)
        queued = worker.call(lambda: "never")
        assert started.wait(10)
    finally:
        worker.shutdown()
        release.set()
    assert running.result(timeout=10) is True  # the job already running finishes
    assert queued.cancelled()
