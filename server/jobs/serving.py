"""Serving published models: endpoint id -> loaded predictor, reloaded when the endpoint changes.

Used in-process by the embedded server (the Gremlin extension asks :meth:`Predictors.get`) and by
``seer endpoint``, which serves the same predictors over HTTP (:mod:`server.api.inference`).
A predictor is loaded once per (endpoint, artifacts folder, update time); an ``update=true`` on
the endpoint swaps in the new artifacts on the next request.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from server.jobs.records import IN_SERVICE, UPDATING, JobRecords

# The predictor methods that may be called over HTTP (graphml.inference.Predictor's public API).
PREDICTOR_METHODS = (
    "classify",
    "regress",
    "predict_links",
    "classify_edges",
    "regress_edges",
    "describe",
)


class EndpointUnavailable(Exception):
    """The endpoint does not exist or is not in service. ``status`` is its status (or ``None``)."""

    def __init__(self, message: str, status: str | None) -> None:
        super().__init__(message)
        self.status = status


class InvocationError(Exception):
    """A bad inference request (unknown method, arguments the predictor rejects)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def jsonable(value: Any) -> Any:
    """Predictor results as JSON values: tuples and arrays become lists, numpy scalars numbers,
    dataclasses dicts."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    return value


RECHECK_S = 1.0
"""How long a served endpoint's record is trusted before :meth:`Predictors.get` reads it again."""


class Predictors:
    """Thread-safe cache of loaded predictors over the ``ml_endpoints`` table.

    A Gremlin query with ``Neptune#ml.endpoint`` asks :meth:`get` every time; reading the endpoint
    record each time cost about a tenth of a one-airport prediction query. So an endpoint that was
    found serving is trusted until this process writes the job tables (``JobRecords.writes``:
    REST calls, the in-process worker) or for ``recheck_s`` seconds at most: changes made by
    other processes (a ``seer worker`` finishing an update, another server deleting the
    endpoint) apply within ``recheck_s``.
    """

    def __init__(
        self,
        records: JobRecords,
        models_dir: Path | None = None,
        *,
        recheck_s: float = RECHECK_S,
        load: Callable[[Path], Any] | None = None,
    ) -> None:
        """``models_dir``: where this process sees the ``<data_dir>/ml`` folder of the server that
        recorded the artifacts, when it is mounted elsewhere (a container's volume). ``load``:
        artifacts folder -> predictor (default :func:`graphml.api.load_predictor`)."""
        self.records = records
        self.models_dir = models_dir
        self.recheck_s = recheck_s
        self._load = load
        self._lock = threading.Lock()
        self._loaded: dict[str, tuple[tuple[str, float], Any]] = {}
        self._checked: dict[str, tuple[float, int]] = {}  # endpoint id -> (when, records.writes) last read

    def get(self, endpoint_id: str) -> Any:
        """The predictor of an endpoint that is in service (or updating, which still serves)."""
        with self._lock:
            cached, checked = self._loaded.get(endpoint_id), self._checked.get(endpoint_id)
        if (
            cached is not None
            and checked is not None
            and checked[1] == self.records.writes
            and time.monotonic() - checked[0] < self.recheck_s
        ):
            return cached[1]
        checked = (time.monotonic(), self.records.writes)  # before the read: a write meanwhile rechecks
        endpoint = self.records.get_endpoint(endpoint_id)
        if endpoint is None:
            self._loaded.pop(endpoint_id, None)
            raise EndpointUnavailable(f"no ML endpoint with id {endpoint_id!r}", None)
        if endpoint.status not in (IN_SERVICE, UPDATING) or not endpoint.artifacts_dir:
            raise EndpointUnavailable(f"ML endpoint {endpoint_id!r} is {endpoint.status}", endpoint.status)
        version = (endpoint.artifacts_dir, endpoint.updated_at)
        with self._lock:
            self._checked[endpoint_id] = checked
            cached = self._loaded.get(endpoint_id)
            if cached is not None and cached[0] == version:
                return cached[1]
            if self._load is None:
                from graphml import api

                self._load = api.load_predictor
            predictor = self._load(self._artifacts(endpoint.artifacts_dir))
            self._loaded[endpoint_id] = (version, predictor)
            return predictor

    def _artifacts(self, recorded: str) -> Path:
        path = Path(recorded)
        if path.exists() or self.models_dir is None:
            return path
        return self.models_dir / path.parent.name / path.name  # <data_dir>/ml/<kind>/<id>

    def invoke(self, endpoint_id: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """Call ``method`` of an endpoint's predictor; the result as JSON-ready values.

        Raises :class:`EndpointUnavailable`, :class:`InvocationError`."""
        if method not in PREDICTOR_METHODS:
            raise InvocationError(
                f"unknown method {method!r} (one of {', '.join(PREDICTOR_METHODS)})", "method"
            )
        predictor = self.get(endpoint_id)
        function = getattr(predictor, method, None)
        if function is None:
            raise InvocationError(
                f"the model of endpoint {endpoint_id!r} does not support {method}", "method"
            )
        from graphml.api import GraphMLError
        from graphml.inference.remote import context_from_json

        try:
            if kwargs.get("contexts") is not None:
                kwargs = {**kwargs, "contexts": [context_from_json(c) for c in kwargs["contexts"]]}
            return jsonable(function(*args, **kwargs))
        except (GraphMLError, TypeError, ValueError, KeyError, LookupError) as exc:
            raise InvocationError(f"{method}: {exc}", "kwargs") from exc

    def forget(self, endpoint_id: str) -> None:
        with self._lock:
            self._loaded.pop(endpoint_id, None)


def predictor_for(endpoint_id: str, predictors: Predictors, endpoint_url: str | None) -> Any:
    """What the Gremlin extension calls for ``Neptune#ml.endpoint``: the in-process predictor
    (embedded default) or, when ``endpoint_url`` (``Settings.endpoint_url``) names a
    ``seer endpoint`` server, a :class:`~graphml.inference.remote.RemotePredictor` for it."""
    if endpoint_url:
        from graphml.inference.remote import RemotePredictor

        return RemotePredictor(endpoint_url, endpoint_id)
    return predictors.get(endpoint_id)
