"""Serving published models: endpoint id -> loaded predictor, reloaded when the endpoint changes.

Used in-process by the embedded server (the Gremlin extension asks :meth:`Predictors.get`) and by
``seer endpoint``, which serves the same predictors over HTTP (:mod:`server.api.inference`).
A predictor is loaded once per (endpoint, artifacts folder, update time); an ``update=true`` on
the endpoint swaps in the new artifacts on the next request.
"""

from __future__ import annotations

import dataclasses
import threading
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


class Predictors:
    """Thread-safe cache of loaded predictors over the ``ml_endpoints`` table."""

    def __init__(self, records: JobRecords, models_dir: Path | None = None) -> None:
        """``models_dir``: where this process sees the ``<data_dir>/ml`` folder of the server that
        recorded the artifacts, when it is mounted elsewhere (a container's volume)."""
        self.records = records
        self.models_dir = models_dir
        self._lock = threading.Lock()
        self._loaded: dict[str, tuple[tuple[str, float], Any]] = {}

    def get(self, endpoint_id: str) -> Any:
        """The predictor of an endpoint that is in service (or updating, which still serves)."""
        endpoint = self.records.get_endpoint(endpoint_id)
        if endpoint is None:
            self._loaded.pop(endpoint_id, None)
            raise EndpointUnavailable(f"no ML endpoint with id {endpoint_id!r}", None)
        if endpoint.status not in (IN_SERVICE, UPDATING) or not endpoint.artifacts_dir:
            raise EndpointUnavailable(f"ML endpoint {endpoint_id!r} is {endpoint.status}", endpoint.status)
        version = (endpoint.artifacts_dir, endpoint.updated_at)
        with self._lock:
            cached = self._loaded.get(endpoint_id)
            if cached is not None and cached[0] == version:
                return cached[1]
            from graphml import api

            predictor = api.load_predictor(self._artifacts(endpoint.artifacts_dir))
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
