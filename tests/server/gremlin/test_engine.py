"""The traversal engine against the real in-memory store: results, batching, laziness, errors,
deadlines, read-only runs and strategies. Traversals are written in gremlin-lang (the project's
parser) or as hand-built Bytecode."""

from __future__ import annotations

import time
from typing import Any

import pytest

from server.gremlin.engine import ExecutionOptions, GremlinEngine
from server.gremlin.errors import (
    EvaluationTimeout,
    GremlinArgumentError,
    GremlinTypeError,
    LambdaNotSupported,
    ReadOnlyViolation,
    UnknownStepError,
)
from server.gremlin.ir import Bytecode, Lambda, P
from server.gremlin.language import parse
from server.store.memory import MemoryConnection, MemoryStore
from server.structure import Cardinality, Int64, Path


class CountingConnection(MemoryConnection):
    """The real memory connection, counting the batched read calls the engine makes."""

    def __init__(self, store: MemoryStore) -> None:
        super().__init__(store)
        self.calls: dict[str, int] = {}

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    def adjacent_vertices(self, vertices, direction, labels=None):  # type: ignore[no-untyped-def]
        self._count("adjacent_vertices")
        return super().adjacent_vertices(vertices, direction, labels)

    def vertex_properties(self, vertices, keys=None):  # type: ignore[no-untyped-def]
        self._count("vertex_properties")
        return super().vertex_properties(vertices, keys)

    def vertices(self, query=None):  # type: ignore[no-untyped-def]
        self._count("vertices")
        return super().vertices(query) if query is not None else super().vertices()


def modern(store: MemoryStore) -> None:
    """TinkerPop's "modern" toy graph (ids 1-6, edges 7-12)."""
    with store.connect() as conn:
        with conn.atomic():
            people = {1: ("marko", 29), 2: ("vadas", 27), 4: ("josh", 32), 6: ("peter", 35)}
            software = {3: ("lop", "java"), 5: ("ripple", "java")}
            v = {}
            for i, (name, age) in people.items():
                v[i] = conn.add_vertex("person", i)
                conn.add_vertex_property(v[i], "name", name, Cardinality.single)
                conn.add_vertex_property(v[i], "age", age, Cardinality.single)
            for i, (name, lang) in software.items():
                v[i] = conn.add_vertex("software", i)
                conn.add_vertex_property(v[i], "name", name, Cardinality.single)
                conn.add_vertex_property(v[i], "lang", lang, Cardinality.single)
            for eid, (a, label, b, w) in {
                7: (1, "knows", 2, 0.5),
                8: (1, "knows", 4, 1.0),
                9: (1, "created", 3, 0.4),
                10: (4, "created", 5, 1.0),
                11: (4, "created", 3, 0.4),
                12: (6, "created", 3, 0.2),
            }.items():
                e = conn.add_edge(label, v[a], v[b], eid)
                conn.set_edge_property(e, "weight", w)
        conn.commit()


@pytest.fixture
def store() -> MemoryStore:
    s = MemoryStore()
    modern(s)
    return s


def run(store: MemoryStore, text: str | Bytecode, options: ExecutionOptions | None = None, **kw: Any) -> list:
    engine = GremlinEngine(store, **kw)
    code = parse(text) if isinstance(text, str) else text
    with store.connect() as conn:
        out = []
        for t in engine.execute(code, conn, options):
            out.extend([t.value] * t.bulk)
        conn.commit()
        return out


def names(values: list) -> list:
    return sorted(values)


# -- results -------------------------------------------------------------------------------------


def test_adjacency_and_values(store: MemoryStore) -> None:
    assert names(run(store, 'g.V(1).out("knows").values("name")')) == ["josh", "vadas"]
    assert names(run(store, 'g.V().has("person","name","marko").out().values("name")')) == [
        "josh",
        "lop",
        "vadas",
    ]


def test_counts_are_longs_and_bulked(store: MemoryStore) -> None:
    [n] = run(store, "g.V().both().both().count()")
    assert n == 30 and type(n) is Int64
    assert run(store, "g.V().out().out().count()") == [2]


def test_hand_built_bytecode(store: MemoryStore) -> None:
    code = Bytecode().add_step("V").add_step("has", "age", P("gt", (30,))).add_step("values", "name")
    assert names(run(store, code)) == ["josh", "peter"]


def test_group_count_order_and_select(store: MemoryStore) -> None:
    assert run(store, "g.V().groupCount().by(label)") == [{"person": 4, "software": 2}]
    assert run(store, 'g.V().hasLabel("person").order().by("age", desc).limit(2).values("name")') == [
        "peter",
        "josh",
    ]
    rows = run(store, 'g.V(1).as("a").out("created").as("b").select("a","b").by("name")')
    assert rows == [{"a": "marko", "b": "lop"}]


def test_a_tree_side_effect_filled_more_than_once_keeps_every_path(store: MemoryStore) -> None:
    """tree('a') inside local() runs once per traverser: the runs add to one tree."""
    [tree] = run(store, 'g.V().out().local(tree("a").by("name")).cap("a")')
    assert {k: sorted(v) for k, v in tree.items()} == {
        "marko": ["josh", "lop", "vadas"],
        "josh": ["lop", "ripple"],
        "peter": ["lop"],
    }
    counts = run(store, 'g.V().out().order().by("name").local(tree("a").select("a").count(local))')
    assert counts == [1, 1, 2, 3, 3, 3]  # each traverser sees the tree as far as it has grown


def test_barrier_keeps_traversers_with_different_labels_apart(store: MemoryStore) -> None:
    """barrier() folds equal traversers, but two at one vertex that reached it along differently
    labelled paths are not equal: select() would tell them apart."""
    text = 'g.V().as("v").both().as("v"){}.select(all, "v")'
    without, within = ([(a.id, b.id) for a, b in run(store, text.format(b))] for b in ("", ".barrier()"))
    assert sorted(within) == sorted(without)
    assert len(set(within)) == len(within) == 12  # every edge, both ways


def test_a_map_grouped_by_stays_a_map(store: MemoryStore) -> None:
    """group()/groupCount() by a projected map: the keys are maps to select() and in the answer."""
    [counts] = run(store, 'g.V().hasLabel("software").groupCount().by(project("a").by("name"))')
    assert all(isinstance(k, dict) for k in counts)
    assert sorted((k["a"], v) for k, v in counts.items()) == [("lop", 1), ("ripple", 1)]
    names = run(store, 'g.V().group().by(project("a").by("name")).unfold().select(keys).select("a")')
    assert sorted(names) == ["josh", "lop", "marko", "peter", "ripple", "vadas"]


def test_repeat_path_and_match(store: MemoryStore) -> None:
    paths = run(store, 'g.V(1).repeat(out()).times(2).path().by("name")')
    assert sorted(tuple(p.objects) for p in paths) == [("marko", "josh", "lop"), ("marko", "josh", "ripple")]
    assert all(isinstance(p, Path) for p in paths)
    found = run(
        store,
        'g.V().match(__.as("a").out("knows").as("b"), __.as("b").out("created").as("c"))'
        '.select("c").values("name")',
    )
    assert names(found) == ["lop", "ripple"]


def test_choose_union_coalesce(store: MemoryStore) -> None:
    assert names(
        run(
            store,
            'g.V().hasLabel("person").choose(values("age").is(gt(30)), constant("old"), constant("young"))',
        )
    ) == ["old", "old", "young", "young"]
    assert names(run(store, 'g.V(1).union(out("knows"), out("created")).values("name")')) == [
        "josh",
        "lop",
        "vadas",
    ]
    assert run(store, 'g.V(2).coalesce(out(), constant("none"))') == ["none"]


def test_mutations_and_merge(store: MemoryStore) -> None:
    run(store, 'g.addV("person").property(id, 100).property("name", "ann")')
    assert run(store, "g.V(100).values('name')") == ["ann"]
    run(store, 'g.mergeV([(T.label): "person", name: "ann"]).option(Merge.onMatch, [age: 41])')
    assert run(store, "g.V(100).values('age')") == [41]
    run(store, "g.V(100).drop()")
    assert run(store, "g.V(100).count()") == [0]


def test_a_key_given_twice_to_addv_keeps_both_values(store: MemoryStore) -> None:
    """At creation a repeated key is a multi-property (TinkerGraph's addVertex(keyValues));
    afterwards property() without a cardinality replaces."""
    run(store, 'g.addV("animal").property(id, 200).property("name", "mateo").property("name", "gateo")')
    assert sorted(run(store, "g.V(200).values('name')")) == ["gateo", "mateo"]
    run(store, "g.V(200).property('name', 'cateo')")
    assert run(store, "g.V(200).values('name')") == ["cateo"]
    run(store, 'g.addV("animal").property(id, 201).property("age", 1).property(single, "age", 2)')
    assert run(store, "g.V(201).values('age')") == [2]
    # a step label on addV() does not end its properties (TinkerPop folds them all into addV)
    run(store, 'g.addV("animal").property(id, 202).property("name", "a").as("v").property("name", "b")')
    assert sorted(run(store, "g.V(202).values('name')")) == ["a", "b"]


# -- set-at-a-time and laziness ------------------------------------------------------------------


def test_one_store_call_per_batch(store: MemoryStore) -> None:
    engine = GremlinEngine(store)
    conn = CountingConnection(store)
    out = list(engine.execute(parse('g.V().out().has("name", "lop").values("name")'), conn))
    assert sum(t.bulk for t in out) == 3
    assert conn.calls["adjacent_vertices"] == 1
    assert conn.calls["vertex_properties"] == 2  # has() and values(): one call each


def test_has_after_v_is_pushed_into_the_scan(store: MemoryStore) -> None:
    engine = GremlinEngine(store)
    conn = CountingConnection(store)
    list(engine.execute(parse('g.V().has("name", "josh").id()'), conn))
    assert conn.calls.get("vertex_properties", 0) == 0  # filtered by the store, no property load


@pytest.mark.parametrize(
    "walk",
    [
        "g.V().out()",
        "g.V().both()",
        "g.V().in('knows','created')",
        "g.V().outE('created')",
        "g.V().bothE()",
        "g.V().out().out()",
        "g.V().both().both().both()",
        "g.V(1).out('nothing')",
    ],
)
def test_count_after_adjacency_asks_for_degrees(store: MemoryStore, walk: str) -> None:
    expected = len(run(store, walk))

    class DegreeCounting(CountingConnection):
        def degrees(self, vertices, direction, labels=None):  # type: ignore[no-untyped-def]
            self._count("degrees")
            return super().degrees(vertices, direction, labels)

    engine = GremlinEngine(store)
    conn = DegreeCounting(store)
    [n] = [t.value for t in engine.execute(parse(walk + ".count()"), conn)]
    assert n == expected and type(n) is Int64
    assert conn.calls.get("degrees", 0) == 1  # the last hop is counted, not fetched
    hops = walk.count(".") - 1
    assert conn.calls.get("adjacent_vertices", 0) == hops - 1
    # where traversers must stay apart (paths, labels, local counts) the rows are still fetched
    assert run(store, walk + ".as('x').count()") == [expected]
    assert run(store, walk + ".path().count()") == [expected]
    assert run(store, "g.withBulk(false)" + walk[1:] + ".count()") == [expected]
    per_vertex = run(
        store, "g.V().local(" + walk.replace("g.V()", "__").replace("g.V(1)", "__") + ".count())"
    )
    assert sum(per_vertex) == len(run(store, walk.replace("g.V(1)", "g.V()")))


def test_limit_stops_early(store: MemoryStore) -> None:
    engine = GremlinEngine(store)
    conn = CountingConnection(store)
    it = engine.execute(parse("g.V().out().limit(1)"), conn)
    first = next(it)
    assert first.bulk == 1
    with pytest.raises(StopIteration):
        next(it)


# -- errors, deadlines, read-only ------------------------------------------------------------------


def test_errors_are_precise(store: MemoryStore) -> None:
    with pytest.raises(UnknownStepError, match="nosuch"):
        run(store, Bytecode().add_step("V").add_step("nosuch"))
    with pytest.raises(LambdaNotSupported):
        run(store, Bytecode().add_step("V").add_step("map", Lambda("it.get()")))
    with pytest.raises(GremlinTypeError, match="sum"):
        run(store, 'g.V().values("name").sum()')
    with pytest.raises(GremlinTypeError, match="out"):
        run(store, 'g.V().values("name").out()')
    with pytest.raises(GremlinArgumentError, match="one by modulator"):
        run(store, 'g.V().dedup().by("name").by("age")')


def test_deadline_is_checked_inside_repeat(store: MemoryStore) -> None:
    options = ExecutionOptions(deadline=time.monotonic() - 1)
    with pytest.raises(EvaluationTimeout):
        run(store, "g.V().repeat(both()).times(50).count()", options)


def test_read_only_refuses_mutations(store: MemoryStore) -> None:
    with pytest.raises(ReadOnlyViolation):
        run(store, 'g.V(1).property("name", "x")', ExecutionOptions(read_only=True))
    with pytest.raises(ReadOnlyViolation):
        run(store, 'g.withStrategies(ReadOnlyStrategy).addV("x")')
    assert run(store, "g.V(1).values('name')") == ["marko"]


def test_strategies(store: MemoryStore) -> None:
    sub = 'g.withStrategies(new SubgraphStrategy(vertices: __.hasLabel("person"))).V().both().values("name")'
    assert names(run(store, sub)) == ["josh", "marko", "marko", "vadas"]
    part = (
        'g.withStrategies(new PartitionStrategy(partitionKey: "p", writePartition: "a", '
        'readPartitions: ["a"]))'
    )
    run(store, part + '.addV("thing")')
    assert run(store, part + ".V().count()") == [1]
    assert run(store, 'g.V().hasLabel("thing").values("p")') == ["a"]


def test_materialized_properties(store: MemoryStore) -> None:
    [v] = run(store, "g.V(1)")
    assert {p.key for p in v.properties} == {"name", "age"}
    [v] = run(store, "g.V(1)", ExecutionOptions(materialize_properties="tokens"))
    assert v.properties is None


def test_io_round_trip(store: MemoryStore, tmp_path: Any) -> None:
    engine = GremlinEngine(store, io_root=str(tmp_path))
    with store.connect() as conn:
        assert list(engine.execute(parse('g.io("g.json").write()'), conn)) == []
        assert list(engine.execute(parse('g.io("g.xml").write()'), conn)) == []
    for name in ("g.json", "g.xml"):
        target = MemoryStore()
        loader = GremlinEngine(target, io_root=str(tmp_path))
        with target.connect() as conn:
            list(loader.execute(parse(f'g.io("{name}").read()'), conn))
            conn.commit()
        assert run(target, "g.E().count()") == [6]
        assert names(run(target, 'g.V(1).out("knows").values("name")')) == ["josh", "vadas"]
    with pytest.raises(GremlinArgumentError, match="leaves the io root"):
        run(store, 'g.io("../x.json").write()', io_root=str(tmp_path))
    with pytest.raises(GremlinArgumentError, match="no io root"):
        run(store, 'g.io("g.json").read()', io_root="")  # "" switches io() off


def test_last_hop_count_uses_edge_counts(store: MemoryStore) -> None:
    class DegreeCounting(CountingConnection):
        def degrees(self, vertices, direction, labels=None):  # type: ignore[no-untyped-def]
            self._count("degrees")
            return super().degrees(vertices, direction, labels)

    engine = GremlinEngine(store)
    conn = DegreeCounting(store)
    out = list(engine.execute(parse("g.V().out().out().count()"), conn))
    assert [t.value for t in out] == [2]
    assert conn.calls == {"vertices": 1, "adjacent_vertices": 1, "degrees": 1}
    # Subgraph filtering keeps the real adjacency (edge counts would ignore the filter)
    text = 'g.withStrategies(new SubgraphStrategy(vertices: __.has("name", neq("lop")))).V().out().count()'
    assert run(store, text) == [3]
