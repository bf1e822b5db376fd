"""The processed graph on disk and in memory.

Layout of a processing output folder:

- ``graph.bin``: one DGL heterograph (``dgl.save_graphs``). Node types are vertex labels,
  canonical edge types ``(source label, edge label, destination label)``. ``ndata["feat"]``
  (float32 ``[num_nodes, dim]``) on node types with features; the target's ``label`` and
  ``train_mask`` / ``val_mask`` / ``test_mask`` (bool) on the target node or edge type.
- ``id-maps.json``: ``{node type: [vertex id, ...]}``; position = node index.
- ``meta.json``: the target (task, type, property, classes), feature columns per node type and,
  for incremental processing, ``kept_positions`` (see :data:`KEPT_POSITIONS`).
- ``encoders.pkl``: the fitted feature encoders (re-used by inductive inference, and by incremental
  processing, which encodes a grown graph exactly like the graph a model was trained on).
- ``training-data-configuration.json``: the configuration that was applied.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import dgl
import numpy as np
import torch

from graphml.api import GraphMLError
from graphml.processing.layout import ENCODERS_FILE, GRAPH_FILE, IDS_FILE, META_FILE

KEPT_POSITIONS = "kept_positions"
"""``meta.json`` key of an incrementally processed graph: ``{node type: k}``, the first ``k`` nodes of
that type sit at the positions they had in the previous job's graph (every node of the type
when no vertex was deleted); later nodes are new. Absent when processing fitted afresh."""
NODE_TASKS = ("node_class", "node_regression")
EDGE_TASKS = ("edge_class", "edge_regression")


@dataclass
class Target:
    """What a model learns: ``task`` is node_class | node_regression | edge_class |
    edge_regression | link_prediction; ``ntype`` or ``etype`` says where the labels live."""

    task: str
    ntype: str | None = None
    etype: tuple[str, str, str] | None = None
    property: str | None = None
    classes: list[str] = field(default_factory=list)
    multi_label: bool = False
    separator: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "ntype": self.ntype,
            "etype": list(self.etype) if self.etype else None,
            "property": self.property,
            "classes": self.classes,
            "multi_label": self.multi_label,
            "separator": self.separator,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Target:
        return cls(
            doc["task"],
            doc.get("ntype"),
            tuple(doc["etype"]) if doc.get("etype") else None,
            doc.get("property"),
            list(doc.get("classes", [])),
            bool(doc.get("multi_label")),
            doc.get("separator"),
        )


@dataclass
class ProcessedGraph:
    graph: dgl.DGLGraph
    id_maps: dict[str, list[str]]
    target: Target
    encoders: dict[str, list[tuple[str, str, Any]]] = field(default_factory=dict)
    """node type -> [(property, feature type, fitted encoder)], in feature-column order."""
    meta: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def index(self) -> dict[str, dict[str, int]]:
        """node type -> {vertex id: node index}."""
        return {nt: {v: i for i, v in enumerate(ids)} for nt, ids in self.id_maps.items()}

    def feature_dims(self) -> dict[str, int]:
        g = self.graph
        return {nt: int(g.nodes[nt].data["feat"].shape[1]) for nt in g.ntypes if "feat" in g.nodes[nt].data}

    def save(self, out: Path) -> None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        dgl.save_graphs(str(out / GRAPH_FILE), [self.graph])
        (out / IDS_FILE).write_text(json.dumps(self.id_maps))
        meta = dict(
            self.meta,
            target=self.target.to_json(),
            features={nt: [(p, t) for p, t, _ in encs] for nt, encs in self.encoders.items()},
        )
        (out / META_FILE).write_text(json.dumps(meta, indent=2))
        with open(out / ENCODERS_FILE, "wb") as fh:
            pickle.dump(self.encoders, fh)

    @classmethod
    def load(cls, folder: Path) -> ProcessedGraph:
        folder = Path(folder)
        if not (folder / GRAPH_FILE).exists():
            raise GraphMLError(f"{folder} holds no processed graph ({GRAPH_FILE} missing)")
        graphs, _ = dgl.load_graphs(str(folder / GRAPH_FILE))
        meta = json.loads((folder / META_FILE).read_text())
        encoders = _read_encoders(folder) if (folder / ENCODERS_FILE).exists() else {}
        return cls(
            graphs[0],
            json.loads((folder / IDS_FILE).read_text()),
            Target.from_json(meta["target"]),
            encoders,
            meta,
        )


@dataclass
class Fitted:
    """What incremental processing reuses from a previous processing output, so that a grown
    graph is encoded exactly like the graph a model was trained on: the fitted ``encoders``
    (node type -> [(property, feature type, encoder)]) and the ``id_maps`` (node type -> ids)."""

    encoders: dict[str, list[tuple[str, str, Any]]]
    id_maps: dict[str, list[str]]
    folder: Path | None = None

    @classmethod
    def load(cls, folder: Path) -> Fitted:
        """From a processing output folder; raises :class:`GraphMLError` naming a missing file."""
        folder = Path(folder)
        for name in (ENCODERS_FILE, IDS_FILE):
            if not (folder / name).is_file():
                raise GraphMLError(f"{folder} holds no {name}; it is not a complete processing output")
        return cls(_read_encoders(folder), json.loads((folder / IDS_FILE).read_text()), folder)

    def splits(self) -> dict[str, int]:
        """The previous target's split of each of its keys (a vertex id, or ``"from\\x00to"`` for an
        edge): 0 train, 1 validation, 2 test; ``{}`` when that graph is not there. Incremental
        processing keeps these, so an element evaluated on before is not trained on now."""
        if self.folder is None or not (self.folder / GRAPH_FILE).is_file():
            return {}
        previous = ProcessedGraph.load(self.folder)
        target = previous.target
        if target.ntype is not None:
            data = previous.graph.nodes[target.ntype].data
            keys = list(previous.id_maps[target.ntype])
        else:
            src, dst = previous.graph.edges(etype=target.etype)
            data = previous.graph.edges[target.etype].data
            src_ids, dst_ids = previous.id_maps[target.etype[0]], previous.id_maps[target.etype[2]]
            keys = [f"{src_ids[s]}\x00{dst_ids[d]}" for s, d in zip(src.tolist(), dst.tolist(), strict=True)]
        split: dict[str, int] = {}
        for code, name in enumerate(("train_mask", "val_mask", "test_mask")):
            if name in data:
                for i in torch.nonzero(data[name]).view(-1).tolist():
                    split[keys[i]] = code
        return split


def _read_encoders(folder: Path) -> dict[str, list[tuple[str, str, Any]]]:
    with open(folder / ENCODERS_FILE, "rb") as fh:
        return pickle.load(fh)  # noqa: S301 - our own file


def keep_splits(
    keys: list[str], masks: tuple[torch.Tensor, ...], previous: dict[str, int]
) -> tuple[torch.Tensor, ...]:
    """``masks`` (train, valid, test; ``[len(keys)]`` bool) with every key that had a split in
    ``previous`` (see :meth:`Fitted.splits`) put back in it; new keys keep the draw they got."""
    out = tuple(m.clone() for m in masks)
    for i, key in enumerate(keys):
        code = previous.get(key)
        if code is not None:
            for c, mask in enumerate(out):
                mask[i] = c == code
    return out


def split_masks(n: int, rates: tuple[float, float, float], seed: int) -> tuple[torch.Tensor, ...]:
    """Random train/valid/test boolean masks of length ``n`` with the given rates."""
    perm = np.random.default_rng(seed).permutation(n)
    n_train = int(round(rates[0] * n))
    n_val = int(round(rates[1] * n)) if rates[2] > 0 else n - n_train
    masks = [torch.zeros(n, dtype=torch.bool) for _ in range(3)]
    masks[0][perm[:n_train]] = True
    masks[1][perm[n_train : n_train + n_val]] = True
    masks[2][perm[n_train + n_val :]] = True
    return tuple(masks)
