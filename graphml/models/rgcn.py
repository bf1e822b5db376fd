"""Heterogeneous R-GCN encoder (Schlichtkrull et al. 2018), plain PyTorch over DGL blocks.

Layer ``l`` computes, for every destination node ``v`` of type ``t``::

    h_v' = act(LayerNorm(W_self h_v + b + sum_r mean_{u in N_r(v)} w_uv * (W_r h_u)))

``W_r`` is relation ``r``'s own matrix or, with ``num_bases`` in ``(0, R)``, a learnt mix of
``num_bases`` shared bases (the basis regulariser). ``w_uv`` is ``block.edata[EDGE_WEIGHT]`` when
a sampler set it (LABOR importance weights, GNS), else 1. Relations are the canonical edge types
of the message-passing graph (the data's edge types plus their ``rev-`` reverses).
"""

from __future__ import annotations

import dgl
import dgl.function as fn
import torch
from torch import nn

from graphml.samplers import EDGE_WEIGHT

Etype = tuple[str, str, str]


class RelGraphConvLayer(nn.Module):
    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        relations: list[Etype],
        ntypes: list[str],
        *,
        num_bases: int = 0,
        self_loop: bool = True,
        layer_norm: bool = True,
        dropout: float = 0.0,
        activation: bool = True,
    ) -> None:
        super().__init__()
        self.relations = {r: i for i, r in enumerate(relations)}
        num_rels = len(relations)
        self.use_bases = 0 < num_bases < num_rels
        if self.use_bases:
            self.bases = nn.Parameter(torch.empty(num_bases, in_dim, out_dim))  # [B, in, out]
            self.coeff = nn.Parameter(torch.empty(num_rels, num_bases))  # [R, B]
            for base in self.bases:
                nn.init.xavier_uniform_(base, gain=nn.init.calculate_gain("relu"))
            nn.init.xavier_uniform_(self.coeff)
        else:
            self.weight = nn.Parameter(torch.empty(max(num_rels, 1), in_dim, out_dim))  # [R, in, out]
            for w in self.weight:  # per relation, so the fan is in x out (not R x in x out)
                nn.init.xavier_uniform_(w, gain=nn.init.calculate_gain("relu"))
        self.self_loop = nn.Linear(in_dim, out_dim, bias=False) if self_loop else None
        self.bias = nn.Parameter(torch.zeros(out_dim))
        self.norm = nn.ModuleDict({nt: nn.LayerNorm(out_dim) for nt in ntypes}) if layer_norm else None
        self.dropout = nn.Dropout(dropout)
        self.activation = activation
        self.out_dim = out_dim

    def relation_weights(self) -> torch.Tensor:
        """``[R, in, out]`` relation matrices."""
        if self.use_bases:
            return torch.einsum("rb,bio->rio", self.coeff, self.bases)
        return self.weight

    def finish(self, ntype: str, h: torch.Tensor) -> torch.Tensor:
        """Bias, layer norm, activation and dropout of a summed ``[n, out]`` message."""
        h = h + self.bias
        if self.norm is not None:
            h = self.norm[ntype](h)
        if self.activation:
            h = torch.relu(h)
        return self.dropout(h)

    def forward(self, g: dgl.DGLGraph, h_src: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``g`` is a block (or a whole graph); ``h_src[t]`` is ``[num_src_nodes(t), in]``.
        Returns ``{t: [num_dst_nodes(t), out]}`` for every destination node type."""
        weights = self.relation_weights()
        if g.is_block:
            h_dst = {nt: h_src[nt][: g.num_dst_nodes(nt)] for nt in g.dsttypes if nt in h_src}
        else:
            h_dst = h_src
        out: dict[str, torch.Tensor] = {}
        for nt in g.dsttypes:
            n = g.num_dst_nodes(nt)
            if n == 0 and nt not in h_dst:
                continue
            ref = next(iter(h_src.values()))
            out[nt] = (
                self.self_loop(h_dst[nt])
                if self.self_loop is not None and nt in h_dst
                else ref.new_zeros(n, self.out_dim)
            )
        for cet in g.canonical_etypes:
            rel = self.relations.get(cet)
            sub = g[cet]
            if rel is None or sub.num_edges() == 0 or cet[0] not in h_src:
                continue
            with sub.local_scope():
                sub.srcdata["h"] = h_src[cet[0]] @ weights[rel]
                weight = sub.edata.get(EDGE_WEIGHT)
                if weight is not None:
                    sub.edata["_w"] = weight.reshape(-1, 1).to(sub.srcdata["h"].dtype)
                    sub.update_all(fn.u_mul_e("h", "_w", "m"), fn.mean("m", "agg"))
                else:
                    sub.update_all(fn.copy_u("h", "m"), fn.mean("m", "agg"))
                out[cet[2]] = out[cet[2]] + sub.dstdata["agg"]
        return {nt: self.finish(nt, h) for nt, h in out.items()}


class InputEmbedding(nn.Module):
    """Layer-0 representation: a linear map of the encoded features, a learnable per-node
    embedding for featureless node types, or (``concat_node_embed``) both summed."""

    def __init__(
        self,
        feat_dims: dict[str, int],
        num_nodes: dict[str, int],
        hidden: int,
        concat_node_embed: bool = False,
    ) -> None:
        super().__init__()
        self.proj = nn.ModuleDict({nt: nn.Linear(d, hidden) for nt, d in feat_dims.items()})
        self.embed = nn.ModuleDict(
            {
                nt: nn.Embedding(n, hidden)
                for nt, n in num_nodes.items()
                if nt not in feat_dims or concat_node_embed
            }
        )
        for emb in self.embed.values():
            nn.init.normal_(emb.weight, std=0.1)
        self.hidden = hidden

    def forward(self, ntype: str, nids: torch.Tensor, feat: torch.Tensor | None) -> torch.Tensor:
        """``nids`` ``[n]`` node indices (``-1``: unknown node, no learnt embedding); ``feat``
        ``[n, feat_dim]`` or None. Returns ``[n, hidden]``."""
        h = torch.zeros(len(nids), self.hidden)
        if ntype in self.proj and feat is not None:
            h = h + self.proj[ntype](feat)
        if ntype in self.embed:
            known = nids >= 0
            emb = torch.zeros(len(nids), self.hidden)
            emb[known] = self.embed[ntype](nids[known])
            h = h + emb
        return h


class RGCNEncoder(nn.Module):
    """Stack of :class:`RelGraphConvLayer`; the last layer has no activation or dropout (its
    layer norm keeps the embeddings' scale fixed for the decoders)."""

    def __init__(
        self,
        feat_dims: dict[str, int],
        num_nodes: dict[str, int],
        relations: list[Etype],
        *,
        hidden: int = 64,
        num_layers: int = 2,
        num_bases: int = 0,
        dropout: float = 0.3,
        layer_norm: bool = True,
        self_loop: bool = True,
        concat_node_embed: bool = False,
        input_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        ntypes = sorted(num_nodes)
        self.input = InputEmbedding(feat_dims, num_nodes, hidden, concat_node_embed)
        self.input_dropout = nn.Dropout(input_dropout)
        self.layers = nn.ModuleList(
            [
                RelGraphConvLayer(
                    hidden,
                    hidden,
                    relations,
                    ntypes,
                    num_bases=num_bases,
                    self_loop=self_loop,
                    layer_norm=layer_norm,
                    dropout=dropout if i < num_layers - 1 else 0.0,
                    activation=i < num_layers - 1,
                )
                for i in range(num_layers)
            ]
        )
        self.hidden = hidden

    def embed_inputs(
        self, nids: dict[str, torch.Tensor], feats: dict[str, torch.Tensor]
    ) -> dict[str, torch.Tensor]:
        return {nt: self.input_dropout(self.input(nt, ids, feats.get(nt))) for nt, ids in nids.items()}

    def forward(self, blocks: list[dgl.DGLGraph], h: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``blocks`` input layer first (or the same full graph repeated); ``h`` layer-0 input."""
        for layer, block in zip(self.layers, blocks, strict=True):
            h = layer(block, h)
        return h

    def all_layers(self, g: dgl.DGLGraph, h: dict[str, torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        """Full-graph pass keeping every layer's input and the output: ``num_layers + 1`` dicts."""
        out = [h]
        for layer in self.layers:
            h = layer(g, h)
            out.append(h)
        return out
