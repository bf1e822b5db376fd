"""``modeltransform``: precompute a trained model's embeddings and predictions.

Output folder (self-contained, what :meth:`Predictor.load` reads): ``model.pt`` and
``model-config.json`` (copied), ``processed/`` (the processed graph: ids, features, encoders,
edges), ``embeddings/layers.pt`` (RGCN: every layer's node representations, used by inductive
inference) or ``embeddings/entity.pt`` (KGE), ``predictions.pt`` (node tasks: probabilities or
values per target node) and ``transform-info.json``.

The processed graph may be a newer one than the model was trained on (Neptune's incremental
workflow: the grown graph processed with ``previousDataProcessingJobId``, then transformed with the
old training job). It must be encoded like the training graph: same vertex labels and feature
widths (else :class:`IncompatibleGraph`, naming what differs). Vertices added since keep no
learnt per-node embedding (their layer-0 input is their features alone); vertices of the
training graph keep theirs by position (``kept_positions`` in the processed graph's meta).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch

from graphml.api import Cancelled, GraphMLError, ProgressFn, StopFn
from graphml.inference.tables import node_predictions, rgcn_layers
from graphml.processing.layout import CONFIG_FILE, ENCODERS_FILE, GRAPH_FILE, IDS_FILE, META_FILE
from graphml.processing.processed import KEPT_POSITIONS, ProcessedGraph
from graphml.training.artifacts import MODEL_CONFIG_FILE, MODEL_FILE, load_model

PROCESSED, EMBEDDINGS, PREDICTIONS, INFO = "processed", "embeddings", "predictions.pt", "transform-info.json"
REPROCESS = (
    "process the new data with previousDataProcessingJobId naming the processing job the model was "
    "trained on, so that it is encoded with that job's encoders"
)


class IncompatibleGraph(GraphMLError):
    """The processed graph is not encoded like the graph the model was trained on."""


def _mismatch(what: str, here: dict[str, int], trained: dict[str, int]) -> str:
    """``"person 67 here, 65 when trained; ..."`` for every key whose value differs."""
    keys = sorted(set(here) | set(trained))
    return f"{what} differ from the model's: " + "; ".join(
        f"{k} {here.get(k, 'none')} here, {trained.get(k, 'none')} when trained"
        for k in keys
        if here.get(k) != trained.get(k)
    )


def check_feature_widths(dims: dict[str, int], trained: dict[str, int]) -> None:
    """Raises :class:`IncompatibleGraph` unless a processed graph's feature widths per node type
    (``dims``) are the ones the model was trained on (``trained``, its config's ``feat_dims``)."""
    if dims != trained:
        raise IncompatibleGraph(f"{_mismatch('feature widths', dims, trained)}; {REPROCESS}")


def rgcn_node_ids(model, config: dict[str, Any], pg: ProcessedGraph) -> dict[str, torch.Tensor]:
    """Each node's row in the RGCN's learnt embeddings, ``{node type: [num_nodes]}`` (``-1``:
    a vertex added since training). Raises :class:`IncompatibleGraph` when ``pg``'s vertex labels
    or feature widths are not the training graph's, or when a node type with learnt embeddings
    changed size without the positions being kept (a fresh processing of a grown graph)."""
    g, trained = pg.graph, config["num_nodes"]
    unknown = sorted(set(g.ntypes) - set(trained))
    if unknown:
        raise IncompatibleGraph(f"vertex labels the model never saw: {', '.join(unknown)}; {REPROCESS}")
    check_feature_widths(pg.feature_dims(), config["feat_dims"])
    kept = pg.meta.get(KEPT_POSITIONS, {})
    nids = {}
    for nt in g.ntypes:
        n, ids = g.num_nodes(nt), torch.arange(g.num_nodes(nt))
        if nt in model.encoder.input.embed and nt not in kept and n != trained[nt]:
            counts = _mismatch("vertex counts", {nt: n}, {nt: trained[nt]})
            raise IncompatibleGraph(f"{counts}; {REPROCESS}")
        ids[min(kept.get(nt, n), trained[nt]) :] = -1
        nids[nt] = ids
    return nids


def check_kge_entities(config: dict[str, Any], pg: ProcessedGraph) -> None:
    """KGE models embed only the vertices present at training (Neptune's limit too): raise
    :class:`IncompatibleGraph` unless ``pg`` has exactly the training graph's vertex counts."""
    offsets: dict[str, int] = config["entity_offsets"]  # node types in name order, one after another
    names = sorted(offsets)
    ends = [offsets[nt] for nt in names[1:]] + [int(config["num_entities"])]
    trained = {nt: end - offsets[nt] for nt, end in zip(names, ends, strict=True)}
    here = {nt: pg.graph.num_nodes(nt) for nt in pg.graph.ntypes}
    if here != trained:
        raise IncompatibleGraph(
            f"{_mismatch('vertex counts', here, trained)}; a {config['model']} model embeds only the "
            "vertices present at training: train again on the new data"
        )


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
    rgcn = config["model"] == "rgcn"
    if rgcn:
        nids = rgcn_node_ids(model, config, pg)
    else:
        check_kge_entities(config, pg)
    if should_stop is not None and should_stop():
        raise Cancelled("transform cancelled")
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / EMBEDDINGS).mkdir(exist_ok=True)
    report({"stage": "embedding", "percent": 20})
    info: dict[str, Any] = {"model": config["model"], "task": config["task"]}
    if rgcn:
        layers = rgcn_layers(model, pg, nids)
        torch.save(layers, output_dir / EMBEDDINGS / "layers.pt")
        preds = node_predictions(model, config, layers[-1])
        if preds is not None:
            torch.save(preds, output_dir / PREDICTIONS)
        info["embedding_dims"] = {nt: int(h.shape[1]) for nt, h in layers[-1].items()}
        info["feature_dims"] = pg.feature_dims()
        info["new_nodes"] = {nt: int((ids < 0).sum()) for nt, ids in nids.items() if (ids < 0).any()}
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
