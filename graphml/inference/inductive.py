"""Inductive embedding of vertices the training graph never saw.

A new vertex arrives as a :class:`NodeContext`: its label, live properties and its neighbours
(edge label, direction, neighbour id and label). Its layer-0 representation comes from the
fitted feature encoders and the model's input layer (no learnt per-node embedding exists for
it); each RGCN layer then combines it with the precomputed representations of its *known*
neighbours at that layer, exactly as the layer does during training (self loop + per-relation
mean of ``W_r h_u``). At most ``fanout[l]`` neighbours are used per relation at layer ``l``:
a random choice, or with ``deterministic`` the first ones in id order. Neighbours unknown to
the model are skipped, and known neighbours' representations do not see the new vertex (one
new vertex at a time, as in Neptune's inductive mode).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import torch

from graphml.training.graphs import REV


@dataclass
class NodeContext:
    """A vertex and its live neighbourhood. ``neighbors`` holds
    ``(edge_label, direction, neighbor_id, neighbor_label)`` with ``direction`` ``"out"`` for
    ``this -edge_label-> neighbor`` and ``"in"`` for ``neighbor -edge_label-> this``."""

    id: str
    label: str
    properties: dict[str, Any] = field(default_factory=dict)
    neighbors: list[tuple[str, str, str, str]] = field(default_factory=list)


def encode_properties(
    encoders: list[tuple[str, str, Any]], properties: dict[str, Any]
) -> torch.Tensor | None:
    """``[1, feat_dim]`` features of one vertex from its raw property values."""
    if not encoders:
        return None
    blocks = []
    for prop, _ftype, enc in encoders:
        value = properties.get(prop)
        if isinstance(value, list | tuple) and len(value) == 1:
            value = value[0]
        blocks.append(torch.from_numpy(enc.transform([value])))
    return torch.cat(blocks, dim=1)


def embed_context(
    model,
    layers: list[dict[str, torch.Tensor]],
    index: dict[str, dict[str, int]],
    encoders: dict[str, list],
    fanouts: list[int],
    ctx: NodeContext,
    deterministic: bool,
    seed: int = 0,
) -> torch.Tensor:
    """Final embedding ``[hidden]`` of ``ctx`` (see the module docstring)."""
    rng = random.Random(seed if deterministic else None)
    enc = model.encoder
    feat = encode_properties(encoders.get(ctx.label, []), ctx.properties)
    with torch.no_grad():
        h = enc.input(ctx.label, torch.tensor([-1]), feat if ctx.label in enc.input.proj else None)
        for depth, layer in enumerate(enc.layers):
            weights = layer.relation_weights()
            total = layer.self_loop(h) if layer.self_loop is not None else torch.zeros(1, layer.out_dim)
            for (src_t, rel, dst_t), r in layer.relations.items():
                if dst_t != ctx.label:
                    continue
                ids = sorted(
                    {
                        nid
                        for elabel, direction, nid, nlabel in ctx.neighbors
                        if nlabel == src_t
                        and nid in index.get(src_t, {})
                        and (
                            (direction == "in" and rel == elabel)
                            or (direction == "out" and rel == REV + elabel)
                        )
                    }
                )
                if not ids:
                    continue
                k = fanouts[min(depth, len(fanouts) - 1)]
                if len(ids) > k:
                    ids = ids[:k] if deterministic else sorted(rng.sample(ids, k))
                rows = torch.tensor([index[src_t][i] for i in ids])
                total = total + (layers[depth][src_t][rows] @ weights[r]).mean(0, keepdim=True)
            h = layer.finish(ctx.label, total)
    return h[0]
