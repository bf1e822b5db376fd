"""Model inference over HTTP: ``POST .../endpoints/{id}/invocations`` with
``{"method": "classify" | "regress" | "predict_links" | "classify_edges" | "regress_edges" |
"describe", "kwargs": {...}}`` (the arguments of :class:`graphml.inference.Predictor`'s method;
``contexts`` as JSON objects; ``"reload": true`` to read the model's artifacts again first) calls that method of the endpoint's predictor and answers
``{"result": ...}``. Arguments are batches (lists of vertex ids or edge triples), so one request
answers a whole traversal step.

:func:`inference_router` is mounted by ``seer endpoint`` (prefix ``""``) and by the main server
(prefix ``/ml``, next to the management API); :class:`graphml.inference.remote.RemotePredictor`
is the client of both.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field

from server.api.neptune_errors import NeptuneError, NeptuneRoute, bad_request, not_found
from server.jobs.records import IN_SERVICE, JobRecords
from server.jobs.serving import EndpointUnavailable, InvocationError, Predictors


class Invocation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: str
    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)
    reload: bool = False
    """Read the model's artifacts again before answering (the caller's query disabled the cache)."""


def _predictors(request: Request) -> Predictors:
    return request.app.state.predictors


def inference_router() -> APIRouter:
    router = APIRouter(tags=["inference"], route_class=NeptuneRoute)

    @router.post("/endpoints/{endpoint_id}/invocations")
    def invoke(endpoint_id: str, body: Invocation, request: Request) -> dict[str, Any]:
        if body.reload:
            _predictors(request).forget(endpoint_id)
        try:
            result = _predictors(request).invoke(endpoint_id, body.method, body.args, body.kwargs)
        except EndpointUnavailable as exc:
            if exc.status is None:
                raise not_found(str(exc)) from exc
            raise NeptuneError(409, "PreconditionsFailedException", str(exc)) from exc
        except InvocationError as exc:
            raise bad_request(str(exc), exc.field) from exc
        return {"result": result}

    return router


def create_endpoint_app(records: JobRecords, predictors: Predictors) -> FastAPI:
    """The ``seer endpoint`` application: inference for every endpoint in service."""
    app = FastAPI(title="Seer inference endpoint")
    app.state.jobs, app.state.predictors = records, predictors
    app.include_router(inference_router())

    @app.get("/endpoints")
    def list_endpoints() -> dict[str, Any]:
        ids = records.list_endpoints(1024)
        return {"ids": [i for i in ids if (e := records.get_endpoint(i)) and e.status == IN_SERVICE]}

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
