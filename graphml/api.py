"""The job-facing API of ``graphml``: what ``server.jobs`` calls, and nothing else.

``graphml`` never imports ``server``; the job layer exports the live graph to Neptune's Gremlin CSV
format first (``server.jobs.export``) and hands this module folders. Every function is blocking,
reports progress through ``progress`` and stops early when ``should_stop()`` turns true (raising
:class:`Cancelled`). Folders are plain local paths; each function writes only under its
``output_dir``.

Vertex ids everywhere in ``graphml`` are the strings of the exported CSV's ``~id`` column
(``str(store_id)``), so the extension that maps predictions back to the store does it by value.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

ProgressFn = Callable[[dict[str, Any]], None]
"""Called with a dict of progress fields: ``stage`` (str), and when they apply ``epoch``,
``epochs``, ``trial``, ``trials``, ``best_metric`` (``{"name": ..., "value": ...}``), ``percent``."""

StopFn = Callable[[], bool]


class GraphMLError(Exception):
    """Base of the errors this package raises on purpose (bad config, bad data)."""


class ConfigError(GraphMLError):
    """A training-data configuration or a training request is invalid.

    ``field`` names the offending field (dotted path), so the REST layer can answer 400 with it.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Cancelled(GraphMLError):
    """``should_stop()`` turned true; partial output may be left in ``output_dir``."""


def run_data_processing(
    input_dir: Path,
    output_dir: Path,
    *,
    config: dict[str, Any] | None = None,
    model_type: str | None = None,
    previous_dir: Path | None = None,
    progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> dict[str, Any]:
    """Neptune CSV folder (``input_dir``) -> processed graph (``output_dir``).

    ``config`` is a ``training-data-configuration.json`` document; ``None`` infers one and
    writes it to ``output_dir / "training-data-configuration.json"``. ``previous_dir`` is a
    previous processing output (incremental processing of a grown graph, with that job's
    configuration as ``config``): its fitted encoders encode the new data unchanged (same
    feature widths; unseen categories go where the old vocabulary puts them, numbers are scaled
    by the old statistics) and its vertices keep their node positions, new ones appended, so a
    model trained on it applies to the new output. Returns a summary (node/edge counts per type,
    targets, feature columns; ``kept_positions`` when incremental). Raises :class:`ConfigError`.
    """
    from graphml.processing.pipeline import run_data_processing as impl

    return impl(
        input_dir,
        output_dir,
        config=config,
        model_type=model_type,
        previous_dir=previous_dir,
        progress=progress,
        should_stop=should_stop,
    )


def run_training(
    processed_dir: Path,
    output_dir: Path,
    *,
    model_name: str | None = None,
    max_hpo_jobs: int = 2,
    max_hpo_parallel: int = 2,
    overrides: dict[str, Any] | None = None,
    warm_start: dict[str, Any] | None = None,
    progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> dict[str, Any]:
    """Train on a processed graph with tiered HPO; write the best model's artifacts.

    ``model_name`` is ``rgcn`` | ``transe`` | ``distmult`` | ``rotate`` (``None``: chosen from
    the processed graph's task). ``overrides`` fixes hyper-parameters (``sampler``,
    ``num-epochs``, ``num-partitions``, ``seed``, ...). ``warm_start`` is a previous run's result
    (its ``model`` and best ``hyperparameters``): those become the first trial, under
    ``overrides``; a different model raises :class:`ConfigError`. Returns the best trial's metrics and
    hyper-parameters; ``output_dir`` then holds ``model.pt``, ``model-config.json``,
    ``metrics.json`` and ``training-curves.png``.
    """
    from graphml.training.job import run_training as impl

    return impl(
        processed_dir,
        output_dir,
        model_name=model_name,
        max_hpo_jobs=max_hpo_jobs,
        max_hpo_parallel=max_hpo_parallel,
        overrides=overrides,
        warm_start=warm_start,
        progress=progress,
        should_stop=should_stop,
    )


def run_transform(
    processed_dir: Path,
    model_dir: Path,
    output_dir: Path,
    *,
    progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> dict[str, Any]:
    """Precompute embeddings and predictions of a trained model over a processed graph."""
    from graphml.inference.transform import run_transform as impl

    return impl(processed_dir, model_dir, output_dir, progress=progress, should_stop=should_stop)


def load_predictor(artifacts_dir: Path) -> Any:
    """A :class:`graphml.inference.Predictor` over a training or transform output folder."""
    from graphml.inference.predictor import Predictor

    return Predictor.load(artifacts_dir)
