"""GNS's properties: the cache is drawn by degree, every layer is cache-first with its own
``min_fanout``, and the weights make mean aggregation unbiased."""

from __future__ import annotations

import dgl
import pytest
import torch

from graphml.datasets import power_law_graph
from graphml.models.sage import weighted_mean
from graphml.samplers import EDGE_WEIGHT, make_block_sampler, new_epoch
from graphml.samplers.gns import GNSSampler, cache_inclusion_probabilities, systematic_sample


@pytest.fixture(scope="module")
def graph() -> dgl.DGLGraph:
    return power_law_graph(3000, 30000, num_features=4, seed=1)


def test_inclusion_probabilities_are_proportional_to_degree_and_sum_to_the_cache_size():
    deg = torch.tensor([0, 1, 2, 4, 8, 100], dtype=torch.float64)
    pi = cache_inclusion_probabilities(deg, 2.0)
    assert float(pi.sum()) == pytest.approx(2.0)
    assert pi[0] == 0 and pi[5] == 1.0  # no degree: never; the hub: capped at certainty
    uncapped = pi[1:5] / deg[1:5]
    assert torch.allclose(uncapped, uncapped[0].expand(4))


def test_cache_is_drawn_by_degree(graph):
    sampler = GNSSampler([5], graph, cache_fraction=0.01, seed=7)
    deg = graph.out_degrees().to(torch.float64)
    pi = sampler.inclusion
    assert float(pi.sum()) == pytest.approx(0.01 * graph.num_nodes())
    epochs = 300
    hits = torch.zeros(graph.num_nodes(), dtype=torch.float64)
    sizes = []
    for epoch in range(epochs):
        new_epoch(sampler, epoch)
        hits[sampler.cache_nodes] += 1
        sizes.append(sampler.cache_nodes.numel())
    assert abs(sum(sizes) / epochs - 30) < 2.0  # about 1% of the nodes
    # Per degree bucket, the observed cache count matches Σ π (binomial z-score), and the
    # per-node rate grows with degree.
    edges = [1, 3, 6, 12, 25, 50, 100, 10**9]
    rates = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sel = (deg >= lo) & (deg < hi)
        if int(sel.sum()) == 0:
            continue
        expected = epochs * float(pi[sel].sum())
        var = epochs * float((pi[sel] * (1 - pi[sel])).sum())
        z = (float(hits[sel].sum()) - expected) / max(var, 1e-9) ** 0.5
        assert abs(z) < 4.0, (lo, hi, z)
        rates.append(float(hits[sel].sum()) / (epochs * int(sel.sum())))
    assert rates == sorted(rates) and rates[-1] > 20 * rates[0]
    # and the draw is not uniform: a uniform 1% cache would rarely hold the top-degree nodes
    top = torch.argsort(deg, descending=True)[:10]
    assert float(hits[top].mean()) / epochs > 10 * 0.01


@pytest.mark.parametrize(
    ("fanouts", "min_fanout", "options"),
    [
        ([4], 1, {}),
        ([2, 6], [3, 0.5], {}),
        ([4], 0, {}),
        ([4], 1, {"cached_aggregates": True, "cache_power": 2.0}),
    ],
    ids=["one-layer", "top-layer-of-two", "cache-only", "cached-aggregates"],
)
def test_weighted_mean_aggregation_is_unbiased(graph, fanouts, min_fanout, options):
    """Average the GNS estimate of each seed's neighbour mean over many caches and samples; it
    converges to the exact mean (and the unweighted mean of the same samples does not). With two
    layers the seeds' block is the upper one, sampled with its own fanout and ``min_fanout``; with
    cached aggregates, cached seeds read their precomputed mean from the feature table."""
    torch.manual_seed(0)
    x = torch.randn(graph.num_nodes(), 3) + graph.out_degrees().float().log1p().unsqueeze(1)
    exact = weighted_mean(graph, x, None)
    deg = graph.in_degrees()
    order = torch.argsort(deg, descending=True)
    seeds = torch.cat([order[:10], order[torch.randperm(order.numel() - 10)[:30] + 10]])
    sampler = GNSSampler(fanouts, graph, cache_fraction=0.02, min_fanout=min_fanout, seed=3, **options)
    table = sampler.feature_table(x)
    dgl.seed(3)
    runs = 700
    total = torch.zeros(seeds.numel(), 3, dtype=torch.float64)
    total_sq = torch.zeros_like(total)
    naive = torch.zeros_like(total)
    for run in range(runs):
        new_epoch(sampler, run)
        _, output_nodes, blocks = sampler.sample_blocks(graph, seeds)
        block = blocks[-1]
        assert torch.equal(output_nodes, seeds)
        h = table[block.srcdata[dgl.NID]]
        est = weighted_mean(block, h, block.edata[EDGE_WEIGHT]).double()
        total += est
        total_sq += est * est
        naive += weighted_mean(block, h, None).double()
    mean = total / runs
    stderr = ((total_sq / runs - mean * mean).clamp(min=0) / runs).sqrt()
    z = (mean - exact[seeds].double()) / (stderr + 1e-6)
    assert float(z.abs().max()) < 4.5, float(z.abs().max())
    naive_z = (naive / runs - exact[seeds].double()) / (stderr + 1e-6)
    assert float(naive_z.abs().max()) > 10  # the test can see a bias when there is one


def test_systematic_sample_keeps_each_position_with_its_probability():
    """Every position of a group is kept with probability ``p`` (what the weights assume), a group
    keeps ``⌊n·p⌋`` or ``⌈n·p⌉`` positions, and positions stay inside their group, without repeats."""
    start = torch.tensor([0, 10, 10, 17, 40])
    count = torch.tensor([10, 0, 7, 23, 3])
    prob = torch.tensor([0.35, 0.5, 1.0, 0.1, 0.0], dtype=torch.float64)
    gen = torch.Generator().manual_seed(0)
    runs = 4000
    hits = torch.zeros(43)
    for _ in range(runs):
        group, pos = systematic_sample(start, count, prob, gen)
        assert bool((pos >= start[group]).all()) and bool((pos < start[group] + count[group]).all())
        assert torch.unique(pos).numel() == pos.numel()
        per_group = torch.bincount(group, minlength=5).double()
        expected = count.double() * prob
        assert bool((per_group >= expected.floor()).all()) and bool((per_group <= expected.ceil()).all())
        hits[pos] += 1
    rate = hits / runs
    want = torch.cat([torch.full((10,), 0.35), torch.ones(7), torch.full((23,), 0.1), torch.zeros(3)])
    assert torch.allclose(rate, want.float(), atol=0.04), rate


def _cached_and_uncached_in_block(sampler: GNSSampler, block: dgl.DGLGraph) -> tuple[int, int]:
    src = block.srcdata[dgl.NID][block.edges()[0]]
    cached = int(sampler.is_cached[src].sum())
    return cached, src.numel() - cached


def test_every_layer_prefers_cache_and_fills_outside(graph):
    sampler = GNSSampler([5, 5], graph, cache_fraction=0.01, min_fanout=2, seed=5)
    seeds = torch.arange(0, 3000, 7)
    input_nodes, output_nodes, blocks = sampler.sample_blocks(graph, seeds)
    for block in blocks:
        cached, uncached = _cached_and_uncached_in_block(sampler, block)
        assert cached > 0.1 * (cached + uncached)  # 1% of the nodes supply a large share of edges
        assert uncached > 0  # and the fill brings uncached ones
        assert block.edata[EDGE_WEIGHT].shape == (block.num_edges(),)
        # every sampled edge is a real edge of the graph, with its id
        gsrc, gdst = graph.find_edges(block.edata[dgl.EID])
        assert torch.equal(gsrc, block.srcdata[dgl.NID][block.edges()[0]])
        assert torch.equal(gdst, block.dstdata[dgl.NID][block.edges()[1]])
    # the upper layer being cache-first shrinks the input layer's destination set: far fewer
    # nodes than uniform 5-neighbour sampling of the same seeds reaches
    uniform = dgl.dataloading.NeighborSampler([5, 5]).sample_blocks(graph, seeds)[2]
    assert blocks[0].num_dst_nodes() < 0.8 * uniform[0].num_dst_nodes()


def test_min_fanout_is_per_layer(graph):
    """``min_fanout`` [0, ∞]: the input layer reads cached sources only, the upper layer keeps
    every uncached in-edge of its seeds (β = 1)."""
    sampler = GNSSampler([5, 5], graph, cache_fraction=0.01, min_fanout=[0, 10**6], seed=2)
    seeds = torch.arange(0, 3000, 5)
    _, _, (lower, upper) = sampler.sample_blocks(graph, seeds)
    assert _cached_and_uncached_in_block(sampler, lower)[1] == 0
    cached, uncached = _cached_and_uncached_in_block(sampler, upper)
    src, _ = graph.in_edges(seeds)
    assert uncached == int((~sampler.is_cached[src]).sum())
    assert sampler.min_fanout == [0.0, 1e6]
    assert GNSSampler([3, 3, 3], graph, min_fanout=0.5).min_fanout == [0.5, 0.5, 0.5]
    with pytest.raises(ValueError, match="one per layer"):
        GNSSampler([5, 5], graph, min_fanout=[1, 2, 3])
    with pytest.raises(ValueError, match="non-negative"):
        GNSSampler([5], graph, min_fanout=[-1])


def test_fanout_bounds_hold_in_expectation(graph):
    """Per seed, the cached in-edges kept average at most the fanout (α caps ``E[cached]`` at
    ``k``), the uncached ones about ``min_fanout`` or fewer, and no seed keeps more edges than it
    has; per batch, the whole frontier is sampled in one go (every seed gets its block row)."""
    k, m = 4, 1.5
    sampler = GNSSampler([k], graph, cache_fraction=0.02, min_fanout=m, seed=11)
    seeds = torch.argsort(graph.in_degrees(), descending=True)[:300]
    runs = 200
    cached_sum = torch.zeros(seeds.numel())
    uncached_sum = torch.zeros(seeds.numel())
    for run in range(runs):
        new_epoch(sampler, run)
        _, _, (block,) = sampler.sample_blocks(graph, seeds)
        assert block.num_dst_nodes() == seeds.numel()
        src, dst = block.edges()
        is_cached = sampler.is_cached[block.srcdata[dgl.NID][src]].float()
        per_seed = torch.bincount(dst, minlength=seeds.numel())
        assert bool((per_seed <= graph.in_degrees(seeds)).all())
        cached_sum.index_add_(0, dst, is_cached)
        uncached_sum.index_add_(0, dst, 1 - is_cached)
    assert float((cached_sum / runs).max()) < k + 1.0  # expectation k, plus sampling noise
    assert float((cached_sum[:20] / runs).mean()) > 0.8 * k  # the top hubs do reach the cap
    assert float((uncached_sum / runs).mean()) < m + 0.5


def test_minus_one_fanout_takes_every_neighbour_unweighted(graph):
    sampler = GNSSampler([3, -1], graph, seed=0)
    seeds = torch.arange(50)
    _, _, (lower, upper) = sampler.sample_blocks(graph, seeds)
    assert upper.num_edges() == int(graph.in_degrees(seeds).sum())
    assert EDGE_WEIGHT not in upper.edata and EDGE_WEIGHT in lower.edata
    with pytest.raises(ValueError, match="positive or -1"):
        GNSSampler([0], graph)


def test_full_fill_keeps_every_edge_with_unit_weight():
    g = power_law_graph(400, 3000, num_features=2, seed=2)
    sampler = GNSSampler([3], g, cache_fraction=0.01, min_fanout=10**6, seed=0)
    low = torch.nonzero(g.in_degrees() <= 3).squeeze(1)
    _, _, (block,) = sampler.sample_blocks(g, low)
    # with β = 1 and α = 1 (few cached neighbours), every in-edge is kept and weighs 1
    assert block.num_edges() == int(g.in_degrees(low).sum())
    assert torch.allclose(block.edata[EDGE_WEIGHT], torch.ones(block.num_edges()))


def test_works_with_dgl_dataloader_and_the_factory(graph):
    sampler = make_block_sampler("gns", [4, 4], graph=graph, cache_fraction=0.02, seed=1)
    loader = dgl.dataloading.DataLoader(graph, torch.arange(500), sampler, batch_size=128, shuffle=True)
    seen = 0
    for input_nodes, output_nodes, blocks in loader:
        assert len(blocks) == 2
        assert torch.equal(blocks[-1].dstdata[dgl.NID], output_nodes)
        assert torch.equal(blocks[0].srcdata[dgl.NID], input_nodes)
        assert blocks[0].edata[EDGE_WEIGHT].shape == (blocks[0].num_edges(),)
        seen += output_nodes.numel()
    assert seen == 500
    with pytest.raises(ValueError, match="needs the graph"):
        make_block_sampler("gns", [4])


def test_gns_rejects_heterographs():
    hg = dgl.heterograph({("a", "r", "b"): ([0], [0]), ("b", "s", "a"): ([0], [0])})
    with pytest.raises(ValueError, match="homogeneous"):
        GNSSampler([2], hg)


def test_labor_weights_go_under_edge_weight(graph):
    sampler = make_block_sampler("labor", [5], importance_sampling=1)
    _, _, (block,) = sampler.sample_blocks(graph, torch.arange(100))
    assert EDGE_WEIGHT in block.edata and "edge_weights" not in block.edata
    # LABOR normalises per destination: mean weight 1, so mean_e(w·h) is a neighbour mean
    dst = block.edges()[1].long()
    per_dst = torch.zeros(block.num_dst_nodes()).index_add_(0, dst, block.edata[EDGE_WEIGHT])
    counts = torch.bincount(dst, minlength=block.num_dst_nodes()).float()
    assert torch.allclose(per_dst, counts, atol=1e-3)


def test_cache_power_sharpens_the_degree_bias(graph):
    deg = graph.out_degrees().to(torch.float64)
    pi = GNSSampler([5], graph, cache_fraction=0.01, cache_power=2.0, seed=0).inclusion
    assert float(pi.sum()) == pytest.approx(0.01 * graph.num_nodes())
    uncapped = (pi < 1) & (deg > 0)
    ratio = pi[uncapped] / deg[uncapped] ** 2
    assert torch.allclose(ratio, ratio[0].expand_as(ratio))


def test_cached_destinations_use_their_own_min_fanout(graph):
    """Below the output layer, cached destinations fill with ``cached_min_fanout`` (0 here: no
    uncached in-edge), the others with ``min_fanout``; the seeds' layer keeps ``min_fanout``."""
    sampler = GNSSampler([5, 5], graph, cache_fraction=0.05, min_fanout=3, cached_min_fanout=[0, 0], seed=4)
    seeds = torch.nonzero(sampler.is_cached).squeeze(1)[:40]  # cached seeds still fill (top layer)
    _, _, (lower, upper) = sampler.sample_blocks(graph, seeds)
    assert _cached_and_uncached_in_block(sampler, upper)[1] > 0
    src, dst = lower.edges()
    dst_cached = sampler.is_cached[lower.dstdata[dgl.NID]]
    src_cached = sampler.is_cached[lower.srcdata[dgl.NID][src]]
    assert not bool((dst_cached[dst] & ~src_cached).any())
    assert bool((~dst_cached[dst] & ~src_cached).any())
    with pytest.raises(ValueError, match="cached_min_fanout"):
        GNSSampler([5, 5], graph, cached_min_fanout=[1])


def test_cached_aggregates_make_cached_input_destinations_exact(graph):
    """A cached input-layer destination has exactly one in-edge, of weight 1, from row ``N + v``
    of the feature table, which holds ``v``'s exact neighbour mean; the cache holds both rows."""
    n = graph.num_nodes()
    sampler = GNSSampler([4, 4], graph, cache_fraction=0.05, cached_aggregates=True, seed=6)
    x = torch.randn(n, 3)
    table = sampler.feature_table(x)
    assert table.shape == (2 * n, 3)
    assert torch.allclose(table[n:], weighted_mean(graph, x, None), atol=1e-5)
    assert torch.equal(sampler.cache_rows, torch.cat([sampler.cache_nodes, n + sampler.cache_nodes]))
    assert sampler.cache_bytes(12) == 2 * sampler.cache_nodes.numel() * 12
    _, _, (lower, upper) = sampler.sample_blocks(graph, torch.arange(0, n, 9))
    assert int((upper.srcdata[dgl.NID] >= n).sum()) == 0  # only the input layer reads aggregates
    src, dst = lower.edges()
    src_id, dst_id = lower.srcdata[dgl.NID][src], lower.dstdata[dgl.NID][dst]
    virtual = src_id >= n
    cached_dst = sampler.is_cached[dst_id]
    assert torch.equal(virtual, cached_dst) and bool(virtual.any())
    assert torch.equal(src_id[virtual], n + dst_id[virtual])
    assert torch.equal(lower.edata[EDGE_WEIGHT][virtual], torch.ones(int(virtual.sum())))
    assert bool((lower.edata[dgl.EID][virtual] == -1).all())
    # with excluded edges the precomputed means would include them: plain sampling instead
    _, _, (lower, _) = sampler.sample_blocks(graph, torch.arange(0, n, 9), exclude_eids=torch.tensor([0]))
    assert int((lower.srcdata[dgl.NID] >= n).sum()) == 0


def test_trainer_gathers_cached_aggregates():
    from graphml.models.sage_training import SageConfig, train_node_classifier

    g = power_law_graph(2000, 16000, num_features=8, seed=3)
    options = {"cache_fraction": 0.05, "cached_aggregates": True}
    cfg = SageConfig(
        sampler="gns", sampler_options=options, fanouts=[3, 3], hidden=16, epochs=1, batch_size=64
    )
    result = train_node_classifier(g, cfg, progress=False)
    stats = result.epochs[0]
    assert stats.cache_bytes > 0 and stats.cache_bytes % (2 * 8 * 4) == 0  # two rows per cached node
    assert 0.0 <= result.test_acc <= 1.0


def test_weighted_mean_matches_dgl_on_blocks_and_graphs(graph):
    """The sparse-matrix weighted mean equals DGL's ``u_mul_e_mean``, gradient included, and
    gives zeros to destinations without in-edges."""
    sampler = GNSSampler([4, 4], graph, cache_fraction=0.02, seed=1)
    _, _, (block, _) = sampler.sample_blocks(graph, torch.arange(0, 3000, 11))
    for g in (block, dgl.graph(([0, 1, 1], [1, 2, 2]), num_nodes=4)):
        w = torch.rand(g.num_edges()) + 0.5
        h = torch.randn(g.num_src_nodes(), 5, requires_grad=True)
        got = weighted_mean(g, h, w)
        (grad,) = torch.autograd.grad(got.square().sum(), h)
        want = dgl.ops.u_mul_e_mean(g, h, w.unsqueeze(-1))
        (want_grad,) = torch.autograd.grad(want.square().sum(), h)
        assert torch.allclose(got, want, atol=1e-5) and torch.allclose(grad, want_grad, atol=1e-5)
    assert torch.equal(got[[0, 3]], torch.zeros(2, 5))  # no in-edges
