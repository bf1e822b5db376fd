"""The WebSocket door through the real gremlinpython driver and through raw frames, against a
real uvicorn server running the real engine over the SQL store (SQLite file)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from gremlin_python.driver import serializer
from gremlin_python.driver.client import Client
from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
from gremlin_python.driver.protocol import GremlinServerError
from gremlin_python.process.anonymous_traversal import traversal
from gremlin_python.process.graph_traversal import GraphTraversalSource, __
from gremlin_python.statics import long

from tests.server.protocol.gp import GS, source
from tests.server.protocol.raw import Raw


def step(t: Any, name: str, *args: Any) -> Any:
    """Append a step gremlinpython has no method for."""
    t.bytecode.add_step(name, *args)
    return t


def ws_url(base: str) -> str:
    return base.replace("http", "ws") + "/gremlin"


@pytest.fixture(scope="module", params=["graphbinary", "graphson"])
def g(request: pytest.FixtureRequest, sqlite_server: str) -> Iterator[GraphTraversalSource]:
    ser = (
        serializer.GraphBinarySerializersV1()
        if request.param == "graphbinary"
        else serializer.GraphSONSerializersV3d0()
    )
    conn = DriverRemoteConnection(ws_url(sqlite_server), "g", message_serializer=ser)
    yield traversal().with_(conn)
    conn.close()


def test_values_keep_their_types(g: GraphTraversalSource) -> None:
    assert g.inject(1, "a", 2.5, None, long(2**40)).to_list() == [1, "a", 2.5, None, 2**40]
    assert g.inject(*range(5)).count().next() == 5


def test_writes_are_committed_and_elements_carry_properties(g: GraphTraversalSource) -> None:
    v = g.add_v("person").property("name", "ann").next()
    assert v.label == "person"
    again = g.V(v.id).next()
    assert [(p.label, p.value) for p in again.properties] == [("name", "ann")]


def test_bulk_is_unrolled_by_the_driver(sqlite_server: str, g: GraphTraversalSource) -> None:
    bulked = source().inject("x", "x", "x").barrier()  # barrier() folds equal traversers into one
    with Raw(sqlite_server) as raw:
        raw.request("bytecode", _bc(bulked))
        assert [(t.object, t.bulk) for m in raw.until_final() for t in m["result"]["data"]] == [("x", 3)]
    assert g.inject("x", "x", "x").barrier().to_list() == ["x", "x", "x"]


def test_errors_keep_the_connection_usable(g: GraphTraversalSource) -> None:
    with pytest.raises(GremlinServerError, match="^595: boom"):
        g.inject(1).fail("boom").to_list()
    with pytest.raises(GremlinServerError, match="^597: The step nope\\(\\) is not known"):
        step(g.inject(1), "nope").to_list()
    assert g.inject(7).to_list() == [7]


def test_failed_write_is_rolled_back(g: GraphTraversalSource) -> None:
    before = g.V().count().next()
    with pytest.raises(GremlinServerError, match="595"):
        g.add_v("ghost").fail("no").to_list()
    assert g.V().count().next() == before


def test_timeout_from_the_engine_and_from_the_watchdog(sqlite_server: str, g: GraphTraversalSource) -> None:
    started = time.monotonic()
    with pytest.raises(GremlinServerError, match="^598: "):  # ten million loops: minutes of work
        g.with_("evaluationTimeout", 200).inject(1).repeat(__.identity()).times(10_000_000).to_list()
    assert time.monotonic() - started < 3  # the engine checked its deadline as it went
    # A worker stuck inside one store call (waiting for SQLite's write lock, which an open session
    # holds) never reaches a deadline check: the watchdog answers for it.
    holder = Client(ws_url(sqlite_server), "g", session=str(uuid.uuid4()))
    try:
        holder.submit("g.addV('lock')").all().result()
        started = time.monotonic()
        with pytest.raises(
            GremlinServerError, match="^598: A timeout occurred.*evaluationTimeout \\(100 ms\\)"
        ):
            g.with_("evaluationTimeout", 100).add_v("blocked").to_list()
        assert time.monotonic() - started < 3.5  # answered by the watchdog, not after the lock wait
    finally:
        holder.close()  # rolls back: the lock goes
    assert g.inject(1).to_list() == [1]
    assert g.V().has_label("lock", "blocked").count().next() == 0


def test_script_text_with_bindings(sqlite_server: str) -> None:
    for ser in (serializer.GraphBinarySerializersV1(), serializer.GraphSONSerializersV3d0()):
        client = Client(ws_url(sqlite_server), "g", message_serializer=ser)
        try:
            assert client.submit("g.inject(x, 'b', x).barrier()", {"x": 1}).all().result() == [1, 1, "b"]
            with pytest.raises(GremlinServerError, match="^597: Syntax error at line 1, column 5"):
                client.submit("g.V(").all().result()
            assert client.submit("g.inject(1).count()").all().result() == [1]
        finally:
            client.close()


def test_transactions_commit_and_rollback(sqlite_server: str) -> None:
    conn = DriverRemoteConnection(ws_url(sqlite_server), "g")
    g = traversal().with_(conn)
    try:
        start = g.V().count().next()
        tx = g.tx()
        gtx = tx.begin()
        gtx.add_v("t").iterate()
        assert gtx.V().count().next() == start + 1
        assert g.V().count().next() == start  # not visible outside the session
        tx.rollback()
        assert g.V().count().next() == start
        tx = g.tx()
        gtx = tx.begin()
        gtx.add_v("t").iterate()
        tx.commit()
        assert g.V().count().next() == start + 1
    finally:
        conn.close()


# -- raw protocol ----------------------------------------------------------------------------


def _bc(t: object) -> dict[str, object]:
    return {"gremlin": t.bytecode, "aliases": {"g": "g"}}  # type: ignore[attr-defined]


def test_batches_206_then_200_and_204_when_empty(sqlite_server: str) -> None:
    with Raw(sqlite_server) as raw:
        rid = raw.request("bytecode", _bc(source().inject(*range(150))))
        msgs = raw.until_final()
        assert [m["status"]["code"] for m in msgs] == [206, 206, 200]
        assert [len(m["result"]["data"]) for m in msgs] == [64, 64, 22]
        assert all(m["requestId"] == rid for m in msgs)
        assert [t.object for m in msgs for t in m["result"]["data"]] == list(range(150))

        raw.request("bytecode", _bc(source().inject(*range(64))))
        assert [m["status"]["code"] for m in raw.until_final()] == [200]

        raw.request("bytecode", {**_bc(source().inject(*range(10))), "batchSize": 4})
        assert [len(m["result"]["data"]) for m in raw.until_final()] == [4, 4, 2]

        raw.request("bytecode", _bc(source().inject(1).limit(0)))
        (msg,) = raw.until_final()
        assert msg["status"]["code"] == 204 and msg["result"]["data"] is None


def test_many_batches_arrive_in_order_on_one_connection(sqlite_server: str) -> None:
    """Far more 206 frames than the send window, two requests at once on one connection: each
    request's frames come in order, none is lost, and its 200 comes after all of its 206s."""
    with Raw(sqlite_server) as raw:
        first = raw.request("bytecode", {**_bc(source().inject(*range(300))), "batchSize": 1})
        second = raw.request("bytecode", {**_bc(source().inject(*range(1000, 1200))), "batchSize": 3})
        frames: dict[str, list[dict[str, Any]]] = {first: [], second: []}
        finals = 0
        while finals < 2:
            msg = raw.receive()
            assert not frames[msg["requestId"]] or frames[msg["requestId"]][-1]["status"]["code"] == 206
            frames[msg["requestId"]].append(msg)
            finals += msg["status"]["code"] != 206
    for rid, expected, size in ((first, list(range(300)), 1), (second, list(range(1000, 1200)), 3)):
        msgs = frames[rid]
        assert [m["status"]["code"] for m in msgs] == [206] * (len(msgs) - 1) + [200]
        assert len(msgs) == -(-len(expected) // size)
        assert [t.object for m in msgs for t in m["result"]["data"]] == expected


def test_timeout_while_batches_stream(sqlite_server: str) -> None:
    """A traversal that streams results without end: many 206 frames go out (more than the send
    window holds), then the deadline ends it with 598 as the request's last frame."""
    endless = source().inject(1).repeat(__.identity()).emit().times(10_000_000)
    with Raw(sqlite_server) as raw:
        rid = raw.request("bytecode", {**_bc(endless), "batchSize": 2, "evaluationTimeout": 300})
        msgs = raw.until_final()
        assert len(msgs) > 9
        assert all(m["requestId"] == rid for m in msgs)
        assert [m["status"]["code"] for m in msgs[:-1]] == [206] * (len(msgs) - 1)
        assert msgs[-1]["status"]["code"] == 598
        assert "timeout" in msgs[-1]["status"]["message"]
        raw.request("bytecode", _bc(source().inject(7)))  # the connection serves the next request
        (msg,) = raw.until_final()
        assert msg["status"]["code"] == 200 and [t.object for t in msg["result"]["data"]] == [7]


def test_watchdog_answers_598_after_streamed_batches(sqlite_server: str) -> None:
    """Batches stream, then the worker blocks inside one store call (SQLite's write lock, held by
    an open session) where no deadline check runs: the watchdog's 598 follows the 206 frames
    already queued, and the blocked write is never committed. (union() runs its branches in
    order, so the constant results stream before addV() blocks.)"""
    holder = Client(ws_url(sqlite_server), "g", session=str(uuid.uuid4()))
    try:
        holder.submit("g.addV('lock')").all().result()
        streams = __.constant(1).repeat(__.identity()).emit().times(20)
        blocked = source().inject(1).union(streams, __.add_v("blocked"))
        with Raw(sqlite_server) as raw:
            rid = raw.request("bytecode", {**_bc(blocked), "batchSize": 2, "evaluationTimeout": 300})
            msgs = raw.until_final()
        assert all(m["requestId"] == rid for m in msgs)
        assert [m["status"]["code"] for m in msgs] == [206] * 9 + [598]
        assert msgs[-1]["status"]["message"].startswith("A timeout occurred during traversal evaluation")
        assert [t.object for m in msgs[:-1] for t in m["result"]["data"]] == [1] * 18
    finally:
        holder.close()  # rolls back: the lock goes, the blocked write fails and is rolled back
    with Raw(sqlite_server) as raw:
        raw.request("bytecode", _bc(source().V().has_label("blocked").count()))
        (msg,) = raw.until_final()
        assert [t.object for t in msg["result"]["data"]] == [0]


def test_eval_results_are_bare_values(sqlite_server: str) -> None:
    with Raw(sqlite_server) as raw:
        raw.request("eval", {"gremlin": "g.inject(5, 5).barrier()", "aliases": {"g": "g"}}, processor="")
        (msg,) = raw.until_final()
        assert msg["result"]["data"] == [5, 5]  # one traverser of bulk 2, sent as two bare values


@pytest.mark.parametrize(
    ("frame", "code", "text"),
    [
        (b"\x00garbage", 498, "mime type"),
        (b"\x05abc", 498, "mime type"),
        (b"\x10application/nope" + b"x" * 10, 498, "unknown serializer mime type"),
        (b"\x20application/vnd.graphbinary-v1.0\x81" + b"\x00" * 10, 497, "at byte"),
        (b"\x20application/vnd.graphbinary-v1.0\x01garbage", 497, "version byte"),
        ("not json at all", 498, "not valid JSON"),
    ],
)
def test_malformed_frames_get_an_error_and_the_connection_lives(
    sqlite_server: str, frame: bytes | str, code: int, text: str
) -> None:
    with Raw(sqlite_server) as raw:
        raw.send(frame)
        msg = raw.receive(GS if isinstance(frame, str) else None)
        assert msg["status"]["code"] == code
        assert text in msg["status"]["message"]
        raw.request("bytecode", _bc(source().inject(1)))
        assert raw.until_final()[-1]["status"]["code"] == 200


@pytest.mark.parametrize(
    ("op", "args", "code", "text"),
    [
        ("nosuchop", {}, 498, "The op [nosuchop] is not supported"),
        ("bytecode", {"gremlin": "g.V()", "aliases": {"g": "g"}}, 499, "to be a Bytecode"),
        ("bytecode", {"gremlin": source().V().bytecode}, 499, "[aliases]"),
        ("bytecode", {"gremlin": source().V().bytecode, "aliases": {"g": "h"}}, 499, "traversal source [h]"),
        ("eval", {"gremlin": "g.V()", "language": "sql"}, 499, "Language [sql] is not supported"),
        (
            "bytecode",
            {"gremlin": source().V().bytecode, "aliases": {"g": "g"}, "batchSize": -1},
            499,
            "batchSize",
        ),
    ],
)
def test_bad_arguments(sqlite_server: str, op: str, args: dict[str, object], code: int, text: str) -> None:
    with Raw(sqlite_server) as raw:
        rid = raw.request(op, args)
        (msg,) = raw.until_final()
        assert msg["requestId"] == rid
        assert msg["status"]["code"] == code
        assert text in msg["status"]["message"]


def test_text_frames_get_text_answers(sqlite_server: str) -> None:
    with Raw(sqlite_server, GS) as raw:
        from gremlin_python.driver.request import RequestMessage

        data = GS.serialize_message(
            str(uuid.uuid4()), RequestMessage("traversal", "bytecode", _bc(source().inject(3)))
        )
        raw.send(data[1 + data[0] :].decode())
        reply = raw.ws.recv(timeout=30)
        assert isinstance(reply, str)
        assert GS.deserialize_message(reply)["result"]["data"][0].object == 3


def test_script_session_is_rolled_back_when_closed(sqlite_server: str) -> None:
    outside = Client(ws_url(sqlite_server), "g")
    inside = Client(ws_url(sqlite_server), "g", session=str(uuid.uuid4()))
    try:
        before = outside.submit("g.V().count()").all().result()[0]
        inside.submit("g.addV('s')").all().result()
        assert inside.submit("g.V().count()").all().result() == [before + 1]
        assert outside.submit("g.V().count()").all().result() == [before]
        inside.close()  # op close: the uncommitted vertex goes away
        assert outside.submit("g.V().count()").all().result() == [before]
    finally:
        outside.close()


def test_random_garbage_frames_each_get_an_error(sqlite_server: str) -> None:
    import random

    rng = random.Random(7)
    prefix = b"\x20application/vnd.graphbinary-v1.0\x81"
    with Raw(sqlite_server) as raw:
        for i in range(60):
            body = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80)))
            raw.send(prefix + body if i % 2 else body)
            msg = raw.receive()
            assert msg["status"]["code"] in (497, 498, 499), msg
        raw.request("bytecode", _bc(source().inject("alive")))
        assert raw.until_final()[-1]["result"]["data"][0].object == "alive"
