"""Filter steps: has*, is, where, filter/not/and/or, dedup, range/limit/skip/tail, coin,
sample, simplePath/cyclicPath, all/any/none, discard."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from typing import Any

from server.gremlin import semantics as sem
from server.gremlin.compiler import step
from server.gremlin.errors import GremlinArgumentError, GremlinTypeError
from server.gremlin.ir import Bytecode, P, TextP
from server.gremlin.predicates import test
from server.gremlin.runtime import MISSING, Context, Pipeline, Step, Trav, merge_bulk
from server.gremlin.steps.map import (
    FromToLabels,
    _local_items,
    by_one,
    make_path,
    order_travs,
    path_get,
    scope_value,
)
from server.gremlin.steps.sideeffect import dict_key
from server.structure import Edge, Path, Pop, Property, Scope, T, Vertex, VertexProperty


class FilterStep(Step):
    """Keeps traversers for which :meth:`keep` says True (computed for a whole batch)."""

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        return [t for t, ok in zip(batch, self.keep(batch, ctx), strict=True) if ok]

    def keep(self, batch: list[Trav], ctx: Context) -> list[bool]:
        raise NotImplementedError


def _within(values: tuple) -> Any:
    flat: list[Any] = []
    for v in values:
        if isinstance(v, (list, tuple, set)):
            flat.extend(v)
        else:
            flat.append(v)
    if len(flat) == 1 and isinstance(flat[0], (P, TextP)):
        return flat[0]
    if len(flat) == 1:
        return P("eq", (flat[0],))
    return P("within", tuple(flat))


class HasStep(FilterStep):
    """A conjunction of has-conditions: ``("prop", key, P)``, ``("label", P)``, ``("id", P)``,
    ``("key", P)``, ``("value", P)``, ``("exists", key)``, ``("absent", key)``,
    ``("traversal", key, Pipeline)``. Properties are loaded once per batch."""

    name = "has"

    def __init__(self, conds: list[tuple]) -> None:
        super().__init__()
        self.conds = conds

    @property
    def value_filter(self) -> bool:
        """Whether :meth:`keep` depends on each traverser's value alone (not on its bulk, sack,
        path or child runs), so that a parent may call it on its own traversers."""
        return not any(c[0] == "traversal" for c in self.conds)

    def keep(self, batch: list[Trav], ctx: Context) -> list[bool]:
        if not self.value_filter or len(batch) < 2:
            return self._keep(batch, ctx)
        # the answer depends on the element only: decide once per distinct vertex / edge
        slot: dict[Any, int] = {}
        firsts: list[Trav] = []
        where: list[int] = []
        for t in batch:
            v = t.value
            k = (type(v), v.id) if isinstance(v, (Vertex, Edge)) else id(t)
            i = slot.get(k)
            if i is None:
                i = slot[k] = len(firsts)
                firsts.append(t)
            where.append(i)
        if len(firsts) == len(batch):
            return self._keep(batch, ctx)
        answers = self._keep(firsts, ctx)
        return [answers[i] for i in where]

    def _keep(self, batch: list[Trav], ctx: Context) -> list[bool]:
        keys = {c[1] for c in self.conds if c[0] in ("prop", "exists", "absent", "traversal")}
        props: list[list[tuple[str, Any]]] | None = None  # (key, value) of each element
        if keys:
            els = [t.value for t in batch]
            idx = [i for i, v in enumerate(els) if isinstance(v, (Vertex, Edge, VertexProperty))]
            props = [[] for _ in els]
            for key in sorted(keys) if idx else ():
                at, found = ctx.element_values([els[i] for i in idx], [key])
                for j, vals in zip(at, found, strict=True):
                    props[idx[j]].extend((key, value) for value in vals)
        result = []
        for i, t in enumerate(batch):
            ok = True
            v = t.value
            for c in self.conds:
                kind = c[0]
                if kind == "label":
                    ok = isinstance(v, (Vertex, Edge, VertexProperty)) and test(c[1], v.label) is True
                elif kind == "id":
                    ok = isinstance(v, (Vertex, Edge, VertexProperty)) and (
                        test(c[1], v.id) is True
                        or (isinstance(v.id, int) and _has_str_arg(c[1]) and test(c[1], str(v.id)) is True)
                    )
                elif kind == "key":
                    ok = isinstance(v, (VertexProperty, Property)) and test(c[1], v.key) is True
                elif kind == "value":
                    ok = isinstance(v, (VertexProperty, Property)) and test(c[1], v.value) is True
                elif kind in ("prop", "exists", "absent", "traversal"):
                    if not isinstance(v, (Vertex, Edge, VertexProperty)):
                        ok = kind == "absent"
                    else:
                        ps = [value for key, value in props[i] if key == c[1]]  # type: ignore[index]
                        if kind == "exists":
                            ok = bool(ps)
                        elif kind == "absent":
                            ok = not ps
                        elif kind == "prop":
                            ok = any(test(c[2], value) is True for value in ps)
                        else:
                            ok = any(
                                ctx.child_any(c[2], [Trav(value, 1, t.path, t.loops)])[0] for value in ps
                            )
                if not ok:
                    break
            result.append(ok)
        return result


def _has_str_arg(p: Any) -> bool:
    return isinstance(p, (P, TextP)) and any(
        isinstance(a, str) or (isinstance(a, (list, tuple)) and any(isinstance(x, str) for x in a))
        for a in p.args
    )


def _pred(v: Any) -> Any:
    return v if isinstance(v, (P, TextP)) else P("eq", (v,))


@step("has")
def _has(c: Any, args: tuple) -> Step:
    if len(args) == 1:
        key = args[0]
        if isinstance(key, T):
            raise GremlinArgumentError(f"has({key}) needs a value")
        return HasStep([("exists", key)])
    if len(args) == 2:
        key, val = args
        if isinstance(val, Bytecode):
            return HasStep([("traversal", key, c.child(val))])
        if isinstance(key, T):
            return HasStep([(_T_KIND[key], _pred(val))])
        if key is None:
            return HasStep([("absent", "\x00")]) if False else _NoneStep()
        return HasStep([("prop", key, _pred(val))])
    if len(args) == 3:
        label, key, val = args
        conds: list[tuple] = [("label", _pred(label))]
        if isinstance(key, T):
            conds.append((_T_KIND[key], _pred(val)))
        elif isinstance(val, Bytecode):
            conds.append(("traversal", key, c.child(val)))
        else:
            conds.append(("prop", key, _pred(val)))
        return HasStep(conds)
    raise GremlinArgumentError(f"has() takes 1 to 3 arguments, got {len(args)}")


_T_KIND = {T.label: "label", T.id: "id", T.key: "key", T.value: "value"}


class _NoneStep(FilterStep):
    name = "discard"

    def keep(self, batch: list[Trav], ctx: Context) -> list[bool]:
        return [False] * len(batch)


@step("hasLabel")
def _has_label(c: Any, args: tuple) -> Step:
    if not args:
        raise GremlinArgumentError("hasLabel() needs at least one label")
    return HasStep([("label", _within(args))])


@step("hasId")
def _has_id(c: Any, args: tuple) -> Step:
    flat = list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple, set)) else list(args)
    flat = [a.id if isinstance(a, (Vertex, Edge, VertexProperty)) else a for a in flat if a is not None]
    if not flat:
        return _NoneStep()
    if len(flat) == 1:
        return HasStep([("id", _pred(flat[0]))])
    return HasStep([("id", P("within", tuple(flat)))])


step("hasKey")(lambda c, a: HasStep([("key", _within(a))]))
step("hasValue")(lambda c, a: HasStep([("value", _within(a))]))
step("hasNot")(lambda c, a: HasStep([("absent", a[0])]))
step("discard")(lambda c, a: _NoneStep())


class IsStep(FilterStep):
    name = "is"

    def __init__(self, p: Any) -> None:
        super().__init__()
        self.p = _pred(p)

    def keep(self, batch: list[Trav], ctx: Context) -> list[bool]:
        return [test(self.p, t.value) is True for t in batch]


step("is")(lambda c, a: IsStep(a[0]))


class TraversalFilterStep(FilterStep):
    """``filter(t)``, ``not(t)``, ``and(t...)``, ``or(t...)``, ``where(t)``."""

    def __init__(self, kind: str, children: list[Pipeline]) -> None:
        super().__init__()
        self.kind = kind
        self.kids = children
        self.name = kind

    @property
    def streamable(self) -> bool:  # type: ignore[override]
        return all(k.streamable for k in self.kids)

    def children(self) -> list[Pipeline]:
        return self.kids

    def keep(self, batch: list[Trav], ctx: Context) -> list[bool]:
        if self.kind in ("filter", "where"):
            return ctx.child_any(self.kids[0], batch)
        if self.kind == "not":
            return [not x for x in ctx.child_any(self.kids[0], batch)]
        if self.kind == "and":
            ok = [True] * len(batch)
            for k in self.kids:
                idx = [i for i, x in enumerate(ok) if x]
                if not idx:
                    break
                res = ctx.child_any(k, [batch[i] for i in idx])
                for i, r in zip(idx, res, strict=True):
                    ok[i] = r
            return ok
        ok = [False] * len(batch)
        for k in self.kids:
            idx = [i for i, x in enumerate(ok) if not x]
            if not idx:
                break
            res = ctx.child_any(k, [batch[i] for i in idx])
            for i, r in zip(idx, res, strict=True):
                ok[i] = r
        return ok


step("filter")(lambda c, a: TraversalFilterStep("filter", [c.child(a[0])]))
step("not")(lambda c, a: TraversalFilterStep("not", [c.child(a[0])]))
step("and")(lambda c, a: TraversalFilterStep("and", [c.child(x) for x in a]))
step("or")(lambda c, a: TraversalFilterStep("or", [c.child(x) for x in a]))


class WherePredicateStep(FilterStep):
    """``where(P)`` / ``where("a", P)``: compares the current value (or label ``a``) with the
    values the predicate's labels name; ``by()`` modulators map both sides."""

    name = "where"

    def __init__(self, start: str | None, p: P) -> None:
        super().__init__()
        self.start = start
        self.p = p

    def keep(self, batch: list[Trav], ctx: Context) -> list[bool]:
        out = []
        for t in batch:
            left = t.value if self.start is None else scope_value(ctx, t, self.start)
            if left is MISSING:
                out.append(False)
                continue
            left = by_one(ctx, self.by_at(0), left, t)
            if left is MISSING:
                out.append(False)
                continue
            p = self._resolve(self.p, ctx, t, [1])
            out.append(p is not MISSING and test(p, left) is True)
        return out

    def _resolve(self, p: Any, ctx: Context, t: Trav, byi: list[int]) -> Any:
        if not isinstance(p, (P, TextP)):
            return p
        if p.name in ("and", "or", "not"):
            args = []
            for q in p.args:
                r = self._resolve(q, ctx, t, byi)
                if r is MISSING:
                    return MISSING
                args.append(r)
            return type(p)(p.name, tuple(args))
        args = []
        for a in p.args:
            if isinstance(a, str):
                v = scope_value(ctx, t, a)
                if v is MISSING:
                    return MISSING
                v = by_one(ctx, self.by_at(byi[0]), v, t)
                byi[0] += 1
                if v is MISSING:
                    return MISSING
                args.append(v)
            else:
                args.append(a)
        if p.name in ("within", "without") and len(args) == 1 and isinstance(args[0], list):
            args = args[0]
        return type(p)(p.name, tuple(args))


class WhereStartStep(Step):
    """``as('a')`` opening a where()/match() pattern: continue from the value bound to ``a``."""

    name = "whereStart"

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        out = []
        for t in batch:
            v = scope_value(ctx, t, self.label)
            if v is not MISSING:
                n = t.copy()
                n.value = v
                out.append(n)
        return out


class WhereEndStep(FilterStep):
    """``as('b')`` closing a where()/match() pattern: the value must equal the one bound to
    ``b`` (when ``b`` is bound)."""

    name = "whereEnd"

    def __init__(self, labels: set[str]) -> None:
        super().__init__()
        self.end_labels = labels

    def keep(self, batch: list[Trav], ctx: Context) -> list[bool]:
        out = []
        for t in batch:
            ok = True
            for label in self.end_labels:
                want = scope_value(ctx, t, label)
                if want is MISSING or not sem.equals(want, t.value):
                    ok = False
                    break
            out.append(ok)
        return out


def rewrite_where(pipe: Pipeline) -> None:
    """Give a where() child its pattern meaning: a leading ``as('a')`` starts from ``a``'s
    value, a trailing ``as('b')`` checks against ``b``'s value. Applies inside and/or/not too."""
    steps = pipe.steps
    if not steps:
        return
    start_label = None
    first = steps[0]
    if type(first).__name__ == "IdentityStep" and first.labels:
        start_label = sorted(first.labels)[0]
        steps[0] = WhereStartStep(start_label)
    for s in steps:
        if isinstance(s, TraversalFilterStep) and s.kind in ("and", "or", "not", "where"):
            for k in s.kids:
                rewrite_where(k)
    last = steps[-1]
    if last.labels and not (len(steps) == 1 and start_label is not None):
        labels = set(last.labels)
        last.labels = set()
        steps.append(WhereEndStep(labels))


@step("where")
def _where(c: Any, args: tuple) -> Step:
    if len(args) == 1 and isinstance(args[0], Bytecode):
        child = c.child(args[0])
        rewrite_where(child)
        return TraversalFilterStep("where", [child])
    if len(args) == 1:
        return WherePredicateStep(None, args[0])
    if len(args) == 2:
        return WherePredicateStep(args[0], args[1])
    raise GremlinArgumentError("where() takes a traversal, a predicate, or a label and a predicate")


# -- dedup / range / sample / coin -------------------------------------------------------------------


class DedupStep(Step):
    name = "dedup"
    max_bys = 1

    def __init__(self, local: bool, labels: list[str]) -> None:
        super().__init__()
        self.local = local
        self.dedup_labels = labels
        self.streamable = local

    def children(self) -> list[Pipeline]:
        return [b.arg for b in self.bys if b.kind == "traversal"]

    def _key(self, ctx: Context, t: Trav) -> Any:
        if self.dedup_labels:
            vals = [path_get(t, lab, Pop.last) for lab in self.dedup_labels]
            if self.bys:
                vals = [by_one(ctx, self.bys[0], v, t) if v is not MISSING else v for v in vals]
            if any(v is MISSING for v in vals):
                return MISSING
            return tuple(sem.hkey(v) for v in vals)
        if self.bys:
            v = by_one(ctx, self.bys[0], t.value, t)
            return MISSING if v is MISSING else sem.hkey(v)
        return sem.hkey(t.value)

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        if self.local:
            yield from super().apply(it, ctx)
            return
        seen: set = ctx.state(self, set)
        for batch in it:
            ctx.check()
            out = []
            keys = None
            if self.bys and not self.dedup_labels and self.bys[0].kind != "identity":
                keys = ctx.by_values(self.bys[0], batch)
                keys = [MISSING if k is MISSING else sem.hkey(k) for k in keys]
            for i, t in enumerate(batch):
                k = keys[i] if keys is not None else self._key(ctx, t)
                if k is MISSING:
                    continue
                k = (k, t.root)
                if k in seen:
                    continue
                seen.add(k)
                out.append(t.copy(bulk=1))
            if out:
                yield out

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        out = []
        for t in batch:
            v = t.value
            items = list(v) if isinstance(v, (list, tuple, set, frozenset)) else _local_items(v)
            seen: set = set()
            res = []
            for x in items:
                if self.dedup_labels and isinstance(x, dict):
                    k = tuple(sem.hkey(x.get(lab)) for lab in self.dedup_labels)
                else:
                    k = sem.hkey(x)
                if k not in seen:
                    seen.add(k)
                    res.append(x)
            out.append(
                t.split(
                    _as_set(res) if isinstance(v, (list, tuple, set, frozenset)) else res,
                    ctx,
                )
            )
        return out


@step("dedup")
def _dedup(c: Any, args: tuple) -> Step:
    local = False
    if args and isinstance(args[0], Scope):
        local, args = args[0] is Scope.local, args[1:]
    return DedupStep(local, list(args))


class RangeStep(Step):
    """``range(lo, hi)`` / ``limit(n)`` / ``skip(n)``: stops pulling input once ``hi`` is reached."""

    name = "range"

    def __init__(self, local: bool, low: int, high: int) -> None:
        super().__init__()
        if not isinstance(low, int) or not isinstance(high, int):
            raise GremlinArgumentError(f"range() needs integer bounds, got {low!r}, {high!r}")
        if high != -1 and high < low:
            raise GremlinArgumentError(f"Not a legal range: [{low}, {high}]")
        self.local = local
        self.low = low
        self.high = high
        self.streamable = local

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        if self.local:
            yield from super().apply(it, ctx)
            return
        counter = [0]  # per run: inside repeat() a range applies to each iteration
        high = self.high if self.high != -1 else float("inf")
        for batch in it:
            ctx.check()
            out = []
            seen = counter[0]
            for t in batch:
                begin, end = seen, seen + t.bulk
                seen = counter[0] = end
                take = min(end, high) - max(begin, self.low)
                if take > 0:
                    out.append(t if take == t.bulk else t.copy(bulk=int(take)))
                if seen >= high:
                    break
            if out:
                yield out
            if seen >= high:
                return

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        out = []
        for t in batch:
            v = t.value
            if isinstance(v, dict):
                items = list(v.items())
                hi = len(items) if self.high == -1 else self.high
                out.append(t.split(dict(items[self.low : hi]), ctx))
            elif isinstance(v, (list, tuple, set, frozenset, Path)):
                items = list(v.objects if isinstance(v, Path) else v)
                hi = len(items) if self.high == -1 else self.high
                out.append(t.split(items[self.low : hi], ctx))
            else:
                out.append(t)
        return out


def _as_set(items: list[Any]) -> Any:
    """dedup(local) answers a set; maps and lists cannot sit in a Python set, so then a list."""
    if any(isinstance(x, (dict, list)) for x in items):
        return items
    return {dict_key(x) for x in items}


def _scope(args: tuple) -> tuple[bool, tuple]:
    if args and isinstance(args[0], Scope):
        return args[0] is Scope.local, args[1:]
    return False, args


@step("range")
def _range(c: Any, args: tuple) -> Step:
    local, args = _scope(args)
    return RangeStep(local, int(args[0]), int(args[1]))


@step("limit")
def _limit(c: Any, args: tuple) -> Step:
    local, args = _scope(args)
    return RangeStep(local, 0, int(args[0]))


@step("skip")
def _skip(c: Any, args: tuple) -> Step:
    local, args = _scope(args)
    return RangeStep(local, int(args[0]), -1)


class TailStep(Step):
    name = "tail"

    def __init__(self, local: bool, n: int) -> None:
        super().__init__()
        self.local = local
        self.n = n
        self.streamable = local

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        if self.local:
            yield from super().apply(it, ctx)
            return
        travs = [t for b in it for t in b]
        # expand bulk from the end
        out: list[Trav] = []
        need = self.n
        for t in reversed(travs):
            if need <= 0:
                break
            take = min(t.bulk, need)
            out.append(t.copy(bulk=take))
            need -= take
        out.reverse()
        if out:
            yield out

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        out = []
        for t in batch:
            v = t.value
            if isinstance(v, dict):
                items = list(v.items())
                out.append(t.split(dict(items[max(len(items) - self.n, 0) :]), ctx))
            elif isinstance(v, (list, tuple, set, frozenset, Path)):
                items = list(v.objects if isinstance(v, Path) else v)
                out.append(t.split(items[max(len(items) - self.n, 0) :], ctx))
            else:
                out.append(t)
        return out


@step("tail")
def _tail(c: Any, args: tuple) -> Step:
    local, args = _scope(args)
    return TailStep(local, int(args[0]) if args else 1)


class CoinStep(FilterStep):
    """``coin(p)``: each unit of a traverser's bulk survives with probability ``p`` (TinkerPop's
    rule: a draw per unit below a bulk of 100, ``round(p * bulk)`` above)."""

    name = "coin"

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = float(p)

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        rnd = ctx.step_random(self)
        out = []
        for t in batch:
            if t.bulk < 100:
                kept = sum(1 for _ in range(t.bulk) if self.p >= rnd.random())
            else:
                kept = math.floor(self.p * t.bulk + 0.5)
            if kept == t.bulk:
                out.append(t)
            elif kept:
                out.append(t.copy(bulk=kept))
        return out


step("coin")(lambda c, a: CoinStep(a[0]))


def _draw(items: list[Any], n: int, rnd: Any) -> list[Any]:
    """``n`` of ``items`` without replacement, in the order drawn: TinkerPop's local sample (one
    ``nextInt`` over what is left per pick), so a seeded run picks what Gremlin Server picks."""
    pool = list(items)
    return [pool.pop(rnd.randrange(len(pool))) for _ in range(min(n, len(pool)))]


def _weighted_sample(weighted: list[tuple[Trav, float]], n: int, rnd: Any) -> list[Trav]:
    """TinkerPop's global sample: ``weighted`` is ``(traverser, weight)`` per distinct traverser
    (equal ones merged into its bulk), in arrival order. Each pick walks the traversers from the
    start, taking a unit of bulk with probability ``weight / weight left`` (the weight of the
    units not yet passed), and starts again after a hit; units already picked are skipped. The
    picks come out merged per traverser, in the order first picked."""
    total = sum(w * t.bulk for t, w in weighted)
    positive = sum(t.bulk for t, w in weighted if w > 0)
    picked: dict[int, int] = {}
    taken = 0
    while taken < min(n, positive):  # zero-weight units are never drawn: do not wait for them
        left = total
        hit = False
        for i, (t, w) in enumerate(weighted):
            already = picked.get(i, 0)
            for _ in range(t.bulk - already):
                if left > 0 and rnd.random() <= w / left:
                    picked[i] = already + 1
                    taken += 1
                    hit = True
                    break
                left -= w
            if hit:
                break
    return [weighted[i][0].copy(bulk=count) for i, count in picked.items()]


class SampleStep(Step):
    """``sample(n)`` (global: over all traversers, optionally weighted by a ``by()``) and
    ``sample(local, n)`` (within each collection or map), with TinkerPop's drawing rules."""

    name = "sample"
    max_bys = 1

    def __init__(self, local: bool, n: int) -> None:
        super().__init__()
        self.local = local
        self.n = n
        self.streamable = local

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        if self.local:
            yield from super().apply(it, ctx)
            return
        travs = [t for b in it for t in b]
        if not travs:
            return
        if self.bys:
            weights = ctx.by_values(self.bys[0], travs)
        else:
            weights = [1.0] * len(travs)
        weighted = self._distinct(travs, weights, ctx)
        if sum(t.bulk for t, _ in weighted) <= self.n:
            yield [t for t, _ in weighted]
            return
        yield _weighted_sample(weighted, self.n, ctx.step_random(self))

    @staticmethod
    def _distinct(travs: list[Trav], weights: list[Any], ctx: Context) -> list[tuple[Trav, float]]:
        """``(traverser, weight)`` per distinct traverser (equal ones merged into the first's bulk,
        as in TinkerPop's traverser set), first-arrival order; traversers whose ``by()`` gives
        nothing are left out, a weight that is not a number is an error."""
        weight_of: dict[int, float] = {}
        kept = []
        for t, w in zip(travs, weights, strict=True):
            if w is MISSING:
                continue
            if isinstance(w, bool) or not sem.is_number(w):
                raise GremlinTypeError(f"The sample() weight of {t.value!r} is not a number: {w!r}")
            weight_of[id(t)] = float(w)
            kept.append(t)
        if ctx.can_merge:
            kept = merge_bulk(kept, ctx.fold_key)
        return [(t, weight_of[id(t)]) for t in kept]

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        out = []
        for t in batch:
            v = t.value
            if not isinstance(v, (dict, list, tuple, set, frozenset, Path)):
                out.append(t)
                continue
            items = _local_items(v)
            if len(items) <= self.n:  # nothing to leave out: the value as it is
                out.append(t)
                continue
            chosen = _draw(items, self.n, ctx.step_random(self))
            if isinstance(v, dict):
                m = {}
                for d in chosen:
                    m.update(d)
                out.append(t.split(m, ctx))
            else:
                out.append(t.split(chosen, ctx))
        return out


@step("sample")
def _sample(c: Any, args: tuple) -> Step:
    local, args = _scope(args)
    return SampleStep(local, int(args[0]))


_VERTEX_ONLY = {Vertex}


class PathFilterStep(FromToLabels, FilterStep):
    """``simplePath()`` / ``cyclicPath()`` (with optional from/to labels and by())."""

    def __init__(self, simple: bool) -> None:
        super().__init__()
        self.simple = simple
        self.name = "simplePath" if simple else "cyclicPath"

    def keep(self, batch: list[Trav], ctx: Context) -> list[bool]:
        from server.gremlin.steps.map import PathStep

        slicer = PathStep()
        slicer.from_label, slicer.to_label = self.from_label, self.to_label
        out = []
        if not self.bys and self.from_label is None and self.to_label is None:
            for t in batch:  # fast path: whole path, no by(): compare element ids directly
                path = t.path
                try:
                    # distinct ids mean distinct elements; equal ids may be a vertex and an edge
                    unique = len({o.id for o, _ in path}) == len(path)
                except AttributeError:  # a value on the path (no id)
                    unique = False
                if not unique and {type(o) for o, _ in path} != _VERTEX_ONLY:
                    unique = len({sem.hkey(o) for o, _ in path}) == len(path)
                out.append(unique if self.simple else not unique)
            return out
        for t in batch:
            p = slicer._slice(make_path(t))
            objs = p.objects
            if self.bys:
                objs = [by_one(ctx, self.by_at(i), o, t) for i, o in enumerate(objs)]
                if any(o is MISSING for o in objs):
                    out.append(False)
                    continue
            if all(type(o) is Vertex for o in objs):
                unique = len({o.id for o in objs}) == len(objs)  # fast path: paths of vertices
            else:
                unique = len({sem.hkey(o) for o in objs}) == len(objs)
            out.append(unique if self.simple else not unique)
        return out


step("simplePath")(lambda c, a: PathFilterStep(True))
step("cyclicPath")(lambda c, a: PathFilterStep(False))


class ListPredicateStep(FilterStep):
    """``all(P)`` / ``any(P)`` / ``none(P)`` over list values (non-lists are filtered out)."""

    def __init__(self, kind: str, p: Any) -> None:
        super().__init__()
        self.kind = kind
        self.p = _pred(p)
        self.name = kind

    def keep(self, batch: list[Trav], ctx: Context) -> list[bool]:
        out = []
        for t in batch:
            v = t.value
            if not isinstance(v, (list, tuple, set, frozenset)):
                out.append(False)
                continue
            results = [test(self.p, x) is True for x in v]
            if self.kind == "all":
                out.append(all(results))
            elif self.kind == "any":
                out.append(any(results))
            else:
                out.append(not any(results))
        return out


step("all")(lambda c, a: ListPredicateStep("all", a[0]))
step("any")(lambda c, a: ListPredicateStep("any", a[0]))
step("none")(lambda c, a: ListPredicateStep("none", a[0]))


class TimeLimitStep(Step):
    name = "timeLimit"

    def __init__(self, ms: int) -> None:
        super().__init__()
        self.ms = ms

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        import time

        end = time.monotonic() + self.ms / 1000.0
        for b in it:
            yield b
            if time.monotonic() > end:
                return


step("timeLimit")(lambda c, a: TimeLimitStep(int(a[0])))


def _unused(*_: Any) -> None:  # keeps imports used by type checkers
    return None


_ = (random, GremlinTypeError, order_travs, merge_bulk, _unused)
