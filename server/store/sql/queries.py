"""The hot read statements as plain SQL text, built once per (shape, dialect) and run on the DBAPI
cursor with positional parameters.

Why by hand: a traversal such as ``V().has('code','AUS').out('route').values('code')`` costs a few
hundred microseconds in the database but used to spend over a millisecond building, caching-key
hashing and compiling SQLAlchemy Core statements and wrapping their results. The statements here
are the few shapes that every traversal runs (vertex lookup by label and property value,
adjacency, properties, degrees, neighbours' values, walk counts, vertices by id); everything else stays on
SQLAlchemy Core in :mod:`server.store.sql.connection`.

A list of row keys or labels is bound as ``IN (?, ?, ...)`` on SQLite (text cached per list
length) and as one array parameter ``= ANY(%s)`` on PostgreSQL (one text, so psycopg prepares
it once). :class:`Bound` carries the SQL text with its parameters in order.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from server.store.sql.codec import NUMERIC_TYPES, STRING_TYPES

_STRING_CODES = ", ".join(str(int(t)) for t in STRING_TYPES)
_NUMERIC_CODES = ", ".join(str(int(t)) for t in NUMERIC_TYPES)
_V_COLS = "v.vid, v.id_num, v.id_str, v.id_type, v.label"

Bound = tuple[str, list[Any]]
"""SQL text and its positional parameters."""


class Dialect:
    """Placeholder and list-binding rules of one database (``sqlite`` or ``postgresql``)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.pg = name == "postgresql"
        self.mark = "%s" if self.pg else "?"

    def size(self, items: Sequence[Any] | None) -> int | None:
        """The part of a list's shape that changes the SQL text (its length, on SQLite only)."""
        if items is None:
            return None
        return 0 if self.pg else len(items)

    def within(self, column: str, n: int | None, kind: str = "bigint") -> str:
        """``column`` is one of a bound list (``n`` items on SQLite; one array on PostgreSQL)."""
        if self.pg:
            return f"{column} = ANY({self.mark}::{kind}[])"
        return f"{column} IN ({', '.join('?' * n)})" if n else "1 = 0"

    def bind(self, params: list[Any], items: Sequence[Any]) -> None:
        """Append a list bound with :meth:`within` to ``params``."""
        if self.pg:
            params.append(list(items))
        else:
            params.extend(items)


@functools.cache
def dialect(name: str) -> Dialect:
    return Dialect(name)


def _sides(out: bool) -> tuple[str, str]:
    """(near, far) edge columns for one direction."""
    return ("out_vid", "in_vid") if out else ("in_vid", "out_vid")


# -- statement texts (cached per shape) -------------------------------------------------------


def _vertex_conditions(d: Dialect, n_labels: int | None, kinds: tuple[str, ...], after: bool) -> str:
    """The WHERE condition on ``vertices v`` of :func:`find_vertices` (labels, then a key and a
    value per filter, then the row key to start after)."""
    where = []
    if n_labels is not None:
        where.append(d.within("v.label", n_labels, "text"))
    for kind in kinds:
        match = f"vtype IN ({_STRING_CODES}) AND vidx = {d.mark}"
        if kind == "n":
            match = f"vtype IN ({_NUMERIC_CODES}) AND vnum = {d.mark}"
        where.append(f"v.vid IN (SELECT vid FROM vertex_properties WHERE key = {d.mark} AND {match})")
    if after:
        where.append(f"v.vid > {d.mark}")
    return " AND ".join(where) or "1 = 1"


def _vertex_params(
    d: Dialect, labels: Sequence[str] | None, filters: Sequence[tuple[str, str, Any]], after: int | None
) -> list[Any]:
    params: list[Any] = []
    if labels is not None:
        d.bind(params, labels)
    for _, key, value in filters:
        params += (key, value)
    if after is not None:
        params.append(after)
    return params


@functools.lru_cache(maxsize=1024)
def _find_vertices_sql(name: str, n_labels: int | None, kinds: tuple[str, ...], after: bool) -> str:
    d = dialect(name)
    cond = _vertex_conditions(d, n_labels, kinds, after)
    return f"SELECT {_V_COLS} FROM vertices v WHERE {cond} ORDER BY v.vid LIMIT {d.mark}"


def find_vertices(
    name: str,
    labels: Sequence[str] | None,
    filters: Sequence[tuple[str, str, Any]],
    after: int | None,
    limit: int,
) -> Bound:
    """Vertices with one of ``labels`` whose property ``key`` equals a value, for each
    ``(kind, key, value)`` filter (kind ``s``: a string of at most ``VIDX_CHARS`` characters,
    matched on the indexed prefix column; ``n``: a number exactly representable as a double),
    after row key ``after``, in row-key order, at most ``limit`` rows."""
    d = dialect(name)
    sql = _find_vertices_sql(name, d.size(labels), tuple(k for k, _, _ in filters), after is not None)
    return sql, [*_vertex_params(d, labels, filters, after), limit]


@functools.lru_cache(maxsize=1024)
def _count_vertices_sql(name: str, n_labels: int | None, kinds: tuple[str, ...]) -> str:
    return (
        f"SELECT count(*) FROM vertices v WHERE {_vertex_conditions(dialect(name), n_labels, kinds, False)}"
    )


def count_vertices(name: str, labels: Sequence[str] | None, filters: Sequence[tuple[str, str, Any]]) -> Bound:
    """How many vertices :func:`find_vertices` finds (all pages)."""
    d = dialect(name)
    sql = _count_vertices_sql(name, d.size(labels), tuple(k for k, _, _ in filters))
    return sql, _vertex_params(d, labels, filters, None)


@functools.lru_cache(maxsize=1024)
def _found_values_sql(name: str, n_labels: int | None, kinds: tuple[str, ...], after: bool) -> str:
    d = dialect(name)
    cond = _vertex_conditions(d, n_labels, kinds, after)
    return (
        "SELECT v.vid, p.vtype, p.vnum, p.vstr FROM vertices v"
        f" JOIN vertex_properties p ON p.vid = v.vid AND p.key = {d.mark}"
        f" WHERE {cond} ORDER BY v.vid, p.pid LIMIT {d.mark}"
    )


def found_values(
    name: str,
    labels: Sequence[str] | None,
    filters: Sequence[tuple[str, str, Any]],
    key: str,
    after: int | None,
    limit: int,
) -> Bound:
    """Rows ``(vid, vtype, vnum, vstr)``: the values of property ``key`` of the vertices that
    :func:`find_vertices` finds, by vertex then property order, at most ``limit`` rows."""
    d = dialect(name)
    sql = _found_values_sql(name, d.size(labels), tuple(k for k, _, _ in filters), after is not None)
    return sql, [key, *_vertex_params(d, labels, filters, after), limit]


@functools.lru_cache(maxsize=1024)
def _vertices_by_ids_sql(name: str, column: str, n_ids: int | None, n_labels: int | None) -> str:
    d = dialect(name)
    kind = "bigint" if column == "id_num" else "text"
    cond = d.within(f"v.{column}", n_ids, kind) + _label_cond(d, "v.label", n_labels)
    return f"SELECT {_V_COLS} FROM vertices v WHERE {cond}"


def vertices_by_ids(name: str, column: str, ids: Sequence[Any], labels: Sequence[str] | None) -> Bound:
    """Rows ``(vid, id_num, id_str, id_type, label)`` of the vertices whose ``column``
    (``id_num`` or ``id_str``) is one of ``ids``, with one of ``labels`` when given; any order
    (the caller matches rows to the ids it asked for, since ``id_str`` is unique only together
    with ``id_type``)."""
    return _keys_labels(name, lambda n, m: _vertices_by_ids_sql(name, column, n, m), ids, labels)


def _label_cond(d: Dialect, column: str, n_labels: int | None) -> str:
    """`` AND column IN (labels)`` for a text list (edge labels, property keys); "" for None."""
    return "" if n_labels is None else " AND " + d.within(column, n_labels, "text")


@functools.lru_cache(maxsize=1024)
def _adjacent_sql(name: str, out: bool, n_keys: int | None, n_labels: int | None) -> str:
    d = dialect(name)
    near, far = _sides(out)
    return (
        f"SELECT e.{near}, {_V_COLS} FROM edges e JOIN vertices v ON v.vid = e.{far}"
        f" WHERE {d.within('e.' + near, n_keys)}{_label_cond(d, 'e.label', n_labels)}"
        # (near, eid): what the (vid, label, eid) edge indexes deliver without a sort
        f" ORDER BY e.{near}, e.eid"
    )


def _keys_labels(
    name: str, sql_for: Any, keys: Sequence[int], labels: Sequence[str] | None, lead: Sequence[Any] = ()
) -> Bound:
    """``sql_for(keys' shape, labels' shape)`` with its parameters: ``lead`` (the text's
    parameters before the lists), the row keys, then the labels when given."""
    d = dialect(name)
    params: list[Any] = list(lead)
    d.bind(params, keys)
    if labels is not None:
        d.bind(params, labels)
    return sql_for(d.size(keys), d.size(labels)), params


def adjacent(name: str, out: bool, keys: Sequence[int], labels: Sequence[str] | None) -> Bound:
    """Rows ``(near, vid, id_num, id_str, id_type, label)``: the vertex at the far end of each
    edge of the vertices ``keys``, grouped by near vertex, in edge order."""
    return _keys_labels(name, lambda n, m: _adjacent_sql(name, out, n, m), keys, labels)


@functools.lru_cache(maxsize=1024)
def _degrees_sql(name: str, out: bool, n_keys: int | None, n_labels: int | None) -> str:
    d = dialect(name)
    near, _ = _sides(out)
    return (
        f"SELECT {near}, count(*) FROM edges WHERE {d.within(near, n_keys)}"
        f"{_label_cond(d, 'label', n_labels)} GROUP BY {near}"
    )


def degrees(name: str, out: bool, keys: Sequence[int], labels: Sequence[str] | None) -> Bound:
    """Rows ``(near, count)``: how many edges each vertex of ``keys`` has on that side."""
    return _keys_labels(name, lambda n, m: _degrees_sql(name, out, n, m), keys, labels)


@functools.lru_cache(maxsize=1024)
def _vertex_properties_sql(name: str, n_keys: int | None, n_names: int | None) -> str:
    d = dialect(name)
    names = _label_cond(d, "p.key", n_names)
    return (
        "SELECT p.vid, p.pid, p.id_num, p.id_str, p.id_type, p.key, p.vtype, p.vnum, p.vstr,"
        " m.key, m.vtype, m.vnum, m.vstr"
        " FROM vertex_properties p LEFT OUTER JOIN meta_properties m ON m.pid = p.pid"
        f" WHERE {d.within('p.vid', n_keys)}{names} ORDER BY p.pid, m.mid"
    )


def vertex_properties(name: str, keys: Sequence[int], names: Sequence[str] | None) -> Bound:
    """Rows of the vertex properties (with their meta-properties, one row each) of ``keys``."""
    return _keys_labels(name, lambda n, m: _vertex_properties_sql(name, n, m), keys, names)


@functools.lru_cache(maxsize=1024)
def _vertex_values_sql(name: str, n_keys: int | None, n_names: int | None) -> str:
    d = dialect(name)
    return (
        f"SELECT vid, vtype, vnum, vstr FROM vertex_properties WHERE {d.within('vid', n_keys)}"
        f" AND {d.within('key', n_names, 'text')} ORDER BY pid"
    )


def vertex_values(name: str, keys: Sequence[int], names: Sequence[str]) -> Bound:
    """Rows ``(vid, vtype, vnum, vstr)``: the values of properties ``names`` of ``keys``."""
    return _keys_labels(name, lambda n, m: _vertex_values_sql(name, n, m), keys, names)


@functools.lru_cache(maxsize=1024)
def _adjacent_values_sql(name: str, out: bool, n_keys: int | None, n_labels: int | None) -> str:
    d = dialect(name)
    near, far = _sides(out)
    return (
        f"SELECT e.{near}, e.eid, e.{far}, p.vtype, p.vnum, p.vstr"
        f" FROM edges e JOIN vertex_properties p ON p.vid = e.{far} AND p.key = {d.mark}"
        f" WHERE {d.within('e.' + near, n_keys)}{_label_cond(d, 'e.label', n_labels)}"
        f" ORDER BY e.{near}, e.eid, p.pid"
    )


def adjacent_values(
    name: str, out: bool, keys: Sequence[int], labels: Sequence[str] | None, key: str
) -> Bound:
    """Rows ``(near, eid, far, vtype, vnum, vstr)``: the values of property ``key`` of the
    vertex at the far end of each edge, by near vertex, edge, then property order. Edges whose
    far vertex has no such property give no row."""
    return _keys_labels(name, lambda n, m: _adjacent_values_sql(name, out, n, m), keys, labels, (key,))


@functools.lru_cache(maxsize=1024)
def _walk_count_sql(name: str, n_starts: int, hops: tuple[tuple[tuple[bool, ...], int | None], ...]) -> str:
    d = dialect(name)
    if d.pg:
        ctes = [f"s0(v, n) AS (SELECT * FROM unnest({d.mark}::bigint[], {d.mark}::bigint[]))"]
    else:
        ctes = [f"s0(v, n) AS (VALUES {', '.join(['(?, ?)'] * n_starts)})"]

    def joins(i: int, sides: tuple[bool, ...], n_labels: int | None, far_col: bool) -> str:
        parts = []
        for out in sides:
            near, far = _sides(out)
            pick = f"e.{far} AS v, " if far_col else ""
            parts.append(
                f"SELECT {pick}s.n AS n FROM s{i} s JOIN edges e ON e.{near} = s.v"
                f"{_label_cond(d, 'e.label', n_labels)}"
            )
        return " UNION ALL ".join(parts)

    last = len(hops) - 1
    for i, (sides, n_labels) in enumerate(hops[:last]):
        ctes.append(
            f"s{i + 1}(v, n) AS (SELECT v, sum(n) FROM ({joins(i, sides, n_labels, True)}) h GROUP BY v)"
        )
    sides, n_labels = hops[last]
    return f"WITH {', '.join(ctes)} SELECT sum(n) FROM ({joins(last, sides, n_labels, False)}) h"


def walk_count(
    name: str,
    starts: Sequence[tuple[int, int]],
    hops: Sequence[tuple[tuple[bool, ...], Sequence[str] | None]],
) -> Bound:
    """One row ``(total,)``: how many walks leave the vertices ``starts`` (row key, weight) along
    ``hops`` (the edge sides to follow, True for out-edges, and the edge labels, None for any),
    each walk counted ``weight`` times. Hop by hop, the frontier is summed per vertex, so the cost
    grows with the edges read, never with the number of walks."""
    d = dialect(name)
    params: list[Any] = []
    if d.pg:
        params += ([v for v, _ in starts], [n for _, n in starts])
    else:
        for v, n in starts:
            params += (v, n)
    shape = []
    for sides, labels in hops:
        for _ in sides:
            if labels is not None:
                d.bind(params, labels)
        shape.append((tuple(sides), d.size(labels)))
    return _walk_count_sql(name, 0 if d.pg else len(starts), tuple(shape)), params
