"""Inference over trained models: precomputed tables (``modeltransform``) and the
:class:`Predictor` the Gremlin extension and the endpoint server call.

Batched methods (one call per ML step, one result per input, in input order):

- ``classify(node_ids, property, limit=1, threshold=None)`` -> per vertex ``[(label, prob)]``
- ``regress(node_ids, property)`` -> per vertex ``float | None``
- ``predict_links(node_ids, edge_label, direction="out"|"in", target_label, limit, threshold,
  exclude_existing=True)`` -> per vertex ``[(vertex id, score)]``, best first
- ``classify_edges(edges, property, ...)`` / ``regress_edges(edges, property)`` with edges as
  ``(from_id, edge_label, to_id)``

Transductive by default: vertices unknown to the trained graph get ``[]`` / ``None``.

Inductive inference: every method also takes ``contexts=[NodeContext(...)]`` and
``deterministic``. A context carries a vertex's label, live properties and neighbours
``(edge_label, "out"|"in", neighbor_id, neighbor_label)``; the predictor encodes the properties
with the fitted feature encoders and runs the trained RGCN layers over the precomputed
representations of its known neighbours (at most ``fanout`` per relation and layer, random or,
with ``deterministic=True``, the first in id order). KGE models are transductive only.

Scores: classification = softmax (sigmoid for multi-label) probabilities; RGCN links = sigmoid
of the DistMult score; KGE links = softmax over all entities.
"""

from typing import Any

__all__ = ["NodeContext", "PredictionError", "Predictor"]


def __getattr__(name: str) -> Any:
    # Imported on first use: ``graphml.inference.remote`` (the HTTP client the server uses when
    # SEER_ENDPOINT_URL is set) must not pull in torch and DGL, which take seconds to import.
    if name == "NodeContext":
        from graphml.inference.inductive import NodeContext

        return NodeContext
    if name in ("PredictionError", "Predictor"):
        from graphml.inference import predictor

        return getattr(predictor, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
