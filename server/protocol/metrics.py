"""Prometheus metrics of the Gremlin doors, one registry per app (tests build many apps)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class GremlinMetrics:
    """Requests by op/transport/status, latency, in-flight requests, open connections."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "seer_gremlin_requests",
            "Gremlin requests answered",
            ["op", "transport", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "seer_gremlin_request_seconds",
            "Time from request to final response",
            ["op"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.in_flight = Gauge("seer_gremlin_in_flight", "Requests being evaluated", registry=self.registry)
        self.connections = Gauge(
            "seer_gremlin_websocket_connections", "Open WebSocket connections", registry=self.registry
        )
        self.sessions = Gauge("seer_gremlin_sessions", "Open sessions", registry=self.registry)
        # ``.labels(...)`` validates and joins its arguments and takes a lock on every call; a
        # server sees a handful of (op, transport, code) triples, so their series are kept here.
        self._counts: dict[tuple[str, str, int], Any] = {}
        self._latencies: dict[str, Any] = {}

    def observe(self, op: str, transport: str, code: int, seconds: float) -> None:
        key = (op, transport, code)
        count = self._counts.get(key)
        if count is None:
            count = self._counts[key] = self.requests.labels(op or "?", transport, str(code))
        latency = self._latencies.get(op)
        if latency is None:
            latency = self._latencies[op] = self.latency.labels(op or "?")
        count.inc()
        latency.observe(seconds)

    def exposition(self) -> bytes:
        """The Prometheus text format."""
        return generate_latest(self.registry)
