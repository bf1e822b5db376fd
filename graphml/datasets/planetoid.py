"""Cora and CiteSeer with the Planetoid splits (Yang et al. 2016; the GCN / PyG / DGL standard).

The ``ind.NAME.*`` files are Python-2 pickles of scipy CSR matrices, numpy arrays and a
``defaultdict(list)`` adjacency. They are read through a restricted unpickler that only builds
those types, so a tampered file cannot run code.

Split (as in Kipf & Welling's GCN code): train = the ``x`` rows (140 for Cora, 120 for CiteSeer),
validation = the next 500 nodes, test = the 1,000 nodes listed in ``test.index``. CiteSeer's test
index has gaps (isolated nodes without features); those rows get zero features and label 0 and are
in no split, as in the reference code.
"""

from __future__ import annotations

import collections
import io
import pickle
from pathlib import Path

import dgl
import numpy as np
import scipy.sparse as sp
import torch

from graphml.api import GraphMLError

_PARTS = ("x", "y", "tx", "ty", "allx", "ally", "graph")
_ALLOWED = {
    ("scipy.sparse.csr", "csr_matrix"),
    ("scipy.sparse._csr", "csr_matrix"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("collections", "defaultdict"),
    ("builtins", "list"),
    ("__builtin__", "list"),
}


class DatasetError(GraphMLError):
    """A dataset folder is missing files or holds something other than the expected data."""


class _RestrictedUnpickler(pickle.Unpickler):
    """Builds only the types the Planetoid files contain (no arbitrary callables)."""

    def find_class(self, module: str, name: str):  # noqa: ANN201 - pickle's signature
        if (module, name) not in _ALLOWED:
            raise DatasetError(f"unexpected object {module}.{name} in a Planetoid pickle")
        if module == "__builtin__":
            module = "builtins"
        if module == "scipy.sparse.csr" or module == "scipy.sparse._csr":
            return sp.csr_matrix
        if module == "collections":
            return collections.defaultdict
        return super().find_class(module, name)


def _read(path: Path):  # noqa: ANN202 - the pickled objects have several types
    if not path.is_file():
        raise DatasetError(f"{path}: file not found")
    return _RestrictedUnpickler(io.BytesIO(path.read_bytes()), encoding="latin1").load()


def load_planetoid(name: str, root: Path) -> dgl.DGLGraph:
    """Load Planetoid dataset ``name`` (``cora`` | ``citeseer``) from ``root`` (the ``ind.*`` folder).

    Returns a homogeneous graph with both edge directions, no self-loops, row-normalised
    features and the node data described in :mod:`graphml.datasets`.

    Raises:
        DatasetError: a missing file or an unexpected object in one.
    """
    name = name.lower()
    objs = {part: _read(root / f"ind.{name}.{part}") for part in _PARTS}
    index_file = root / f"ind.{name}.test.index"
    if not index_file.is_file():
        raise DatasetError(f"{index_file}: file not found")
    test_index = np.array([int(line) for line in index_file.read_text().split()], dtype=np.int64)

    allx, tx, ally, ty, y = objs["allx"], objs["tx"], objs["ally"], objs["ty"], objs["y"]
    test_sorted = np.sort(test_index)
    if name == "citeseer":
        # Some test ids are isolated nodes absent from tx: pad tx/ty to the full id range.
        full = test_sorted[-1] - test_sorted[0] + 1
        tx_ext = sp.lil_matrix((full, tx.shape[1]))
        tx_ext[test_sorted - test_sorted[0], :] = tx
        ty_ext = np.zeros((full, ty.shape[1]))
        ty_ext[test_sorted - test_sorted[0], :] = ty
        tx, ty = tx_ext, ty_ext
    features = sp.vstack((allx, tx)).tolil()
    features[test_index, :] = features[test_sorted, :]
    labels = np.vstack((ally, ty))
    labels[test_index, :] = labels[test_sorted, :]
    num_nodes = features.shape[0]

    feats = np.asarray(features.todense(), dtype=np.float32)
    row_sum = feats.sum(axis=1, keepdims=True)
    feats = np.divide(feats, row_sum, out=np.zeros_like(feats), where=row_sum > 0)

    graph_dict = objs["graph"]
    src = [u for u, nbrs in graph_dict.items() for v in nbrs]
    dst = [v for u, nbrs in graph_dict.items() for v in nbrs]
    src_t = torch.tensor(src, dtype=torch.int64)
    dst_t = torch.tensor(dst, dtype=torch.int64)
    num_nodes = max(num_nodes, int(max(src_t.max(), dst_t.max())) + 1)
    g = dgl.graph((torch.cat([src_t, dst_t]), torch.cat([dst_t, src_t])), num_nodes=num_nodes)
    g = dgl.to_simple(dgl.remove_self_loop(g))

    g.ndata["feat"] = torch.zeros(num_nodes, feats.shape[1])
    g.ndata["feat"][: feats.shape[0]] = torch.from_numpy(feats)
    label = torch.zeros(num_nodes, dtype=torch.int64)
    label[: labels.shape[0]] = torch.from_numpy(labels.argmax(axis=1))
    g.ndata["label"] = label
    has_label = torch.zeros(num_nodes, dtype=torch.bool)
    has_label[: labels.shape[0]] = torch.from_numpy(labels.sum(axis=1) > 0)

    n_train = y.shape[0]
    masks = {name_: torch.zeros(num_nodes, dtype=torch.bool) for name_ in ("train", "val", "test")}
    masks["train"][:n_train] = True
    masks["val"][n_train : n_train + 500] = True
    masks["test"][torch.from_numpy(test_index)] = True
    for split, mask in masks.items():
        g.ndata[f"{split}_mask"] = mask & has_label
    return g
