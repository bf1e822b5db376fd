"""The training job: tiered HPO over trials, each trial a full training run; best one kept.

Trials run ``max_hpo_parallel`` at a time in separate processes (spawned, one torch thread
each, so memory and CPU stay bounded); with one trial or one slot they run in this process.
Each trial writes its artifacts under ``output_dir/trials/<n>/``; the best trial's files are
copied to ``output_dir``. Progress (stage, trial, epoch, best metric) reaches ``progress`` from
every process through a queue.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import queue as queue_mod
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import torch

from graphml.api import Cancelled, ConfigError, GraphMLError, ProgressFn, StopFn
from graphml.models.kge import KGE_MODELS
from graphml.processing.processed import ProcessedGraph
from graphml.training.artifacts import METRICS_FILE, save_artifacts
from graphml.training.params import check_overrides, trial_params

MODELS = ("rgcn", *KGE_MODELS)


def _pick_model(model_name: str | None, model_type: str | None) -> str | None:
    """The model a training job runs, from ``modelName`` and the processing ``modelType``
    (``heterogeneous`` | ``kge``); ``None`` when neither decides it."""
    if model_name is not None and model_name not in (*MODELS, "kge"):
        raise ConfigError(
            f"modelName must be one of {', '.join(MODELS)}, not {model_name!r}", field="modelName"
        )
    if model_name == "kge" or (model_name is None and model_type == "kge"):
        return "transe"
    if model_name is None and model_type is None:
        return None
    return model_name or "rgcn"


def check_warm_start(name: str | None, warm_start: dict[str, Any] | None) -> None:
    """A warm start (``previousModelTrainingJobId``) reuses hyper-parameters of the same model
    only: ConfigError naming that field when the previous job trained another one. ``name`` is the
    model this job trains (``None``: not known yet, checked again when it is)."""
    if warm_start is not None and name is not None and warm_start.get("model") != name:
        raise ConfigError(
            f"the previous training job trained {warm_start.get('model')}; this one trains {name}",
            field="previousModelTrainingJobId",
        )


def check_training_request(
    model_name: str | None,
    model_type: str | None,
    overrides: dict[str, Any] | None,
    warm_start: dict[str, Any] | None = None,
) -> None:
    """Request-time checks of a training job, before its processed graph exists: ``modelName``,
    the ``overrides`` (ConfigError naming ``overrides.<name>``) and a ``warm_start``'s model (see
    :func:`check_warm_start`). ``model_type`` is the processing job's ``modelType``; when neither
    names the model, processing decides it (rgcn, or transe for a graph without features), so
    overrides valid for either pass here and :func:`run_training` checks them again against the
    model it runs."""
    name = _pick_model(model_name, model_type)
    check_warm_start(name, warm_start)
    candidates = [name] if name is not None else ["rgcn", "transe"]
    errors: list[ConfigError] = []
    for candidate in candidates:
        try:
            check_overrides(candidate, overrides)
            return
        except ConfigError as exc:
            errors.append(exc)
    raise errors[0]


def choose_model(pg: ProcessedGraph, model_name: str | None) -> str:
    model_name = _pick_model(model_name, pg.meta.get("model_type")) or "rgcn"
    if model_name in KGE_MODELS and pg.target.task != "link_prediction":
        raise ConfigError(
            f"{model_name} only does link prediction; the processed target is {pg.target.task}",
            field="modelName",
        )
    return model_name


def train_one(
    processed_dir: Path,
    trial_dir: Path,
    model_name: str,
    hp: dict[str, Any],
    on_epoch: Callable[[dict], None] | None = None,
    should_stop: StopFn | None = None,
    show_bar: bool = False,
) -> dict[str, Any]:
    """One training run; writes artifacts to ``trial_dir`` and returns its metrics."""
    pg = ProcessedGraph.load(processed_dir)
    if model_name == "rgcn":
        from graphml.training.rgcn_trainer import RGCNTrainer

        result = RGCNTrainer(pg, hp).fit(on_epoch=on_epoch, should_stop=should_stop, show_bar=show_bar)
    else:
        from graphml.training.kge_trainer import entity_offsets, train_kge, triples_from_graph

        result = train_kge(
            model_name,
            triples_from_graph(pg),
            hp,
            on_epoch=on_epoch,
            should_stop=should_stop,
            show_bar=show_bar,
        )
        result.config.update(
            target=pg.target.to_json(),
            entity_offsets=entity_offsets(pg),
            relations=[list(r) for r in sorted(pg.graph.canonical_etypes)],
        )
    result.config["processed_dir"] = str(Path(processed_dir).resolve())
    save_artifacts(
        trial_dir, result.model, result.config, dict(result.metrics, hyperparameters=hp), result.curves
    )
    return dict(result.metrics, hyperparameters=hp)


def _worker(processed_dir: str, trial_dir: str, model_name: str, hp: dict, trial: int, events, stop) -> dict:
    torch.set_num_threads(1)

    def on_epoch(info: dict) -> None:
        events.put(dict(info, trial=trial))

    return train_one(Path(processed_dir), Path(trial_dir), model_name, hp, on_epoch, stop.is_set)


def _better(a: dict[str, Any], b: dict[str, Any] | None) -> bool:
    if b is None:
        return True
    name = a["eval_metric"]
    va, vb = a["valid"].get(name), b["valid"].get(name)
    if va is None:
        return False
    if vb is None:
        return True
    return va > vb if a["higher_is_better"] else va < vb


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
    """See :func:`graphml.api.run_training`."""
    report = progress or (lambda _: None)
    processed_dir, output_dir = Path(processed_dir), Path(output_dir)
    if int(max_hpo_jobs) < 1:
        raise ConfigError("maxHPONumberOfTrainingJobs must be at least 1", field="maxHPONumberOfTrainingJobs")
    if int(max_hpo_parallel) < 1:
        raise ConfigError("maxHPOParallelTrainingJobs must be at least 1", field="maxHPOParallelTrainingJobs")
    pg = ProcessedGraph.load(processed_dir)
    name = choose_model(pg, model_name)
    check_warm_start(name, warm_start)
    fixed = check_overrides(name, overrides)
    seed = int(fixed.get("seed", 0))
    first = warm_start["hyperparameters"] if warm_start else None
    trials = [trial_params(name, k, max_hpo_jobs, fixed, seed, first) for k in range(int(max_hpo_jobs))]
    del pg
    results: list[dict[str, Any] | None] = [None] * len(trials)
    best: dict[str, Any] | None = None
    best_k = -1

    def finish(k: int, res: dict[str, Any]) -> None:
        nonlocal best, best_k
        results[k] = res
        if _better(res, best):
            best, best_k = res, k
        report(
            {
                "stage": "training",
                "trial": k + 1,
                "trials": len(trials),
                "best_metric": {"name": best["eval_metric"], "value": best["valid"].get(best["eval_metric"])},
            }
        )

    report({"stage": "training", "trial": 0, "trials": len(trials)})
    stop = should_stop or (lambda: False)
    if len(trials) == 1 or int(max_hpo_parallel) == 1:
        for k, hp in enumerate(trials):
            if stop():
                raise Cancelled("training cancelled")

            def on_epoch(info: dict, k: int = k) -> None:
                report(dict(info, stage="training", trial=k + 1, trials=len(trials)))

            finish(
                k,
                train_one(
                    processed_dir, output_dir / "trials" / str(k), name, hp, on_epoch, stop, show_bar=True
                ),
            )
    else:
        _run_parallel(processed_dir, output_dir, name, trials, int(max_hpo_parallel), stop, report, finish)
    if best is None:
        raise GraphMLError("no trial finished")
    best_dir = output_dir / "trials" / str(best_k)
    for item in best_dir.iterdir():
        shutil.copy2(item, output_dir / item.name)
    summary = {
        "model": name,
        "best_trial": best_k + 1,
        "trials": len(trials),
        "eval_metric": best["eval_metric"],
        "valid": best["valid"],
        "test": best["test"],
        "hyperparameters": best["hyperparameters"],
        "all_trials": [
            {"trial": k + 1, "valid": r["valid"], "hyperparameters": r["hyperparameters"]}
            for k, r in enumerate(results)
            if r is not None
        ],
    }
    metrics = json.loads((output_dir / METRICS_FILE).read_text())
    metrics.update(best_trial=best_k + 1, all_trials=summary["all_trials"])
    (output_dir / METRICS_FILE).write_text(json.dumps(metrics, indent=2))
    report(
        {
            "stage": "done",
            "percent": 100,
            "best_metric": {"name": best["eval_metric"], "value": best["valid"].get(best["eval_metric"])},
        }
    )
    return summary


def _run_parallel(
    processed_dir: Path,
    output_dir: Path,
    name: str,
    trials: list[dict],
    slots: int,
    stop: StopFn,
    report: ProgressFn,
    finish: Callable[[int, dict], None],
) -> None:
    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        events, stop_event = manager.Queue(), manager.Event()
        done = threading.Event()

        def pump() -> None:
            while not done.is_set():
                try:
                    info = events.get(timeout=0.2)
                except (queue_mod.Empty, EOFError, OSError):
                    continue
                report(dict(info, stage="training", trial=info["trial"] + 1, trials=len(trials)))

        thread = threading.Thread(target=pump, daemon=True)
        thread.start()
        try:
            with ProcessPoolExecutor(max_workers=slots, mp_context=ctx) as pool:
                pending = {
                    pool.submit(
                        _worker,
                        str(processed_dir),
                        str(output_dir / "trials" / str(k)),
                        name,
                        hp,
                        k,
                        events,
                        stop_event,
                    ): k
                    for k, hp in enumerate(trials)
                }
                while pending:
                    finished, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    if stop():
                        stop_event.set()
                    for fut in finished:
                        k = pending.pop(fut)
                        try:
                            finish(k, fut.result())
                        except Cancelled:
                            raise
                    if stop_event.is_set():
                        for fut in pending:
                            fut.cancel()
                        raise Cancelled("training cancelled")
        finally:
            done.set()
            thread.join()
