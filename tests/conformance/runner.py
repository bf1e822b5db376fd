"""Runs scenarios against one backend in one mode and judges each: pass, fail or skip.

Modes:
- ``inprocess``: :meth:`GremlinEngine.execute` on ``parse(text, bindings)``, in a connection that
  commits on the ``empty`` graph and rolls back on the read-only graphs.
- ``driver``: the real gremlinpython client against a ``seer serve`` subprocess
  (:mod:`tests.conformance.driver`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import signal
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol

from server.store.interface import GraphStore
from server.structure import Int64
from tests.conformance.compare import canon, compare, show
from tests.conformance.features import Scenario
from tests.conformance.graphs import GraphCache
from tests.conformance.notation import Decoder

UNSUPPORTED_TAGS = {
    "@GraphComputerOnly": "needs a GraphComputer (OLAP), which Seer does not have",
    "@TinkerServiceRegistry": "call() with TinkerGraph's own test services",
    "@AllowNullPropertyValues": "Seer's store never stores null property values",
}


class Executor(Protocol):
    mode: str

    def run(self, script: str, bindings: dict[str, Any], *, commit: bool) -> list[Any]: ...

    def reset(self) -> None:
        """Recover after an interrupted run (a timeout)."""

    def close(self) -> None: ...


class InProcessExecutor:
    """The engine called directly: parse, execute, expand bulks."""

    mode = "inprocess"

    def __init__(self, store: GraphStore) -> None:
        from server.gremlin.engine import GremlinEngine

        self.store = store
        self.engine = GremlinEngine(store)

    def run(self, script: str, bindings: dict[str, Any], *, commit: bool) -> list[Any]:
        from server.gremlin.language import parse

        code = parse(script, bindings)
        with self.store.connect() as conn:
            try:
                out: list[Any] = []
                for traverser in self.engine.execute(code, conn):
                    out.extend([traverser.value] * int(traverser.bulk))
            except BaseException:
                conn.rollback()
                raise
            if commit:
                conn.commit()
            else:
                conn.rollback()
        return out

    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass


@dataclasses.dataclass
class Outcome:
    scenario: Scenario
    status: str  # pass | fail | skip
    reason: str = ""


def skip_reason(sc: Scenario) -> str | None:
    """Why a scenario is not run at all (``None``: it runs)."""
    if sc.placeholder:
        return "placeholder (Given an unsupported test)"
    for tag, why in UNSUPPORTED_TAGS.items():
        if tag in sc.tags:
            return f"{tag}: {why}"
    if any(a.kind == "subgraph" for a in sc.assertions):
        return "subgraph results: a TinkerGraph object the drivers cannot compare"
    return None


def run_order(scenarios: Iterable[Scenario]) -> list[Scenario]:
    """Scenarios grouped by graph (read-only graphs first), keeping file order inside a group."""
    rank = {"modern": 0, "crew": 1, "sink": 2, "grateful": 3, "classic": 4, "empty": 9}
    return sorted(scenarios, key=lambda s: rank.get(s.graph, 5))


class ScenarioRunner:
    """Runs scenarios for one backend through one executor."""

    def __init__(self, store: GraphStore, executor: Executor, *, timeout_s: int = 60) -> None:
        self.graphs = GraphCache(store)
        self.executor = executor
        self.timeout_s = timeout_s

    def run_all(
        self, scenarios: Sequence[Scenario], progress: Callable[[Outcome], None] | None = None
    ) -> list[Outcome]:
        outcomes = []
        for sc in run_order(scenarios):
            outcome = self.run(sc)
            outcomes.append(outcome)
            if progress:
                progress(outcome)
        return outcomes

    def run(self, sc: Scenario) -> Outcome:
        reason = skip_reason(sc)
        if reason:
            return Outcome(sc, "skip", reason)
        try:
            with _time_limit(self.timeout_s):
                failure = self._run(sc)
        except ScenarioTimeout:
            self.executor.reset()
            return Outcome(sc, "fail", f"timed out after {self.timeout_s} s")
        except HarnessError as exc:
            return Outcome(sc, "fail", f"harness: {exc}")
        except Exception as exc:  # noqa: BLE001 - any other failure is the scenario's
            return Outcome(sc, "fail", f"{type(exc).__name__}: {_first_line(exc)}")
        return Outcome(sc, "fail", failure) if failure else Outcome(sc, "pass")

    def _run(self, sc: Scenario) -> str | None:
        mutating = sc.mutates
        index = self.graphs.use(sc.graph or "empty")
        if sc.initializer:
            try:
                self.executor.run(sc.initializer, {}, commit=True)
            except Exception as exc:  # noqa: BLE001
                return f"graph initializer failed: {type(exc).__name__}: {_first_line(exc)}"
            index = self.graphs.refresh_index()
        decoder = Decoder(index)
        bindings = {name: decoder.decode(text) for name, text in sc.parameters.items()}
        script = sc.traversal
        if sc.side_effects:
            script, extra = with_side_effects(script, sc.side_effects, decoder)
            bindings.update(extra)

        errors = [a for a in sc.assertions if a.kind == "error"]
        try:
            results = self.executor.run(script, bindings, commit=mutating)
        except Exception as exc:  # noqa: BLE001 - compared with the expected error below
            if not errors:
                return f"raised {type(exc).__name__}: {_first_line(exc)}"
            return check_error(errors[0], exc)
        if errors:
            return f"expected an error, got {len(results)} results: {[show(r) for r in results[:5]]}"

        raw = results
        if sc.iterate == "next":
            results = expand_next(results)
        for assertion in sc.assertions:
            if assertion.kind == "tree":
                failure = check_tree(assertion.rows, raw, decoder)
            else:
                failure = self._check(assertion, results, decoder, bindings)
            if failure:
                return failure
        return None

    def _check(
        self, assertion: Any, results: list[Any], decoder: Decoder, bindings: dict[str, Any]
    ) -> str | None:
        kind = assertion.kind
        if kind in ("unordered", "ordered", "of"):
            expected = [decoder.decode(cell) for cell in assertion.rows]
            return compare(kind, results, expected)
        if kind == "empty":
            return compare("empty", results, [])
        if kind == "count":
            return (
                None
                if len(results) == assertion.count
                else f"expected {assertion.count} results, got {len(results)}"
            )
        if kind == "graph_count":
            script = assertion.traversal.rstrip() + ".count()"
            counted = self.executor.run(script, bindings, commit=False)
            got = counted[0] if len(counted) == 1 else counted
            if canon(got) == canon(Int64(assertion.count)):
                return None
            return (
                f"graph should return {assertion.count} for count of {assertion.traversal!r}, got {show(got)}"
            )
        raise HarnessError(f"unknown assertion {kind!r}")


class ScenarioTimeout(BaseException):
    """Raised by the alarm when a scenario runs too long (a BaseException, so that the engine's
    own ``except Exception`` blocks do not swallow it)."""


@contextlib.contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _alarm(signum: int, frame: Any) -> None:
        raise ScenarioTimeout()

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


class HarnessError(Exception):
    """A scenario the harness itself cannot handle (reported as a failure naming the harness)."""


def with_side_effects(
    script: str, side_effects: dict[str, str], decoder: Decoder
) -> tuple[str, dict[str, Any]]:
    """Insert ``.withSideEffect("key", <value>)`` right after the leading ``g`` (as the suite's
    harnesses do); values travel as bindings ``_se_<key>``."""
    stripped = script.lstrip()
    if not stripped.startswith("g."):
        raise HarnessError("side effects on a traversal that does not start with g.")
    inserted = "".join(f'.withSideEffect("{key}", _se_{key})' for key in side_effects)
    bindings = {f"_se_{key}": decoder.decode(text) for key, text in side_effects.items()}
    return "g" + inserted + stripped[1:], bindings


def expand_next(results: list[Any]) -> list[Any]:
    """``When iterated next``: only the first result; a list/set stands for its items and a map
    for its entries, each as a one-entry map."""
    if not results:
        return []
    first = results[0]
    if isinstance(first, dict):
        return [{k: v} for k, v in first.items()]
    if isinstance(first, (list, set, frozenset, tuple)):
        return list(first)
    return [first]


def check_error(assertion: Any, exc: Exception) -> str | None:
    if not assertion.message_match:
        return None
    message = str(exc)
    want = assertion.message.lower()
    have = message.lower()
    ok = {
        "containing": want in have,
        "starting": have.startswith(want) or _status_stripped(have).startswith(want),
        "ending": have.endswith(want),
    }.get(assertion.message_match, False)
    if ok:
        return None
    return f"expected an error {assertion.message_match} {assertion.message!r}, got {type(exc).__name__}: {_first_line(exc)}"


def _status_stripped(message: str) -> str:
    """gremlinpython prefixes server errors with their status code (``500: ...``)."""
    return re.sub(r"^\d{3}:\s*", "", message)


def check_tree(lines: list[str], results: list[Any], decoder: Decoder) -> str | None:
    """Compare a tree result (nested maps: node -> subtree) with the suite's ASCII drawing."""
    expected = parse_tree(lines, decoder)
    if not results:
        return "expected a tree, got no results"
    if canon(_as_tree(results[0])) == canon(expected):
        return None
    return f"expected tree {show(expected)}, got {show(results[0])}"


def _as_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _as_tree(v) for k, v in value.items()}
    return value


def parse_tree(lines: list[str], decoder: Decoder) -> dict[Any, Any]:
    root: dict[Any, Any] = {}
    stack: list[tuple[int, dict[Any, Any]]] = [(-1, root)]
    for line in lines:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        node = decoder.decode(line.strip().removeprefix("|--"))
        while stack[-1][0] >= indent:
            stack.pop()
        children: dict[Any, Any] = {}
        stack[-1][1][node] = children
        stack.append((indent, children))
    return root


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
