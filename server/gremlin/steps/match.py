"""``match()``: declarative patterns joined on their ``as()`` labels.

Each pattern is ``as('x') ... as('y')`` (start label, optional end label) or a filter pattern
(``where(...)``, ``not(...)``, ``or(...)``); ``and(...)`` patterns are flattened into the list.
Per incoming traverser the step searches depth first: the traverser's value binds the match's
start label (a start label that is no pattern's end label); then any pattern whose start label is
bound runs from that value, binding its end label or checking it when already bound; filter
patterns run once every label they name is bound. Each complete binding comes out as a map of
the pattern labels, and the labels are added to the traverser's path so that select()/dedup()
see them.
"""

from __future__ import annotations

from typing import Any

from server.gremlin import semantics as sem
from server.gremlin.compiler import step
from server.gremlin.errors import GremlinArgumentError
from server.gremlin.ir import P, TextP
from server.gremlin.runtime import MISSING, Context, Pipeline, Step, Trav
from server.gremlin.steps.filter import (
    TraversalFilterStep,
    WhereEndStep,
    WherePredicateStep,
    WhereStartStep,
    rewrite_where,
)
from server.gremlin.steps.map import scope_value


class _Pattern:
    def __init__(self, pipe: Pipeline) -> None:
        self.pipe = pipe
        self.start: str | None = None
        self.end: str | None = None
        self.filter = False
        steps = pipe.steps
        if steps and type(steps[0]).__name__ == "IdentityStep" and steps[0].labels:
            self.start = sorted(steps[0].labels)[0]
            steps[0].labels = set()
            if len(steps) > 1 and steps[-1].labels:
                self.end = sorted(steps[-1].labels)[0]
                steps[-1].labels = set()
            for s in steps:
                if isinstance(s, TraversalFilterStep):
                    for k in s.kids:
                        rewrite_where(k)
        else:
            self.filter = True
            rewrite_where(pipe)
        self.mentions = _labels_in(pipe) | {x for x in (self.start, self.end) if x}


def _labels_in(pipe: Pipeline) -> set[str]:
    found: set[str] = set()
    for s in pipe.walk():
        found |= s.labels
        if isinstance(s, WhereStartStep):
            found.add(s.label)
        elif isinstance(s, WhereEndStep):
            found |= s.end_labels
        elif isinstance(s, WherePredicateStep):
            if s.start:
                found.add(s.start)
            found |= _p_labels(s.p)
    return found


def _p_labels(p: Any) -> set[str]:
    if not isinstance(p, (P, TextP)):
        return set()
    out: set[str] = set()
    for a in p.args:
        if isinstance(a, str):
            out.add(a)
        elif isinstance(a, (P, TextP)):
            out |= _p_labels(a)
    return out


def _flatten(c: Any, args: tuple) -> list[_Pattern]:
    from server.gremlin.ir import Bytecode

    out: list[_Pattern] = []
    for a in args:
        if not isinstance(a, Bytecode):
            raise GremlinArgumentError(f"match() takes traversals, got {a!r}")
        if len(a.steps) == 1 and a.steps[0].name == "and" and a.steps[0].args:
            out += _flatten(c, a.steps[0].args)
            continue
        out.append(_Pattern(c.child(a)))
    return out


class MatchStep(Step):
    name = "match"
    path_extending = True
    streamable = False

    def __init__(self, patterns: list[_Pattern]) -> None:
        super().__init__()
        self.patterns = patterns
        ends = {p.end for p in patterns if p.end}
        starts = [p.start for p in patterns if p.start]
        self.start_label = next((s for s in starts if s not in ends), starts[0] if starts else None)
        self.all_labels: list[str] = []
        for p in patterns:
            for lab in [p.start, p.end, *sorted(p.mentions)]:
                if lab and lab not in self.all_labels:
                    self.all_labels.append(lab)

    def children(self) -> list[Pipeline]:
        return [p.pipe for p in self.patterns]

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        out: list[Trav] = []
        for t in batch:
            bindings: dict[str, Any] = {}
            for obj, labels in t.path:
                for lab in labels:
                    bindings[lab] = obj
            if self.start_label is not None and self.start_label not in bindings:
                bindings[self.start_label] = t.value
            order: list[str] = list(bindings)
            for result, bound_order in self._solve(ctx, t, bindings, order, list(self.patterns)):
                m = {k: result[k] for k in bound_order if k in self.all_labels}
                new_path = t.path + tuple(
                    (result[k], frozenset([k])) for k in bound_order if k not in _path_labels(t)
                )
                n = Trav(m, t.bulk, new_path, t.loops, t.sack, t.root)
                out.append(n)
        return out

    def _solve(self, ctx: Context, t: Trav, bindings: dict, order: list[str], remaining: list[_Pattern]):
        ctx.tick()
        if not remaining:
            yield bindings, order
            return
        bound = set(bindings)
        pick = None
        # checks first (everything they name is bound: they only prune), then patterns that bind
        for p in remaining:
            if p.filter and p.mentions <= bound:
                pick = p
                break
            if (
                not p.filter
                and p.start in bound
                and (p.end is None or p.end in bound)
                and p.mentions <= bound
            ):
                pick = p
                break
        if pick is None:
            # follow the chain from the label bound last, so that checks on it prune early
            rank = {label: i for i, label in enumerate(order)}
            ready = [p for p in remaining if not p.filter and p.start in bound]
            if ready:
                pick = max(ready, key=lambda p: rank.get(p.start, -1))
        if pick is None:
            for p in remaining:
                if p.filter and not any(not q.filter for q in remaining):
                    pick = p
                    break
        if pick is None:
            return
        rest = [p for p in remaining if p is not pick]
        path = tuple((bindings[k], frozenset([k])) for k in order)
        value = bindings[pick.start] if pick.start in bindings else t.value
        seed = Trav(value, 1, path, t.loops, t.sack)
        results = [r for b in pick.pipe.run(iter([[seed]]), ctx) for r in b]
        if pick.filter or pick.end is None:
            if results:
                yield from self._solve(ctx, t, bindings, order, rest)
            return
        seen: set = set()
        for r in results:
            if pick.end in bindings:
                if sem.equals(bindings[pick.end], r.value):
                    key = sem.hkey(r.value)
                    if key in seen:
                        continue
                    seen.add(key)
                    yield from self._solve(ctx, t, bindings, order, rest)
            else:
                for _ in range(r.bulk):
                    nb = dict(bindings)
                    nb[pick.end] = r.value
                    yield from self._solve(ctx, t, nb, order + [pick.end], rest)


def _path_labels(t: Trav) -> set[str]:
    out: set[str] = set()
    for _, labels in t.path:
        out |= labels
    return out


@step("match")
def _match(c: Any, args: tuple) -> Step:
    if not args:
        raise GremlinArgumentError("match() needs at least one pattern")
    return MatchStep(_flatten(c, args))


_ = MISSING, scope_value
