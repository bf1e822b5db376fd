"""``seer serve`` as a real child process, for tests that kill it (``kill -9``) and restart it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from server.store import open_store
from server.store.sql import migrate
from tests.conftest import seer_command, seer_env
from tests.server.protocol.serving import free_port


class ServerProcess:
    """One ``seer serve`` process on a free loopback port, on the given database."""

    def __init__(self, db_url: str, data_dir: Path, *, extra_env: dict[str, str] | None = None) -> None:
        self.db_url = db_url
        self.data_dir = data_dir
        self.port = free_port()
        self.log_path = data_dir / f"serve-{self.port}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            seer_command("serve", "--db", db_url, "--port", str(self.port), "--data-dir", str(data_dir)),
            env=seer_env(**(extra_env or {})),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready()

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gremlin"

    def _wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"seer serve exited early:\n{self.log_path.read_text()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.http}/status", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"seer serve did not answer within {timeout} s:\n{self.log_path.read_text()}")

    def kill(self) -> None:
        """``kill -9`` the whole process group: no shutdown hook, no flush, no goodbye."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


@contextlib.contextmanager
def running_server(db_url: str, data_dir: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(db_url, data_dir)
    try:
        yield server
    finally:
        server.stop()


def reset_graph(db_url: str) -> None:
    """Bring a PostgreSQL test database to the newest schema and empty its graph (SQLite tests
    use a new file)."""
    migrate(db_url)
    store = open_store(db_url)
    try:
        with store.connect() as conn:
            conn.clear()
            conn.commit()
    finally:
        store.dispose()
