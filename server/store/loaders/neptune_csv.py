"""Neptune's Gremlin load format (CSV): one file holds vertices (``~id``, ``~label``) or edges
(``~id``, ``~from``, ``~to``, ``~label``), plus property columns ``name:Type``.

Header rules (as Neptune documents them):

- ``Type`` is one of Bool/Boolean, Byte, Short, Int, Long, Float, Double, String, Date (any case);
  no type means String. ``name:Type[]`` is a multi-valued column: values separated by ``;``
  (``\\;`` for a literal semicolon), stored with set cardinality. A cardinality suffix
  ``name:Type(single)`` / ``(set)`` / ``(list)`` chooses how values are added.
- ``~label`` of a vertex may hold several labels separated by ``;``; they are joined with
  ``::`` (what Neptune returns for multi-label vertices). An empty label means ``vertex``.
- Ids are strings, as in Neptune. An empty field means "no value" for that property.

Errors name the file, the line and the 1-based column.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.store.loaders.records import EdgeRecord, FileError, LoadIssue, PropRecord, VertexRecord
from server.structure.values import INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, Float32, Int8, Int16, Int64

SYSTEM_COLUMNS = {"~id", "~label", "~from", "~to"}
_HEADER = re.compile(r"^(?P<name>.+?)(?::(?P<type>[A-Za-z]+)(?P<array>\[\])?(?:\((?P<card>[A-Za-z]+)\))?)?$")
_SPLIT = re.compile(r"(?<!\\);")

csv.field_size_limit(1 << 30)


def _int(lo: int, hi: int, cls: Callable[[int], Any], name: str) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        n = int(text)
        if not lo <= n <= hi:
            raise ValueError(f"{n} is out of range for {name}")
        return cls(n)

    return convert


def _bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    raise ValueError("expected true or false")


def _date(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.strip())
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


CONVERTERS: dict[str, Callable[[str], Any]] = {
    "bool": _bool,
    "boolean": _bool,
    "byte": _int(-(2**7), 2**7 - 1, Int8, "Byte"),
    "short": _int(-(2**15), 2**15 - 1, Int16, "Short"),
    "int": _int(INT32_MIN, INT32_MAX, int, "Int"),
    "long": _int(INT64_MIN, INT64_MAX, Int64, "Long"),
    "float": lambda text: Float32(float(text)),
    "double": float,
    "string": str,
    "date": _date,
    "datetime": _date,
}
"""Neptune type names (lower-cased) -> converter from the CSV text."""

CARDINALITIES = {"single", "set", "list"}


@dataclass(frozen=True)
class Column:
    index: int
    name: str
    type_name: str
    convert: Callable[[str], Any]
    multi: bool
    cardinality: str


@dataclass(frozen=True)
class Layout:
    """A parsed header: which system columns sit where, and the property columns."""

    kind: str  # "vertex" or "edge"
    system: dict[str, int]
    columns: list[Column]
    width: int


def read_layout(path: Path, header: list[str]) -> Layout:
    """Parse a header row. Raises FileError naming the column for unknown types and the like."""
    system: dict[str, int] = {}
    columns: list[Column] = []

    def fail(i: int, message: str) -> FileError:
        return FileError(LoadIssue("parse", str(path), 1, i + 1, message))

    for i, raw in enumerate(header):
        text = raw.strip()
        if text.startswith("~"):
            if text.lower() not in SYSTEM_COLUMNS:
                raise fail(i, f"unknown system column {text!r} (expected ~id, ~label, ~from, ~to)")
            system[text.lower()] = i
            continue
        match = _HEADER.match(text)
        if not text or match is None:
            raise fail(i, f"malformed column header {raw!r} (expected name:Type)")
        type_name = (match["type"] or "String").lower()
        if type_name not in CONVERTERS:
            known = "Bool, Boolean, Byte, Short, Int, Long, Float, Double, String, Date"
            raise fail(i, f"unknown type {match['type']!r} in column {text!r} (Neptune types: {known})")
        card = (match["card"] or ("set" if match["array"] else "single")).lower()
        if card not in CARDINALITIES:
            raise fail(i, f"unknown cardinality {match['card']!r} in column {text!r} (single, set or list)")
        columns.append(Column(i, match["name"], type_name, CONVERTERS[type_name], bool(match["array"]), card))
    is_edge = "~from" in system or "~to" in system
    if is_edge:
        for needed in ("~from", "~to", "~label"):
            if needed not in system:
                raise fail(len(header) - 1, f"an edge file needs a {needed} column")
        for col in columns:
            if col.multi:
                raise fail(col.index, f"edge properties hold one value; {col.name!r} is declared as an array")
    return Layout("edge" if is_edge else "vertex", system, columns, len(header))


def parse(path: Path) -> Iterator[VertexRecord | EdgeRecord | LoadIssue]:
    """Records of one CSV file, and a LoadIssue (``parse``) for each malformed row.

    Raises:
        FileError: the file is empty or its header is unusable.
    """
    name = str(path)
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise FileError(LoadIssue("parse", name, 1, None, "the file is empty (no header row)")) from None
        except csv.Error as exc:
            raise FileError(LoadIssue("parse", name, 1, None, f"malformed CSV: {exc}")) from None
        layout = read_layout(path, header)
        rows = _edge_rows if layout.kind == "edge" else _vertex_rows
        yield from rows(name, reader, layout)


def read_rows(name: str, reader: Any) -> Iterator[tuple[int, list[str] | LoadIssue]]:
    """``(first line of the row, fields)``; a multi-line quoted field spans several lines."""
    line = reader.line_num
    while True:
        try:
            for row in reader:
                start, line = line + 1, reader.line_num
                if row:  # blank lines are skipped
                    yield start, row
            return
        except csv.Error as exc:
            yield reader.line_num, LoadIssue("parse", name, reader.line_num, None, f"malformed CSV: {exc}")
            line = reader.line_num


def _props(name: str, line: int, row: list[str], layout: Layout) -> list[PropRecord] | LoadIssue:
    props: list[PropRecord] = []
    for col in layout.columns:
        text = row[col.index]
        if text == "":
            continue
        parts = [p.replace("\\;", ";") for p in _SPLIT.split(text)] if col.multi else [text]
        seen: list[Any] = []
        for part in parts:
            if part == "" and col.multi:
                continue
            try:
                value = col.convert(part)
            except ValueError as exc:
                return LoadIssue(
                    "parse", name, line, col.index + 1, f"cannot parse {part!r} as {col.type_name} ({exc})"
                )
            if col.cardinality == "set" and value in seen:
                continue
            seen.append(value)
            props.append(PropRecord(col.name, value, col.cardinality))
    return props


def _check_width(name: str, line: int, row: list[str], layout: Layout) -> LoadIssue | None:
    if len(row) == layout.width:
        return None
    column = min(len(row), layout.width) + 1
    return LoadIssue("parse", name, line, column, f"expected {layout.width} fields, found {len(row)}")


def _vertex_rows(name: str, reader: Any, layout: Layout) -> Iterator[VertexRecord | LoadIssue]:
    for line, row in read_rows(name, reader):
        yield row if isinstance(row, LoadIssue) else vertex_record(name, line, row, layout)


def vertex_record(name: str, line: int, row: list[str], layout: Layout) -> VertexRecord | LoadIssue:
    """The record of one (non-blank) row of a vertex file, or the first problem in it."""
    id_at, label_at = layout.system.get("~id"), layout.system.get("~label")
    issue = _check_width(name, line, row, layout)
    if issue is None and id_at is not None and row[id_at] == "":
        issue = LoadIssue("parse", name, line, id_at + 1, "empty ~id")
    if issue is not None:
        return issue
    props = _props(name, line, row, layout)
    if isinstance(props, LoadIssue):
        return props
    label = "vertex"
    if label_at is not None and row[label_at]:
        label = "::".join(p for p in _SPLIT.split(row[label_at]) if p)
    return VertexRecord(None if id_at is None else row[id_at], label, props, name, line, id_at)


def _edge_rows(name: str, reader: Any, layout: Layout) -> Iterator[EdgeRecord | LoadIssue]:
    line = reader.line_num
    while True:
        try:
            for row in reader:
                start, line = line + 1, reader.line_num
                if row:  # blank lines are skipped
                    yield edge_record(name, start, row, layout)
            return
        except csv.Error as exc:
            yield LoadIssue("parse", name, reader.line_num, None, f"malformed CSV: {exc}")
            line = reader.line_num


def edge_record(name: str, line: int, row: list[str], layout: Layout) -> EdgeRecord | LoadIssue:
    """The record of one (non-blank) row of an edge file, or the first problem in it."""
    sys = layout.system
    id_at, from_at, to_at, label_at = sys.get("~id"), sys["~from"], sys["~to"], sys["~label"]
    if len(row) != layout.width:
        return _check_width(name, line, row, layout)  # type: ignore[return-value]
    check_id = id_at if id_at is not None else from_at
    if not (row[from_at] and row[to_at] and row[label_at] and row[check_id]):
        required = [i for i in (id_at, from_at, to_at, label_at) if i is not None]
        empty = next(i for i in required if not row[i])
        return LoadIssue("parse", name, line, empty + 1, f"empty {header_name(sys, empty)}")
    props: list[tuple[str, Any]] = []
    for col in layout.columns:
        text = row[col.index]
        if text:
            try:
                props.append((col.name, col.convert(text)))
            except ValueError as exc:
                message = f"cannot parse {text!r} as {col.type_name} ({exc})"
                return LoadIssue("parse", name, line, col.index + 1, message)
    cols = tuple(None if i is None else i + 1 for i in (id_at, from_at, to_at))
    return EdgeRecord(
        row[id_at] if id_at is not None else None,
        row[label_at],
        row[from_at],
        row[to_at],
        props,
        name,
        line,
        cols,
    )


def header_name(system: dict[str, int], index: int) -> str:
    return next(k for k, i in system.items() if i == index)


def sniff_kind(path: Path) -> str:
    """``vertex`` or ``edge``, from the header alone (edge files are loaded after vertex files)."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), [])
    lowered = {h.strip().lower() for h in header}
    return "edge" if "~from" in lowered or "~to" in lowered else "vertex"
