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

CHUNK_CELLS = 1 << 22
"""Scores computed at once by :meth:`Predictor.predict_links` (4M floats, 16 MiB per chunk)."""


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
        self._csr: dict[tuple[tuple[str, str, str], str], tuple[torch.Tensor, torch.Tensor]] = {}

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
    def _node_outputs(
        self, node_ids: Sequence[str], contexts, deterministic: bool
    ) -> tuple[list[int], torch.Tensor | None]:
        """Positions of the answerable ``node_ids`` and their outputs in one tensor: rows of the
        precomputed predictions for known vertices, the head applied to inductive embeddings
        for context vertices (``[b, C]`` probabilities or ``[b]`` values)."""
        ntype = self.target["ntype"]
        ctx = self._contexts(contexts)
        known = self.pg.index.get(ntype, {})
        positions, rows, inductive = [], [], {}
        for pos, nid in enumerate(map(str, node_ids)):
            if nid in ctx:
                inductive[len(rows)] = self._embedding(nid, ntype, ctx, deterministic)
                rows.append(0)
            elif nid in known:
                rows.append(known[nid])
            else:
                continue
            positions.append(pos)
        if not rows:
            return positions, None
        out = self.predictions[torch.tensor(rows, dtype=torch.long)]
        if inductive:
            with torch.no_grad():
                logits = self.model.head(torch.stack(list(inductive.values())))
            if self.task == "node_regression":
                fresh = logits.view(-1)
            elif self.target.get("multi_label"):
                fresh = torch.sigmoid(logits)
            else:
                fresh = torch.softmax(logits, 1)
            out[torch.tensor(list(inductive))] = fresh
        return positions, out

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
        classes = self.target["classes"]
        out: list[Scored] = [[] for _ in node_ids]
        positions, probs = self._node_outputs(node_ids, contexts, deterministic)
        if probs is None:
            return out
        k = min(max(int(limit), 1), len(classes))
        values, idx = torch.topk(probs, k, dim=1)
        for pos, vals, ids in zip(positions, values.tolist(), idx.tolist(), strict=True):
            out[pos] = [
                (classes[i], v) for v, i in zip(vals, ids, strict=True) if threshold is None or v >= threshold
            ]
        return out

    def regress(
        self,
        node_ids: Sequence[str],
        property: str,
        contexts: Sequence[NodeContext] | None = None,
        deterministic: bool = False,
    ) -> list[float | None]:
        self._need(("node_regression",), property)
        out: list[float | None] = [None for _ in node_ids]
        positions, values = self._node_outputs(node_ids, contexts, deterministic)
        if values is not None:
            for pos, v in zip(positions, values.tolist(), strict=True):
                out[pos] = v
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
        softmax over all entities for KGE models).

        Batched: the vertices are grouped by edge type, and each group is scored against every
        candidate in chunks of :data:`CHUNK_CELLS` scores (one matrix product and one
        ``torch.topk`` per chunk); existing neighbours are masked through a cached CSR."""
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
        out: list[Scored] = [[] for _ in node_ids]
        groups: dict[tuple[str, str, str], list[tuple[int, str]]] = {}
        for pos, nid in enumerate(map(str, node_ids)):
            here = ctx[nid].label if nid in ctx else self.ntype_of.get(nid)
            for et in etypes:
                if (et[0] if direction == "out" else et[2]) == here and (
                    target_label is None or (et[2] if direction == "out" else et[0]) == target_label
                ):
                    groups.setdefault(et, []).append((pos, nid))
                    break
        for et, members in groups.items():
            here, other = (et[0], et[2]) if direction == "out" else (et[2], et[0])
            found = self._link_queries(members, here, ctx, deterministic)
            if found is None:
                continue
            positions, rows_t, q_all = found
            names = self.pg.id_maps[other]
            k = min(max(int(limit), 1), len(names))
            chunk = max(1, CHUNK_CELLS // max(len(names), 1))
            for lo in range(0, len(positions), chunk):
                scores = self._link_scores(q_all[lo : lo + chunk], here, et, other, direction)
                r = rows_t[lo : lo + chunk]
                if exclude_existing:
                    self._mask_existing(scores, r, et, direction)
                if other == here:  # no self links
                    has = torch.nonzero(r >= 0).view(-1)
                    scores[has, r[has]] = float("-inf")
                values, idx = torch.topk(scores, k, dim=1)
                kept = values != float("-inf")
                if self.model_name == "rgcn":  # sigmoid is monotonic: only the kept k scores
                    values = torch.sigmoid(values)
                for j, (vals, ids, keep) in enumerate(
                    zip(values.tolist(), idx.tolist(), kept.tolist(), strict=True)
                ):
                    out[positions[lo + j]] = [
                        (names[i], v)
                        for v, i, ok in zip(vals, ids, keep, strict=True)
                        if ok and (threshold is None or v >= threshold)
                    ]
        return out

    def _link_queries(
        self, members: list[tuple[int, str]], here: str, ctx: dict[str, NodeContext], deterministic: bool
    ) -> tuple[list[int], torch.Tensor, torch.Tensor] | None:
        """The scorable vertices of ``members`` (``(position, id)``): their positions, their rows
        ``[b]`` in the processed graph (``-1``: unknown) and what :meth:`_link_scores` scores:
        RGCN embeddings ``[b, hidden]`` (context vertices embedded inductively) or KGE entity
        indices ``[b]``. None when no vertex can be scored."""
        known = self.pg.index.get(here, {})
        positions: list[int] = []
        rows: list[int] = []
        inductive: dict[int, torch.Tensor] = {}
        for pos, nid in members:
            row = known.get(nid, -1)
            if self.model_name == "rgcn" and nid in ctx:
                inductive[len(rows)] = self._embedding(nid, here, ctx, deterministic)
            elif row < 0:
                continue  # unknown without a context (KGE: never embeddable)
            positions.append(pos)
            rows.append(row)
        if not rows:
            return None
        rows_t = torch.tensor(rows, dtype=torch.long)
        if self.model_name != "rgcn":
            return positions, rows_t, rows_t + self.offsets[here]
        q = self.final[here][rows_t.clamp(min=0)]
        for i, h in inductive.items():
            q[i] = h
        return positions, rows_t, q

    def _link_scores(self, queries: torch.Tensor, here, et, other, direction) -> torch.Tensor:
        """``[b, num_nodes(other)]`` scores of the ``b`` queries against every candidate: RGCN
        logits (the caller applies the sigmoid to the top ones), KGE probabilities."""
        with torch.no_grad():
            if self.model_name == "rgcn":
                return self.model.head.score_all(queries, self.final[other])
            r = self.relations.index(et) + (0 if direction == "out" else len(self.relations))
            probs = torch.softmax(self.model.score_all(queries, torch.full_like(queries, r)), 1)
            start = self.offsets[other]
            return probs[:, start : start + self.pg.graph.num_nodes(other)].contiguous()

    def _neighbours(self, et: tuple[str, str, str], direction: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Cached CSR ``(indptr [n + 1], indices [E])`` of ``et``'s successors (``out``) or
        predecessors (``in``) in the processed graph."""
        key = (et, direction)
        if key not in self._csr:
            fmt = "csr" if direction == "out" else "csc"
            indptr, indices, _ = self.pg.graph.adj_tensors(fmt, etype=et)
            self._csr[key] = (indptr.long(), indices.long())
        return self._csr[key]

    def _mask_existing(self, scores: torch.Tensor, rows: torch.Tensor, et, direction: str) -> None:
        """Set ``scores[i, v] = -inf`` for every existing neighbour ``v`` of ``rows[i]`` (``-1``:
        an unknown vertex, nothing masked)."""
        has = torch.nonzero(rows >= 0).view(-1)
        if len(has) == 0:
            return
        indptr, indices = self._neighbours(et, direction)
        if len(has) == 1:  # one vertex (a one-airport query): a slice, no index arithmetic
            row = int(rows[has[0]])
            scores[has[0], indices[int(indptr[row]) : int(indptr[row + 1])]] = float("-inf")
            return
        r = rows[has]
        start, count = indptr[r], indptr[r + 1] - indptr[r]
        total = int(count.sum())
        if total == 0:
            return
        which = torch.repeat_interleave(torch.arange(len(r)), count)  # [total] position in ``r``
        offset = torch.arange(total) - torch.repeat_interleave(torch.cumsum(count, 0) - count, count)
        scores[has[which], indices[start[which] + offset]] = float("-inf")


def load_info(folder: Path) -> dict[str, Any]:
    return json.loads((Path(folder) / "model-config.json").read_text())
