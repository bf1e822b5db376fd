"""Mini-batch node classification with GraphSAGE and any of the samplers (one process).

Used by the sampler benchmark and as the single-process reference of distributed training.
Per epoch it records what the benchmark reports: sampling time, unique input nodes and
host-to-device input-feature bytes per mini-batch, epoch time (wall and this process's CPU time),
and where it went: sampling, feature gathering (``InputFeatures.gather``, the host-to-device copy
of mixed CPU-GPU training) and compute (forward, backward, optimiser step). On a CPU-only run a
sampler that reads fewer input nodes saves in gather and first-layer compute, not in a copy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import dgl
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from graphml.models.sage import SAGE
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


@dataclass
class EpochStats:
    """What one epoch cost and reached (bytes and nodes are per mini-batch means)."""

    epoch: int
    batches: int
    epoch_s: float
    sample_s: float
    gather_s: float
    compute_s: float
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


def train_node_classifier(
    graph: dgl.DGLGraph,
    config: SageConfig,
    *,
    device: str = "cpu",
    on_epoch: Callable[[EpochStats], None] | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train GraphSAGE on ``graph`` (node data as in :mod:`graphml.datasets`) with ``config.sampler``."""
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
    loader = dgl.dataloading.DataLoader(
        graph, train_nids, sampler, batch_size=config.batch_size, shuffle=True, drop_last=False, num_workers=0
    )
    table = sampler.feature_table if hasattr(sampler, "feature_table") else (lambda x: x)
    feats = InputFeatures(table(graph.ndata["feat"]), device)
    labels = graph.ndata["label"]
    history: list[EpochStats] = []
    for epoch in range(config.epochs):
        start, cpu_start = time.perf_counter(), time.process_time()
        new_epoch(sampler, epoch)
        cache_bytes = feats.load_cache(sampler.cache_rows) if hasattr(sampler, "cache_rows") else 0
        model.train()
        sample_s, gather_s, compute_s, n_batches, n_inputs, n_bytes, loss_sum = 0.0, 0.0, 0.0, 0, 0, 0, 0.0
        batches = iter(loader)
        bar = tqdm(
            total=len(loader), desc=f"{config.sampler} epoch {epoch}", disable=not progress, leave=False
        )
        while True:
            t0 = time.perf_counter()
            try:
                input_nodes, output_nodes, blocks = next(batches)
            except StopIteration:
                break
            t1 = time.perf_counter()
            sample_s += t1 - t0
            x, moved = feats.gather(input_nodes)
            blocks = [b.to(device) for b in blocks]
            t2 = time.perf_counter()
            gather_s += t2 - t1
            logits = model(blocks, x)
            loss = F.cross_entropy(logits, labels[output_nodes].to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            compute_s += time.perf_counter() - t2
            n_batches += 1
            n_inputs += input_nodes.numel()
            n_bytes += moved
            loss_sum += float(loss)
            bar.update(1)
        bar.close()
        stats = EpochStats(
            epoch=epoch,
            batches=n_batches,
            epoch_s=time.perf_counter() - start,
            sample_s=sample_s,
            gather_s=gather_s,
            compute_s=compute_s,
            cpu_s=time.process_time() - cpu_start,
            input_nodes_per_batch=n_inputs / max(n_batches, 1),
            input_bytes_per_batch=n_bytes / max(n_batches, 1),
            cache_bytes=cache_bytes,
            loss=loss_sum / max(n_batches, 1),
        )
        if config.eval_every and (epoch + 1) % config.eval_every == 0:
            stats.val_acc = evaluate(model, graph, config.eval_batch_size)[0]
        history.append(stats)
        if on_epoch is not None:
            on_epoch(stats)
    val_acc, test_acc = evaluate(model, graph, config.eval_batch_size)
    return TrainResult(model=model, epochs=history, val_acc=val_acc, test_acc=test_acc)
