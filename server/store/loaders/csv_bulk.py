"""The fast path for Neptune CSV edge files into a SQL store: column at a time, not cell at a time.

A file qualifies when splitting its text on newlines and commas reads it exactly as the csv
module would: no quote characters and no NUL bytes, and no property name
declared twice (line ends may be \\n, \\r\\n or \\r). It is then read in chunks of rows; each chunk is checked and converted per
column (``map`` over a column runs in C), its endpoints are resolved with one dict lookup per
id, and it goes to :meth:`SqlSink.write_edge_columns`. A chunk with any problem at all (a short
row, an empty ``~from``, a value that does not parse, a dangling endpoint, a duplicate id) is
handed whole to the per-record path instead, which names the file, line and column exactly as
before: the fast path only ever takes chunks it knows are clean.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from server.store.loaders.neptune_csv import Layout, read_layout


@dataclass
class EdgeChunk:
    """Rows of one chunk; ``rows[k]`` is line ``first_line + k`` of the file (``[]``: blank)."""

    path: str
    first_line: int
    rows: list[list[str]]


@dataclass
class EdgeFile:
    layout: Layout
    chunks: Iterator[EdgeChunk]


def open_edge_file(path: Path, batch: int) -> EdgeFile | None:
    """The file split in chunks of ``batch`` lines, or None when it does not qualify (the caller
    then reads it with the csv module, which also reports unreadable files)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    if '"' in text or "\x00" in text:  # (read_text turns \r\n and \r into \n, as csv splits them)
        return None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or not lines[0]:
        return None
    try:
        layout = read_layout(path, lines[0].split(","))
    except Exception:  # the csv path reports header problems
        return None
    names = [c.name for c in layout.columns]
    if layout.kind != "edge" or len(set(names)) != len(names):
        return None
    del text
    return EdgeFile(layout, _chunks(str(path), lines, batch))


def _chunks(name: str, lines: list[str], batch: int) -> Iterator[EdgeChunk]:
    for start in range(1, len(lines), batch):
        part = lines[start : start + batch]
        rows = [line.split(",") if line else [] for line in part]
        yield EdgeChunk(name, start + 1, rows)
