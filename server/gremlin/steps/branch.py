"""Branch steps: ``repeat`` (with times/until/emit/loops), ``union``, ``choose``/``branch`` with
``option``, ``optional``, ``coalesce``, ``local``.

``repeat`` runs breadth first, one frontier at a time through the body, in chunks: traversers
leave as soon as their chunk is done, so ``repeat(...).until(...).limit(1)`` stops early. The
deadline is checked on every chunk of every iteration.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from server.gremlin import semantics as sem
from server.gremlin.compiler import step
from server.gremlin.errors import GremlinArgumentError
from server.gremlin.ir import Bytecode, P, TextP
from server.gremlin.predicates import test
from server.gremlin.runtime import BATCH, MISSING, Context, Pipeline, Step, Trav, chunks
from server.structure import Pick, T


def _as_pipeline(c: Any, arg: Any) -> Any:
    if isinstance(arg, Bytecode):
        return c.child(arg)
    return arg


class RepeatStep(Step):
    name = "repeat"

    def __init__(self, body: Pipeline | None, loop_name: str | None = None) -> None:
        super().__init__()
        self.body = body
        self.loop_name = loop_name
        self.times: int | None = None
        self.until: Pipeline | None = None
        self.until_first = False
        self.emit: Pipeline | bool | None = None
        self.emit_first = False
        self.times_first = False

    @property
    def awaiting_body(self) -> bool:
        return self.body is None

    def set_body(self, c: Any, args: tuple) -> None:
        if len(args) == 2:
            self.loop_name, args = args[0], args[1:]
        self.body = c.child(args[0])

    @property
    def streamable(self) -> bool:  # type: ignore[override]
        kids = [self.body] + [k for k in (self.until, self.emit) if isinstance(k, Pipeline)]
        return all(k.streamable for k in kids if k is not None)

    def children(self) -> list[Pipeline]:
        return [k for k in (self.body, self.until, self.emit) if isinstance(k, Pipeline)]

    def accepts(self, name: str) -> bool:
        return name in ("times", "until", "emit")

    def modulate(self, c: Any, name: str, args: tuple) -> None:
        before = self.body is None
        if name == "times":
            self.times = int(args[0])
            self.times_first = before
        elif name == "until":
            self.until = _cond(c, args[0])
            self.until_first = before
        else:
            self.emit = _cond(c, args[0]) if args else True
            self.emit_first = before

    def _passes(self, ctx: Context, cond: Any, travs: list[Trav]) -> list[bool]:
        if cond is True:
            return [True] * len(travs)
        if cond is None or not travs:
            return [False] * len(travs)
        return ctx.child_any(cond, travs)

    def _enter(self, t: Trav) -> Trav:
        n = t.copy()
        n.loops = t.loops + ((self.loop_name, 0),)
        return n

    @staticmethod
    def _leave(t: Trav) -> Trav:
        n = t.copy()
        n.loops = t.loops[:-1]
        return n

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        if self.body is None:
            raise GremlinArgumentError("The repeat()-traversal was not defined")
        if not self.streamable or any(s.streamable is False for s in self.body.steps):
            frontier = [self._enter(t) for b in it for t in b]
            yield from self._loop(frontier, ctx)
            return
        for batch in it:
            yield from self._loop([self._enter(t) for t in batch], ctx)

    def _loop(self, frontier: list[Trav], ctx: Context) -> Iterator[list[Trav]]:
        # the body is one traversal across iterations: its dedup()/range() keep their state
        for s in self.body.steps:
            ctx.persistent.add(id(s))
        # checks before the first pass (while-do)
        if self.times is not None and self.times_first and self.times <= 0:
            yield [self._leave(t) for t in frontier]
            return
        if self.emit_first and self.emit is not None and frontier:
            ok = self._passes(ctx, self.emit, frontier)
            emitted = [self._leave(t) for t, e in zip(frontier, ok, strict=True) if e]
            if emitted and not (self.until_first and self.until is not None):
                yield emitted
        if self.until_first and self.until is not None and frontier:
            done = self._passes(ctx, self.until, frontier)
            out = [self._leave(t) for t, d in zip(frontier, done, strict=True) if d]
            if out:
                yield out
            rest = [t for t, d in zip(frontier, done, strict=True) if not d]
            if self.emit_first and self.emit is not None and rest:
                ok = self._passes(ctx, self.emit, rest)
                em = [self._leave(t) for t, e in zip(rest, ok, strict=True) if e]
                if em:
                    yield em
            frontier = rest
        while frontier:
            ctx.check()
            nxt: list[Trav] = []
            size = BATCH if self.body.streamable else max(len(frontier), 1)
            for chunk in chunks(frontier, size):
                ctx.check()
                produced = [t for b in self.body.run(iter([chunk]), ctx) for t in b]
                for t in produced:
                    name, n = t.loops[-1]
                    t.loops = t.loops[:-1] + ((name, n + 1),)
                exits: list[Trav] = []
                cont: list[Trav] = []
                if self.times is not None and not self.until_first and self.until is None:
                    for t in produced:
                        (exits if t.loops[-1][1] >= self.times else cont).append(t)
                else:
                    if self.times is not None:
                        limit_hit = [t.loops[-1][1] >= self.times for t in produced]
                    else:
                        limit_hit = [False] * len(produced)
                    done = self._passes(ctx, self.until, produced) if self.until is not None else limit_hit
                    for t, d, lim in zip(produced, done, limit_hit, strict=True):
                        (exits if d or lim else cont).append(t)
                emitted: list[Trav] = []
                if self.emit is not None and cont:
                    ok = self._passes(ctx, self.emit, cont)
                    emitted = [self._leave(t) for t, e in zip(cont, ok, strict=True) if e]
                out = emitted + [self._leave(t) for t in exits]
                if out:
                    yield out
                nxt.extend(cont)
            if ctx.can_merge and nxt:
                nxt = _merge(nxt, ctx)
            frontier = nxt


def _merge(travs: list[Trav], ctx: Context) -> list[Trav]:
    from server.structure import Edge, Vertex, VertexProperty

    seen: dict[Any, Trav] = {}
    out: list[Trav] = []
    for t in travs:
        if isinstance(t.value, (Vertex, Edge, VertexProperty)):
            k = (type(t.value), t.value.id, t.loops, t.root, ctx.path_key(t))
            m = seen.get(k)
            if m is None:
                seen[k] = t
                out.append(t)
            else:
                m.bulk += t.bulk
        else:
            out.append(t)
    return out


def _cond(c: Any, arg: Any) -> Any:
    if isinstance(arg, Bytecode):
        return c.child(arg)
    if isinstance(arg, (P, TextP)):
        from server.gremlin.steps.filter import IsStep

        return Pipeline([IsStep(arg)])
    raise GremlinArgumentError(f"expected a traversal or predicate, got {arg!r}")


@step("repeat")
def _repeat(c: Any, args: tuple) -> Step:
    name = None
    if len(args) == 2:
        name, args = args[0], args[1:]
    return RepeatStep(c.child(args[0]), name)


def _global_children_apply(
    step_: Step, it: Iterator[list[Trav]], ctx: Context, fn: Any
) -> Iterator[list[Trav]]:
    if step_.streamable:
        for batch in it:
            ctx.check()
            yield from fn(batch)
    else:
        everything = [t for b in it for t in b]
        if everything:
            yield from fn(everything)


class UnionStep(Step):
    name = "union"
    path_extending = True

    def __init__(self, kids: list[Pipeline]) -> None:
        super().__init__()
        self.kids = kids
        self.is_start = False

    @property
    def streamable(self) -> bool:  # type: ignore[override]
        return all(k.streamable for k in self.kids)

    def children(self) -> list[Pipeline]:
        return self.kids

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        if self.is_start:
            it = iter([[Trav(None, 1, (), (), ctx.new_sack())]])
            starts = True
        else:
            starts = False

        def run(batch: list[Trav]) -> Iterator[list[Trav]]:
            for k in self.kids:
                if starts:
                    first = k.steps[0] if k.steps else None
                    if first is not None and hasattr(first, "is_start"):
                        first.is_start = True
                        yield from k.run(iter([[]]), ctx)
                    else:
                        yield from k.run(iter([[Trav(None, 1, (), (), ctx.new_sack())]]), ctx)
                    continue
                seeds = [t.copy() for t in batch]
                yield from k.run(iter([seeds]), ctx)

        yield from _global_children_apply(self, it, ctx, run)


@step("union")
def _union(c: Any, args: tuple) -> Step:
    return UnionStep([c.child(a) for a in args])


class LocalStep(Step):
    name = "local"
    path_extending = True

    def __init__(self, child: Pipeline) -> None:
        super().__init__()
        self.child = child

    def children(self) -> list[Pipeline]:
        return [self.child]

    @property
    def streamable(self) -> bool:  # type: ignore[override]
        return self.child.streamable

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        out: list[Trav] = []
        for t, res in zip(batch, ctx.run_child(self.child, batch), strict=True):
            for r in res:
                r.root = t.root
                r.bulk *= t.bulk
                out.append(r)
        return out


step("local")(lambda c, a: LocalStep(c.child(a[0])))


class CoalesceStep(Step):
    name = "coalesce"
    path_extending = True

    def __init__(self, kids: list[Pipeline]) -> None:
        super().__init__()
        self.kids = kids

    def children(self) -> list[Pipeline]:
        return self.kids

    @property
    def streamable(self) -> bool:  # type: ignore[override]
        return all(k.streamable for k in self.kids)

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        results: list[list[Trav] | None] = [None] * len(batch)
        pending = list(range(len(batch)))
        for k in self.kids:
            if not pending:
                break
            res = ctx.run_child(k, [batch[i] for i in pending])
            still = []
            for i, r in zip(pending, res, strict=True):
                if r:
                    results[i] = r
                else:
                    still.append(i)
            pending = still
        out: list[Trav] = []
        for t, r in zip(batch, results, strict=True):
            for x in r or []:
                x.root = t.root
                x.bulk *= t.bulk
                out.append(x)
        return out


step("coalesce")(lambda c, a: CoalesceStep([c.child(x) for x in a]))


class OptionalStep(Step):
    name = "optional"
    path_extending = True

    def __init__(self, child: Pipeline) -> None:
        super().__init__()
        self.child = child

    def children(self) -> list[Pipeline]:
        return [self.child]

    @property
    def streamable(self) -> bool:  # type: ignore[override]
        return self.child.streamable

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        out: list[Trav] = []
        for t, res in zip(batch, ctx.run_child(self.child, batch), strict=True):
            if res:
                for r in res:
                    r.root = t.root
                    r.bulk *= t.bulk
                    out.append(r)
            else:
                out.append(t)
        return out


step("optional")(lambda c, a: OptionalStep(c.child(a[0])))


class ChooseStep(Step):
    """``choose(cond, true, false)``, ``choose(traversal).option(key, branch)...`` and
    ``branch(traversal).option(...)``. Options match by Gremlin equality; ``Pick.none`` catches
    the rest, ``Pick.any`` takes everything; predicates as option keys test the value."""

    name = "choose"
    path_extending = True

    def __init__(self, selector: Any, true_branch: Pipeline | None, false_branch: Pipeline | None) -> None:
        super().__init__()
        self.selector = selector  # Pipeline (value or filter), a P, or a T token
        self.true_branch = true_branch
        self.false_branch = false_branch
        self.options: list[tuple[Any, Pipeline]] = []
        self.is_branch = False

    def accepts(self, name: str) -> bool:
        return name == "option"

    def modulate(self, c: Any, name: str, args: tuple) -> None:
        key = args[0]
        target = args[1] if len(args) > 1 else None
        pipe = c.child(target) if isinstance(target, Bytecode) else Pipeline([])
        if isinstance(key, Bytecode):
            key = c.child(key)
        self.options.append((key, pipe))

    def children(self) -> list[Pipeline]:
        kids = [k for k in (self.true_branch, self.false_branch) if k is not None]
        if isinstance(self.selector, Pipeline):
            kids.append(self.selector)
        return kids + [p for _, p in self.options]

    @property
    def streamable(self) -> bool:  # type: ignore[override]
        return all(k.streamable for k in self.children())

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        yield from _global_children_apply(self, it, ctx, lambda batch: self._run(batch, ctx))

    def _run(self, batch: list[Trav], ctx: Context) -> Iterator[list[Trav]]:
        groups: dict[int, list[Trav]] = {}
        branches: list[Pipeline] = []
        identity = Pipeline([])

        def add(pipe: Pipeline, t: Trav) -> None:
            for j, b in enumerate(branches):
                if b is pipe:
                    groups[j].append(t.copy())
                    return
            branches.append(pipe)
            groups[len(branches) - 1] = [t.copy()]

        if self.true_branch is not None:  # if/then/else form
            if isinstance(self.selector, (P, TextP)):
                ok = [test(self.selector, t.value) is True for t in batch]
            else:
                ok = ctx.child_any(self.selector, batch)
            for t, o in zip(batch, ok, strict=True):
                add(self.true_branch if o else (self.false_branch or identity), t)
        else:
            if isinstance(self.selector, T):
                from server.gremlin.runtime import token_value

                keys = [token_value(self.selector, t.value) for t in batch]
            else:
                keys = ctx.child_first(self.selector, batch)
            for t, k in zip(batch, keys, strict=True):
                matched = False
                any_branch = []
                for opt, pipe in self.options:
                    if opt is Pick.any:
                        any_branch.append(pipe)
                        continue
                    if opt is Pick.none or opt is Pick.unproductive:
                        continue
                    if isinstance(opt, Pipeline):
                        hit = ctx.child_any(opt, [t])[0]
                    elif isinstance(opt, (P, TextP)):
                        hit = k is not MISSING and test(opt, k) is True
                    else:
                        hit = k is not MISSING and sem.equals(opt, k)
                    if hit:
                        add(pipe, t)
                        matched = True
                        if not self.is_branch:
                            break
                for pipe in any_branch:
                    add(pipe, t)
                if not matched and not any_branch:
                    if k is MISSING:
                        unprod = [p for o, p in self.options if o is Pick.unproductive]
                        if unprod:
                            add(unprod[0], t)
                        elif not self.is_branch:
                            add(identity, t)
                        continue
                    none = [p for o, p in self.options if o is Pick.none]
                    if none:
                        add(none[0], t)
                    elif not self.is_branch and not (k is MISSING and self._has_unproductive()):
                        add(identity, t)
        for j, pipe in enumerate(branches):
            yield from pipe.run(iter([groups[j]]), ctx)

    def _has_unproductive(self) -> bool:
        return any(o is Pick.unproductive for o, _ in self.options)


@step("choose")
def _choose(c: Any, args: tuple) -> Step:
    sel = args[0]
    selector = c.child(sel) if isinstance(sel, Bytecode) else sel
    if len(args) >= 2:
        t = c.child(args[1])
        f = c.child(args[2]) if len(args) > 2 else None
        return ChooseStep(selector, t, f)
    return ChooseStep(selector, None, None)


@step("branch")
def _branch(c: Any, args: tuple) -> Step:
    s = ChooseStep(c.child(args[0]) if isinstance(args[0], Bytecode) else args[0], None, None)
    s.is_branch = True
    s.name = "branch"
    return s


_ = (GremlinArgumentError, _as_pipeline)
