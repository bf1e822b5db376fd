"""Live neighbourhoods for inductive inference, read from a real store in batches."""

from __future__ import annotations

from gremlin_ext.context import build_neighbourhoods
from server.store.memory import MemoryStore
from server.structure import Direction


def _store():
    store = MemoryStore()
    conn = store.connect()
    with conn.atomic():
        vs = {}
        for name in ("a", "b", "c", "d", "e"):
            vs[name] = conn.add_vertex("airport", id=name)
            conn.add_vertex_property(vs[name], "code", name.upper())
        for src, dst in (("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("e", "a")):
            conn.add_edge("route", vs[src], vs[dst], id=f"{src}{dst}")
    conn.commit()
    return store, conn, vs


def test_k_hop_neighbourhood_with_properties() -> None:
    _, conn, vs = _store()
    [one] = build_neighbourhoods(conn, [vs["a"]], hops=1, deterministic=True)
    assert one.seeds == ["a"]
    assert set(one.nodes) == {"a", "b", "e"}
    assert one.nodes["b"] == ("airport", {"code": "B"})
    assert sorted(one.edges) == [("a", "route", "b"), ("e", "route", "a")]
    [two] = build_neighbourhoods(conn, [vs["a"]], hops=2, deterministic=True)
    assert set(two.nodes) == {"a", "b", "c", "d", "e"}


def test_batch_answers_align_and_edges_seed_both_ends() -> None:
    _, conn, vs = _store()
    edge = conn.incident_edges([vs["c"]], Direction.OUT)[0][0]
    hoods = build_neighbourhoods(conn, [vs["a"], edge, vs["a"]], hops=1, deterministic=True)
    assert hoods[0].nodes == hoods[2].nodes
    assert hoods[1].seeds == ["c", "d"]
    assert set(hoods[1].nodes) == {"b", "c", "d", "e"}


def test_fanout_sampling_deterministic_or_random() -> None:
    store = MemoryStore()
    conn = store.connect()
    with conn.atomic():
        hub = conn.add_vertex("airport", id="hub")
        for i in range(30):
            conn.add_edge("route", hub, conn.add_vertex("airport", id=f"s{i}"))
    conn.commit()
    first = build_neighbourhoods(conn, [hub], hops=1, fanout=5, deterministic=True)[0]
    again = build_neighbourhoods(conn, [hub], hops=1, fanout=5, deterministic=True)[0]
    assert set(first.nodes) == set(again.nodes) == {"hub", "s0", "s1", "s2", "s3", "s4"}
    samples = {
        frozenset(build_neighbourhoods(conn, [hub], hops=1, fanout=5, seed=s)[0].nodes) for s in range(5)
    }
    assert len(samples) > 1 and all(len(s) == 6 for s in samples)


def test_node_contexts_list_neighbours_with_direction() -> None:
    from gremlin_ext.context import node_contexts

    _, conn, vs = _store()
    [hood] = build_neighbourhoods(conn, [vs["a"]], deterministic=True)
    [ctx] = node_contexts(hood)
    assert (ctx["id"], ctx["label"], ctx["properties"]) == ("a", "airport", {"code": "A"})
    assert sorted(ctx["neighbors"]) == [("route", "in", "e", "airport"), ("route", "out", "b", "airport")]
