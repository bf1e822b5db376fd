"""Bytecode -> :class:`~server.gremlin.runtime.Pipeline`.

Each step instruction is built by the function registered for its name with :func:`step` (the
step modules register themselves on import). Modulators (``as``, ``by``, ``with``, ``option``,
``times``/``until``/``emit``, ``from``/``to``, ``read``/``write``) are attached to the step before
them. Unknown names raise :class:`UnknownStepError`; lambdas raise :class:`LambdaNotSupported`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from server.gremlin.errors import GremlinArgumentError, LambdaNotSupported, UnknownStepError
from server.gremlin.ir import Binding, Bytecode, Instruction, Lambda
from server.gremlin.runtime import By, Pipeline, Step
from server.structure import Direction, Order, T
from server.structure.tokens import Column

Builder = Callable[["Compiler", tuple], Step]
BUILDERS: dict[str, Builder] = {}

PATH_STEPS = {"path", "select", "simplePath", "cyclicPath", "tree", "match", "as", "otherV"}


class _Connective(Step):
    """Marker for infix ``a.and().b`` / ``a.or().b`` (ConnectiveStrategy), resolved at the end
    of :meth:`Compiler.compile`."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind


def step(*names: str) -> Callable[[Builder], Builder]:
    """Register a builder for step instruction ``names``."""

    def deco(fn: Builder) -> Builder:
        for n in names:
            BUILDERS[n] = fn
        return fn

    return deco


def unbind(value: Any) -> Any:
    """Replace Binding values by what they stand for (recursively in lists/maps)."""
    if isinstance(value, Binding):
        return unbind(value.value)
    if isinstance(value, list):
        return [unbind(v) for v in value]
    if isinstance(value, tuple):
        return tuple(unbind(v) for v in value)
    if isinstance(value, dict):
        return {unbind(k): unbind(v) for k, v in value.items()}
    if isinstance(value, Lambda):
        raise LambdaNotSupported(
            f"Lambdas are not supported: Seer runs no client code ({value.language}: {value.script!r})"
        )
    return value


class Compiler:
    """Compiles one traversal (and its children) for one engine."""

    def __init__(self, engine: Any = None) -> None:
        self.engine = engine
        self.custom: dict[str, Builder] = {}
        self.removed: set[str] = set()
        """Strategies switched off with withoutStrategies (ConnectiveStrategy changes compiling)."""
        if engine is not None:
            for ext in getattr(engine, "extensions", []):
                self.custom.update(getattr(ext, "steps", lambda: {})() or {})

    def compile(self, bytecode: Bytecode | list[Instruction]) -> Pipeline:
        instructions = bytecode.steps if isinstance(bytecode, Bytecode) else bytecode
        steps: list[Step] = []
        for ins in instructions:
            name = ins.name
            args = unbind(ins.args)
            if any(isinstance(a, Lambda) for a in args):
                unbind(args)
            last = steps[-1] if steps else None
            if name == "as":
                if last is None or isinstance(last, _Connective):
                    from server.gremlin.steps.map import IdentityStep

                    last = IdentityStep()
                    steps.append(last)
                last.labels.update(str(a) for a in args)
            elif name == "by":
                if last is None:
                    raise GremlinArgumentError("by() must follow a step it modulates")
                last.add_by(self.make_by(args))
            elif name == "with":
                if last is None:
                    raise GremlinArgumentError("with() must follow a step it modulates")
                key = args[0]
                last.with_options[key] = args[1] if len(args) > 1 else True
                if hasattr(last, "on_with"):
                    last.on_with(key, args[1] if len(args) > 1 else True)
            elif name in ("option", "times", "until", "emit", "from", "to", "read", "write") and (
                last is not None and hasattr(last, "modulate") and last.accepts(name)
            ):
                last.modulate(self, name, args)
            elif name in ("until", "emit", "times"):
                from server.gremlin.steps.branch import RepeatStep

                rep = RepeatStep(None)
                rep.modulate(self, name, args)
                steps.append(rep)
            elif name == "repeat" and last is not None and getattr(last, "awaiting_body", False):
                last.set_body(self, args)
            elif name in ("and", "or") and not args:
                steps.append(_Connective(name))
            elif name in ("from", "to") and self._add_edge_before(steps) is not None:
                self._add_edge_before(steps).modulate(self, name, args)
            elif name == "to" and args and isinstance(args[0], Direction):
                from server.gremlin.steps.flatmap import VertexStep

                steps.append(VertexStep(args[0], list(args[1:]) or None, False))
            else:
                builder = self.custom.get(name) or BUILDERS.get(name)
                if builder is None:
                    raise UnknownStepError(f"The step {name}() is not known to this Gremlin engine")
                steps.append(builder(self, args))
        if any(isinstance(s, _Connective) for s in steps):
            if "ConnectiveStrategy" in self.removed:
                from server.gremlin.steps.filter import TraversalFilterStep

                steps = [TraversalFilterStep(s.kind, []) if isinstance(s, _Connective) else s for s in steps]
            else:
                steps = _connect(steps)
        return Pipeline(steps)

    @staticmethod
    def _add_edge_before(steps: list[Step]) -> Step | None:
        from server.gremlin.steps.mutation import AddEdgeStep, PropertyStep

        for s in reversed(steps):
            if isinstance(s, AddEdgeStep):
                return s
            if not isinstance(s, PropertyStep):
                return None
        return None

    def child(self, arg: Any) -> Pipeline:
        """Compile a child traversal argument."""
        if isinstance(arg, Bytecode):
            return self.compile(arg)
        if isinstance(arg, Lambda):
            unbind(arg)
        raise GremlinArgumentError(f"expected a traversal, got {arg!r}")

    def make_by(self, args: tuple) -> By:
        if not args:
            return By("identity")
        first = args[0]
        order = args[1] if len(args) > 1 else None
        if isinstance(first, Order):
            return By("identity", None, first)
        if isinstance(first, Bytecode):
            return By("traversal", self.compile(first), order)
        if isinstance(first, T):
            return By("token", first, order)
        if isinstance(first, Column):
            return By("column", first, order)
        if isinstance(first, str):
            return By("key", first, order)
        if isinstance(first, Lambda):
            unbind(first)
        raise GremlinArgumentError(f"by() does not take {first!r}")


def _connect(steps: list[Step]) -> list[Step]:
    """Turn ``a.and().b.or().c`` into ``or(and(a, b), c)`` (and binds tighter than or); the
    left operand reaches back to the traversal's start (a root traversal keeps its V()/E())."""
    from server.gremlin.steps.filter import TraversalFilterStep

    first = next(i for i, s in enumerate(steps) if isinstance(s, _Connective))
    begin = first
    while begin > 0:
        prev = steps[begin - 1]
        if getattr(prev, "is_start", None) is not None and begin - 1 == 0:
            break
        begin -= 1
    prefix, body = steps[:begin], steps[begin:]
    groups: list[list[list[Step]]] = [[[]]]
    for s in body:
        if isinstance(s, _Connective):
            if s.kind == "and":
                groups[-1].append([])
            else:
                groups.append([[]])
        else:
            groups[-1][-1].append(s)

    def pipe(seg: list[Step]) -> Pipeline:
        return Pipeline(seg)

    ands: list[Step | Pipeline] = []
    for g in groups:
        if len(g) == 1:
            ands.append(pipe(g[0]))
        else:
            ands.append(TraversalFilterStep("and", [pipe(seg) for seg in g]))
    if len(ands) == 1:
        only = ands[0]
        return prefix + ([only] if isinstance(only, Step) else only.steps)
    kids = [a if isinstance(a, Pipeline) else Pipeline([a]) for a in ands]
    return prefix + [TraversalFilterStep("or", kids)]


FULL_PATH_STEPS = {"path", "simplePath", "cyclicPath", "tree", "otherV"}
SIDE_EFFECT_STEPS = {"aggregate", "store", "sideEffect", "subgraph", "sack"}


@dataclasses.dataclass(frozen=True)
class Shape:
    """What the compile step needs to know about a whole traversal (children included), from
    one walk over its instructions (:func:`shape`) rather than one walk per question."""

    names: frozenset[str]
    """Every step name used."""
    with_args: frozenset[str]
    """The step names used at least once with arguments."""
    reads_paths: bool
    """Whether any step (children included) reads paths or step labels (:func:`_reads_paths`,
    or a path step without arguments)."""

    def uses(self, names: set[str], keyed: set[str] = frozenset()) -> bool:
        """Whether a step in ``names``, or one in ``keyed`` with an argument, occurs anywhere in
        the traversal, children included."""
        return not self.names.isdisjoint(names) or not self.with_args.isdisjoint(keyed)


def shape(bytecode: Bytecode) -> Shape:
    """The :class:`Shape` of ``bytecode``."""
    names: set[str] = set()
    with_args: set[str] = set()
    paths = False
    stack = [bytecode]
    while stack:
        for ins in stack.pop().steps:
            name, args = ins.name, ins.args
            names.add(name)
            if args:
                with_args.add(name)
                if not paths and _reads_paths(name, args):
                    paths = True
                for a in args:
                    if isinstance(a, Bytecode):
                        stack.append(a)
                    elif isinstance(a, dict):
                        stack.extend(v for v in a.values() if isinstance(v, Bytecode))
            elif name in PATH_STEPS:
                paths = True
    return Shape(frozenset(names), frozenset(with_args), paths)


def _reads_paths(name: str, args: tuple) -> bool:
    if name in PATH_STEPS:
        return True
    if name in ("where", "dedup") and any(isinstance(a, str) for a in args):
        return True
    return name == "where" and any(_p_has_label(a) for a in args)


def _p_has_label(p: Any) -> bool:
    from server.gremlin.ir import P

    return isinstance(p, P)
