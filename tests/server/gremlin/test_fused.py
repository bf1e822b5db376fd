"""The fused steps (server/gremlin/steps/fused.py): each traversal gives exactly the same
traversers (values, bulks, order, map order) with fusing on and off, on the memory store (the
interface's default reads) and on SQLite (its overrides); fusing happens only where it may."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from server.gremlin import strategies
from server.gremlin.compiler import PATH_STEPS
from server.gremlin.engine import GremlinEngine
from server.gremlin.ir import Bytecode, P
from server.gremlin.language import parse
from server.gremlin.steps.fused import (
    AdjacentGroupCountStep,
    AdjacentValuesStep,
    ElementCountStep,
    VertexGroupCountStep,
    VertexValuesStep,
    WalkCountStep,
)
from server.store import GraphStore, open_store
from server.structure import Cardinality
from tests.server.gremlin.test_engine import modern
from tests.server.store.conftest import _empty, pg_store_url  # noqa: F401 - a fixture

FUSED = (
    AdjacentValuesStep,
    AdjacentGroupCountStep,
    VertexValuesStep,
    VertexGroupCountStep,
    ElementCountStep,
    WalkCountStep,
)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def graph(request: pytest.FixtureRequest, tmp_path: Path) -> GraphStore:
    if request.param == "postgres":
        store = open_store(request.getfixturevalue("pg_store_url"))
        _empty(store)
    else:
        store = open_store("memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'g.db'}")
    modern(store)
    with store.connect() as conn:  # a second edge 1->2 and a self-loop: bulks above 1
        v1, v2, v3 = list(conn.vertices())[:3]
        conn.add_edge("knows", v1, v2)
        conn.add_edge("created", v3, v3)
        conn.commit()
    return store


def _comparable(value: Any) -> Any:
    """Maps as their item lists, so that key order is compared too."""
    if isinstance(value, dict):
        return [(_comparable(k), _comparable(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


def _run(store: GraphStore, text: str) -> tuple[list, list[type]]:
    """Results as (value, bulk) pairs, and the step types of the compiled root pipeline."""
    engine = GremlinEngine(store)
    with store.connect() as conn:
        steps = [type(s) for s in engine.compile(parse(text), conn).pipeline.steps]
        results = [(_comparable(t.value), t.bulk) for t in engine.execute(parse(text), conn)]
    return results, steps


def _unfused(store: GraphStore, text: str, monkeypatch: pytest.MonkeyPatch) -> list:
    with monkeypatch.context() as m:
        m.setattr(strategies, "fuse", lambda pipe, ctx: None)
        results, steps = _run(store, text)
    assert not set(steps) & set(FUSED)
    return results


@pytest.mark.parametrize(
    ("text", "fused"),
    [
        ("g.V().out().values('name')", AdjacentValuesStep),
        ("g.V().both().values('name')", AdjacentValuesStep),
        ("g.V().in('knows','created').values('age')", AdjacentValuesStep),
        ("g.V().out().out().values('name')", AdjacentValuesStep),
        ("g.V(1).out('knows').values('name').fold()", AdjacentValuesStep),
        ("g.withBulk(false).V().both().values('name')", AdjacentValuesStep),
        ("g.withSack(1).V().both().values('name').sack()", AdjacentValuesStep),
        ("g.V().out().groupCount().by('name')", AdjacentGroupCountStep),
        ("g.V().both().groupCount().by('lang')", AdjacentGroupCountStep),
        ("g.V().in().in().groupCount().by('name')", AdjacentGroupCountStep),
        ("g.V().out().out().count()", WalkCountStep),
        ("g.V().both().both().both().count()", WalkCountStep),
        ("g.V(1).out('knows').in().both('created').count()", WalkCountStep),
        ("g.V().hasLabel('software').in('created').out('nope').count()", WalkCountStep),
        ("g.V().as('a').out().out().count()", WalkCountStep),  # labels: runs the plain steps
        ("g.V().project('n').by(__.out().out().count())", None),
        ("g.V().local(__.both().groupCount().by('name'))", None),
        ("g.V().groupCount().by('name')", VertexGroupCountStep),
        ("g.V().groupCount().by('lang')", VertexGroupCountStep),  # people have no lang
        ("g.V().hasLabel('person').groupCount().by('age')", VertexGroupCountStep),
        ("g.V().hasLabel('person','software').groupCount().by('name')", VertexGroupCountStep),
        ("g.V().has('software','lang','java').groupCount().by('name')", VertexGroupCountStep),
        ("g.V().has('age', 29).groupCount().by('name')", VertexGroupCountStep),
        ("g.V().has('age', gt(28)).groupCount().by('name')", VertexGroupCountStep),  # the default read
        ("g.V(1, 3, 99, 1).groupCount().by('name')", VertexGroupCountStep),  # ids: the default read
        ("g.V().hasLabel('nope').groupCount().by('name')", VertexGroupCountStep),
        ("g.V().groupCount().by('name').unfold().count()", VertexGroupCountStep),
        ("g.V().values('name')", VertexValuesStep),
        ("g.V().hasLabel('person').values('age')", VertexValuesStep),
        ("g.V().has('lang', 'java').values('name')", VertexValuesStep),
        ("g.V(1, 2, 2, 99).values('name')", VertexValuesStep),
        ("g.V().values('name').limit(2)", VertexValuesStep),
        ("g.V().values('nope')", VertexValuesStep),
        ("g.V().hasLabel('person').values('age').sum()", VertexValuesStep),
        ("g.V().values('name').as('n').select('n')", None),  # a label on values(): not fused
        ("g.V().count()", ElementCountStep),
        ("g.E().count()", ElementCountStep),
        ("g.V().hasLabel('person').count()", ElementCountStep),
        ("g.E().hasLabel('knows', 'created').count()", ElementCountStep),
        ("g.V().has('age', gt(28)).count()", ElementCountStep),
        ("g.V().has('name', 'nope').count()", ElementCountStep),
        ("g.V().has('person', 'name', 'marko').count()", ElementCountStep),  # prepared count
        ("g.V().has('age', 29).has('name', 'marko').count()", ElementCountStep),
        ("g.V().has('age', 29.0).count()", ElementCountStep),  # numbers match across types
        ("g.V().has('name', containing('o')).count()", None),  # a HasStep between: not fused
        ("g.E().has('weight', lt(0.6)).count()", ElementCountStep),
        ("g.V(1, 1, 2, 99).count()", ElementCountStep),  # repeats count, unknown ids do not
        ("g.E(7, 8, 8).count()", ElementCountStep),
        ("g.V().hasLabel('nope').count().is(0)", ElementCountStep),
        ("g.V().count(local)", None),
        ("g.V().limit(2).count()", None),
        ("g.V().as('a').groupCount().by('name')", None),  # a step label
        ("g.V().out().V().groupCount().by('name')", None),  # V() mid-traversal: not fused
    ],
)
def test_fused_and_plain_steps_give_the_same_traversers(graph, monkeypatch, text, fused) -> None:
    results, steps = _run(graph, text)
    if fused is not None:
        assert fused in steps
    assert results == _unfused(graph, text, monkeypatch)


@pytest.mark.parametrize(
    "text",
    [
        "g.V().out().as('x').values('name')",  # a step label on the hop
        "g.V().out().values('name').as('x').select('x')",
        "g.V().out().values('name').path()",  # paths show the neighbours
        "g.V().out().out().count().path()",
        "g.V().out().values('name','age')",  # more than one key
        "g.V().out().values()",
        "g.V().out().groupCount('m').by('name').cap('m')",  # a side-effect key
        "g.V().out().groupCount().by(__.values('name'))",
        "g.V().out().groupCount()",
        "g.V().outE().count()",
        "g.V().out().count().as('c')",
        "g.withStrategies(ProductiveByStrategy).V().out().groupCount().by('age')",
        "g.withStrategies(ProductiveByStrategy).V().groupCount().by('age')",
        "g.V().groupCount('m').by('name').cap('m')",
        "g.V().groupCount().by(label)",
        "g.V().groupCount().by('name').path()",
        "g.V().as('a').count()",
        "g.V().values('name').path()",
        "g.V().values('name', 'age')",
        "g.V().as('v').values('name')",
        "g.V().count().path()",
        "g.V().hasLabel('person').count().as('n').select('n')",
        "g.withStrategies(SubgraphStrategy(vertices: __.hasLabel('person'))).V().out().values('name')",
    ],
)
def test_traversals_that_need_more_are_not_fused(graph, monkeypatch, text) -> None:
    results, steps = _run(graph, text)
    plain = _unfused(graph, text, monkeypatch)
    assert results == plain
    if "ProductiveBy" in text:  # fused, but it runs the plain steps: software has no age
        assert {AdjacentGroupCountStep, VertexGroupCountStep} & set(steps)
        assert any(k is None for k, _ in results[0][0])
    else:
        assert not set(steps) & set(FUSED)


def test_fused_steps_ask_the_store_once_per_batch(graph) -> None:
    counts: dict[str, int] = {}
    engine = GremlinEngine(graph)
    with graph.connect() as conn:
        for name in ("adjacent_values", "walk_count", "adjacent_vertices", "vertex_properties"):
            real = getattr(conn, name)

            def counted(*args: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
                counts[_name] = counts.get(_name, 0) + 1
                return _real(*args, **kw)

            setattr(conn, name, counted)
        assert [t.value for t in engine.execute(parse("g.V(1).out().out().count()"), conn)] == [3]
        names = engine.execute(parse("g.V(1).out().values('name')"), conn)
        assert sorted((t.value, t.bulk) for t in names) == [("josh", 1), ("lop", 1), ("vadas", 2)]
    assert counts["walk_count"] == 1 and counts["adjacent_values"] == 1
    if graph.url.startswith("sqlite"):  # the memory store's defaults use the plain reads
        assert counts == {"walk_count": 1, "adjacent_values": 1}


def test_vertex_group_count_takes_a_multi_property_by_its_first_value(graph, monkeypatch) -> None:
    """Many values of one key on a vertex, values of different types, more vertices than a page
    of scan_values (both the SQL paging and the default's), and one with more values than a page."""
    from server.store import interface
    from server.store.sql import connection as sql_connection

    monkeypatch.setattr(interface, "SCAN_PAGE", 7)
    monkeypatch.setattr(sql_connection, "_PAGE", 7)
    with graph.connect() as conn:
        for i in range(20):
            v = conn.add_vertex("city")
            for value in ([f"c{i % 3}", "x", "y"] if i % 2 else [i % 3, 1.0, "1"])[: 1 + i % 3]:
                conn.add_vertex_property(v, "tag", value, Cardinality.list_)
        conn.commit()
        big = conn.add_vertex("city")
        for k in range(9):  # more values than a page of 7 rows
            conn.add_vertex_property(big, "tag", f"b{k}", Cardinality.list_)
        conn.commit()
    values = "g.V().hasLabel('city').values('tag')"
    got, steps = _run(graph, values)
    assert VertexValuesStep in steps and got == _unfused(graph, values, monkeypatch)
    assert len(got) == sum(1 + i % 3 for i in range(20)) + 9
    text = "g.V().hasLabel('city').groupCount().by('tag')"
    results, steps = _run(graph, text)
    assert VertexGroupCountStep in steps
    assert results == _unfused(graph, text, monkeypatch)
    counts = dict(results[0][0])
    assert (counts[0], counts[1], counts[2], counts["c1"]) == (4, 3, 3, 4)  # first values only
    assert "x" not in counts and "1" not in counts and sum(counts.values()) == 21 and counts["b0"] == 1


def test_start_group_count_and_count_ask_the_store_once(graph) -> None:
    engine = GremlinEngine(graph)
    calls: list[str] = []
    with graph.connect() as conn:
        for name in ("scan_values", "vertices", "edges", "vertex_values", "count_vertices", "count_edges"):
            real = getattr(conn, name)

            def counted(*args: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
                calls.append(_name)
                return _real(*args, **kw)

            setattr(conn, name, counted)
        [t] = engine.execute(parse("g.V().hasLabel('person').groupCount().by('age')"), conn)
        assert t.value == {29: 1, 27: 1, 32: 1, 35: 1}
        [n] = engine.execute(parse("g.V().hasLabel('person').count()"), conn)
        [m] = engine.execute(parse("g.E().hasLabel('knows').count()"), conn)
        assert (n.value, m.value) == (4, 3)
    if graph.url.startswith(("sqlite", "postgresql")):  # the memory store's defaults read vertices
        assert calls == ["scan_values", "count_vertices", "count_edges"]


# Reference answers for the test below: the separate walks over the bytecode that the engine made,
# one per question, before :func:`server.gremlin.compiler.shape` answered them all in one walk.


def _any_step(bytecode: Bytecode, hit: Any) -> bool:
    for ins in bytecode.steps:
        if hit(ins):
            return True
        for a in ins.args:
            if isinstance(a, Bytecode) and _any_step(a, hit):
                return True
            if isinstance(a, dict) and any(isinstance(v, Bytecode) and _any_step(v, hit) for v in a.values()):
                return True
    return False


def uses(bytecode: Bytecode, names: set[str], keyed: set[str] = frozenset()) -> bool:
    return _any_step(bytecode, lambda ins: ins.name in names or (ins.name in keyed and bool(ins.args)))


def needs_paths(bytecode: Bytecode) -> bool:
    def reads(ins: Any) -> bool:
        return (
            ins.name in PATH_STEPS
            or (ins.name in ("where", "dedup") and any(isinstance(a, str) for a in ins.args))
            or (ins.name == "where" and any(isinstance(a, P) for a in ins.args))
        )

    return _any_step(bytecode, reads)


@pytest.mark.parametrize(
    "text",
    [
        "g.V().out().values('name')",
        "g.V().as('a').out().select('a')",
        "g.V().where(__.out().path())",
        "g.V().local(__.out().groupCount('m'))",
        "g.V().project('x').by(__.aggregate('y').simplePath())",
        "g.V().dedup('a').where(P.eq('a'))",
        "g.V().choose(__.has('age'), __.tree(), __.group().by('name'))",
    ],
)
def test_one_walk_shape_answers_like_the_separate_walks(text) -> None:
    from server.gremlin.compiler import FULL_PATH_STEPS, SIDE_EFFECT_STEPS, shape

    bytecode = parse(text)
    info = shape(bytecode)
    assert info.reads_paths == needs_paths(bytecode)
    for names in (FULL_PATH_STEPS, SIDE_EFFECT_STEPS, {"local"}, {"out"}, {"nope"}):
        assert info.uses(names) == uses(bytecode, names)
    keyed = {"groupCount", "group", "tree"}
    assert info.uses(set(), keyed) == uses(bytecode, set(), keyed)
