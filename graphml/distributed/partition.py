"""Graph partitioning for DistDGL (METIS through ``dgl.distributed.partition_graph``)."""

from __future__ import annotations

from pathlib import Path

import dgl

NODE_DATA = ("feat", "label", "train_mask", "val_mask", "test_mask")


def partition(graph: dgl.DGLGraph, num_parts: int, out_dir: Path, graph_name: str = "seer") -> Path:
    """Split ``graph`` into ``num_parts`` METIS partitions under ``out_dir``; returns the partition
    config (``out_dir / f"{graph_name}.json"``), which servers and trainers read.

    Partitions are balanced on training nodes and edges (so trainers get similar work); the node
    data of :mod:`graphml.datasets` travels with the partitions. Node ids are reshuffled by DGL;
    the mapping back to the input graph is kept (``return_mapping``) and saved as
    ``out_dir / "orig_nids.pt"``.
    """
    import torch

    out_dir.mkdir(parents=True, exist_ok=True)
    g = dgl.graph(graph.edges(), num_nodes=graph.num_nodes())
    for key in NODE_DATA:
        g.ndata[key] = graph.ndata[key]
    orig_nids, _ = dgl.distributed.partition_graph(
        g,
        graph_name,
        num_parts,
        str(out_dir),
        part_method="metis" if num_parts > 1 else "random",
        balance_ntypes=g.ndata["train_mask"].to(dgl.backend.int64) if num_parts > 1 else None,
        balance_edges=True,
        return_mapping=True,
    )
    torch.save(orig_nids, out_dir / "orig_nids.pt")
    return out_dir / f"{graph_name}.json"
