"""Column-wise writes of many rows into one table, for the bulk loader's column paths.

The loader already holds its data a column at a time (one list per CSV column); turning that into
row tuples only for the driver to take them apart again was a large part of a load's CPU time.
Here a table's rows are given as ``{column name: values}``, where a value list may be a
:class:`Const` (the same value in every row) and:

- SQLite: constant columns are written into the ``INSERT`` as literals, so each row binds only
  the columns that vary (measured: 7 bound columns -> 4 took 40% off an ``executemany`` of edges).
- PostgreSQL: one COPY text payload, built a column at a time (a constant column is one text
  repeated); all-NULL columns are left out of the COPY (they take their default: NULL, as
  every nullable column of the schema has no other default). :class:`CopyWriter` sends the
  COPYs (and the index rebuilds of a big load) from a helper thread, so that the loader parses
  the next chunk while the server works.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Const:
    """One value for every row of a column (None: NULL)."""

    value: Any


Columns = dict[str, "Sequence[Any] | Const"]


class Numbers(list):
    """A column of numbers that also holds their COPY texts (``copy_text``): a CSV column of
    Double or Int values keeps its text form anyway (the ``vstr`` column), and PostgreSQL reads
    a float8 from either, so the COPY need not format a million floats a second time."""

    def __init__(self, values: Iterable[float], copy_text: Sequence[str]) -> None:
        super().__init__(values)
        self.copy_text = copy_text


def constant(values: Sequence[Any]) -> Sequence[Any] | Const:
    """``Const(v)`` when every item of ``values`` is ``v`` (compared in C by ``list.count``),
    else ``values``: labels, keys and value types of a chunk are usually one value. Only for
    str, int and None: equal floats can differ (``0.0 == -0.0``), as can ``1 == True``."""
    if not values:
        return values
    first = values[0]
    if (
        type(first) not in (str, int, type(None))
        or values[-1] != first
        or type(values[-1]) is not type(first)
    ):
        return values
    if values.count(first) == len(values) and len(set(map(type, values))) == 1:
        return Const(first)
    return values


def _literal(value: Any) -> str | None:
    """``value`` as a SQL literal, or None when it should be bound instead."""
    if value is None:
        return "NULL"
    if type(value) is int and -(2**63) <= value < 2**63:  # (a longer literal would be a REAL)
        return str(value)
    if type(value) is float and math.isfinite(value):
        return repr(value)
    if type(value) is str and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    return None


def sqlite_insert(raw: Any, table: str, columns: Columns, n: int) -> None:
    """Insert ``n`` rows into ``table`` through the sqlite3 connection ``raw``."""
    if n == 0:
        return
    names, marks, bound = [], [], []
    for name, values in columns.items():
        literal = _literal(values.value) if isinstance(values, Const) else None
        names.append(name)
        if literal is not None:
            marks.append(literal)
        else:
            marks.append("?")
            bound.append([values.value] * n if isinstance(values, Const) else values)
    sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(marks)})"
    execute_many(raw, sql, zip(*bound, strict=True) if bound else ((),) * n)


def execute_many(raw: Any, sql: str, rows: Iterable[Sequence[Any]]) -> None:
    """``sql`` once per row of parameters on a cursor of the DBAPI connection ``raw``."""
    cur = raw.cursor()
    try:
        cur.executemany(sql, rows)
    finally:
        cur.close()


def copy_payload(columns: Columns, n: int) -> tuple[list[str], str]:
    """The column names and the COPY text of ``n`` rows; all-NULL columns are left out."""
    names, texts = [], []
    for name, values in columns.items():
        if isinstance(values, Const):
            if values.value is None:
                continue
            texts.append([_copy_value(values.value)] * n)
        else:
            texts.append(_copy_column(values))
        names.append(name)
    if n == 0 or not names:
        return names, ""
    return names, "\n".join(map("\t".join, zip(*texts, strict=True))) + "\n"


def copy_in(raw: Any, table: str, names: Sequence[str], payload: str) -> None:
    """COPY ``payload`` (COPY text format) into columns ``names`` of ``table`` through the
    psycopg connection ``raw``; nothing when it is empty."""
    if not payload:
        return
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
        copy.write(payload)


def _execute(raw: Any, statement: str) -> None:
    with raw.cursor() as cur:
        cur.execute(statement)


class CopyWriter:
    """Sends COPYs (and other statements of the load) on one helper thread, in order, at most
    ``depth`` queued.

    The COPY text is built by the caller (:meth:`submit`): building it is Python work that
    holds the GIL whichever thread does it, while sending it and waiting for the server does
    not. So the helper thread only waits on the server, and the server works on one chunk while
    the caller parses and formats the next.

    The caller must not use the connection for anything else while a COPY may be running:
    it calls :meth:`wait` first (the SQL sink does so before every query of its own).
    An error of a COPY comes out of the next :meth:`wait` or :meth:`submit`.
    """

    def __init__(self, raw: Any, depth: int = 2) -> None:
        self._raw = raw
        self._depth = depth
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[tuple[Future, bool]] = []  # (work, whether it holds a COPY text)

    def submit(self, table: str, columns: Columns, n: int) -> None:
        """Queue the COPY of ``n`` rows given column by column."""
        names, payload = copy_payload(columns, n)
        while sum(holds for _, holds in self._pending) >= self._depth:
            self._pending.pop(0)[0].result()  # in order: what came before it finishes first
        self._queue(True, copy_in, self._raw, table, names, payload)

    def execute(self, statement: str) -> None:
        """Queue a statement without results (an index build) behind the COPYs; it does not
        count against ``depth`` (which bounds the COPY texts held in memory)."""
        self._queue(False, _execute, self._raw, statement)

    def _queue(self, holds_payload: bool, work: Any, *args: Any) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seer-copy")
        self._pending.append((self._pool.submit(work, *args), holds_payload))

    def wait(self) -> None:
        """Wait for every queued COPY; raise the first error among them."""
        pending, self._pending = self._pending, []
        error: BaseException | None = None
        for future, _ in pending:
            exc = future.exception()
            if exc is not None and error is None:
                error = exc
        if error is not None:
            raise error

    def close(self) -> None:
        """Wait for the queued COPYs (ignoring their errors: the caller is giving up) and stop
        the thread."""
        for future, _ in self._pending:
            future.exception()
        self._pending = []
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


_NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(rows: Iterable[tuple]) -> str:
    """``rows`` in PostgreSQL's COPY text format, built a column at a time (``psycopg``'s
    ``write_row`` costs a Python call per row). Values: None, str, int, float (ids and the
    encoded value columns)."""
    columns = list(zip(*rows, strict=True))
    if not columns:
        return ""
    texts = [_copy_column(c) for c in columns]
    return "\n".join(map("\t".join, zip(*texts, strict=True))) + "\n"


@functools.lru_cache(maxsize=2)
def _range_text(keys: range) -> list[str]:
    """The texts of a range of row keys, kept for the next call: an edge chunk's keys are its
    edges' ``eid`` column and again their properties' (the same range)."""
    return list(map(str, keys))


def _copy_column(values: Sequence[Any]) -> Sequence[str]:
    """One column's COPY texts: a column of one type (and NULLs) at C speed, else value by value."""
    if type(values) is range:
        return _range_text(values)
    if type(values) is Numbers:
        return values.copy_text
    kinds = set(map(type, values))
    nulls = type(None) in kinds
    kinds.discard(type(None))
    if not kinds:
        return [_NULL] * len(values)
    if len(kinds) > 1 or not kinds <= {str, int, float}:
        return [_copy_value(v) for v in values]
    kind = kinds.pop()
    if kind is str:
        present = [v for v in values if v is not None] if nulls else values
        if any(c in "".join(present) for c in "\\\t\n\r"):
            return [_copy_value(v) for v in values]
        return [_NULL if v is None else v for v in values] if nulls else values
    convert = str if kind is int else repr
    if nulls:
        return [_NULL if v is None else convert(v) for v in values]
    return list(map(convert, values))


def _copy_value(value: Any) -> str:
    if value is None:
        return _NULL
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return repr(float(value))
    return str(value).translate(_ESCAPES)
