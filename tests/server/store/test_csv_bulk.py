"""The column-at-a-time path for CSV edge files (server.store.loaders.csv_bulk): it loads what the
record path loads, and a chunk with a problem falls back to the record path, which names it."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.store import ElementQuery, open_store
from server.store.loaders import core, csv_bulk, load
from server.store.loaders.sinks import SqlSink, copy_text
from server.structure import Int64
from tests.server.store.conftest import _empty

VERTICES = "~id,~label\n" + "".join(f"v{i},n\n" for i in range(6))
EDGES = (
    "~id,~from,~to,~label,weight:Double,since:Long,note\n"
    "e1,v0,v1,r,0.5,2010,a\n"
    "e2,v1,v2,r,,,\n"
    "\n"  # blank line: skipped, as the csv module does
    "e3,v2,v3,s,1.0,,b\n"
    "e4,v3,v4,r,2.5,7,\n"
    "e5,v4,v5,r,,8,c\n"
    "e6,v5,v0,s,3,9,d\n"
    "e7,v0,v2,r,4,10,e\n"
)


def _graph(store) -> list:
    with store.connect() as c:
        edges = sorted(c.edges(), key=lambda e: e.id)
        props = c.edge_properties(edges)
        return [
            (e.id, e.label, e.out_v.id, e.in_v.id, [(p.key, p.value, type(p.value)) for p in ps])
            for e, ps in zip(edges, props, strict=True)
        ]


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Small chunks (3 lines), and what each call of the fast path answered."""
    answers: list[bool] = []
    real = SqlSink.write_edge_columns

    def record(self, layout, rows):
        answers.append(real(self, layout, rows))
        return answers[-1]

    monkeypatch.setattr(core, "BATCH", 3)
    monkeypatch.setattr(SqlSink, "write_edge_columns", record)
    return answers


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_clean_file_goes_column_by_column_and_matches_the_reference(kind, request, tmp_path, spy) -> None:
    if kind == "sqlite":
        store = open_store(f"sqlite:///{tmp_path / 'g.db'}")
    else:
        store = open_store(request.getfixturevalue("pg_store_url"))
        _empty(store)
    (tmp_path / "v.csv").write_text(VERTICES)
    (tmp_path / "e.csv").write_text(EDGES)
    reference = open_store("memory://")
    assert load(reference, [tmp_path / "v.csv", tmp_path / "e.csv"]).status == "LOAD_COMPLETED"
    report = load(store, [tmp_path / "v.csv", tmp_path / "e.csv"])
    assert report.status == "LOAD_COMPLETED", report.errors
    assert spy == [True, True, True]  # 8 lines in chunks of 3, none refused
    assert (report.edges, report.edge_properties, report.records) == (7, 15, 13)
    got = _graph(store)
    assert got == _graph(reference)
    assert got[0][4] == [("weight", 0.5, float), ("since", Int64(2010), Int64), ("note", "a", str)]


def test_generated_ids_when_there_is_no_id_column(tmp_path: Path, spy) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'g.db'}")
    (tmp_path / "v.csv").write_text(VERTICES)
    (tmp_path / "e.csv").write_text("~from,~to,~label\nv0,v1,r\nv1,v2,r\nv2,v3,r\nv3,v4,r\n")
    report = load(store, [tmp_path / "v.csv", tmp_path / "e.csv"])
    assert report.status == "LOAD_COMPLETED" and spy == [True, True]
    with store.connect() as c:
        ids = [e.id for e in c.edges()]
        assert len(set(ids)) == 4 and all(isinstance(i, int) for i in ids)
        v = c.add_vertex("later")  # generated ids stay unique after the load
        assert v.id not in ids


@pytest.mark.parametrize("fail_on_error", [True, False])
def test_a_bad_chunk_falls_back_and_names_each_problem(tmp_path: Path, spy, fail_on_error: bool) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'g.db'}")
    (tmp_path / "v.csv").write_text(VERTICES)
    bad = EDGES.replace("e4,v3,v4,r,2.5,7,", "e4,v3,ghost,r,2.5,7,").replace(
        "e5,v4,v5,r,,8,c", "e1,v4,v5,r,x,8,c"
    )
    edges = tmp_path / "e.csv"
    edges.write_text(bad)
    report = load(store, [tmp_path / "v.csv", edges], fail_on_error=fail_on_error)
    if fail_on_error:
        assert report.status == "LOAD_FAILED"
        assert report.errors == [
            f"{edges}:7:5: cannot parse 'x' as double (could not convert string to float: 'x')"
        ]
        with store.connect() as c:
            assert c.count_edges() == 0 and c.count_vertices() == 0
        return
    assert report.status == "LOAD_COMPLETED"
    assert spy == [True, False, True]  # lines 5-7 hold the problems
    assert report.errors == [
        f"{edges}:7:5: cannot parse 'x' as double (could not convert string to float: 'x')",
        f"{edges}:6:3: ~to vertex 'ghost' does not exist",
    ]
    assert [e[0] for e in _graph(store)] == ["e1", "e2", "e3", "e6", "e7"]


def test_duplicate_of_an_edge_loaded_in_an_earlier_chunk(tmp_path: Path, spy) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'g.db'}")
    (tmp_path / "v.csv").write_text(VERTICES)
    edges = tmp_path / "e.csv"
    edges.write_text(EDGES.replace("e7,", "e2,"))
    report = load(store, [tmp_path / "v.csv", edges])
    assert report.status == "LOAD_FAILED"
    assert report.errors == [f"{edges}:9:1: duplicate edge id 'e2' (in this load)"]


def test_files_the_split_would_misread_are_parsed_by_the_csv_module(tmp_path: Path) -> None:
    quoted = tmp_path / "q.csv"
    quoted.write_text('~id,~from,~to,~label,note\ne1,v0,v1,r,"a, b"\n')
    malformed = tmp_path / "m.csv"
    malformed.write_text('~id,~from,~to,~label,note\ne1,v0,v1,r,"a\x00b"\n')
    crlf = tmp_path / "c.csv"
    crlf.write_bytes(b"~id,~from,~to,~label\r\ne1,v0,v1,r\r\n")
    clean = tmp_path / "e.csv"
    clean.write_text(EDGES)
    quoted_file = csv_bulk.open_file(quoted, 10)
    assert quoted_file is not None and [c.rows for c in quoted_file.chunks] == [
        [["e1", "v0", "v1", "r", "a, b"]]
    ]
    assert csv_bulk.open_file(malformed, 10) is None  # NUL: the csv path reports it
    crlf_file = csv_bulk.open_file(crlf, 10)  # read with universal newlines, as csv does
    assert crlf_file is not None and [c.rows for c in crlf_file.chunks] == [[["e1", "v0", "v1", "r"]]]
    assert csv_bulk.open_file(tmp_path / "missing.csv", 10) is None
    assert csv_bulk.open_file(clean, 10) is not None
    store = open_store(f"sqlite:///{tmp_path / 'g.db'}")
    (tmp_path / "v.csv").write_text(VERTICES)
    report = load(store, [tmp_path / "v.csv", quoted])
    assert report.status == "LOAD_COMPLETED"
    assert _graph(store)[0][4] == [("note", "a, b", str)]


PEOPLE = (
    "~id,~label,name,age:Int,score:Double,big:Long,ok:Bool,born:Date,tiny:Byte,note:String(set)\n"
    "p0,person,ann,30,0.5,9000000000,true,2001-02-03,1,x\n"
    "p1,,bob,,,,,,,\n"
    "p2,person,cy,-4,1e3,1,FALSE,2001-02-03T04:05:06+02:00,-2,y\n"
    "\n"
    "p3,admin,dee,7,2,3,true,,,\n"
    "p4,person,eve,8,nan,,false,,,z\n"
)


def _vertices(store) -> list:
    with store.connect() as c:
        vs = sorted(c.vertices(), key=lambda v: str(v.id))
        props = c.vertex_properties(vs)
        return [
            (v.id, v.label, [(p.key, repr(p.value), type(p.value)) for p in ps])
            for v, ps in zip(vs, props, strict=True)
        ]


@pytest.fixture
def vertex_spy(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    answers: list[bool] = []
    real = SqlSink.write_vertex_columns

    def record(self, layout, rows):
        answers.append(real(self, layout, rows))
        return answers[-1]

    monkeypatch.setattr(core, "BATCH", 3)
    monkeypatch.setattr(SqlSink, "write_vertex_columns", record)
    return answers


def _same_as_memory(tmp_path: Path, files: list[Path], **kw):
    reference, store = open_store("memory://"), open_store(f"sqlite:///{tmp_path / 'g.db'}")
    expected, report = load(reference, files, **kw), load(store, files, **kw)
    assert (report.status, report.errors) == (expected.status, expected.errors)
    assert _vertices(store) == _vertices(reference)
    return report, store


def test_vertex_columns_keep_types_labels_and_order(tmp_path: Path, vertex_spy) -> None:
    path = tmp_path / "p.csv"
    path.write_text(PEOPLE)
    report, store = _same_as_memory(tmp_path, [path])
    assert report.status == "LOAD_COMPLETED" and vertex_spy == [True, True]
    assert (report.vertices, report.vertex_properties, report.records) == (5, 27, 5)
    got = {v[0]: v for v in _vertices(store)}
    assert got["p1"] == ("p1", "vertex", [("name", "'bob'", str)])
    assert [k for k, _, _ in got["p0"][2]][:3] == ["name", "age", "score"]


def test_vertex_chunks_with_problems_fall_back(tmp_path: Path, vertex_spy) -> None:
    path = tmp_path / "p.csv"
    path.write_text(PEOPLE.replace("p3,admin", "p0,admin").replace("p2,person", "p2,a;b"))
    report, _ = _same_as_memory(tmp_path, [path], fail_on_error=False)
    assert vertex_spy == [False, False]
    assert report.errors == [f"{path}:6:1: duplicate vertex id 'p0' (in this load)"]


def test_generated_vertex_ids_and_stored_duplicates(tmp_path: Path, vertex_spy) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'g.db'}")
    anonymous = tmp_path / "a.csv"
    anonymous.write_text("~label,n:Int\nx,1\nx,2\n")
    assert load(store, anonymous).status == "LOAD_COMPLETED"
    again = tmp_path / "b.csv"
    again.write_text("~id,~label\nq1,x\n")
    assert load(store, again).status == "LOAD_COMPLETED"
    report = load(store, again)
    assert report.errors == [f"{again}:2:1: duplicate vertex id 'q1' (in the database)"]
    assert vertex_spy == [True, True, False]
    with store.connect() as c:
        ids = [v.id for v in c.vertices()]
        assert len(ids) == 3 and sum(isinstance(i, int) for i in ids) == 2
        assert sorted(p.value for ps in c.vertex_properties(list(c.vertices())) for p in ps) == [1, 2]


QUOTED_PEOPLE = (
    "~id,~label,name,age:Int,note\n"
    'q0,person,"Smith, Ann",30,"two\nlines"\n'
    'q1,person,"say ""hi""",31,\n'
    "\n"
    'q2,person,plain,32,"a,b,c"\n'
    'q3,person,"x\r\ny",33,end\n'
)


def test_quoted_vertex_files_go_column_by_column_and_match_the_reference(tmp_path: Path, vertex_spy) -> None:
    path = tmp_path / "q.csv"
    path.write_bytes(QUOTED_PEOPLE.encode())  # \r\n inside a quoted field stays as it is
    report, store = _same_as_memory(tmp_path, [path])
    assert report.status == "LOAD_COMPLETED" and vertex_spy == [True, True]  # 4 rows in chunks of 3
    assert (report.vertices, report.vertex_properties, report.records) == (4, 11, 4)
    got = {v[0]: v[2] for v in _vertices(store)}
    assert got["q0"] == [("name", "'Smith, Ann'", str), ("age", "30", int), ("note", "'two\\nlines'", str)]
    assert got["q3"][0] == ("name", "'x\\r\\ny'", str)


def test_a_quoted_file_names_the_line_where_a_bad_row_starts(tmp_path: Path, vertex_spy) -> None:
    """Rows spanning several lines: the fallback names the line the bad row starts on."""
    path = tmp_path / "q.csv"
    path.write_text(QUOTED_PEOPLE.replace(",33,", ",old,"))
    report, _ = _same_as_memory(tmp_path, [path], fail_on_error=False)
    assert vertex_spy == [True, False]
    assert report.errors == [
        f"{path}:7:4: cannot parse 'old' as int (invalid literal for int() with base 10: 'old')"
    ]


def test_copy_text_escapes_and_nulls() -> None:
    rows = [(1, "a\tb\\c\nd\re", None, 0.1, Int64(5)), (2, "plain", 3, float("inf"), None)]
    assert copy_text(rows) == "1\ta\\tb\\\\c\\nd\\re\t\\N\t0.1\t5\n2\tplain\t3\tinf\t\\N\n"
    assert copy_text([]) == ""


def test_awkward_strings_round_trip(store, tmp_path: Path) -> None:
    path = tmp_path / "v.csv"
    path.write_text('~id,~label,s,d:Double\nv1,x,"tab\there, back\\\\slash\nnew line",1e300\nv2,x,\\N,-0.0\n')
    assert load(store, path).status == "LOAD_COMPLETED"
    with store.connect() as c:
        v1, v2 = c.vertices(ElementQuery(ids=["v1", "v2"]))
        got = [(p.key, p.value) for ps in c.vertex_properties([v1, v2]) for p in ps]
    assert got == [("s", "tab\there, back\\\\slash\nnew line"), ("d", 1e300), ("s", "\\N"), ("d", -0.0)]


def test_sqlite_load_leaves_its_wal_checkpoint_to_a_background_thread(tmp_path: Path) -> None:
    """The load's commit leaves the new pages in the write-ahead log (no automatic checkpoint in
    the commit); the store's thread then copies them into the database file, and the pooled
    connection gets SQLite's default back."""
    db, wal = tmp_path / "g.db", tmp_path / "g.db-wal"
    store = open_store(f"sqlite:///{db}")
    (tmp_path / "v.csv").write_text("~id,~label\n" + "".join(f"v{i},n\n" for i in range(3000)))
    edges = "".join(f"e{i},v{i % 3000},v{i * 7 % 3000},r,{i}\n" for i in range(60_000))
    (tmp_path / "e.csv").write_text("~id,~from,~to,~label,w:Double\n" + edges)
    at_commit: dict[str, int] = {}
    real = store.checkpoint_in_background

    def spy() -> None:
        at_commit.update(db=db.stat().st_size, wal=wal.stat().st_size)
        real()

    store.checkpoint_in_background = spy  # type: ignore[method-assign]
    assert load(store, [tmp_path / "v.csv", tmp_path / "e.csv"]).status == "LOAD_COMPLETED"
    store.wait_for_background()
    assert at_commit["wal"] > 2_000_000  # the load's pages, committed into the log
    assert db.stat().st_size > at_commit["db"] + 2_000_000  # ... and copied into the file afterwards
    with store.connect() as c:
        raw = c.sa_connection.connection.driver_connection
        assert raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
        assert c.count_edges() == 60_000
    store.dispose()
