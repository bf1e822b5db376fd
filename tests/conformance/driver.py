"""Driver mode: scenarios go through the real gremlinpython client over a WebSocket to a
``seer serve`` subprocess, as script text with bindings (``client.submit``).

gremlinpython's stock GraphBinary reader turns Int32, Int64, Int16 and Float/Double alike into
plain ``int``/``float``, which would hide exactly the type errors the suite checks (``d[1].i`` is
not ``d[1].l``). The reader here is the driver's own ``GraphBinaryReader`` given type-keeping
deserializers for the numeric types (through its public ``deserializer_map``); everything else is
stock. Values sent as bindings are converted to the driver's types the same way.
"""

from __future__ import annotations

import contextlib
import decimal
import enum
import logging
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path as FsPath
from typing import Any

from gremlin_python import statics
from gremlin_python.driver.client import Client
from gremlin_python.driver.serializer import GraphBinarySerializersV1
from gremlin_python.process import traversal as gp_traversal
from gremlin_python.process.traversal import Traverser
from gremlin_python.structure import graph as gp_graph
from gremlin_python.structure.io import graphbinaryV1 as gb
from gremlin_python.structure.io.util import HashableDict

from server.structure import (
    BigInt,
    Char,
    Edge,
    Float32,
    Int8,
    Int16,
    Int64,
    Path,
    Property,
    Vertex,
    VertexProperty,
)
from server.structure.tokens import TOKEN_TYPES
from tests.conftest import TINKERPOP, seer_command, seer_env

# -- type-keeping deserializers (python_type/graphbinary_type None: not registered globally) --------


def _typed(base: type, wrap: Any) -> type:
    class Typed(base):  # type: ignore[misc, valid-type]
        python_type = None
        graphbinary_type = None

        @classmethod
        def objectify(cls, buff: Any, reader: Any, nullable: bool = True) -> Any:
            value = base.objectify(buff, reader, nullable)
            return None if value is None else wrap(value)

    Typed.__name__ = f"Typed{base.__name__}"
    return Typed


def _decimal(value: statics.BigDecimal) -> decimal.Decimal:
    return decimal.Decimal(value.unscaled_value).scaleb(-value.scale)


def _frozen(value: Any) -> Any:
    """A hashable stand-in that keeps list vs set apart (the stock reader makes both a tuple)."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return frozenset(_frozen(v) for v in value)
    if isinstance(value, dict):
        return HashableDict.of(value)
    return value


class _TypedMapIO(gb.MapIO):
    python_type = None
    graphbinary_type = None

    @classmethod
    def objectify(cls, buff: Any, reader: Any, nullable: bool = True) -> Any:
        def read(b: Any, r: Any) -> dict[Any, Any]:
            size = cls.read_int(b)
            out = {}
            for _ in range(size):
                key = _frozen(r.read_object(b))
                out[key] = r.read_object(b)
            return out

        return cls.is_null(buff, reader, read, nullable)


class _TypedSetIO(gb.SetDeserializer):
    python_type = None
    graphbinary_type = None

    @classmethod
    def objectify(cls, buff: Any, reader: Any, nullable: bool = True) -> Any:
        items = gb.ListIO.objectify(buff, reader, nullable)
        return None if items is None else {_frozen(v) for v in items}


_TYPED_READERS = {
    gb.DataType.map: _TypedMapIO,
    gb.DataType.set: _TypedSetIO,
    gb.DataType.long: _typed(gb.LongIO, Int64),
    gb.DataType.short: _typed(gb.ShortIO, Int16),
    gb.DataType.byte: _typed(gb.ByteIO, lambda v: Int8(int(v))),
    gb.DataType.biginteger: _typed(gb.BigIntIO, BigInt),
    gb.DataType.float: _typed(gb.FloatIO, Float32),
    gb.DataType.bigdecimal: _typed(gb.BigDecimalIO, _decimal),
    gb.DataType.char: _typed(gb.CharIO, Char),
}


def typed_serializer() -> GraphBinarySerializersV1:
    """GraphBinary v1 (the driver's default) with numeric types kept on both sides."""
    reader = gb.GraphBinaryReader(deserializer_map=_TYPED_READERS)
    writer = gb.GraphBinaryWriter(
        serializer_map={Float32: gb.FloatIO, frozenset: gb.SetDeserializer, tuple: gb.ListIO}
    )
    return GraphBinarySerializersV1(reader=reader, writer=writer)


# -- Seer values <-> driver values ----------------------------------------------------------------


def _camel(name: str) -> str:
    head, *rest = name.rstrip("_").split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def to_driver(value: Any) -> Any:
    """A Seer value as gremlinpython would hold it, for a binding."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Int64):
        return statics.long(value)
    if isinstance(value, Int16):
        return statics.short(value)
    if isinstance(value, Int8):
        return statics.SingleByte(int(value))
    if isinstance(value, BigInt):
        return statics.bigint(value)
    if isinstance(value, decimal.Decimal):
        sign, digits, exponent = value.as_tuple()
        unscaled = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
        return statics.BigDecimal(-int(exponent), unscaled)
    if isinstance(value, Vertex):
        return gp_graph.Vertex(to_driver(value.id), value.label)
    if isinstance(value, Edge):
        return gp_graph.Edge(to_driver(value.id), to_driver(value.out_v), value.label, to_driver(value.in_v))
    if isinstance(value, VertexProperty):
        vertex = to_driver(value.vertex) if value.vertex is not None else None
        return gp_graph.VertexProperty(to_driver(value.id), value.key, to_driver(value.value), vertex)
    if isinstance(value, enum.Enum):
        gp_enum = getattr(gp_traversal, type(value).__name__)
        for candidate in (value.value, value.value + "_", _snake(value.value), _snake(value.value) + "_"):
            if candidate in gp_enum.__members__:
                return gp_enum[candidate]
        raise ValueError(f"no gremlinpython member for {value!r}")
    if isinstance(value, dict):
        return {_frozen(to_driver(k)): to_driver(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_driver(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {_frozen(to_driver(v)) for v in value}
    if isinstance(value, tuple):
        return tuple(to_driver(v) for v in value)
    return value


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def from_driver(value: Any) -> Any:
    """A value the driver returned, as a Seer value (elements, paths, tokens converted)."""
    if isinstance(value, gp_graph.Vertex):
        return Vertex(from_driver(value.id), value.label)
    if isinstance(value, gp_graph.Edge):
        return Edge(from_driver(value.id), value.label, from_driver(value.outV), from_driver(value.inV))
    if isinstance(value, gp_graph.VertexProperty):
        vertex = from_driver(value.vertex) if isinstance(value.vertex, gp_graph.Vertex) else None
        return VertexProperty(from_driver(value.id), value.label, from_driver(value.value), vertex)
    if isinstance(value, gp_graph.Property):
        return Property(value.key, from_driver(value.value), None)
    if isinstance(value, gp_graph.Path):
        return Path([frozenset(labels) for labels in value.labels], [from_driver(o) for o in value.objects])
    if isinstance(value, enum.Enum):
        seer_enum = TOKEN_TYPES.get(type(value).__name__)
        if seer_enum is not None:
            return seer_enum.from_name(_camel(value.name))
        return value
    if isinstance(value, statics.long):
        return Int64(value)
    if isinstance(value, dict):
        return {_frozen(from_driver(k)): from_driver(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_driver(v) for v in value]
    if isinstance(value, frozenset):
        return frozenset(from_driver(v) for v in value)
    if isinstance(value, set):
        return {_frozen(from_driver(v)) for v in value}
    if isinstance(value, tuple):
        return tuple(from_driver(v) for v in value)
    return value


# -- the server process and the client ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def seer_server(db_url: str, data_dir: FsPath, log_path: FsPath) -> Iterator[str]:
    """Run ``seer serve`` on a free loopback port; yields its ``ws://`` URL, stops it after."""
    port = free_port()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            seer_command(
                "serve",
                "--db",
                db_url,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
            ),
            # the suite's io() scenarios read data/tinkerpop-modern.json (its write scenarios are
            # placeholders, so nothing is written there)
            env=seer_env(SEER_GREMLIN_IO_ROOT=str(TINKERPOP)),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 90
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"seer serve exited with {proc.returncode}: {log_path.read_text(errors='replace')[-2000:]}"
                    )
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"seer serve did not open port {port} within 90 s")
                time.sleep(0.2)
            yield f"ws://127.0.0.1:{port}/gremlin"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class DriverExecutor:
    """Runs script text through gremlinpython against a running server."""

    mode = "driver"

    def __init__(self, url: str, *, timeout_ms: int = 55_000) -> None:
        # the driver logs every error status it receives; the harness reports them itself
        logging.getLogger("gremlinpython").setLevel(logging.CRITICAL)
        self.url = url
        self.timeout_ms = timeout_ms
        self.client = self._connect()

    def _connect(self) -> Client:
        return Client(self.url, "g", message_serializer=typed_serializer(), pool_size=1)

    def reset(self) -> None:
        self.client.close()
        self.client = self._connect()

    def run(self, script: str, bindings: dict[str, Any], *, commit: bool) -> list[Any]:
        """All results (bulk expanded); raises the driver's exception on an error status.
        Sessionless requests commit on success, so ``commit`` needs no action here."""
        del commit
        raw = (
            self.client.submit(
                script,
                {k: to_driver(v) for k, v in bindings.items()},
                request_options={"evaluationTimeout": self.timeout_ms},
            )
            .all()
            .result()
        )
        out: list[Any] = []
        for item in raw:
            if isinstance(item, Traverser):
                out.extend([from_driver(item.object)] * int(item.bulk))
            else:
                out.append(from_driver(item))
        return out

    def close(self) -> None:
        self.client.close()
