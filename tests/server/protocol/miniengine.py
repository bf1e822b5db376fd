"""A deliberately tiny interpreter standing in for the Gremlin engine in protocol tests.

The protocol layer is tested against the engine *contract* (lazy Traverser iterator, errors
from ``server.gremlin.errors``, caller-owned transactions); this class honours that contract for
a handful of steps over a real store, so that the wire tests run whatever state the real engine is
in. End-to-end tests with the real engine live in ``test_end_to_end.py``.

Steps: V(ids...), inject(values...), addV(label), property(key, value), values(key), count(),
limit(n), label(), id(), fail(msg), sleep(ms) (a test-only step that blocks), bulk(n) (repeats each
traverser with bulk n), path-less and lazy: results are produced one at a time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from server.gremlin.engine import ExecutionOptions, GremlinEngine, Traverser
from server.gremlin.errors import EvaluationTimeout, FailStepError, ReadOnlyViolation, UnknownStepError
from server.gremlin.ir import Bytecode
from server.store.interface import ElementQuery, GraphConnection
from server.structure import Int64, Vertex

WRITES = {"addV", "property"}


class MiniEngine(GremlinEngine):
    def execute(
        self, bytecode: Bytecode, conn: GraphConnection, options: ExecutionOptions | None = None
    ) -> Iterator[Traverser]:
        options = options or ExecutionOptions()
        for inst in bytecode.steps:
            if inst.name not in STEPS:
                raise UnknownStepError(f"The step {inst.name}() is not known to the mini engine")
            if options.read_only and inst.name in WRITES:
                raise ReadOnlyViolation(f"The traversal is read-only: {inst.name}() would write")
        return self._run(bytecode, conn, options)

    def _run(
        self, bytecode: Bytecode, conn: GraphConnection, options: ExecutionOptions
    ) -> Iterator[Traverser]:
        stream: Iterator[Traverser] = iter(())
        for inst in bytecode.steps:
            stream = STEPS[inst.name](stream, conn, inst.args)
        for t in stream:
            if options.deadline is not None and time.monotonic() > options.deadline:
                raise EvaluationTimeout("evaluationTimeout exceeded (mini engine)")
            yield t


def _v(stream: Any, conn: GraphConnection, args: tuple) -> Iterator[Traverser]:
    query = ElementQuery(ids=list(args)) if args else ElementQuery()
    for v in conn.vertices(query):
        v.properties = conn.vertex_properties([v])[0]
        yield Traverser(v)


def _inject(stream: Any, conn: GraphConnection, args: tuple) -> Iterator[Traverser]:
    for a in args:
        yield Traverser(a)


def _add_v(stream: Any, conn: GraphConnection, args: tuple) -> Iterator[Traverser]:
    v = conn.add_vertex(args[0] if args else "vertex")
    v.properties = []
    yield Traverser(v)


def _property(stream: Iterator[Traverser], conn: GraphConnection, args: tuple) -> Iterator[Traverser]:
    for t in stream:
        conn.add_vertex_property(t.value, args[0], args[1])
        t.value.properties = conn.vertex_properties([t.value])[0]
        yield t


def _values(stream: Iterator[Traverser], conn: GraphConnection, args: tuple) -> Iterator[Traverser]:
    for t in stream:
        for vp in conn.vertex_properties([t.value], list(args) or None)[0]:
            yield Traverser(vp.value, t.bulk)


def _count(stream: Iterator[Traverser], conn: GraphConnection, args: tuple) -> Iterator[Traverser]:
    yield Traverser(Int64(sum(t.bulk for t in stream)))


def _limit(stream: Iterator[Traverser], conn: GraphConnection, args: tuple) -> Iterator[Traverser]:
    n = int(args[0])
    for i, t in enumerate(stream):
        if i >= n:
            return
        yield t


def _label(stream: Iterator[Traverser], conn: GraphConnection, args: tuple) -> Iterator[Traverser]:
    for t in stream:
        yield Traverser(t.value.label, t.bulk)


def _id(stream: Iterator[Traverser], conn: GraphConnection, args: tuple) -> Iterator[Traverser]:
    for t in stream:
        yield Traverser(t.value.id, t.bulk)


def _fail(stream: Iterator[Traverser], conn: GraphConnection, args: tuple) -> Iterator[Traverser]:
    for _ in stream:
        raise FailStepError(args[0] if args else "fail() step reached")
    yield from ()


def _sleep(stream: Iterator[Traverser], conn: GraphConnection, args: tuple) -> Iterator[Traverser]:
    for t in stream:
        time.sleep(int(args[0]) / 1000)
        yield t


def _bulk(stream: Iterator[Traverser], conn: GraphConnection, args: tuple) -> Iterator[Traverser]:
    for t in stream:
        yield Traverser(t.value, int(args[0]))


def _discard(stream: Iterator[Traverser], conn: GraphConnection, args: tuple) -> Iterator[Traverser]:
    for _ in stream:
        pass
    yield from ()


STEPS = {
    "discard": _discard,
    "V": _v,
    "inject": _inject,
    "addV": _add_v,
    "property": _property,
    "values": _values,
    "count": _count,
    "limit": _limit,
    "label": _label,
    "id": _id,
    "fail": _fail,
    "sleep": _sleep,
    "bulk": _bulk,
}

__all__ = ["MiniEngine", "Vertex"]
