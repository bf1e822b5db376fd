"""1-vs-all training of TransE / DistMult / RotatE with reciprocal relations.

Every training triple ``(h, r, t)`` gives two queries, ``(h, r) -> t`` and ``(t, r + R) -> h``,
each scored against all entities with cross-entropy (label smoothing). This is far cheaper per
useful gradient on a CPU than per-triple negative sampling, and is the training regime under
which these models reach their best published FB15k-237 figures (Ruffinelli et al., ICLR 2020).
With ``num-negs`` > 0 the softmax runs over the batch's answers plus that many shared random
entities instead of all of them (sampled softmax; much cheaper on large entity sets).
Validation: filtered MRR on both directions after each epoch; the best epoch's weights are kept.

``optimizer`` is ``adam`` or ``adagrad`` (Adagrad with a large step is the classic choice for
1-vs-all KGE: its per-row step sizes suit embeddings whose rows are updated at very different
rates). ``regularization-coef`` weighs an N3 penalty (Lacroix et al., ICML 2018): the sum of the
cubed absolute values of the embeddings a batch uses, divided by the batch size.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Any

import torch

from graphml.api import Cancelled, StopFn
from graphml.models.kge import make_kge
from graphml.processing.processed import ProcessedGraph
from graphml.training.losses import softmax_cross_entropy
from graphml.training.metrics import KnownEdges, filtered_ranks, ranking
from graphml.training.params import OPTIMIZERS
from graphml.training.rgcn_trainer import TrainResult
from graphml.training.seeding import seed_everything


@dataclass
class Triples:
    """``[n, 3]`` int64 (head, relation, tail) arrays over a global entity index."""

    train: torch.Tensor
    valid: torch.Tensor
    test: torch.Tensor
    num_entities: int
    num_relations: int

    def known(self) -> KnownEdges:
        """All true (head, relation) -> tail pairs of every split, reciprocal queries included."""
        every = torch.cat([self.train, self.valid, self.test])
        h, r, t = every.unbind(1)
        rr = 2 * self.num_relations
        q = torch.cat([h * rr + r, t * rr + r + self.num_relations])
        return KnownEdges(q, torch.cat([t, h]), self.num_entities * rr)


def entity_offsets(pg: ProcessedGraph) -> dict[str, int]:
    """Global entity index = offset of the node type (sorted) + node index."""
    offsets, total = {}, 0
    for nt in sorted(pg.graph.ntypes):
        offsets[nt] = total
        total += pg.graph.num_nodes(nt)
    return offsets


def triples_from_graph(pg: ProcessedGraph) -> Triples:
    """Every edge is a triple; the target edge type's valid/test edges are held out."""
    g, target = pg.graph, pg.target
    off = entity_offsets(pg)
    parts: dict[str, list[torch.Tensor]] = {"train": [], "valid": [], "test": []}
    for r, cet in enumerate(sorted(g.canonical_etypes)):
        s, d = g.edges(etype=cet)
        trip = torch.stack([s + off[cet[0]], torch.full_like(s, r), d + off[cet[2]]], 1)
        if cet == target.etype:
            data = g.edges[cet].data
            parts["train"].append(trip[data["train_mask"].bool()])
            parts["valid"].append(trip[data["val_mask"].bool()])
            parts["test"].append(trip[data["test_mask"].bool()])
        else:
            parts["train"].append(trip)
    cat = {k: torch.cat(v) if v else torch.zeros(0, 3, dtype=torch.int64) for k, v in parts.items()}
    return Triples(
        cat["train"],
        cat["valid"],
        cat["test"],
        sum(g.num_nodes(nt) for nt in g.ntypes),
        len(g.canonical_etypes),
    )


def kge_ranks(
    model, triples: torch.Tensor, num_relations: int, known: KnownEdges, batch: int
) -> torch.Tensor:
    """Filtered ranks of tails (``(h, r, ?)``) and heads (``(?, r, t)`` via reciprocals)."""
    h, r, t = triples.unbind(1)
    rr = 2 * num_relations
    q_head = torch.cat([h, t])
    q_rel = torch.cat([r, r + num_relations])
    answers = torch.cat([t, h])
    q = q_head * rr + q_rel

    def score(qb: torch.Tensor) -> torch.Tensor:
        return model.score_all(qb // rr, qb % rr)

    model.eval()
    with torch.no_grad():
        return filtered_ranks(score, q, answers, known, batch)


_OPTIMIZER_CLASSES = {"adam": torch.optim.Adam, "adagrad": torch.optim.Adagrad}  # keys: params.OPTIMIZERS


def make_optimizer(name: str, params, lr: float) -> torch.optim.Optimizer:
    """One of :data:`graphml.training.params.OPTIMIZERS`; anything else is a ``ValueError``
    (``params.check_overrides`` refuses it first, naming the field)."""
    if name not in _OPTIMIZER_CLASSES:
        raise ValueError(f"unknown optimizer {name!r}; expected {' or '.join(OPTIMIZERS)}")
    return _OPTIMIZER_CLASSES[name](params, lr=lr)


def add_n3_gradient(model, queries: torch.Tensor, weight: float) -> float:
    """Adds the gradient of ``weight`` x N3 of the embeddings used by ``queries`` ``[b, 3]``
    (head, relation, tail): ``Σ |x|^3 / b`` over the three looked-up rows of each query, to
    the tables' ``.grad``, and returns the penalty's value. Written out (d|x|^3/dx = 3 x |x|)
    rather than left to autograd, which would build a dense ``[num_entities, d]`` zero gradient
    for each of the three lookups."""
    ent, rel = model.entity.weight, model.relation.weight
    total = 0.0
    scale = 3.0 * weight / len(queries)
    with torch.no_grad():
        for table, rows in ((ent, queries[:, 0]), (rel, queries[:, 1]), (ent, queries[:, 2])):
            emb = table[rows]  # [b, d]
            total += float(emb.abs().pow(3).sum())
            if table.grad is None:
                table.grad = torch.zeros_like(table)
            table.grad.index_add_(0, rows, emb * emb.abs() * scale)
    return weight * total / len(queries)


def train_kge(
    name: str,
    data: Triples,
    hp: dict[str, Any],
    *,
    on_epoch=None,
    should_stop: StopFn | None = None,
    show_bar: bool = False,
    log=None,
) -> TrainResult:
    from tqdm.auto import tqdm

    seed_everything(int(hp["seed"]))
    model = make_kge(name, data.num_entities, data.num_relations, int(hp["num-hidden"]), float(hp["dropout"]))
    opt = make_optimizer(str(hp.get("optimizer", "adam")), model.parameters(), float(hp["lr"]))
    h, r, t = data.train.unbind(1)
    queries = torch.stack([torch.cat([h, t]), torch.cat([r, r + data.num_relations]), torch.cat([t, h])], 1)
    known = data.known()
    bs, eval_bs = int(hp["batch-size"]), int(hp["eval-batch-size"])
    smoothing, reg = float(hp["label-smoothing"]), float(hp["regularization-coef"])
    limit = float(hp.get("time-limit-s") or 0)
    negs = int(hp.get("num-negs") or 0)
    best, best_state, best_epoch, stale = None, None, -1, 0
    curves: dict[str, list[float]] = {"train_loss": [], "val_mrr": []}
    epochs = int(hp["num-epochs"])
    start = time.time()
    bar = tqdm(range(epochs), desc=f"train {name}", disable=not show_bar, leave=False)
    for epoch in bar:
        model.train()
        perm = torch.randperm(len(queries))
        total, n = 0.0, 0
        for i in range(0, len(perm), bs):
            if should_stop is not None and should_stop():
                raise Cancelled("training cancelled")
            if limit and time.time() - start > limit:
                break  # out of time: evaluate what we have
            qb = queries[perm[i : i + bs]]
            if negs:  # sampled softmax: the batch's answers plus ``negs`` shared random entities
                cand, target = torch.unique(
                    torch.cat([qb[:, 2], torch.randint(data.num_entities, (negs,))]), return_inverse=True
                )
                scores = model.score_all(qb[:, 0], qb[:, 1], cand)
                loss = softmax_cross_entropy(scores, target[: len(qb)], smoothing)
            else:
                scores = model.score_all(qb[:, 0], qb[:, 1])
                loss = softmax_cross_entropy(scores, qb[:, 2], smoothing)
            opt.zero_grad()
            loss.backward()
            penalty = add_n3_gradient(model, qb, reg) if reg else 0.0
            opt.step()
            total, n = total + float(loss) + penalty, n + 1
        val = ranking(kge_ranks(model, data.valid, data.num_relations, known, eval_bs)).get("mrr")
        curves["train_loss"].append(total / max(n, 1))
        curves["val_mrr"].append(float("nan") if val is None else val)
        if best_state is None or (val is not None and (best is None or val > best)):
            best, best_state, best_epoch, stale = val, copy.deepcopy(model.state_dict()), epoch, 0
        else:
            stale += 1
        bar.set_postfix(loss=f"{total / max(n, 1):.4f}", mrr=f"{val or 0:.4f}")
        if log is not None:
            log(
                f"epoch {epoch + 1}: loss {total / max(n, 1):.4f} val mrr {val or 0:.4f} "
                f"({time.time() - start:.0f} s)"
            )
        if on_epoch is not None:
            on_epoch(
                {
                    "epoch": epoch + 1,
                    "epochs": epochs,
                    "loss": total / max(n, 1),
                    "best_metric": {"name": "mrr", "value": best},
                }
            )
        if hp["enable-early-stop"] and stale >= int(hp["window-for-early-stop"]):
            break
        if limit and time.time() - start > limit:
            break
    model.load_state_dict(best_state)
    train_s = time.time() - start
    metrics = {
        "eval_metric": "mrr",
        "higher_is_better": True,
        "best_epoch": best_epoch + 1,
        "valid": ranking(kge_ranks(model, data.valid, data.num_relations, known, eval_bs)),
        "test": ranking(kge_ranks(model, data.test, data.num_relations, known, eval_bs)),
        "train_seconds": round(train_s, 2),
    }
    config = {
        "model": name,
        "task": "link_prediction",
        "hyperparameters": hp,
        "num_entities": data.num_entities,
        "num_relations": data.num_relations,
    }
    return TrainResult(model, config, metrics, curves)
