"""One backend + one mode = a session: the store, the executor (and the server, in driver mode)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from tests.conformance.runner import Executor, InProcessExecutor, ScenarioRunner
from tests.conftest import PG_URL


def _sqlite_url(tmp: Path) -> str:
    return f"sqlite:///{tmp / 'conformance.db'}"


BACKENDS = {
    "sqlite": _sqlite_url,
    "postgres": lambda tmp: PG_URL,
    "memory": lambda tmp: "memory://",
}
"""Backend name -> database URL (PostgreSQL: ``SEER_TEST_PG_URL``, as for the tests)."""


@contextlib.contextmanager
def open_session(backend: str, mode: str, tmp: Path, *, timeout_s: int = 20) -> Iterator[ScenarioRunner]:
    """A :class:`ScenarioRunner` for ``backend`` in ``mode``; stops the server and closes the
    store afterwards. The database is cleared before use (it holds test graphs only)."""
    from server.store import open_store

    url = BACKENDS[backend](tmp)
    store = open_store(url, migrate=True)
    executor: Executor | None = None
    try:
        with contextlib.ExitStack() as stack:
            if mode == "inprocess":
                executor = InProcessExecutor(store)
            else:
                if backend == "memory":
                    raise SystemExit("the memory backend lives in one process: use --mode inprocess")
                from tests.conformance.driver import DriverExecutor, seer_server

                data_dir = tmp / "data"
                data_dir.mkdir(exist_ok=True)
                ws_url = stack.enter_context(seer_server(url, data_dir, tmp / "server.log"))
                executor = DriverExecutor(ws_url, timeout_ms=max(1000, (timeout_s - 2) * 1000))
            runner = ScenarioRunner(store, executor, timeout_s=timeout_s)
            runner.graphs.clear()
            try:
                yield runner
            finally:
                executor.close()
    finally:
        store.dispose()
