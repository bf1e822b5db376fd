"""Bulk loading: Neptune CSV, GraphSON 3.0 and GraphML into every backend; bad input is refused
with file, line and column, and failOnError commits nothing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from server.cli.main import cli
from server.store import ElementQuery, LoadError, PropertyFilter, open_store
from server.store.loaders import load
from server.structure import Direction, Float32, Int8, Int16, Int64
from tests.conftest import DATASETS, TINKERPOP

GRAPHSON_FILES = sorted((TINKERPOP / "data").glob("*-v3.json"))
BIG = {"grateful-dead-v3.json"}  # the memory backend (the reference) is checked on the small ones


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# -- GraphSON: every TinkerPop graph file comes back with its counts, ids and types ----------------


def _typed(node):
    """(GraphSON type, raw value) of a typed node, read independently of the loader."""
    return (node["@type"], node["@value"]) if isinstance(node, dict) else ("str", node)


def _expected(path: Path) -> dict:
    vertices, edges, vprops, eprops = {}, {}, 0, 0
    for line in path.read_text().splitlines():
        doc = json.loads(line)
        vertices[_typed(doc["id"])] = doc["label"]
        for entries in doc.get("properties", {}).values():
            vprops += len(entries)
        for label, out in doc.get("outE", {}).items():
            for e in out:
                edges[_typed(e["id"])] = (label, _typed(doc["id"]), _typed(e["inV"]))
                eprops += len(e.get("properties", {}))
    return {"vertices": vertices, "edges": edges, "vprops": vprops, "eprops": eprops}


_GTYPE = {int: "g:Int32", Int64: "g:Int64", str: "str", float: "g:Double", Float32: "g:Float"}


SMALL_FILES = [p for p in GRAPHSON_FILES if p.name not in BIG]
BIG_FILES = [p for p in GRAPHSON_FILES if p.name in BIG]


@pytest.mark.parametrize("path", SMALL_FILES, ids=[p.name for p in SMALL_FILES])
def test_graphson_files_reproduce_their_graph(store, path: Path) -> None:
    _check_graphson(store, path)


@pytest.mark.parametrize(
    "store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
@pytest.mark.parametrize("path", BIG_FILES, ids=[p.name for p in BIG_FILES])
def test_big_graphson_files_on_sql_backends(store, path: Path) -> None:
    _check_graphson(store, path)


def _check_graphson(store, path: Path) -> None:
    want = _expected(path)
    report = load(store, path)
    assert report.status == "LOAD_COMPLETED", report.errors
    with store.connect() as c:
        vertices = list(c.vertices())
        edges = list(c.edges())
        assert {(_GTYPE[type(v.id)], v.id): v.label for v in vertices} == want["vertices"]
        got_edges = {
            (_GTYPE[type(e.id)], e.id): (
                e.label,
                (_GTYPE[type(e.out_v.id)], e.out_v.id),
                (_GTYPE[type(e.in_v.id)], e.in_v.id),
            )
            for e in edges
        }
        assert got_edges == want["edges"]
        vprops = [p for ps in c.vertex_properties(vertices) for p in ps]
        assert len(vprops) == want["vprops"]
        assert sum(len(ps) for ps in c.edge_properties(edges)) == want["eprops"]
    assert (report.vertices, report.edges) == (len(want["vertices"]), len(want["edges"]))


def test_graphson_crew_keeps_multi_and_meta_properties_with_types(store) -> None:
    load(store, TINKERPOP / "data" / "tinkerpop-crew-v3.json")
    with store.connect() as c:
        [marko] = c.vertices(ElementQuery(ids=[1]))
        locations = c.vertex_properties([marko], ["location"])[0]
        assert [p.value for p in locations] == ["san diego", "santa cruz", "brussels", "santa fe"]
        assert [type(p.id) for p in locations] == [Int64] * 4 and [p.id for p in locations] == [6, 7, 8, 9]
        meta = {m.key: m.value for m in locations[0].properties}
        assert meta == {"startTime": 1997, "endTime": 2001} and type(meta["startTime"]) is int


def test_graphml_modern(store) -> None:
    report = load(store, TINKERPOP / "data" / "tinkerpop-modern.xml")
    assert report.status == "LOAD_COMPLETED"
    with store.connect() as c:
        [marko] = c.vertices(ElementQuery(ids=["1"]))
        assert marko.label == "person"
        props = {p.key: p.value for p in c.vertex_properties([marko])[0]}
        assert props == {"name": "marko", "age": 29} and type(props["age"]) is int
        [[edge]] = [c.incident_edges([marko], Direction.OUT, ["knows"])[0][:1]]
        [[weight]] = c.edge_properties([edge])
        assert weight.key == "weight" and type(weight.value) is float
        assert c.count_edges() == 6


# -- Neptune CSV -----------------------------------------------------------------------------------

VERTICES = """~id,~label,name:String,age:Int,score:Double,born:Date,tags:String[],big:Long,tiny:Byte,s:Short,f:Float,ok:Bool,nick:string(single)
a,person,alice,30,1.5,2001-02-03,x;y;x;a\\;b,9000000000,1,2,0.5,true,al
b,person;admin,bob,,,,,,,,,,
c,,carol,41,,2020-01-01T10:00:00Z,,,,,,false,
"""
EDGES = """~id,~from,~to,~label,weight:Double,since:Int
e1,a,b,knows,0.5,2010
e2,b,c,knows,,
e3,c,a,likes,1.0,
"""


def test_csv_types_multi_values_and_labels(store, tmp_path: Path) -> None:
    report = load(store, [write(tmp_path, "v.csv", VERTICES), write(tmp_path, "e.csv", EDGES)])
    assert report.status == "LOAD_COMPLETED", report.errors
    assert (report.vertices, report.edges) == (3, 3)
    with store.connect() as c:
        a, b, cc = c.vertices(ElementQuery(ids=["a", "b", "c"]))
        assert (a.label, b.label, cc.label) == ("person", "person::admin", "vertex")
        props = c.vertex_properties([a])[0]
        values = {}
        for p in props:
            values.setdefault(p.key, []).append(p.value)
        assert values["tags"] == ["x", "y", "a;b"]
        assert values["born"] == [dt.datetime(2001, 2, 3, tzinfo=dt.UTC)]
        assert [type(values[k][0]) for k in ("age", "score", "big", "tiny", "s", "f", "ok", "nick")] == [
            int,
            float,
            Int64,
            Int8,
            Int16,
            Float32,
            bool,
            str,
        ]
        assert [p.key for p in c.vertex_properties([b])[0]] == ["name"]  # empty fields: no value
        [e1] = c.edges(ElementQuery(ids=["e1"]))
        assert (e1.out_v.id, e1.in_v.id, e1.label) == ("a", "b", "knows")
        assert [(p.key, p.value) for p in c.edge_properties([e1])[0]] == [("weight", 0.5), ("since", 2010)]
        assert c.count_vertices(ElementQuery(filters=[PropertyFilter("age", "gt", 35)])) == 1


def test_bad_row_in_the_middle_commits_nothing_and_names_the_line(store, tmp_path: Path) -> None:
    with store.connect() as c:
        c.add_vertex("existing", id="keep")
        c.commit()
    rows = ["~id,~label,runways:Int"] + [f"v{i},airport,{i}" for i in range(10)]
    rows[6] = "v5,airport,five"  # line 7 of the file, column 3
    path = write(tmp_path, "nodes.csv", "\n".join(rows) + "\n")
    report = load(store, path)
    assert report.status == "LOAD_FAILED"
    assert report.errors == [
        f"{path}:7:3: cannot parse 'five' as int (invalid literal for int() with base 10: 'five')"
    ]
    assert report.parsing_errors == 1 and report.vertices == 0
    with store.connect() as c:
        assert [v.id for v in c.vertices()] == ["keep"]
    neptune = report.to_neptune()
    assert neptune["overallStatus"]["status"] == "LOAD_FAILED"
    assert neptune["overallStatus"]["parsingErrors"] == 1
    assert neptune["errors"]["errorLogs"][0]["recordNum"] == 7


def test_no_fail_on_error_loads_the_rest_and_reports_each_problem(store, tmp_path: Path) -> None:
    nodes = write(tmp_path, "n.csv", "~id,~label,n:Int\nv1,x,1\nv2,x,oops\nv1,x,3\nv4,x,4,extra\nv5,x,5\n")
    edges = write(
        tmp_path, "r.csv", "~id,~from,~to,~label\ne1,v1,v5,r\ne2,v1,ghost,r\ne1,v5,v1,r\ne3,,v1,r\n"
    )
    report = load(store, [nodes, edges], fail_on_error=False)
    assert report.status == "LOAD_COMPLETED"
    assert report.errors == [
        f"{nodes}:3:3: cannot parse 'oops' as int (invalid literal for int() with base 10: 'oops')",
        f"{nodes}:5:4: expected 3 fields, found 4",
        f"{nodes}:4:1: duplicate vertex id 'v1' (in this load)",
        f"{edges}:5:2: empty ~from",
        f"{edges}:3:3: ~to vertex 'ghost' does not exist",
        f"{edges}:4:1: duplicate edge id 'e1' (in this load)",
    ]
    assert report.to_neptune()["overallStatus"]["insertErrors"] == 3
    with store.connect() as c:
        assert [v.id for v in c.vertices()] == ["v1", "v5"]
        assert [e.id for e in c.edges()] == ["e1"]


def test_duplicate_of_a_stored_id_is_refused(store, tmp_path: Path) -> None:
    first = write(tmp_path, "a.csv", "~id,~label\nv1,x\n")
    assert load(store, first).status == "LOAD_COMPLETED"
    second = write(tmp_path, "b.csv", "~id,~label\nv2,x\nv1,x\n")
    report = load(store, second)
    assert report.status == "LOAD_FAILED"
    assert report.errors == [f"{second}:3:1: duplicate vertex id 'v1' (in the database)"]
    edges = write(tmp_path, "c.csv", "~id,~from,~to,~label\ne1,v1,v1,self\n")
    assert load(store, edges).status == "LOAD_COMPLETED"  # endpoints found in the database
    with store.connect() as c:
        assert c.count_vertices() == 1 and c.count_edges() == 1


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("~id,age:Integer", "1:2: unknown type 'Integer' in column 'age:Integer'"),
        ("~id,~weird", "1:2: unknown system column '~weird'"),
        ("~id,age:Int(multi)", "1:2: unknown cardinality 'multi'"),
        ("~id,~from,~to", "an edge file needs a ~label column"),
    ],
)
def test_bad_headers_are_named(tmp_path: Path, header: str, message: str) -> None:
    store = open_store("memory://")
    path = write(tmp_path, "h.csv", header + "\n")
    report = load(store, path)
    assert report.status == "LOAD_FAILED"
    assert report.errors[0].startswith(str(path)) and message in report.errors[0]


def test_bad_graphson_and_graphml_name_line_and_column(tmp_path: Path) -> None:
    store = open_store("memory://")
    good = '{"id":{"@type":"g:Int32","@value":1},"label":"x"}'
    js = write(tmp_path, "g.json", good + '\n{"id": {"@type":"g:Nope","@value":1},"label":"x"}\n{"id": 3,\n')
    report = load(store, js, fail_on_error=False)
    assert report.errors == [
        f"{js}:2: not a GraphSON 3.0 vertex: unknown GraphSON type 'g:Nope'",
        f"{js}:3:10: invalid JSON: Expecting property name enclosed in double quotes",
    ]
    xml = write(
        tmp_path,
        "g.graphml",
        '<graphml><key id="a" for="node" attr.type="int"/>\n<graph><node id="1"><data key="a">x</data></node>\n</graph>',
    )
    report = load(store, xml)
    assert report.status == "LOAD_FAILED" and report.errors[0].startswith(f"{xml}:2:")
    assert "cannot parse 'x' as int" in report.errors[0]


def test_missing_paths_and_unknown_formats_raise_before_loading(tmp_path: Path) -> None:
    store = open_store("memory://")
    with pytest.raises(LoadError, match="no such file"):
        load(store, tmp_path / "nope.csv")
    with pytest.raises(LoadError, match="cannot tell the format"):
        load(store, write(tmp_path, "x.txt", "~id\n"))


def test_progress_reports_in_progress_then_done(tmp_path: Path) -> None:
    seen = []
    load(
        open_store("memory://"),
        write(tmp_path, "v.csv", "~id\na\nb\n"),
        progress=lambda r: seen.append(r.status),
    )
    assert seen[0] == "LOAD_IN_PROGRESS" and seen[-1] == "LOAD_COMPLETED"


# -- air-routes: the real data set, on SQLite and PostgreSQL -----------------------------------------


def test_air_routes_csv_on_sqlite(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'ar.db'}")
    _check_air_routes(store)
    store.dispose()


@pytest.mark.parametrize("store", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_air_routes_csv_on_postgres(store) -> None:
    _check_air_routes(store)


def test_seer_load_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    modern = str(TINKERPOP / "data" / "tinkerpop-modern-v3.json")
    done = CliRunner().invoke(cli, ["load", "--db", url, modern])
    assert done.exit_code == 0, done.output
    assert "LOAD_COMPLETED: 6 vertices, 6 edges, 18 properties" in done.output
    again = CliRunner().invoke(cli, ["load", "--db", url, "--json", modern])
    assert again.exit_code == 1
    status = json.loads(again.stdout[again.stdout.index("{") :])
    assert status["overallStatus"]["status"] == "LOAD_FAILED"
    assert status["errors"]["errorLogs"][0]["errorMessage"] == "duplicate vertex id 1 (in the database)"


def _check_air_routes(store) -> None:
    report = load(store, DATASETS / "air-routes")
    assert report.status == "LOAD_COMPLETED", report.errors[:3]
    assert (report.vertices, report.edges) == (3749, 57645)
    with store.connect() as c:
        assert c.count_vertices() == 3749 and c.count_edges() == 57645
        [aus] = c.vertices(ElementQuery(labels=["airport"], filters=[PropertyFilter("code", "eq", "AUS")]))
        props = {p.key: p.value for p in c.vertex_properties([aus])[0]}
        assert type(props["runways"]) is int and type(props["lat"]) is float and type(props["desc"]) is str
        assert props["desc"] == "Austin Bergstrom International Airport"
        routes = c.incident_edges([aus], Direction.OUT, ["route"])[0]
        dist = c.edge_properties(routes[:1], ["dist"])[0][0].value
        assert len(routes) > 50 and type(dist) is int
