"""What a Neptune ML step asks of a trained model, in the extension's own words.

:class:`InferenceBackend` is the seam between the traversal side (:mod:`gremlin_ext.execute`) and
the learning side: :mod:`gremlin_ext.client` adapts ``graphml.inference.Predictor`` (in-process)
and ``RemotePredictor`` (HTTP to ``seer endpoint``) to it. Every method answers for a whole batch
of entities in one call, aligned with its input. Ids are the strings of the exported ``~id``
column (``str(store_id)``); an entity the model does not know gets an empty answer (transductive),
unless ``contexts`` carries its live neighbourhood (inductive).
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
        node_label: str | None,
        edge_label: str,
        target_label: str,
        direction: str,
        k: int,
        contexts: Sequence[Any] | None = None,
    ) -> list[Scored]:
        """For each node, the ``k`` best new ends of ``edge_label`` edges (``direction`` ``out``:
        predicted tails; ``in``: predicted heads), vertex ids with scores, best first."""
        ...

    def classify(
        self,
        ids: Sequence[str],
        *,
        element: str,
        label: str | None,
        key: str,
        k: int,
        contexts: Sequence[Any] | None = None,
    ) -> list[Scored]:
        """For each vertex (``element="vertex"``) or edge (``"edge"``), the ``k`` likeliest classes
        of property ``key`` with their probabilities."""
        ...

    def regress(
        self,
        ids: Sequence[str],
        *,
        element: str,
        label: str | None,
        key: str,
        contexts: Sequence[Any] | None = None,
    ) -> list[float | None]:
        """For each vertex or edge, the predicted value of property ``key`` (None: unknown)."""
        ...
