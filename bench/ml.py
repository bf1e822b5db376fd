"""ML quality benchmarks (``python -m bench ml`` or ``python -m bench.ml [cora|fb15k|air-lp|air-nc]``).

- cora: RGCN node classification on the Planetoid split (140 / 500 / 1000), mean test accuracy
  over 5 seeds; target >= 0.80.
- fb15k: FB15k-237 filtered MRR / Hits@k of a KGE model trained under a time limit
  (default DistMult, 30 minutes on this machine); target >= 0.28.
- air-lp: air-routes ``route`` link prediction through the full CSV pipeline (RGCN + DistMult
  decoder) against a degree baseline (rank candidates by their training in-degree) scored in
  the same run with the same filtered ranking.
- air-nc: air-routes airport ``country`` classification from numeric properties and routes only
  (``contains`` edges and text properties left out, they would give the answer away), against
  the majority class.

Each prints its figures and run times. Datasets are read from ``../shared/datasets``.
"""

from __future__ import annotations

import argparse
import gzip
import pickle
import sys
import tempfile
import time
from pathlib import Path

import dgl
import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT.parent / "shared" / "datasets"
if not DATASETS.exists():
    DATASETS = Path("/work/shared/datasets")


def _line(name: str, **figures: object) -> None:
    parts = [f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()]
    print(f"{name}: " + " ".join(parts), flush=True)


# -- Cora -----------------------------------------------------------------------------------------


def load_cora() -> tuple[dgl.DGLGraph, torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """Planetoid's Cora: row-normalised bag-of-words, labels, and the standard split masks."""
    import scipy.sparse as sp

    base = DATASETS / "planetoid"

    def load(name: str):
        with open(base / f"ind.cora.{name}", "rb") as fh:
            return pickle.load(fh, encoding="latin1")  # noqa: S301 - the Planetoid data format

    x, y, tx, ty, allx, ally, graph = (load(n) for n in ("x", "y", "tx", "ty", "allx", "ally", "graph"))
    test_idx = [int(line) for line in (base / "ind.cora.test.index").read_text().split()]
    order = np.sort(test_idx)
    feats = sp.vstack((allx, tx)).tolil()
    feats[test_idx, :] = feats[order, :]
    labels = np.vstack((ally, ty))
    labels[test_idx, :] = labels[order, :]
    feats = np.asarray(feats.todense(), dtype=np.float32)
    feats /= np.maximum(feats.sum(1, keepdims=True), 1.0)
    # Self-loop edges inside ``cites`` make each layer average a paper with its neighbours under
    # one weight (the GCN-style mean); the RGCN's separate self-loop weight is then switched off.
    src = [s for s, nbrs in graph.items() for d in nbrs if s != d] + list(range(len(graph)))
    dst = [d for s, nbrs in graph.items() for d in nbrs if s != d] + list(range(len(graph)))
    pairs = np.unique(np.array([src, dst]).T, axis=0)
    g = dgl.heterograph(
        {("paper", "cites", "paper"): (torch.tensor(pairs[:, 0]), torch.tensor(pairs[:, 1]))},
        num_nodes_dict={"paper": feats.shape[0]},
    )
    n = feats.shape[0]
    masks = [torch.zeros(n, dtype=torch.bool) for _ in range(3)]
    masks[0][:140] = True
    masks[1][140:640] = True
    masks[2][order] = True
    return g, torch.from_numpy(feats), torch.from_numpy(labels.argmax(1)), masks


CORA_SEEDS = 5
"""Cora's figure of record is the mean test accuracy over this many seeds: with 140 training
labels one seed's figure moves by about +-2 points (0.75-0.82 seen), which hides changes."""


def bench_cora(seeds: int = CORA_SEEDS, **over: object) -> dict:
    """Test accuracy on Planetoid's split, mean (and range) over ``seeds`` training seeds."""
    from graphml.processing.processed import ProcessedGraph, Target
    from graphml.training.params import trial_params
    from graphml.training.rgcn_trainer import RGCNTrainer

    start = time.time()
    g, feats, labels, masks = load_cora()
    g.nodes["paper"].data["feat"] = feats
    g.nodes["paper"].data["label"] = labels
    for name, mask in zip(("train_mask", "val_mask", "test_mask"), masks, strict=True):
        g.nodes["paper"].data[name] = mask
    target = Target("node_class", ntype="paper", property="subject", classes=[str(c) for c in range(7)])
    pg = ProcessedGraph(g, {"paper": [str(i) for i in range(g.num_nodes())]}, target)
    # GCN-style regime for 140 labels: strong dropout and weight decay, every neighbour (the
    # graph is small), citing and cited relations with their own weights and layer norm (Neptune's
    # defaults), the cites edges carrying the self-loops, and the epoch with the best validation
    # accuracy kept (no early stop: validation is noisy). Chosen on mean validation accuracy over
    # 5 seeds: 0.811, against 0.783 with hidden 64, 25 sampled neighbours, one shared basis, no
    # layer norm, lr 0.01 and 60 epochs (the settings until 2026-12-04).
    fixed = {
        "num-hidden": 128,
        "num-layer": 2,
        "fanout": [-1, -1],
        "dropout": 0.5,
        "input-dropout": 0.5,
        "lr": 0.005,
        "l2norm": 5e-4,
        "batch-size": 140,
        "num-epochs": 150,
        "enable-early-stop": False,
        "layer-norm": True,
        "use-self-loop": False,
        "num-bases": 0,
    }
    test, valid, epochs = [], [], []
    for seed in range(seeds):
        hp = trial_params("rgcn", 0, 1, dict(fixed, seed=seed, **over))
        result = RGCNTrainer(pg, hp).fit()
        test.append(result.metrics["test"]["acc"])
        valid.append(result.metrics["valid"]["acc"])
        epochs.append(result.metrics["best_epoch"])
        print(f"  cora seed {seed}: test_acc={test[-1]:.4f} val_acc={valid[-1]:.4f} best_epoch={epochs[-1]}")
    out = {
        "test_acc": sum(test) / seeds,
        "test_min": min(test),
        "test_max": max(test),
        "val_acc": sum(valid) / seeds,
        "seeds": seeds,
        "seconds": round(time.time() - start, 1),
    }
    _line("cora rgcn (planetoid split, mean over seeds)", **out)
    return out


# -- FB15k-237 ------------------------------------------------------------------------------------


def load_fb15k():
    from graphml.training.kge_trainer import Triples

    def read(split: str) -> list[list[str]]:
        with gzip.open(DATASETS / "fb15k-237" / f"{split}.txt.gz", "rt") as fh:
            return [line.rstrip("\n").split("\t") for line in fh if line.strip()]

    tr, va, te = read("train"), read("valid"), read("test")
    ents = sorted({x for part in (tr, va, te) for h, _, t in part for x in (h, t)})
    rels = sorted({r for part in (tr, va, te) for _, r, _ in part})
    e_idx, r_idx = {e: i for i, e in enumerate(ents)}, {r: i for i, r in enumerate(rels)}

    def tensor(part: list[list[str]]) -> torch.Tensor:
        return torch.tensor([[e_idx[h], r_idx[r], e_idx[t]] for h, r, t in part])

    return Triples(tensor(tr), tensor(va), tensor(te), len(ents), len(rels))


def bench_fb15k(model: str = "distmult", minutes: float = 30.0, subset: float = 1.0) -> dict:
    from graphml.training.kge_trainer import Triples, train_kge
    from graphml.training.params import trial_params

    start = time.time()
    data = load_fb15k()
    if subset < 1.0:
        keep = torch.randperm(len(data.train), generator=torch.Generator().manual_seed(0))
        data = Triples(
            data.train[keep[: int(subset * len(keep))]],
            data.valid[:2000],
            data.test[:2000],
            data.num_entities,
            data.num_relations,
        )
    # Validation during training on a fixed sample of 3,000 triples (cheaper per epoch); the
    # final figures are on the full test split.
    data = Triples(
        data.train,
        data.valid[torch.randperm(len(data.valid), generator=torch.Generator().manual_seed(0))[:3000]],
        data.test,
        data.num_entities,
        data.num_relations,
    )
    load_s = time.time() - start
    # Budget: training stops once the time limit is reached (minus a reserve for the final
    # filtered evaluation of valid + test, which scores every entity for 2 x 38k queries).
    # The settings of Lacroix et al. (2018) / Ruffinelli et al. (2020) for 1-vs-all DistMult:
    # full softmax over all entities, Adagrad with a large step, N3 on the batch's embeddings.
    hp = trial_params(
        model,
        0,
        1,
        {
            "num-hidden": 128,
            "optimizer": "adagrad",
            "lr": 0.1,
            "batch-size": 1000,
            "num-negs": 0,
            "dropout": 0.0,
            "label-smoothing": 0.0,
            "regularization-coef": 0.05,
            "num-epochs": 100,
            "time-limit-s": max(60 * minutes - 150 - load_s, 60),
            "window-for-early-stop": 2,
        },
    )
    result = train_kge(model, data, hp, log=lambda m: print(f"  {model} {m}", flush=True))
    test = result.metrics["test"]
    out = {
        "test_mrr": test["mrr"],
        "hits@1": test["hits@1"],
        "hits@3": test["hits@3"],
        "hits@10": test["hits@10"],
        "valid_mrr": result.metrics["valid"]["mrr"],
        "epochs": len(result.curves["val_mrr"]),
        "seconds": round(time.time() - start, 1),
    }
    _line(f"fb15k-237 {model} (filtered, both directions)", **out)
    return out


# -- air-routes -----------------------------------------------------------------------------------


def degree_baseline(pg) -> dict:
    """Rank every candidate destination by its in-degree among training ``route`` edges."""
    from graphml.training.metrics import KnownEdges, filtered_ranks, ranking

    g, et = pg.graph, pg.target.etype
    data = g.edges[et].data
    src, dst = g.edges(etype=et)
    train = data["train_mask"].bool()
    test = data["test_mask"].bool()
    in_deg = torch.bincount(dst[train], minlength=g.num_nodes(et[2])).float()
    out_deg = torch.bincount(src[train], minlength=g.num_nodes(et[0])).float()
    tails = filtered_ranks(
        lambda b: in_deg.expand(len(b), -1), src[test], dst[test], KnownEdges(src, dst, g.num_nodes(et[0]))
    )
    heads = filtered_ranks(
        lambda b: out_deg.expand(len(b), -1), dst[test], src[test], KnownEdges(dst, src, g.num_nodes(et[2]))
    )
    return ranking(torch.cat([tails, heads]))


def bench_air_lp(epochs: int = 10) -> dict:
    from graphml.api import run_data_processing, run_training
    from graphml.processing.processed import ProcessedGraph

    start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        proc, model = Path(tmp) / "proc", Path(tmp) / "model"
        cfg = {"targets": [{"edge": ["airport", "route", "airport"], "type": "link_prediction"}]}
        run_data_processing(DATASETS / "air-routes", proc, config=cfg)
        proc_s = time.time() - start
        summary = run_training(
            proc,
            model,
            max_hpo_jobs=1,
            # Batches of 256 routes: about 200 optimizer steps per epoch. With 2,048 (25 steps) and
            # lr 1e-3 five epochs ended at MRR 0.055, the degree baseline's level, and every airport
            # got the same top 10; the loss had not reached chance level.
            overrides={
                "num-epochs": epochs,
                "fanout": [10, 10],
                "batch-size": 256,
                "num-negs": 5,
                "num-hidden": 64,
                "dropout": 0.1,
                "lr": 0.005,
                "window-for-early-stop": 3,
            },
        )
        base = degree_baseline(ProcessedGraph.load(proc))
    test = summary["test"]
    out = {
        "rgcn_mrr": test["mrr"],
        "rgcn_hits@10": test["hits@10"],
        "degree_mrr": base["mrr"],
        "degree_hits@10": base["hits@10"],
        "mrr_ratio": test["mrr"] / max(base["mrr"], 1e-9),
        "processing_s": round(proc_s, 1),
        "seconds": round(time.time() - start, 1),
    }
    _line("air-routes route link prediction (filtered, test split)", **out)
    return out


def bench_air_nc(epochs: int = 15) -> dict:
    from graphml.api import run_data_processing, run_training
    from graphml.processing.processed import ProcessedGraph

    start = time.time()
    numeric = ["lat", "lon", "elev", "runways", "longest"]
    cfg = {
        "graph": [
            {
                "nodes": [
                    {
                        "node": ["~id", "airport"],
                        "features": [
                            {"feature": [p, p, "numerical"], "norm": "standard", "imputer": "median"}
                            for p in numeric
                        ],
                        "labels": [{"label": ["country", "classification"], "split_rate": [0.8, 0.1, 0.1]}],
                    }
                ],
                "edges": [
                    {"source": ["~from", "airport"], "relation": ["", "route"], "dest": ["~to", "airport"]}
                ],
            }
        ]
    }
    with tempfile.TemporaryDirectory() as tmp:
        proc, model = Path(tmp) / "proc", Path(tmp) / "model"
        run_data_processing(DATASETS / "air-routes", proc, config=cfg)
        summary = run_training(
            proc,
            model,
            max_hpo_jobs=1,
            overrides={
                "num-epochs": epochs,
                "fanout": [15, 15],
                "batch-size": 512,
                "num-hidden": 128,
                "lr": 0.01,
                "dropout": 0.2,
                "window-for-early-stop": 5,
            },
        )
        pg = ProcessedGraph.load(proc)
        data = pg.graph.nodes["airport"].data
        train_labels = data["label"][data["train_mask"].bool()]
        majority = int(torch.bincount(train_labels).argmax())
        test_labels = data["label"][data["test_mask"].bool()]
        base = float((test_labels == majority).float().mean())
    out = {
        "rgcn_test_acc": summary["test"]["acc"],
        "rgcn_macro_f1": summary["test"]["f1"],
        "majority_acc": base,
        "classes": len(pg.target.classes),
        "seconds": round(time.time() - start, 1),
    }
    _line("air-routes airport country classification", **out)
    return out


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench.ml")
    parser.add_argument("which", nargs="*", default=["cora", "air-nc", "air-lp", "fb15k"])
    parser.add_argument("--fb15k-model", default="distmult")
    parser.add_argument("--fb15k-minutes", type=float, default=30.0)
    parser.add_argument("--fb15k-subset", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    for name in args.which:
        t = time.time()
        if name == "cora":
            bench_cora()
        elif name == "fb15k":
            bench_fb15k(args.fb15k_model, args.fb15k_minutes, args.fb15k_subset)
        elif name == "air-lp":
            bench_air_lp()
        elif name == "air-nc":
            bench_air_nc()
        else:
            raise SystemExit(f"unknown ML benchmark {name!r}")
        print(f"  ({name}: {time.time() - t:.1f} s wall)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
