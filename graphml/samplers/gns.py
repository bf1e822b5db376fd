"""GNS: global neighbour sampling (Dong, Zheng, Yang, Karypis, KDD 2021) as a DGL ``BlockSampler``.

Why: in mixed CPU-GPU training most of a mini-batch's cost is copying input-layer features to the
device. GNS draws a small global cache of nodes once per epoch (their features stay on the device)
and samples every layer mostly from that cache, so a mini-batch reads far fewer distinct
uncached nodes. Upper layers are cache-first too (unlike the paper, which biases the input layer
only): a cache-biased upper layer yields fewer, mostly cached destination nodes for the layer
below, and those destination nodes are themselves input nodes (the self term).

The estimator (our design; the paper's exact weighting is not reproduced, see below):

- **Cache (per epoch).** Poisson sampling: node ``u`` is cached independently with probability
  ``π_u = min(1, c · deg_u)``, ``c`` chosen so that ``Σ π_u`` is the cache size (about
  ``cache_fraction · |V|``). ``deg`` is the out-degree, i.e. how many in-neighbourhoods ``u`` sits
  in. Poisson sampling (rather than a fixed-size draw) is used because it makes each node's
  inclusion probability exactly ``π_u``, which the weights below need.
- **Every layer ``l`` (per seed ``v``, in-degree ``d_v``; ``k = fanouts[l]``,
  ``min_fanout = min_fanout[l]``).** Every in-edge ``e = (u, v)`` is kept independently with
  probability ``α_v`` if ``u`` is cached and ``β_v`` if not, where
  ``μ_v = Σ_{u∈N(v)} π_u`` is the expected number of cached neighbours, ``α_v = min(1, k/μ_v)``
  caps the cached neighbours at about the fanout ``k``, and ``β_v`` fills from outside the cache
  up to about ``min_fanout`` neighbours where the cache is expected to hold too few, and never
  below ``min_fanout / d_v`` (``β_v = clip(max(min_fanout - α_v μ_v, min_fanout (d_v - μ_v) / d_v)
  / (d_v - μ_v), 0, 1)``). The floor is what keeps the variance finite in practice: without it, a
  rarely cached low-degree neighbour that does land in the cache gets weight ``1 / (d_v π_u)``.
  The marginal probability of keeping ``e`` is ``q_e = π_u α_v + (1 - π_u) β_v``, so the
  Horvitz-Thompson sum ``Σ_{kept e} h_u / (d_v q_e)`` is an unbiased estimate of the mean
  ``(1/d_v) Σ_{u∈N(v)} h_u``.
- **Weights.** Models aggregate ``mean_e(w_e · h_u)`` over a block's in-edges (as for LABOR), so
  ``block.edata[EDGE_WEIGHT] = s_v / (d_v q_e)`` with ``s_v`` the number of kept in-edges of ``v``.
  ``q_e ≥ min(α_v, β_v)`` and ``β_v ≥ min_fanout / d_v`` bound every weight by about
  ``s_v / min_fanout``. ``min_fanout`` may be fractional (0.5: half an uncached neighbour per seed
  in expectation).

Implementation: vectorised over a layer's whole frontier (no Python loop per node). The per-edge
coins are drawn as a binomial count per seed and a uniform subset of that size (the same
distribution), using DGL's C++ uniform sampler on two per-epoch edge subgraphs (edges from
cached / uncached sources), so a batch costs about ``O(sampled edges)``, not ``O(Σ d_v)``.
Homogeneous graphs only; with ``num_workers > 0`` the loader's workers hold copies
of the sampler, so the per-epoch refresh only reaches them with non-persistent workers.
"""

from __future__ import annotations

from collections.abc import Sequence

import dgl
import torch

EDGE_WEIGHT = "w"  # same key as graphml.samplers.EDGE_WEIGHT (imported there; no cycle here)


def cache_inclusion_probabilities(weights: torch.Tensor, cache_size: float) -> torch.Tensor:
    """``π_i = min(1, c · weights_i)`` with ``Σ π_i = cache_size`` (float64, shape ``[n]``).

    Nodes whose share would exceed 1 are capped and ``c`` is re-solved over the rest.
    """
    w = weights.to(torch.float64)
    positive = int((w > 0).sum())
    if cache_size >= positive:
        return (w > 0).to(torch.float64)
    capped = torch.zeros_like(w, dtype=torch.bool)
    while True:
        scale = (cache_size - float(capped.sum())) / float(w[~capped].sum())
        new_capped = capped | (w * scale >= 1.0)
        if bool((new_capped == capped).all()):
            break
        capped = new_capped
    return torch.where(capped, torch.ones_like(w), w * scale).clamp_(max=1.0)


class GNSSampler(dgl.dataloading.BlockSampler):
    """Global neighbour sampling for a homogeneous graph (see the module docstring).

    Args:
        fanouts: neighbours per node and layer, input layer first; ``fanouts[l]`` caps the cached
            neighbours per seed of layer ``l`` (-1: every in-neighbour, unweighted).
        graph: the graph that will be sampled (degrees and the cache are computed from it).
        cache_fraction: expected cache size as a fraction of the nodes (the paper: 0.01).
        min_fanout: expected neighbours per seed to reach by filling from outside the cache, one
            value per layer (input layer first) or one value for every layer (0: the layer reads
            the cache only, as the paper's code does for the input layer).
        seed: seeds the cache draws and coin flips (DGL's own sampler uses ``dgl.seed``).

    Raises:
        ValueError: a heterograph, no layer, a zero or negative fanout other than -1, a
            ``cache_fraction`` outside ``(0, 1]``, or ``min_fanout`` of the wrong length or negative.
    """

    def __init__(
        self,
        fanouts: list[int],
        graph: dgl.DGLGraph,
        *,
        cache_fraction: float = 0.01,
        min_fanout: float | Sequence[float] = 1.0,
        seed: int | None = None,
        prefetch_node_feats=None,
        prefetch_labels=None,
        prefetch_edge_feats=None,
        output_device=None,
    ) -> None:
        super().__init__(
            prefetch_node_feats=prefetch_node_feats,
            prefetch_labels=prefetch_labels,
            prefetch_edge_feats=prefetch_edge_feats,
            output_device=output_device,
        )
        if graph.is_block or len(graph.canonical_etypes) != 1 or len(graph.ntypes) != 1:
            raise ValueError(
                "GNS samples homogeneous graphs only; use 'neighbor' or 'labor' for heterographs"
            )
        if not fanouts or any(k != -1 and k < 1 for k in fanouts):
            raise ValueError("GNS needs at least one layer; each fanout is positive or -1 (all)")
        if not 0.0 < cache_fraction <= 1.0:
            raise ValueError("cache_fraction must be in (0, 1]")
        if isinstance(min_fanout, int | float):
            min_fanouts = [float(min_fanout)] * len(fanouts)
        else:
            min_fanouts = [float(m) for m in min_fanout]
        if len(min_fanouts) != len(fanouts) or any(m < 0 for m in min_fanouts):
            raise ValueError("min_fanout is one non-negative number or one per layer (input layer first)")
        self.fanouts = list(fanouts)
        self.min_fanout = min_fanouts
        self.graph = graph
        self.num_nodes = graph.num_nodes()
        self.generator = torch.Generator()
        if seed is not None:
            self.generator.manual_seed(seed)
        self.cache_size = max(1.0, cache_fraction * self.num_nodes)
        src, dst = graph.edges()
        self.inclusion = cache_inclusion_probabilities(graph.out_degrees(), self.cache_size)  # π, [N]
        self.in_degree = graph.in_degrees()  # d, [N]
        # μ_v = Σ_{u→v} π_u, [N] (fixed: π depends only on degrees)
        self.expected_cached = torch.zeros(self.num_nodes, dtype=torch.float64).index_add_(
            0, dst, self.inclusion[src]
        )
        del src, dst
        # Per-seed scratch indexed by node id, [N]: only the current seeds' entries are read, so
        # a batch never allocates O(N).
        self._alpha = torch.zeros(self.num_nodes, dtype=torch.float64)
        self._beta = torch.zeros(self.num_nodes, dtype=torch.float64)
        self._kept = torch.zeros(self.num_nodes, dtype=torch.float64)
        self._limit = torch.zeros(self.num_nodes, dtype=torch.int64)
        self.epoch = -1
        self.new_epoch(0)

    # ------------------------------------------------------------------ cache
    def new_epoch(self, epoch: int) -> None:
        """Draw a new cache (Poisson sampling with probabilities ``self.inclusion``)."""
        self.epoch = epoch
        self.is_cached = (
            torch.rand(self.num_nodes, generator=self.generator, dtype=torch.float64) < self.inclusion
        )
        self.cache_nodes = torch.nonzero(self.is_cached).squeeze(1)
        src, _ = self.graph.edges()
        from_cache = self.is_cached[src]
        del src
        eids = torch.arange(self.graph.num_edges())
        self._cached_graph = dgl.edge_subgraph(
            self.graph, eids[from_cache], relabel_nodes=False, store_ids=True
        )
        self._uncached_graph = dgl.edge_subgraph(
            self.graph, eids[~from_cache], relabel_nodes=False, store_ids=True
        )
        for sub in (self._cached_graph, self._uncached_graph):
            for key in list(sub.ndata.keys()):
                sub.ndata.pop(key)
            for key in [k for k in sub.edata.keys() if k != dgl.EID]:
                sub.edata.pop(key)

    # ------------------------------------------------------------------ sampling
    def sample_blocks(self, g, seed_nodes, exclude_eids=None):
        """Blocks from the output layer down, each one cache-biased with its layer's fanouts."""
        if g.num_nodes() != self.num_nodes:
            raise ValueError("GNSSampler was built for a different graph")
        output_nodes = seed_nodes
        blocks = []
        for layer in range(len(self.fanouts) - 1, -1, -1):
            if self.fanouts[layer] == -1:
                block = self._full_block(g, seed_nodes, exclude_eids)
            else:
                block = self._cache_block(
                    seed_nodes, self.fanouts[layer], self.min_fanout[layer], exclude_eids
                )
            seed_nodes = block.srcdata[dgl.NID]
            blocks.insert(0, block)
        return seed_nodes, output_nodes, blocks

    def _full_block(self, g, seeds: torch.Tensor, exclude_eids) -> dgl.DGLGraph:
        """Every in-edge of ``seeds`` (exact mean, no weights)."""
        frontier = g.sample_neighbors(seeds, -1, exclude_edges=exclude_eids, output_device=self.output_device)
        eid = frontier.edata[dgl.EID]
        block = dgl.to_block(frontier, seeds)
        block.edata[dgl.EID] = eid
        return block

    def _cache_block(self, seeds: torch.Tensor, k: int, min_fanout: float, exclude_eids) -> dgl.DGLGraph:
        """One cache-biased layer for ``seeds`` (fanout ``k``, fill ``min_fanout``), with weights.

        All seeds at once: per-seed probabilities ``α, β`` are tensors over the frontier, the
        per-edge coins are binomial counts plus uniform subsets (:meth:`_uniform_subsets`), and
        the Horvitz-Thompson weights are one gather per edge. No Python loop over nodes.
        """
        seeds = seeds.to(torch.int64)
        d = self.in_degree[seeds].to(torch.float64)
        mu = self.expected_cached[seeds]
        alpha = torch.where(mu > k, k / mu.clamp(min=1e-12), torch.ones_like(mu))
        rest = d - mu
        fill = torch.maximum(min_fanout - alpha * mu, min_fanout * rest / d.clamp(min=1.0))
        beta = torch.where(rest > 1e-9, (fill / rest.clamp(min=1e-9)).clamp(0.0, 1.0), torch.zeros_like(mu))
        n_cached = self._cached_graph.in_degrees(seeds).to(torch.float64)
        n_uncached = self._uncached_graph.in_degrees(seeds).to(torch.float64)
        take_cached = torch.binomial(n_cached, alpha, generator=self.generator).to(torch.int64)
        take_uncached = torch.binomial(n_uncached, beta, generator=self.generator).to(torch.int64)
        u1, v1, e1 = self._uniform_subsets(self._cached_graph, seeds, take_cached)
        u2, v2, e2 = self._uniform_subsets(self._uncached_graph, seeds, take_uncached)
        src, dst, eid = torch.cat([u1, u2]), torch.cat([v1, v2]), torch.cat([e1, e2])
        if exclude_eids is not None:
            keep = ~torch.isin(eid, torch.as_tensor(exclude_eids, dtype=torch.int64))
            src, dst, eid = src[keep], dst[keep], eid[keep]

        self._alpha[seeds] = alpha
        self._beta[seeds] = beta
        pi = self.inclusion[src]
        q = pi * self._alpha[dst] + (1.0 - pi) * self._beta[dst]  # P(edge kept), [E_block]
        self._kept[seeds] = 0.0
        self._kept.index_add_(0, dst, torch.ones_like(q))  # s_v, kept in-edges per seed
        weight = self._kept[dst] / (self.in_degree[dst].to(torch.float64) * q)

        frontier = dgl.graph((src, dst), num_nodes=self.num_nodes)
        block = dgl.to_block(frontier, seeds)
        block.edata[dgl.EID] = eid
        block.edata[EDGE_WEIGHT] = weight.to(torch.float32)
        if self.output_device is not None:
            block = block.to(self.output_device)
        return block

    def _uniform_subsets(self, sub: dgl.DGLGraph, seeds: torch.Tensor, counts: torch.Tensor):
        """For each seed ``v``, a uniform subset of ``counts[v]`` of its in-edges in ``sub``.

        One DGL call samples ``max(counts)`` in-edges per seed uniformly without replacement; a
        random ``counts[v]`` of those are kept (a uniform subset of a uniform subset is uniform).
        Returns ``(src, dst, eid)`` with ``eid`` in the full graph's edge ids.
        """
        has = counts > 0
        seeds, counts = seeds[has], counts[has]
        if seeds.numel() == 0:
            empty = torch.empty(0, dtype=torch.int64)
            return empty, empty, empty
        fanout = int(counts.max())
        frontier = dgl.sampling.sample_neighbors(sub, seeds, fanout)
        src, dst = frontier.edges()
        eid = frontier.edata[dgl.EID]
        if fanout > 1 and not bool((counts == fanout).all()):
            self._limit[seeds] = counts
            order = torch.argsort(torch.rand(dst.numel(), generator=self.generator))
            order = order[torch.argsort(dst[order], stable=True)]  # grouped by seed, random within
            dst_sorted = dst[order]
            _, sizes = torch.unique_consecutive(dst_sorted, return_counts=True)
            rank = torch.arange(dst.numel()) - torch.repeat_interleave(torch.cumsum(sizes, 0) - sizes, sizes)
            keep = order[rank < self._limit[dst_sorted]]
            src, dst, eid = src[keep], dst[keep], eid[keep]
        return src, dst, sub.edata[dgl.EID][eid]

    def cache_bytes(self, feature_row_bytes: int) -> int:
        """Bytes copied to the device when this epoch's cache is loaded."""
        return int(self.cache_nodes.numel()) * feature_row_bytes
