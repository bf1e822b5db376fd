"""Sampler benchmark: neighbour sampling vs LABOR vs GNS (``python -m bench sampling``).

Two parts:

1. Accuracy on Cora and CiteSeer (Planetoid splits, from ``../shared/datasets/planetoid``; skipped
   with a note when the folder is missing): GraphSAGE trained with each sampler, test accuracy as
   the mean over seeds.
2. Cost on a generated power-law graph (default 1M nodes, 10M directed edges, features carrying
   the labels; :func:`graphml.datasets.power_law_graph`). Each sampler trains in its own process
   (so peak RSS is per sampler) and reports, per epoch: sampling time, unique input nodes and
   input-feature bytes per mini-batch (host-to-device traffic of mixed CPU-GPU training: for GNS
   only cache misses, plus the cache load once per epoch), epoch time, and test accuracy.

No accelerator is used: bytes are counted, not timed on a device. Compute threads default to one
(``--threads``) because the benchmark machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SAMPLERS = ("neighbor", "labor", "gns")
PLANETOID = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "planetoid"


def _options(sampler: str) -> dict:
    if sampler == "labor":
        return {"importance_sampling": 1}
    if sampler == "gns":
        return {"cache_fraction": 0.01, "min_fanout": 1}
    return {}


def _set_threads(threads: int) -> None:
    import dgl
    import torch

    torch.set_num_threads(threads)
    dgl.utils.set_num_threads(threads)


def planetoid_accuracy(root: Path, seeds: int, samplers: list[str]) -> dict:
    from graphml.datasets import load_planetoid
    from graphml.models.sage_training import SageConfig, train_node_classifier

    results: dict = {}
    for name in ("cora", "citeseer"):
        graph = load_planetoid(name, root)
        for sampler in samplers:
            accs = []
            for seed in range(seeds):
                cfg = SageConfig(
                    sampler=sampler,
                    sampler_options=_options(sampler),
                    fanouts=[10, 10],
                    hidden=64,
                    lr=0.01,
                    weight_decay=5e-4,
                    batch_size=64,
                    epochs=50,
                    seed=seed,
                )
                accs.append(train_node_classifier(graph, cfg, progress=False).test_acc)
            results[f"{name}/{sampler}"] = {"test_acc_mean": statistics.mean(accs), "test_accs": accs}
            print(
                f"{name:9s} {sampler:9s} test acc {statistics.mean(accs):.4f}  ({', '.join(f'{a:.3f}' for a in accs)})",
                flush=True,
            )
    return results


def child(graph_file: str, sampler: str, epochs: int, threads: int) -> None:
    """Train one sampler on the saved big graph; print one JSON line with the figures."""
    import dgl

    from graphml.models.sage_training import SageConfig, train_node_classifier

    _set_threads(threads)
    graph = dgl.load_graphs(graph_file)[0][0]
    cfg = SageConfig(
        sampler=sampler,
        sampler_options=_options(sampler),
        fanouts=[10, 10],
        hidden=128,
        lr=0.01,
        batch_size=1000,
        epochs=epochs,
        seed=0,
    )
    result = train_node_classifier(graph, cfg, progress=False)
    out = result.metrics()
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(out), flush=True)


def big_graph(
    nodes: int,
    edges: int,
    epochs: int,
    threads: int,
    samplers: list[str],
    timeout_s: int,
    train_fraction: float,
) -> dict:
    import dgl

    from graphml.datasets import power_law_graph

    with tempfile.TemporaryDirectory(prefix="seer-bench-") as tmp:
        t0 = time.perf_counter()
        graph = power_law_graph(nodes, edges, train_fraction=train_fraction)
        gen_s = time.perf_counter() - t0
        deg = graph.in_degrees()
        info = {
            "nodes": graph.num_nodes(),
            "edges": graph.num_edges(),
            "max_degree": int(deg.max()),
            "train_nodes": int(graph.ndata["train_mask"].sum()),
            "feature_bytes_per_node": graph.ndata["feat"].shape[1] * 4,
            "generate_s": gen_s,
        }
        print(f"power-law graph: {json.dumps(info)}", flush=True)
        path = os.path.join(tmp, "graph.bin")
        dgl.save_graphs(path, [graph])
        del graph, deg
        results: dict = {"graph": info}
        for sampler in samplers:
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.sampling",
                    "--child",
                    path,
                    sampler,
                    "--epochs",
                    str(epochs),
                    "--threads",
                    str(threads),
                ],
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
            )
            lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
            if proc.returncode != 0 or not lines:
                print(f"{sampler}: failed ({proc.returncode})\n{proc.stderr[-2000:]}", flush=True)
                continue
            res = json.loads(lines[-1][len("RESULT ") :])
            results[sampler] = res
            for e in res["epochs"]:
                print(
                    f"{sampler:9s} epoch {e['epoch']}: {e['epoch_s']:7.1f} s (sampling {e['sample_s']:6.1f} s), "
                    f"{e['input_nodes_per_batch']:9.0f} input nodes/batch, "
                    f"{e['input_bytes_per_batch'] / 1e6:7.2f} MB input features/batch"
                    + (f" + cache load {e['cache_bytes'] / 1e6:.1f} MB/epoch" if e["cache_bytes"] else ""),
                    flush=True,
                )
            print(
                f"{sampler:9s} test acc {res['test_acc']:.4f}, peak RSS {res['peak_rss_mb']:.0f} MB",
                flush=True,
            )
        return results


def summarize(results: dict) -> None:
    big = results.get("big", {})
    if "neighbor" in big and "gns" in big:
        ns, gns = big["neighbor"], big["gns"]

        def mean(r, key):  # steady state: the first epoch also builds DGL's sparse formats
            epochs = r["epochs"][1:] or r["epochs"]
            return statistics.mean(e[key] for e in epochs)

        bytes_ratio = mean(ns, "input_bytes_per_batch") / mean(gns, "input_bytes_per_batch")
        per_batch_cache = mean(gns, "cache_bytes") / statistics.mean(e["batches"] for e in gns["epochs"])
        bytes_ratio_cache = mean(ns, "input_bytes_per_batch") / (
            mean(gns, "input_bytes_per_batch") + per_batch_cache
        )
        print(
            f"GNS vs neighbour: {bytes_ratio:.1f}x fewer input-feature bytes per batch "
            f"({bytes_ratio_cache:.1f}x counting the cache load), epoch {mean(ns, 'epoch_s') / mean(gns, 'epoch_s'):.2f}x faster, "
            f"accuracy {100 * (gns['test_acc'] - ns['test_acc']):+.2f} points",
            flush=True,
        )
    for name in ("cora", "citeseer"):
        acc = results.get("planetoid", {})
        if f"{name}/neighbor" in acc and f"{name}/gns" in acc:
            diff = acc[f"{name}/gns"]["test_acc_mean"] - acc[f"{name}/neighbor"]["test_acc_mean"]
            print(f"{name}: GNS - neighbour accuracy {100 * diff:+.2f} points", flush=True)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--edges", type=int, default=10_000_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=3, help="seeds per Planetoid accuracy figure")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--train-fraction", type=float, default=0.02, help="training nodes of the big graph")
    parser.add_argument("--samplers", default=",".join(SAMPLERS))
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--skip-planetoid", action="store_true")
    parser.add_argument("--json", help="write all figures to this file")
    parser.add_argument("--timeout", type=int, default=3600, help="per-sampler limit on the big graph (s)")
    parser.add_argument("--child", nargs=2, metavar=("GRAPH", "SAMPLER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], args.epochs, args.threads)
        return
    _set_threads(args.threads)
    samplers = args.samplers.split(",")
    results: dict = {}
    if not args.skip_planetoid:
        if PLANETOID.is_dir():
            results["planetoid"] = planetoid_accuracy(PLANETOID, args.seeds, samplers)
        else:
            print(f"Planetoid data not found at {PLANETOID}; accuracy part skipped", flush=True)
    if not args.skip_big:
        results["big"] = big_graph(
            args.nodes, args.edges, args.epochs, args.threads, samplers, args.timeout, args.train_fraction
        )
    summarize(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
