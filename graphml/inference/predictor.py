"""Answers classification, regression and top-k link queries from a trained model.

Transductive answers read precomputed tables (a transform output folder, or tables computed
once on load from a training output folder). Vertices unknown to the model get an answer only
when the caller passes their :class:`NodeContext` (inductive inference); otherwise their result
is empty (``[]`` / ``None``), like Neptune's transductive mode. Every method is batched: one call
answers a list of vertices (or edges) and returns one result per input, in order.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from graphml.api import GraphMLError
from graphml.inference.inductive import NodeContext, embed_context
from graphml.inference.tables import node_predictions, rgcn_layers
from graphml.inference.transform import EMBEDDINGS, PREDICTIONS, PROCESSED
from graphml.processing.processed import ProcessedGraph
from graphml.training.artifacts import MODEL_FILE, load_model


class PredictionError(GraphMLError):
    """The request does not fit the model (wrong property, edge label, task, direction)."""


Scored = list[tuple[str, float]]


def _top(scores: torch.Tensor, names: Sequence[str], limit: int, threshold: float | None) -> Scored:
    k = min(max(int(limit), 1), len(names))
    values, idx = torch.topk(scores, k)
    return [
        (names[int(i)], float(v))
        for v, i in zip(values, idx, strict=True)
        if threshold is None or float(v) >= threshold
    ]


class Predictor:
    def __init__(
        self,
        model,
        config: dict[str, Any],
        pg: ProcessedGraph,
        layers: list[dict[str, torch.Tensor]] | None,
        predictions: torch.Tensor | None,
        folder: Path | None = None,
    ) -> None:
        self.model, self.config, self.pg = model, config, pg
        self.model_name, self.task = config["model"], config["task"]
        self.target = config["target"]
        self.folder = folder
        if self.model_name == "rgcn":
            self.layers = layers if layers is not None else rgcn_layers(model, pg)
            self.final = self.layers[-1]
            self.predictions = (
                predictions if predictions is not None else node_predictions(model, config, self.final)
            )
            hp = config["hyperparameters"]
            self.fanouts = [int(x) for x in hp["fanout"]][: int(hp["num-layer"])] or [10]
        else:
            self.layers, self.final, self.predictions = None, None, None
            self.offsets: dict[str, int] = config["entity_offsets"]
            self.relations = [tuple(r) for r in config["relations"]]
        self.ntype_of = {v: nt for nt, ids in pg.id_maps.items() for v in ids}

    @classmethod
    def load(cls, folder: Path) -> Predictor:
        """From a transform output (precomputed tables) or a training output folder."""
        folder = Path(folder)
        if not (folder / MODEL_FILE).exists():
            raise GraphMLError(f"{folder} holds no model ({MODEL_FILE} missing)")
        model, config = load_model(folder)
        layers = predictions = None
        if (folder / PROCESSED).exists():
            pg = ProcessedGraph.load(folder / PROCESSED)
            if (folder / EMBEDDINGS / "layers.pt").exists():
                layers = torch.load(folder / EMBEDDINGS / "layers.pt")
            if (folder / PREDICTIONS).exists():
                predictions = torch.load(folder / PREDICTIONS)
        else:
            pg = ProcessedGraph.load(Path(config["processed_dir"]))
        return cls(model, config, pg, layers, predictions, folder)

    def describe(self) -> dict[str, Any]:
        return {
            "model": self.model_name,
            "task": self.task,
            "target": self.target,
            "num_layers": len(self.fanouts) if self.model_name == "rgcn" else 0,
            "fanouts": getattr(self, "fanouts", []),
        }

    # -- helpers ---------------------------------------------------------------------------
    def _need(self, tasks: tuple[str, ...], prop: str | None) -> None:
        if self.task not in tasks:
            raise PredictionError(f"this model was trained for {self.task}, not {' / '.join(tasks)}")
        if prop is not None and prop != self.target.get("property"):
            raise PredictionError(f"this model predicts {self.target.get('property')!r}, not {prop!r}")

    def _embedding(
        self, node_id: str, ntype: str, contexts: dict[str, NodeContext], deterministic: bool
    ) -> torch.Tensor | None:
        ctx = contexts.get(node_id)
        if ctx is not None and ctx.label == ntype:
            return embed_context(
                self.model, self.layers, self.pg.index, self.pg.encoders, self.fanouts, ctx, deterministic
            )
        row = self.pg.index.get(ntype, {}).get(node_id)
        return None if row is None else self.final[ntype][row]

    @staticmethod
    def _contexts(contexts: Sequence[NodeContext] | None) -> dict[str, NodeContext]:
        return {c.id: c for c in contexts or ()}

    # -- node tasks ------------------------------------------------------------------------
    def classify(
        self,
        node_ids: Sequence[str],
        property: str,
        limit: int = 1,
        threshold: float | None = None,
        contexts: Sequence[NodeContext] | None = None,
        deterministic: bool = False,
    ) -> list[Scored]:
        """Top ``limit`` classes (``(label, probability)``, best first, at least ``threshold``)."""
        self._need(("node_class",), property)
        ntype, classes = self.target["ntype"], self.target["classes"]
        ctx = self._contexts(contexts)
        out: list[Scored] = []
        for nid in node_ids:
            nid = str(nid)
            if nid in ctx:
                h = self._embedding(nid, ntype, ctx, deterministic)
                with torch.no_grad():
                    logits = self.model.head(h.view(1, -1))[0]
                probs = torch.sigmoid(logits) if self.target.get("multi_label") else torch.softmax(logits, 0)
            else:
                row = self.pg.index.get(ntype, {}).get(nid)
                if row is None:
                    out.append([])
                    continue
                probs = self.predictions[row]
            out.append(_top(probs, classes, limit, threshold))
        return out

    def regress(
        self,
        node_ids: Sequence[str],
        property: str,
        contexts: Sequence[NodeContext] | None = None,
        deterministic: bool = False,
    ) -> list[float | None]:
        self._need(("node_regression",), property)
        ntype = self.target["ntype"]
        ctx = self._contexts(contexts)
        out: list[float | None] = []
        for nid in map(str, node_ids):
            if nid in ctx:
                with torch.no_grad():
                    out.append(
                        float(self.model.head(self._embedding(nid, ntype, ctx, deterministic).view(1, -1)))
                    )
                continue
            row = self.pg.index.get(ntype, {}).get(nid)
            out.append(None if row is None else float(self.predictions[row]))
        return out

    # -- edge tasks ------------------------------------------------------------------------
    def _edge_outputs(self, edges: Sequence[tuple[str, str, str]], contexts, deterministic) -> list:
        s_t, rel, d_t = self.target["etype"]
        ctx = self._contexts(contexts)
        out = []
        for frm, label, to in edges:
            if label != rel:
                raise PredictionError(f"this model predicts on {rel!r} edges, not {label!r}")
            hs = self._embedding(str(frm), s_t, ctx, deterministic)
            hd = self._embedding(str(to), d_t, ctx, deterministic)
            if hs is None or hd is None:
                out.append(None)
                continue
            with torch.no_grad():
                out.append(self.model.head(hs.view(1, -1), hd.view(1, -1))[0])
        return out

    def classify_edges(
        self,
        edges: Sequence[tuple[str, str, str]],
        property: str,
        limit: int = 1,
        threshold: float | None = None,
        contexts: Sequence[NodeContext] | None = None,
        deterministic: bool = False,
    ) -> list[Scored]:
        """``edges`` as ``(from_id, edge_label, to_id)``; per edge the top classes."""
        self._need(("edge_class",), property)
        res = []
        for logits in self._edge_outputs(edges, contexts, deterministic):
            if logits is None:
                res.append([])
                continue
            probs = torch.sigmoid(logits) if self.target.get("multi_label") else torch.softmax(logits, 0)
            res.append(_top(probs, self.target["classes"], limit, threshold))
        return res

    def regress_edges(
        self,
        edges: Sequence[tuple[str, str, str]],
        property: str,
        contexts: Sequence[NodeContext] | None = None,
        deterministic: bool = False,
    ) -> list[float | None]:
        self._need(("edge_regression",), property)
        return [None if v is None else float(v) for v in self._edge_outputs(edges, contexts, deterministic)]

    # -- links -----------------------------------------------------------------------------
    def predict_links(
        self,
        node_ids: Sequence[str],
        edge_label: str,
        direction: str = "out",
        target_label: str | None = None,
        limit: int = 1,
        threshold: float | None = None,
        exclude_existing: bool = True,
        contexts: Sequence[NodeContext] | None = None,
        deterministic: bool = False,
    ) -> list[Scored]:
        """Per vertex the ``limit`` best ``(vertex id, score)`` on the other end of a predicted
        ``edge_label`` edge (``out``: this vertex is the source; ``in``: the destination) whose
        label is ``target_label``. Scores are probabilities (sigmoid of the RGCN link score;
        softmax over all entities for KGE models)."""
        if direction not in ("out", "in"):
            raise PredictionError(f"direction must be 'out' or 'in', not {direction!r}")
        self._need(("link_prediction",), None)
        if self.model_name == "rgcn":
            s_t, rel, d_t = self.target["etype"]
            etypes = [(s_t, rel, d_t)]
        else:
            etypes = [r for r in self.relations if r[1] == edge_label]
            rel = edge_label if etypes else None
        if rel != edge_label:
            raise PredictionError(f"this model predicts {rel!r} edges, not {edge_label!r}")
        ctx = self._contexts(contexts)
        g = self.pg.graph
        out: list[Scored] = []
        for nid in map(str, node_ids):
            here = ctx[nid].label if nid in ctx else self.ntype_of.get(nid)
            match = [
                et
                for et in etypes
                if (et[0] if direction == "out" else et[2]) == here
                and (target_label is None or (et[2] if direction == "out" else et[0]) == target_label)
            ]
            if here is None or not match:
                out.append([])
                continue
            et = match[0]
            other = et[2] if direction == "out" else et[0]
            scores = self._link_scores(nid, here, et, other, direction, ctx, deterministic)
            if scores is None:
                out.append([])
                continue
            row = self.pg.index[here].get(nid)
            if row is not None and exclude_existing:
                if direction == "out":
                    existing = g.successors(row, etype=et)
                else:
                    existing = g.predecessors(row, etype=et)
                scores[existing] = float("-inf")
            if row is not None and other == here:
                scores[row] = float("-inf")  # no self links
            ranked = _top(scores, self.pg.id_maps[other], limit, threshold)
            out.append([(i, s) for i, s in ranked if s != float("-inf")])
        return out

    def _link_scores(self, nid, here, et, other, direction, ctx, deterministic) -> torch.Tensor | None:
        with torch.no_grad():
            if self.model_name == "rgcn":
                h = self._embedding(nid, here, ctx, deterministic)
                if h is None:
                    return None
                return torch.sigmoid(self.model.head.score_all(h.view(1, -1), self.final[other])[0])
            row = self.pg.index[here].get(nid)
            if row is None:
                return None  # KGE cannot embed vertices it has not seen
            r = self.relations.index(et) + (0 if direction == "out" else len(self.relations))
            probs = torch.softmax(
                self.model.score_all(torch.tensor([self.offsets[here] + row]), torch.tensor([r]))[0], 0
            )
            start = self.offsets[other]
            return probs[start : start + self.pg.graph.num_nodes(other)].clone()


def load_info(folder: Path) -> dict[str, Any]:
    return json.loads((Path(folder) / "model-config.json").read_text())
