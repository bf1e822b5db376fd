"""DGL's ``LaborSampler`` with its importance weights under the shared ``EDGE_WEIGHT`` key.

``LaborSampler`` (LABOR-i with ``importance_sampling=i``) stores per-edge weights as
``block.edata["edge_weights"]``, normalised so that ``mean_e(w_e · h_u)`` over a node's sampled
in-edges estimates its neighbour mean. Moving them to ``EDGE_WEIGHT`` lets every model read one key.
"""

from __future__ import annotations

import dgl

EDGE_WEIGHT = "w"  # graphml.samplers.EDGE_WEIGHT
_DGL_KEY = "edge_weights"


class WeightedLaborSampler(dgl.dataloading.LaborSampler):
    """``LaborSampler`` whose blocks carry LABOR's weights in ``edata[EDGE_WEIGHT]``."""

    def sample_blocks(self, g, seed_nodes, exclude_eids=None):
        input_nodes, output_nodes, blocks = super().sample_blocks(g, seed_nodes, exclude_eids)
        for block in blocks:
            for etype in block.canonical_etypes:
                data = block.edges[etype].data
                if _DGL_KEY in data:
                    data[EDGE_WEIGHT] = data.pop(_DGL_KEY)
        return input_nodes, output_nodes, blocks
