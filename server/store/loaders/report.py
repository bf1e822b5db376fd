"""LoadReport: the outcome (and, while it runs, the progress) of one bulk load, with the shape
Neptune's loader status API reports (``GET /loader/{loadId}``)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Literal

from server.store.loaders.records import LoadIssue

LoadStatus = Literal["LOAD_IN_PROGRESS", "LOAD_COMPLETED", "LOAD_FAILED"]


@dataclasses.dataclass
class LoadReport:
    """Counts and errors of a load. The loader updates it in place while it runs, so another
    thread may read it (e.g. the REST ``/loader`` status route) at any time."""

    sources: list[str]
    format: str = "auto"
    status: LoadStatus = "LOAD_IN_PROGRESS"
    vertices: int = 0
    edges: int = 0
    vertex_properties: int = 0
    edge_properties: int = 0
    records: int = 0
    issues: list[LoadIssue] = dataclasses.field(default_factory=list)
    started: float = dataclasses.field(default_factory=time.time)
    finished: float | None = None

    @property
    def parsing_errors(self) -> int:
        return sum(1 for i in self.issues if i.kind == "parse")

    @property
    def insert_errors(self) -> int:
        return sum(1 for i in self.issues if i.kind == "insert")

    @property
    def errors(self) -> list[str]:
        """Every problem as ``file:line:column: message``."""
        return [str(i) for i in self.issues]

    @property
    def seconds(self) -> float:
        return (self.finished or time.time()) - self.started

    def to_neptune(self, load_id: str | None = None, max_errors: int = 100) -> dict[str, Any]:
        """The ``payload`` of Neptune's ``GET /loader/{loadId}?details=true&errors=true``."""
        issues = self.issues[:max_errors]
        return {
            "feedCount": [{self.status: 1}],
            "overallStatus": {
                "fullUri": ",".join(self.sources),
                "runNumber": 1,
                "retryNumber": 0,
                "status": self.status,
                "totalTimeSpent": int(round(self.seconds)),
                "startTime": int(self.started),
                "totalRecords": self.records,
                "totalDuplicates": sum(1 for i in self.issues if "duplicate" in i.message),
                "parsingErrors": self.parsing_errors,
                "datatypeMismatchErrors": sum(1 for i in self.issues if "cannot parse" in i.message),
                "insertErrors": self.insert_errors,
            },
            "errors": {
                "startIndex": 1 if issues else 0,
                "endIndex": len(issues),
                "loadId": load_id,
                "errorLogs": [
                    {
                        "errorCode": "PARSING_ERROR" if i.kind == "parse" else "INSERT_ERROR",
                        "errorMessage": i.message,
                        "fileName": i.path,
                        "recordNum": i.line or 0,
                        "columnNum": i.column or 0,
                    }
                    for i in issues
                ],
            },
        }
