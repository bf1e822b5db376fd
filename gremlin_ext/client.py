"""Adapts a ``graphml`` predictor (in-process :class:`graphml.inference.Predictor` or the HTTP
:class:`graphml.inference.remote.RemotePredictor`, same methods) to the extension's
:class:`~gremlin_ext.backend.InferenceBackend`: one predictor call per ML step batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gremlin_ext.backend import Scored
from gremlin_ext.errors import BadRequestException, InferenceFailure, InvalidParameterException


class PredictorBackend:
    """``predictor`` answers for batches; ``remote`` marks an HTTP one (its errors differ)."""

    def __init__(self, predictor: Any, *, remote: bool = False) -> None:
        self.predictor = predictor
        self.remote = remote

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        function = getattr(self.predictor, method, None)
        if function is None:
            raise InvalidParameterException(f"this model does not support {method}")
        try:
            return function(*args, **kwargs)
        except (KeyError, ValueError, LookupError) as exc:
            raise InvalidParameterException(f"{method}: {exc}") from exc
        except Exception as exc:
            status = getattr(exc, "status_code", None)
            if status == 404:
                raise BadRequestException(str(exc)) from exc
            if status is not None and 400 <= status < 500:
                raise InvalidParameterException(str(exc)) from exc
            if status is not None or type(exc).__name__ in (
                "ConnectError",
                "ReadTimeout",
                "RemoteProtocolError",
            ):
                raise InferenceFailure(f"the inference endpoint failed: {exc}") from exc
            raise

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
        kwargs: dict[str, Any] = {"edge_label": edge_label, "target_label": target_label, "k": k}
        if direction == "in":
            kwargs["direction"] = "in"
        if contexts is not None:
            kwargs["contexts"] = list(contexts)
        return [
            [(v, float(s)) for v, s in row] for row in self._call("predict_links", list(node_ids), **kwargs)
        ]

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
        method = "classify" if element == "vertex" else "classify_edges"
        kwargs: dict[str, Any] = {"property": key, "k": k}
        if contexts is not None:
            kwargs["contexts"] = list(contexts)
        return [[(c, float(s)) for c, s in row] for row in self._call(method, list(ids), **kwargs)]

    def regress(
        self,
        ids: Sequence[str],
        *,
        element: str,
        label: str | None,
        key: str,
        contexts: Sequence[Any] | None = None,
    ) -> list[float | None]:
        method = "regress" if element == "vertex" else "regress_edges"
        kwargs: dict[str, Any] = {"property": key}
        if contexts is not None:
            kwargs["contexts"] = list(contexts)
        return [None if v is None else float(v) for v in self._call(method, list(ids), **kwargs)]
