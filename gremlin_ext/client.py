"""Adapts a ``graphml`` predictor (in-process :class:`graphml.inference.predictor.Predictor` or the
HTTP :class:`graphml.inference.remote.RemotePredictor`, same methods) to the extension's
:class:`~gremlin_ext.backend.InferenceBackend`: one predictor call per ML step batch, its errors
turned into Neptune's exceptions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphml.api import GraphMLError
from gremlin_ext.backend import Scored
from gremlin_ext.context import Neighbourhood, node_contexts
from gremlin_ext.errors import BadRequestException, InferenceFailure, InvalidParameterException


class PredictorBackend:
    """``predictor`` answers for batches; ``remote`` marks an HTTP one (contexts travel as JSON)."""

    def __init__(self, predictor: Any, *, remote: bool = False) -> None:
        self.predictor = predictor
        self.remote = remote

    def _contexts(self, hoods: Sequence[Neighbourhood] | None) -> list[Any] | None:
        if hoods is None:
            return None
        records = [ctx for hood in hoods for ctx in node_contexts(hood)]
        if self.remote:
            return records
        from graphml.inference.inductive import NodeContext

        return [NodeContext(**r) for r in records]

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        function = getattr(self.predictor, method, None)
        if function is None:
            raise InvalidParameterException(f"this model does not support {method}")
        try:
            return function(*args, **kwargs)
        except GraphMLError as exc:  # the request does not fit the model (task, property, label)
            raise InvalidParameterException(str(exc)) from exc
        except Exception as exc:
            status = getattr(exc, "status_code", None)
            if status is None:
                if type(exc).__module__.startswith("httpx"):
                    raise InferenceFailure(f"the inference endpoint did not answer: {exc}") from exc
                raise
            if status == 404:
                raise BadRequestException(str(exc)) from exc
            if 400 <= status < 500:
                raise InvalidParameterException(str(exc)) from exc
            raise InferenceFailure(f"the inference endpoint failed: {exc}") from exc

    def predict_links(
        self,
        node_ids: Sequence[str],
        *,
        edge_label: str,
        target_label: str,
        direction: str,
        k: int,
        contexts: Sequence[Neighbourhood] | None = None,
        deterministic: bool = False,
    ) -> list[Scored]:
        rows = self._call(
            "predict_links",
            list(node_ids),
            edge_label=edge_label,
            direction=direction,
            target_label=target_label,
            limit=k,
            contexts=self._contexts(contexts),
            deterministic=deterministic,
        )
        return [[(v, float(s)) for v, s in row] for row in rows]

    def classify(
        self,
        ids: Sequence[Any],
        *,
        element: str,
        key: str,
        k: int,
        contexts: Sequence[Neighbourhood] | None = None,
        deterministic: bool = False,
    ) -> list[Scored]:
        method = "classify" if element == "vertex" else "classify_edges"
        rows = self._call(
            method,
            [list(i) for i in ids] if element == "edge" and self.remote else list(ids),
            property=key,
            limit=k,
            contexts=self._contexts(contexts),
            deterministic=deterministic,
        )
        return [[(c, float(s)) for c, s in row] for row in rows]

    def regress(
        self,
        ids: Sequence[Any],
        *,
        element: str,
        key: str,
        contexts: Sequence[Neighbourhood] | None = None,
        deterministic: bool = False,
    ) -> list[float | None]:
        method = "regress" if element == "vertex" else "regress_edges"
        values = self._call(
            method,
            [list(i) for i in ids] if element == "edge" and self.remote else list(ids),
            property=key,
            contexts=self._contexts(contexts),
            deterministic=deterministic,
        )
        return [None if v is None else float(v) for v in values]
