"""The loading core: files -> records -> a sink, in one transaction.

``load(store, paths)`` reads every vertex source first and every edge source after (edges may
point at vertices from any file), in batches. With ``fail_on_error`` the first problem stops the
load and rolls everything back: nothing of it is committed. Without it, bad records are reported
in the LoadReport and everything else is committed.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from server.store.errors import LoadError
from server.store.interface import GraphStore
from server.store.loaders import csv_bulk, graphml, graphson, neptune_csv
from server.store.loaders.records import EdgeRecord, FileError, LoadIssue, VertexRecord
from server.store.loaders.report import LoadReport
from server.store.loaders.sinks import (
    SqlSink,
    StoreSink,
    sqlite_checkpoint_in_background,
    sqlite_foreign_keys_off,
)

Format = Literal["auto", "csv", "graphson", "graphml"]
FORMATS = ("csv", "graphson", "graphml")
_SUFFIXES = {
    ".csv": "csv",
    ".json": "graphson",
    ".graphson": "graphson",
    ".graphml": "graphml",
    ".xml": "graphml",
}
_PARSERS = {"csv": neptune_csv.parse, "graphson": graphson.parse, "graphml": graphml.parse}
BATCH = 50_000


class _Stop(Exception):
    """failOnError: the first problem ends the load."""


def detect_format(path: Path) -> str:
    """The format of a file from its suffix (``.csv``, ``.json``, ``.graphml``/``.xml``)."""
    found = _SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise LoadError(
            f"{path}: cannot tell the format from the suffix {path.suffix!r}; pass format= one of {', '.join(FORMATS)}",
            [f"{path}: unknown format"],
        )
    return found


def source_files(paths: Iterable[str | Path], format: str = "auto") -> list[Path]:
    """Files named, with directories expanded to the files of one format they hold (sorted).

    Like Neptune, a folder is loaded in one format: ``format``, or with ``auto`` the first of
    csv, graphson, graphml that the folder has files of.
    """
    files: list[Path] = []
    for raw in paths:
        path = Path(str(raw).removeprefix("file://"))
        if path.is_dir():
            present = {p: _SUFFIXES.get(p.suffix.lower()) for p in path.iterdir() if p.is_file()}
            wanted = format if format != "auto" else next((f for f in FORMATS if f in present.values()), None)
            files.extend(sorted(p for p, fmt in present.items() if fmt == wanted))
        elif path.is_file():
            files.append(path)
        else:
            raise LoadError(f"{path}: no such file or directory", [f"{path}: no such file or directory"])
    return files


def load(
    store: GraphStore,
    paths: Sequence[str | Path] | str | Path,
    *,
    format: Format = "auto",
    fail_on_error: bool = True,
    progress: Callable[[LoadReport], None] | None = None,
    report: LoadReport | None = None,
) -> LoadReport:
    """Load graph files into ``store`` and return the report (also on failure: check ``status``).

    ``paths``: files or directories (``file://`` accepted). ``format``: ``auto`` picks by suffix.
    ``progress`` is called with the report after every batch. ``report``: a report to fill in
    (so that a caller can watch it from another thread).

    Raises:
        LoadError: a path does not exist or its format is unknown (before anything is written).
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if format != "auto" and format not in FORMATS:
        raise LoadError(f"unknown format {format!r} (expected auto, {', '.join(FORMATS)})")
    files = source_files(paths, format)
    plan = [(f, detect_format(f) if format == "auto" else format) for f in files]
    report = report or LoadReport(sources=[str(p) for p in paths], format=format)
    report.status = "LOAD_IN_PROGRESS"
    try:
        _run(store, plan, report, fail_on_error, progress)
    finally:
        report.finished = time.time()
    if progress is not None:
        progress(report)
    return report


def _run(store, plan, report: LoadReport, fail_on_error: bool, progress) -> None:
    def note(issues: Sequence[LoadIssue]) -> None:
        if issues:
            report.issues.extend(issues)
            if fail_on_error:
                raise _Stop

    with (
        _no_cyclic_gc(),
        store.connect() as conn,
        sqlite_foreign_keys_off(conn),
        sqlite_checkpoint_in_background(store, conn),
    ):
        try:
            # closing(): the COPY thread is done with the connection before the transaction ends
            with conn.atomic(), contextlib.closing(_sink(conn)) as sink:
                deferred: list[EdgeRecord] = []
                vertex_sources = [(f, fmt) for f, fmt in plan if not _is_edge_csv(f, fmt)]
                edge_sources = [(f, fmt) for f, fmt in plan if _is_edge_csv(f, fmt)]
                if isinstance(sink, SqlSink):
                    sink.begin_bulk(sum(f.stat().st_size for f, _ in plan))
                for path, fmt in vertex_sources:
                    fast = _fast_csv(sink, path, fmt)
                    if fast is not None:
                        for chunk in fast.chunks:
                            _write_vertex_chunk(sink, fast.layout, chunk, note, report)
                            _update(report, sink, progress)
                        continue
                    for vertices, edges in _batches(path, fmt, note, report):
                        deferred.extend(edges)
                        note(sink.write_vertices(vertices))
                        _update(report, sink, progress)
                if deferred:
                    for start in range(0, len(deferred), BATCH):
                        note(sink.write_edges(deferred[start : start + BATCH]))
                        _update(report, sink, progress)
                if isinstance(sink, SqlSink):
                    sink.vertices_done()
                for path, fmt in edge_sources:
                    fast = _fast_csv(sink, path, fmt)
                    if fast is not None:
                        for chunk in fast.chunks:
                            _write_edge_chunk(sink, fast.layout, chunk, note, report)
                            _update(report, sink, progress)
                        continue
                    for vertices, edges in _batches(path, fmt, note, report):
                        if vertices:
                            note(sink.write_vertices(vertices))
                        note(sink.write_edges(edges))
                        _update(report, sink, progress)
                if isinstance(sink, SqlSink):
                    sink.finish()
        except _Stop:
            conn.rollback()
            report.status = "LOAD_FAILED"
            _zero(report)
            return
        conn.commit()
    if isinstance(sink, SqlSink) and sink.stale_tables:
        store.analyze_in_background(sink.stale_tables)
    report.status = "LOAD_COMPLETED"


def _fast_csv(sink: SqlSink | StoreSink, path: Path, fmt: str) -> csv_bulk.CsvFile | None:
    return csv_bulk.open_file(path, BATCH) if fmt == "csv" and isinstance(sink, SqlSink) else None


def _write_vertex_chunk(
    sink: SqlSink, layout: neptune_csv.Layout, chunk: csv_bulk.Chunk, note, report
) -> None:
    """A chunk of a CSV vertex file: column by column when it is clean, else record by record."""
    if sink.write_vertex_columns(layout, chunk):
        report.records += chunk.records
        return
    vertices: list[VertexRecord] = []
    issues: list[LoadIssue] = []
    for k, row in enumerate(chunk.rows):
        if row:
            item = neptune_csv.vertex_record(chunk.path, chunk.line_of(k), row, layout)
            (vertices if type(item) is VertexRecord else issues).append(item)
    report.records += len(vertices)
    note(issues)
    note(sink.write_vertices(vertices))


def _write_edge_chunk(sink: SqlSink, layout: neptune_csv.Layout, chunk: csv_bulk.Chunk, note, report) -> None:
    """A chunk of a CSV edge file: column by column when it is clean, else record by record
    (which names every problem in it)."""
    if sink.write_edge_columns(layout, chunk):
        report.records += chunk.records
        return
    edges: list[EdgeRecord] = []
    issues: list[LoadIssue] = []
    for k, row in enumerate(chunk.rows):
        if row:
            item = neptune_csv.edge_record(chunk.path, chunk.line_of(k), row, layout)
            (edges if type(item) is EdgeRecord else issues).append(item)
    report.records += len(edges)
    note(issues)
    note(sink.write_edges(edges))


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """A load builds millions of small acyclic tuples and lists; the cyclic collector would
    rescan them all again and again (measured: it doubled the time of the column work)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _sink(conn: Any) -> SqlSink | StoreSink:
    from server.store.sql.connection import SqlConnection

    return SqlSink(conn) if isinstance(conn, SqlConnection) else StoreSink(conn)


def _is_edge_csv(path: Path, fmt: str) -> bool:
    return fmt == "csv" and neptune_csv.sniff_kind(path) == "edge"


def _batches(path: Path, fmt: str, note, report: LoadReport) -> Iterator[tuple[list, list]]:
    """``(vertex records, edge records)`` of up to BATCH items at a time; problems go to ``note``
    before their batch is written."""
    items = _PARSERS[fmt](path)
    try:
        while chunk := list(itertools.islice(items, BATCH)):
            vertices: list[VertexRecord] = []
            edges: list[EdgeRecord] = []
            issues: list[LoadIssue] = []
            for item in chunk:  # one pass, exact type checks: this runs once per record
                kind = type(item)
                if kind is EdgeRecord:
                    edges.append(item)
                elif kind is VertexRecord:
                    vertices.append(item)
                else:
                    issues.append(item)
            report.records += len(chunk) - len(issues)
            note(issues)
            yield vertices, edges
    except FileError as exc:
        note([exc.issue])
    except OSError as exc:
        note([LoadIssue("parse", str(path), None, None, f"cannot read: {exc}")])
    except UnicodeDecodeError as exc:
        note([LoadIssue("parse", str(path), None, None, f"not UTF-8 text: {exc}")])


def _update(report: LoadReport, sink: SqlSink | StoreSink, progress) -> None:
    c = sink.counts
    report.vertices, report.edges = c.vertices, c.edges
    report.vertex_properties, report.edge_properties = c.vertex_properties, c.edge_properties
    if progress is not None:
        progress(report)


def _zero(report: LoadReport) -> None:
    """After a rollback nothing was loaded."""
    report.vertices = report.edges = report.vertex_properties = report.edge_properties = 0
