"""Where loaded records go. :class:`SqlSink` writes straight into the SQL tables in big batches
(COPY on PostgreSQL, ``executemany`` on SQLite) with row keys assigned here; :class:`StoreSink`
uses the public store interface and works with any backend (the memory store in tests).

Both check what the database would otherwise reject, before writing, so that a bad record becomes
one precise :class:`LoadIssue` and the rest of the batch still goes in: duplicate ids (within the
load and against what is stored) and edges whose ``~from``/``~to`` vertex does not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from server.store.errors import DuplicateId, ElementNotFound, InvalidValue
from server.store.interface import ElementQuery, GraphConnection
from server.store.loaders.records import EdgeRecord, LoadIssue, VertexRecord
from server.store.sql import schema as S
from server.store.sql.codec import encode_id, encode_value
from server.store.sql.connection import SqlConnection, chunks
from server.structure import Cardinality, Vertex
from server.structure.values import ValueType

_LONG = int(ValueType.LONG)
_CARD = {"single": Cardinality.single, "list": Cardinality.list_, "set": Cardinality.set_}


def _key(enc: tuple) -> Any:
    """Dict key of an encoded id: numbers by value, strings/UUIDs by (text, type)."""
    return enc[0] if enc[0] is not None else (enc[1], enc[2])


_STRING = int(ValueType.STRING)


def id_key(id: Any) -> Any:
    """:func:`_key` of a raw id. Raises InvalidValue for values that cannot be ids."""
    if type(id) is str:
        return (id, _STRING)
    return _key(encode_id(id))


class Counts:
    def __init__(self) -> None:
        self.vertices = self.edges = self.vertex_properties = self.edge_properties = 0


class SqlSink:
    """Bulk writer into the SQL schema, inside the caller's transaction on ``conn``."""

    def __init__(self, conn: SqlConnection) -> None:
        self.conn = conn
        self.sa = conn.sa_connection
        self.pg = conn.dialect == "postgresql"
        self.counts = Counts()
        self.vid_of: dict[Any, int] = {}
        self.edge_ids: set[Any] = set()
        self.vp_ids: set[Any] = set()
        conn.allocate_ids(0)
        # Take SQLite's write lock now (a no-op write) so the row keys read below stay ours.
        if not self.pg:
            self.sa.execute(sa.text("UPDATE seer_counters SET value = value WHERE name = 'ids'"))
        self.had_vertices = self._any(S.vertices)
        self.had_edges = self._any(S.edges)
        self.had_props = self._any(S.vertex_properties)
        self._next_key: dict[str, int] = {}

    def _any(self, table: sa.Table) -> bool:
        return self.sa.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is not None

    # -- row keys ----------------------------------------------------------------------------

    def _row_keys(self, table: sa.Table, n: int) -> list[int]:
        pk = table.primary_key.columns.values()[0]
        if n == 0:
            return []
        if self.pg:
            stmt = sa.text(
                f"SELECT nextval(pg_get_serial_sequence('{table.name}', '{pk.name}')) FROM generate_series(1, :n)"
            )
            return [int(x) for x in self.sa.execute(stmt, {"n": n}).scalars()]
        start = self._next_key.get(table.name)
        if start is None:
            start = int(self.sa.execute(sa.select(sa.func.coalesce(sa.func.max(pk), 0))).scalar_one()) + 1
        self._next_key[table.name] = start + n
        return list(range(start, start + n))

    def _existing(self, table: sa.Table, keys: Sequence[Any]) -> set[Any]:
        """Which id keys (see :func:`_key`) already exist in ``table``."""
        nums = [k for k in keys if not isinstance(k, tuple)]
        strs = sorted({k[0] for k in keys if isinstance(k, tuple)})
        found: set[Any] = set()
        for column, wanted in ((table.c.id_num, nums), (table.c.id_str, strs)):
            for part in chunks(wanted):
                stmt = sa.select(table.c.id_num, table.c.id_str, table.c.id_type).where(
                    column.in_(list(part))
                )
                found.update(_key(tuple(r)) for r in self.sa.execute(stmt))
        return found

    def _lookup_vids(self, keys: Sequence[Any]) -> dict[Any, int]:
        nums = [k for k in keys if not isinstance(k, tuple)]
        strs = sorted({k[0] for k in keys if isinstance(k, tuple)})
        v = S.vertices
        found: dict[Any, int] = {}
        for column, wanted in ((v.c.id_num, nums), (v.c.id_str, strs)):
            for part in chunks(wanted):
                stmt = sa.select(v.c.vid, v.c.id_num, v.c.id_str, v.c.id_type).where(column.in_(list(part)))
                for vid, num, text, kind in self.sa.execute(stmt):
                    found[_key((num, text, kind))] = vid
        return found

    # -- writing -----------------------------------------------------------------------------

    def write_vertices(self, batch: Sequence[VertexRecord]) -> list[LoadIssue]:
        issues: list[LoadIssue] = []
        accepted: list[tuple[VertexRecord, tuple, Any]] = []
        for rec in batch:
            try:
                enc = None if rec.id is None else encode_id(rec.id)
            except InvalidValue as exc:
                issues.append(LoadIssue("parse", rec.path, rec.line, _col(rec.id_column), str(exc)))
                continue
            key = None if enc is None else _key(enc)
            if key is not None and key in self.vid_of:
                issues.append(_dup("vertex", rec.id, rec.path, rec.line, _col(rec.id_column), "in this load"))
                continue
            if key is not None:
                self.vid_of[key] = -1  # reserved; the row key comes below
            accepted.append((rec, enc, key))
        if self.had_vertices:
            taken = self._existing(S.vertices, [k for _, _, k in accepted if k is not None])
            if taken:
                for rec, _, key in accepted:
                    if key in taken:
                        issues.append(
                            _dup("vertex", rec.id, rec.path, rec.line, _col(rec.id_column), "in the database")
                        )
                        del self.vid_of[key]  # edges to this id will find the stored vertex
                accepted = [a for a in accepted if a[2] not in taken]
        # property values (a bad value drops its vertex)
        good: list[tuple[VertexRecord, tuple, Any, list]] = []
        for rec, enc, key in accepted:
            try:
                props = [
                    (p, encode_value(p.value), [(mk, encode_value(mv)) for mk, mv in p.meta])
                    for p in rec.props
                ]
                for p in rec.props:
                    if p.id is not None:
                        encode_id(p.id)
            except InvalidValue as exc:
                issues.append(LoadIssue("insert", rec.path, rec.line, None, str(exc)))
                self.vid_of.pop(key, None)
                continue
            good.append((rec, enc, key, props))
        generated = self.conn.allocate_ids(sum(1 for g in good if g[1] is None))
        vids = self._row_keys(S.vertices, len(good))
        vertex_rows, prop_specs, top = [], [], 0
        gen = iter(generated)
        for (rec, enc, _k, props), vid in zip(good, vids, strict=True):
            if enc is None:
                enc = (next(gen), None, _LONG)
            elif enc[0] is not None:
                top = max(top, enc[0])
            self.vid_of[_key(enc)] = vid
            vertex_rows.append((vid, enc[0], enc[1], enc[2], rec.label))
            prop_specs.extend((vid, rec, p, value, meta) for p, value, meta in _cardinality(props))
        prop_rows, meta_rows, prop_issues = self._vertex_property_rows(prop_specs)
        issues.extend(prop_issues)
        self._insert(S.vertices, ("vid", "id_num", "id_str", "id_type", "label"), vertex_rows)
        self._insert(
            S.vertex_properties,
            ("pid", "id_num", "id_str", "id_type", "vid", "key", "vtype", "vnum", "vstr", "vidx"),
            prop_rows,
        )
        self._insert(S.meta_properties, ("pid", "key", "vtype", "vnum", "vstr", "vidx"), meta_rows)
        if top:
            self.conn.reserve_ids(top)
        self.counts.vertices += len(vertex_rows)
        self.counts.vertex_properties += len(prop_rows)
        return issues

    def _vertex_property_rows(self, specs: list) -> tuple[list, list, list[LoadIssue]]:
        issues: list[LoadIssue] = []
        keep = []
        for spec in specs:
            p = spec[2]
            if p.id is None:
                keep.append((spec, None))
                continue
            enc = encode_id(p.id)
            key = _key(enc)
            if key in self.vp_ids:
                issues.append(_dup("vertex property", p.id, spec[1].path, spec[1].line, None, "in this load"))
                continue
            self.vp_ids.add(key)
            keep.append((spec, enc))
        if self.had_props:
            taken = self._existing(S.vertex_properties, [_key(e) for _, e in keep if e is not None])
            for spec, enc in keep:
                if enc is not None and _key(enc) in taken:
                    issues.append(
                        _dup(
                            "vertex property", spec[2].id, spec[1].path, spec[1].line, None, "in the database"
                        )
                    )
            keep = [(s, e) for s, e in keep if e is None or _key(e) not in taken]
        generated = iter(self.conn.allocate_ids(sum(1 for _, e in keep if e is None)))
        pids = self._row_keys(S.vertex_properties, len(keep))
        prop_rows, meta_rows, top = [], [], 0
        for ((vid, _rec, p, value, meta), enc), pid in zip(keep, pids, strict=True):
            if enc is None:
                enc = (next(generated), None, _LONG)
            elif enc[0] is not None:
                top = max(top, enc[0])
            prop_rows.append((pid, enc[0], enc[1], enc[2], vid, p.key, *value))
            last = dict(meta)
            meta_rows.extend((pid, mk, *mv) for mk, mv in last.items())
        if top:
            self.conn.reserve_ids(top)
        return prop_rows, meta_rows, issues

    def write_edges(self, batch: Sequence[EdgeRecord]) -> list[LoadIssue]:
        issues: list[LoadIssue] = []
        vid_of = self.vid_of
        keyed: list[tuple[EdgeRecord, Any, Any]] = []
        for rec in batch:
            try:
                keyed.append((rec, id_key(rec.out_id), id_key(rec.in_id)))
            except InvalidValue as exc:
                issues.append(LoadIssue("parse", rec.path, rec.line, rec.columns[1], str(exc)))
        if self.had_vertices:
            unknown = {k for _, o, i in keyed for k in (o, i) if k not in vid_of}
            if unknown:
                vid_of.update(self._lookup_vids(sorted(unknown, key=repr)))
        accepted: list[tuple[EdgeRecord, tuple | None, int, int]] = []
        edge_ids = self.edge_ids
        for rec, out_key, in_key in keyed:
            out_vid, in_vid = vid_of.get(out_key, -1), vid_of.get(in_key, -1)
            if out_vid < 0 or in_vid < 0:
                side, col, missing = (
                    ("~from", rec.columns[1], rec.out_id)
                    if out_vid < 0
                    else ("~to", rec.columns[2], rec.in_id)
                )
                issues.append(
                    LoadIssue("insert", rec.path, rec.line, col, f"{side} vertex {missing!r} does not exist")
                )
                continue
            enc = None
            if rec.id is not None:
                try:
                    enc = encode_id(rec.id)
                except InvalidValue as exc:
                    issues.append(LoadIssue("parse", rec.path, rec.line, rec.columns[0], str(exc)))
                    continue
                key = _key(enc)
                if key in edge_ids:
                    issues.append(_dup("edge", rec.id, rec.path, rec.line, rec.columns[0], "in this load"))
                    continue
                edge_ids.add(key)
            accepted.append((rec, enc, out_vid, in_vid))
        if self.had_edges:
            taken = self._existing(S.edges, [_key(a[1]) for a in accepted if a[1] is not None])
            for rec, enc, *_ in accepted:
                if enc is not None and _key(enc) in taken:
                    issues.append(_dup("edge", rec.id, rec.path, rec.line, rec.columns[0], "in the database"))
            accepted = [a for a in accepted if a[1] is None or _key(a[1]) not in taken]
        generated = iter(self.conn.allocate_ids(sum(1 for a in accepted if a[1] is None)))
        eids = self._row_keys(S.edges, len(accepted))
        edge_rows, prop_rows, top = [], [], 0
        for (rec, enc, out_vid, in_vid), eid in zip(accepted, eids, strict=True):
            if rec.props:
                try:
                    prop_rows.extend([(eid, k, *encode_value(v)) for k, v in rec.props])
                except InvalidValue as exc:
                    issues.append(LoadIssue("insert", rec.path, rec.line, None, str(exc)))
                    prop_rows = [r for r in prop_rows if r[0] != eid]
                    continue
            if enc is None:
                enc = (next(generated), None, _LONG)
            elif enc[0] is not None and enc[0] > top:
                top = enc[0]
            edge_rows.append((eid, enc[0], enc[1], enc[2], rec.label, out_vid, in_vid))
        seqs = self._row_keys(S.edge_properties, len(prop_rows)) if self.pg else None
        self._insert(S.edges, ("eid", "id_num", "id_str", "id_type", "label", "out_vid", "in_vid"), edge_rows)
        if seqs is not None:
            prop_rows = [(s, *r) for s, r in zip(seqs, prop_rows, strict=True)]
            cols: tuple[str, ...] = ("seq", "eid", "key", "vtype", "vnum", "vstr", "vidx")
        else:
            cols = ("eid", "key", "vtype", "vnum", "vstr", "vidx")
        self._insert(S.edge_properties, cols, prop_rows)
        if top:
            self.conn.reserve_ids(top)
        self.counts.edges += len(edge_rows)
        self.counts.edge_properties += len(prop_rows)
        return issues

    def _insert(self, table: sa.Table, columns: Sequence[str], rows: list[tuple]) -> None:
        if not rows:
            return
        raw = self.sa.connection.driver_connection
        names = ", ".join(columns)
        if self.pg:
            with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            cur = raw.cursor()
            try:
                cur.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)
            finally:
                cur.close()

    # -- big loads: rebuild secondary indexes once instead of maintaining them row by row ----

    def drop_secondary_indexes(self, tables: Sequence[str]) -> list[sa.Index]:
        dropped = []
        for name in tables:
            for index in S.metadata.tables[name].indexes:
                if index.name in S.SECONDARY_INDEXES.get(name, ()):
                    self.sa.execute(sa.text(f"DROP INDEX IF EXISTS {index.name}"))
                    dropped.append(index)
        return dropped

    def create_indexes(self, indexes: Sequence[sa.Index]) -> None:
        for index in indexes:
            index.create(self.sa)
        if indexes:
            self.sa.execute(sa.text("ANALYZE"))


class StoreSink:
    """Writes through the store interface (any backend); one call per element.

    Values are validated before an element is created, so a bad record leaves nothing behind
    without needing a savepoint per record (the memory store copies its state per savepoint).
    """

    def __init__(self, conn: GraphConnection) -> None:
        self.conn = conn
        self.counts = Counts()
        self.vertices: dict[Any, Vertex] = {}
        self.edge_ids: set[Any] = set()

    def write_vertices(self, batch: Sequence[VertexRecord]) -> list[LoadIssue]:
        issues = []
        for rec in batch:
            if rec.id is not None and _safe_key(rec.id) in self.vertices:
                issues.append(_dup("vertex", rec.id, rec.path, rec.line, _col(rec.id_column), "in this load"))
                continue
            try:
                for p in rec.props:
                    encode_value(p.value)
                    for _, mv in p.meta:
                        encode_value(mv)
                v = self.conn.add_vertex(rec.label, rec.id)
            except DuplicateId:
                issues.append(
                    _dup("vertex", rec.id, rec.path, rec.line, _col(rec.id_column), "in the database")
                )
                continue
            except InvalidValue as exc:
                issues.append(LoadIssue("insert", rec.path, rec.line, _col(rec.id_column), str(exc)))
                continue
            for p in rec.props:
                try:
                    self.conn.add_vertex_property(v, p.key, p.value, _CARD[p.cardinality], p.id, p.meta)
                except DuplicateId:
                    issues.append(_dup("vertex property", p.id, rec.path, rec.line, None, "in the database"))
                    continue
                self.counts.vertex_properties += 1
            self.vertices[id_key(v.id)] = v
            self.counts.vertices += 1
        return issues

    def write_edges(self, batch: Sequence[EdgeRecord]) -> list[LoadIssue]:
        issues = []
        for rec in batch:
            ends = []
            for side, id_, col in (("~from", rec.out_id, rec.columns[1]), ("~to", rec.in_id, rec.columns[2])):
                try:
                    ends.append(self.vertices.get(id_key(id_)) or Vertex(id_))
                except InvalidValue as exc:
                    issues.append(LoadIssue("parse", rec.path, rec.line, col, f"{side}: {exc}"))
                    break
            if len(ends) < 2:
                continue
            if rec.id is not None and _safe_key(rec.id) in self.edge_ids:
                issues.append(_dup("edge", rec.id, rec.path, rec.line, rec.columns[0], "in this load"))
                continue
            try:
                for _, value in rec.props:
                    encode_value(value)
                e = self.conn.add_edge(rec.label, ends[0], ends[1], rec.id)
            except ElementNotFound:
                known = self.conn.count_vertices(ElementQuery(ids=[rec.out_id])) > 0
                side, col, missing = (
                    ("~to", rec.columns[2], rec.in_id) if known else ("~from", rec.columns[1], rec.out_id)
                )
                issues.append(
                    LoadIssue("insert", rec.path, rec.line, col, f"{side} vertex {missing!r} does not exist")
                )
                continue
            except DuplicateId:
                issues.append(_dup("edge", rec.id, rec.path, rec.line, rec.columns[0], "in the database"))
                continue
            except InvalidValue as exc:
                issues.append(LoadIssue("insert", rec.path, rec.line, rec.columns[0], str(exc)))
                continue
            for k, v in rec.props:
                self.conn.set_edge_property(e, k, v)
            self.edge_ids.add(id_key(e.id))
            self.counts.edges += 1
            self.counts.edge_properties += len(rec.props)
        return issues


def _safe_key(id: Any) -> Any:
    try:
        return id_key(id)
    except InvalidValue:
        return None


def _cardinality(props: list) -> list:
    """Apply single/list/set among one record's properties (a later single value replaces)."""
    out: list = []
    seen: set[str] = set()
    for item in props:
        p, value = item[0], item[1]
        if p.key in seen:
            if p.cardinality == "single":
                out = [o for o in out if o[0].key != p.key]
            elif p.cardinality == "set" and any(o[0].key == p.key and o[1][:3] == value[:3] for o in out):
                continue
        seen.add(p.key)
        out.append(item)
    return out


def _col(index: int | None) -> int | None:
    return None if index is None else index + 1


def _dup(kind: str, id: Any, path: str, line: int, column: int | None, where: str) -> LoadIssue:
    return LoadIssue("insert", path, line, column, f"duplicate {kind} id {id!r} ({where})")
