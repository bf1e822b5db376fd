"""The fast path for Neptune CSV vertex and edge files into a SQL store: column at a time, not cell at a time.

A file qualifies when splitting its text on newlines and commas reads it exactly as the csv
module would (line ends may be \\n, \\r\\n or \\r): no quote characters, no NUL bytes, and no
property name declared twice. A file with quoted fields (commas or line breaks in values, as in
air-routes' airport descriptions) is parsed by the csv module instead, up to :data:`QUOTED_CHARS`,
each row keeping the line it starts on. It is then read in chunks of rows; each chunk is checked and
converted per column (``map`` over a column runs in C), its endpoints are resolved with one dict lookup per
id, and it goes to :meth:`SqlSink.write_edge_columns`. A chunk with any problem at all (a short
row, an empty ``~from``, a value that does not parse, a dangling endpoint, a duplicate id) is
handed whole to the per-record path instead, which names the file, line and column exactly as
before: the fast path only ever takes chunks it knows are clean.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any

from server.store.loaders.bulk_insert import Numbers
from server.store.loaders.neptune_csv import Column, Layout, read_layout, read_rows
from server.store.sql.codec import encode_value
from server.store.sql.schema import VIDX_CHARS
from server.structure.values import INT32_MAX, INT32_MIN, ValueType

_STRING, _INT, _DOUBLE = int(ValueType.STRING), int(ValueType.INT), int(ValueType.DOUBLE)


class Chunk:
    """Lines ``first_line, first_line + 1, ...`` of a file, split into fields on demand; or
    (:meth:`parsed`) rows that the csv module read, with the line each starts on."""

    def __init__(self, path: str, first_line: int, lines: list[str]) -> None:
        self.path = path
        self.first_line = first_line
        self.lines = lines
        self._rows: list[list[str]] | None = None
        self._line_numbers: list[int] | None = None

    @classmethod
    def parsed(cls, path: str, rows: list[list[str]], line_numbers: list[int]) -> Chunk:
        """Non-blank rows of a file with quoted fields; ``line_numbers[k]``: where row ``k`` starts."""
        chunk = cls(path, line_numbers[0], [])
        chunk._rows, chunk._line_numbers = rows, line_numbers
        return chunk

    @property
    def rows(self) -> list[list[str]]:
        """``rows[k]``: the fields of row ``k`` (``[]``: a blank line), on line :meth:`line_of`."""
        if self._rows is None:
            self._rows = [line.split(",") if line else [] for line in self.lines]
        return self._rows

    def line_of(self, k: int) -> int:
        """The line of the file where row ``k`` starts."""
        return self.first_line + k if self._line_numbers is None else self._line_numbers[k]

    @property
    def records(self) -> int:
        """How many rows are not blank."""
        if self._line_numbers is not None:
            return len(self._rows or ())
        return len(self.lines) - self.lines.count("")

    def columns(self, width: int) -> Sequence[Sequence[str]] | None:
        """The fields column by column, or None unless every line has exactly ``width`` fields.

        Splits the whole chunk with one ``join`` and one ``split`` and takes each column as a
        slice (all in C), instead of a list per line and a transposition: the per-line lists
        were a fifth of a big load's CPU time. Counting commas per line (``map``, in C too)
        checks the widths first, so a short row cannot shift the fields of the next one.
        Parsed rows are transposed as they are.
        """
        if self._line_numbers is not None:
            rows = self.rows
            if not rows or set(map(len, rows)) != {width}:
                return None
            return list(zip(*rows, strict=True))
        lines = self.lines
        if not lines or "" in lines:
            return None
        if list(map(str.count, lines, repeat(","))).count(width - 1) != len(lines):
            return None
        flat = ",".join(lines).split(",")
        return [flat[k::width] for k in range(width)]


@dataclass
class CsvFile:
    layout: Layout
    chunks: Iterator[Chunk]


def open_file(path: Path, batch: int) -> CsvFile | None:
    """The file split in chunks of ``batch`` lines, or None when it does not qualify (the caller
    then reads it with the csv module, which also reports unreadable files). Vertex files also
    need single-valued columns only (no ``Type[]``)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    if "\x00" in text:
        return None
    if '"' in text:  # (read_text turns \r\n and \r into \n, as csv splits them)
        return _open_quoted(path, batch) if len(text) <= QUOTED_CHARS else None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or not lines[0]:
        return None
    try:
        layout = read_layout(path, lines[0].split(","))
    except Exception:  # the csv path reports header problems
        return None
    if not _columnar(layout):
        return None
    del text
    return CsvFile(layout, _chunks(str(path), lines, batch))


QUOTED_CHARS = 64 << 20
"""Files with quoted fields up to this size are parsed whole by the csv module, then taken
column by column; bigger ones stream through the record path (parsed rows weigh several times
their text)."""


def _columnar(layout: Layout) -> bool:
    """Whether a file's columns can be written a column at a time: no property named twice,
    no multi-valued (``Type[]``) column."""
    names = [c.name for c in layout.columns]
    return len(set(names)) == len(names) and not any(c.multi for c in layout.columns)


def _open_quoted(path: Path, batch: int) -> CsvFile | None:
    """A file with quoted fields (commas or line breaks inside values), read by the csv module
    exactly as the record path reads it (opened again with ``newline=""``: line breaks inside
    quotes stay as written); None if the csv module finds it malformed anywhere (the record
    path then names the line)."""
    name = str(path)
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
            layout = read_layout(path, header)
        except Exception:  # noqa: BLE001 - the record path reports header problems
            return None
        rows = list(read_rows(name, reader))
    if any(type(row) is not list for _, row in rows) or not _columnar(layout):
        return None
    chunks = (
        Chunk.parsed(name, [row for _, row in part], [line for line, _ in part])  # type: ignore[misc]
        for part in (rows[k : k + batch] for k in range(0, len(rows), batch))
    )
    return CsvFile(layout, chunks)


def _chunks(name: str, lines: list[str], batch: int) -> Iterator[Chunk]:
    for start in range(1, len(lines), batch):
        yield Chunk(name, start + 1, lines[start : start + batch])


def encode_column(col: Column, texts: Sequence[str]) -> list[Sequence[Any]]:
    """``[vtypes, vnums, vstrs, vidxs]`` of the (non-empty) ``texts`` of one property column:
    what ``encode_value(col.convert(text))`` gives for each, built a column at a time for the
    common types (Double, Int, String) and value by value for the rest.

    Raises:
        ValueError: a text does not parse as the column's type.
        InvalidValue: a value the store cannot hold.
    """
    m = len(texts)
    if col.type_name == "double":
        floats = list(map(float, texts))
        if not any(map(math.isnan, floats)):
            reprs = list(map(repr, floats))
            return [[_DOUBLE] * m, Numbers(floats, reprs), reprs, [None] * m]
    elif col.type_name == "int":
        ints = list(map(int, texts))
        if m and INT32_MIN <= min(ints) and max(ints) <= INT32_MAX:
            strs = list(map(str, ints))
            return [[_INT] * m, Numbers(map(float, ints), strs), strs, [None] * m]
    elif col.type_name == "string" and m and max(map(len, texts)) <= VIDX_CHARS:
        return [[_STRING] * m, [None] * m, texts, texts]
    encoded = list(map(encode_value, map(col.convert, texts)))
    return [list(c) for c in zip(*encoded, strict=True)] if encoded else [[], [], [], []]
