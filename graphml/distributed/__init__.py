"""Distributed GraphSAGE training on DistDGL: METIS partitions, graph servers and trainers.

Layout of a run (:func:`train_node_classification`):

1. :mod:`graphml.distributed.partition` splits the graph with METIS
   (``dgl.distributed.partition_graph``) into one partition per machine.
2. :mod:`graphml.distributed.server` runs one DistDGL graph server per partition
   (``python -m graphml.distributed.server ...``).
3. :mod:`graphml.distributed.trainer` runs one trainer per partition
   (``python -m graphml.distributed.trainer ...``): ``DistGraph`` + ``DistNodeDataLoader`` + the
   same :class:`graphml.models.sage.SAGE` as single-process training, gradients averaged with
   ``torch.distributed`` (gloo) through ``DistributedDataParallel``.
4. Rank 0 writes the trained weights; the launcher evaluates them with exact full-neighbour
   inference on the whole graph, exactly as single-process training does.

:mod:`graphml.distributed.launch` starts 2 and 3 as separate processes on loopback (an ip_config
file with one ``127.0.0.1 PORT`` line per partition). On several machines the same two commands
run on each machine from a real ip_config (one ``IP PORT`` line per machine), as DistDGL expects.
"""

from graphml.distributed.launch import DistributedError, train_node_classification

__all__ = ["DistributedError", "train_node_classification"]
