"""``/loader``: Neptune's bulk-load API over :func:`server.store.loaders.load`.

``POST /loader`` with ``{"source": <path or file:// URI>, "format": "csv"|"graphson"|"graphml",
"failOnError": true|false, ...}`` answers ``{"status": "200 OK", "payload": {"loadId": ...}}`` and
loads on a background thread; ``GET /loader/{loadId}`` answers Neptune's status document
(``LOAD_IN_PROGRESS`` / ``LOAD_COMPLETED`` / ``LOAD_FAILED`` with counts and errors) and
``GET /loader`` lists load ids. Load records live in the database, so a status survives a
restart; a load that was running when its server stopped is reported failed.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlparse

from fastapi import APIRouter, FastAPI, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from server.api.neptune_errors import NeptuneError, NeptuneRoute, bad_request
from server.config import Settings
from server.jobs.records import JobRecords

router = APIRouter(tags=["loader"], route_class=NeptuneRoute)

FORMATS = {"csv": "csv", "graphson": "graphson", "graphml": "graphml", "auto": "auto"}
PROGRESS_EVERY_S = 1.0


class StartLoad(BaseModel):
    """Neptune's loader request (boto3 sends ``s3BucketRegion`` as ``region``). Booleans may be
    sent as JSON booleans or as Neptune's ``"TRUE"``/``"FALSE"`` strings."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1)
    format: str
    region: str | None = None
    iamRoleArn: str | None = None
    mode: Literal["NEW", "RESUME", "AUTO"] | None = None
    failOnError: bool | Literal["TRUE", "FALSE"] = True
    parallelism: Literal["LOW", "MEDIUM", "HIGH", "OVERSUBSCRIBE"] | None = None
    parserConfiguration: dict[str, Any] | None = None
    updateSingleCardinalityProperties: bool | Literal["TRUE", "FALSE"] | None = None
    queueRequest: bool | Literal["TRUE", "FALSE"] | None = None
    dependencies: list[str] | None = None
    userProvidedEdgeIds: bool | Literal["TRUE", "FALSE"] | None = None
    edgeOnlyLoad: bool | Literal["TRUE", "FALSE"] | None = None


def _flag(value: bool | str | None) -> bool:
    return value is True or value == "TRUE"


def _records(request: Request) -> JobRecords:
    return request.app.state.jobs


def _source_path(source: str, settings: Settings) -> Path:
    parsed = urlparse(source)
    if parsed.scheme == "file":
        path = Path(unquote(parsed.path))
    elif parsed.scheme == "":
        path = Path(source)
        if not path.is_absolute():
            path = settings.data_dir / path
    else:
        raise bad_request(
            f"{parsed.scheme}:// sources are not supported; use a local path or file:// URI", "source"
        )
    if not path.exists():
        raise bad_request(f"{path} does not exist", "source")
    return path.resolve()


async def startup(app: FastAPI) -> None:
    """Loads that were running when the previous server stopped will never finish: fail them.
    (The job tables are opened by :mod:`server.api.routes.ml`, listed first.)"""
    records: JobRecords | None = getattr(app.state, "jobs", None)
    if records is not None:
        records.fail_unfinished_loads("the server stopped during the load")


def _run(records: JobRecords, store: Any, load_id: str, path: Path, fmt: str, fail_on_error: bool) -> None:
    """The load itself, on its own thread; its counts reach the record about once a second."""
    from server.store.loaders import load

    last = [0.0]

    def progress(report: Any) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            records.update_load(load_id, report.to_neptune(load_id))

    try:
        report = load(store, [path], format=fmt, fail_on_error=fail_on_error, progress=progress)
        document = report.to_neptune(load_id)
        status = report.status
    except Exception as exc:  # noqa: BLE001 - a failed load is reported, never raised into the server
        errors = getattr(exc, "errors", None) or [str(exc)]
        status = "LOAD_FAILED"
        document = {
            "overallStatus": {"fullUri": str(path), "status": status, "totalRecords": 0},
            "errors": {"errorLogs": [{"errorCode": type(exc).__name__, "errorMessage": e} for e in errors]},
        }
    records.finish_load(load_id, status, document)


@router.post("/loader")
def start_load(body: StartLoad, request: Request) -> dict[str, Any]:
    settings: Settings = getattr(request.app.state, "settings", None) or Settings()
    fmt = FORMATS.get(body.format.lower())
    if fmt is None:
        raise bad_request(f"format {body.format!r} is not supported (csv, graphson, graphml, auto)", "format")
    path = _source_path(body.source, settings)
    store = getattr(request.app.state, "store", None)
    if store is None:
        raise NeptuneError(503, "InternalFailureException", "this server has no store to load into")
    load_id = str(uuid.uuid4())
    records = _records(request)
    records.create_load(load_id, body.model_dump(exclude_none=True))
    fail_on_error = _flag(body.failOnError)
    threading.Thread(
        target=_run,
        args=(records, store, load_id, path, fmt, fail_on_error),
        name=f"load-{load_id}",
        daemon=True,
    ).start()
    return {"status": "200 OK", "payload": {"loadId": load_id}}


@router.get("/loader/{load_id}")
def get_load(
    load_id: str,
    request: Request,
    details: bool = False,
    errors: bool = False,
    page: int = 1,
    errorsPerPage: int = 10,
) -> dict[str, Any]:
    record = _records(request).get_load(load_id)
    if record is None:
        raise NeptuneError(404, "LoadNotFoundException", f"no load with id {load_id!r}")
    if record.report is None:
        payload: dict[str, Any] = {
            "overallStatus": {
                "fullUri": record.params.get("source"),
                "status": record.status,
                "totalRecords": 0,
            }
        }
    else:
        payload = dict(record.report)
        if not errors:
            payload.pop("errors", None)
    return {"status": "200 OK", "payload": payload}


@router.get("/loader")
def list_loads(request: Request, limit: int = Query(default=100, ge=1, le=100)) -> dict[str, Any]:
    return {"status": "200 OK", "payload": {"loadIds": _records(request).list_loads(limit)}}
