"""The store contract (server/store/interface.py), on every backend: memory, SQLite, PostgreSQL."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import pytest

from server.store import (
    DuplicateId,
    ElementNotFound,
    ElementQuery,
    InvalidValue,
    PropertyFilter,
    TransactionError,
)
from server.structure import (
    BigInt,
    Cardinality,
    Char,
    Direction,
    Edge,
    Float32,
    Int8,
    Int16,
    Int64,
    Property,
    Vertex,
    VertexProperty,
)

OUT, IN, BOTH = Direction.OUT, Direction.IN, Direction.BOTH


def ids(elements) -> list:
    return [e.id for e in elements]


def test_generated_ids_are_int64_and_user_ids_keep_their_type(store) -> None:
    u = uuid.UUID("6d0c5f0e-1b7e-4a55-9c83-5c9a0f0c4d11")
    with store.connect() as c:
        gen = c.add_vertex("person")
        for supplied in (101, Int64(102), Int16(103), "marko", u):
            c.add_vertex("person", id=supplied)
        c.commit()
    with store.connect() as c:
        found = list(c.vertices())
        assert type(found[0].id) is Int64 and found[0].id == gen.id
        assert [(type(v.id), v.id) for v in found[1:]] == [
            (int, 101),
            (Int64, 102),
            (Int16, 103),
            (str, "marko"),
            (uuid.UUID, u),
        ]
        assert all(v.label == "person" for v in found)


def test_numeric_ids_match_by_value_and_strings_never_match_numbers(store) -> None:
    with store.connect() as c:
        c.add_vertex("a", id=Int64(10))
        c.add_vertex("b", id="10")
        assert [(v.label, v.id) for v in c.vertices(ElementQuery(ids=[10]))] == [("a", 10)]
        assert [v.label for v in c.vertices(ElementQuery(ids=["10"]))] == ["b"]
        assert list(c.vertices(ElementQuery(ids=[10.5, None, True]))) == []


def test_duplicate_ids_and_missing_endpoints_are_named(store) -> None:
    with store.connect() as c:
        a = c.add_vertex("a", id=1)
        with pytest.raises(DuplicateId, match="1"):
            c.add_vertex("a", id=Int64(1))
        e = c.add_edge("e", a, a, id="e1")
        with pytest.raises(DuplicateId, match="e1"):
            c.add_edge("e", a, a, id="e1")
        with pytest.raises(ElementNotFound, match="99"):
            c.add_edge("e", a, Vertex(99))
        with pytest.raises(InvalidValue):
            c.add_vertex("a", id=1.5)
        with pytest.raises(InvalidValue):
            c.add_vertex("")
        assert c.count_edges() == 1 and e.out_v.id == 1


def test_generated_ids_skip_user_supplied_numbers(store) -> None:
    with store.connect() as c:
        c.add_vertex("a", id=1)
        c.add_vertex("a", id=2)
        made = [c.add_vertex("g").id for _ in range(3)]
        assert len(set(made) | {1, 2}) == 5


VALUES = [
    7,
    Int64(2**40),
    Int16(-3),
    Int8(5),
    BigInt(2**70),
    1.5,
    Float32(0.25),
    decimal.Decimal("3.14159265358979323846"),
    "text",
    Char("x"),
    True,
    dt.datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    uuid.UUID("00000000-0000-0000-0000-000000000042"),
    dt.timedelta(days=1, seconds=5, microseconds=7),
    b"\x00\x01bytes",
    [1, Int64(2), "three", [4.0]],
    {1, "a"},
    {"k": Int64(1), 2: ["x"], "nested": {"b": False}},
    float("inf"),
]


@pytest.mark.parametrize("value", VALUES, ids=[f"{type(v).__name__}{i}" for i, v in enumerate(VALUES)])
def test_values_keep_their_gremlin_types(store, value) -> None:
    with store.connect() as c:
        v = c.add_vertex("thing")
        c.add_vertex_property(v, "p", value)
        e = c.add_edge("rel", v, v)
        c.set_edge_property(e, "q", value)
        c.commit()
    with store.connect() as c:
        [[vp]] = c.vertex_properties([Vertex(v.id)])
        [[ep]] = c.edge_properties([Edge(e.id, "rel", v, v)])
        for got in (vp.value, ep.value):
            assert got == value and type(got) is type(value)
            if isinstance(value, list):
                assert [type(x) for x in got] == [type(x) for x in value]
            if isinstance(value, dict):
                assert {k: type(x) for k, x in got.items()} == {k: type(x) for k, x in value.items()}


def test_null_and_elements_are_not_property_values(store) -> None:
    with store.connect() as c:
        v = c.add_vertex("a")
        with pytest.raises(InvalidValue):
            c.add_vertex_property(v, "p", None)
        with pytest.raises(InvalidValue):
            c.add_vertex_property(v, "p", v)


def test_cardinalities_and_meta_properties(store) -> None:
    with store.connect() as c:
        v = c.add_vertex("person")
        c.add_vertex_property(v, "name", "a")
        c.add_vertex_property(v, "name", "b")  # single: replaces
        c.add_vertex_property(v, "city", "x", Cardinality.list_)
        c.add_vertex_property(v, "city", "x", Cardinality.list_)
        c.add_vertex_property(v, "tag", 1, Cardinality.set_)
        again = c.add_vertex_property(v, "tag", 1, Cardinality.set_)
        c.add_vertex_property(v, "tag", Int64(1), Cardinality.set_)  # another type: another value
        loc = c.add_vertex_property(
            v, "loc", "sd", Cardinality.list_, meta=[("since", 1997), ("until", 2001)]
        )
        c.set_meta_property(loc, "since", 1998)
        c.commit()
        props = c.vertex_properties([v])[0]
        assert [(p.key, p.value) for p in props] == [
            ("name", "b"),
            ("city", "x"),
            ("city", "x"),
            ("tag", 1),
            ("tag", 1),
            ("loc", "sd"),
        ]
        assert type(props[4].value) is Int64 and again.id == props[3].id
        assert [(m.key, m.value) for m in props[5].properties] == [("until", 2001), ("since", 1998)]
        assert all(p.vertex == v for p in props)
        assert len({p.id for p in props}) == 6
        assert [p.key for p in c.vertex_properties([v], ["loc", "name"])[0]] == ["name", "loc"]
        assert c.vertex_properties([v], [])[0] == []


def test_user_supplied_vertex_property_ids(store) -> None:
    with store.connect() as c:
        v = c.add_vertex("a")
        p = c.add_vertex_property(v, "k", 1, Cardinality.list_, id=Int64(500))
        assert p.id == 500
        with pytest.raises(DuplicateId):
            c.add_vertex_property(v, "k", 2, Cardinality.list_, id=500)
        [[got]] = c.vertex_properties([v])
        assert got.id == 500 and type(got.id) is Int64


def test_adjacency_order_directions_labels_and_degrees(store) -> None:
    with store.connect() as c:
        a, b, d = (c.add_vertex("v", id=i) for i in ("a", "b", "d"))
        e1 = c.add_edge("knows", a, b)
        e2 = c.add_edge("likes", a, d)
        e3 = c.add_edge("knows", b, a)
        loop = c.add_edge("self", a, a)
        c.commit()
        assert [ids(x) for x in c.incident_edges([a, b, Vertex("zz")], OUT)] == [
            [e1.id, e2.id, loop.id],
            [e3.id],
            [],
        ]
        assert ids(c.incident_edges([a], IN)[0]) == [e3.id, loop.id]
        assert ids(c.incident_edges([a], BOTH)[0]) == [e1.id, e2.id, loop.id, e3.id, loop.id]
        assert ids(c.incident_edges([a], OUT, ["knows"])[0]) == [e1.id]
        assert c.incident_edges([a], OUT, []) == [[]]
        [[edge]] = c.incident_edges([b], IN, ["knows"])
        assert (edge.out_v.id, edge.out_v.label, edge.in_v.id) == ("a", "v", "b")
        assert [ids(x) for x in c.adjacent_vertices([a, a], OUT)] == [["b", "d", "a"]] * 2
        assert ids(c.adjacent_vertices([Vertex("a")], BOTH, ["knows"])[0]) == ["b", "b"]
        assert c.degrees([a, b, d], BOTH) == [5, 2, 1]
        assert c.degrees([a], OUT, ["knows", "self"]) == [2]
        assert c.degrees([Vertex("nope")], IN) == [0]


def test_edge_properties_keep_insertion_order_and_reset_moves_to_end(store) -> None:
    with store.connect() as c:
        a = c.add_vertex("v")
        e = c.add_edge("e", a, a)
        c.set_edge_property(e, "x", 1)
        c.set_edge_property(e, "y", 2)
        c.set_edge_property(e, "x", 3)
        assert [(p.key, p.value) for p in c.edge_properties([e])[0]] == [("y", 2), ("x", 3)]
        assert [p.key for p in c.edge_properties([e], ["x"])[0]] == ["x"]
        assert c.edge_properties([Edge("nope", "e", a, a)]) == [[]]


def _people(c):
    made = []
    for i, (name, age) in enumerate([("marko", 29), ("vadas", Int64(27)), ("josh", 32.0), ("peter", 35)]):
        v = c.add_vertex("person", id=i + 1)
        c.add_vertex_property(v, "name", name)
        c.add_vertex_property(v, "age", age)
        made.append(v)
    sw = c.add_vertex("software", id=10)
    c.add_vertex_property(sw, "name", "lop")
    c.add_vertex_property(sw, "lang", "java")
    return made, sw


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (PropertyFilter("age", "eq", 29.0), [1]),
        (PropertyFilter("age", "eq", Int64(32)), [3]),
        (PropertyFilter("age", "neq", 29), [2, 3, 4]),
        (PropertyFilter("age", "gt", 29), [3, 4]),
        (PropertyFilter("age", "gte", 29), [1, 3, 4]),
        (PropertyFilter("age", "lt", 28.5), [2]),
        (PropertyFilter("age", "lte", decimal.Decimal("27")), [2]),
        (PropertyFilter("age", "within", (27, 35, "x")), [2, 4]),
        (PropertyFilter("age", "without", (27, 35)), [1, 3]),
        (PropertyFilter("age", "within", ()), []),
        (PropertyFilter("age", "lt", "zzz"), []),
        (PropertyFilter("age", "eq", float("nan")), []),
        (PropertyFilter("name", "eq", "lop"), [10]),
        (PropertyFilter("name", "gt", "m"), [1, 4, 2]),
        (PropertyFilter("name", "lt", "lop"), [3]),
        (PropertyFilter("name", "within", ("josh", "lop", 5)), [3, 10]),
        (PropertyFilter("lang", "exists"), [10]),
        (PropertyFilter("name", "eq", 29), []),
    ],
)
def test_property_filters_follow_gremlin_comparison(store, flt, expected) -> None:
    with store.connect() as c:
        _people(c)
        c.commit()
        found = [v.id for v in c.vertices(ElementQuery(filters=[flt]))]
        assert sorted(found) == sorted(expected)
        assert c.count_vertices(ElementQuery(filters=[flt])) == len(expected)


def test_labels_filters_and_ids_combine(store) -> None:
    with store.connect() as c:
        _people(c)
        q = ElementQuery(
            labels=["person"], filters=[PropertyFilter("age", "gt", 28), PropertyFilter("name", "lt", "p")]
        )
        assert [v.id for v in c.vertices(q)] == [1, 3]
        q = ElementQuery(ids=[4, 3, 10, 3, 99], labels=["person", "software"])
        assert [v.id for v in c.vertices(q)] == [4, 3, 10, 3]
        assert c.count_vertices(q) == 4
        assert c.count_vertices(ElementQuery(labels=["software"])) == 1
        assert c.count_vertices(ElementQuery(labels=[])) == 0


def test_multi_properties_match_when_any_value_matches(store) -> None:
    with store.connect() as c:
        v = c.add_vertex("p")
        for city in ("rome", "oslo"):
            c.add_vertex_property(v, "city", city, Cardinality.list_)
        assert ids(c.vertices(ElementQuery(filters=[PropertyFilter("city", "eq", "oslo")]))) == [v.id]
        assert ids(c.vertices(ElementQuery(filters=[PropertyFilter("city", "neq", "oslo")]))) == [v.id]


def test_long_strings_are_found_exactly(store) -> None:
    long = "x" * 300
    with store.connect() as c:
        a, b = c.add_vertex("a"), c.add_vertex("a")
        c.add_vertex_property(a, "s", long)
        c.add_vertex_property(b, "s", long + "y")
        assert ids(c.vertices(ElementQuery(filters=[PropertyFilter("s", "eq", long)]))) == [a.id]
        assert ids(c.vertices(ElementQuery(filters=[PropertyFilter("s", "gt", long)]))) == [b.id]


def test_edge_scans_filter_by_label_and_property(store) -> None:
    with store.connect() as c:
        a, b = c.add_vertex("v", id=1), c.add_vertex("v", id=2)
        heavy = c.add_edge("w", a, b, id=100)
        c.set_edge_property(heavy, "weight", 1.0)
        light = c.add_edge("w", b, a, id=101)
        c.set_edge_property(light, "weight", 0.2)
        c.add_edge("other", a, a, id=102)
        q = ElementQuery(labels=["w"], filters=[PropertyFilter("weight", "gte", 0.5)])
        [edge] = c.edges(q)
        assert (edge.id, edge.out_v.id, edge.in_v.id) == (100, 1, 2)
        assert ids(c.edges(ElementQuery(ids=[102, 100]))) == [102, 100]
        assert c.count_edges(ElementQuery(labels=["w"])) == 2


def test_scans_stream_in_insertion_order_beyond_one_page(store) -> None:
    with store.connect() as c:
        made = [c.add_vertex("n", id=f"v{i:04d}") for i in range(260)]
        c.commit()
        assert ids(c.vertices()) == ids(made)
        first = next(iter(c.vertices()))
        assert first.id == "v0000"


def test_removals_cascade(store) -> None:
    with store.connect() as c:
        a, b, d = c.add_vertex("v", id=1), c.add_vertex("v", id=2), c.add_vertex("v", id=3)
        e1 = c.add_edge("e", a, b)
        c.set_edge_property(e1, "w", 1)
        e2 = c.add_edge("e", b, d)
        p = c.add_vertex_property(b, "name", "bee", meta=[("m", 1)])
        c.add_vertex_property(b, "other", 2)
        c.remove_vertices([Vertex(1), Vertex("ghost")])
        assert ids(c.vertices()) == [2, 3] and ids(c.edges()) == [e2.id]
        c.remove_vertex_properties([p])
        assert [x.key for x in c.vertex_properties([b])[0]] == ["other"]
        e3 = c.add_edge("e", d, b)
        c.set_edge_property(e3, "keep", 1)
        c.set_edge_property(e3, "drop", 2)
        c.remove_properties([Property("drop", 2, e3)])
        assert [x.key for x in c.edge_properties([e3])[0]] == ["keep"]
        q = c.add_vertex_property(d, "q", 1, meta=[("m1", 1), ("m2", 2)])
        c.remove_properties([Property("m1", 1, q)])
        assert [m.key for m in c.vertex_properties([d])[0][0].properties] == ["m2"]
        c.remove_edges([e2, Edge("ghost", "e", b, d)])
        assert ids(c.edges()) == [e3.id]
        c.clear()
        assert c.count_vertices() == 0 and c.count_edges() == 0


def test_commit_rollback_and_visibility(store) -> None:
    with store.connect() as writer, store.connect() as reader:
        writer.add_vertex("kept", id=1)
        writer.commit()
        writer.add_vertex("lost", id=2)
        writer.rollback()
        assert ids(reader.vertices()) == [1]
        assert ids(writer.vertices()) == [1]


def test_atomic_nests_on_savepoints(store) -> None:
    with store.connect() as c:
        with c.atomic():
            c.add_vertex("outer", id=1)
            with pytest.raises(RuntimeError):
                with c.atomic():
                    c.add_vertex("inner", id=2)
                    raise RuntimeError("boom")
            with c.atomic():
                c.add_vertex("inner", id=3)
        with store.connect() as other:
            assert ids(other.vertices()) == [1, 3]


def test_closed_connection_refuses_work(store) -> None:
    c = store.connect()
    c.close()
    with pytest.raises(TransactionError):
        c.add_vertex("x")


def test_elements_without_ref_are_resolved_by_id(store) -> None:
    with store.connect() as c:
        a = c.add_vertex("v", id="a")
        b = c.add_vertex("v", id=uuid.UUID(int=5))
        e = c.add_edge("e", a, b, id=Int64(9))
        p = c.add_vertex_property(a, "k", 1)
        c.set_meta_property(VertexProperty(p.id, "k", 1, None), "m", "x")
        c.set_edge_property(Edge(9, "e", Vertex("a"), Vertex(b.id)), "w", 2)
        assert ids(c.adjacent_vertices([Vertex(uuid.UUID(int=5))], IN)[0]) == ["a"]
        assert [(x.key, x.value) for x in c.edge_properties([Edge(9, "e", a, b)])[0]] == [("w", 2)]
        assert c.vertex_properties([Vertex("a")])[0][0].properties[0].value == "x"
        assert e.in_v.id == b.id
