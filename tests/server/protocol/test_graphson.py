"""GraphSON 3 against gremlinpython's own serializers (requests in, responses out)."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from gremlin_python.process.graph_traversal import __
from gremlin_python.process.strategies import ReadOnlyStrategy
from gremlin_python.process.traversal import CardinalityValue, Order, P, Scope, TextP
from gremlin_python.process.traversal import T as GT
from gremlin_python.statics import bigint, long, short
from gremlin_python.structure.graph import Path as GPath
from hypothesis import given
from hypothesis import strategies as st

from server.gremlin import ir
from server.gremlin.engine import Traverser
from server.protocol import graphbinary, graphson
from server.protocol.errors import ProtocolError, SerializationError, Status
from server.protocol.messages import ResponseMessage
from server.structure import BigInt, Edge, Float32, Int16, Int64, Path, Property, T, Vertex, VertexProperty
from server.structure.results import BulkSet, Subgraph, Tree
from tests.reliability.fuzzing import FUZZ
from tests.server.protocol.gp import GB, GS, frame, payload, source


def test_graphson_and_graphbinary_requests_decode_to_the_same_ir() -> None:
    t = (
        source()
        .with_("batchSize", 2)
        .without_strategies(ReadOnlyStrategy)
        .V()
        .has("age", P.between(1, 5))
        .has("name", P.within("a", "b"))
        .has("x", TextP.starting_with("m").or_(TextP.ending_with("o")))
        .order()
        .by(__.values("age"), Order.asc)
        .limit(Scope.local, long(3))
        .merge_v({GT.label: "p", "n": CardinalityValue.set_(short(1))})
    )
    args = {"gremlin": t.bytecode, "aliases": {"g": "g"}, "batchSize": 2}
    from_gs = graphson.read_request(payload(frame(GS, "bytecode", args)))
    from_gb = graphbinary.read_request(payload(frame(GB, "bytecode", {**args, "gremlin": t.bytecode})))
    assert from_gs.args["gremlin"] == from_gb.args["gremlin"]
    assert from_gs.args["batchSize"] == 2
    steps = from_gs.args["gremlin"].steps
    assert steps[1].args[1] == ir.P("between", (1, 5))
    assert type(steps[6].args[1]) is Int64
    assert from_gs.args["gremlin"].source[1] == ir.Instruction(
        "withoutStrategies", (ir.StrategyClass("ReadOnlyStrategy"),)
    )


def test_typed_and_untyped_values() -> None:
    for sent, expected, kind in [
        (long(3), Int64(3), Int64),
        (short(3), Int16(3), Int16),
        (bigint(2**70), BigInt(2**70), BigInt),
        (2**40, Int64(2**40), Int64),
        (dt.datetime(2020, 1, 2, tzinfo=dt.UTC), dt.datetime(2020, 1, 2, tzinfo=dt.UTC), dt.datetime),
        (dt.timedelta(hours=26, seconds=4.5), dt.timedelta(hours=26, seconds=4.5), dt.timedelta),
        (uuid.UUID(int=3), uuid.UUID(int=3), uuid.UUID),
        ({1: "a"}, {1: "a"}, dict),
    ]:
        req = graphson.read_request(
            payload(frame(GS, "bytecode", {"gremlin": source().inject(sent).bytecode}))
        )
        got = req.args["gremlin"].steps[0].args[0]
        assert got == expected and type(got) is kind, sent
    # untyped args as json.dumps wrote them
    raw = json.dumps(
        {
            "requestId": str(uuid.uuid4()),
            "op": "eval",
            "processor": "",
            "args": {"gremlin": "g.V()", "bindings": {"x": 1, "y": [1.5]}, "evaluationTimeout": 500},
        }
    )
    req = graphson.read_request(raw.encode())
    assert req.args["bindings"] == {"x": 1, "y": [1.5]} and req.args["evaluationTimeout"] == 500


def _roundtrip(data: object) -> object:
    rid = uuid.uuid4()
    raw = graphson.write_response(ResponseMessage(rid, Status.SUCCESS, data=[data]))
    msg = GS.deserialize_message(raw)
    assert msg["requestId"] == str(rid)  # plain string: the driver matches by str(uuid)
    return msg["result"]["data"][0]


def test_responses_read_back_in_the_driver() -> None:
    v = Vertex(Int64(1), "person")
    v.properties = [VertexProperty(Int64(7), "name", "marko", v, properties=[Property("since", 2010, None)])]
    got = _roundtrip(Traverser(v, 2))
    assert got.bulk == 2 and got.object.id == 1
    assert [(p.label, p.value) for p in got.object.properties] == [("name", "marko")]
    assert [(m.key, m.value) for m in got.object.properties[0].properties] == [("since", 2010)]
    e = _roundtrip(Edge(9, "knows", Vertex(1, "a"), Vertex(2, "b"), properties=[Property("w", 0.5, None)]))
    assert (e.outV.id, e.inV.id, [(p.key, p.value) for p in e.properties]) == (1, 2, [("w", 0.5)])
    p = _roundtrip(Path([frozenset({"a"})], [1]))
    assert isinstance(p, GPath) and p.labels == [{"a"}]
    assert _roundtrip(BulkSet([("x", 2)])) == ["x", "x"]
    assert _roundtrip(Float32(0.25)) == 0.25
    assert _roundtrip(float("nan")) != _roundtrip(float("nan"))  # NaN survives as NaN
    assert _roundtrip({T.id: 1, "k": {"a"}}) == {GT.id: 1, "k": {"a"}}
    assert _roundtrip(dt.timedelta(seconds=61)) == dt.timedelta(seconds=61)


def test_tree_and_subgraph_have_their_own_types() -> None:
    tree = Tree({Vertex(1, "a"): Tree({"x": Tree()})})
    doc = graphson.write_value(tree)
    assert doc["@type"] == "g:Tree" and doc["@value"][0]["key"]["@type"] == "g:Vertex"
    sg = graphson.write_value(Subgraph([Vertex(1, "a")], [Edge(2, "e", Vertex(1, "a"), Vertex(1, "a"))]))
    assert sg["@type"] == "tinker:graph" and len(sg["@value"]["vertices"]) == 1


@pytest.mark.parametrize(
    "doc",
    [
        b"not json",
        b"[1,2]",
        b'{"requestId": "nope", "op": "eval"}',
        b'{"requestId": "%s", "op": "bytecode", "args": {"gremlin": {"@type": "g:Int32", "@value": "x"}}}'
        % str(uuid.uuid4()).encode(),
        b'{"requestId": "%s", "op": "bytecode", "args": {"gremlin": {"@type": "g:Nope", "@value": 1}}}'
        % str(uuid.uuid4()).encode(),
    ],
)
def test_bad_requests_are_protocol_errors(doc: bytes) -> None:
    with pytest.raises(ProtocolError):
        graphson.read_request(doc)


def test_unknown_type_is_named() -> None:
    with pytest.raises(SerializationError, match="g:Nope"):
        graphson.read_value({"@type": "g:Nope", "@value": 1})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda c: (
        st.lists(c, max_size=3)
        | st.dictionaries(st.sampled_from(["@type", "@value", "a", "fqcn", "key"]), c, max_size=3)
        | st.builds(lambda t, v: {"@type": t, "@value": v}, st.sampled_from(sorted(graphson._TYPED)), c)
    ),
    max_leaves=10,
)


@FUZZ
@given(json_values)
def test_garbage_values_never_escape_as_another_exception(value: object) -> None:
    try:
        graphson.read_value(value)
    except ProtocolError:
        pass
