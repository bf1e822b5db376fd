"""Gremlin sessions: a store connection with an open transaction that lives across requests.

gremlinpython's ``g.tx().begin()`` (and ``DriverRemoteConnection.create_session()``) sends every
request with ``args.session``; ``g.tx().commit()`` / ``rollback()`` is bytecode holding only the
source instruction ``tx``; ``close`` ends the session. Each session owns one worker thread
(:class:`~server.protocol.workers.Worker`), so its connection is only ever used from that thread
and its requests run in arrival order.
"""

from __future__ import annotations

import threading
import time

from server.protocol.metrics import GremlinMetrics
from server.protocol.workers import Worker
from server.store.interface import GraphConnection, GraphStore


class Session:
    """One session: its connection (opened on first use) and its thread."""

    def __init__(self, session_id: str, store: GraphStore) -> None:
        self.id = session_id
        self._store = store
        self._conn: GraphConnection | None = None
        self.worker = Worker(f"session-{session_id[:8]}")
        self.last_used = time.monotonic()

    def connection(self) -> GraphConnection:
        """The session's connection; call from the session's thread only."""
        if self._conn is None:
            self._conn = self._store.connect()
        return self._conn

    def touch(self) -> None:
        self.last_used = time.monotonic()

    def _close_conn(self) -> None:
        if self._conn is not None:
            try:
                self._conn.rollback()
            finally:
                self._conn.close()
                self._conn = None

    def close(self) -> None:
        """Roll back what was not committed and release the connection and the thread."""
        try:
            self.worker.call(self._close_conn).result(timeout=30)
        except Exception:  # noqa: BLE001 - a broken connection is dropped all the same
            pass
        self.worker.shutdown()


class SessionRegistry:
    """All open sessions by id; idle ones are closed when the registry is next used."""

    def __init__(self, store: GraphStore, idle_timeout_s: float, metrics: GremlinMetrics) -> None:
        self._store = store
        self._idle = idle_timeout_s
        self._metrics = metrics
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def get_or_open(self, session_id: str) -> Session:
        self._reap()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                session = self._sessions[session_id] = Session(session_id, self._store)
                self._metrics.sessions.set(len(self._sessions))
            session.touch()
            return session

    def close(self, session_id: str) -> bool:
        """Close a session; False when it did not exist."""
        with self._lock:
            session = self._sessions.pop(session_id, None)
            self._metrics.sessions.set(len(self._sessions))
        if session is None:
            return False
        session.close()
        return True

    def close_all(self) -> None:
        with self._lock:
            sessions = list(self._sessions.values())
            self._sessions.clear()
            self._metrics.sessions.set(0)
        for session in sessions:
            session.close()

    def __contains__(self, session_id: str) -> bool:
        return session_id in self._sessions

    def _reap(self) -> None:
        now = time.monotonic()
        with self._lock:
            idle = [s for s in self._sessions.values() if now - s.last_used > self._idle]
            for session in idle:
                del self._sessions[session.id]
            self._metrics.sessions.set(len(self._sessions))
        for session in idle:  # closing waits for the session's thread: not on the caller's
            threading.Thread(target=session.close, name=f"close-{session.id[:8]}", daemon=True).start()
