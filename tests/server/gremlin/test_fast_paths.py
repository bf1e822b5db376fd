"""Shortcuts the engine takes for common shapes give exactly what the general code gives:
Python's own ordering for plain numbers and strings, the integer comparison shortcut, and
per-traverser degree counts in child traversals computed for a whole batch at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.gremlin import semantics as sem
from server.gremlin.engine import GremlinEngine
from server.gremlin.errors import GremlinTypeError
from server.gremlin.language import parse
from server.store import GraphStore, open_store
from server.structure import Int64
from tests.server.gremlin.test_engine import modern

numbers = st.one_of(
    st.integers(-(2**70), 2**70),
    st.integers(-5, 5).map(Int64),
    st.floats(allow_nan=True, allow_infinity=True),
)


@given(st.one_of(st.lists(numbers, max_size=30), st.lists(st.text(max_size=3), max_size=30)))
def test_native_order_is_the_gremlin_order(values: list[Any]) -> None:
    by_gremlin = sorted(values, key=sem.order_key)
    if sem.natively_ordered(values):
        assert [repr(v) for v in sorted(values)] == [repr(v) for v in by_gremlin]
    else:  # only NaN keeps numbers off the native path
        assert any(v != v for v in values)


@given(numbers, numbers)
def test_the_integer_shortcut_compares_as_the_general_rule(a: Any, b: Any) -> None:
    expected = None if (sem.is_nan(a) or sem.is_nan(b)) else sem.compare_numbers(a, b)
    assert sem.compare(a, b) == expected


@pytest.fixture(params=["memory", "sqlite"])
def graph(request: pytest.FixtureRequest, tmp_path: Path) -> GraphStore:
    store = open_store("memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'g.db'}")
    modern(store)
    return store


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("g.V().where(out().count().is(gt(1))).values('name')", ["marko", "josh"]),
        ("g.V().where(__.in('knows').count().is(1)).values('name')", ["vadas", "josh"]),
        (
            "g.V().hasLabel('person').order().by(out().count(), desc).by('name').values('name')",
            ["marko", "josh", "peter", "vadas"],
        ),
        (
            "g.V().hasLabel('person').project('n', 'c').by('name').by(both().count())",
            [{"n": "marko", "c": 3}, {"n": "vadas", "c": 1}, {"n": "josh", "c": 3}, {"n": "peter", "c": 1}],
        ),
        ("g.V().has('name', 'marko').out().where(out().count().is(0)).values('name')", ["vadas", "lop"]),
    ],
)
def test_degree_counts_in_child_traversals_come_from_one_store_call(graph, text, expected) -> None:
    engine = GremlinEngine(graph)
    calls: list[int] = []
    with graph.connect() as conn:
        real = conn.degrees

        def counted(vertices, *args: Any, **kw: Any) -> Any:
            calls.append(len(vertices))
            return real(vertices, *args, **kw)

        conn.degrees = counted  # type: ignore[method-assign]
        got = [t.value for t in engine.execute(parse(text), conn) for _ in range(t.bulk)]
    assert got == expected
    assert len(calls) == 1  # one batch of start vertices: one call, not one per vertex


def test_a_child_count_on_a_non_vertex_still_names_the_error(graph) -> None:
    engine = GremlinEngine(graph)
    with graph.connect() as conn, pytest.raises(GremlinTypeError):
        list(engine.execute(parse("g.inject(1, 2).where(out().count().is(0))"), conn))
