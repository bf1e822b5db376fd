"""What the format readers produce and the sinks consume: vertex and edge records, and issues.

Records are NamedTuples (cheap to build a million of). Every record remembers where it came from
(``path``, ``line``) so that a problem found later (a duplicate id, a dangling ``~from``) can
still name the file, line and column.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple


class PropRecord(NamedTuple):
    """A vertex property: ``cardinality`` is ``single``, ``list`` or ``set``."""

    key: str
    value: Any
    cardinality: str = "single"
    id: Any = None
    meta: tuple[tuple[str, Any], ...] = ()


class VertexRecord(NamedTuple):
    id: Any  # None: generate one
    label: str
    props: list[PropRecord]
    path: str
    line: int
    id_column: int | None = None


class EdgeRecord(NamedTuple):
    id: Any  # None: generate one
    label: str
    out_id: Any
    in_id: Any
    props: list[tuple[str, Any]]
    path: str
    line: int
    columns: tuple[int | None, int | None, int | None] = (None, None, None)  # ~id, ~from, ~to


class LoadIssue(NamedTuple):
    """One problem: ``kind`` is ``parse`` (malformed input) or ``insert`` (duplicate id,
    dangling endpoint, a value the store refuses)."""

    kind: Literal["parse", "insert"]
    path: str
    line: int | None
    column: int | None
    message: str

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


class FileError(Exception):
    """A whole file cannot be read (bad header, unknown format); carries the issue."""

    def __init__(self, issue: LoadIssue) -> None:
        super().__init__(str(issue))
        self.issue = issue
