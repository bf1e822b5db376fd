"""``modeltransform``: precompute a trained model's embeddings and predictions.

Output folder (self-contained, what :meth:`Predictor.load` reads): ``model.pt`` and
``model-config.json`` (copied), ``processed/`` (the processed graph: ids, features, encoders,
edges), ``embeddings/layers.pt`` (RGCN: every layer's node representations, used by inductive
inference) or ``embeddings/entity.pt`` (KGE), ``predictions.pt`` (node tasks: probabilities or
values per target node) and ``transform-info.json``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch

from graphml.api import Cancelled, GraphMLError, ProgressFn, StopFn
from graphml.inference.tables import node_predictions, rgcn_layers
from graphml.processing.processed import (
    CONFIG_FILE,
    ENCODERS_FILE,
    GRAPH_FILE,
    IDS_FILE,
    META_FILE,
    ProcessedGraph,
)
from graphml.training.artifacts import MODEL_CONFIG_FILE, MODEL_FILE, load_model

PROCESSED, EMBEDDINGS, PREDICTIONS, INFO = "processed", "embeddings", "predictions.pt", "transform-info.json"


def run_transform(
    processed_dir: Path,
    model_dir: Path,
    output_dir: Path,
    *,
    progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> dict[str, Any]:
    """See :func:`graphml.api.run_transform`."""
    report = progress or (lambda _: None)
    processed_dir, model_dir, output_dir = Path(processed_dir), Path(model_dir), Path(output_dir)
    if not (model_dir / MODEL_FILE).exists():
        raise GraphMLError(f"{model_dir} holds no trained model ({MODEL_FILE} missing)")
    report({"stage": "loading", "percent": 0})
    model, config = load_model(model_dir)
    pg = ProcessedGraph.load(processed_dir)
    if should_stop is not None and should_stop():
        raise Cancelled("transform cancelled")
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / EMBEDDINGS).mkdir(exist_ok=True)
    report({"stage": "embedding", "percent": 20})
    info: dict[str, Any] = {"model": config["model"], "task": config["task"]}
    if config["model"] == "rgcn":
        layers = rgcn_layers(model, pg)
        torch.save(layers, output_dir / EMBEDDINGS / "layers.pt")
        preds = node_predictions(model, config, layers[-1])
        if preds is not None:
            torch.save(preds, output_dir / PREDICTIONS)
        info["embedding_dims"] = {nt: int(h.shape[1]) for nt, h in layers[-1].items()}
    else:
        torch.save(model.entity.weight.detach().clone(), output_dir / EMBEDDINGS / "entity.pt")
        info["entities"] = int(model.entity.weight.shape[0])
    report({"stage": "saving", "percent": 80})
    dest = output_dir / PROCESSED
    dest.mkdir(exist_ok=True)
    for name in (GRAPH_FILE, IDS_FILE, META_FILE, ENCODERS_FILE, CONFIG_FILE):
        if (processed_dir / name).exists():
            shutil.copy2(processed_dir / name, dest / name)
    for name in (MODEL_FILE, MODEL_CONFIG_FILE):
        shutil.copy2(model_dir / name, output_dir / name)
    info["nodes"] = {nt: pg.graph.num_nodes(nt) for nt in pg.graph.ntypes}
    (output_dir / INFO).write_text(json.dumps(info, indent=2))
    report({"stage": "done", "percent": 100})
    return info
