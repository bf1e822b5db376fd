"""Starting and stopping Seer's services as local processes (the demo, the loopback stack test
and the benchmarks use it): each service is one ``seer`` sub-command with its environment."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port nobody listens on right now (loopback)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seer_argv(*args: str) -> list[str]:
    """Run the ``seer`` CLI of this interpreter's installation (or checkout on ``PYTHONPATH``)."""
    return [sys.executable, "-m", "server.cli.main", *args]


class ServiceError(RuntimeError):
    """A service did not start, or exited with an error; the message holds its log's tail."""


class Service:
    """One running ``seer`` sub-command; its output goes to ``log_path``."""

    def __init__(self, name: str, argv: Sequence[str], env: Mapping[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            list(argv), env=dict(env), stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise ServiceError(
                f"{self.name} exited with status {self.proc.returncode}; last lines of its log:\n"
                + self.log_tail()
            )

    def wait_http(self, url: str, timeout: float = 60.0) -> None:
        """Wait until ``url`` answers any HTTP status below 500."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            try:
                if httpx.get(url, timeout=2.0).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise ServiceError(
                    f"{self.name} did not answer {url} within {timeout:.0f}s:\n{self.log_tail()}"
                )
            time.sleep(0.2)

    def wait_exit(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self._log.close()

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the service's process group, then SIGKILL if it lingers."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=timeout)
        self._log.close()


@contextlib.contextmanager
def services() -> Iterator[list[Service]]:
    """A list to start services into; all of them are stopped (last first) on the way out."""
    started: list[Service] = []
    try:
        yield started
    finally:
        for service in reversed(started):
            service.stop()
