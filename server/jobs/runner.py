"""What one job of each kind does. The REST layer resolves every location when the job is created
(``params`` holds plain local paths), so a job runs the same in any worker process.

``params`` by kind (besides ``request``, the body as the client sent it):

- ``dataprocessing``: ``input_dir`` (``None``: export the live store to ``export_dir`` first),
  ``config`` (a training-data configuration, or ``None``), ``neptune_ml`` (export-time targets and
  features, turned into a configuration for the exported files), ``model_type``,
  ``reused_configuration_from`` (the id of the previous processing job whose configuration
  ``config`` is, for incremental processing; recorded in the result), ``previous_dir`` (that
  job's output folder: its fitted encoders and vertex positions are reused, so a model trained
  on its output applies to this job's).
- ``modeltraining``: ``processed_dir``, ``model_name``, ``max_hpo_jobs``, ``max_hpo_parallel``,
  ``overrides`` (on top of the ``fixed-param`` entries of a ``model-HPO-configuration.json`` in
  the processed folder, Neptune's way of fixing hyper-parameters from an SDK), ``warm_start``
  (``{"job", "model", "hyperparameters"}`` of a previous training job's best trial; the result
  records ``warm_started_from``).
- ``modeltransform``: ``processed_dir``, ``model_dir``.

Every kind may carry ``timeout_s`` (Neptune's ``...TimeOutInSeconds``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphml.processing.layout import CONFIG_FILE
from server.jobs.export import export_store, training_config
from server.jobs.records import JobRecord
from server.store.interface import GraphStore

ProgressFn = Callable[[dict[str, Any]], None]


class JobSetupError(Exception):
    """The job cannot run in this process (e.g. an export without a store to read)."""


@dataclass
class JobContext:
    """What a running job may use: the live store (for exports), progress and stop callbacks."""

    store: GraphStore | None
    progress: ProgressFn
    should_stop: Callable[[], bool]


def run_job(job: JobRecord, ctx: JobContext) -> dict[str, Any]:
    """Run ``job`` to the end and return its result summary (stored in the job record)."""
    runners = {"dataprocessing": _processing, "modeltraining": _training, "modeltransform": _transform}
    return runners[job.kind](job, ctx)


def _processing(job: JobRecord, ctx: JobContext) -> dict[str, Any]:
    from graphml import api

    params = job.params
    config = params.get("config")
    input_dir = params.get("input_dir")
    exported: dict[str, Any] | None = None
    if input_dir is None:
        if ctx.store is None:
            raise JobSetupError("this worker has no store to export from (start it with --db)")
        export_dir = Path(params["export_dir"])
        exported = export_store(ctx.store, export_dir, progress=ctx.progress, should_stop=ctx.should_stop)
        if params.get("neptune_ml"):
            config = training_config(exported, params["neptune_ml"], export_dir)
            (export_dir / CONFIG_FILE).write_text(json.dumps(config, indent=2))
        input_dir = str(export_dir)
    summary = api.run_data_processing(
        Path(input_dir),
        Path(job.output_dir),
        config=config,
        model_type=params.get("model_type"),
        previous_dir=Path(params["previous_dir"]) if params.get("previous_dir") else None,
        progress=ctx.progress,
        should_stop=ctx.should_stop,
    )
    if exported is not None:
        summary = {**summary, "export": {"vertices": exported["vertices"], "edges": exported["edges_total"]}}
    if params.get("reused_configuration_from"):
        summary = {**summary, "reused_configuration_from": params["reused_configuration_from"]}
    return summary


HPO_FILE = "model-HPO-configuration.json"


def fixed_hyperparameters(processed_dir: Path) -> dict[str, Any]:
    """Hyper-parameters a user fixed in Neptune's ``model-HPO-configuration.json`` beside the
    processed data (the file Neptune users edit before training): every ``fixed-param`` entry's
    ``default``. ``{}`` when the file is absent. Raises ``ConfigError`` naming the file."""
    from graphml.api import ConfigError

    path = processed_dir / HPO_FILE
    if not path.is_file():
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        fixed: dict[str, Any] = {}
        for model in document.get("models", []):
            for entry in model.get("fixed-param", []):
                fixed[entry["param"]] = entry["default"]
        return fixed
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ConfigError(f"{path} is not a model HPO configuration: {exc}", field=HPO_FILE) from exc


def _training(job: JobRecord, ctx: JobContext) -> dict[str, Any]:
    from graphml import api

    params = job.params
    processed = Path(params["processed_dir"])
    overrides = {**fixed_hyperparameters(processed), **(params.get("overrides") or {})}
    warm_start = params.get("warm_start")
    result = api.run_training(
        processed,
        Path(job.output_dir),
        model_name=params.get("model_name"),
        max_hpo_jobs=params.get("max_hpo_jobs", 2),
        max_hpo_parallel=params.get("max_hpo_parallel", 2),
        overrides=overrides or None,
        warm_start=warm_start,
        progress=ctx.progress,
        should_stop=ctx.should_stop,
    )
    if warm_start:
        result["warm_started_from"] = warm_start["job"]
    return result


def _transform(job: JobRecord, ctx: JobContext) -> dict[str, Any]:
    from graphml import api

    params = job.params
    return api.run_transform(
        Path(params["processed_dir"]),
        Path(params["model_dir"]),
        Path(job.output_dir),
        progress=ctx.progress,
        should_stop=ctx.should_stop,
    )
