"""The conformance harness's own parts: feature reading, notation, typed comparison, known list."""

from __future__ import annotations

import datetime
import decimal
import io
import math
import uuid
from pathlib import Path

import pytest

from server.store.memory import MemoryStore
from server.structure import BigInt, Direction, Edge, Float32, Int8, Int16, Int64, Merge, T, Vertex
from server.structure import Path as GPath
from tests.conformance.compare import canon, compare
from tests.conformance.features import load_scenarios
from tests.conformance.known import read_known, write_known
from tests.conformance.notation import Decoder, GraphIndex, split_items
from tests.conformance.runner import expand_next, parse_tree, skip_reason, with_side_effects


@pytest.fixture(scope="module")
def decoder() -> Decoder:
    store = MemoryStore()
    with store.connect() as conn:
        with conn.atomic():
            marko = conn.add_vertex("person", id=1)
            conn.add_vertex_property(marko, "name", "marko")
            conn.add_vertex_property(marko, "age", 29)
            vadas = conn.add_vertex("person", id=2)
            conn.add_vertex_property(vadas, "name", "vadas")
            conn.add_edge("knows", marko, vadas, id=7)
        conn.commit()
        index = GraphIndex.build(conn)
    return Decoder(index)


def test_suite_counts() -> None:
    scenarios = load_scenarios()
    assert len(scenarios) == 2072
    assert sum(sc.is_core for sc in scenarios) == 1881
    assert sum(sc.placeholder for sc in scenarios) == 11
    assert len({sc.id for sc in scenarios}) == 2072, "scenario ids must be unique"
    assert sum(len(sc.gremlin_strings()) for sc in scenarios) == 2758
    skipped = [sc for sc in scenarios if sc.is_core and skip_reason(sc)]
    assert all("subgraph" in skip_reason(sc) or "Gryo" in skip_reason(sc) for sc in skipped)
    assert len(skipped) == 6


def test_numbers_keep_their_types(decoder: Decoder) -> None:
    cases = {
        "d[1].b": Int8,
        "d[1].s": Int16,
        "d[1].i": int,
        "d[1].l": Int64,
        "d[1].n": BigInt,
        "d[1.5].f": Float32,
        "d[1.5].d": float,
        "d[1.5].m": decimal.Decimal,
    }
    for text, kind in cases.items():
        assert type(decoder.decode(text)) is kind, text
    assert math.isnan(decoder.decode("d[NaN]"))
    assert decoder.decode("d[-Infinity]") == -math.inf
    assert canon(decoder.decode("d[1].i")) != canon(decoder.decode("d[1].l"))


def test_scalars_and_tokens(decoder: Decoder) -> None:
    assert decoder.decode("str[]") == ""
    assert decoder.decode("str[ a ]") == " a "
    assert decoder.decode("null") is None
    assert decoder.decode("true") is True
    assert decoder.decode("marko") == "marko"
    assert decoder.decode("dt[2023-08-08T00:00:00Z]") == datetime.datetime(2023, 8, 8, tzinfo=datetime.UTC)
    assert decoder.decode("uuid[5100808b-62f9-42b7-957e-ed66c30f40d1]") == uuid.UUID(
        "5100808b-62f9-42b7-957e-ed66c30f40d1"
    )
    assert decoder.decode("t[label]") is T.label
    assert decoder.decode("D[from]") is Direction.OUT
    assert decoder.decode("M[onCreate]") is Merge.onCreate


def test_elements(decoder: Decoder) -> None:
    marko = decoder.decode("v[marko]")
    assert isinstance(marko, Vertex) and marko.id == 1
    assert decoder.decode("v[marko].id") == 1
    assert decoder.decode("v[marko].sid") == "1"
    edge = decoder.decode("e[marko-knows->vadas]")
    assert isinstance(edge, Edge) and edge.id == 7
    assert decoder.decode("e[marko-knows->vadas].id") == 7
    assert decoder.decode("vp[marko-age->d[29].i]").value == 29
    assert decoder.decode("v[nobody]").id == "nobody"  # Python's harness: a reference vertex


def test_collections(decoder: Decoder) -> None:
    assert split_items('a,l[b,c],m[{"x":"y,z"}]') == ["a", "l[b,c]", 'm[{"x":"y,z"}]']
    assert decoder.decode("l[d[1].i,l[a,b],v[marko]]") == [1, ["a", "b"], Vertex(1)]
    assert decoder.decode("l[]") == []
    assert decoder.decode("s[a,b]") == {"a", "b"}
    value = decoder.decode(
        'm[{"t[id]": "v[marko].id", "name": ["marko"], "d[1].l": 2, "x": 1.5, "m": "m[{\\"a\\": null}]"}]'
    )
    assert value == {T.id: 1, "name": ["marko"], Int64(1): 2, "x": 1.5, "m": {"a": None}}
    assert type(next(k for k in value if k == 1 and k is not T.id)) is Int64
    path = decoder.decode("p[v[marko],v[vadas],d[3].i]")
    assert isinstance(path, GPath) and path.objects == [Vertex(1), Vertex(2), 3]


def test_comparison_is_typed_and_order_aware() -> None:
    assert compare("unordered", [1, 2, 2], [2, 1, 2]) is None
    assert compare("unordered", [Int64(1)], [1]) is not None  # d[1].l is not d[1].i
    assert compare("unordered", [1.0], [1]) is not None
    assert compare("unordered", [Float32(0.1)], [Float32(0.1)]) is None
    assert compare("unordered", [1, 2], [1, 2, 2]) is not None  # counts matter
    assert compare("ordered", [1, 2], [2, 1]) is not None
    assert compare("of", [1, 1], [1, 2]) is None
    assert compare("of", [3], [1, 2]) is not None
    assert compare("empty", [], []) is None
    assert compare("unordered", [float("nan")], [float("nan")]) is None
    assert compare("unordered", [{T.id: 1, "a": [1]}], [{"a": [1], T.id: 1}]) is None
    # elements compare by id, whatever else they carry; paths ignore labels
    assert compare("unordered", [Vertex(1, "person")], [Vertex(1)]) is None
    assert compare("unordered", [GPath([frozenset({"a"})], [1])], [GPath([frozenset()], [1])]) is None
    assert compare("unordered", [{1, 2}], [[1, 2]]) is not None  # a set is not a list


def test_iterated_next_expands_the_first_result() -> None:
    assert expand_next([{"a": 1, "b": 2}, "ignored"]) == [{"a": 1}, {"b": 2}]
    assert expand_next([[1, 2]]) == [1, 2]
    assert expand_next([GPath([frozenset(), frozenset()], ["a", "b"])]) == ["a", "b"]
    assert expand_next([Vertex(1), Vertex(2)]) == [Vertex(1)]
    assert expand_next([]) == []


def test_tree_drawing(decoder: Decoder) -> None:
    lines = ["|--v[marko]", "   |--v[vadas]", "      |--d[1].i", "   |--lop", "|--josh"]
    assert parse_tree(lines, decoder) == {Vertex(1): {Vertex(2): {1: {}}, "lop": {}}, "josh": {}}


def test_side_effects_go_right_after_g(decoder: Decoder) -> None:
    script, bindings = with_side_effects("  g.V().cap('a')", {"a": "d[1].l"}, decoder)
    assert script == "g.withSideEffect(\"a\", _se_a).V().cap('a')"
    assert bindings == {"_se_a": Int64(1)}


def test_known_failures_file(tmp_path: Path) -> None:
    path = tmp_path / "known.txt"
    write_known(
        {("driver", "sqlite", "map/A.feature::x"), ("driver", "postgres", "map/A.feature::x y")},
        {("driver", "sqlite", "map/A.feature::x"), ("driver", "postgres", "map/A.feature::x y")},
        path,
    )
    assert read_known(path) == {
        ("driver", "sqlite", "map/A.feature::x"),
        ("driver", "postgres", "map/A.feature::x y"),
    }
    # a later run of the sqlite scenario that passes drops its line and keeps the other one
    write_known(set(), {("driver", "sqlite", "map/A.feature::x")}, path)
    assert read_known(path) == {("driver", "postgres", "map/A.feature::x y")}
    assert path.read_text().startswith("# Known failures")


def test_driver_types_round_trip_through_graphbinary() -> None:
    from tests.conformance.driver import from_driver, to_driver, typed_serializer

    serializer = typed_serializer()
    values = [
        1,
        Int64(2),
        Int16(3),
        Int8(4),
        BigInt(10**30),
        Float32(1.5),
        2.5,
        decimal.Decimal("1.25"),
        "s",
        T.label,
        Merge.onCreate,
        Direction.IN,
        {T.id: Int64(1), "k": [1, Int64(1)]},
        {frozenset({"a"}): 1, ("a",): 2},  # a set key and a list key stay apart
        {("a", "b")},
        Vertex(Int64(1), "person"),
        datetime.datetime(2023, 8, 8, tzinfo=datetime.UTC),
    ]
    for value in values:
        data = serializer._graphbinary_writer.write_object(to_driver(value))
        back = from_driver(serializer._graphbinary_reader.read_object(io.BytesIO(bytes(data))))
        assert canon(back) == canon(value), value


def test_driver_reads_a_graphbinary_tree_as_nested_maps() -> None:
    """``seer serve`` writes tree() results as nested maps (gremlinpython cannot read GraphBinary's
    Tree type, 0x2b); the harness reads them as the nested maps its tree check compares."""
    from server.protocol.graphbinary import write_value
    from server.structure.results import Tree
    from tests.conformance.driver import from_driver, typed_serializer

    tree = Tree({Vertex(Int64(1), "person"): Tree({"lop": Tree(), "josh": Tree({"ripple": Tree()})})})
    data = write_value(tree)
    back = from_driver(typed_serializer()._graphbinary_reader.read_object(io.BytesIO(data)))
    assert canon(back) == canon({Vertex(Int64(1), "person"): {"lop": {}, "josh": {"ripple": {}}}})
    assert canon(back) != canon({Vertex(Int64(1), "person"): {"lop": {}, "josh": {}}})


def test_markdown_counts_core_and_tagged_apart() -> None:
    from tests.conformance.features import Scenario
    from tests.conformance.report import Tally, markdown_table
    from tests.conformance.runner import Outcome

    tally = Tally()
    tally.add(Outcome(Scenario("map/A.feature", "a", 1, frozenset()), "pass"))
    tally.add(Outcome(Scenario("map/A.feature", "b", 2, frozenset()), "fail"))
    tally.add(Outcome(Scenario("map/A.feature", "c", 3, frozenset({"@MultiProperties"})), "pass"))
    text = markdown_table([("sqlite (driver)", tally)], "python -m tests.conformance --backend sqlite")
    assert "python -m tests.conformance --backend sqlite" in text
    assert "Measured " in text and "-core machine" in text
    assert "| map | 1 | 1 | 0 | 50.0% |" in text  # core
    assert "| map | 1 | 0 | 0 | 100.0% |" in text  # tagged
