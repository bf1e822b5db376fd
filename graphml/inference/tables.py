"""Precomputed tables of a trained model over a processed graph: per-layer node
representations (RGCN), final embeddings and node-task predictions. Shared by
``modeltransform`` (which saves them) and :class:`Predictor` (which loads or computes them)."""

from __future__ import annotations

from typing import Any

import torch

from graphml.processing.processed import ProcessedGraph
from graphml.training.graphs import message_graph, node_features


def rgcn_layers(
    model, pg: ProcessedGraph, nids: dict[str, torch.Tensor] | None = None
) -> list[dict[str, torch.Tensor]]:
    """Every layer's node representations over the full message graph (all edges, including
    link prediction's held-out ones): ``num_layers + 1`` dicts of ``[num_nodes, hidden]``.
    ``nids[t]`` (``[num_nodes(t)]``) is each node's row in the model's learnt embeddings, ``-1``
    for a node the model never saw (default: the node index, the graph the model trained on)."""
    mp = message_graph(pg.graph)
    feats = node_features(pg.graph)
    model.eval()
    with torch.no_grad():
        if nids is None:
            nids = {nt: torch.arange(mp.num_nodes(nt)) for nt in mp.ntypes}
        h0 = model.encoder.embed_inputs(nids, feats)
        return model.encoder.all_layers(mp, h0)


def node_predictions(model, config: dict[str, Any], final: dict[str, torch.Tensor]) -> torch.Tensor | None:
    """``[N, C]`` class probabilities or ``[N]`` values for the target node type, else None."""
    target = config["target"]
    if config["task"] not in ("node_class", "node_regression"):
        return None
    with torch.no_grad():
        out = model.head(final[target["ntype"]])
    if config["task"] == "node_regression":
        return out.view(-1)
    return torch.sigmoid(out) if target.get("multi_label") else torch.softmax(out, dim=1)
