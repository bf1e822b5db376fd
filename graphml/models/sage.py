"""GraphSAGE with mean aggregation that honours per-edge sampler weights.

Each layer computes, for a destination node ``v`` with sampled in-edges ``e = (u, v)``::

    h'_v = W_self · h_v + W_neigh · mean_e(w_e · h_u)

where ``w_e = block.edata[EDGE_WEIGHT]`` when the sampler put weights there (LABOR's importance
weights, GNS's unbiasing weights) and 1 otherwise. That is the contract of
:mod:`graphml.samplers`. The same module runs on sampled blocks (training), on a whole graph
(full-neighbour inference on small graphs) and on DistDGL's blocks (distributed training).
"""

from __future__ import annotations

import warnings

import dgl
import torch
from torch import nn

from graphml.samplers import EDGE_WEIGHT

# weighted_mean's sparse CSR product works in torch 2.2; only the "beta" notice is silenced
warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta", category=UserWarning)


def weighted_mean(graph: dgl.DGLGraph, h_src: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    """``mean_e(w_e · h_u)`` per destination node: ``[num_dst, D]`` from ``h_src [num_src, D]``.

    Nodes without in-edges get zeros. With weights this is one sparse-matrix product
    ``A · h_src``, ``A [num_dst, num_src]`` in CSR with ``A[v, u] = w_e / d_v`` (``d_v`` the
    destination's in-edges in ``graph``), built from the graph's CSC: on CPU it runs 2-3x faster,
    forward and backward, than DGL's ``u_mul_e_mean`` (same result up to float rounding).
    """
    if weight is None:
        return dgl.ops.copy_u_mean(graph, h_src)
    indptr, indices, eid = graph.adj_tensors("csc")  # in-edges grouped by destination
    counts = indptr[1:] - indptr[:-1]
    dst = torch.repeat_interleave(torch.arange(counts.numel(), device=counts.device), counts)
    values = weight[eid].to(h_src.dtype) / counts.clamp(min=1).to(h_src.dtype)[dst]
    num_dst = graph.num_dst_nodes() if graph.is_block else graph.num_nodes()
    adj = torch.sparse_csr_tensor(indptr, indices, values, (num_dst, h_src.shape[0]))
    return adj @ h_src


class WeightedSAGEConv(nn.Module):
    """One GraphSAGE-mean layer (see the module docstring); ``in_feats -> out_feats``."""

    def __init__(self, in_feats: int, out_feats: int) -> None:
        super().__init__()
        self.in_feats, self.out_feats = in_feats, out_feats
        self.fc_self = nn.Linear(in_feats, out_feats)
        self.fc_neigh = nn.Linear(in_feats, out_feats, bias=False)

    def forward(
        self, graph: dgl.DGLGraph, h_src: torch.Tensor, weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``graph``: a block (``num_src`` source, ``num_dst`` destination nodes, destinations first
        among the sources) or a homogeneous graph; ``h_src``: ``[num_src, in_feats]``.
        Returns ``[num_dst, out_feats]``."""
        h_dst = h_src[: graph.num_dst_nodes()] if graph.is_block else h_src
        if self.in_feats > self.out_feats:  # project first: the aggregation then moves fewer floats
            neigh = weighted_mean(graph, self.fc_neigh(h_src), weight)
        else:
            neigh = self.fc_neigh(weighted_mean(graph, h_src, weight))
        return self.fc_self(h_dst) + neigh


class SAGE(nn.Module):
    """``num_layers`` GraphSAGE-mean layers with ReLU and dropout between them.

    Args:
        in_feats: input feature width.
        hidden: hidden width.
        out_feats: output width (classes for node classification).
        num_layers: number of layers (= number of blocks a sampler must produce).
        dropout: dropout probability on hidden representations.
    """

    def __init__(
        self, in_feats: int, hidden: int, out_feats: int, num_layers: int = 2, dropout: float = 0.5
    ) -> None:
        super().__init__()
        widths = [in_feats] + [hidden] * (num_layers - 1) + [out_feats]
        self.layers = nn.ModuleList(
            WeightedSAGEConv(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.dropout = nn.Dropout(dropout)
        self.hyper = {
            "in_feats": in_feats,
            "hidden": hidden,
            "out_feats": out_feats,
            "num_layers": num_layers,
            "dropout": dropout,
        }

    def forward(self, blocks: list[dgl.DGLGraph], x: torch.Tensor) -> torch.Tensor:
        """``x``: input features of ``blocks[0]``'s source nodes ``[num_src0, in_feats]``;
        returns logits of the last block's destination nodes ``[num_dst_last, out_feats]``."""
        h = x
        for i, (layer, block) in enumerate(zip(self.layers, blocks, strict=True)):
            weight = block.edata[EDGE_WEIGHT] if EDGE_WEIGHT in block.edata else None
            h = layer(block, h, weight)
            if i < len(self.layers) - 1:
                h = self.dropout(torch.relu(h))
        return h

    @torch.no_grad()
    def full_inference(self, graph: dgl.DGLGraph, x: torch.Tensor, batch_size: int = 20000) -> torch.Tensor:
        """Exact logits of every node ``[num_nodes, out_feats]`` using all neighbours, layer by layer
        (each layer over chunks of ``batch_size`` destination nodes, so memory stays
        ``O(num_nodes · hidden)``)."""
        was_training = self.training
        self.eval()
        sampler = dgl.dataloading.MultiLayerFullNeighborSampler(1)
        nodes = torch.arange(graph.num_nodes())
        h = x
        for i, layer in enumerate(self.layers):
            out = torch.empty(graph.num_nodes(), layer.out_feats)
            loader = dgl.dataloading.DataLoader(graph, nodes, sampler, batch_size=batch_size, shuffle=False)
            for input_nodes, output_nodes, blocks in loader:
                y = layer(blocks[0], h[input_nodes])
                if i < len(self.layers) - 1:
                    y = torch.relu(y)
                out[output_nodes] = y
            h = out
        self.train(was_training)
        return h
