"""GNS's two properties: the cache is drawn by degree, and its weights make mean aggregation unbiased."""

from __future__ import annotations

import dgl
import pytest
import torch

from graphml.datasets import power_law_graph
from graphml.models.sage import weighted_mean
from graphml.samplers import EDGE_WEIGHT, make_block_sampler, new_epoch
from graphml.samplers.gns import GNSSampler, cache_inclusion_probabilities


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


def test_weighted_mean_aggregation_is_unbiased(graph):
    """Average the GNS estimate of each seed's neighbour mean over many caches and samples; it
    converges to the exact mean (and the unweighted mean of the same samples does not)."""
    torch.manual_seed(0)
    x = torch.randn(graph.num_nodes(), 3) + graph.out_degrees().float().log1p().unsqueeze(1)
    exact = weighted_mean(graph, x, None)
    deg = graph.in_degrees()
    order = torch.argsort(deg, descending=True)
    seeds = torch.cat([order[:10], order[torch.randperm(order.numel() - 10)[:30] + 10]])
    sampler = GNSSampler([4], graph, cache_fraction=0.02, min_fanout=1, seed=3)
    dgl.seed(3)
    runs = 700
    total = torch.zeros(seeds.numel(), 3, dtype=torch.float64)
    total_sq = torch.zeros_like(total)
    naive = torch.zeros_like(total)
    for run in range(runs):
        new_epoch(sampler, run)
        input_nodes, output_nodes, (block,) = sampler.sample_blocks(graph, seeds)
        assert torch.equal(output_nodes, seeds)
        est = weighted_mean(block, x[input_nodes], block.edata[EDGE_WEIGHT]).double()
        total += est
        total_sq += est * est
        naive += weighted_mean(block, x[input_nodes], None).double()
    mean = total / runs
    stderr = ((total_sq / runs - mean * mean).clamp(min=0) / runs).sqrt()
    z = (mean - exact[seeds].double()) / (stderr + 1e-6)
    assert float(z.abs().max()) < 4.5, float(z.abs().max())
    naive_z = (naive / runs - exact[seeds].double()) / (stderr + 1e-6)
    assert float(naive_z.abs().max()) > 10  # the test can see a bias when there is one


def test_input_layer_prefers_cache_and_fills_outside(graph):
    sampler = GNSSampler([5, 5], graph, cache_fraction=0.01, min_fanout=2, seed=5)
    seeds = torch.arange(0, 3000, 7)
    input_nodes, output_nodes, blocks = sampler.sample_blocks(graph, seeds)
    first = blocks[0]
    src = first.srcdata[dgl.NID][first.edges()[0]]
    cached_share = float(sampler.is_cached[src].float().mean())
    assert cached_share > 0.1  # 1% of the nodes supply a large share of the input layer's edges
    assert float((~sampler.is_cached[src]).sum()) > 0  # and the fill brings uncached ones
    # upper layers are uniform NeighborSampler-style: fanout respected, no weights
    assert EDGE_WEIGHT not in blocks[1].edata
    assert int(blocks[1].in_degrees().max()) <= 5
    # every sampled input-layer edge is a real edge of the graph, with its id
    eid = first.edata[dgl.EID]
    gsrc, gdst = graph.find_edges(eid)
    assert torch.equal(gsrc, src)
    assert torch.equal(gdst, first.dstdata[dgl.NID][first.edges()[1]])


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
