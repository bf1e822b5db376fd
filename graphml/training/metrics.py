"""Evaluation metrics: accuracy / F1, MSE / RMSE, and filtered ranking (MRR, Hits@k)."""

from __future__ import annotations

import numpy as np
import torch

HIGHER_IS_BETTER = {"acc": True, "f1": True, "mse": False, "rmse": False, "mrr": True}


def classification(logits: torch.Tensor, labels: torch.Tensor, multi_label: bool) -> dict[str, float]:
    """``logits`` ``[n, C]``; ``labels`` ``[n]`` (class index) or ``[n, C]`` multi-hot."""
    from sklearn.metrics import f1_score

    if len(labels) == 0:
        return {}
    if multi_label:
        pred = (logits > 0).int().numpy()
        truth = labels.int().numpy()
        return {
            "acc": float((pred == truth).all(1).mean()),
            "f1": float(f1_score(truth, pred, average="micro", zero_division=0)),
        }
    pred = logits.argmax(1).numpy()
    truth = labels.numpy()
    return {
        "acc": float((pred == truth).mean()),
        "f1": float(f1_score(truth, pred, average="macro", zero_division=0)),
    }


def regression(pred: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    if len(target) == 0:
        return {}
    mse = float(((pred.view(-1) - target.view(-1)) ** 2).mean())
    return {"mse": mse, "rmse": float(np.sqrt(mse))}


def rank_of(scores: torch.Tensor, true_idx: torch.Tensor) -> torch.Tensor:
    """Rank (1 = best) of ``scores[i, true_idx[i]]`` in each row of ``scores`` ``[b, m]``; ties
    share the mean rank, so a constant scorer gets the middle rank, not the top one."""
    true = scores.gather(1, true_idx.view(-1, 1))
    greater = (scores > true).sum(1).float()
    equal = (scores == true).sum(1).float()
    return 1.0 + greater + (equal - 1.0) / 2.0


def ranking(ranks: torch.Tensor) -> dict[str, float]:
    if len(ranks) == 0:
        return {}
    ranks = ranks.float()
    return {
        "mrr": float((1.0 / ranks).mean()),
        "hits@1": float((ranks <= 1).float().mean()),
        "hits@3": float((ranks <= 3).float().mean()),
        "hits@10": float((ranks <= 10).float().mean()),
        "mean_rank": float(ranks.mean()),
    }


class KnownEdges:
    """All true ``(source, destination)`` pairs, for filtered ranking: ``mask(src)`` gives the
    (row, column) positions of known destinations of a batch of sources."""

    def __init__(self, src: torch.Tensor, dst: torch.Tensor, num_src: int) -> None:
        order = torch.argsort(src * (int(dst.max()) + 1 if len(dst) else 1) + dst)
        self.src, self.dst = src[order], dst[order]
        self.ptr = torch.zeros(num_src + 1, dtype=torch.int64)
        self.ptr[1:] = torch.cumsum(torch.bincount(self.src, minlength=num_src), 0)

    def positions(self, batch_src: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        starts, ends = self.ptr[batch_src], self.ptr[batch_src + 1]
        counts = ends - starts
        rows = torch.repeat_interleave(torch.arange(len(batch_src)), counts)
        offsets = torch.arange(int(counts.sum())) - torch.repeat_interleave(
            torch.cumsum(counts, 0) - counts, counts
        )
        cols = self.dst[torch.repeat_interleave(starts, counts) + offsets]
        return rows, cols


def filtered_ranks(
    score_fn, src: torch.Tensor, dst: torch.Tensor, known: KnownEdges, batch_size: int = 512
) -> torch.Tensor:
    """Filtered rank of every ``dst[i]`` among all candidates scored by ``score_fn(src_batch)``
    (``[b, m]``), other known true destinations of the same source removed."""
    out = []
    for i in range(0, len(src), batch_size):
        s, d = src[i : i + batch_size], dst[i : i + batch_size]
        scores = score_fn(s).clone()
        true = scores.gather(1, d.view(-1, 1)).clone()
        rows, cols = known.positions(s)
        scores[rows, cols] = float("-inf")
        scores.scatter_(1, d.view(-1, 1), true)
        out.append(rank_of(scores, d))
    return torch.cat(out) if out else torch.zeros(0)
