"""The store reads behind the engine's fused steps (vertex_values, adjacent_values, walk_count)
and the prepared lookup statements, on every backend: memory (the interface defaults), SQLite and
PostgreSQL (their overrides). Each answer is checked against the plain reads it replaces."""

from __future__ import annotations

import itertools

import pytest

from server.store import ElementQuery, PropertyFilter
from server.structure import Cardinality, Direction, Int64, Vertex

OUT, IN, BOTH = Direction.OUT, Direction.IN, Direction.BOTH


def _graph(c):  # noqa: ANN001, ANN202
    """a -knows-> b (twice), a -likes-> d, b -knows-> a, a -self-> a, d -knows-> e; b has two
    names, e has none."""
    a, b, d, e = (c.add_vertex("v", id=i) for i in ("a", "b", "d", "e"))
    c.add_vertex_property(a, "name", "A")
    c.add_vertex_property(b, "name", "B1", Cardinality.list_)
    c.add_vertex_property(b, "name", "B2", Cardinality.list_)
    c.add_vertex_property(d, "name", "D")
    c.add_vertex_property(d, "n", Int64(7))
    for label, x, y in (
        ("knows", a, b),
        ("likes", a, d),
        ("knows", b, a),
        ("self", a, a),
        ("knows", a, b),
        ("knows", d, e),
    ):
        c.add_edge(label, x, y)
    c.commit()
    return a, b, d, e


def test_vertex_values_match_vertex_properties(store) -> None:
    with store.connect() as c:
        a, b, d, e = _graph(c)
        got = c.vertex_values([b, a, e, Vertex("b"), Vertex("nope"), d], ["name"])
        assert got == [["B1", "B2"], ["A"], [], ["B1", "B2"], [], ["D"]]
        both = c.vertex_values([d], ["n", "name"])
        assert both == [[p.value for p in c.vertex_properties([d], ["n", "name"])[0]]]
        assert type(c.vertex_values([d], ["n"])[0][0]) is Int64
        assert c.vertex_values([a], []) == [[]]


@pytest.mark.parametrize("direction", [OUT, IN, BOTH])
@pytest.mark.parametrize("labels", [None, ["knows"], ["knows", "self"], []])
def test_adjacent_values_follow_adjacent_vertices(store, direction, labels) -> None:
    with store.connect() as c:
        vs = _graph(c)
        starts = [*vs, Vertex("a"), Vertex("nope")]
        got = c.adjacent_values(starts, direction, labels, "name")
        expected = c.adjacent_vertices(starts, direction, labels)
        assert len(got) == len(starts)
        for pairs, neighbours in zip(got, expected, strict=True):
            # one entry per edge whose neighbour has a name, in adjacency order
            named = [v for v in neighbours if c.vertex_values([v], ["name"])[0]]
            assert [vals for _, vals in pairs] == c.vertex_values(named, ["name"])
            # neighbour keys are equal exactly when the neighbours are the same vertex
            keys = [k for k, _ in pairs]
            for i, j in itertools.combinations(range(len(keys)), 2):
                assert (keys[i] == keys[j]) == (named[i].id == named[j].id)


def _walks(c, starts, hops, bulks):  # noqa: ANN001, ANN202
    """Walk count by enumerating every walk with adjacent_vertices."""
    total = 0
    for v, bulk in zip(starts, bulks, strict=True):
        frontier = [v]
        for direction, labels in hops:
            frontier = [n for near in c.adjacent_vertices(frontier, direction, labels) for n in near]
        total += bulk * len(frontier)
    return total


@pytest.mark.parametrize(
    "hops",
    [
        [(OUT, None)],
        [(OUT, None), (OUT, None)],
        [(OUT, ["knows"]), (IN, None), (BOTH, ["knows", "self"])],
        [(BOTH, None)] * 4,
        [(OUT, ["likes"]), (OUT, ["none"])],
        [(IN, None), (OUT, [])],
    ],
)
def test_walk_count_counts_every_walk(store, hops) -> None:
    with store.connect() as c:
        a, b, d, e = _graph(c)
        starts = [a, b, Vertex("a"), d, e, Vertex("nope")]
        bulks = [1, 2, 3, 1, 5, 7]
        known = [v for v in starts if v.id != "nope"]
        expected = _walks(c, known, hops, bulks[:5])
        assert c.walk_count(starts, hops, bulks) == expected
        assert c.walk_count(starts, hops) == _walks(c, known, hops, [1] * 5)
        assert c.walk_count([], hops) == 0
        with pytest.raises(ValueError):
            c.walk_count(starts, [], bulks)


def test_lookup_by_value_pages_and_keeps_insertion_order(store) -> None:
    with store.connect() as c:
        made = []
        for i in range(450):
            v = c.add_vertex("w" if i % 3 else "v")
            c.add_vertex_property(v, "k", "x" if i % 2 else "y")
            c.add_vertex_property(v, "n", i % 5)
            made.append(v)
        c.commit()
        query = ElementQuery(
            labels=["w"], filters=[PropertyFilter("k", "eq", "x"), PropertyFilter("n", "eq", 1.0)]
        )
        expected = [v.id for i, v in enumerate(made) if i % 3 and i % 2 and i % 5 == 1]
        assert [v.id for v in c.vertices(query)] == expected
        everything = ElementQuery(filters=[PropertyFilter("k", "eq", "y")])
        assert [v.id for v in c.vertices(everything)] == [v.id for i, v in enumerate(made) if i % 2 == 0]
        assert list(c.vertices(ElementQuery(labels=["nope"], filters=[PropertyFilter("k", "eq", "y")]))) == []
        assert list(c.vertices(ElementQuery(filters=[PropertyFilter("n", "eq", "1")]))) == []


def test_reads_beyond_one_chunk_of_keys(store) -> None:
    """More start vertices than one IN list / VALUES list holds (SQL backends split them)."""
    from server.store.sql.connection import CHUNK

    n = CHUNK + 60
    with store.connect() as c:
        hub = c.add_vertex("hub")
        c.add_vertex_property(hub, "name", "H")
        spokes = []
        for i in range(n):
            v = c.add_vertex("spoke")
            c.add_vertex_property(v, "name", f"s{i}")
            c.add_edge("to", v, hub)
            c.add_edge("to", hub, v)
            spokes.append(v)
        c.commit()
        assert c.vertex_values(spokes, ["name"]) == [[f"s{i}"] for i in range(n)]
        pairs = c.adjacent_values(spokes, OUT, ["to"], "name")
        assert [[vals for _, vals in p] for p in pairs] == [[["H"]]] * n
        assert len({k for p in pairs for k, _ in p}) == 1
        # spoke -> hub -> every spoke: n walks from each of the n spokes, weighted by bulk 2
        assert c.walk_count(spokes, [(OUT, None), (OUT, ["to"])], [2] * n) == 2 * n * n
        assert c.degrees(spokes, BOTH) == [2] * n
