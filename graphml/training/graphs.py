"""Message-passing graphs for training and inference.

Every edge type ``(s, r, d)`` gets a reverse type ``(d, "rev-" + r, s)`` so information flows
both ways; reverse edge ``i`` is forward edge ``i`` reversed (DGL's ``reverse_types`` exclusion
relies on that). For link prediction the validation and test edges of the target type are
left out of the graph the model trains and is evaluated on.
"""

from __future__ import annotations

import dgl
import torch

REV = "rev-"


def reverse_etype(etype: tuple[str, str, str]) -> tuple[str, str, str]:
    s, r, d = etype
    return (d, r[len(REV) :] if r.startswith(REV) else REV + r, s)


def message_graph(
    g: dgl.DGLGraph, keep: dict[tuple[str, str, str], torch.Tensor] | None = None
) -> dgl.DGLGraph:
    """``g`` plus reverse edge types; ``keep[etype]`` (edge ids) restricts an edge type."""
    data = {}
    for cet in g.canonical_etypes:
        src, dst = g.edges(etype=cet)
        if keep and cet in keep:
            src, dst = src[keep[cet]], dst[keep[cet]]
        data[cet] = (src, dst)
        data[reverse_etype(cet)] = (dst, src)
    return dgl.heterograph(data, num_nodes_dict={nt: g.num_nodes(nt) for nt in g.ntypes})


def node_features(g: dgl.DGLGraph) -> dict[str, torch.Tensor]:
    return {nt: g.nodes[nt].data["feat"] for nt in g.ntypes if "feat" in g.nodes[nt].data}
