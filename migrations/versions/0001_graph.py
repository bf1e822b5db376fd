"""Graph tables: vertices, edges, vertex properties with meta-properties, edge properties, and
the generated-id counter (a sequence on PostgreSQL, a counter row on SQLite).

See server/store/sql/schema.py for what each column means; the two must stay identical
(tests/server/store/test_migrations.py compares them).

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_Text = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
_Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ids() -> list[sa.Column]:
    return [
        sa.Column("id_num", sa.BigInteger, nullable=True),
        sa.Column("id_str", _Text, nullable=True),
        sa.Column("id_type", sa.SmallInteger, nullable=False),
    ]


def _value() -> list[sa.Column]:
    return [
        sa.Column("vtype", sa.SmallInteger, nullable=False),
        sa.Column("vnum", sa.Float(precision=53), nullable=True),
        sa.Column("vstr", _Text, nullable=True),
        sa.Column("vidx", _Text, nullable=True),
    ]


def _fk(column: str, target: str) -> sa.Column:
    return sa.Column(column, _Key, sa.ForeignKey(target, ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "vertices",
        sa.Column("vid", _Key, primary_key=True, autoincrement=True),
        *_ids(),
        sa.Column("label", _Text, nullable=False),
    )
    op.create_index("ix_vertices_id_num", "vertices", ["id_num"], unique=True)
    op.create_index("ix_vertices_id_str", "vertices", ["id_str", "id_type"], unique=True)
    op.create_index("ix_vertices_label", "vertices", ["label"])

    op.create_table(
        "edges",
        sa.Column("eid", _Key, primary_key=True, autoincrement=True),
        *_ids(),
        sa.Column("label", _Text, nullable=False),
        _fk("out_vid", "vertices.vid"),
        _fk("in_vid", "vertices.vid"),
    )
    op.create_index("ix_edges_id_num", "edges", ["id_num"], unique=True)
    op.create_index("ix_edges_id_str", "edges", ["id_str", "id_type"], unique=True)
    op.create_index("ix_edges_label", "edges", ["label"])
    op.create_index("ix_edges_out", "edges", ["out_vid", "label", "eid"])
    op.create_index("ix_edges_in", "edges", ["in_vid", "label", "eid"])

    op.create_table(
        "vertex_properties",
        sa.Column("pid", _Key, primary_key=True, autoincrement=True),
        *_ids(),
        _fk("vid", "vertices.vid"),
        sa.Column("key", _Text, nullable=False),
        *_value(),
    )
    op.create_index("ix_vertex_properties_id_num", "vertex_properties", ["id_num"], unique=True)
    op.create_index("ix_vertex_properties_id_str", "vertex_properties", ["id_str", "id_type"], unique=True)
    op.create_index("ix_vertex_properties_owner", "vertex_properties", ["vid", "key"])
    op.create_index("ix_vertex_properties_num", "vertex_properties", ["key", "vnum"])
    op.create_index("ix_vertex_properties_str", "vertex_properties", ["key", "vidx"])

    op.create_table(
        "meta_properties",
        sa.Column("mid", _Key, primary_key=True, autoincrement=True),
        _fk("pid", "vertex_properties.pid"),
        sa.Column("key", _Text, nullable=False),
        *_value(),
    )
    op.create_index("ix_meta_properties_owner", "meta_properties", ["pid", "key"], unique=True)

    op.create_table(
        "edge_properties",
        sa.Column("seq", _Key, primary_key=True, autoincrement=True),
        _fk("eid", "edges.eid"),
        sa.Column("key", _Text, nullable=False),
        *_value(),
    )
    op.create_index("ix_edge_properties_owner", "edge_properties", ["eid", "key"], unique=True)
    op.create_index("ix_edge_properties_num", "edge_properties", ["key", "vnum"])
    op.create_index("ix_edge_properties_str", "edge_properties", ["key", "vidx"])

    counters = op.create_table(
        "seer_counters",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(counters, [{"name": "ids", "value": 0}])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE seer_element_ids AS BIGINT START WITH 1")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS seer_element_ids")
    for table in ("seer_counters", "edge_properties", "meta_properties", "vertex_properties", "edges", "vertices"):
        op.drop_table(table)
