"""GraphBinary v1 against gremlinpython's own serializers: requests it writes decode to the
expected IR with exact numeric types; responses this codec writes read back in the driver."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import pytest
from gremlin_python.process.graph_traversal import __
from gremlin_python.process.strategies import ReadOnlyStrategy, SubgraphStrategy
from gremlin_python.process.traversal import Cardinality as GCard
from gremlin_python.process.traversal import CardinalityValue, Order, P, Pop, Scope, TextP, WithOptions
from gremlin_python.process.traversal import T as GT
from gremlin_python.statics import SingleByte, SingleChar, bigint, long, short
from gremlin_python.structure.graph import Path as GPath
from gremlin_python.structure.graph import Vertex as GVertex
from gremlin_python.structure.io.graphbinaryV1 import GraphBinaryWriter
from hypothesis import given
from hypothesis import strategies as st

from server.gremlin import ir
from server.gremlin.engine import Traverser
from server.protocol import graphbinary
from server.protocol.errors import ProtocolError, ResultSerializationError, SerializationError, Status
from server.protocol.messages import ResponseMessage
from server.structure import (
    BigInt,
    Cardinality,
    Char,
    Edge,
    Float32,
    Int8,
    Int16,
    Int64,
    Path,
    Property,
    T,
    Vertex,
    VertexProperty,
)
from server.structure import (
    Order as SOrder,
)
from server.structure import (
    Pop as SPop,
)
from server.structure import (
    Scope as SScope,
)
from server.structure.results import BulkSet, Subgraph
from tests.reliability.fuzzing import FUZZ
from tests.server.protocol.gp import GB, frame, payload, source


def test_bytecode_request_decodes_to_the_ir() -> None:
    g = source()
    t = (
        g.with_("evaluationTimeout", 500)
        .with_strategies(SubgraphStrategy(vertices=__.has("x", 1)))
        .without_strategies(ReadOnlyStrategy)
        .V(long(1))
        .has("name", P.within("a", "b"))
        .has("age", P.gt(3).and_(P.lt(10)))
        .has("n", TextP.containing("x"))
        .order()
        .by("age", Order.desc)
        .local(__.out().limit(Scope.local, 2))
        .select(Pop.all_, "a")
        .value_map()
        .with_(WithOptions.tokens)
        .merge_v({GT.id: 1, "x": CardinalityValue.list_(3)})
    )
    rid = str(uuid.uuid4())
    req = graphbinary.read_request(
        payload(
            frame(GB, "bytecode", {"gremlin": t.bytecode, "aliases": {"g": "g"}, "batchSize": 7}, rid=rid)
        )
    )
    assert (req.request_id, req.op, req.processor) == (uuid.UUID(rid), "bytecode", "traversal")
    assert req.args["aliases"] == {"g": "g"} and req.args["batchSize"] == 7
    expected = ir.Bytecode()
    expected.add_source("withStrategies", ir.Strategy("OptionsStrategy", {"evaluationTimeout": 500}))
    expected.add_source(
        "withStrategies", ir.Strategy("SubgraphStrategy", {"vertices": ir.Bytecode().add_step("has", "x", 1)})
    )
    expected.add_source("withoutStrategies", ir.StrategyClass("ReadOnlyStrategy"))
    (
        expected.add_step("V", Int64(1))
        .add_step("has", "name", ir.P("within", ("a", "b")))
        .add_step("has", "age", ir.P("and", (ir.P("gt", (3,)), ir.P("lt", (10,)))))
        .add_step("has", "n", ir.TextP("containing", ("x",)))
        .add_step("order")
        .add_step("by", "age", SOrder.desc)
        .add_step("local", ir.Bytecode().add_step("out").add_step("limit", SScope.local, 2))
        .add_step("select", SPop.all_, "a")
        .add_step("valueMap")
        .add_step("with", "~tinkerpop.valueMap.tokens")
        .add_step("mergeV", {T.id: 1, "x": ir.CardinalityValue(Cardinality.list_, 3)})
    )
    got = req.args["gremlin"]
    assert got == expected
    assert type(got.steps[0].args[0]) is Int64  # long(1) stays a Long
    assert type(got.steps[-1].args[0][T.id]) is int  # 1 stays an Int


@pytest.mark.parametrize(
    ("sent", "expected", "kind"),
    [
        (1, 1, int),
        (long(2**40), Int64(2**40), Int64),
        (short(7), Int16(7), Int16),
        (SingleByte(-3), Int8(-3), Int8),
        (bigint(2**80), BigInt(2**80), BigInt),
        (1.5, 1.5, float),
        ("héllo", "héllo", str),
        (SingleChar("é"), Char("é"), Char),
        (True, True, bool),
        (None, None, type(None)),
        (uuid.UUID(int=5), uuid.UUID(int=5), uuid.UUID),
        (dt.timedelta(seconds=90, microseconds=5), dt.timedelta(seconds=90, microseconds=5), dt.timedelta),
        (b"\x00\x01", b"\x00\x01", bytes),
        ([1, "a"], [1, "a"], list),
        ({"a", "b"}, {"a", "b"}, set),
        ({"k": [1]}, {"k": [1]}, dict),
        (
            dt.datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=dt.UTC),
            dt.datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=dt.UTC),
            dt.datetime,
        ),
        (GCard.set_, Cardinality.set_, Cardinality),
        (GVertex(3, "person"), Vertex(3, "person"), Vertex),
    ],
)
def test_argument_values_keep_their_types(sent: object, expected: object, kind: type) -> None:
    t = source().inject(sent)
    req = graphbinary.read_request(
        payload(frame(GB, "bytecode", {"gremlin": t.bytecode, "aliases": {"g": "g"}}))
    )
    got = req.args["gremlin"].steps[0].args[0]
    assert got == expected
    assert type(got) is kind


def test_naive_datetime_is_read_as_utc() -> None:
    t = source().inject(dt.datetime(2020, 1, 2, 3, 4, 5))
    req = graphbinary.read_request(
        payload(frame(GB, "bytecode", {"gremlin": t.bytecode, "aliases": {"g": "g"}}))
    )
    assert req.args["gremlin"].steps[0].args[0] == dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def _roundtrip(data: object, **kw: object) -> object:
    rid = uuid.uuid4()
    raw = graphbinary.write_response(ResponseMessage(rid, Status.SUCCESS, data=[data]), **kw)
    msg = GB.deserialize_message(raw)
    assert msg["requestId"] == str(rid) and msg["status"]["code"] == 200
    return msg["result"]["data"][0]


def test_response_elements_carry_their_properties() -> None:
    v = Vertex(Int64(1), "person")
    vp = VertexProperty(Int64(7), "name", "marko", v, properties=[Property("since", 2010, None)])
    v.properties = [vp, VertexProperty(Int64(8), "age", 29, v, properties=[])]
    got = _roundtrip(Traverser(v, 3))
    assert got.bulk == 3
    gv = got.object
    assert (gv.id, gv.label) == (1, "person")
    assert [(p.label, p.value) for p in gv.properties] == [("name", "marko"), ("age", 29)]
    assert [(m.key, m.value) for m in gv.properties[0].properties] == [("since", 2010)]

    e = Edge("e1", "knows", Vertex(1, "person"), Vertex(2, "software"), properties=[Property("w", 0.5, None)])
    ge = _roundtrip(e)
    assert (ge.id, ge.label, ge.outV.id, ge.inV.id, ge.inV.label) == ("e1", "knows", 1, 2, "software")
    assert [(p.key, p.value) for p in ge.properties] == [("w", 0.5)]


def test_tokens_mode_writes_elements_without_properties() -> None:
    v = Vertex(1, "person", properties=[VertexProperty(2, "name", "x", None)])
    assert _roundtrip(v, materialize_properties=False).properties == []


def test_response_values_read_back_in_the_driver() -> None:
    path = Path([frozenset({"a"}), frozenset()], [Vertex(1, "v"), "x"])
    gp = _roundtrip(path)
    assert isinstance(gp, GPath) and gp.labels == [{"a"}, set()] and gp.objects[1] == "x"
    assert _roundtrip(BulkSet([("a", 2), ("b", 1)])) == ["a", "a", "b"]
    assert _roundtrip(Float32(1.5)) == 1.5
    assert _roundtrip(Int64(2**40)) == 2**40
    assert _roundtrip(SOrder.desc) == Order.desc
    assert _roundtrip({"k": [1, {2}]}) == {"k": [1, {2}]}
    d = _roundtrip(decimal.Decimal("12.345"))
    assert (d.scale, d.unscaled_value) == (3, 12345)
    when = dt.datetime(2024, 1, 2, 3, 4, 5, 6000, tzinfo=dt.UTC)
    assert _roundtrip(when) == when


def test_values_byte_for_byte_like_gremlinpython() -> None:
    writer = GraphBinaryWriter()
    for ours, theirs in [
        (1, 1),
        (Int64(5), long(5)),
        ("abc", "abc"),
        ([1, "x", None], [1, "x", None]),
        ({"a": 1}, {"a": 1}),
        (uuid.UUID(int=9), uuid.UUID(int=9)),
        (Vertex(1, "person"), GVertex(1, "person")),
        (2.5, 2.5),
        (True, True),
    ]:
        assert graphbinary.write_value(ours) == bytes(writer.write_object(theirs))


def test_result_lists_are_written_like_any_other_list() -> None:
    """The inline writer of response result lists writes the same bytes as the generic one."""
    values = ["", "abc", "é漢", 0, -(2**31), 2**31 - 1, 2**31, -(2**31) - 1, 2**70, 1.5, True, None]
    values += [Int64(3), Vertex(1, "person", properties=[]), Vertex("x", "v"), [1, "a"], {"k": 2}]
    for items in (values, [Traverser(v, bulk) for bulk, v in enumerate(values, 1)], []):
        for materialize in (True, False):
            generic = bytearray()
            graphbinary._Writer(materialize).list(generic, items)
            fast = bytearray()
            graphbinary._Writer(materialize).results(fast, items)
            assert fast == generic
    rid = uuid.uuid4()
    data = graphbinary.write_response(ResponseMessage(rid, Status.SUCCESS, data=[Traverser("AUS", 2)]))
    msg = GB.deserialize_message(data)
    assert msg["requestId"] == str(rid) and [(t.object, t.bulk) for t in msg["result"]["data"]] == [
        ("AUS", 2)
    ]


def test_bad_strings_in_a_request_are_reported_with_their_offset() -> None:
    data = bytearray(payload(frame(GB, "bytecode", {"gremlin": source().V().has("name", "ab").bytecode})))
    at = data.index(b"ab")
    bad = bytes(data[:at]) + b"\xff\xfe" + bytes(data[at + 2 :])
    with pytest.raises(SerializationError, match="at byte .*not UTF-8"):
        graphbinary.read_request(bad)
    too_long = bytes(data[: at - 4]) + b"\x00\x00\x10\x00" + bytes(data[at:])
    with pytest.raises(SerializationError, match="at byte"):
        graphbinary.read_request(too_long)


def test_subgraph_is_a_clear_serialization_error() -> None:
    with pytest.raises(ResultSerializationError, match="GraphSON"):
        graphbinary.write_value(Subgraph([Vertex(1, "v")], []))


def test_every_truncation_is_a_serialization_error() -> None:
    t = source().V(long(1)).has("name", P.within("a", "b")).value_map().with_(WithOptions.tokens)
    data = payload(frame(GB, "bytecode", {"gremlin": t.bytecode, "aliases": {"g": "g"}}))
    for cut in range(len(data)):
        with pytest.raises(SerializationError, match="at byte"):
            graphbinary.read_request(data[:cut])


def test_unknown_type_code_names_the_offset() -> None:
    with pytest.raises(SerializationError, match=r"byte 0: type code 0x77"):
        graphbinary.read_value(b"\x77\x00")


def test_deep_nesting_is_refused() -> None:
    data = b"\x09\x00\x00\x00\x00\x01" * 500 + b"\xfe\x01"
    with pytest.raises(SerializationError, match="deeper than"):
        graphbinary.read_value(data)


@FUZZ
@given(st.binary(max_size=200))
def test_garbage_never_escapes_as_another_exception(data: bytes) -> None:
    try:
        graphbinary.read_request(b"\x81" + data)
    except ProtocolError:
        pass
