"""Mini-batch neighbour samplers behind one factory, so trainers never name a DGL class.

Contract (shared by every trainer and sampler in ``graphml``):

- :func:`make_block_sampler` returns a ``dgl.dataloading.BlockSampler`` usable with
  ``dgl.dataloading.DataLoader`` and ``as_edge_prediction_sampler``, on homogeneous and
  heterogeneous graphs. ``fanouts`` are per layer, input layer first (DGL's order).
- Samplers that re-weight messages (LABOR with importance sampling, GNS) put the weights in
  ``block.edata[EDGE_WEIGHT]`` (float tensor, shape ``[num_block_edges]``; for heterographs one
  tensor per canonical edge type). Models multiply each message by it when present.
- :meth:`new_epoch` is called by trainers at the start of every epoch (GNS refreshes its cache
  there; the others do nothing).
"""

from __future__ import annotations

from typing import Any, Literal

import dgl

EDGE_WEIGHT = "w"
"""Key of per-edge message weights in ``block.edata``."""

SamplerName = Literal["neighbor", "labor", "gns"]
SAMPLERS: tuple[str, ...] = ("neighbor", "labor", "gns")


def make_block_sampler(
    name: SamplerName, fanouts: list[int], *, graph: dgl.DGLGraph | None = None, **options: Any
) -> dgl.dataloading.BlockSampler:
    """Build the sampler called ``name``.

    Args:
        name: ``neighbor`` (uniform node-wise, DGL's NeighborSampler), ``labor`` (DGL's
            LaborSampler) or ``gns`` (global neighbour sampling, needs ``graph``).
        fanouts: neighbours per node and layer, input layer first.
        graph: the graph to be sampled (required by samplers that precompute, such as GNS).
        options: sampler-specific settings (e.g. ``cache_fraction`` for GNS).

    Raises:
        ValueError: an unknown sampler name, or a missing ``graph`` where one is needed.
    """
    if name == "neighbor":
        return dgl.dataloading.NeighborSampler(fanouts, **options)
    if name == "labor":
        from graphml.samplers.labor import WeightedLaborSampler

        return WeightedLaborSampler(fanouts, **options)
    if name == "gns":
        if graph is None:
            raise ValueError("the 'gns' sampler needs the graph (graph=...) to draw its cache")
        from graphml.samplers.gns import GNSSampler

        return GNSSampler(fanouts, graph, **options)
    raise ValueError(f"unknown sampler {name!r}; expected one of {', '.join(SAMPLERS)}")


def new_epoch(sampler: dgl.dataloading.BlockSampler, epoch: int) -> None:
    """Tell a sampler that epoch ``epoch`` starts (samplers without the hook ignore it)."""
    hook = getattr(sampler, "new_epoch", None)
    if hook is not None:
        hook(epoch)
