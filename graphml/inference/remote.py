"""A predictor that lives in another process: the HTTP client of ``seer endpoint`` (and of the
main server's ``/ml/endpoints/{id}/invocations``).

:class:`RemotePredictor` has the inference methods of :class:`graphml.inference.Predictor`, with
the same arguments and result shapes (``(label, score)`` tuples included); each call is one HTTP
request carrying the whole batch. :class:`~graphml.inference.NodeContext` objects travel as JSON
objects. The Gremlin extension uses either class without knowing which.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:  # the client stays light: no torch/DGL import in processes that only call
    from graphml.inference.inductive import NodeContext

Scored = list[tuple[str, float]]


class RemoteInferenceError(Exception):
    """The endpoint answered with an error. ``status_code`` is the HTTP status, ``code`` the
    Neptune error code (e.g. ``MLResourceNotFoundException`` for an unknown endpoint)."""

    def __init__(self, message: str, status_code: int, code: str | None) -> None:
        super().__init__(message)
        self.status_code, self.code = status_code, code


def context_to_json(context: NodeContext | dict[str, Any]) -> dict[str, Any]:
    """JSON form of a :class:`NodeContext` (or of a dict with its fields); property values JSON
    has no type for travel as text (:func:`json_value`)."""
    data = dict(context) if isinstance(context, dict) else dataclasses.asdict(context)
    data["properties"] = {k: json_value(v) for k, v in (data.get("properties") or {}).items()}
    return data


def json_value(value: Any) -> Any:
    """A property value as JSON carries it: JSON's own types as they are; a datetime as the text
    the training export writes (ISO, UTC without offset), which the datetime encoder reads as the
    same instant; any other value (Decimal, UUID, bytes...) as its ``str``, as the export does."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat()
    return str(value)


def context_from_json(data: dict[str, Any]) -> NodeContext:
    """A :class:`NodeContext` from its JSON form (neighbours as 4-item lists)."""
    from graphml.inference.inductive import NodeContext

    return NodeContext(
        id=str(data["id"]),
        label=str(data["label"]),
        properties=dict(data.get("properties") or {}),
        neighbors=[tuple(n) for n in data.get("neighbors") or []],
    )


def _scored(rows: list[list[list[Any]]]) -> list[Scored]:
    return [[(str(name), float(score)) for name, score in row] for row in rows]


class RemotePredictor:
    """Calls the predictor of endpoint ``endpoint_id`` served at ``base_url``.

    ``base_url`` is ``http://host:8190`` for ``seer endpoint`` or ``http://host:8182/ml`` for the
    main server."""

    def __init__(self, base_url: str, endpoint_id: str, *, timeout_s: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.endpoint_id = endpoint_id
        self.reload = False
        """Ask the endpoint to re-read the model's artifacts before answering (see :meth:`reloading`)."""
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout_s)

    def reloading(self) -> RemotePredictor:
        """The same endpoint over the same HTTP client, asking it to drop its loaded model and read
        the artifacts again before each answer: ``Neptune#ml.disableInductiveInferenceMetadataCache``
        when the model is served by another process."""
        twin = copy.copy(self)
        twin.reload = True
        return twin

    def _call(self, method: str, **kwargs: Any) -> Any:
        contexts = kwargs.get("contexts")
        if contexts is not None:
            kwargs["contexts"] = [context_to_json(c) for c in contexts]
        body: dict[str, Any] = {"method": method, "kwargs": kwargs}
        if self.reload:
            body["reload"] = True
        response = self._client.post(f"/endpoints/{self.endpoint_id}/invocations", json=body)
        if response.status_code != 200:
            try:
                body = response.json()
            except ValueError:
                body = {}
            message = body.get("message") or response.text
            raise RemoteInferenceError(message, response.status_code, body.get("code"))
        return response.json()["result"]

    def describe(self) -> dict[str, Any]:
        """What the model predicts (model, task, target, layers)."""
        return self._call("describe")

    def classify(
        self,
        node_ids: Sequence[str],
        property: str,
        limit: int = 1,
        threshold: float | None = None,
        contexts: Sequence[NodeContext] | None = None,
        deterministic: bool = False,
    ) -> list[Scored]:
        return _scored(
            self._call(
                "classify",
                node_ids=list(node_ids),
                property=property,
                limit=limit,
                threshold=threshold,
                contexts=contexts,
                deterministic=deterministic,
            )
        )

    def regress(
        self,
        node_ids: Sequence[str],
        property: str,
        contexts: Sequence[NodeContext] | None = None,
        deterministic: bool = False,
    ) -> list[float | None]:
        return self._call(
            "regress",
            node_ids=list(node_ids),
            property=property,
            contexts=contexts,
            deterministic=deterministic,
        )

    def classify_edges(
        self,
        edges: Sequence[tuple[str, str, str]],
        property: str,
        limit: int = 1,
        threshold: float | None = None,
        contexts: Sequence[NodeContext] | None = None,
        deterministic: bool = False,
    ) -> list[Scored]:
        return _scored(
            self._call(
                "classify_edges",
                edges=[list(e) for e in edges],
                property=property,
                limit=limit,
                threshold=threshold,
                contexts=contexts,
                deterministic=deterministic,
            )
        )

    def regress_edges(
        self,
        edges: Sequence[tuple[str, str, str]],
        property: str,
        contexts: Sequence[NodeContext] | None = None,
        deterministic: bool = False,
    ) -> list[float | None]:
        return self._call(
            "regress_edges",
            edges=[list(e) for e in edges],
            property=property,
            contexts=contexts,
            deterministic=deterministic,
        )

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
        return _scored(
            self._call(
                "predict_links",
                node_ids=list(node_ids),
                edge_label=edge_label,
                direction=direction,
                target_label=target_label,
                limit=limit,
                threshold=threshold,
                exclude_existing=exclude_existing,
                contexts=contexts,
                deterministic=deterministic,
            )
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> RemotePredictor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
