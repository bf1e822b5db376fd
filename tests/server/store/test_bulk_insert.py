"""Column-wise bulk writes (server.store.loaders.bulk_insert) and the big-load mode of the SQL
sink: what they write is what the record path writes, every index is back afterwards, and the
row keys taken a range at a time stay unique."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from server.store import open_store
from server.store.loaders import load, sinks
from server.store.loaders.bulk_insert import Const, CopyWriter, constant
from server.store.loaders.csv_bulk import Chunk
from server.store.sql import schema as S
from tests.server.store.conftest import _empty

VERTICES = "~id,~label,name,score:Double\n" + "".join(f"v{i},it's,n{i},{i / 2}\n" for i in range(8))
EDGES = "~id,~from,~to,~label,w:Double,n:Int,note\n" + "".join(
    f"e{i},v{i % 8},v{(i * 3) % 8},o'k,{('0.0', '-0.0')[i % 2]},{i},{'' if i % 3 else 'x'}\n"
    for i in range(20)
)


def test_chunk_columns_check_the_width_of_every_line() -> None:
    chunk = Chunk("f.csv", 2, ["a,b,c", "d,e,f"])
    assert chunk.columns(3) == [["a", "d"], ["b", "e"], ["c", "f"]]
    # The same number of fields in all, but a short line then a long one: no columns.
    assert Chunk("f.csv", 2, ["a,b", "c,d,e,f"]).columns(3) is None
    assert Chunk("f.csv", 2, ["a,b,c", ""]).columns(3) is None  # blank lines go row by row
    assert Chunk("f.csv", 2, ["a,b,c", ""]).rows == [["a", "b", "c"], []]


def test_constant_only_for_values_that_are_exactly_one() -> None:
    assert constant(["x", "x", "x"]) == Const("x")
    assert constant([None, None]) == Const(None)
    assert constant([3, 3]) == Const(3)
    assert constant(["x", "y", "x"]) == ["x", "y", "x"]
    assert constant([0.0, -0.0]) == [0.0, -0.0]  # equal floats need not be the same value
    assert constant([1, True, 1]) == [1, True, 1]
    assert constant([]) == []


def _graph(store) -> tuple[list, list]:
    with store.connect() as c:
        vertices = sorted(c.vertices(), key=lambda v: v.id)
        edges = sorted(c.edges(), key=lambda e: e.id)
        vprops = [
            (v.id, v.label, [(p.key, p.value, type(p.value)) for p in ps])
            for v, ps in zip(vertices, c.vertex_properties(vertices), strict=True)
        ]
        eprops = [
            (e.id, e.label, e.out_v.id, e.in_v.id, [(p.key, repr(p.value), type(p.value)) for p in ps])
            for e, ps in zip(edges, c.edge_properties(edges), strict=True)
        ]
        return vprops, eprops


def _constraints(store) -> set[tuple[str, str, str]]:
    """PostgreSQL: (table, name, definition) of the graph tables' constraints."""
    with store.connect() as c:
        stmt = (
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace = current_schema()::regnamespace"
        )
        return {tuple(row) for row in c.sa_connection.exec_driver_sql(stmt)}


def _index_names(store) -> set[str]:
    with store.connect() as c:
        if c.dialect == "sqlite":
            stmt = "SELECT name FROM sqlite_master WHERE type = 'index'"
        else:
            stmt = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
        return set(c.sa_connection.exec_driver_sql(stmt).scalars())


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_big_load_mode_matches_the_reference_and_puts_every_index_back(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sinks, "BULK_BYTES", 0)  # drop and rebuild the indexes, lock the tables
    if kind == "sqlite":
        store = open_store(f"sqlite:///{tmp_path / 'g.db'}")
    else:
        store = open_store(request.getfixturevalue("pg_store_url"))
        _empty(store)
    files = [tmp_path / "v.csv", tmp_path / "e.csv"]
    files[0].write_text(VERTICES)
    files[1].write_text(EDGES)
    reference = open_store("memory://")
    assert load(reference, files).status == "LOAD_COMPLETED"
    constraints = _constraints(store) if kind == "postgres" else set()
    report = load(store, files)
    assert report.status == "LOAD_COMPLETED", report.errors
    if kind == "postgres":  # primary and foreign keys dropped for the load are back
        assert {(t, name) for t, name, _ in _constraints(store)} == {(t, name) for t, name, _ in constraints}
        assert any(name == "edges_pkey" for _, name, _ in constraints)
    got = _graph(store)
    assert got == _graph(reference)
    assert got[1][1][4][0] == ("w", "-0.0", float)  # not folded into a constant 0.0
    assert got[0][0][1] == "it's" and got[1][0][1] == "o'k"
    expected = {i.name for t in S.metadata.tables.values() for i in t.indexes}
    assert expected <= _index_names(store)
    with store.connect() as c:  # row keys taken a range at a time: the next ones follow them
        v0, v1 = list(c.vertices())[:2]
        e = c.add_edge("later", v0, v1)
        c.set_edge_property(e, "w", 1.5)
        c.commit()
        top = c.sa_connection.execute(sa.select(sa.func.max(S.edges.c.eid))).scalar_one()
        assert e.ref == top and c.count_edges() == 21
        v = c.add_vertex("later")
        c.add_vertex_property(v, "name", "after the load")
        c.commit()
        assert [p.value for p in c.vertex_properties([v])[0]] == ["after the load"]
        for table, key in ((S.vertex_properties, "pid"), (S.edge_properties, "seq")):
            keys = c.sa_connection.execute(sa.select(table.c[key])).scalars().all()
            assert len(keys) == len(set(keys))
    store.dispose()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_second_big_load_adds_to_the_first(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Big-load mode over a graph that has rows: row keys continue after the stored ones, the
    stored ids still count as duplicates, and every key and index is back after each load."""
    monkeypatch.setattr(sinks, "BULK_BYTES", 0)
    if kind == "sqlite":
        store = open_store(f"sqlite:///{tmp_path / 'g.db'}")
    else:
        store = open_store(request.getfixturevalue("pg_store_url"))
        _empty(store)
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, prefix in ((first, "a"), (second, "b")):
        folder.mkdir()
        (folder / "v.csv").write_text(VERTICES.replace(",v", f",{prefix}").replace("\nv", f"\n{prefix}"))
        (folder / "e.csv").write_text(EDGES.replace("\ne", f"\n{prefix}e").replace(",v", f",{prefix}"))
    reference = open_store("memory://")
    for folder in (first, second):
        assert load(reference, [folder / "v.csv", folder / "e.csv"]).status == "LOAD_COMPLETED"
        report = load(store, [folder / "v.csv", folder / "e.csv"])
        assert report.status == "LOAD_COMPLETED", report.errors
    assert _graph(store) == _graph(reference)
    with store.connect() as c:
        assert c.count_vertices() == 16 and c.count_edges() == 40
        for table in (S.vertices, S.edges, S.vertex_properties, S.edge_properties):
            key = table.primary_key.columns.values()[0]
            keys = c.sa_connection.execute(sa.select(key)).scalars().all()
            assert len(keys) == len(set(keys)), table.name
    expected = {i.name for t in S.metadata.tables.values() for i in t.indexes}
    assert expected <= _index_names(store)
    again = load(store, [first / "v.csv"])  # the first load's vertex ids are taken
    assert again.status == "LOAD_FAILED" and "a0" in again.errors[0]
    store.dispose()


@pytest.mark.postgres
def test_a_failed_big_load_leaves_every_constraint_and_index(
    pg_store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sinks, "BULK_BYTES", 0)
    store = open_store(pg_store_url)
    _empty(store)
    constraints, indexes = _constraints(store), _index_names(store)
    good, bad = tmp_path / "v.csv", tmp_path / "e.csv"
    good.write_text(VERTICES)
    bad.write_text(EDGES + "e99,v1,nowhere,o'k,1.0,1,\n")  # a dangling endpoint, after the vertices
    report = load(store, [good, bad])
    assert report.status == "LOAD_FAILED" and "nowhere" in report.errors[0]
    assert _constraints(store) == constraints and _index_names(store) == indexes
    with store.connect() as c:
        assert c.count_vertices() == 0
    store.dispose()


@pytest.mark.postgres
def test_keys_counted_by_a_big_load_are_not_drawn_by_another_loader(pg_store_url: str) -> None:
    """A big load counts row keys itself (under its locks); a loader on another connection
    that draws keys from the sequences waits for it to commit, then gets keys after its."""
    import threading

    store = open_store(pg_store_url)
    _empty(store)
    big_conn = store.connect()
    big = sinks.SqlSink(big_conn)
    assert big.begin_bulk(1 << 30)
    taken = list(big._row_keys(S.vertices, 1000))
    drawn: list[int] = []

    def other_loader() -> None:
        with store.connect() as conn:
            small = sinks.SqlSink(conn)
            drawn.extend(small._row_keys(S.vertices, 5))
            conn.rollback()

    thread = threading.Thread(target=other_loader)
    thread.start()
    thread.join(timeout=1.0)
    assert thread.is_alive()  # waiting for the big load's locks
    big.finish()
    big.close()
    big_conn.commit()
    big_conn.close()
    thread.join(timeout=10)
    assert not thread.is_alive() and len(drawn) == 5
    assert min(drawn) > max(taken)
    store.dispose()


@pytest.mark.postgres
def test_postgres_load_refreshes_the_planner_statistics_after_the_commit(
    pg_store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sinks, "BULK_BYTES", 0)  # a big load: it rebuilds indexes, so statistics
    store = open_store(pg_store_url)
    _empty(store)
    (tmp_path / "v.csv").write_text(VERTICES)
    (tmp_path / "e.csv").write_text(EDGES)
    with store.connect() as c:
        started = c.sa_connection.exec_driver_sql("SELECT clock_timestamp()").scalar_one()
    assert load(store, [tmp_path / "v.csv", tmp_path / "e.csv"]).status == "LOAD_COMPLETED"
    store.wait_for_background()
    with store.connect() as c:
        analysed = c.sa_connection.exec_driver_sql(
            "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() "
            "AND last_analyze >= %(t)s",
            {"t": started},
        ).scalars()
        assert {"vertices", "vertex_properties", "edges", "edge_properties"} <= set(analysed)
    store.dispose()


@pytest.mark.postgres
def test_copy_writer_raises_the_error_of_a_failed_copy(pg_store_url: str) -> None:
    store = open_store(pg_store_url)
    _empty(store)
    with store.connect() as c:
        writer = CopyWriter(c.sa_connection.connection.driver_connection)
        writer.submit("seer_counters", {"no_such_column": ["a"]}, 1)
        with pytest.raises(psycopg.errors.UndefinedColumn):
            writer.wait()
        writer.close()
        c.rollback()
    store.dispose()
