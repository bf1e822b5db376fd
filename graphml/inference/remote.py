"""A predictor that lives in another process: the HTTP client of ``seer endpoint`` (and of the
main server's ``/ml/endpoints/{id}/invocations``).

:class:`RemotePredictor` has the inference methods of :class:`graphml.inference.Predictor`
(same names, same arguments); each call is one HTTP request carrying the whole batch, and the
answer comes back as JSON values (tuples arrive as lists). The Gremlin extension uses either
class without knowing which.
"""

from __future__ import annotations

from typing import Any

import httpx


class RemoteInferenceError(Exception):
    """The endpoint answered with an error. ``status_code`` is the HTTP status, ``code`` the
    Neptune error code (e.g. ``MLResourceNotFoundException`` for an unknown endpoint)."""

    def __init__(self, message: str, status_code: int, code: str | None) -> None:
        super().__init__(message)
        self.status_code, self.code = status_code, code


class RemotePredictor:
    """Calls the predictor of endpoint ``endpoint_id`` served at ``base_url``.

    ``base_url`` is ``http://host:8190`` for ``seer endpoint`` or ``http://host:8182/ml`` for the
    main server."""

    def __init__(self, base_url: str, endpoint_id: str, *, timeout_s: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.endpoint_id = endpoint_id
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout_s)

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        response = self._client.post(
            f"/endpoints/{self.endpoint_id}/invocations",
            json={"method": method, "args": list(args), "kwargs": kwargs},
        )
        if response.status_code != 200:
            try:
                body = response.json()
            except ValueError:
                body = {}
            message = body.get("message") or response.text
            raise RemoteInferenceError(message, response.status_code, body.get("code"))
        return response.json()["result"]

    def classify(self, *args: Any, **kwargs: Any) -> Any:
        """Node classification for a batch of vertices (see ``Predictor.classify``)."""
        return self._call("classify", *args, **kwargs)

    def regress(self, *args: Any, **kwargs: Any) -> Any:
        """Node regression for a batch of vertices."""
        return self._call("regress", *args, **kwargs)

    def predict_links(self, *args: Any, **kwargs: Any) -> Any:
        """Top-k link prediction for a batch of source (or destination) vertices."""
        return self._call("predict_links", *args, **kwargs)

    def classify_edges(self, *args: Any, **kwargs: Any) -> Any:
        """Edge classification for a batch of edges."""
        return self._call("classify_edges", *args, **kwargs)

    def regress_edges(self, *args: Any, **kwargs: Any) -> Any:
        """Edge regression for a batch of edges."""
        return self._call("regress_edges", *args, **kwargs)

    def info(self) -> Any:
        """What the model predicts (task, targets, labels)."""
        return self._call("info")

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> RemotePredictor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
