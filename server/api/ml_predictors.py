"""Where the Gremlin extension's ML steps find their models, in the server process.

``Neptune#ml.endpoint`` may name:

- an ML endpoint id (``/ml/endpoints``): in-process through the job layer's
  :class:`~server.jobs.serving.Predictors`, or over HTTP to ``seer endpoint`` when
  ``SEER_ENDPOINT_URL`` is set (the compose stack);
- a model-training job id (beyond Neptune): its artifacts are loaded in-process;
- an ``http(s)://host:port/endpoints/<id>`` URL: that endpoint of that ``seer endpoint``.

Answers are cached per name; ``reload=True`` (``disableInductiveInferenceMetadataCache``) drops
the cached model first.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from gremlin_ext.client import PredictorBackend
from gremlin_ext.errors import BadRequestException, InferenceFailure
from server.config import Settings


class ServerPredictors:
    """:class:`gremlin_ext.extension.PredictorSource` over the server's job records.

    ``state`` is the FastAPI ``app.state`` (set by ``create_app``); the ml router's startup puts
    ``jobs`` (JobRecords) and ``predictors`` (Predictors) there."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.state: Any = None
        self._lock = threading.Lock()
        self._jobs: dict[str, tuple[float | None, PredictorBackend]] = {}
        self._remote: dict[tuple[str, str], PredictorBackend] = {}

    def backend(self, endpoint: str, *, reload: bool = False) -> PredictorBackend:
        if endpoint.startswith(("http://", "https://")):
            base, _, endpoint_id = endpoint.rstrip("/").rpartition("/endpoints/")
            if not base or not endpoint_id or not urlparse(base).netloc:
                raise BadRequestException(
                    f"malformed endpoint URL {endpoint!r}: expected http://host:port/endpoints/<endpoint id>"
                )
            return self._remote_backend(base, endpoint_id, reload)
        if self.settings.endpoint_url:
            if self._is_training_job(endpoint):
                return self._job_backend(endpoint, reload)
            return self._remote_backend(self.settings.endpoint_url, endpoint, reload)
        return self._local_backend(endpoint, reload)

    # -- kinds of endpoint -------------------------------------------------------------------------

    def _records(self) -> Any:
        records = getattr(self.state, "jobs", None)
        if records is None:
            raise InferenceFailure("the ML job tables are not open in this server")
        return records

    def _is_training_job(self, name: str) -> bool:
        records = self._records()
        return records.get_endpoint(name) is None and records.get_job("modeltraining", name) is not None

    def _local_backend(self, endpoint: str, reload: bool) -> PredictorBackend:
        from server.jobs.serving import EndpointUnavailable

        predictors = self.state.predictors
        if reload:
            predictors.forget(endpoint)
        try:
            return PredictorBackend(predictors.get(endpoint))
        except EndpointUnavailable as exc:
            if exc.status is not None:
                raise BadRequestException(f"{exc} (wait until it is InService)") from exc
        if self._is_training_job(endpoint):
            return self._job_backend(endpoint, reload)
        raise BadRequestException(f"no ML endpoint or model training job with id {endpoint!r}")

    def _job_backend(self, job_id: str, reload: bool) -> PredictorBackend:
        from graphml import api
        from server.jobs.records import COMPLETED

        job = self._records().get_job("modeltraining", job_id)
        if job is None or job.status != COMPLETED:
            status = job.status if job else "missing"
            raise BadRequestException(f"model training job {job_id!r} is {status}; it has no model to serve")
        with self._lock:
            cached = self._jobs.get(job_id)
            if cached is not None and cached[0] == job.finished_at and not reload:
                return cached[1]
            backend = PredictorBackend(api.load_predictor(Path(job.output_dir)))
            self._jobs[job_id] = (job.finished_at, backend)
            return backend

    def _remote_backend(self, base_url: str, endpoint_id: str, reload: bool) -> PredictorBackend:
        """The endpoint served by another process; with ``reload`` its calls ask that process to
        read the model's artifacts again (the cache lives there, not here)."""
        from graphml.inference.remote import RemotePredictor

        key = (base_url, endpoint_id)
        with self._lock:
            backend = self._remote.get(key)
            if backend is None:
                backend = PredictorBackend(RemotePredictor(base_url, endpoint_id), remote=True)
                self._remote[key] = backend
        if reload:
            return PredictorBackend(backend.predictor.reloading(), remote=True)
        return backend


def ml_extensions(settings: Settings) -> tuple[list[Any], ServerPredictors]:
    """The engine extensions of a server process (``Neptune#ml.*``) and their predictor source,
    whose ``state`` the app factory sets to ``app.state``."""
    from gremlin_ext.extension import NeptuneMLExtension

    source = ServerPredictors(settings)
    return [NeptuneMLExtension(source, default_endpoint=settings.ml_endpoint)], source
