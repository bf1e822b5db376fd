"""Graphs for node-classification tests and benchmarks, as homogeneous ``DGLGraph`` objects.

Every loader returns a graph with the same node data, so samplers, the GraphSAGE trainer and the
distributed launcher take any of them:

- ``ndata["feat"]``  float32 ``[num_nodes, num_features]``
- ``ndata["label"]`` int64 ``[num_nodes]``
- ``ndata["train_mask"]``, ``ndata["val_mask"]``, ``ndata["test_mask"]`` bool ``[num_nodes]``

:func:`load_planetoid` reads Cora / CiteSeer with the standard Planetoid splits from a folder of
``ind.*`` files; :func:`power_law_graph` generates a large synthetic graph whose features carry the
labels (for benchmarks, and for machines without the real data).
"""

from graphml.datasets.planetoid import DatasetError, load_planetoid
from graphml.datasets.powerlaw import power_law_graph

__all__ = ["DatasetError", "load_planetoid", "power_law_graph"]
