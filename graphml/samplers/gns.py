"""GNS: global neighbour sampling (Dong, Zheng, Yang, Karypis, KDD 2021) as a DGL ``BlockSampler``.

Why: in mixed CPU-GPU training most of a mini-batch's cost is copying input-layer features to the
device. GNS draws a small global cache of nodes once per epoch (their features stay on the device)
and samples every layer mostly from that cache, so a mini-batch reads far fewer distinct
uncached nodes. Upper layers are cache-first too (unlike the paper, which biases the input layer
only): a cache-biased upper layer yields fewer, mostly cached destination nodes for the layer
below, and those destination nodes are themselves input nodes (the self term).

The estimator (our design; the paper's exact weighting is not reproduced, see below):

- **Cache (per epoch).** Poisson sampling: node ``u`` is cached independently with probability
  ``π_u = min(1, c · deg_u^γ)``, ``c`` chosen so that ``Σ π_u`` is the cache size (about
  ``cache_fraction · |V|``). ``deg`` is the out-degree, i.e. how many in-neighbourhoods ``u`` sits
  in; ``γ = cache_power`` (1 in the paper). A larger ``γ`` concentrates the cache on hubs: on the
  benchmark's power-law graph a 2% cache holds 15% of all edge sources with ``γ = 1``, 23% with
  ``γ = 2`` (26% for the top 2% by degree). Poisson sampling (rather than a fixed-size draw) is
  used because it makes each node's inclusion probability exactly ``π_u``, which the weights
  below need.
- **Every layer ``l`` (per seed ``v``, in-degree ``d_v``; ``k = fanouts[l]``,
  ``m = min_fanout[l]``).** Given the cache, each in-edge ``e = (u, v)`` is kept with probability
  ``p_e = α_v`` if ``u`` is cached and ``β_v`` if not, where ``μ_v = Σ_{u∈N(v)} π_u`` is the
  expected number of cached neighbours, ``α_v = min(1, k/μ_v)`` caps the cached neighbours at
  about the fanout ``k`` (in expectation), and ``β_v`` fills from outside the cache up to about
  ``m`` neighbours where the cache is expected to hold too few, and never below ``m / d_v``
  (``β_v = clip(max(m - α_v μ_v, m (d_v - μ_v) / d_v) / (d_v - μ_v), 0, 1)``). ``α_v, β_v``
  depend on degrees (and, with ``cached_min_fanout``, on whether ``v`` is cached) only.
- **Weights (Horvitz-Thompson).** With ``β_v > 0``, ``Σ_{kept e} h_u / (d_v p_e)`` is an unbiased
  estimate of the mean ``(1/d_v) Σ_{u∈N(v)} h_u`` given the cache, so the cache draw adds no
  variance. With ``β_v = 0`` (``m = 0``: the cache only, as in the paper's input layer) uncached
  sources are never drawn and ``p_e`` is replaced by the probability over the cache draw too,
  ``q_e = π_u α_v``: unbiased over caches. Models aggregate ``mean_e(w_e · h_u)`` over a block's
  in-edges (as for LABOR), so ``block.edata[EDGE_WEIGHT] = s_v / (d_v p_e)`` with ``s_v`` the
  number of kept in-edges of ``v``; ``β_v ≥ m / d_v`` bounds the weights of the fill by
  ``s_v / m``. ``m`` may be fractional (0.5: half an uncached neighbour per seed in expectation).
- **Cached destinations fill less (``cached_min_fanout``).** Below the output layer, a
  destination node that is itself cached may use its own, smaller ``m``. Why: such nodes come in
  numbers (up to ``k`` cached neighbours per seed above), each carries a small share of its
  parent's mean, and every uncached neighbour they draw costs a feature load plus, on lower
  layers, the loads of its own neighbours. The estimator is unchanged (``m`` only sets ``β_v``).
- **Exact input layer for cached nodes (``cached_aggregates``).** The input features are fixed,
  so a node's input-layer neighbour mean ``x̄_v = (1/d_v) Σ_{u∈N(v)} x_u`` is a constant:
  :meth:`GNSSampler.feature_table` computes it once for every node (row ``N + v``, after the
  ``N`` feature rows) and the cache holds both rows of its nodes (``cache_rows``). A cached
  input-layer destination then gets one in-edge of weight 1 from the virtual source ``N + v``
  instead of sampled ones: its mean is exact (no variance, nothing to unbias) and costs no
  per-batch load. Input nodes may thus hold ids ``>= N`` (rows of ``feature_table``; their edges
  have ``dgl.EID`` -1). Off when edges are excluded (``exclude_eids``: the precomputed means
  would include them).

Implementation: vectorised over a layer's whole frontier (no Python loop per node). Once per epoch
every node's in-edge list (the graph's CSC, built once) is split into cached and uncached sources
by a few vector passes. Per batch, each seed's two groups are sampled by systematic sampling
(:func:`systematic_sample`: exact per-edge probabilities ``α_v`` / ``β_v``, kept counts ``⌊n p⌋``
or ``⌈n p⌉``, which varies less than independent coins), so a batch costs about
``O(sampled edges)``, not ``O(Σ d_v)``. Homogeneous graphs only; with ``num_workers > 0`` the
loader's workers hold copies of the sampler, so the per-epoch refresh only reaches them with
non-persistent workers.
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


def systematic_sample(
    start: torch.Tensor, count: torch.Tensor, prob: torch.Tensor, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Systematic sampling in many groups at once: group ``g`` is positions
    ``start[g] .. start[g] + count[g] - 1`` and each of them is kept with probability exactly
    ``prob[g]``.

    Per group, one uniform offset ``r ∈ [0, 1/p)`` and the positions ``⌊r + i/p⌋`` below the
    count: every position is hit with probability ``p`` and the group keeps ``⌊count·p⌋`` or
    ``⌈count·p⌉`` of them, so the count varies less than with independent coins (a binomial);
    only these marginal probabilities enter the Horvitz-Thompson weights. Vectorised: the cost is
    the number of kept positions, not the groups' sizes (hubs have thousands of in-edges).

    Returns ``(group, position)``: the group index and absolute position of every kept element.
    """
    p = prob.clamp(0.0, 1.0)
    live = (p > 0) & (count > 0)
    step = torch.where(live, 1.0 / p.clamp(min=1e-12), torch.ones_like(p))
    offset = torch.rand(p.numel(), generator=generator, dtype=torch.float64) * step
    n = count.to(torch.float64)
    taken = torch.where(live & (offset < n), torch.ceil((n - offset) / step), torch.zeros_like(n))
    taken = taken.to(torch.int64)
    group = torch.repeat_interleave(torch.arange(p.numel()), taken)
    first = torch.cumsum(taken, 0) - taken
    i = torch.arange(group.numel()) - first[group]
    pos = torch.floor(offset[group] + i * step[group]).to(torch.int64)
    pos = torch.minimum(pos, count[group] - 1)  # float rounding at the group's end
    return group, start[group] + pos


class GNSSampler(dgl.dataloading.BlockSampler):
    """Global neighbour sampling for a homogeneous graph (see the module docstring).

    Args:
        fanouts: neighbours per node and layer, input layer first; ``fanouts[l]`` caps the cached
            neighbours per seed of layer ``l`` (-1: every in-neighbour, unweighted).
        graph: the graph that will be sampled (degrees and the cache are computed from it).
        cache_fraction: expected cache size as a fraction of the nodes (the paper: 0.01).
        min_fanout: expected neighbours per seed to reach by filling from outside the cache, one
            value per layer (input layer first) or one value for every layer (0: the layer reads
            the cache only, as the paper's code does for the input layer). Default (None): 1 for
            the input layer and the layer's own fanout above it, so upper layers keep about as
            many neighbours as neighbour sampling would (the paper's setting, and the safe one on
            small graphs, where a 1% cache is a few dozen nodes); the sampler benchmark passes
            smaller upper-layer values to trade accuracy for bytes.
        cache_power: ``γ`` in ``π_u ∝ deg_u^γ`` (1: the paper's degree-proportional cache).
        cached_min_fanout: per layer (input layer first), the ``min_fanout`` of destination nodes
            that are themselves cached; the output layer (the seeds) always uses ``min_fanout``.
            Default (None): the same as ``min_fanout``.
        cached_aggregates: give cached input-layer destinations their exact, precomputed
            neighbour mean (see the module docstring); the caller must gather input features
            from :meth:`feature_table` and load ``cache_rows`` onto the device.
        seed: seeds the cache draws and coin flips (DGL's own sampler uses ``dgl.seed``).

    Raises:
        ValueError: a heterograph, no layer, a zero or negative fanout other than -1, a
            ``cache_fraction`` outside ``(0, 1]``, or ``min_fanout`` / ``cached_min_fanout`` of the
            wrong length or negative.
    """

    def __init__(
        self,
        fanouts: list[int],
        graph: dgl.DGLGraph,
        *,
        cache_fraction: float = 0.01,
        min_fanout: float | Sequence[float] | None = None,
        cache_power: float = 1.0,
        cached_min_fanout: Sequence[float] | None = None,
        cached_aggregates: bool = False,
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
        if min_fanout is None:
            min_fanouts = [1.0] + [float(max(k, 0)) for k in fanouts[1:]]
        elif isinstance(min_fanout, int | float):
            min_fanouts = [float(min_fanout)] * len(fanouts)
        else:
            min_fanouts = [float(m) for m in min_fanout]
        if len(min_fanouts) != len(fanouts) or any(m < 0 for m in min_fanouts):
            raise ValueError("min_fanout is one non-negative number or one per layer (input layer first)")
        cached_min = min_fanouts if cached_min_fanout is None else [float(m) for m in cached_min_fanout]
        if len(cached_min) != len(fanouts) or any(m < 0 for m in cached_min):
            raise ValueError("cached_min_fanout is one non-negative number per layer (input layer first)")
        self.cached_min_fanout = cached_min
        self.cached_aggregates = cached_aggregates
        self.fanouts = list(fanouts)
        self.min_fanout = min_fanouts
        self.graph = graph
        self.num_nodes = graph.num_nodes()
        self.generator = torch.Generator()
        if seed is not None:
            self.generator.manual_seed(seed)
        self.cache_size = max(1.0, cache_fraction * self.num_nodes)
        # In-edges of every node, contiguous per destination (built once): ``csc_indptr [N+1]``,
        # source ``csc_src [E]`` and edge id ``csc_eid [E]`` per CSC position.
        self.csc_indptr, self.csc_src, self.csc_eid = graph.adj_tensors("csc")
        self.inclusion = cache_inclusion_probabilities(
            graph.out_degrees().to(torch.float64) ** cache_power, self.cache_size
        )  # π, [N]
        self.in_degree = graph.in_degrees()  # d, [N]
        # μ_v = Σ_{u→v} π_u, [N] (fixed: π depends only on degrees)
        dst = torch.repeat_interleave(torch.arange(self.num_nodes), self.in_degree)
        self.expected_cached = torch.zeros(self.num_nodes, dtype=torch.float64).index_add_(
            0, dst, self.inclusion[self.csc_src]
        )
        del dst
        # node id -> row in the block being built, -1 elsewhere; [N] scratch, [2N] with the
        # virtual sources of cached aggregates (reset after use)
        self._local = torch.full((self.num_nodes * (2 if cached_aggregates else 1),), -1, dtype=torch.int64)
        self._cached_before: torch.Tensor | None = None  # [E + 1] running count of cached sources
        self.epoch = -1
        self.new_epoch(0)

    # ------------------------------------------------------------------ cache
    def new_epoch(self, epoch: int) -> None:
        """Draw a new cache (Poisson sampling with probabilities ``self.inclusion``) and split every
        node's in-edge list into cached and uncached sources.

        The split is two position lists into the CSC arrays (``_cached_pos``, ``_uncached_pos``,
        each still grouped by destination) plus where each destination's group starts in them, so
        a seed's cached (uncached) in-edges are ``_cached_pos[start : start + count]``. It costs a
        few vector passes over the edges once per epoch; no graph is rebuilt.
        """
        self.epoch = epoch
        self.is_cached = (
            torch.rand(self.num_nodes, generator=self.generator, dtype=torch.float64) < self.inclusion
        )
        self.cache_nodes = torch.nonzero(self.is_cached).squeeze(1)
        # rows of feature_table() the device holds this epoch: the features of the cached nodes
        # and, with cached aggregates, their neighbour means
        self.cache_rows = self.cache_nodes
        if self.cached_aggregates:
            self.cache_rows = torch.cat([self.cache_nodes, self.num_nodes + self.cache_nodes])
        from_cache = self.is_cached[self.csc_src]  # [E], CSC order
        # The running count lives in a buffer kept from epoch to epoch: a fresh [E + 1] tensor
        # cost more in page faults (the allocator hands such sizes back to the OS) than the sum.
        if self._cached_before is None:
            self._cached_before = torch.zeros(self.csc_src.numel() + 1, dtype=torch.int64)
        torch.cumsum(from_cache, 0, out=self._cached_before[1:])
        start = self._cached_before[self.csc_indptr]  # cached edges before each node's group, [N+1]
        self._cached_start = start[:-1]
        self._cached_count = start[1:] - start[:-1]
        self._uncached_start = self.csc_indptr[:-1] - self._cached_start
        self._cached_pos = torch.nonzero(from_cache).squeeze(1)
        self._uncached_pos = torch.nonzero(~from_cache).squeeze(1)

    # ------------------------------------------------------------------ sampling
    def sample_blocks(self, g, seed_nodes, exclude_eids=None):
        """Blocks from the output layer down, each one cache-biased with its layer's fanouts;
        below the output layer, cached destinations fill with ``cached_min_fanout`` and, on the
        input layer with cached aggregates, read their exact neighbour mean."""
        if g.num_nodes() != self.num_nodes:
            raise ValueError("GNSSampler was built for a different graph")
        output_nodes = seed_nodes
        blocks = []
        for layer in range(len(self.fanouts) - 1, -1, -1):
            if self.fanouts[layer] == -1:
                block = self._full_block(g, seed_nodes, exclude_eids)
            else:
                m = torch.full((seed_nodes.numel(),), self.min_fanout[layer], dtype=torch.float64)
                if layer < len(self.fanouts) - 1:
                    m[self.is_cached[seed_nodes]] = self.cached_min_fanout[layer]
                exact = None  # [num_seeds] bool: destinations that read their precomputed mean
                if layer == 0 and self.cached_aggregates and exclude_eids is None:
                    exact = self.is_cached[seed_nodes]
                block = self._cache_block(seed_nodes, self.fanouts[layer], m, exclude_eids, exact)
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

    def _cache_block(
        self,
        seeds: torch.Tensor,
        k: int,
        min_fanout: torch.Tensor,
        exclude_eids,
        exact: torch.Tensor | None = None,
    ) -> dgl.DGLGraph:
        """One cache-biased layer for ``seeds`` (fanout ``k``, per-seed fill ``min_fanout``
        ``[num_seeds]``), with weights. Seeds flagged in ``exact`` ``[num_seeds]`` get only the
        edge from their precomputed neighbour mean (virtual source ``N + v``, weight 1).

        All seeds at once: per-seed probabilities ``α, β`` are tensors over the frontier, each
        seed's cached and uncached in-edge groups are sampled by :func:`systematic_sample`, and
        the Horvitz-Thompson weights are one gather per edge. No Python loop over nodes.
        """
        seeds = seeds.to(torch.int64)
        d = self.in_degree[seeds].to(torch.float64)
        mu = self.expected_cached[seeds]
        alpha = torch.where(mu > k, k / mu.clamp(min=1e-12), torch.ones_like(mu))
        rest = d - mu
        fill = torch.maximum(min_fanout - alpha * mu, min_fanout * rest / d.clamp(min=1.0))
        beta = torch.where(rest > 1e-9, (fill / rest.clamp(min=1e-9)).clamp(0.0, 1.0), torch.zeros_like(mu))
        if exact is not None:  # these seeds read their precomputed neighbour mean instead
            alpha = alpha.masked_fill(exact, 0.0)
            beta = beta.masked_fill(exact, 0.0)
        c_count = self._cached_count[seeds]
        c_row, c_pos = systematic_sample(self._cached_start[seeds], c_count, alpha, self.generator)
        u_count = self.in_degree[seeds] - c_count
        u_row, u_pos = systematic_sample(self._uncached_start[seeds], u_count, beta, self.generator)
        row = torch.cat([c_row, u_row])  # index into seeds, [E_block]
        csc = torch.cat([self._cached_pos[c_pos], self._uncached_pos[u_pos]])
        src, eid = self.csc_src[csc], self.csc_eid[csc]
        # Keep probability of each kept edge. Given the cache it is α_v (cached source) or β_v
        # (uncached): the estimate is unbiased given the cache when β_v > 0, and conditioning
        # keeps the cache draw's own variance out of it. Where β_v = 0 (no fill) uncached sources
        # are never drawn, so the weight uses the probability over the cache draw as well,
        # ``q_e = π_u α_v``: unbiased over caches. (β_v depends on degrees only, not on the draw.)
        prob = torch.cat([alpha[c_row], beta[u_row]])
        prob = torch.where(beta[row] == 0, self.inclusion[src] * alpha[row], prob)
        if exclude_eids is not None:
            keep = ~torch.isin(eid, torch.as_tensor(exclude_eids, dtype=torch.int64))
            row, src, eid, prob = row[keep], src[keep], eid[keep], prob[keep]
        kept = torch.bincount(row, minlength=seeds.numel()).to(torch.float64)  # s_v, [num_seeds]
        weight = kept[row] / (d[row] * prob)
        if exact is not None:
            x_row = torch.nonzero(exact).squeeze(1)
            row = torch.cat([row, x_row])
            src = torch.cat([src, self.num_nodes + seeds[x_row]])
            eid = torch.cat([eid, torch.full_like(x_row, -1)])
            weight = torch.cat([weight, torch.ones(x_row.numel(), dtype=torch.float64)])
        block = self._make_block(seeds, row, src)
        block.edata[dgl.EID] = eid
        block.edata[EDGE_WEIGHT] = weight.to(torch.float32)
        if self.output_device is not None:
            block = block.to(self.output_device)
        return block

    def _make_block(self, seeds: torch.Tensor, row: torch.Tensor, src: torch.Tensor) -> dgl.DGLGraph:
        """A block with destinations ``seeds`` and edges ``src[i] -> seeds[row[i]]``; sources are
        the seeds first, then the other sources in ascending id (DGL's block convention).

        Hand-written relabelling (rather than ``dgl.to_block`` on an N-node frontier) so a batch
        costs O(block edges) with a reused id map.
        """
        local = self._local
        local[seeds] = torch.arange(seeds.numel())
        others = torch.unique(src[local[src] < 0])
        local[others] = torch.arange(seeds.numel(), seeds.numel() + others.numel())
        src_local = local[src]
        local[seeds] = -1
        local[others] = -1
        block = dgl.create_block(
            (src_local, row),
            num_src_nodes=seeds.numel() + others.numel(),
            num_dst_nodes=seeds.numel(),
        )
        block.srcdata[dgl.NID] = torch.cat([seeds, others])
        block.dstdata[dgl.NID] = seeds
        return block

    def feature_table(self, features: torch.Tensor) -> torch.Tensor:
        """The rows input nodes index: ``features`` ``[N, F]``, followed with cached aggregates by
        every node's exact in-neighbour mean ``[N, F]`` (row ``N + v``), computed once."""
        if not self.cached_aggregates:
            return features
        return torch.cat([features, dgl.ops.copy_u_mean(self.graph, features)])

    def cache_bytes(self, feature_row_bytes: int) -> int:
        """Bytes copied to the device when this epoch's cache is loaded."""
        return int(self.cache_rows.numel()) * feature_row_bytes
