"""A synthetic power-law graph whose node features carry the labels (Chung-Lu style, homophilous).

Why generated: the sampler benchmark needs a graph with millions of nodes and a skewed degree
distribution (where GNS's degree-biased cache pays off) on machines without real data.

How: node ``i`` gets weight ``θ_i ∝ rank^(-1/(γ-1))`` (a random rank, so ids carry no degree
order), which makes expected degrees follow a power law with exponent ``γ``. Each undirected edge
picks its first end with probability ``∝ θ``; its other end, with probability ``homophily``, is
drawn ``∝ θ`` among nodes of the same class, otherwise among all nodes. Features are the class
centroid plus Gaussian noise strong enough that one node's own features classify it poorly and its
neighbourhood classifies it well, so accuracy depends on how neighbours are sampled.
"""

from __future__ import annotations

import dgl
import torch


def _draw(cum: torch.Tensor, low: torch.Tensor, high: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Positions drawn ``∝`` the masses whose cumulative sums are ``cum``, within ``[low, high)``
    of the cumulative mass (one uniform draw per element of ``low``)."""
    r = low + torch.rand(low.shape, generator=gen, dtype=torch.float64) * (high - low)
    return torch.searchsorted(cum, r, right=True).clamp_(max=cum.numel() - 1)


def power_law_graph(
    num_nodes: int,
    num_edges: int,
    *,
    num_classes: int = 10,
    num_features: int = 100,
    exponent: float = 2.5,
    homophily: float = 0.8,
    centroid_norm: float = 1.0,
    train_fraction: float = 0.1,
    val_fraction: float = 0.05,
    test_fraction: float = 0.1,
    seed: int = 0,
) -> dgl.DGLGraph:
    """Generate the graph (node data as in :mod:`graphml.datasets`).

    Args:
        num_nodes: node count.
        num_edges: directed edge count (each undirected pair is stored in both directions, so
            ``num_edges // 2`` distinct pairs; no self-loops, no duplicates).
        num_classes / num_features: label classes and feature width.
        exponent: power-law exponent ``γ`` of the degree distribution (> 2).
        homophily: probability that an edge joins two nodes of the same class by design.
        centroid_norm: norm of each class centroid; noise has unit variance per feature.
        train_fraction / val_fraction / test_fraction: disjoint random node splits.
        seed: the generator's seed (same seed, same graph).
    """
    if exponent <= 1.0:
        raise ValueError("exponent must be > 1")
    gen = torch.Generator().manual_seed(seed)
    rank = torch.randperm(num_nodes, generator=gen).to(torch.float64) + 1.0
    theta = rank.pow(-1.0 / (exponent - 1.0))
    label = torch.randint(num_classes, (num_nodes,), generator=gen)

    # Cumulative weights in class-sorted order: a global draw uses the whole range, a same-class
    # draw the class's slice of it.
    order = torch.argsort(label, stable=True)
    cum = torch.cumsum(theta[order], 0)
    class_end = cum[torch.cumsum(torch.bincount(label, minlength=num_classes), 0) - 1]
    class_start = torch.cat([torch.zeros(1, dtype=torch.float64), class_end[:-1]])
    total = cum[-1]

    target_pairs = num_edges // 2
    pairs = torch.empty(0, dtype=torch.int64)
    while pairs.numel() < target_pairs:
        n = int((target_pairs - pairs.numel()) * 1.15) + 16
        zeros = torch.zeros(n, dtype=torch.float64)
        u = order[_draw(cum, zeros, zeros + total, gen)]
        same = torch.rand(n, generator=gen) < homophily
        lo = torch.where(same, class_start[label[u]], zeros)
        hi = torch.where(same, class_end[label[u]], zeros + total)
        v = order[_draw(cum, lo, hi, gen)]
        keep = u != v
        a, b = torch.minimum(u, v)[keep], torch.maximum(u, v)[keep]
        pairs = torch.unique(torch.cat([pairs, a * num_nodes + b]))
        del u, v, same, lo, hi, a, b, keep
    pairs = pairs[torch.randperm(pairs.numel(), generator=gen)[:target_pairs]]
    a, b = pairs // num_nodes, pairs % num_nodes
    del pairs
    g = dgl.graph((torch.cat([a, b]), torch.cat([b, a])), num_nodes=num_nodes)
    del a, b

    centroids = torch.randn(num_classes, num_features, generator=gen)
    centroids *= centroid_norm / centroids.norm(dim=1, keepdim=True)
    feat = torch.randn(num_nodes, num_features, generator=gen)
    feat += centroids[label]
    g.ndata["feat"] = feat
    g.ndata["label"] = label

    perm = torch.randperm(num_nodes, generator=gen)
    bounds = [0]
    for frac in (train_fraction, val_fraction, test_fraction):
        bounds.append(bounds[-1] + int(frac * num_nodes))
    for i, split in enumerate(("train", "val", "test")):
        mask = torch.zeros(num_nodes, dtype=torch.bool)
        mask[perm[bounds[i] : bounds[i + 1]]] = True
        g.ndata[f"{split}_mask"] = mask
    return g
