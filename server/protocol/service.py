"""Serving one Gremlin request, whatever door it came through (WebSocket or HTTP).

:meth:`GremlinService.plan` validates a decoded request the way Gremlin Server does (499 for bad
arguments, 498 for an unknown op); :meth:`GremlinService.execute` runs the plan on a worker
thread (the engine and the store are blocking; :mod:`server.protocol.workers`, a session's own
thread for session requests) and hands response messages to an :class:`Emitter`:

- results in batches of ``batchSize``: 206 for each full batch while more follow, 200 for the
  last one, a single 204 when there are none (HTTP gets everything in one 200);
- ``bytecode`` results are :class:`Traverser` objects (value + bulk), ``eval`` results bare
  values with the bulk unrolled, as Gremlin Server sends them;
- sessionless requests get their own store connection and transaction: committed before the
  final message, rolled back on error; session requests run on the session's connection, whose
  transaction the client ends with ``g.tx().commit()`` / ``rollback()``;
- ``evaluationTimeout`` (per request, or the server default) is enforced twice: the engine and
  the batching loop check the deadline, and a watchdog (a ``loop.call_later`` timer, cancelled
  when the worker answers) answers 598 and abandons a worker that is stuck inside one engine
  call (its transaction is rolled back when it returns). Either way the 598 message names the
  limit and where it came from: the request's argument, or the server setting
  ``evaluation_timeout_ms`` (``SEER_EVALUATION_TIMEOUT_MS``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any, Protocol

from server.config import Settings
from server.gremlin.engine import ExecutionOptions, GremlinEngine, Traverser
from server.gremlin.errors import EvaluationTimeout
from server.gremlin.ir import Bytecode
from server.protocol.auth import ANONYMOUS, Authenticator, User
from server.protocol.errors import InvalidArguments, MalformedRequest, ProtocolError, Status
from server.protocol.messages import RequestMessage, ResponseMessage
from server.protocol.metrics import GremlinMetrics
from server.protocol.sessions import Session, SessionRegistry
from server.protocol.status import status_for
from server.protocol.workers import WorkerPool, run_on
from server.store.interface import GraphStore

LANGUAGES = ("gremlin-lang", "gremlin-groovy")
"""Script languages accepted for ``eval``: both are read as gremlin-lang (no Groovy runs here)."""
_WATCHDOG_GRACE_S = 1.0


class Emitter(Protocol):
    """Where response messages go. From the worker thread: ``send_sync`` (a 206 batch; may
    return before it is written, but frames go out in order and before the final one) and
    ``finish_sync`` (the final message: encoded there, written by ``flush``
    on the event loop once the worker returns, which saves a thread round trip per request).
    From the event loop: ``send`` (the watchdog's 598)."""

    def send_sync(self, msg: ResponseMessage) -> None: ...

    def finish_sync(self, msg: ResponseMessage) -> None: ...

    async def flush(self) -> None: ...

    async def send(self, msg: ResponseMessage) -> None: ...


@dataclasses.dataclass
class Plan:
    """A validated request, ready to run."""

    request: RequestMessage
    op: str
    gremlin: Bytecode | str | None
    bindings: dict[str, Any]
    traversal: bool
    """True for op ``bytecode``: results go out as Traversers."""
    batch_size: int
    timeout_ms: int
    timeout_arg: str | None
    """The request argument that set ``timeout_ms``; None when it is the server's default."""
    materialize: str
    user: User
    session: Session | None = None
    stream: bool = True

    @property
    def request_id(self) -> uuid.UUID | None:
        return self.request.request_id

    def describe(self) -> str:
        """The request as timeout and error messages show it."""
        text = self.gremlin if isinstance(self.gremlin, str) else repr(self.gremlin)
        return text if len(text) <= 300 else text[:297] + "..."

    def timeout_text(self) -> str:
        """The 598 message: the limit in force and where it came from."""
        if self.timeout_arg is not None:
            limit = (
                f"the limit given to {self.timeout_arg} ({self.timeout_ms} ms), "
                f"which this request set with its {self.timeout_arg} argument"
            )
        else:
            limit = (
                f"the server's default limit of {self.timeout_ms} ms (setting evaluation_timeout_ms, "
                "SEER_EVALUATION_TIMEOUT_MS), or give the request its own evaluationTimeout argument"
            )
        return (
            f"A timeout occurred during traversal evaluation of [{self.describe()}] - "
            f"consider increasing {limit}"
        )


class _Abandoned(Exception):
    """The watchdog already answered this request (timeout); the worker must stop quietly."""


class _RunState:
    """Shared between a worker and its watchdog: whoever takes ``lock`` first decides."""

    __slots__ = ("lock", "finished", "abandoned", "timer")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.finished = False
        self.abandoned = False
        self.timer: asyncio.TimerHandle | None = None
        """The watchdog's pending ``call_later`` (replaced when it looks again)."""


_ABANDONED: Any = object()
"""What a request's future holds when the watchdog answered it."""


class GremlinService:
    """Plans and runs Gremlin requests against one store and engine; shared by all doors."""

    def __init__(
        self,
        settings: Settings,
        store: GraphStore,
        engine: GremlinEngine,
        *,
        metrics: GremlinMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.engine = engine
        self.metrics = metrics or GremlinMetrics()
        self.authenticator = Authenticator(settings.users)
        self._pool: WorkerPool | None = None
        self.sessions = SessionRegistry(store, settings.session_idle_timeout_s, self.metrics)

    @property
    def pool(self) -> WorkerPool:
        """The worker threads for sessionless requests (made on first use, so an app can be
        served again after close; its threads start as concurrent requests need them)."""
        if self._pool is None:
            self._pool = WorkerPool("gremlin", self.settings.engine_threads)
        return self._pool

    def close(self) -> None:
        """Roll back and close every session, stop the worker threads."""
        self.sessions.close_all()
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown()

    # -- planning ------------------------------------------------------------------------------

    def plan(self, req: RequestMessage, user: User = ANONYMOUS, *, stream: bool = True) -> Plan:
        """Validate ``req``; raises :class:`ProtocolError` with Gremlin Server's code."""
        args = req.args
        op = req.op
        if op not in ("bytecode", "eval"):
            raise MalformedRequest(
                f"The op [{op}] is not supported by the [{req.processor or 'standard'}] processor "
                "(supported: bytecode, eval, authentication, close)"
            )
        gremlin = args.get("gremlin")
        if op == "bytecode" and not isinstance(gremlin, Bytecode):
            raise InvalidArguments(
                "A message with [bytecode] op code requires the [gremlin] argument to be a Bytecode"
            )
        if op == "eval" and not isinstance(gremlin, str):
            raise InvalidArguments(
                "A message with an [eval] op code requires a [gremlin] argument (the script)"
            )
        self._check_aliases(op, args.get("aliases"))
        language = args.get("language")
        if op == "eval" and language is not None and language not in LANGUAGES:
            raise InvalidArguments(
                f"Language [{language}] is not supported: this server evaluates gremlin-lang "
                "(scripts sent as gremlin-groovy are read as gremlin-lang)"
            )
        bindings = args.get("bindings") or {}
        if not isinstance(bindings, dict):
            raise InvalidArguments("The [bindings] argument must be a Map of names to values")
        session = self._session_for(req)
        timeout_ms, timeout_arg = self._timeout(args)
        return Plan(
            request=req,
            op=op,
            gremlin=gremlin,
            bindings={str(k): v for k, v in bindings.items()},
            traversal=op == "bytecode",
            batch_size=self._positive_int(args, "batchSize", self.settings.batch_size),
            timeout_ms=timeout_ms,
            timeout_arg=timeout_arg,
            materialize=self._materialize(args),
            user=user,
            session=session,
            stream=stream,
        )

    @staticmethod
    def _check_aliases(op: str, aliases: Any) -> None:
        if aliases is None and op == "eval":
            return
        if not isinstance(aliases, dict) or len(aliases) != 1 or "g" not in aliases:
            raise InvalidArguments(
                f"A message with [{op}] op code requires the [aliases] argument to be a Map "
                "containing one alias assignment named 'g'."
            )
        if aliases["g"] != "g":
            raise InvalidArguments(
                f"The traversal source [{aliases['g']}] for alias [g] is not configured on the server."
            )

    @staticmethod
    def _positive_int(args: dict[str, Any], key: str, default: int) -> int:
        value = args.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InvalidArguments(f"The [{key}] argument must be a positive integer, not {value!r}")
        return int(value)

    def _timeout(self, args: dict[str, Any]) -> tuple[int, str | None]:
        """``(milliseconds, the argument that set them)``; ``(server default, None)`` when the
        request sets no timeout."""
        for key in ("evaluationTimeout", "scriptEvaluationTimeout"):
            value = args.get(key)
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise InvalidArguments(f"The [{key}] argument must be milliseconds >= 0, not {value!r}")
                return int(value), key
        return self.settings.evaluation_timeout_ms, None

    @staticmethod
    def _materialize(args: dict[str, Any]) -> str:
        value = args.get("materializeProperties", "all")
        if value not in ("all", "tokens"):
            raise InvalidArguments(
                f"The [materializeProperties] argument must be 'all' or 'tokens', not {value!r}"
            )
        return value

    def _session_for(self, req: RequestMessage) -> Session | None:
        sid = req.args.get("session")
        if sid is None:
            if req.processor == "session":
                raise InvalidArguments("A message for the [session] processor requires a [session] argument")
            return None
        return self.sessions.get_or_open(str(sid))

    # -- execution -----------------------------------------------------------------------------

    async def execute(self, plan: Plan, emitter: Emitter, *, transport: str = "ws") -> Status:
        """Run ``plan`` and emit its responses; returns the final status code."""
        loop = asyncio.get_running_loop()
        state = _RunState()
        workers = plan.session.worker if plan.session else self.pool
        started = time.monotonic()
        self.metrics.in_flight.inc()
        try:
            work = run_on(workers, loop, self._work, plan, emitter, state)
            if plan.timeout_ms > 0:
                state.timer = loop.call_later(
                    plan.timeout_ms / 1000 + _WATCHDOG_GRACE_S, self._watchdog, loop, state, work
                )
            try:
                code = await work
            finally:
                if state.timer is not None:
                    state.timer.cancel()
            if code is _ABANDONED:
                code = Status.SERVER_ERROR_TIMEOUT
                await emitter.send(
                    ResponseMessage(plan.request_id, Status.SERVER_ERROR_TIMEOUT, plan.timeout_text())
                )
            else:
                await emitter.flush()
        finally:
            self.metrics.in_flight.dec()
        self.metrics.observe(plan.op, transport, int(code), time.monotonic() - started)
        return code

    def _watchdog(self, loop: asyncio.AbstractEventLoop, state: _RunState, work: asyncio.Future) -> None:
        """On the event loop when the deadline (plus grace) passed and the worker has not
        answered: the worker is stuck inside one engine call, so answer 598 on its behalf. While
        the worker holds the lock (it is sending or committing) look again in 10 ms."""
        if work.done():
            return
        if not state.lock.acquire(blocking=False):
            state.timer = loop.call_later(0.01, self._watchdog, loop, state, work)
            return
        try:
            if state.finished:
                return  # answered and committed; its result is on the way
            state.abandoned = True
        finally:
            state.lock.release()
        work.set_result(_ABANDONED)  # the worker's own outcome, when it comes, is dropped

    def _work(self, plan: Plan, emitter: Emitter, state: _RunState) -> Status:
        """Runs on a worker thread from start to end: connection, engine, batches, commit."""
        session = plan.session
        conn = None
        try:
            bytecode = self._bytecode(plan)
            conn = session.connection() if session else self.store.connect()
            tx = _tx_instruction(bytecode)
            if tx is not None:
                if tx == "commit":
                    conn.commit()
                else:
                    conn.rollback()
                return self._emit(state, emitter, ResponseMessage(plan.request_id, Status.NO_CONTENT))
            deadline = time.monotonic() + plan.timeout_ms / 1000 if plan.timeout_ms > 0 else None
            options = ExecutionOptions(
                deadline=deadline, read_only=plan.user.read_only, materialize_properties=plan.materialize
            )
            batches = self._items(self.engine.execute_batches(bytecode, conn, options), plan, deadline)
            return self._stream(plan, emitter, state, batches, conn, commit=session is None)
        except _Abandoned:
            if conn is not None:
                conn.rollback()
            return Status.SERVER_ERROR_TIMEOUT
        except Exception as exc:  # noqa: BLE001 - every failure becomes an error response
            if conn is not None:
                _quiet_rollback(conn)
            code, message, attributes = status_for(exc)
            if isinstance(exc, EvaluationTimeout):
                message = plan.timeout_text()  # the engine knows the deadline, not where it came from
            try:
                self._emit(state, emitter, ResponseMessage(plan.request_id, code, message, attributes))
            except _Abandoned:
                return Status.SERVER_ERROR_TIMEOUT
            except Exception:  # noqa: BLE001 - the client is gone; nothing left to tell it
                pass
            return code
        finally:
            if conn is not None and session is None:
                conn.close()
            if session is not None:
                session.touch()

    def _bytecode(self, plan: Plan) -> Bytecode:
        if isinstance(plan.gremlin, Bytecode):
            return plan.gremlin
        from server.gremlin.language import parse  # the parser is large; import on first use

        return parse(plan.gremlin or "", plan.bindings)

    def _items(
        self, batches: Iterator[list[Traverser]], plan: Plan, deadline: float | None
    ) -> Iterator[list[Any]]:
        """The results a batch at a time: traversers (bytecode) or bare values (eval, a value
        per unit of bulk), with the deadline and the size limit checked per batch."""
        limit = self.settings.max_result_items
        count = 0
        for travs in batches:
            if deadline is not None and time.monotonic() > deadline:
                raise EvaluationTimeout(plan.timeout_text())
            count += sum(t.bulk for t in travs)
            if limit and count > limit:
                raise ProtocolError(
                    Status.SERVER_ERROR,
                    f"The result exceeds the limit of {limit} items per request (max_result_items, "
                    "SEER_MAX_RESULT_ITEMS); narrow the traversal or page it with range()",
                )
            yield travs if plan.traversal else [t.value for t in travs for _ in range(t.bulk)]

    def _stream(
        self,
        plan: Plan,
        emitter: Emitter,
        state: _RunState,
        batches: Iterator[list[Any]],
        conn: Any,
        *,
        commit: bool,
    ) -> Status:
        """Send the results in frames of ``batch_size`` (206 each, the last one 200) or all in
        one (a non-streaming request); 204 when there are none."""
        rid = plan.request_id
        pending: list[Any] = []
        size = plan.batch_size if plan.stream else 0
        for items in batches:
            pending.extend(items)
            sent = 0
            while size and len(pending) - sent > size:  # a full frame, and more after it
                frame = pending[sent : sent + size]
                self._emit(
                    state, emitter, ResponseMessage(rid, Status.PARTIAL_CONTENT, data=frame), final=False
                )
                sent += size
            del pending[:sent]
        before = conn.commit if commit else None
        if not pending and plan.stream:
            return self._emit(state, emitter, ResponseMessage(rid, Status.NO_CONTENT), before=before)
        return self._emit(state, emitter, ResponseMessage(rid, Status.SUCCESS, data=pending), before=before)

    @staticmethod
    def _emit(
        state: _RunState,
        emitter: Emitter,
        msg: ResponseMessage,
        *,
        final: bool = True,
        before: Any = None,
    ) -> Status:
        """Send ``msg`` unless the watchdog answered already; ``before`` (the commit) runs under
        the same lock, so a request is either committed and answered, or timed out and rolled back."""
        with state.lock:
            if state.abandoned:
                raise _Abandoned()
            if final:
                emitter.finish_sync(msg)  # encoded first: a 599 leaves nothing committed
                if before is not None:
                    before()
                state.finished = True
            else:
                emitter.send_sync(msg)
        return msg.code


def _tx_instruction(bytecode: Bytecode) -> str | None:
    """``commit``/``rollback`` for ``g.tx().commit()`` bytecode, else None."""
    if bytecode.steps or len(bytecode.source) != 1 or bytecode.source[0].name != "tx":
        return None
    args = bytecode.source[0].args
    action = args[0] if args else None
    if action not in ("commit", "rollback"):
        raise InvalidArguments(f"tx() takes 'commit' or 'rollback', not {action!r}")
    return action


def _quiet_rollback(conn: Any) -> None:
    try:
        conn.rollback()
    except Exception:  # noqa: BLE001 - the connection may be broken; closing it follows
        pass
