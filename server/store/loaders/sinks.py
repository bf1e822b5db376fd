"""Where loaded records go. :class:`SqlSink` writes straight into the SQL tables in big batches
(COPY on PostgreSQL, ``executemany`` on SQLite) with row keys assigned here; :class:`StoreSink`
uses the public store interface and works with any backend (the memory store in tests).

Both check what the database would otherwise reject, before writing, so that a bad record becomes
one precise :class:`LoadIssue` and the rest of the batch still goes in: duplicate ids (within the
load and against what is stored) and edges whose ``~from``/``~to`` vertex does not exist.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.schema import CreateIndex

from server.store.errors import DuplicateId, ElementNotFound, InvalidValue
from server.store.interface import ElementQuery, GraphConnection, GraphStore
from server.store.loaders import csv_bulk
from server.store.loaders.bulk_insert import (
    Columns,
    Const,
    CopyWriter,
    constant,
    copy_in,
    copy_text,
    execute_many,
    sqlite_insert,
)
from server.store.loaders.neptune_csv import Layout
from server.store.loaders.records import EdgeRecord, LoadIssue, VertexRecord
from server.store.sql import SqlStore
from server.store.sql import schema as S
from server.store.sql.codec import encode_id, encode_value
from server.store.sql.connection import SqlConnection, chunks
from server.structure import Cardinality, Vertex
from server.structure.values import ValueType

_LONG = int(ValueType.LONG)
_VERTEX_SIDE = frozenset({"vertex_properties", "meta_properties"})
BULK_BYTES = 1 << 20
"""Loads with at least this much input may rebuild indexes at the end (see begin_bulk)."""
SQLITE_AUTOCHECKPOINT_PAGES = 1000  # SQLite's default
_CARD = {"single": Cardinality.single, "list": Cardinality.list_, "set": Cardinality.set_}


def _key(enc: tuple) -> Any:
    """Dict key of an encoded id: the number, the string, or the UUID. They never collide as
    dict keys (``1 != "1"``), and ``1`` and ``1L`` are one key, as the store wants."""
    if enc[0] is not None:
        return enc[0]
    return uuid.UUID(enc[1]) if enc[2] == _UUID else enc[1]


_STRING, _UUID = int(ValueType.STRING), int(ValueType.UUID)


def id_key(id: Any) -> Any:
    """:func:`_key` of a raw id. Raises InvalidValue for values that cannot be ids."""
    if type(id) is str:
        return id
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
        self._dropped_indexes: list[sa.Index] = []
        self._sequences: dict[str, str] = {}
        self._dropped_constraints: list[_Constraint] = []  # PostgreSQL: primary keys first
        self._locked = False  # PostgreSQL: this load holds the tables' write locks (begin_bulk)
        self._bulk = False  # begin_bulk dropped the indexes
        self.stale_tables: list[str] = []
        """Tables whose statistics to refresh once the load committed (PostgreSQL)."""
        self._copies = CopyWriter(self.sa.connection.driver_connection) if self.pg else None

    def _sync(self) -> None:
        """Wait for the COPYs still running on the helper thread (PostgreSQL): every use of the
        connection by this sink comes after this."""
        if self._copies is not None:
            self._copies.wait()

    def close(self) -> None:
        """Stop the COPY thread, waiting for what it runs (its errors are dropped: call this
        when the load is over, after :meth:`finish` or when it failed)."""
        if self._copies is not None:
            self._copies.close()

    def _any(self, table: sa.Table) -> bool:
        return self.sa.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is not None

    # -- row keys ----------------------------------------------------------------------------

    def _row_keys(self, table: sa.Table, n: int) -> Sequence[int]:
        """``n`` fresh primary keys of ``table``. Counted here when the load holds the table's
        write lock (SQLite always; PostgreSQL after :meth:`_count_row_keys_locally`); else
        drawn from the table's sequence, which other writers share."""
        if n == 0:
            return []
        start = self._next_key.get(table.name)
        if start is None:
            self._sync()
            pk = table.primary_key.columns.values()[0]
            if self.pg:
                seq = self._sequences.get(table.name)
                if seq is None:
                    seq = self.sa.execute(
                        sa.text(f"SELECT pg_get_serial_sequence('{table.name}', '{pk.name}')")
                    ).scalar_one()
                    self._sequences[table.name] = seq
                # The lock an INSERT would take, taken before the sequence is read: a big load
                # running meanwhile counts its keys from the sequence itself, so this waits for
                # it to commit (and move the sequence past them) instead of drawing the same keys.
                self.sa.exec_driver_sql(f"LOCK TABLE {table.name} IN ROW EXCLUSIVE MODE")
                stmt = sa.text(f"SELECT array_agg(nextval('{seq}')) FROM generate_series(1, :n)")
                return sorted(self.sa.execute(stmt, {"n": n}).scalar_one())
            start = int(self.sa.execute(sa.select(sa.func.coalesce(sa.func.max(pk), 0))).scalar_one()) + 1
        self._next_key[table.name] = start + n
        return range(start, start + n)

    def _count_row_keys_locally(self) -> None:
        """PostgreSQL, with the tables locked against writers: take each table's next key from
        its sequence once (one round trip for all); :meth:`_row_keys` counts on from there and
        :meth:`_release_row_keys` moves the sequences past the keys used. No query per chunk,
        which would also have to wait for the chunk's COPYs."""
        tables = [S.vertices, S.vertex_properties, S.edges, S.edge_properties]
        names = ", ".join(f"('{t.name}', '{t.primary_key.columns.values()[0].name}')" for t in tables)
        rows = self.sa.execute(
            sa.text(
                "SELECT t, s, nextval(CAST(s AS regclass)) FROM (SELECT t, "
                f"pg_get_serial_sequence(t, c) AS s FROM (VALUES {names}) AS v(t, c)) AS q"
            )
        ).all()
        for table, seq, start in rows:
            self._sequences[table] = seq
            self._next_key[table] = int(start)

    def _release_row_keys(self) -> None:
        """PostgreSQL: move each sequence past the row keys counted out locally."""
        if self.pg:
            for name, after in self._next_key.items():
                stmt = sa.text(f"SELECT setval('{self._sequences[name]}', :next, false)")
                self.sa.execute(stmt, {"next": after})
        self._next_key.clear()

    def _existing(self, table: sa.Table, keys: Sequence[Any]) -> set[Any]:
        """Which id keys (see :func:`_key`) already exist in ``table``."""
        self._sync()
        nums = [k for k in keys if isinstance(k, int)]
        strs = sorted({str(k) for k in keys if not isinstance(k, int)})
        found: set[Any] = set()
        for column, wanted in ((table.c.id_num, nums), (table.c.id_str, strs)):
            for part in chunks(wanted):
                stmt = sa.select(table.c.id_num, table.c.id_str, table.c.id_type).where(
                    column.in_(list(part))
                )
                found.update(_key(tuple(r)) for r in self.sa.execute(stmt))
        return found

    def _lookup_vids(self, keys: Sequence[Any]) -> dict[Any, int]:
        self._sync()
        nums = [k for k in keys if isinstance(k, int)]
        strs = sorted({str(k) for k in keys if not isinstance(k, int)})
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
        self._sync()
        issues: list[LoadIssue] = []
        vid_of, text = self.vid_of, _STRING
        accepted: list[tuple[VertexRecord, tuple | None, Any, list]] = []
        for rec in batch:
            rid = rec.id
            if rid is None:
                enc = key = None
            elif type(rid) is str:
                enc, key = (None, rid, text), rid
            else:
                try:
                    enc = encode_id(rid)
                except InvalidValue as exc:
                    issues.append(LoadIssue("parse", rec.path, rec.line, _col(rec.id_column), str(exc)))
                    continue
                key = _key(enc)
            if key is not None and key in vid_of:
                issues.append(_dup("vertex", rid, rec.path, rec.line, _col(rec.id_column), "in this load"))
                continue
            try:  # a value the store cannot hold drops its vertex
                props = _cardinality([(p, encode_value(p.value)) for p in rec.props])
            except InvalidValue as exc:
                issues.append(LoadIssue("insert", rec.path, rec.line, None, str(exc)))
                continue
            if key is not None:
                vid_of[key] = -1  # taken; the row key comes below
            accepted.append((rec, enc, key, props))
        if self.had_vertices:
            taken = self._existing(S.vertices, [a[2] for a in accepted if a[2] is not None])
            if taken:
                for rec, _, key, _ in accepted:
                    if key in taken:
                        issues.append(
                            _dup("vertex", rec.id, rec.path, rec.line, _col(rec.id_column), "in the database")
                        )
                        del vid_of[key]  # edges to this id will find the stored vertex
                accepted = [a for a in accepted if a[2] not in taken]
        generated = iter(self.conn.allocate_ids(sum(1 for a in accepted if a[1] is None)))
        vids = self._row_keys(S.vertices, len(accepted))
        vertex_rows, specs, top = [], [], 0
        for (rec, enc, key, props), vid in zip(accepted, vids, strict=True):
            if enc is None:
                enc = (next(generated), None, _LONG)
                key = enc[0]
            elif enc[0] is not None and enc[0] > top:
                top = enc[0]
            vid_of[key] = vid
            vertex_rows.append((vid, enc[0], enc[1], enc[2], rec.label))
            specs.extend([(vid, rec, p, value) for p, value in props])
        self._insert(S.vertices, ("vid", "id_num", "id_str", "id_type", "label"), vertex_rows)
        issues.extend(self._write_vertex_properties(specs))
        if top:
            self.conn.reserve_ids(top)
        self.counts.vertices += len(vertex_rows)
        return issues

    def _write_vertex_properties(self, specs: list) -> list[LoadIssue]:
        """Rows of vertex properties (and their meta-properties); ``specs`` are
        ``(vid, record, PropRecord, encoded value)``."""
        issues: list[LoadIssue] = []
        if any(spec[2].id is not None for spec in specs):
            specs = self._check_property_ids(specs, issues)
        generated = iter(self.conn.allocate_ids(sum(1 for spec in specs if spec[2].id is None)))
        pids = self._row_keys(S.vertex_properties, len(specs))
        prop_rows, meta_rows, top = [], [], 0
        for (vid, rec, p, value), pid in zip(specs, pids, strict=True):
            if p.id is None:
                prop_rows.append((pid, next(generated), None, _LONG, vid, p.key, *value))
            else:
                num, txt, kind = encode_id(p.id)
                if num is not None and num > top:
                    top = num
                prop_rows.append((pid, num, txt, kind, vid, p.key, *value))
            if p.meta:
                try:
                    meta_rows.extend((pid, mk, *encode_value(mv)) for mk, mv in dict(p.meta).items())
                except InvalidValue as exc:
                    issues.append(
                        LoadIssue("insert", rec.path, rec.line, None, f"meta-property of {p.key!r}: {exc}")
                    )
        self._insert(
            S.vertex_properties,
            ("pid", "id_num", "id_str", "id_type", "vid", "key", "vtype", "vnum", "vstr", "vidx"),
            prop_rows,
        )
        self._insert(S.meta_properties, ("pid", "key", "vtype", "vnum", "vstr", "vidx"), meta_rows)
        if top:
            self.conn.reserve_ids(top)
        self.counts.vertex_properties += len(prop_rows)
        return issues

    def _check_property_ids(self, specs: list, issues: list[LoadIssue]) -> list:
        """Drop (and report) vertex properties whose user-supplied id is taken or invalid."""
        keep = []
        for spec in specs:
            rec, p = spec[1], spec[2]
            if p.id is not None:
                key = _safe_key(p.id)
                if key is None:
                    issues.append(LoadIssue("parse", rec.path, rec.line, None, _bad_id(p.id)))
                    continue
                if key in self.vp_ids:
                    issues.append(_dup("vertex property", p.id, rec.path, rec.line, None, "in this load"))
                    continue
                self.vp_ids.add(key)
            keep.append(spec)
        if self.had_props:
            taken = self._existing(
                S.vertex_properties, [id_key(s[2].id) for s in keep if s[2].id is not None]
            )
            if taken:
                for _, rec, p, _ in keep:
                    if p.id is not None and id_key(p.id) in taken:
                        issues.append(
                            _dup("vertex property", p.id, rec.path, rec.line, None, "in the database")
                        )
                keep = [s for s in keep if s[2].id is None or id_key(s[2].id) not in taken]
        return keep

    def write_edges(self, batch: Sequence[EdgeRecord]) -> list[LoadIssue]:
        # The hot path of big loads: string ids are keyed inline, everything else via _safe_key.
        self._sync()
        issues: list[LoadIssue] = []
        vid_of, edge_ids, text = self.vid_of, self.edge_ids, _STRING
        if self.had_vertices:
            unknown = {
                k
                for rec in batch
                for x in (rec.out_id, rec.in_id)
                if (k := x if type(x) is str else _safe_key(x)) is not None and k not in vid_of
            }
            if unknown:
                vid_of.update(self._lookup_vids(sorted(unknown, key=repr)))
        accepted: list[tuple[EdgeRecord, int, int]] = []
        for rec in batch:
            o, i = rec.out_id, rec.in_id
            out_vid = vid_of.get(o if type(o) is str else _safe_key(o), -1)
            in_vid = vid_of.get(i if type(i) is str else _safe_key(i), -1)
            if out_vid < 0 or in_vid < 0:
                issues.append(_dangling(rec, out_vid < 0))
                continue
            eid = rec.id
            if eid is not None:
                key = eid if type(eid) is str else _safe_key(eid)
                if key is None:
                    issues.append(LoadIssue("parse", rec.path, rec.line, rec.columns[0], _bad_id(eid)))
                    continue
                if key in edge_ids:
                    issues.append(_dup("edge", eid, rec.path, rec.line, rec.columns[0], "in this load"))
                    continue
                edge_ids.add(key)
            accepted.append((rec, out_vid, in_vid))
        if self.had_edges:
            taken = self._existing(S.edges, [id_key(a[0].id) for a in accepted if a[0].id is not None])
            if taken:
                for rec, *_ in accepted:
                    if rec.id is not None and id_key(rec.id) in taken:
                        issues.append(
                            _dup("edge", rec.id, rec.path, rec.line, rec.columns[0], "in the database")
                        )
                accepted = [a for a in accepted if a[0].id is None or id_key(a[0].id) not in taken]
        generated = iter(self.conn.allocate_ids(sum(1 for a in accepted if a[0].id is None)))
        eids = self._row_keys(S.edges, len(accepted))
        edge_rows, prop_rows, top = [], [], 0
        for (rec, out_vid, in_vid), eid in zip(accepted, eids, strict=True):
            if rec.props:
                try:
                    pairs = rec.props if len(rec.props) == 1 else dict(rec.props).items()  # last value wins
                    prop_rows.extend([(eid, k, *encode_value(v)) for k, v in pairs])
                except InvalidValue as exc:
                    issues.append(LoadIssue("insert", rec.path, rec.line, None, str(exc)))
                    prop_rows = [r for r in prop_rows if r[0] != eid]
                    continue
            if rec.id is None:
                edge_rows.append((eid, next(generated), None, _LONG, rec.label, out_vid, in_vid))
            elif type(rec.id) is str:
                edge_rows.append((eid, None, rec.id, text, rec.label, out_vid, in_vid))
            else:
                num, txt, kind = encode_id(rec.id)
                if num is not None and num > top:
                    top = num
                edge_rows.append((eid, num, txt, kind, rec.label, out_vid, in_vid))
        self._insert(S.edges, ("eid", "id_num", "id_str", "id_type", "label", "out_vid", "in_vid"), edge_rows)
        # edge_properties.seq comes from its column default, in row order.
        self._insert(S.edge_properties, ("eid", "key", "vtype", "vnum", "vstr", "vidx"), prop_rows)
        if top:
            self.conn.reserve_ids(top)
        self.counts.edges += len(edge_rows)
        self.counts.edge_properties += len(prop_rows)
        return issues

    def write_edge_columns(self, layout: Layout, chunk: csv_bulk.Chunk) -> bool:
        """Write a chunk of CSV edge rows column by column, if every row is clean (right width,
        no empty system field, every value parses, known endpoints, new and unique ids).
        Returns False, having written and changed nothing, otherwise: the caller then sends the
        chunk through :meth:`write_edges`, which names each problem.

        On PostgreSQL the COPYs run on a helper thread: this returns while the server still
        works on them, and the next chunk's parsing overlaps that work."""
        split = _split_columns(layout, chunk)
        if split is None:
            return False
        n, columns, props = split
        if n == 0:
            return True
        sys = layout.system
        id_at = sys.get("~id")
        ids = columns[id_at] if id_at is not None else None
        froms, tos, labels = columns[sys["~from"]], columns[sys["~to"]], columns[sys["~label"]]
        if "" in froms or "" in tos or "" in labels or (ids is not None and "" in ids):
            return False
        vid_of = self.vid_of
        if self.had_vertices:
            unknown = (set(froms) | set(tos)).difference(vid_of)
            if unknown:
                vid_of.update(self._lookup_vids(sorted(unknown)))
        outs, ins = list(map(vid_of.get, froms)), list(map(vid_of.get, tos))
        if None in outs or None in ins:
            return False
        if ids is not None:
            fresh = set(ids)
            if len(fresh) != n or not self.edge_ids.isdisjoint(fresh):
                return False
            if self.had_edges and self._existing(S.edges, ids):
                return False
            self.edge_ids.update(fresh)
        eids = self._row_keys(S.edges, n)
        edge_columns: Columns = {"eid": eids}
        if ids is None:
            self._sync()
            edge_columns.update(id_num=self.conn.allocate_ids(n), id_str=Const(None), id_type=Const(_LONG))
        else:
            edge_columns.update(id_num=Const(None), id_str=ids, id_type=Const(_STRING))
        edge_columns.update(label=constant(labels), out_vid=outs, in_vid=ins)
        self._write(S.edges, edge_columns, n)
        prop_columns, count = _property_columns(eids, props, "eid")
        if self._locked and count:
            prop_columns = {"seq": self._row_keys(S.edge_properties, count), **prop_columns}
        self._write(S.edge_properties, prop_columns, count)  # else seq: the column default
        self.counts.edges += n
        self.counts.edge_properties += count
        return True

    def write_vertex_columns(self, layout: Layout, chunk: csv_bulk.Chunk) -> bool:
        """Write a chunk of CSV vertex rows column by column, if every row is clean (right width,
        no empty ``~id``, plain labels, every value parses, new and unique ids). Returns False,
        having written and changed nothing, otherwise (the caller then uses
        :meth:`write_vertices`). Columns are single-valued here (see csv_bulk.open_file)."""
        self._sync()
        split = _split_columns(layout, chunk)
        if split is None:
            return False
        n, columns, props = split
        if n == 0:
            return True
        id_at, label_at = layout.system.get("~id"), layout.system.get("~label")
        ids = columns[id_at] if id_at is not None else None
        labels: Sequence[str] = ["vertex"] * n
        if label_at is not None:
            labels = columns[label_at]
            if any(";" in label for label in labels):
                return False
            if "" in labels:
                labels = [label or "vertex" for label in labels]
        vid_of = self.vid_of
        if ids is not None:
            fresh = set(ids)
            if "" in fresh or len(fresh) != n or not vid_of.keys().isdisjoint(fresh):
                return False
            if self.had_vertices and self._existing(S.vertices, ids):
                return False
        vids = self._row_keys(S.vertices, n)
        vertex_columns: Columns = {"vid": vids}
        if ids is None:
            generated = self.conn.allocate_ids(n)
            vertex_columns.update(id_num=generated, id_str=Const(None), id_type=Const(_LONG))
            vid_of.update(zip(generated, vids, strict=True))
        else:
            vertex_columns.update(id_num=Const(None), id_str=ids, id_type=Const(_STRING))
            vid_of.update(zip(ids, vids, strict=True))
        vertex_columns["label"] = constant(labels)
        self._write(S.vertices, vertex_columns, n)
        prop_columns, count = _property_columns(vids, props, "vid")
        if count:
            prop_columns = {
                "pid": self._row_keys(S.vertex_properties, count),
                "id_num": self.conn.allocate_ids(count),
                "id_str": Const(None),
                "id_type": Const(_LONG),
                **prop_columns,
            }
            self._write(S.vertex_properties, prop_columns, count)
        self.counts.vertices += n
        self.counts.vertex_properties += count
        return True

    def _write(self, table: sa.Table, columns: Columns, n: int) -> None:
        """``n`` rows given column by column (see :mod:`.bulk_insert`); on PostgreSQL the COPY
        is queued on the helper thread."""
        if n == 0:
            return
        if self._copies is not None:
            self._copies.submit(table.name, columns, n)
        else:
            sqlite_insert(self.sa.connection.driver_connection, table.name, columns, n)

    def _insert(self, table: sa.Table, columns: Sequence[str], rows: Iterable[tuple]) -> None:
        if isinstance(rows, list) and not rows:
            return
        self._sync()
        raw = self.sa.connection.driver_connection
        if self.pg:
            copy_in(raw, table.name, columns, copy_text(rows))
        else:
            marks = ", ".join("?" for _ in columns)
            execute_many(raw, f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", rows)

    # -- big loads: rebuild indexes once instead of maintaining them row by row ---------------

    def begin_bulk(self, input_bytes: int) -> bool:
        """Drop the indexes of the property and edge tables (and, on PostgreSQL, their primary
        and foreign keys) when the load is big next to what is stored; :meth:`vertices_done`
        and :meth:`finish` put them back, which is much cheaper than maintaining the btrees row
        by row. Returns whether it did.

        Unique indexes and primary keys come back too, so a duplicate would still fail the load
        then; the sink checks duplicate ids itself first, so that it can name the line, and
        counts the row keys out itself under the load's locks (:meth:`_count_row_keys_locally`).

        The dropped foreign keys come back ``NOT VALID``: this sink has checked every endpoint
        itself, and the tables stay locked (ACCESS EXCLUSIVE) until the load commits, so nothing
        else can break them meanwhile. Readers of these tables wait for big loads. ``vertices``
        is locked against writers only (EXCLUSIVE): readers of vertices go on.
        """
        self._sync()
        incoming = input_bytes // 40  # rough rows per byte of CSV/JSON
        if input_bytes < BULK_BYTES or self._estimate_rows(S.edges) > 4 * incoming:
            return False
        names = ["vertex_properties", "meta_properties", "edges", "edge_properties"]
        if self.pg:
            # Writers of any graph table wait for the load (readers of vertices do not): then
            # row keys can be taken from the sequences a range at a time (see _row_keys).
            self.sa.exec_driver_sql("LOCK TABLE vertices IN EXCLUSIVE MODE")
            self.sa.exec_driver_sql(f"LOCK TABLE {', '.join(names)} IN ACCESS EXCLUSIVE MODE")
            self._locked = True
            self._count_row_keys_locally()
            # The index rebuilds (vertices_done, finish) sort in memory: the default 64 MB
            # spills a 1M-row index to disk and allows at most one parallel worker.
            self.sa.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
            # Foreign keys, then primary keys (which the foreign keys depend on); PostgreSQL
            # maintains a primary key row by row during a COPY, which took half its time.
            rows = self.sa.execute(
                sa.text(
                    "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) "
                    "FROM pg_constraint WHERE conrelid = ANY(CAST(:t AS regclass[])) "
                    "AND contype IN ('f', 'p') ORDER BY contype, conname"
                ),
                {"t": names},
            ).all()
            for table, conname, kind, definition in rows:
                self.sa.execute(sa.text(f'ALTER TABLE {table} DROP CONSTRAINT "{conname}"'))
                self._dropped_constraints.insert(0, _Constraint(table, conname, kind, definition))
        else:
            self.sa.exec_driver_sql("PRAGMA cache_size = -131072")  # 128 MiB for the index builds
        # Unique id indexes stay when the table already has rows: the duplicate checks need them.
        keep_unique = {"vertex_properties": self.had_props, "meta_properties": False}
        keep_unique.update(edges=self.had_edges, edge_properties=False)
        for name in names:
            for index in S.metadata.tables[name].indexes:
                if index.unique and keep_unique[name] and index.name.endswith(("_id_num", "_id_str")):
                    continue
                self.sa.execute(sa.text(f"DROP INDEX IF EXISTS {index.name}"))
                self._dropped_indexes.append(index)
        self._bulk = True
        return True

    def vertices_done(self) -> None:
        """No more vertex or vertex-property rows come in this load. PostgreSQL: rebuild those
        tables' dropped indexes now, queued behind the COPYs, so that the server builds them
        while this process parses the edge files (a core each) rather than after. SQLite builds
        everything in :meth:`finish`: it works inside this process, so nothing would overlap."""
        if self._copies is None:
            return
        for statement in self._take_rebuilds(_VERTEX_SIDE):
            self._copies.execute(statement)

    def _take_rebuilds(self, tables: frozenset[str] | None = None) -> list[str]:
        """The statements that put back the primary keys, then the indexes, that
        :meth:`begin_bulk` dropped from ``tables`` (None: every table); they are no longer
        pending afterwards. The foreign keys stay for :meth:`finish`, which adds them last."""
        keys = [
            c for c in self._dropped_constraints if c.kind == "p" and (tables is None or c.table in tables)
        ]
        indexes = [i for i in self._dropped_indexes if tables is None or i.table.name in tables]
        self._dropped_constraints = [c for c in self._dropped_constraints if c not in keys]
        self._dropped_indexes = [i for i in self._dropped_indexes if i not in indexes]
        dialect = self.sa.dialect
        return [c.add_statement() for c in keys] + [
            str(CreateIndex(i).compile(dialect=dialect)) for i in indexes
        ]

    def finish(self) -> None:
        """Rebuild what :meth:`begin_bulk` dropped, and refresh the planner's statistics:
        SQLite here (sampled: ``analysis_limit``); PostgreSQL after the commit, on a thread of
        the store's (:attr:`stale_tables`, see ``SqlStore.analyze_in_background``)."""
        self._sync()
        self._release_row_keys()
        for statement in self._take_rebuilds():
            self.sa.exec_driver_sql(statement)
        for foreign_key in self._dropped_constraints:  # only foreign keys are left
            self.sa.exec_driver_sql(foreign_key.add_statement())
        if self._bulk or self.counts.edges > 10_000:
            if self.pg:
                self.stale_tables = ["vertices", "vertex_properties", "edges", "edge_properties"]
            else:  # sampled statistics: enough for the planner, seconds cheaper on big tables
                self.sa.exec_driver_sql("PRAGMA analysis_limit = 1000")
                self.sa.exec_driver_sql("ANALYZE")
        self._dropped_indexes, self._dropped_constraints = [], []

    def _estimate_rows(self, table: sa.Table) -> int:
        pk = table.primary_key.columns.values()[0]
        low, high = self.sa.execute(sa.select(sa.func.min(pk), sa.func.max(pk))).one()
        return 0 if low is None else high - low + 1


class _Constraint(NamedTuple):
    """A primary (``kind`` "p") or foreign ("f") key that :meth:`SqlSink.begin_bulk` dropped."""

    table: str
    name: str
    kind: str
    definition: str

    def add_statement(self) -> str:
        """The statement that puts it back. Foreign keys come back ``NOT VALID`` (the sink
        checked every endpoint itself, under the load's locks), so adding them scans nothing."""
        unchecked = self.kind == "f" and not self.definition.endswith("NOT VALID")
        suffix = " NOT VALID" if unchecked else ""
        return f'ALTER TABLE {self.table} ADD CONSTRAINT "{self.name}" {self.definition}{suffix}'


def _sqlite_driver(conn: GraphConnection) -> Any:
    """The sqlite3 connection behind ``conn``, or None when it is not a SQLite store's."""
    if isinstance(conn, SqlConnection) and conn.dialect == "sqlite":
        return conn.sa_connection.connection.driver_connection
    return None


@contextlib.contextmanager
def sqlite_foreign_keys_off(conn: GraphConnection) -> Iterator[None]:
    """SQLite checks a foreign key per inserted row; a load checks endpoints itself (under the
    write lock), so it turns the checks off for its connection. PRAGMA foreign_keys only
    works outside a transaction, hence before the load begins and after it ends."""
    raw = _sqlite_driver(conn)
    if raw is not None and not conn.sa_connection.in_transaction():  # type: ignore[attr-defined]
        raw.execute("PRAGMA foreign_keys = OFF")
    else:
        raw = None
    try:
        yield
    finally:
        if raw is not None:
            conn.rollback()
            raw.execute("PRAGMA foreign_keys = ON")


@contextlib.contextmanager
def sqlite_checkpoint_in_background(store: GraphStore, conn: GraphConnection) -> Iterator[None]:
    """Commit a load without the WAL checkpoint that SQLite would run inside the commit.

    A load's commit appends every new page to SQLite's write-ahead log; past 1,000 pages the
    committing connection then checkpoints, copying those pages into the database file (a
    second full write and an fsync: about a fifth of a 300k-edge load's time). With the
    automatic checkpoint off for the load's connection, the commit returns once the log holds
    the pages (as durable as any commit at ``synchronous = NORMAL``: the log is what recovery
    replays), and the store runs the checkpoint on a thread of its own.
    """
    raw = _sqlite_driver(conn) if isinstance(store, SqlStore) else None
    if raw is not None:
        raw.execute("PRAGMA wal_autocheckpoint = 0")
    try:
        yield
    finally:
        if raw is not None:
            raw.execute(f"PRAGMA wal_autocheckpoint = {SQLITE_AUTOCHECKPOINT_PAGES}")
            store.checkpoint_in_background()


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

    def close(self) -> None:
        """Nothing to release (the same interface as :meth:`SqlSink.close`)."""

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


def _split_columns(layout: Layout, chunk: csv_bulk.Chunk) -> tuple[int, list, list] | None:
    """``(rows, columns, properties)`` of a chunk of CSV rows, blank ones left out: the columns
    as sequences of text, the properties as ``(key, positions with a value or None for all,
    [vtypes, vnums, vstrs, vidxs])``. None when a row has the wrong width or a value does not
    parse or cannot be stored."""
    columns: Sequence[Sequence[str]] | None = chunk.columns(layout.width)
    if columns is None:  # blank lines or wrong widths: row by row
        rows = [r for r in chunk.rows if r]
        if not rows:
            return 0, [], []
        if set(map(len, rows)) != {layout.width}:
            return None
        columns = list(zip(*rows, strict=True))
    props = []
    for col in layout.columns:
        texts = columns[col.index]
        where = None
        if "" in texts:
            where = [k for k, t in enumerate(texts) if t]
            texts = [texts[k] for k in where]
        try:
            props.append((col.name, where, csv_bulk.encode_column(col, texts)))
        except (ValueError, InvalidValue):
            return None
    return len(columns[0]), list(columns), props


def _property_columns(owners: list[int], props: list, owner: str) -> tuple[Columns, int]:
    """The ``(owner, key, vtype, vnum, vstr, vidx)`` columns of :func:`_split_columns`
    properties and how many rows they hold: per owner in column order (the order the record
    path writes them in)."""
    parts = []
    for key, where, encoded in props:
        mine = owners if where is None else [owners[k] for k in where]
        if mine:
            parts.append((mine, key, encoded))
    if not parts:
        return {}, 0
    if len(parts) == 1:
        mine, key, (vtypes, vnums, vstrs, vidxs) = parts[0]
        keys: Sequence[Any] | Const = Const(key)
        n = len(mine)
    else:
        mine, keys, vtypes, vnums, vstrs, vidxs = [], [], [], [], [], []
        for owned, key, encoded in parts:
            mine.extend(owned)
            keys.extend([key] * len(owned))
            for target, values in zip((vtypes, vnums, vstrs, vidxs), encoded, strict=True):
                target.extend(values)
        n = len(mine)
        order = sorted(range(n), key=mine.__getitem__)  # stable: column order within an owner
        mine, keys, vtypes, vnums, vstrs, vidxs = (
            list(map(c.__getitem__, order)) for c in (mine, keys, vtypes, vnums, vstrs, vidxs)
        )
        keys = constant(keys)
    columns: Columns = {owner: mine, "key": keys, "vtype": constant(vtypes)}
    columns.update(vnum=vnums, vstr=vstrs, vidx=constant(vidxs))
    return columns, n


def _safe_key(id: Any) -> Any:
    try:
        return id_key(id)
    except InvalidValue:
        return None


def _cardinality(props: list) -> list:
    """Apply single/list/set among one record's properties (a later single value replaces).
    ``props``: ``(PropRecord, encoded value)`` pairs."""
    if len(props) < 2:
        return props
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


def _dangling(rec: EdgeRecord, out_side: bool) -> LoadIssue:
    side, col, missing = (
        ("~from", rec.columns[1], rec.out_id) if out_side else ("~to", rec.columns[2], rec.in_id)
    )
    if _safe_key(missing) is None:
        return LoadIssue("parse", rec.path, rec.line, col, f"{side}: {_bad_id(missing)}")
    return LoadIssue("insert", rec.path, rec.line, col, f"{side} vertex {missing!r} does not exist")


def _bad_id(id: Any) -> str:
    return f"{type(id).__name__} {id!r} cannot be an element id (use an integer, a string or a UUID)"


def _col(index: int | None) -> int | None:
    return None if index is None else index + 1


def _dup(kind: str, id: Any, path: str, line: int, column: int | None, where: str) -> LoadIssue:
    return LoadIssue("insert", path, line, column, f"duplicate {kind} id {id!r} ({where})")
