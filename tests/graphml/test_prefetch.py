"""Sampling beside training: order, bounded look-ahead, errors both ways, early stop; and the
trainer using it."""

from __future__ import annotations

import dataclasses
import threading
import time

import dgl
import pytest
import torch

from graphml.datasets import power_law_graph
from graphml.models.sage_training import SageConfig, train_node_classifier
from graphml.prefetch import consume_in_thread


def test_items_are_made_here_and_consumed_in_order_on_another_thread():
    made_on: set[int] = set()
    consumed_on: set[int] = set()

    def items():
        for i in range(50):
            made_on.add(threading.get_ident())
            yield i

    def consume(batches):
        consumed_on.add(threading.get_ident())
        return list(batches)

    assert consume_in_thread(items(), consume, depth=3) == list(range(50))
    assert made_on == {threading.get_ident()} and consumed_on and threading.get_ident() not in consumed_on


def _recorded(n: int, produced: list[int]):
    """0 .. n-1, each noted in ``produced`` as it is made."""
    for i in range(n):
        produced.append(i)
        yield i


def test_the_producer_stays_at_most_depth_items_ahead():
    produced: list[int] = []
    ahead: list[int] = []

    def consume(batches):
        for i in batches:
            time.sleep(0.005)  # a slow consumer: the producer could run far ahead if it were let
            ahead.append(len(produced) - 1 - i)
        return len(ahead)

    assert consume_in_thread(_recorded(30, produced), consume, depth=2) == 30
    # queued (2) plus the one being put: never more than that ahead of the item in hand
    assert max(ahead) <= 3


def test_a_consumer_error_stops_the_producer_and_is_raised():
    produced: list[int] = []

    def consume(batches):
        next(batches)
        raise ValueError("bad step")

    with pytest.raises(ValueError, match="bad step"):
        consume_in_thread(_recorded(1000, produced), consume)
    assert len(produced) < 10


def test_a_producer_error_stops_the_consumer_and_is_raised():
    got: list[int] = []

    def items():
        yield 1
        yield 2
        raise RuntimeError("bad batch 3")

    def consume(batches):
        got.extend(batches)  # the iterator raises once the producer failed

    with pytest.raises(RuntimeError, match="bad batch 3"):
        consume_in_thread(items(), consume)
    assert got == [1, 2]


def test_a_consumer_that_stops_early_returns_its_result():
    def forever():
        i = 0
        while True:
            i += 1
            yield i

    assert consume_in_thread(forever(), lambda batches: next(batches) + next(batches)) == 3


def test_thread_setup_runs_on_the_consumer_thread():
    seen: list[int] = []
    consume_in_thread(iter([1]), list, thread_setup=lambda: seen.append(threading.get_ident()))
    assert seen and seen[0] != threading.get_ident()

    def broken() -> None:
        raise RuntimeError("no threads for you")

    with pytest.raises(RuntimeError, match="no threads"):
        consume_in_thread(iter([1, 2, 3]), list, thread_setup=broken)


def test_depth_must_be_positive():
    with pytest.raises(ValueError, match="depth"):
        consume_in_thread(iter([]), list, depth=0)


@pytest.fixture
def one_thread():
    """One intra-op thread for PyTorch and DGL (DGL's parallel sampling draws from one random
    generator per thread, so only one thread makes its samples reproducible)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    dgl.utils.set_num_threads(1)
    yield
    torch.set_num_threads(before)
    dgl.utils.set_num_threads(before)


@pytest.mark.parametrize("sampler", ["neighbor", "gns"])
def test_training_with_prefetch_is_reproducible_and_sees_every_batch(sampler, one_thread):
    """Batches are sampled on the calling thread (whose DGL generator ``dgl.seed`` reaches) and
    shuffled with the run's own generator, so two runs with the same seed train the same model,
    the same as without the training thread; every epoch gets all its batches."""
    g = power_law_graph(3000, 24000, num_features=8, seed=5)
    cfg = SageConfig(sampler=sampler, fanouts=[3, 4], hidden=16, epochs=2, batch_size=32, prefetch=True)
    first = train_node_classifier(g, cfg, progress=False)
    second = train_node_classifier(g, cfg, progress=False)
    batches = -(-int(g.ndata["train_mask"].sum()) // 32)
    assert [e.batches for e in first.epochs] == [batches, batches]
    for a, b in zip(first.model.parameters(), second.model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert [e.loss for e in first.epochs] == [e.loss for e in second.epochs]
    # the same training, batch for batch, without the thread
    inline = train_node_classifier(g, dataclasses.replace(cfg, prefetch=False), progress=False)
    for a, b in zip(first.model.parameters(), inline.model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert all(e.wait_s >= 0 and e.sample_s > 0 for e in first.epochs)
