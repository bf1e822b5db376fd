"""A small client of Seer's Neptune-shaped REST API (``/loader``, ``/ml/...``) for the demo,
the loopback stack test and the benchmarks: start a resource, then poll it to the end, showing
progress on the way."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

JOB_DONE = ("Completed", "Failed", "Stopped")
ENDPOINT_DONE = ("InService", "Failed")


class RestFlowError(RuntimeError):
    """A request was refused, or a job/endpoint/load ended in failure."""


def _progress_line(doc: dict[str, Any]) -> str:
    progress = doc.get("progress") or {}
    parts = [str(progress.get("stage", doc.get("status", "")))]
    if "epoch" in progress:
        parts.append(f"epoch {progress['epoch']}/{progress.get('epochs', '?')}")
    if "trial" in progress:
        parts.append(f"trial {progress['trial']}/{progress.get('trials', '?')}")
    best = progress.get("best_metric")
    if isinstance(best, dict) and "value" in best:
        parts.append(f"best {best.get('name')}={float(best['value']):.3f}")
    return ", ".join(p for p in parts if p)


class SeerRest:
    """``base_url`` is ``http://host:8182``."""

    def __init__(
        self, base_url: str, *, echo: Callable[[str], None] | None = None, timeout_s: float = 60
    ) -> None:
        self.client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s)
        self.echo = echo or (lambda _line: None)

    def close(self) -> None:
        self.client.close()

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 400:
            raise RestFlowError(
                f"{response.request.method} {response.request.url.path}: "
                f"HTTP {response.status_code} {response.text}"
            )
        return response.json()

    # -- loader -----------------------------------------------------------------------------

    def load(self, source: str, *, fmt: str = "csv", timeout_s: float = 600) -> dict[str, Any]:
        """Bulk-load ``source`` and wait for the load to finish; returns its overall status."""
        body = {"source": source, "format": fmt, "failOnError": "TRUE"}
        load_id = self._json(self.client.post("/loader", json=body))["payload"]["loadId"]
        deadline = time.monotonic() + timeout_s
        while True:
            payload = self._json(self.client.get(f"/loader/{load_id}", params={"errors": "true"}))["payload"]
            status = payload["overallStatus"]["status"]
            if status == "LOAD_COMPLETED":
                return payload["overallStatus"]
            if status not in ("LOAD_NOT_STARTED", "LOAD_IN_PROGRESS", "LOAD_IN_QUEUE"):
                raise RestFlowError(f"load of {source} ended {status}: {payload.get('errors')}")
            if time.monotonic() > deadline:
                raise RestFlowError(f"load of {source} still {status} after {timeout_s:.0f}s")
            time.sleep(0.3)

    # -- ML jobs ----------------------------------------------------------------------------

    def start(self, kind: str, body: dict[str, Any]) -> str:
        """POST ``/ml/<kind>``; returns the id."""
        return str(self._json(self.client.post(f"/ml/{kind}", json=body))["id"])

    def status(self, kind: str, id: str) -> dict[str, Any]:
        return self._json(self.client.get(f"/ml/{kind}/{id}"))

    def wait(self, kind: str, id: str, *, timeout_s: float = 600, poll_s: float = 0.5) -> dict[str, Any]:
        """Poll until the job or endpoint is finished; raises unless it succeeded."""
        done = ENDPOINT_DONE if kind == "endpoints" else JOB_DONE
        ok = "InService" if kind == "endpoints" else "Completed"
        deadline = time.monotonic() + timeout_s
        last = ""
        while True:
            doc = self.status(kind, id)
            line = _progress_line(doc)
            if line != last:
                self.echo(f"    {kind}/{id}: {line}")
                last = line
            if doc["status"] in done:
                if doc["status"] != ok:
                    raise RestFlowError(f"{kind} {id!r} ended {doc['status']}: {_failure(doc)}")
                return doc
            if time.monotonic() > deadline:
                raise RestFlowError(f"{kind} {id!r} still {doc['status']} after {timeout_s:.0f}s")
            time.sleep(poll_s)

    def run(self, kind: str, body: dict[str, Any], *, timeout_s: float = 600) -> dict[str, Any]:
        """Start and wait."""
        return self.wait(kind, self.start(kind, body), timeout_s=timeout_s)

    def train_endpoint(
        self,
        name: str,
        neptune_ml: dict[str, Any],
        *,
        overrides: dict[str, Any] | None = None,
        max_hpo_jobs: int = 1,
        timeout_s: float = 900,
    ) -> dict[str, str]:
        """The whole flow for one model: data processing (exported from the live graph with
        ``neptune_ml`` targets and features), training, an endpoint. Returns the three ids."""
        processing = self.run(
            "dataprocessing",
            {"id": f"{name}-data", "additionalParams": {"neptune_ml": neptune_ml}},
            timeout_s=timeout_s,
        )
        training_body: dict[str, Any] = {
            "id": f"{name}-train",
            "dataProcessingJobId": processing["id"],
            "maxHPONumberOfTrainingJobs": max_hpo_jobs,
            "maxHPOParallelTrainingJobs": 1,
        }
        if overrides:
            training_body["overrides"] = overrides
        training = self.run("modeltraining", training_body, timeout_s=timeout_s)
        endpoint = self.run(
            "endpoints", {"id": name, "mlModelTrainingJobId": training["id"]}, timeout_s=timeout_s
        )
        return {
            "dataprocessing": processing["id"],
            "modeltraining": training["id"],
            "endpoint": endpoint["id"],
        }


def _failure(doc: dict[str, Any]) -> str:
    for value in doc.values():
        if isinstance(value, dict) and value.get("failureReason"):
            return str(value["failureReason"])
    return "no failure reason given"
