"""Task heads on top of node embeddings (``[n, hidden]``), kept apart from the encoders."""

from __future__ import annotations

import torch
from torch import nn


class NodeHead(nn.Module):
    """``[n, hidden]`` -> ``[n, out]`` logits (classes) or values (``out == 1``: regression)."""

    def __init__(self, hidden: int, out: int) -> None:
        super().__init__()
        self.linear = nn.Linear(hidden, out)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.linear(h)


class EdgeHead(nn.Module):
    """An edge's two endpoint embeddings ``[n, hidden]`` each -> ``[n, out]`` (an MLP on the
    concatenation, so direction matters)."""

    def __init__(self, hidden: int, out: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, out))

    def forward(self, h_src: torch.Tensor, h_dst: torch.Tensor) -> torch.Tensor:
        return self.mlp(torch.cat([h_src, h_dst], dim=-1))


class DistMultDecoder(nn.Module):
    """Link score ``sum_k h_s[k] * r[k] * h_d[k]`` with one diagonal relation vector per target
    relation (DistMult, the default link decoder of GraphStorm and Neptune's toolkit)."""

    def __init__(self, hidden: int, num_relations: int = 1) -> None:
        super().__init__()
        self.rel = nn.Parameter(torch.full((num_relations, hidden), hidden**-0.5))

    def forward(self, h_src: torch.Tensor, h_dst: torch.Tensor, rel: int = 0) -> torch.Tensor:
        """Paired scores ``[n]``."""
        return (h_src * self.rel[rel] * h_dst).sum(-1)

    def score_all(self, h_src: torch.Tensor, h_cand: torch.Tensor, rel: int = 0) -> torch.Tensor:
        """Every source ``[b, hidden]`` against every candidate ``[m, hidden]``: ``[b, m]``."""
        return (h_src * self.rel[rel]) @ h_cand.T
