"""Worker threads for the blocking part of a Gremlin request (the engine and the store).

Why not ``loop.run_in_executor``: every call there builds a ``concurrent.futures.Future``, chains
it to an asyncio future with two callbacks and hops through the executor's work item; a request
needs none of that. Here a job is a function, its arguments and a completion callback, put on a
``queue.SimpleQueue``; the thread runs it and calls the callback, which hands the outcome to the
event loop with one ``loop.call_soon_threadsafe`` (see :func:`run_on`).

- :class:`Worker` is one thread with its own queue: jobs run in submission order on that thread.
  A session owns one, so its store connection (and open transaction) is only ever touched from
  the thread that opened it, as SQLite and the SQL store require.
- :class:`WorkerPool` shares one queue among up to ``size`` threads, started on demand (an idle
  server holds no threads; a burst of N concurrent requests starts at most N).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
from collections.abc import Callable
from typing import Any

Done = Callable[[Any, BaseException | None], None]
"""Completion callback: ``(result, None)`` or ``(None, exception)``, called on the worker thread."""

_STOP = object()


def settle_future(
    future: concurrent.futures.Future[Any] | asyncio.Future[Any], result: Any, exc: BaseException | None
) -> None:
    """Give ``future`` (a thread or an asyncio future: same methods) a job's outcome; a job
    cancelled by shutdown before it ran cancels the future."""
    if exc is None:
        future.set_result(result)
    elif isinstance(exc, concurrent.futures.CancelledError):
        future.cancel()
    else:
        future.set_exception(exc)


class _Threads:
    """What both kinds share: a job queue drained by named daemon threads."""

    def __init__(self, name: str, size: int) -> None:
        self._name = name
        self._size = max(1, size)
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._closed = False

    def submit(self, fn: Callable[..., Any], args: tuple[Any, ...], done: Done) -> None:
        """Queue ``fn(*args)``; ``done`` gets its outcome on the worker thread."""
        with self._lock:
            if self._closed:
                raise RuntimeError(f"worker threads {self._name} are shut down")
            if self._idle <= 0 and len(self._threads) < self._size:
                self._start_thread()
            else:
                self._idle -= 1  # this job will wake one idle thread
        self._jobs.put((fn, args, done))

    def call(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future[Any]:
        """``fn(*args)`` on a worker; a future to wait on from any thread (not the event loop)."""
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self.submit(fn, args, lambda result, exc: settle_future(future, result, exc))
        return future

    def shutdown(self) -> None:
        """Cancel the jobs no thread has started, stop the threads once their running jobs
        are done; returns at once."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            count = len(self._threads)
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            job[2](None, concurrent.futures.CancelledError())
        for _ in range(count):
            self._jobs.put(_STOP)

    @property
    def thread_count(self) -> int:
        return len(self._threads)

    def _start_thread(self) -> None:
        index = len(self._threads)
        thread = threading.Thread(target=self._loop, name=f"{self._name}-{index}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _loop(self) -> None:
        jobs = self._jobs
        while True:
            job = jobs.get()
            if job is _STOP:
                return
            fn, args, done = job
            result: Any = None
            error: BaseException | None = None
            try:
                result = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for the job
                error = exc
            # Idle again before the outcome is handed over: the client's next request, sent
            # as soon as it has this answer, finds this thread instead of starting another.
            with self._lock:
                self._idle += 1
            done(result, error)


class Worker(_Threads):
    """One thread; jobs run in the order they were submitted."""

    def __init__(self, name: str) -> None:
        super().__init__(name, 1)


class WorkerPool(_Threads):
    """Up to ``size`` threads, started as concurrent jobs need them."""


def run_on(
    workers: _Threads, loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any
) -> asyncio.Future[Any]:
    """``fn(*args)`` on ``workers``; an asyncio future of ``loop`` that gets its outcome."""
    future: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, exc: BaseException | None) -> None:
        if not future.done():  # else: cancelled while the job ran (the client went away)
            settle_future(future, result, exc)

    def done(result: Any, exc: BaseException | None) -> None:
        try:
            loop.call_soon_threadsafe(settle, result, exc)
        except RuntimeError:  # the loop closed while the job ran (server shutdown)
            pass

    workers.submit(fn, args, done)
    return future
