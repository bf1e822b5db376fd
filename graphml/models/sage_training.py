"""Mini-batch node classification with GraphSAGE and any of the samplers (one process).

Used by the sampler benchmark and as the single-process reference of distributed training.
Per epoch it records what the benchmark reports: sampling time, unique input nodes and
host-to-device input-feature bytes per mini-batch, epoch time (wall and this process's CPU time),
and where it went: sampling, feature gathering (``InputFeatures.gather``, the host-to-device copy
of mixed CPU-GPU training) and compute (forward, backward, optimiser step). On a CPU-only run a
sampler that reads fewer input nodes saves in gather and first-layer compute, not in a copy.

Batches can be prepared ahead while the model trains on another thread (sampling and gathering
overlap the previous batch's compute), as DGL's loader does when it samples on the CPU for a GPU;
by default when the two threads have a core each. The training's wait for a batch is ``wait_s``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import dgl
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from graphml.models.sage import SAGE
from graphml.prefetch import consume_in_thread
from graphml.samplers import make_block_sampler, new_epoch
from graphml.samplers.features import InputFeatures


@dataclass
class SageConfig:
    """Hyper-parameters of :func:`train_node_classifier` (fanouts: input layer first)."""

    sampler: str = "neighbor"
    sampler_options: dict[str, Any] = field(default_factory=dict)
    fanouts: list[int] = field(default_factory=lambda: [10, 10])
    hidden: int = 128
    dropout: float = 0.5
    lr: float = 0.003
    weight_decay: float = 0.0
    batch_size: int = 1000
    epochs: int = 10
    seed: int = 0
    eval_every: int = 0  # 0: evaluate after the last epoch only
    eval_batch_size: int = 20000
    prefetch: bool | None = None
    """Sample and gather the next batches while the model trains on another thread. None: when
    the two threads get a core each, i.e. on a GPU or when compute leaves a CPU core free
    (:func:`prefetch_pays`); on a CPU whose cores all compute they would only compete."""


@dataclass
class EpochStats:
    """What one epoch cost and reached (bytes and nodes are per mini-batch means)."""

    epoch: int
    batches: int
    epoch_s: float
    sample_s: float
    gather_s: float
    compute_s: float
    wait_s: float  # the trainer waiting for a batch (= sample_s + gather_s without prefetch)
    cpu_s: float  # process CPU time of the epoch: less noisy than wall time on a shared machine
    input_nodes_per_batch: float
    input_bytes_per_batch: float
    cache_bytes: int
    loss: float
    val_acc: float | None = None


@dataclass
class TrainResult:
    model: SAGE
    epochs: list[EpochStats]
    val_acc: float
    test_acc: float

    def metrics(self) -> dict[str, Any]:
        return {
            "val_acc": self.val_acc,
            "test_acc": self.test_acc,
            "epochs": [asdict(e) for e in self.epochs],
        }


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    if labels.numel() == 0:
        return float("nan")
    return float((logits.argmax(dim=1) == labels).float().mean())


def evaluate(model: SAGE, graph: dgl.DGLGraph, batch_size: int = 20000) -> tuple[float, float]:
    """(validation, test) accuracy with exact full-neighbour inference."""
    logits = model.full_inference(graph, graph.ndata["feat"], batch_size=batch_size)
    label = graph.ndata["label"]
    val, test = graph.ndata["val_mask"], graph.ndata["test_mask"]
    return accuracy(logits[val], label[val]), accuracy(logits[test], label[test])


PREFETCH_DEPTH = 4
"""Batches made ahead of the training. More than one or two: at an epoch's start the sampler's
per-epoch work (GNS draws its cache: 0.2 s on the benchmark's 1M-node graph, two batches' compute)
comes before the next batch, and with two queued the training waited 70-230 ms per epoch for it,
with three 0-30 ms, with five under 20 ms. Each queued batch holds its input features (73 MB for
neighbour sampling on that graph)."""


@dataclass
class _Batch:
    """One mini-batch, sampled and with its input features on the device, and what that cost."""

    output_nodes: torch.Tensor
    blocks: list[dgl.DGLGraph]
    x: torch.Tensor  # [num_input_nodes, F] on the device
    num_inputs: int
    moved: int  # host-to-device bytes of x
    sample_s: float
    gather_s: float
    cache_bytes: int  # this epoch's cache load, on the epoch's first batch (0 on the others)


def _prepared_batches(
    graph: dgl.DGLGraph,
    sampler: dgl.dataloading.BlockSampler,
    feats: InputFeatures,
    train_nids: torch.Tensor,
    config: SageConfig,
    device: str,
) -> Iterator[_Batch]:
    """Every epoch's mini-batches, sampled and gathered: what the trainer consumes (on another
    thread, while the next ones are made, with prefetching). Per epoch: the sampler's new-epoch
    hook (GNS draws its cache; counted as sampling time), the cache load, a shuffle of the
    training nodes with this run's own generator (the training thread keeps the global one for
    dropout, so runs stay reproducible), then per batch one ``sampler.sample`` and one
    ``feats.gather``. Sampling time includes building the blocks' in-edge CSC, which the layers
    would otherwise build in the training step."""
    order = torch.Generator().manual_seed(config.seed)
    for epoch in range(config.epochs):
        t0 = time.perf_counter()
        new_epoch(sampler, epoch)
        setup_s = time.perf_counter() - t0  # GNS's cache draw: sampling work, on the first batch
        cache_bytes = feats.load_cache(sampler.cache_rows) if hasattr(sampler, "cache_rows") else 0
        shuffled = train_nids[torch.randperm(train_nids.numel(), generator=order)]
        for seeds in shuffled.split(config.batch_size):
            t0 = time.perf_counter() - setup_s
            setup_s = 0.0
            input_nodes, output_nodes, blocks = sampler.sample(graph, seeds)
            for block in blocks:  # the in-edge CSC the layers aggregate over, built here, not in forward
                block.adj_tensors("csc")
            t1 = time.perf_counter()
            x, moved = feats.gather(input_nodes)
            blocks = [b.to(device) for b in blocks]
            t2 = time.perf_counter()
            yield _Batch(
                output_nodes=output_nodes,
                blocks=blocks,
                x=x,
                num_inputs=input_nodes.numel(),
                moved=moved,
                sample_s=t1 - t0,
                gather_s=t2 - t1,
                cache_bytes=cache_bytes,
            )
            cache_bytes = 0


def _thread_setup() -> Callable[[], None]:
    """Per-thread state for the training thread: as many intra-op threads (PyTorch's and DGL's)
    as the thread that starts it has."""
    threads = torch.get_num_threads()

    def setup() -> None:
        torch.set_num_threads(threads)
        dgl.utils.set_num_threads(threads)

    return setup


def prefetch_pays(device: str) -> bool:
    """Whether sampling beside training would overlap compute rather than compete with it: the device
    is not the CPU, or PyTorch's intra-op threads leave a core of this process free."""
    if torch.device(device).type != "cpu":
        return True
    return torch.get_num_threads() < len(os.sched_getaffinity(0))


def train_node_classifier(
    graph: dgl.DGLGraph,
    config: SageConfig,
    *,
    device: str = "cpu",
    on_epoch: Callable[[EpochStats], None] | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train GraphSAGE on ``graph`` (node data as in :mod:`graphml.datasets`) with ``config.sampler``.

    With prefetching (``config.prefetch``) the model trains on a worker thread while this one
    samples and gathers the next mini-batches (:func:`graphml.prefetch.consume_in_thread`); the
    epoch's ``sample_s`` / ``gather_s`` then overlap its compute, and ``wait_s`` is the part the
    training still waited for.
    """
    torch.manual_seed(config.seed)
    dgl.seed(config.seed)
    num_classes = int(graph.ndata["label"].max()) + 1
    model = SAGE(
        graph.ndata["feat"].shape[1], config.hidden, num_classes, len(config.fanouts), config.dropout
    )
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    options = dict(config.sampler_options)
    if config.sampler == "gns":
        options.setdefault("seed", config.seed)
    sampler = make_block_sampler(config.sampler, config.fanouts, graph=graph, **options)
    train_nids = torch.nonzero(graph.ndata["train_mask"]).squeeze(1)
    num_batches = -(-train_nids.numel() // config.batch_size)
    table = sampler.feature_table if hasattr(sampler, "feature_table") else (lambda x: x)
    feats = InputFeatures(table(graph.ndata["feat"]), device)
    labels = graph.ndata["label"]
    batches = _prepared_batches(graph, sampler, feats, train_nids, config, device)

    def train(batches: Iterator[_Batch]) -> list[EpochStats]:
        history: list[EpochStats] = []
        for epoch in range(config.epochs):
            history.append(
                _train_epoch(model, opt, batches, labels, epoch, num_batches, config, device, progress)
            )
            if config.eval_every and (epoch + 1) % config.eval_every == 0:
                history[-1].val_acc = evaluate(model, graph, config.eval_batch_size)[0]
            if on_epoch is not None:
                on_epoch(history[-1])
        return history

    if config.prefetch or (config.prefetch is None and prefetch_pays(device)):
        history = consume_in_thread(
            batches, train, depth=PREFETCH_DEPTH, thread_setup=_thread_setup(), name="sage-train"
        )
    else:
        history = train(batches)
    val_acc, test_acc = evaluate(model, graph, config.eval_batch_size)
    return TrainResult(model=model, epochs=history, val_acc=val_acc, test_acc=test_acc)


def _train_epoch(
    model: SAGE,
    opt: torch.optim.Optimizer,
    batches: Iterator[_Batch],
    labels: torch.Tensor,
    epoch: int,
    num_batches: int,
    config: SageConfig,
    device: str,
    progress: bool,
) -> EpochStats:
    """One epoch: ``num_batches`` batches from ``batches``, each a forward, backward and step."""
    start, cpu_start = time.perf_counter(), time.process_time()
    model.train()
    sample_s = gather_s = compute_s = wait_s = loss_sum = 0.0
    n_inputs = n_bytes = cache_bytes = 0
    bar = tqdm(total=num_batches, desc=f"{config.sampler} epoch {epoch}", disable=not progress, leave=False)
    for _ in range(num_batches):
        t0 = time.perf_counter()
        batch = next(batches)
        t1 = time.perf_counter()
        wait_s += t1 - t0
        logits = model(batch.blocks, batch.x)
        loss = F.cross_entropy(logits, labels[batch.output_nodes].to(device))
        opt.zero_grad()
        loss.backward()
        opt.step()
        compute_s += time.perf_counter() - t1
        sample_s += batch.sample_s
        gather_s += batch.gather_s
        n_inputs += batch.num_inputs
        n_bytes += batch.moved
        cache_bytes += batch.cache_bytes
        loss_sum += float(loss)
        bar.update(1)
    bar.close()
    return EpochStats(
        epoch=epoch,
        batches=num_batches,
        epoch_s=time.perf_counter() - start,
        sample_s=sample_s,
        gather_s=gather_s,
        compute_s=compute_s,
        wait_s=wait_s,
        cpu_s=time.process_time() - cpu_start,
        input_nodes_per_batch=n_inputs / max(num_batches, 1),
        input_bytes_per_batch=n_bytes / max(num_batches, 1),
        cache_bytes=cache_bytes,
        loss=loss_sum / max(num_batches, 1),
    )
