"""The SQL schema of the graph, as SQLAlchemy Core tables (the migrations create the same thing).

Layout, and why:

- Every element has an internal integer row key (``vid``, ``eid``, ``pid``) that edges and
  properties reference; it is the ``ref`` the store hands out, so joins stay on small integers
  whatever the user's ids look like.
- The Gremlin id lives beside it in three columns: ``id_num`` (integer ids, unique: ``1`` and
  ``1L`` are the same id), ``id_str`` (string and UUID ids, unique together with ``id_type``) and
  ``id_type`` (the :class:`~server.structure.values.ValueType` code, so ``1`` comes back as an
  Int32 and ``1L`` as an Int64). Generated ids are Int64 and come from one counter shared by every
  element kind (a sequence on PostgreSQL, the ``seer_counters`` row on SQLite).
- A property value is stored as ``vtype`` (its ValueType code) plus ``vnum`` (a double: every
  number, booleans as 0/1, datetimes as epoch seconds, durations as seconds; what range and
  equality filters use), ``vstr`` (the exact text: strings, integers in decimal, floats by
  ``repr``, ISO datetimes, typed JSON for lists/sets/maps) and ``vidx`` (the first
  ``VIDX_CHARS`` characters of a string, indexed; PostgreSQL btree rows are limited in size, so
  long strings are indexed by their prefix and rechecked on ``vstr``).
- Order of insertion is the order of the row keys; the interface promises insertion order.
"""

from __future__ import annotations

import sqlalchemy as sa

VIDX_CHARS = 200
"""How many leading characters of a string value the value indexes hold."""

ID_SEQUENCE = "seer_element_ids"
"""PostgreSQL sequence of generated element ids (SQLite: the ``seer_counters`` row ``ids``)."""

metadata = sa.MetaData()

# Byte-wise (code point) ordering of strings on PostgreSQL, like Python and SQLite's BINARY.
_Text = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
_Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # INTEGER PRIMARY KEY is the rowid


def _id_columns() -> list[sa.Column]:
    return [
        sa.Column("id_num", sa.BigInteger, nullable=True),
        sa.Column("id_str", _Text, nullable=True),
        sa.Column("id_type", sa.SmallInteger, nullable=False),
    ]


def _value_columns() -> list[sa.Column]:
    return [
        sa.Column("vtype", sa.SmallInteger, nullable=False),
        sa.Column("vnum", sa.Float(precision=53), nullable=True),
        sa.Column("vstr", _Text, nullable=True),
        sa.Column("vidx", _Text, nullable=True),
    ]


vertices = sa.Table(
    "vertices",
    metadata,
    sa.Column("vid", _Key, primary_key=True, autoincrement=True),
    *_id_columns(),
    sa.Column("label", _Text, nullable=False),
    sa.Index("ix_vertices_id_num", "id_num", unique=True),
    sa.Index("ix_vertices_id_str", "id_str", "id_type", unique=True),
    sa.Index("ix_vertices_label", "label"),
)

edges = sa.Table(
    "edges",
    metadata,
    sa.Column("eid", _Key, primary_key=True, autoincrement=True),
    *_id_columns(),
    sa.Column("label", _Text, nullable=False),
    sa.Column("out_vid", _Key, sa.ForeignKey("vertices.vid", ondelete="CASCADE"), nullable=False),
    sa.Column("in_vid", _Key, sa.ForeignKey("vertices.vid", ondelete="CASCADE"), nullable=False),
    sa.Index("ix_edges_id_num", "id_num", unique=True),
    sa.Index("ix_edges_id_str", "id_str", "id_type", unique=True),
    sa.Index("ix_edges_label", "label"),
    sa.Index("ix_edges_out", "out_vid", "label", "eid"),
    sa.Index("ix_edges_in", "in_vid", "label", "eid"),
)

vertex_properties = sa.Table(
    "vertex_properties",
    metadata,
    sa.Column("pid", _Key, primary_key=True, autoincrement=True),
    *_id_columns(),
    sa.Column("vid", _Key, sa.ForeignKey("vertices.vid", ondelete="CASCADE"), nullable=False),
    sa.Column("key", _Text, nullable=False),
    *_value_columns(),
    sa.Index("ix_vertex_properties_id_num", "id_num", unique=True),
    sa.Index("ix_vertex_properties_id_str", "id_str", "id_type", unique=True),
    sa.Index("ix_vertex_properties_owner", "vid", "key"),
    sa.Index("ix_vertex_properties_num", "key", "vnum"),
    sa.Index("ix_vertex_properties_str", "key", "vidx"),
)

meta_properties = sa.Table(
    "meta_properties",
    metadata,
    sa.Column("mid", _Key, primary_key=True, autoincrement=True),
    sa.Column("pid", _Key, sa.ForeignKey("vertex_properties.pid", ondelete="CASCADE"), nullable=False),
    sa.Column("key", _Text, nullable=False),
    *_value_columns(),
    sa.Index("ix_meta_properties_owner", "pid", "key", unique=True),
)

edge_properties = sa.Table(
    "edge_properties",
    metadata,
    sa.Column("seq", _Key, primary_key=True, autoincrement=True),
    sa.Column("eid", _Key, sa.ForeignKey("edges.eid", ondelete="CASCADE"), nullable=False),
    sa.Column("key", _Text, nullable=False),
    *_value_columns(),
    sa.Index("ix_edge_properties_owner", "eid", "key", unique=True),
    sa.Index("ix_edge_properties_num", "key", "vnum"),
    sa.Index("ix_edge_properties_str", "key", "vidx"),
)

counters = sa.Table(
    "seer_counters",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)
"""SQLite's stand-in for sequences: row ``ids`` holds the last generated element id."""
