"""Knowledge-graph embedding models for featureless link prediction: TransE, DistMult, RotatE.

Every model scores a query ``(head, relation)`` against all entities at once (``score_all``,
``[b, num_entities]``), which is what 1-vs-all training and filtered ranking need. Relations are
doubled with reciprocals (relation ``r + R`` answers ``(?, r, tail)`` as ``(tail, r + R, ?)``), so
head and tail prediction are the same call. TransE and RotatE use the L2 distance so that
``score_all`` is a matrix product (``|q - t|^2 = |q|^2 + |t|^2 - 2 q.t``).
"""

from __future__ import annotations

import torch
from torch import nn

KGE_MODELS = ("transe", "distmult", "rotate")


class KGEModel(nn.Module):
    def __init__(self, num_entities: int, num_relations: int, dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.num_relations = num_relations  # without reciprocals
        self.entity = nn.Embedding(num_entities, dim)
        self.relation = nn.Embedding(2 * num_relations, self.relation_dim(dim))
        nn.init.xavier_uniform_(self.entity.weight)
        nn.init.xavier_uniform_(self.relation.weight)
        self.dropout = nn.Dropout(dropout)

    def relation_dim(self, dim: int) -> int:
        return dim

    def query(self, head: torch.Tensor, rel: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def score_all(
        self, head: torch.Tensor, rel: torch.Tensor, cand: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Queries ``[b]`` against every entity (or the ``cand`` ``[m]`` entities): ``[b, m]``."""
        ents = self.entity.weight if cand is None else self.entity(cand)
        return self.match(self.query(head, rel), ents)

    def match(self, q: torch.Tensor, ents: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def score(self, head: torch.Tensor, rel: torch.Tensor, tail: torch.Tensor) -> torch.Tensor:
        """Paired scores ``[b]`` (consistent with ``score_all``)."""
        full = self.score_all(head, rel)
        return full.gather(1, tail.view(-1, 1)).squeeze(1)


class DistMult(KGEModel):
    def query(self, head: torch.Tensor, rel: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.entity(head) * self.relation(rel))  # [b, d]

    def match(self, q: torch.Tensor, ents: torch.Tensor) -> torch.Tensor:
        return q @ ents.T


def _neg_l2(q: torch.Tensor, ents: torch.Tensor) -> torch.Tensor:
    dist2 = (q * q).sum(1, keepdim=True) + (ents * ents).sum(1) - 2 * q @ ents.T
    return -torch.sqrt(dist2.clamp_min(1e-9))


class TransE(KGEModel):
    def query(self, head: torch.Tensor, rel: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.entity(head) + self.relation(rel))

    def match(self, q: torch.Tensor, ents: torch.Tensor) -> torch.Tensor:
        return _neg_l2(q, ents)


class RotatE(KGEModel):
    """Entities are complex vectors (``dim`` = 2 x complex size); a relation is a phase per
    complex dimension, rotating the head: ``q = h * exp(i theta)``."""

    def relation_dim(self, dim: int) -> int:
        return dim // 2

    def match(self, q: torch.Tensor, ents: torch.Tensor) -> torch.Tensor:
        return _neg_l2(q, ents)

    def query(self, head: torch.Tensor, rel: torch.Tensor) -> torch.Tensor:
        h = self.entity(head)
        half = h.shape[1] // 2
        re, im = h[:, :half], h[:, half:]
        theta = self.relation(rel) * torch.pi
        c, s = torch.cos(theta), torch.sin(theta)
        return self.dropout(torch.cat([re * c - im * s, re * s + im * c], dim=1))


def make_kge(name: str, num_entities: int, num_relations: int, dim: int, dropout: float = 0.0) -> KGEModel:
    classes = {"transe": TransE, "distmult": DistMult, "rotate": RotatE}
    if name not in classes:
        raise ValueError(f"unknown KGE model {name!r}; expected one of {', '.join(KGE_MODELS)}")
    return classes[name](num_entities, num_relations, dim, dropout)
