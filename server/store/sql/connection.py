"""SqlConnection: the store interface over one SQLAlchemy connection (SQLite or PostgreSQL).

Every read takes N elements and issues one statement per chunk of ``CHUNK`` row keys (never one
per element). Elements carry their row key in ``ref``; elements without one (sent by a client)
are resolved by id in one extra query. Statements are built once per shape and cached, so the
per-call cost is binding parameters, not compiling SQL. The hot reads (lookup by property value,
adjacency, properties, degrees, neighbours' values, walk counts) go further: their text comes from
:mod:`server.store.sql.queries` and runs on the DBAPI cursor (:meth:`SqlConnection._fetch`).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from server.store.errors import DuplicateId, ElementNotFound, InvalidValue, TransactionError
from server.store.filters import matches, values_equal
from server.store.interface import ElementQuery, GraphConnection, PropertyFilter
from server.store.sql import queries as Q
from server.store.sql import schema as S
from server.store.sql.codec import decode_id, decode_value, encode_id, encode_value, sql_number, try_encode_id
from server.store.sql.engine import translate_errors
from server.store.sql.predicates import condition
from server.store.sql.schema import VIDX_CHARS
from server.structure import Cardinality, Direction, Edge, Property, Vertex, VertexProperty
from server.structure.values import ValueType, is_number

CHUNK = 900
"""Most row keys or ids bound into one IN list."""

_SIDES = {Direction.OUT: (True,), Direction.IN: (False,), Direction.BOTH: (True, False)}
_EXACT_DOUBLE = 2**53

_FIRST_PAGE = 200
_PAGE = 5000
_LONG = int(ValueType.LONG)
_V, _E, _P = S.vertices, S.edges, S.vertex_properties
_OUT_V, _IN_V = _V.alias("ov"), _V.alias("iv")


def _keys(name: str = "keys") -> sa.BindParameter:
    return sa.bindparam(name, expanding=True)


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- statements, built once ----------------------------------------------------------------------

_V_COLS = (_V.c.vid, _V.c.id_num, _V.c.id_str, _V.c.id_type, _V.c.label)
_E_COLS = (
    _E.c.eid,
    _E.c.id_num,
    _E.c.id_str,
    _E.c.id_type,
    _E.c.label,
    _E.c.out_vid,
    _OUT_V.c.id_num,
    _OUT_V.c.id_str,
    _OUT_V.c.id_type,
    _OUT_V.c.label,
    _E.c.in_vid,
    _IN_V.c.id_num,
    _IN_V.c.id_str,
    _IN_V.c.id_type,
    _IN_V.c.label,
)
_E_FROM = _E.join(_OUT_V, _OUT_V.c.vid == _E.c.out_vid).join(_IN_V, _IN_V.c.vid == _E.c.in_vid)


@functools.cache
def _incident_stmt(out: bool, with_labels: bool) -> sa.Select:
    near = _E.c.out_vid if out else _E.c.in_vid
    stmt = sa.select(near.label("near"), *_E_COLS).select_from(_E_FROM).where(near.in_(_keys()))
    if with_labels:
        stmt = stmt.where(_E.c.label.in_(_keys("labels")))
    # (near, eid) rather than eid alone: the same order for each vertex (callers group by near),
    # but one that the (vid, label, eid) edge indexes deliver without a sort, and that steers the
    # planner to them rather than to the label index (which reads every edge with that label)
    return stmt.order_by(near, _E.c.eid)


@functools.cache
def _eprops_stmt(with_keys: bool) -> sa.Select:
    ep = S.edge_properties
    stmt = sa.select(ep.c.eid, ep.c.key, ep.c.vtype, ep.c.vnum, ep.c.vstr).where(ep.c.eid.in_(_keys()))
    if with_keys:
        stmt = stmt.where(ep.c.key.in_(_keys("names")))
    return stmt.order_by(ep.c.seq)


@functools.cache
def _values_stmt(props_name: str) -> sa.Select:
    props = S.metadata.tables[props_name]
    owner = props.c.vid if props_name == "vertex_properties" else props.c.eid
    return sa.select(owner, props.c.vtype, props.c.vnum, props.c.vstr).where(
        owner.in_(_keys()), props.c.key == sa.bindparam("name")
    )


@functools.cache
def _id_lookup_stmt(table_name: str, by_num: bool) -> sa.Select:
    t = S.metadata.tables[table_name]
    pk = t.primary_key.columns.values()[0]
    column = t.c.id_num if by_num else t.c.id_str
    return sa.select(pk, t.c.id_num, t.c.id_str, t.c.id_type).where(column.in_(_keys()))


def _vertex(row: Sequence[Any], at: int = 0) -> Vertex:
    vid, num, text, kind, label = row[at : at + 5]
    return Vertex(decode_id(num, text, kind), label, ref=vid)


def _edge(row: Sequence[Any], at: int = 0) -> Edge:
    eid, num, text, kind, label = row[at : at + 5]
    return Edge(decode_id(num, text, kind), label, _vertex(row, at + 5), _vertex(row, at + 10), ref=eid)


class SqlConnection(GraphConnection):
    """One pooled SQLAlchemy connection and its transaction."""

    def __init__(self, conn: sa.Connection, dialect: str) -> None:
        self._conn: sa.Connection | None = conn
        self._dialect = dialect

    # -- transactions ------------------------------------------------------------------------

    @contextmanager
    def atomic(self) -> Iterator[None]:
        conn = self._c
        with translate_errors():
            tx = conn.begin_nested() if conn.in_transaction() else conn.begin()
            with tx:
                yield

    def commit(self) -> None:
        conn = self._c
        if conn.in_transaction():
            with translate_errors():
                conn.commit()

    def rollback(self) -> None:
        if self._conn is not None and self._conn.in_transaction():
            self._conn.rollback()

    def close(self) -> None:
        if self._conn is not None:
            self.rollback()
            self._conn.close()
            self._conn = None

    @property
    def _c(self) -> sa.Connection:
        if self._conn is None:
            raise TransactionError("the connection is closed")
        return self._conn

    @property
    def sa_connection(self) -> sa.Connection:
        """The underlying SQLAlchemy connection (for the bulk loader)."""
        return self._c

    @property
    def dialect(self) -> str:
        return self._dialect

    def _run(self, stmt: sa.Executable, params: Any = None) -> sa.CursorResult:
        with translate_errors():
            return self._c.execute(stmt, params)

    def _fetch(self, bound: Q.Bound) -> list[Sequence[Any]]:
        """All rows of a prepared text statement, run on the DBAPI cursor (see
        :mod:`server.store.sql.queries`) inside the connection's transaction."""
        conn = self._c
        sql, params = bound
        with translate_errors():
            if not conn.in_transaction():
                conn.begin()  # what SQLAlchemy's autobegin would do (BEGIN on SQLite)
            dbapi_conn = conn.connection.driver_connection
            dbapi = conn.dialect.loaded_dbapi
            try:
                cursor = dbapi_conn.cursor()
                try:
                    cursor.execute(sql, params)
                    return cursor.fetchall()
                finally:
                    cursor.close()
            except dbapi.Error as exc:  # wrapped like SQLAlchemy does, for translate_errors
                raise sa.exc.DBAPIError.instance(sql, params, exc, dbapi.Error) from exc

    def _each_chunk(self, keys: Sequence[int], make: Any) -> list[Sequence[Any]]:
        """Rows of ``make(chunk)`` for each chunk of ``keys`` (bounded IN lists)."""
        if len(keys) <= CHUNK:
            return self._fetch(make(keys))
        rows: list[Sequence[Any]] = []
        for part in chunks(keys):
            rows += self._fetch(make(part))
        return rows

    # -- id resolution -----------------------------------------------------------------------

    def _lookup_ids(self, table: sa.Table, ids: Iterable[Any]) -> dict[tuple, tuple]:
        """Rows ``(pk, id_num, id_str, id_type)`` by encoded id key ``("n", num)``/``("s", str, type)``."""
        nums, strs = set(), set()
        for id in ids:
            enc = try_encode_id(id)
            if enc is None:
                continue
            if enc[0] is not None:
                nums.add(enc[0])
            else:
                strs.add(enc[1])
        found: dict[tuple, tuple] = {}
        for by_num, wanted in ((True, nums), (False, strs)):
            stmt = _id_lookup_stmt(table.name, by_num)
            for part in chunks(sorted(wanted)):
                for row in self._run(stmt, {"keys": list(part)}):
                    found[_row_key(row[1], row[2], row[3])] = tuple(row)
        return found

    def _resolve(self, table: sa.Table, elements: Sequence[Any]) -> list[int | None]:
        """Row keys of elements (their ``ref`` when it is one of ours, else looked up by id)."""
        keys: list[int | None] = [e.ref if isinstance(e.ref, int) else None for e in elements]
        missing = [e.id for e, k in zip(elements, keys, strict=True) if k is None]
        if missing:
            found = self._lookup_ids(table, missing)
            for i, e in enumerate(elements):
                if keys[i] is None:
                    enc = try_encode_id(e.id)
                    row = found.get(_id_key(enc)) if enc else None
                    keys[i] = row[0] if row else None
        return keys

    def _resolve_sorted(self, table: sa.Table, elements: Sequence[Any]) -> tuple[list[int | None], list[int]]:
        """:meth:`_resolve`, and the distinct row keys found, sorted (what the reads bind)."""
        keys = self._resolve(table, elements)
        return keys, sorted({k for k in keys if k is not None})

    def _resolve_one(self, table: sa.Table, element: Any, what: str) -> int:
        [key] = self._resolve(table, [element])
        if key is None:
            raise ElementNotFound(f"{what} {element.id!r} does not exist")
        return key

    # -- scans -------------------------------------------------------------------------------

    def vertices(self, query: ElementQuery = ElementQuery()) -> Iterator[Vertex]:
        simple = _simple_filters(query)
        rows = self._scan(_V, query) if simple is None else self._find_vertices(query.labels, simple)
        for row in rows:
            yield _vertex(row)

    def _find_vertices(
        self, labels: Sequence[str] | None, filters: list[tuple[str, str, Any]]
    ) -> Iterator[Sequence[Any]]:
        """:meth:`_scan` for the common lookup (labels, exact equality on strings or numbers)
        with a prepared text statement; pages the same way."""
        labels = None if labels is None else list(labels)
        last, page = None, _FIRST_PAGE
        while True:
            rows = self._fetch(Q.find_vertices(self._dialect, labels, filters, last, page))
            yield from rows
            if len(rows) < page:
                return
            last, page = rows[-1][0], _PAGE

    def scan_values(self, query: ElementQuery, key: str) -> Iterator[list[list[Any]]]:
        simple = _simple_filters(query)
        if simple is None:
            yield from super().scan_values(query, key)
            return
        labels = None if query.labels is None else list(query.labels)
        after, limit = None, _PAGE
        while True:
            rows = self._fetch(Q.found_values(self._dialect, labels, simple, key, after, limit))
            full = len(rows) == limit
            if full:  # the last vertex may have more values past the limit: it starts the next page
                cut = len(rows) - 1
                while cut > 0 and rows[cut - 1][0] == rows[-1][0]:
                    cut -= 1
                if cut == 0:  # one vertex fills the page: read it again with room for all its values
                    limit *= 2
                    continue
                rows = rows[:cut]
            page: list[list[Any]] = []
            seen = None
            for vid, vtype, vnum, vstr in rows:  # by (vertex, property order)
                if vid != seen:
                    page.append([])
                    seen = vid
                page[-1].append(decode_value(vtype, vnum, vstr))
            yield page
            if not full:
                return
            after, limit = rows[-1][0], _PAGE

    def edges(self, query: ElementQuery = ElementQuery()) -> Iterator[Edge]:
        for row in self._scan(_E, query):
            yield _edge(row)

    def count_vertices(self, query: ElementQuery = ElementQuery()) -> int:
        simple = _simple_filters(query)
        if simple is not None:  # the common shapes: a prepared statement, as for vertices()
            labels = None if query.labels is None else list(query.labels)
            return int(self._fetch(Q.count_vertices(self._dialect, labels, simple))[0][0])
        return self._count(_V, query)

    def count_edges(self, query: ElementQuery = ElementQuery()) -> int:
        return self._count(_E, query)

    def _base(self, table: sa.Table) -> tuple[sa.Select, sa.Column]:
        if table is _V:
            return sa.select(*_V_COLS), _V.c.vid
        return sa.select(*_E_COLS).select_from(_E_FROM), _E.c.eid

    def _where(self, table: sa.Table, query: ElementQuery) -> tuple[list, list]:
        """SQL conditions for labels and filters, and the filters that need a recheck."""
        pk = _V.c.vid if table is _V else _E.c.eid
        props = _P if table is _V else S.edge_properties
        owner = props.c.vid if table is _V else props.c.eid
        where: list = []
        if query.labels is not None:
            where.append(table.c.label.in_(list(query.labels)) if query.labels else sa.false())
        recheck = []
        for flt in query.filters:
            clause, exact = condition(props, flt)
            where.append(pk.in_(sa.select(owner).where(clause)))
            if not exact:
                recheck.append(flt)
        return where, recheck

    def _scan(self, table: sa.Table, query: ElementQuery) -> Iterator[Sequence[Any]]:
        if query.ids is not None and table is _V and not query.filters:
            # g.V(ids), with hasLabel at most: the prepared statement of queries.py
            labels = None if query.labels is None else list(query.labels)

            def by_ids(column: sa.Column, part: list[Any]) -> list[Sequence[Any]]:
                return self._fetch(Q.vertices_by_ids(self._dialect, column.name, part, labels))

            yield from self._scan_ids(table, by_ids, list(query.ids))
            return
        stmt, pk = self._base(table)
        where, recheck = self._where(table, query)
        if query.ids is not None:

            def fetch(column: sa.Column, part: list[Any]) -> list[Sequence[Any]]:
                rows = self._run(stmt.where(column.in_(part), *where)).all()
                return self._recheck(table, rows, recheck)

            yield from self._scan_ids(table, fetch, list(query.ids))
            return
        last, page = None, _FIRST_PAGE
        while True:
            paged = stmt.where(*where)
            if last is not None:
                paged = paged.where(pk > last)
            rows = self._run(paged.order_by(pk).limit(page)).all()
            if not rows:
                return
            yield from self._recheck(table, rows, recheck)
            if len(rows) < page:
                return
            last, page = rows[-1][0], _PAGE

    def _scan_ids(
        self, table: sa.Table, fetch: Callable[[sa.Column, list[Any]], list[Sequence[Any]]], ids: list[Any]
    ) -> Iterator[Sequence[Any]]:
        """The rows of ``ids`` in the order asked (repeats repeat, unknown ids are skipped);
        ``fetch(id column, some ids)`` reads the rows of those ids that pass the query."""
        ids = [getattr(i, "id", i) for i in ids]  # an element stands for its id
        encoded = [try_encode_id(i) for i in ids]
        nums = sorted({e[0] for e in encoded if e and e[0] is not None})
        strs = sorted({e[1] for e in encoded if e and e[0] is None})
        found: dict[tuple, Sequence[Any]] = {}
        for column, wanted in ((table.c.id_num, nums), (table.c.id_str, strs)):
            for part in chunks(wanted):
                for row in fetch(column, list(part)):
                    found[_row_key(row[1], row[2], row[3])] = row
        for enc in encoded:
            row = found.get(_id_key(enc)) if enc else None
            if row is not None:
                yield row

    def _recheck(self, table: sa.Table, rows: Sequence[Sequence[Any]], recheck: list) -> list:
        """Rows whose property values really satisfy the filters SQL only narrowed."""
        if not recheck or not rows:
            return list(rows)
        props_name = "vertex_properties" if table is _V else "edge_properties"
        keep = {row[0] for row in rows}
        for flt in recheck:
            ok = set()
            for part in chunks(sorted(keep)):
                for owner, vtype, vnum, vstr in self._run(
                    _values_stmt(props_name), {"keys": list(part), "name": flt.key}
                ):
                    if owner not in ok and matches(flt, decode_value(vtype, vnum, vstr)):
                        ok.add(owner)
            keep &= ok
        return [row for row in rows if row[0] in keep]

    def _count(self, table: sa.Table, query: ElementQuery) -> int:
        where, recheck = self._where(table, query)
        if query.ids is not None or recheck:
            return sum(1 for _ in self._scan(table, query))
        stmt = sa.select(sa.func.count()).select_from(table).where(*where)
        return int(self._run(stmt).scalar_one())

    # -- adjacency ---------------------------------------------------------------------------

    def _per_vertex(
        self,
        vertices: Sequence[Vertex],
        direction: Direction,
        labels: Sequence[str] | None,
        fetch: Callable[[bool, list[int], list[str] | None], list[Sequence[Any]]],
        collect: Callable[[list[Sequence[Any]]], dict[int, list[Any]]],
    ) -> list[list[Any]]:
        """The adjacency reads' common frame: for each edge side of ``direction``, ``fetch(out,
        row keys, labels)`` gives the rows and ``collect`` groups them by near vertex; each vertex
        gets its out-side items, then its in-side ones."""
        keys, wanted, labels = self._adjacency_args(vertices, labels)
        if labels == [] or not wanted:
            return [[] for _ in vertices]
        by_side = [collect(fetch(out, wanted, labels)) for out in _SIDES[direction]]
        if len(by_side) == 1:
            [found] = by_side
            return [found.get(k, []) if k is not None else [] for k in keys]
        return [[x for found in by_side for x in found.get(k, ())] if k is not None else [] for k in keys]

    def _incident_rows(self, out: bool, wanted: list[int], labels: list[str] | None) -> list[Sequence[Any]]:
        stmt = _incident_stmt(out, labels is not None)
        rows: list[Sequence[Any]] = []
        for part in chunks(wanted):
            params: dict[str, Any] = {"keys": list(part)}
            if labels is not None:
                params["labels"] = labels
            rows += self._run(stmt, params).all()  # fetchall: far cheaper than row by row
        return rows

    def incident_edges(
        self, vertices: Sequence[Vertex], direction: Direction, labels: Sequence[str] | None = None
    ) -> list[list[Edge]]:
        return self._per_vertex(
            vertices,
            direction,
            labels,
            self._incident_rows,
            lambda rows: _group_rows(rows, lambda r: _edge(r, 1)),
        )

    def adjacent_vertices(
        self, vertices: Sequence[Vertex], direction: Direction, labels: Sequence[str] | None = None
    ) -> list[list[Vertex]]:
        seen: dict[int, Vertex] = {}  # one object per neighbour, however many edges lead to it

        def neighbour(row: Sequence[Any]) -> Vertex:
            v = seen.get(row[1])
            if v is None:
                v = seen[row[1]] = _vertex(row, 1)
            return v

        return self._per_vertex(
            vertices,
            direction,
            labels,
            lambda out, wanted, labels: self._each_chunk(
                wanted, lambda part: Q.adjacent(self._dialect, out, part, labels)
            ),
            lambda rows: _group_rows(rows, neighbour),
        )

    def _adjacency_args(
        self, vertices: Sequence[Vertex], labels: Sequence[str] | None
    ) -> tuple[list[int | None], list[int], list[str] | None]:
        """Row keys of ``vertices``, the distinct known ones sorted, and the labels as a list."""
        keys, wanted = self._resolve_sorted(_V, vertices)
        return keys, wanted, None if labels is None else list(labels)

    def degrees(
        self, vertices: Sequence[Vertex], direction: Direction, labels: Sequence[str] | None = None
    ) -> list[int]:
        keys, wanted, labels = self._adjacency_args(vertices, labels)
        total: dict[int, int] = defaultdict(int)
        if wanted and labels != []:
            for out in _SIDES[direction]:
                for vid, n in self._each_chunk(
                    wanted, lambda part, out=out: Q.degrees(self._dialect, out, part, labels)
                ):
                    total[vid] += int(n)
        return [total.get(k, 0) if k is not None else 0 for k in keys]

    def adjacent_values(
        self,
        vertices: Sequence[Vertex],
        direction: Direction,
        labels: Sequence[str] | None,
        key: str,
    ) -> list[list[tuple[Any, list[Any]]]]:
        def by_edge(rows: list[Sequence[Any]]) -> dict[int, list[tuple[Any, list[Any]]]]:
            found: dict[int, list[tuple[Any, list[Any]]]] = defaultdict(list)
            last_eid = None
            for near, eid, far, vtype, vnum, vstr in rows:
                if eid != last_eid:  # rows come by (near, eid): one entry per edge
                    entry: list[Any] = []
                    found[near].append((far, entry))
                    last_eid = eid
                entry.append(decode_value(vtype, vnum, vstr))
            return found

        return self._per_vertex(
            vertices,
            direction,
            labels,
            lambda out, wanted, labels: self._each_chunk(
                wanted, lambda part: Q.adjacent_values(self._dialect, out, part, labels, key)
            ),
            by_edge,
        )

    def walk_count(
        self,
        vertices: Sequence[Vertex],
        hops: Sequence[tuple[Direction, Sequence[str] | None]],
        bulks: Sequence[int] | None = None,
    ) -> int:
        if not hops:
            raise ValueError("walk_count needs at least one hop")
        keys = self._resolve(_V, vertices)
        weights: dict[int, int] = defaultdict(int)
        for i, k in enumerate(keys):
            if k is not None:
                weights[k] += 1 if bulks is None else bulks[i]
        shape = []
        for direction, labels in hops:
            labels = None if labels is None else list(labels)
            if labels == []:
                return 0
            shape.append((_SIDES[direction], labels))
        starts = sorted(weights.items())
        total = 0
        for part in chunks(starts):
            [(found,)] = self._fetch(Q.walk_count(self._dialect, part, shape))
            total += int(found or 0)
        return total

    # -- properties --------------------------------------------------------------------------

    def vertex_properties(
        self, vertices: Sequence[Vertex], keys: Sequence[str] | None = None
    ) -> list[list[VertexProperty]]:
        vids, wanted = self._resolve_sorted(_V, vertices)
        names = None if keys is None else list(keys)
        rows_by_vid: dict[int, list] = defaultdict(list)
        if wanted and names != []:
            for row in self._each_chunk(wanted, lambda part: Q.vertex_properties(self._dialect, part, names)):
                rows_by_vid[row[0]].append(row)
        answer = []
        for vertex, vid in zip(vertices, vids, strict=True):
            props: list[VertexProperty] = []
            for row in rows_by_vid.get(vid, ()) if vid is not None else ():
                if not props or props[-1].ref != row[1]:
                    vp = VertexProperty(
                        decode_id(row[2], row[3], row[4]),
                        row[5],
                        decode_value(row[6], row[7], row[8]),
                        vertex,
                        ref=row[1],
                        properties=[],
                    )
                    props.append(vp)
                if row[9] is not None:
                    props[-1].properties.append(
                        Property(row[9], decode_value(row[10], row[11], row[12]), props[-1])
                    )
            answer.append(props)
        return answer

    def vertex_values(self, vertices: Sequence[Vertex], keys: Sequence[str]) -> list[list[Any]]:
        vids, wanted = self._resolve_sorted(_V, vertices)
        names = list(keys)
        found: dict[int, list[Any]] = defaultdict(list)
        if wanted and names:
            for vid, vtype, vnum, vstr in self._each_chunk(
                wanted, lambda part: Q.vertex_values(self._dialect, part, names)
            ):
                found[vid].append(decode_value(vtype, vnum, vstr))
        return [found.get(vid, []) if vid is not None else [] for vid in vids]

    def edge_properties(
        self, edges: Sequence[Edge], keys: Sequence[str] | None = None
    ) -> list[list[Property]]:
        eids, wanted = self._resolve_sorted(_E, edges)
        names = None if keys is None else list(keys)
        rows_by_eid: dict[int, list] = defaultdict(list)
        if wanted and names != []:
            stmt = _eprops_stmt(names is not None)
            for part in chunks(wanted):
                params: dict[str, Any] = {"keys": list(part)}
                if names is not None:
                    params["names"] = names
                for row in self._run(stmt, params).all():
                    rows_by_eid[row[0]].append(row)
        return [
            [Property(r[1], decode_value(r[2], r[3], r[4]), edge) for r in rows_by_eid.get(eid, ())]
            if eid is not None
            else []
            for edge, eid in zip(edges, eids, strict=True)
        ]

    # -- ids for writes ----------------------------------------------------------------------

    def allocate_ids(self, n: int) -> list[int]:
        """``n`` fresh generated ids (Int64 values), from the counter shared by all kinds."""
        if n <= 0:
            return []
        if self._dialect == "postgresql":
            # One nextval per id (a range taken with setval could overlap another session's
            # nextval). Usually they come out consecutive: then only the bounds travel back.
            stmt = sa.text(
                "SELECT min(v), max(v), CASE WHEN max(v) - min(v) + 1 = count(*) THEN NULL "
                f"ELSE array_agg(v) END FROM (SELECT nextval('{S.ID_SEQUENCE}') AS v "
                "FROM generate_series(1, :n)) AS ids"
            )
            low, high, scattered = self._run(stmt, {"n": n}).one()
            return list(range(low, high + 1)) if scattered is None else sorted(scattered)
        stmt = sa.text("UPDATE seer_counters SET value = value + :n WHERE name = 'ids' RETURNING value")
        top = int(self._run(stmt, {"n": n}).scalar_one())
        return list(range(top - n + 1, top + 1))

    def reserve_ids(self, highest: int) -> None:
        """Make sure generated ids stay above a user-supplied numeric id ``highest``."""
        if self._dialect == "postgresql":
            stmt = sa.text(
                f"SELECT setval('{S.ID_SEQUENCE}', greatest(:m, (SELECT last_value FROM {S.ID_SEQUENCE})))"
            )
        else:
            stmt = sa.text("UPDATE seer_counters SET value = max(value, :m) WHERE name = 'ids'")
        self._run(stmt, {"m": highest})

    def _new_id(self, table: sa.Table, id: Any, what: str) -> tuple[int | None, str | None, int]:
        """Id columns for a new element: a generated Int64, or ``id`` checked for duplicates."""
        if id is None:
            return self.allocate_ids(1)[0], None, _LONG
        enc = encode_id(id)
        if self._lookup_ids(table, [id]):
            raise DuplicateId(f"{what} with id {id!r} already exists")
        if enc[0] is not None:
            self.reserve_ids(enc[0])
        return enc

    # -- writes ------------------------------------------------------------------------------

    def add_vertex(self, label: str, id: Any = None) -> Vertex:
        _check_label(label)
        num, text, kind = self._new_id(_V, id, "a vertex")
        stmt = sa.insert(_V).values(id_num=num, id_str=text, id_type=kind, label=label).returning(_V.c.vid)
        vid = self._run(stmt).scalar_one()
        return Vertex(decode_id(num, text, kind), label, ref=vid)

    def _fetch_vertices(self, vertices: Sequence[Vertex]) -> list[Vertex]:
        keys = self._resolve(_V, vertices)
        for v, k in zip(vertices, keys, strict=True):
            if k is None:
                raise ElementNotFound(f"vertex {v.id!r} does not exist")
        rows = {r[0]: r for r in self._run(sa.select(*_V_COLS).where(_V.c.vid.in_(list(set(keys)))))}
        missing = [v.id for v, k in zip(vertices, keys, strict=True) if k not in rows]
        if missing:
            raise ElementNotFound(f"vertex {missing[0]!r} does not exist")
        return [_vertex(rows[k]) for k in keys]

    def add_edge(self, label: str, out_v: Vertex, in_v: Vertex, id: Any = None) -> Edge:
        _check_label(label)
        tail, head = self._fetch_vertices([out_v, in_v])
        num, text, kind = self._new_id(_E, id, "an edge")
        stmt = (
            sa.insert(_E)
            .values(id_num=num, id_str=text, id_type=kind, label=label, out_vid=tail.ref, in_vid=head.ref)
            .returning(_E.c.eid)
        )
        eid = self._run(stmt).scalar_one()
        return Edge(decode_id(num, text, kind), label, tail, head, ref=eid)

    def add_vertex_property(
        self,
        vertex: Vertex,
        key: str,
        value: Any,
        cardinality: Cardinality = Cardinality.single,
        id: Any = None,
        meta: Sequence[tuple[str, Any]] = (),
    ) -> VertexProperty:
        _check_key(key)
        encoded = encode_value(value)
        meta_rows = []
        for mk, mv in meta:
            _check_key(mk)
            meta_rows.append((mk, encode_value(mv)))
        [owner] = self._fetch_vertices([vertex])
        if cardinality is Cardinality.set_:
            for existing in self.vertex_properties([owner], [key])[0]:
                if values_equal(existing.value, value) and type(existing.value) is type(value):
                    return existing
        if cardinality is Cardinality.single:
            self._run(sa.delete(_P).where(_P.c.vid == owner.ref, _P.c.key == key))
        num, text, kind = self._new_id(_P, id, "a vertex property")
        vtype, vnum, vstr, vidx = encoded
        stmt = (
            sa.insert(_P)
            .values(
                id_num=num,
                id_str=text,
                id_type=kind,
                vid=owner.ref,
                key=key,
                vtype=vtype,
                vnum=vnum,
                vstr=vstr,
                vidx=vidx,
            )
            .returning(_P.c.pid)
        )
        pid = self._run(stmt).scalar_one()
        prop = VertexProperty(decode_id(num, text, kind), key, value, owner, ref=pid, properties=[])
        if meta_rows:
            last = dict(meta_rows)  # a repeated meta key keeps its last value
            self._run(
                sa.insert(S.meta_properties),
                [_value_row(enc, pid=pid, key=mk) for mk, enc in last.items()],
            )
            prop.properties = [
                Property(mk, decode_value(enc[0], enc[1], enc[2]), prop) for mk, enc in last.items()
            ]
        return prop

    def set_edge_property(self, edge: Edge, key: str, value: Any) -> Property:
        _check_key(key)
        encoded = encode_value(value)
        eid = self._resolve_one(_E, edge, "edge")
        ep = S.edge_properties
        self._run(sa.delete(ep).where(ep.c.eid == eid, ep.c.key == key))
        self._run(sa.insert(ep).values(_value_row(encoded, eid=eid, key=key)))
        return Property(key, value, edge)

    def set_meta_property(self, vertex_property: VertexProperty, key: str, value: Any) -> Property:
        _check_key(key)
        encoded = encode_value(value)
        pid = self._resolve_one(_P, vertex_property, "vertex property")
        m = S.meta_properties
        self._run(sa.delete(m).where(m.c.pid == pid, m.c.key == key))
        self._run(sa.insert(m).values(_value_row(encoded, pid=pid, key=key)))
        return Property(key, value, vertex_property)

    def _delete_keys(self, table: sa.Table, keys: Iterable[int | None]) -> None:
        pk = table.primary_key.columns.values()[0]
        wanted = sorted({k for k in keys if k is not None})
        for part in chunks(wanted):
            self._run(sa.delete(table).where(pk.in_(list(part))))

    def remove_vertices(self, vertices: Sequence[Vertex]) -> None:
        self._delete_keys(_V, self._resolve(_V, vertices))

    def remove_edges(self, edges: Sequence[Edge]) -> None:
        self._delete_keys(_E, self._resolve(_E, edges))

    def remove_vertex_properties(self, vertex_properties: Sequence[VertexProperty]) -> None:
        self._delete_keys(_P, self._resolve(_P, vertex_properties))

    def remove_properties(self, properties: Sequence[Property]) -> None:
        on_edges, on_props = [], []
        for prop in properties:
            if isinstance(prop.element, Edge):
                on_edges.append(prop)
            elif isinstance(prop.element, VertexProperty):
                on_props.append(prop)
            else:
                raise InvalidValue(f"{prop!r} belongs to no edge or vertex property")
        for items, table, owners, column in (
            (on_edges, S.edge_properties, _E, "eid"),
            (on_props, S.meta_properties, _P, "pid"),
        ):
            if not items:
                continue
            keys = self._resolve(owners, [p.element for p in items])
            params = [{"o": k, "k": p.key} for p, k in zip(items, keys, strict=True) if k is not None]
            if params:
                stmt = sa.delete(table).where(
                    table.c[column] == sa.bindparam("o"), table.c.key == sa.bindparam("k")
                )
                self._run(stmt, params)

    def clear(self) -> None:
        for table in (S.meta_properties, S.vertex_properties, S.edge_properties, _E, _V):
            self._run(sa.delete(table))


def _group_rows(rows: list[Sequence[Any]], build: Callable[[Sequence[Any]], Any]) -> dict[int, list[Any]]:
    """``build(row)`` of each row, grouped by the row's first column (a near vertex's row key)."""
    found: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        found[row[0]].append(build(row))
    return found


def _simple_filters(query: ElementQuery) -> list[tuple[str, str, Any]] | None:
    """``(kind, key, value)`` when a vertex query is the common lookup that
    :func:`queries.find_vertices` answers exactly (no ids; every filter an equality on a string
    short enough for the indexed prefix, or on a number that a double holds exactly; no filter
    at all: a scan by label, or of every vertex), else None."""
    if query.ids is not None or (query.labels is not None and not query.labels):
        return None
    out = []
    for flt in query.filters:
        if not isinstance(flt, PropertyFilter) or flt.op != "eq" or not isinstance(flt.key, str):
            return None
        value = flt.value
        if type(value) is str and len(value) <= VIDX_CHARS:
            out.append(("s", flt.key, value))
        elif (
            is_number(value)
            and not isinstance(value, bool)
            and isinstance(value, (int, float))
            and value == value  # NaN equals nothing: the general path handles it
            and abs(value) < _EXACT_DOUBLE
        ):
            out.append(("n", flt.key, sql_number(value)))
        else:
            return None
    return out


def _value_row(encoded: tuple, **extra: Any) -> dict[str, Any]:
    vtype, vnum, vstr, vidx = encoded
    return {**extra, "vtype": vtype, "vnum": vnum, "vstr": vstr, "vidx": vidx}


def _row_key(num: int | None, text: str | None, kind: int) -> tuple:
    return ("n", num) if num is not None else ("s", text, kind)


def _id_key(enc: tuple | None) -> tuple | None:
    if enc is None:
        return None
    return _row_key(*enc)


def _check_label(label: str) -> None:
    if not isinstance(label, str) or not label:
        raise InvalidValue(f"label must be a non-empty string, not {label!r}")


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not key:
        raise InvalidValue(f"property key must be a non-empty string, not {key!r}")
