"""A whole trainable model (encoder + head, or a KGE model) rebuilt from ``model-config.json``."""

from __future__ import annotations

from typing import Any

import dgl
import torch
from torch import nn

from graphml.models.decoders import DistMultDecoder, EdgeHead, NodeHead
from graphml.models.kge import KGE_MODELS, make_kge
from graphml.models.rgcn import RGCNEncoder


class RGCNModel(nn.Module):
    """RGCN encoder plus the head of the task (node/edge classification or regression, links)."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        hp = config["hyperparameters"]
        hidden = int(hp["num-hidden"])
        self.task = config["task"]
        self.encoder = RGCNEncoder(
            config["feat_dims"],
            config["num_nodes"],
            [tuple(r) for r in config["relations"]],
            hidden=hidden,
            num_layers=int(hp["num-layer"]),
            num_bases=int(hp["num-bases"]),
            dropout=float(hp["dropout"]),
            layer_norm=bool(hp["layer-norm"]),
            self_loop=bool(hp["use-self-loop"]),
            concat_node_embed=bool(hp["concat-node-embed"]),
            input_dropout=float(hp.get("input-dropout", 0.0)),
        )
        out = int(config["num_out"])
        if self.task in ("node_class", "node_regression"):
            self.head: nn.Module = NodeHead(hidden, out)
        elif self.task in ("edge_class", "edge_regression"):
            self.head = EdgeHead(hidden, out)
        else:
            self.head = DistMultDecoder(hidden, 1)

    def embed(
        self, blocks: list[dgl.DGLGraph], input_nids: dict[str, torch.Tensor], feats: dict[str, torch.Tensor]
    ) -> dict[str, torch.Tensor]:
        """Embeddings ``{ntype: [num_dst_nodes, hidden]}`` of the last block's destinations."""
        return self.encoder(blocks, self.encoder.embed_inputs(input_nids, feats))


def build_model(config: dict[str, Any]) -> nn.Module:
    name = config["model"]
    if name == "rgcn":
        return RGCNModel(config)
    if name in KGE_MODELS:
        hp = config["hyperparameters"]
        return make_kge(
            name,
            int(config["num_entities"]),
            int(config["num_relations"]),
            int(hp["num-hidden"]),
            float(hp["dropout"]),
        )
    raise ValueError(f"unknown model {name!r}")
