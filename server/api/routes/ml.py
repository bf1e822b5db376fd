"""``/ml/dataprocessing``, ``/ml/modeltraining``, ``/ml/modeltransform``, ``/ml/endpoints``: Neptune
ML's management API over Seer's job records (:mod:`server.jobs`).

Locations: a local path or a ``file://`` URI stands where Neptune takes an S3 URI (relative paths
are taken under the data directory); an omitted output location means a folder under
``<data_dir>/ml/<kind>/<id>``. An omitted or empty ``inputDataS3Location``, or one that holds only
a configuration file, means "export the live database first". Every job writes a log to
``<data_dir>/ml/logs/<kind>-<id>.log``, reported as ``cloudwatchLogUrl``.

Status: the top-level ``status`` uses Neptune's names (``InProgress`` for a queued job too, so
that polling clients keep waiting); the nested job objects carry Seer's exact state (``Queued``)
and every response has ``progress`` (stage, epoch, trial, best metric so far) for curl users.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from fastapi import APIRouter, Depends, FastAPI, Query, Request

from graphml.processing.layout import CONFIG_FILE, ENCODERS_FILE
from server.api.deps import authorize_by_method
from server.api.inference import inference_router
from server.api.ml_requests import (
    CreateEndpoint,
    StartDataProcessing,
    StartModelTraining,
    StartModelTransform,
)
from server.api.neptune_errors import NeptuneRoute, bad_request, not_found
from server.config import Settings
from server.jobs.export import TrainingConfigError
from server.jobs.records import (
    COMPLETED,
    FAILED,
    QUEUED,
    STOPPED,
    EndpointRecord,
    JobExists,
    JobRecord,
    JobRecords,
    create_tables,
    make_engine,
)
from server.jobs.runner import HPO_FILE, fixed_hyperparameters
from server.jobs.serving import Predictors
from server.jobs.validation import check_config, check_csv_columns, check_neptune_ml
from server.jobs.worker import Worker, remove_artifacts

router = APIRouter(
    prefix="/ml", tags=["ml"], route_class=NeptuneRoute, dependencies=[Depends(authorize_by_method)]
)

MaxItems = Query(default=10, ge=1, le=1024)


# -- wiring -----------------------------------------------------------------------------------


async def startup(app: FastAPI) -> None:
    """Open the job tables, and start the in-process worker unless ``seer worker`` runs them."""
    settings: Settings = getattr(app.state, "settings", None) or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    create_tables(engine)
    records = JobRecords(engine)
    app.state.jobs = records
    app.state.predictors = Predictors(records)
    app.state.ml_worker = None
    if settings.embedded_worker:
        worker = Worker(
            records,
            store=getattr(app.state, "store", None),
            heartbeat_s=settings.job_heartbeat_s,
            stale_after_s=settings.job_stale_after_s,
        )
        worker.start()
        app.state.ml_worker = worker


async def shutdown(app: FastAPI) -> None:
    worker = getattr(app.state, "ml_worker", None)
    if worker is not None:
        worker.stop()
    records = getattr(app.state, "jobs", None)
    if records is not None:
        records.engine.dispose()


def _records(request: Request) -> JobRecords:
    records: JobRecords = request.app.state.jobs
    records.reap_stale(_settings(request).job_stale_after_s)
    return records


def _settings(request: Request) -> Settings:
    return getattr(request.app.state, "settings", None) or Settings()


# -- locations --------------------------------------------------------------------------------


def _local_path(value: str, field: str, settings: Settings) -> Path:
    """A local path from a path or ``file://`` URI (S3 is not reachable from Seer)."""
    parsed = urlparse(value)
    if parsed.scheme == "file":
        path = Path(unquote(parsed.path))
    elif parsed.scheme in ("", None) or len(parsed.scheme) == 1:  # a Windows drive letter
        path = Path(value)
    else:
        raise bad_request(
            f"{parsed.scheme}:// locations are not supported; use a local path or file:// URI", field
        )
    if not path.is_absolute():
        path = settings.data_dir / path
    return path.resolve()


def _ml_dir(settings: Settings, *parts: str) -> Path:
    return (settings.data_dir / "ml").resolve().joinpath(*parts)


def _output(value: str | None, field: str, kind: str, id: str, settings: Settings) -> str:
    if value:
        return str(_local_path(value, field, settings))
    return str(_ml_dir(settings, kind, id))


def _log(settings: Settings, kind: str, id: str) -> str:
    return str(_ml_dir(settings, "logs", f"{kind}-{id}.log"))


def _job(records: JobRecords, kind: str, id: str, field: str | None = None) -> JobRecord:
    job = records.get_job(kind, id)
    if job is None:
        raise not_found(f"{f'{field}: ' if field else ''}no {kind} job with id {id!r}", field)
    return job


def _dependency(records: JobRecords, kind: str, id: str, field: str) -> JobRecord:
    """A job this one needs: it must exist and must not have failed or stopped."""
    job = _job(records, kind, id, field)
    if job.status in (FAILED, STOPPED):
        raise bad_request(f"{kind} job {id!r} is {job.status}; it has no output to use", field)
    return job


def _previous(records: JobRecords, kind: str, id: str, field: str) -> JobRecord:
    """The job an incremental one builds on (``previous...JobId``): it must exist and have
    completed, since its output (configuration, best hyper-parameters) is what gets reused."""
    job = _job(records, kind, id, field)
    if job.status != COMPLETED:
        raise bad_request(f"{kind} job {id!r} is {job.status}; only a Completed job can be reused", field)
    return job


def _create(records: JobRecords, kind: str, id: str, **kwargs: Any) -> JobRecord:
    try:
        return records.create_job(kind, id, **kwargs)
    except JobExists as exc:
        raise bad_request(str(exc), "id", "InvalidParameterException") from exc


def _started(job: JobRecord) -> dict[str, Any]:
    return {"id": job.id, "arn": _arn(job.kind, job.id), "creationTimeInMillis": int(job.created_at * 1000)}


def _arn(kind: str, id: str) -> str:
    return f"arn:seer:neptune-ml:local:{kind}/{id}"


# -- status documents -------------------------------------------------------------------------


def _public_status(status: str) -> str:
    return "InProgress" if status == QUEUED else status


def _resource(job: JobRecord, name: str | None = None) -> dict[str, Any]:
    doc = {
        "name": name or job.id,
        "arn": _arn(job.kind, job.id),
        "status": job.status,
        "outputLocation": Path(job.output_dir).as_uri(),
        "cloudwatchLogUrl": Path(job.log_path).as_uri(),
    }
    if job.failure_reason:
        doc["failureReason"] = job.failure_reason
    return doc


def _job_doc(job: JobRecord) -> dict[str, Any]:
    doc: dict[str, Any] = {"status": _public_status(job.status), "id": job.id}
    if job.kind == "dataprocessing":
        doc["processingJob"] = _resource(job)
    elif job.kind == "modeltraining":
        doc["hpoJob"] = _resource(job)
        if job.status == COMPLETED:
            doc["mlModels"] = [{"name": job.id, "arn": _arn("model", job.id)}]
    else:
        doc["remoteModelTransformJob"] = _resource(job)
        if job.status == COMPLETED:
            doc["models"] = [{"name": job.id, "arn": _arn("model", job.id)}]
    doc["progress"] = job.progress or {}
    if job.failure_reason:
        doc["failureReason"] = job.failure_reason
    if job.result is not None:
        doc["result"] = job.result
    doc["creationTimeInMillis"] = int(job.created_at * 1000)
    return doc


def _endpoint_doc(endpoint: EndpointRecord) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "name": endpoint.id,
        "arn": _arn("endpoint", endpoint.id),
        "status": endpoint.status,
    }
    if endpoint.artifacts_dir:
        resource["outputLocation"] = Path(endpoint.artifacts_dir).as_uri()
    if endpoint.failure_reason:
        resource["failureReason"] = endpoint.failure_reason
    doc: dict[str, Any] = {
        "status": endpoint.status,
        "id": endpoint.id,
        "endpoint": resource,
        "endpointConfig": {"name": f"{endpoint.id}-config", "arn": _arn("endpoint-config", endpoint.id)},
        "source": {"kind": endpoint.source_kind, "id": endpoint.source_id},
        "creationTimeInMillis": int(endpoint.created_at * 1000),
    }
    if endpoint.model_name:
        doc["modelName"] = endpoint.model_name
    return doc


def _cancel(records: JobRecords, kind: str, id: str, clean: bool) -> dict[str, Any]:
    _job(records, kind, id)
    job = records.request_cancel(kind, id, clean)
    assert job is not None  # noqa: S101 - checked above; jobs are never deleted by others
    if clean and job.status in (COMPLETED, FAILED, STOPPED):
        remove_artifacts(job)
    return {"status": job.status}


# -- /ml/dataprocessing -----------------------------------------------------------------------


def _read_config(folder: Path, name: str) -> dict[str, Any] | None:
    path = folder / name
    if not path.is_file():
        return None
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad_request(f"{path} is not valid JSON: {exc}", "configFileName") from exc
    if not isinstance(config, dict):
        raise bad_request(f"{path} must hold a JSON object", "configFileName")
    return config


def _previous_config(previous: JobRecord) -> dict[str, Any]:
    """The training-data configuration a completed processing job applied (it writes it to its
    output folder, with its fitted encoders, which the new job reuses too), for incremental
    processing (``previousDataProcessingJobId``)."""
    field = "previousDataProcessingJobId"
    folder = Path(previous.output_dir)
    config = _read_config(folder, CONFIG_FILE)
    if config is None or not (folder / ENCODERS_FILE).is_file():
        name = CONFIG_FILE if config is None else ENCODERS_FILE
        raise bad_request(f"processing job {previous.id!r} left no {name} (cleaned up?)", field)
    return config


@router.post("/dataprocessing")
def start_data_processing(body: StartDataProcessing, request: Request) -> dict[str, Any]:
    settings, records = _settings(request), _records(request)
    id = body.id or str(uuid.uuid4())
    kind = "dataprocessing"
    previous = None
    if body.previousDataProcessingJobId:
        previous = _previous(records, kind, body.previousDataProcessingJobId, "previousDataProcessingJobId")
    neptune_ml = (body.additionalParams or {}).get("neptune_ml")
    if body.additionalParams is not None and not isinstance(neptune_ml, dict):
        raise bad_request('expected {"neptune_ml": {"targets": [...], ...}}', "additionalParams")
    input_dir: str | None = None
    config: dict[str, Any] | None = None
    if body.inputDataS3Location:
        folder = _local_path(body.inputDataS3Location, "inputDataS3Location", settings)
        if not folder.is_dir():
            raise bad_request(f"{folder} is not a folder", "inputDataS3Location")
        config = _read_config(folder, body.configFileName)
        if any(folder.rglob("*.csv")):
            input_dir = str(folder)
        elif config is None:
            raise bad_request(
                f"{folder} holds no CSV files and no {body.configFileName}", "inputDataS3Location"
            )
        elif "graph" not in config and ("targets" in config or "features" in config):
            neptune_ml, config = config, None  # export-time form: applied to the exported files
    if neptune_ml is not None and input_dir is not None:
        raise bad_request("additionalParams applies when Seer exports the live database", "additionalParams")
    # Incremental processing of a graph that grew: with no configuration of its own, the request
    # applies the previous job's configuration and model type (Neptune reuses its feature setup).
    # Its fitted encoders and vertex positions too, so that the model trained on the previous
    # output applies to the new one (modeltransform with the old training job).
    model_type, config_field, reused_from = body.modelType, "configFileName", None
    previous_dir: str | None = None
    if previous is not None and config is None and neptune_ml is None:
        config = _previous_config(previous)
        config_field, reused_from = "previousDataProcessingJobId", previous.id
        previous_dir = previous.output_dir
        model_type = model_type or (previous.result or {}).get("model_type")
    try:
        if config is not None:
            check_config(config, config_field)
            if input_dir is not None:
                check_csv_columns(config, Path(input_dir), config_field)
        if neptune_ml is not None:
            where = "additionalParams.neptune_ml" if body.additionalParams else "configFileName"
            check_neptune_ml(request.app.state.store if input_dir is None else None, neptune_ml, where)
    except TrainingConfigError as exc:
        raise bad_request(str(exc), exc.field) from exc
    if input_dir is None and getattr(request.app.state, "store", None) is None:
        raise bad_request("this server has no live store to export from", "inputDataS3Location")
    params = {
        "request": body.model_dump(exclude_none=True),
        "input_dir": input_dir,
        "export_dir": None if input_dir else str(_ml_dir(settings, "exports", id)),
        "config": config,
        "neptune_ml": neptune_ml,
        "model_type": model_type,
        "reused_configuration_from": reused_from,
        "previous_dir": previous_dir,
        "timeout_s": body.processingTimeOutInSeconds,
    }
    job = _create(
        records,
        kind,
        id,
        params=params,
        output_dir=_output(body.processedDataS3Location, "processedDataS3Location", kind, id, settings),
        log_path=_log(settings, kind, id),
    )
    return _started(job)


# -- /ml/modeltraining ------------------------------------------------------------------------


def _warm_start(previous: JobRecord) -> dict[str, Any]:
    """What a warm-started training job (``previousModelTrainingJobId``) takes from the previous
    one: its model and its best trial's hyper-parameters (the first trial of the new job)."""
    best = previous.result or {}
    return {
        "job": previous.id,
        "model": best.get("model"),
        "hyperparameters": best.get("hyperparameters") or {},
    }


def _check_hyperparameters(
    body: StartModelTraining, processing: JobRecord, warm_start: dict[str, Any] | None
) -> None:
    """What the training job checks before its first trial, checked now: the ``overrides``
    (a 400 naming ``overrides.<key>``), a warm start's model (a 400 naming
    ``previousModelTrainingJobId``) and, when processing has finished, the ``fixed-param``
    entries of the ``model-HPO-configuration.json`` beside its output (the job reads that file
    when it starts, so one written later is checked then)."""
    from graphml.api import ConfigError
    from graphml.training.job import check_training_request

    # once processing has finished, the model type it settled on (it may have detected kge)
    model_type = (processing.result or {}).get("model_type") or processing.params.get("model_type")
    try:
        check_training_request(body.modelName, model_type, body.overrides, warm_start)
        fixed = fixed_hyperparameters(Path(processing.output_dir)) if processing.status == COMPLETED else {}
    except ConfigError as exc:
        raise bad_request(str(exc), exc.field) from exc
    try:
        check_training_request(body.modelName, model_type, fixed)
    except ConfigError as exc:
        raise bad_request(f"{exc} (a fixed-param entry)", HPO_FILE) from exc


@router.post("/modeltraining")
def start_model_training(body: StartModelTraining, request: Request) -> dict[str, Any]:
    settings, records = _settings(request), _records(request)
    id = body.id or str(uuid.uuid4())
    kind = "modeltraining"
    if body.customModelTrainingParameters is not None:
        raise bad_request("custom models are not supported by Seer", "customModelTrainingParameters")
    processing = _dependency(records, "dataprocessing", body.dataProcessingJobId, "dataProcessingJobId")
    warm_start = None
    if body.previousModelTrainingJobId:
        previous = _previous(records, kind, body.previousModelTrainingJobId, "previousModelTrainingJobId")
        warm_start = _warm_start(previous)
    _check_hyperparameters(body, processing, warm_start)
    if body.maxHPOParallelTrainingJobs > body.maxHPONumberOfTrainingJobs:
        parallel = body.maxHPONumberOfTrainingJobs
    else:
        parallel = body.maxHPOParallelTrainingJobs
    params = {
        "request": body.model_dump(exclude_none=True),
        "processed_dir": processing.output_dir,
        "model_name": body.modelName,
        "max_hpo_jobs": body.maxHPONumberOfTrainingJobs,
        "max_hpo_parallel": parallel,
        "overrides": body.overrides,
        "warm_start": warm_start,
        "timeout_s": body.trainingTimeOutInSeconds,
    }
    job = _create(
        records,
        kind,
        id,
        params=params,
        output_dir=_output(body.trainModelS3Location, "trainModelS3Location", kind, id, settings),
        log_path=_log(settings, kind, id),
        depends=("dataprocessing", processing.id),
    )
    return _started(job)


# -- /ml/modeltransform -----------------------------------------------------------------------


def _check_model_fits(processing: JobRecord, training: JobRecord) -> None:
    """When both jobs have finished, the processed graph's feature widths must be the trained
    model's (a grown graph processed afresh is not): a 400 naming ``dataProcessingJobId`` now,
    instead of a transform job that fails. Unfinished jobs are checked by the transform itself."""
    from graphml.inference.transform import IncompatibleGraph, check_feature_widths
    from graphml.training.artifacts import MODEL_CONFIG_FILE

    config_path = Path(training.output_dir) / MODEL_CONFIG_FILE
    dims = (processing.result or {}).get("feature_dims")
    finished = processing.status == COMPLETED and training.status == COMPLETED
    if not finished or dims is None or not config_path.is_file():
        return
    trained = json.loads(config_path.read_text()).get("feat_dims")
    if trained is None:  # a KGE model: no features
        return
    try:
        check_feature_widths(dims, trained)
    except IncompatibleGraph as exc:
        raise bad_request(str(exc), "dataProcessingJobId") from exc


@router.post("/modeltransform")
def start_model_transform(body: StartModelTransform, request: Request) -> dict[str, Any]:
    settings, records = _settings(request), _records(request)
    id = body.id or str(uuid.uuid4())
    kind = "modeltransform"
    if body.customModelTransformParameters is not None:
        raise bad_request("custom models are not supported by Seer", "customModelTransformParameters")
    training_id = body.mlModelTrainingJobId or body.trainingJobName
    if training_id is None:
        raise bad_request(
            "send mlModelTrainingJobId (and dataProcessingJobId) or trainingJobName", "mlModelTrainingJobId"
        )
    field = "mlModelTrainingJobId" if body.mlModelTrainingJobId else "trainingJobName"
    training = _dependency(records, "modeltraining", training_id, field)
    processing_id = body.dataProcessingJobId or training.params["request"]["dataProcessingJobId"]
    processing = _dependency(records, "dataprocessing", processing_id, "dataProcessingJobId")
    _check_model_fits(processing, training)
    params = {
        "request": body.model_dump(exclude_none=True),
        "processed_dir": processing.output_dir,
        "model_dir": training.output_dir,
    }
    job = _create(
        records,
        kind,
        id,
        params=params,
        output_dir=_output(
            body.modelTransformOutputS3Location, "modelTransformOutputS3Location", kind, id, settings
        ),
        log_path=_log(settings, kind, id),
        depends=("modeltraining", training.id),
    )
    return _started(job)


# -- jobs: status, list, cancel (the same for the three kinds) -----------------------------------


def _job_routes(kind: str) -> None:
    def get_job(id: str, request: Request) -> dict[str, Any]:
        return _job_doc(_job(_records(request), kind, id))

    def list_jobs(request: Request, maxItems: int = MaxItems) -> dict[str, Any]:
        return {"ids": _records(request).list_jobs(kind, maxItems)}

    def cancel_job(id: str, request: Request, clean: bool = False) -> dict[str, Any]:
        return _cancel(_records(request), kind, id, clean)

    router.add_api_route(f"/{kind}/{{id}}", get_job, methods=["GET"], name=f"get_{kind}")
    router.add_api_route(f"/{kind}", list_jobs, methods=["GET"], name=f"list_{kind}")
    router.add_api_route(f"/{kind}/{{id}}", cancel_job, methods=["DELETE"], name=f"cancel_{kind}")


for _kind in ("dataprocessing", "modeltraining", "modeltransform"):
    _job_routes(_kind)


# -- /ml/endpoints ----------------------------------------------------------------------------


@router.post("/endpoints")
def create_endpoint(body: CreateEndpoint, request: Request) -> dict[str, Any]:
    records = _records(request)
    if (body.mlModelTrainingJobId is None) == (body.mlModelTransformJobId is None):
        raise bad_request(
            "send exactly one of mlModelTrainingJobId and mlModelTransformJobId", "mlModelTrainingJobId"
        )
    if body.mlModelTrainingJobId:
        source = _dependency(records, "modeltraining", body.mlModelTrainingJobId, "mlModelTrainingJobId")
    else:
        source = _dependency(
            records, "modeltransform", body.mlModelTransformJobId or "", "mlModelTransformJobId"
        )
    id = body.id or f"seer-endpoint-{uuid.uuid4().hex[:12]}"
    if body.update and records.get_endpoint(id) is None:
        raise not_found(f"no ML endpoint with id {id!r} to update", "id")
    try:
        endpoint = records.put_endpoint(
            id,
            body.model_dump(exclude_none=True),
            (source.kind, source.id),
            body.modelName,
            update=body.update,
        )
    except JobExists as exc:
        raise bad_request(str(exc), "id", "InvalidParameterException") from exc
    request.app.state.predictors.forget(id)
    return {
        "id": endpoint.id,
        "arn": _arn("endpoint", id),
        "creationTimeInMillis": int(endpoint.created_at * 1000),
    }


@router.get("/endpoints/{id}")
def get_endpoint(id: str, request: Request) -> dict[str, Any]:
    endpoint = _records(request).get_endpoint(id)
    if endpoint is None:
        raise not_found(f"no ML endpoint with id {id!r}")
    return _endpoint_doc(endpoint)


@router.get("/endpoints")
def list_endpoints(request: Request, maxItems: int = MaxItems) -> dict[str, Any]:
    return {"ids": _records(request).list_endpoints(maxItems)}


@router.delete("/endpoints/{id}")
def delete_endpoint(id: str, request: Request, clean: bool = False) -> dict[str, Any]:
    records = _records(request)
    if not records.delete_endpoint(id):
        raise not_found(f"no ML endpoint with id {id!r}")
    request.app.state.predictors.forget(id)
    return {"status": "Deleted"}


# -- /ml/endpoints/{id}/invocations: in-process inference over HTTP ---------------------------------

router.include_router(inference_router())
