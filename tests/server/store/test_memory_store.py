"""The in-memory reference backend honours the store contract (transactions, adjacency)."""

from __future__ import annotations

from server.store import ElementQuery, open_store
from server.structure import Direction


def test_committed_writes_are_visible_and_rolled_back_ones_are_not() -> None:
    store = open_store("memory://")
    with store.connect() as conn:
        a = conn.add_vertex("person")
        b = conn.add_vertex("person")
        conn.add_edge("knows", a, b)
        conn.commit()
        conn.add_vertex("ghost")
        conn.rollback()
    with store.connect() as conn:
        assert conn.count_vertices() == 2
        assert conn.count_vertices(ElementQuery(labels=["ghost"])) == 0
        [out] = conn.adjacent_vertices([a], Direction.OUT)
        assert [v.id for v in out] == [b.id]


def test_atomic_block_rolls_back_on_error() -> None:
    store = open_store("memory://")
    with store.connect() as conn:
        conn.add_vertex("kept")
        try:
            with conn.atomic():
                conn.add_vertex("lost")
                raise RuntimeError("boom")
        except RuntimeError:
            pass
        conn.commit()
        assert conn.count_vertices(ElementQuery(labels=["lost"])) == 0
        assert conn.count_vertices(ElementQuery(labels=["kept"])) == 1
