"""What a Neptune ML step asks of a trained model, in the extension's own words.

:class:`InferenceBackend` is the seam between the traversal side (:mod:`gremlin_ext.execute`) and
the learning side: :class:`gremlin_ext.client.PredictorBackend` adapts
``graphml.inference.Predictor`` (in-process) and ``RemotePredictor`` (HTTP to ``seer endpoint``)
to it. Every method answers for a whole batch in one call, aligned with its input. Vertex ids are
the strings of the exported ``~id`` column (``str(store_id)``); edges are
``(source id, edge label, target id)``. An entity the model does not know gets an empty answer
(transductive), unless ``contexts`` (one :class:`~gremlin_ext.context.Neighbourhood` per input)
carries its live neighbourhood (inductive).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

Scored = list[tuple[Any, float]]
"""``[(value, score), ...]`` best first: a class and its probability, or a vertex id and a score."""


class InferenceBackend(Protocol):
    def predict_links(
        self,
        node_ids: Sequence[str],
        *,
        edge_label: str,
        target_label: str,
        direction: str,
        k: int,
        contexts: Sequence[Any] | None = None,
        deterministic: bool = False,
    ) -> list[Scored]:
        """For each node, the ``k`` best new ends of ``edge_label`` edges (``direction`` ``out``:
        predicted tails; ``in``: predicted heads), vertex ids with scores, best first."""
        ...

    def classify(
        self,
        ids: Sequence[Any],
        *,
        element: str,
        key: str,
        k: int,
        contexts: Sequence[Any] | None = None,
        deterministic: bool = False,
    ) -> list[Scored]:
        """For each vertex (``element="vertex"``) or edge (``"edge"``), the ``k`` likeliest classes
        of property ``key`` with their probabilities."""
        ...

    def regress(
        self,
        ids: Sequence[Any],
        *,
        element: str,
        key: str,
        contexts: Sequence[Any] | None = None,
        deterministic: bool = False,
    ) -> list[float | None]:
        """For each vertex or edge, the predicted value of property ``key`` (None: unknown)."""
        ...
