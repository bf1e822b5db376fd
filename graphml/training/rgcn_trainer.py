"""Mini-batch RGCN training for node / edge classification and regression and link prediction.

Batches come from :func:`graphml.samplers.make_block_sampler` through DGL's ``DataLoader``
(edge tasks through ``as_edge_prediction_sampler``; link prediction with uniform negatives and
the positive edge plus its reverse excluded from its own neighbourhood). Validation runs on the
full graph after every epoch; the best epoch's weights are kept (early stopping after
``window-for-early-stop`` epochs without improvement).
"""

from __future__ import annotations

import copy
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import dgl
import torch
import torch.nn.functional as F

from graphml.api import Cancelled, StopFn
from graphml.models.bundle import RGCNModel
from graphml.processing.processed import ProcessedGraph
from graphml.samplers import make_block_sampler, new_epoch
from graphml.training.graphs import message_graph, node_features, reverse_etype
from graphml.training.metrics import (
    HIGHER_IS_BETTER,
    KnownEdges,
    classification,
    filtered_ranks,
    ranking,
    regression,
)
from graphml.training.seeding import seed_everything

EpochFn = Any  # Callable[[dict], None]

# DGL advises CPU affinity for worker processes; training here samples in the main process.
warnings.filterwarnings("ignore", message="Dataloader CPU affinity")


@dataclass
class TrainResult:
    model: torch.nn.Module
    config: dict[str, Any]
    metrics: dict[str, Any]
    curves: dict[str, list[float]] = field(default_factory=dict)


def eval_metric_name(task: str, multi_label: bool = False) -> str:
    return (
        {
            "node_class": "acc",
            "edge_class": "acc",
            "node_regression": "rmse",
            "edge_regression": "rmse",
            "link_prediction": "mrr",
        }[task]
        if not multi_label
        else "f1"
    )


def model_config(pg: ProcessedGraph, mp: dgl.DGLGraph, hp: dict[str, Any]) -> dict[str, Any]:
    t = pg.target
    num_out = len(t.classes) if t.task in ("node_class", "edge_class") else 1
    return {
        "model": "rgcn",
        "task": t.task,
        "target": t.to_json(),
        "hyperparameters": hp,
        "feat_dims": pg.feature_dims(),
        "num_nodes": {nt: pg.graph.num_nodes(nt) for nt in pg.graph.ntypes},
        "relations": [list(r) for r in mp.canonical_etypes],
        "num_out": num_out,
    }


class RGCNTrainer:
    def __init__(self, pg: ProcessedGraph, hp: dict[str, Any]) -> None:
        self.pg, self.hp, self.target = pg, hp, pg.target
        g = pg.graph
        self.feats = node_features(g)
        t = self.target
        if t.task == "link_prediction":
            et = t.etype
            masks = {k: g.edges[et].data[k] for k in ("train_mask", "val_mask", "test_mask")}
            self.mp = message_graph(g, keep={et: torch.nonzero(masks["train_mask"]).view(-1)})
        else:
            self.mp = message_graph(g)
        self.config = model_config(pg, self.mp, hp)
        self.model = RGCNModel(self.config)
        self.metric = eval_metric_name(t.task, t.multi_label)

    # -- forward helpers -------------------------------------------------------------------
    def _as_dict(self, nodes) -> dict[str, torch.Tensor]:
        """DGL hands plain tensors (not dicts) for graphs with a single node type."""
        return nodes if isinstance(nodes, dict) else {self.mp.ntypes[0]: nodes}

    def _inputs(self, input_nodes: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {nt: self.feats[nt][ids] for nt, ids in input_nodes.items() if nt in self.feats}

    def embed_full(self) -> dict[str, torch.Tensor]:
        """Every node's final embedding over the whole message graph (eval mode)."""
        self.model.eval()
        with torch.no_grad():
            nids = {nt: torch.arange(self.mp.num_nodes(nt)) for nt in self.mp.ntypes}
            layers = [self.mp] * len(self.model.encoder.layers)
            return self.model.embed(layers, nids, self.feats)

    # -- losses ----------------------------------------------------------------------------
    def _label_loss(self, out: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        t = self.target
        if t.task.endswith("regression"):
            return F.mse_loss(out.view(-1), labels.view(-1))
        if t.multi_label:
            return F.binary_cross_entropy_with_logits(out, labels)
        return F.cross_entropy(out, labels)

    def _loader(self):
        hp, t, mp = self.hp, self.target, self.mp
        layers = int(hp["num-layer"])
        fanout = list(hp["fanout"])[:layers]
        fanout += [fanout[-1]] * (layers - len(fanout))
        self.sampler = make_block_sampler(hp["sampler"], fanout, graph=mp)
        bs = int(hp["batch-size"])
        if t.task in ("node_class", "node_regression"):
            idx = torch.nonzero(self.pg.graph.nodes[t.ntype].data["train_mask"]).view(-1)
            return dgl.dataloading.DataLoader(mp, {t.ntype: idx}, self.sampler, batch_size=bs, shuffle=True)
        if t.task == "link_prediction":
            neg = dgl.dataloading.negative_sampler.Uniform(int(hp["num-negs"]))
            rev = reverse_etype(t.etype)
            sampler = dgl.dataloading.as_edge_prediction_sampler(
                self.sampler,
                exclude="reverse_types",
                reverse_etypes={t.etype: rev, rev: t.etype},
                negative_sampler=neg,
            )
            idx = torch.arange(mp.num_edges(t.etype))
        else:
            sampler = dgl.dataloading.as_edge_prediction_sampler(self.sampler)
            idx = torch.nonzero(self.pg.graph.edges[t.etype].data["train_mask"]).view(-1)
        return dgl.dataloading.DataLoader(mp, {t.etype: idx}, sampler, batch_size=bs, shuffle=True)

    def _batch_loss(self, batch) -> torch.Tensor:
        t, g = self.target, self.pg.graph
        if t.task in ("node_class", "node_regression"):
            input_nodes, output_nodes, blocks = batch
            input_nodes, output_nodes = self._as_dict(input_nodes), self._as_dict(output_nodes)
            h = self.model.embed(blocks, input_nodes, self._inputs(input_nodes))[t.ntype]
            labels = g.nodes[t.ntype].data["label"][output_nodes[t.ntype]]
            return self._label_loss(self.model.head(h), labels)
        if t.task == "link_prediction":
            input_nodes, pos, neg, blocks = batch
            input_nodes = self._as_dict(input_nodes)
            h = self.model.embed(blocks, input_nodes, self._inputs(input_nodes))
            s, d = t.etype[0], t.etype[2]
            ps, pd_ = pos.edges(etype=t.etype)
            ns, nd = neg.edges(etype=t.etype)
            pos_score = self.model.head(h[s][ps], h[d][pd_])
            neg_score = self.model.head(h[s][ns], h[d][nd])
            scores = torch.cat([pos_score, neg_score])
            labels = torch.cat([torch.ones_like(pos_score), torch.zeros_like(neg_score)])
            return F.binary_cross_entropy_with_logits(scores, labels)
        input_nodes, pair, blocks = batch
        input_nodes = self._as_dict(input_nodes)
        h = self.model.embed(blocks, input_nodes, self._inputs(input_nodes))
        es, ed = pair.edges(etype=t.etype)
        eids = pair.edges[t.etype].data[dgl.EID]
        out = self.model.head(h[t.etype[0]][es], h[t.etype[2]][ed])
        return self._label_loss(out, g.edges[t.etype].data["label"][eids])

    # -- evaluation ------------------------------------------------------------------------
    def evaluate(self, split: str) -> dict[str, float]:
        """Metrics on ``split`` (``val`` or ``test``) from full-graph embeddings."""
        t, g = self.target, self.pg.graph
        h = self.embed_full()
        with torch.no_grad():
            if t.task in ("node_class", "node_regression"):
                data = g.nodes[t.ntype].data
                idx = torch.nonzero(data[f"{split}_mask"]).view(-1)
                out = self.model.head(h[t.ntype][idx])
                if t.task == "node_regression":
                    return regression(out, data["label"][idx])
                return classification(out, data["label"][idx], t.multi_label)
            data = g.edges[t.etype].data
            idx = torch.nonzero(data[f"{split}_mask"]).view(-1)
            src, dst = g.edges(etype=t.etype)
            if t.task == "link_prediction":
                return self.link_metrics(h, src[idx], dst[idx])
            out = self.model.head(h[t.etype[0]][src[idx]], h[t.etype[2]][dst[idx]])
            if t.task == "edge_regression":
                return regression(out, data["label"][idx])
            return classification(out, data["label"][idx], t.multi_label)

    def link_metrics(
        self, h: dict[str, torch.Tensor], src: torch.Tensor, dst: torch.Tensor
    ) -> dict[str, float]:
        """Filtered MRR / Hits@k, tail (``(s, r, ?)``) and head (``(?, r, d)``) queries pooled."""
        t, g = self.target, self.pg.graph
        hs, hd = h[t.etype[0]], h[t.etype[2]]
        all_s, all_d = g.edges(etype=t.etype)
        head = self.model.head
        bs = int(self.hp["eval-batch-size"])
        tails = filtered_ranks(
            lambda b: head.score_all(hs[b], hd), src, dst, KnownEdges(all_s, all_d, hs.shape[0]), bs
        )
        heads = filtered_ranks(
            lambda b: head.score_all(hd[b], hs), dst, src, KnownEdges(all_d, all_s, hd.shape[0]), bs
        )
        return ranking(torch.cat([tails, heads]))

    # -- loop ------------------------------------------------------------------------------
    def fit(
        self, on_epoch: EpochFn | None = None, should_stop: StopFn | None = None, show_bar: bool = False
    ) -> TrainResult:
        from tqdm.auto import tqdm

        hp = self.hp
        seed_everything(int(hp["seed"]))
        # Re-create the model under the seed so that the same seed gives the same weights.
        self.model = RGCNModel(self.config)
        loader = self._loader()
        opt = torch.optim.Adam(self.model.parameters(), lr=float(hp["lr"]), weight_decay=float(hp["l2norm"]))
        higher = HIGHER_IS_BETTER[self.metric]
        best, best_state, best_epoch, stale = None, None, -1, 0
        curves: dict[str, list[float]] = {"train_loss": [], f"val_{self.metric}": []}
        epochs = int(hp["num-epochs"])
        start = time.time()
        bar = tqdm(range(epochs), desc="train", disable=not show_bar, leave=False)
        for epoch in bar:
            new_epoch(self.sampler, epoch)
            self.model.train()
            total, n = 0.0, 0
            for batch in loader:
                if should_stop is not None and should_stop():
                    raise Cancelled("training cancelled")
                loss = self._batch_loss(batch)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total, n = total + float(loss), n + 1
            val = self.evaluate("val").get(self.metric)
            curves["train_loss"].append(total / max(n, 1))
            curves[f"val_{self.metric}"].append(float("nan") if val is None else val)
            improved = val is not None and (best is None or (val > best if higher else val < best))
            if improved or best_state is None:
                best, best_state, best_epoch, stale = val, copy.deepcopy(self.model.state_dict()), epoch, 0
            else:
                stale += 1
            bar.set_postfix(loss=f"{total / max(n, 1):.4f}", **{self.metric: f"{val or 0:.4f}"})
            if on_epoch is not None:
                on_epoch(
                    {
                        "epoch": epoch + 1,
                        "epochs": epochs,
                        "loss": total / max(n, 1),
                        "best_metric": {"name": self.metric, "value": best},
                    }
                )
            if hp["enable-early-stop"] and stale >= int(hp["window-for-early-stop"]):
                break
        self.model.load_state_dict(best_state)
        metrics = {
            "eval_metric": self.metric,
            "higher_is_better": higher,
            "best_epoch": best_epoch + 1,
            "valid": self.evaluate("val"),
            "test": self.evaluate("test"),
            "train_seconds": round(time.time() - start, 2),
        }
        return TrainResult(self.model, self.config, metrics, curves)
