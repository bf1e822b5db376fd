"""Runs one Neptune ML step for a batch of traversers: one inference call for the batch, then
the answers become Gremlin values the rest of the traversal can use.

- link prediction: predicted vertices, fetched from the store in one batched read, best first;
- classification: vertex properties ``vp[key->class]`` (with ``vp[Neptune#ml.score->p]`` after
  each when asked), or edge properties ``p[key->class]``;
- regression: one ``vp[key->value]`` / ``p[key->value]`` per element.

``limit`` and ``threshold`` (source options) apply to classification and link prediction, not to
regression, as in Neptune. Entities unknown to the model yield nothing in transductive mode.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from gremlin_ext.backend import InferenceBackend, Scored
from gremlin_ext.options import MLOptions
from gremlin_ext.plan import SCORE, MLStepSpec
from server.store.interface import ElementQuery, GraphConnection
from server.structure import Edge, Property, Vertex, VertexProperty

ContextBuilder = Callable[[GraphConnection, Sequence[Any], MLStepSpec], list[Any]]
"""Builds the inductive-inference context of each element (see :mod:`gremlin_ext.context`)."""


@dataclasses.dataclass
class StepRun:
    """Everything one ML step needs at run time."""

    spec: MLStepSpec
    options: MLOptions
    backend: InferenceBackend
    conn: GraphConnection
    build_contexts: ContextBuilder | None = None


def model_id(element_id: Any) -> str:
    """The id ``graphml`` knows an element by: the string of its store id."""
    return str(element_id)


def edge_key(edge: Edge) -> tuple[str, str, str]:
    """How ``graphml`` names an edge: ``(source id, edge label, target id)``."""
    return (model_id(edge.out_v.id), edge.label, model_id(edge.in_v.id))


def _keep(scored: Scored, options: MLOptions) -> Scored:
    if options.threshold is not None:
        scored = [(v, s) for v, s in scored if s >= options.threshold]
    return scored[: options.limit]


def _contexts(run: StepRun, elements: Sequence[Any]) -> list[Any] | None:
    if not run.spec.inductive or run.build_contexts is None:
        return None
    return run.build_contexts(run.conn, elements, run.spec)


def fetch_vertices(conn: GraphConnection, ids: Sequence[str], label: str | None) -> dict[str, Vertex]:
    """Store vertices for model ids, in one read; numeric-looking ids also match integer store ids
    (vertices created through Gremlin get Int64 ids, exported as their decimal string)."""
    wanted: list[Any] = list(dict.fromkeys(ids))
    wanted += [int(i) for i in wanted if i.lstrip("-").isdigit()]
    query = ElementQuery(ids=wanted, labels=[label] if label else None)
    found: dict[str, Vertex] = {}
    for vertex in conn.vertices(query):
        found.setdefault(model_id(vertex.id), vertex)
    return found


def run_link_prediction(run: StepRun, vertices: Sequence[Vertex]) -> list[list[Vertex]]:
    """For each vertex, its predicted neighbours (one inference call, one store read)."""
    spec = run.spec
    scored = run.backend.predict_links(
        [model_id(v.id) for v in vertices],
        edge_label=spec.edge_label or "",
        target_label=spec.target_label or "",
        direction=spec.step,
        k=run.options.limit,
        contexts=_contexts(run, vertices),
        deterministic=spec.deterministic,
    )
    answers = [_keep(list(answer), run.options) for answer in scored]
    by_id = fetch_vertices(run.conn, [str(v) for a in answers for v, _ in a], spec.target_label)
    return [[by_id[str(v)] for v, _ in answer if str(v) in by_id] for answer in answers]


def _vertex_property(vertex: Vertex, key: str, value: Any, rank: int) -> VertexProperty:
    return VertexProperty(f"{vertex.id}|{key}|ml{rank}", key, value, vertex, properties=[])


def run_property_prediction(run: StepRun, elements: Sequence[Any]) -> list[list[Any]]:
    """Classification or regression of ``spec.key`` for vertices and edges (mixed batches are
    split by element kind: one inference call per kind)."""
    spec = run.spec
    out: list[list[Any]] = [[] for _ in elements]
    groups: dict[str, list[int]] = {}
    for i, element in enumerate(elements):
        if isinstance(element, Vertex):
            groups.setdefault("vertex", []).append(i)
        elif isinstance(element, Edge):
            groups.setdefault("edge", []).append(i)
        # anything else (a value, a property) has no properties to predict: nothing comes out
    for kind, idx in groups.items():
        group = [elements[i] for i in idx]
        ids: list[Any] = [model_id(e.id) if kind == "vertex" else edge_key(e) for e in group]
        contexts = _contexts(run, group)
        if spec.task == "regression":
            values = run.backend.regress(
                ids, element=kind, key=spec.key or "", contexts=contexts, deterministic=spec.deterministic
            )
            for i, element, value in zip(idx, group, values, strict=True):
                if value is not None:
                    out[i] = [_as_property(element, spec.key or "", value, 0)]
            continue
        scored = run.backend.classify(
            ids,
            element=kind,
            key=spec.key or "",
            k=run.options.limit,
            contexts=contexts,
            deterministic=spec.deterministic,
        )
        for i, element, answer in zip(idx, group, scored, strict=True):
            results: list[Any] = []
            for rank, (cls, score) in enumerate(_keep(list(answer), run.options)):
                results.append(_as_property(element, spec.key or "", cls, rank))
                if spec.with_score:
                    results.append(_as_property(element, SCORE, float(score), rank))
            out[i] = results
    return out


def _as_property(element: Vertex | Edge, key: str, value: Any, rank: int) -> Any:
    if isinstance(element, Vertex):
        return _vertex_property(element, key, value, rank)
    return Property(key, value, element)


def run_step(run: StepRun, elements: Sequence[Any]) -> list[list[Any]]:
    """The outputs of one ML step for each input element (aligned with ``elements``)."""
    if run.spec.task == "link_prediction":
        vertices = [e for e in elements if isinstance(e, Vertex)]
        predicted = iter(run_link_prediction(run, vertices))
        return [next(predicted) if isinstance(e, Vertex) else [] for e in elements]
    return run_property_prediction(run, elements)
