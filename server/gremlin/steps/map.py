"""Map steps (one value in, one value out) and the reducing barriers (count, sum, fold, ...)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from server.gremlin import semantics as sem
from server.gremlin.compiler import step
from server.gremlin.errors import GremlinArgumentError, GremlinTypeError
from server.gremlin.runtime import (
    MISSING,
    By,
    Context,
    MapEntry,
    OrderedSet,
    Pipeline,
    Step,
    Trav,
    token_value,
)
from server.structure import Edge, Order, Path, Pop, Property, Scope, T, Vertex, VertexProperty
from server.structure.tokens import Column, WithOptions
from server.structure.values import Int64, is_number


class IdentityStep(Step):
    name = "identity"

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        return batch


@step("identity")
def _identity(c: Any, args: tuple) -> Step:
    return IdentityStep()


class FnStep(Step):
    """A map step defined by a per-value function (``id``, ``label``, ``key``, ``value``, ...).
    Values the function maps to MISSING are dropped."""

    path_extending = True

    def __init__(self, name: str, fn: Any) -> None:
        super().__init__()
        self.name = name
        self.fn = fn

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        out = []
        for t in batch:
            v = self.fn(t.value)
            if v is not MISSING:
                out.append(t.split(v, ctx))
        return out


def _require(kinds: tuple, name: str):
    def check(v: Any) -> Any:
        if not isinstance(v, kinds):
            raise GremlinTypeError(f"The {name}() step cannot be applied to {type(v).__name__} {v!r}")
        return v

    return check


def _id(v: Any) -> Any:
    _require((Vertex, Edge, VertexProperty), "id")(v)
    return v.id


def _label(v: Any) -> Any:
    _require((Vertex, Edge, VertexProperty), "label")(v)
    return v.label


def _key(v: Any) -> Any:
    _require((VertexProperty, Property), "key")(v)
    return v.key


def _value(v: Any) -> Any:
    _require((VertexProperty, Property), "value")(v)
    return v.value


step("id")(lambda c, a: FnStep("id", _id))
step("label")(lambda c, a: FnStep("label", _label))
step("key")(lambda c, a: FnStep("key", _key))
step("value")(lambda c, a: FnStep("value", _value))


class ElementStep(Step):
    path_extending = True
    name = "element"

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        out = []
        for t in batch:
            v = t.value
            if isinstance(v, VertexProperty):
                owner = v.vertex
            elif isinstance(v, Property):
                owner = v.element
            else:
                raise GremlinTypeError(f"The element() step expects a property, got {v!r}")
            out.append(t.split(owner, ctx))
        return out


step("element")(lambda c, a: ElementStep())


class ConstantStep(Step):
    path_extending = True
    name = "constant"

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        return [t.split(self.value, ctx) for t in batch]


@step("constant")
def _constant(c: Any, args: tuple) -> Step:
    return ConstantStep(args[0] if args else None)


class LoopsStep(Step):
    path_extending = True
    name = "loops"

    def __init__(self, name: str | None) -> None:
        super().__init__()
        self.loop_name = name

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        out = []
        for t in batch:
            n = 0
            if t.loops:
                if self.loop_name is None:
                    n = t.loops[-1][1]
                else:
                    for name, count in reversed(t.loops):
                        if name == self.loop_name:
                            n = count
                            break
            out.append(t.split(n, ctx))
        return out


step("loops")(lambda c, a: LoopsStep(a[0] if a else None))


class SackGetStep(Step):
    path_extending = True
    name = "sack"

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        return [t.split(t.sack, ctx) for t in batch]


class MapStep(Step):
    """``map(traversal)``: the first value of the child (traversers without one are dropped)."""

    path_extending = True
    name = "map"

    def __init__(self, child: Pipeline) -> None:
        super().__init__()
        self.child = child

    def children(self) -> list[Pipeline]:
        return [self.child]

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        vals = ctx.child_first(self.child, batch)
        return [t.split(v, ctx) for t, v in zip(batch, vals, strict=True) if v is not MISSING]


step("map")(lambda c, a: MapStep(c.child(a[0])))


# -- path / select / project ------------------------------------------------------------------


def make_path(t: Trav) -> Path:
    return Path([labels for _, labels in t.path], [obj for obj, _ in t.path])


class FromToLabels:
    """The ``from(label)`` / ``to(label)`` modulators that bound a path by step labels, shared by
    ``path()``, ``simplePath()`` and ``cyclicPath()``."""

    from_label: str | None = None
    to_label: str | None = None

    def accepts(self, name: str) -> bool:
        return name in ("from", "to")

    def modulate(self, c: Any, name: str, args: tuple) -> None:
        if name == "from":
            self.from_label = args[0]
        else:
            self.to_label = args[0]


class PathStep(FromToLabels, Step):
    path_extending = True
    name = "path"

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        paths = [self._slice(make_path(t)) for t in batch]
        if self.bys:
            paths = [self._apply_by(ctx, p, t) for p, t in zip(paths, batch, strict=True)]
        return [t.split(p, ctx) for t, p in zip(batch, paths, strict=True) if p is not MISSING]

    def _slice(self, p: Path) -> Path:
        if self.from_label is None and self.to_label is None:
            return p
        start, end = 0, len(p)
        if self.from_label is not None:
            for i, ls in enumerate(p.labels):
                if self.from_label in ls:
                    start = i
                    break
        if self.to_label is not None:
            for i, ls in enumerate(p.labels):
                if self.to_label in ls and i >= start:
                    end = i + 1
                    break
        return Path(p.labels[start:end], p.objects[start:end])

    def _apply_by(self, ctx: Context, p: Path, t: Trav) -> Any:
        objs = []
        for i, o in enumerate(p.objects):
            by = self.by_at(i)
            v = by_one(ctx, by, o, t)
            if v is MISSING:
                return MISSING
            objs.append(v)
        return Path(p.labels, objs)


step("path")(lambda c, a: PathStep())


def by_one(ctx: Context, by: By | None, value: Any, t: Trav | None = None) -> Any:
    """A by() modulator applied to one value (MISSING, or None with ProductiveByStrategy)."""
    seed = Trav(value, 1, t.path if t else (), t.loops if t else (), t.sack if t else None)
    v = ctx.by_values(by, [seed])[0]
    if v is MISSING and ctx.strategies.get("ProductiveByStrategy") is not None:
        return None
    return v


def by_many(ctx: Context, by: By | None, values: list[Any], t: Trav | None = None) -> list[Any]:
    seeds = [Trav(v, 1, t.path if t else (), t.loops if t else (), t.sack if t else None) for v in values]
    res = ctx.by_values(by, seeds)
    if ctx.strategies.get("ProductiveByStrategy") is not None:
        res = [None if v is MISSING else v for v in res]
    return res


def path_get(t: Trav, label: str, pop: Pop) -> Any:
    found = [obj for obj, labels in t.path if label in labels]
    if not found:
        return MISSING
    if pop is Pop.first:
        return found[0]
    if pop is Pop.last:
        return found[-1]
    if pop is Pop.all_:
        return found
    return found[0] if len(found) == 1 else found


def scope_value(ctx: Context, t: Trav, key: Any, pop: Pop = Pop.last) -> Any:
    """The value a label names for ``t``: a key of its map, then a side effect, then its path."""
    v = t.value
    if isinstance(v, dict) and key in v:
        val = v[key]
        return [val] if pop is Pop.all_ and not isinstance(val, list) else val
    if isinstance(key, str):
        if key in ctx.side_effects:
            return ctx.side_effects[key]
        return path_get(t, key, pop)
    return MISSING


class SelectStep(Step):
    path_extending = True
    name = "select"

    def __init__(self, pop: Pop | None, keys: list[Any], key_traversal: Pipeline | None = None) -> None:
        super().__init__()
        self.pop = pop or Pop.last
        self.keys = keys
        self.key_traversal = key_traversal

    def children(self) -> list[Pipeline]:
        return [self.key_traversal] if self.key_traversal else []

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        out = []
        keys_per = (
            [[k] for k in ctx.child_first(self.key_traversal, batch)]
            if self.key_traversal is not None
            else [self.keys] * len(batch)
        )
        for t, keys in zip(batch, keys_per, strict=True):
            ctx.tick()
            if any(k is MISSING for k in keys):
                continue
            vals = [scope_value(ctx, t, k, self.pop) for k in keys]
            if any(v is MISSING for v in vals):
                continue
            if self.bys:
                vals = [by_one(ctx, self.by_at(i), v, t) for i, v in enumerate(vals)]
                if any(v is MISSING for v in vals):
                    continue
            if len(keys) == 1 and self.key_traversal is None and len(self.keys) == 1:
                out.append(t.split(vals[0], ctx))
            elif self.key_traversal is not None:
                out.append(t.split(vals[0], ctx))
            else:
                out.append(t.split(dict(zip(keys, vals, strict=True)), ctx))
        return out


class SelectColumnStep(Step):
    path_extending = True
    name = "select"

    def __init__(self, column: Column) -> None:
        super().__init__()
        self.column = column

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        out = []
        for t in batch:
            v = t.value
            if isinstance(v, MapEntry):
                res = v.key if self.column is Column.keys else v.value
            elif isinstance(v, dict):
                res = OrderedSet(v.keys()) if self.column is Column.keys else list(v.values())
            elif isinstance(v, Path):
                res = list(v.labels) if self.column is Column.keys else list(v.objects)
                if self.column is Column.keys:
                    res = [set(ls) for ls in res]
            else:
                raise GremlinTypeError(f"select({self.column.value}) expects a map, got {v!r}")
            out.append(t.split(res, ctx))
        return out


@step("select")
def _select(c: Any, args: tuple) -> Step:
    from server.gremlin.ir import Bytecode

    pop = None
    if args and isinstance(args[0], Pop):
        pop, args = args[0], args[1:]
    if len(args) == 1 and isinstance(args[0], Column):
        return SelectColumnStep(args[0])
    if len(args) == 1 and isinstance(args[0], Bytecode):
        return SelectStep(pop, [], c.child(args[0]))
    if not args:
        raise GremlinArgumentError("select() needs at least one key")
    return SelectStep(pop, list(args))


class ProjectStep(Step):
    path_extending = True
    name = "project"

    def __init__(self, keys: list[str]) -> None:
        super().__init__()
        self.keys = keys

    def children(self) -> list[Pipeline]:
        return [b.arg for b in self.bys if b.kind == "traversal"]

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        columns = []
        for i, _ in enumerate(self.keys):
            by = self.bys[i] if i < len(self.bys) else None
            vals = ctx.by_values(by, batch)
            if ctx.strategies.get("ProductiveByStrategy") is not None:
                vals = [None if v is MISSING else v for v in vals]
            columns.append(vals)
        out = []
        for j, t in enumerate(batch):
            m = {}
            for i, k in enumerate(self.keys):
                v = columns[i][j]
                if v is not MISSING:
                    m[k] = v
            out.append(t.split(m, ctx))
        return out


step("project")(lambda c, a: ProjectStep(list(a)))


# -- maps of properties -----------------------------------------------------------------------------


class PropertyMapStep(Step):
    """``valueMap``, ``elementMap``, ``propertyMap`` (one property load per batch)."""

    path_extending = True

    def __init__(self, kind: str, keys: list[str], tokens: bool) -> None:
        super().__init__()
        self.kind = kind
        self.keys = keys or None
        self.tokens = WithOptions.all if tokens else 0
        self.name = kind
        if kind == "valueMap":  # by() transforms each value list; TinkerPop takes one
            self.max_bys = 1

    def on_with(self, key: Any, value: Any) -> None:
        if key == WithOptions.tokens:
            self.tokens = WithOptions.all if value is True else int(value)

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        for t in batch:
            if not isinstance(t.value, (Vertex, Edge, VertexProperty)):
                raise GremlinTypeError(f"The {self.kind}() step expects an element, got {t.value!r}")
        props = ctx.load_properties([t.value for t in batch], self.keys)
        out = []
        for t, ps in zip(batch, props, strict=True):
            el = t.value
            m: dict[Any, Any] = {}
            if self.kind == "elementMap":
                m[T.id] = el.id
                m[T.label] = el.label
                if isinstance(el, Edge):
                    from server.structure import Direction

                    m[Direction.IN] = {T.id: el.in_v.id, T.label: el.in_v.label}
                    m[Direction.OUT] = {T.id: el.out_v.id, T.label: el.out_v.label}
                for p in ps:
                    if p.key not in m:
                        m[p.key] = p.value
            else:
                if self.tokens & WithOptions.ids:
                    m[T.id] = el.id
                if self.tokens & WithOptions.labels:
                    m[T.label] = el.label
                for p in ps:
                    if isinstance(el, Vertex):
                        m.setdefault(p.key, []).append(p.value if self.kind == "valueMap" else p)
                    else:
                        m[p.key] = p.value if self.kind == "valueMap" else p
                if self.kind == "valueMap" and self.bys:
                    for k in list(m):
                        if isinstance(k, T):
                            continue
                        v = by_one(ctx, self.bys[0], m[k], t)
                        if v is MISSING:
                            del m[k]
                        else:
                            m[k] = v
            out.append(t.split(m, ctx))
        return out


@step("valueMap")
def _value_map(c: Any, args: tuple) -> Step:
    tokens = False
    if args and isinstance(args[0], bool):
        tokens, args = args[0], args[1:]
    return PropertyMapStep("valueMap", list(args), tokens)


step("elementMap")(lambda c, a: PropertyMapStep("elementMap", list(a), True))
step("propertyMap")(lambda c, a: PropertyMapStep("propertyMap", list(a), False))


# -- reducing barriers ----------------------------------------------------------------------------


class ReducingStep(Step):
    """A barrier that folds every traverser into one value (global scope), or a map step over
    collections (local scope)."""

    path_extending = True

    def __init__(self, name: str, local: bool) -> None:
        super().__init__()
        self.name = name
        self.local = local
        self.streamable = local

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        if self.local:
            yield from super().apply(it, ctx)
            return
        reduced = self.reduce(it, ctx)
        if reduced is not None:
            yield [reduced]

    def reduce(self, it: Iterable[list[Trav]], ctx: Context) -> Trav | None:
        """The global barrier's one traverser for every traverser of ``it`` (None when the
        reduction has no value, like ``sum()`` of nothing). ``Context.run_child`` calls it once
        per parent traverser's results when a child ends in this step."""
        acc = self.start()
        first: Trav | None = None
        for batch in it:
            ctx.check()
            for t in batch:
                if first is None:
                    first = t
                acc = self.add(acc, t, ctx)
        result = self.finish(acc, first is not None)
        if result is MISSING:
            return None
        # labels bound before the barrier stay visible (where()/match() patterns need them)
        path = first.path if first is not None and ctx.track_paths else ()
        if ctx.full_paths:
            path = ((result, frozenset()),)
        return Trav(result, 1, path, (), ctx.new_sack())

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        out = []
        for t in batch:
            items = _local_items(t.value)
            acc = self.start()
            seen = False
            for x in items:
                seen = True
                acc = self.add(acc, Trav(x), ctx)
            r = self.finish(acc, seen)
            if r is not MISSING:
                out.append(t.split(r, ctx))
        return out

    def start(self) -> Any:
        return None

    def add(self, acc: Any, t: Trav, ctx: Context) -> Any:
        raise NotImplementedError

    def finish(self, acc: Any, seen: bool) -> Any:
        return acc


def _local_items(v: Any) -> list[Any]:
    if isinstance(v, dict):
        return [{k: x} for k, x in v.items()]
    if isinstance(v, (list, tuple, set, frozenset)):
        return list(v)
    if isinstance(v, Path):
        return list(v.objects)
    return [v]


class CountStep(ReducingStep):
    def start(self) -> Any:
        return 0

    def add(self, acc: Any, t: Trav, ctx: Context) -> Any:
        return acc + t.bulk

    def finish(self, acc: Any, seen: bool) -> Any:
        return Int64(acc)

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        out = []
        for t in batch:
            v = t.value
            n = len(v) if isinstance(v, (list, tuple, set, frozenset, dict, Path)) else 1
            out.append(t.split(Int64(n), ctx))
        return out


class SumStep(ReducingStep):
    def add(self, acc: Any, t: Trav, ctx: Context) -> Any:
        v = t.value
        if v is None:
            return acc
        if not is_number(v):
            raise GremlinTypeError(f"The sum() step can only take numbers, got {type(v).__name__} {v!r}")
        term = sem.wrap(v * t.bulk, sem.num_rank(v)) if t.bulk != 1 else v
        return term if acc is None else sem.add(acc, term)

    def finish(self, acc: Any, seen: bool) -> Any:
        if acc is None:
            return None if seen else MISSING
        return acc


class MeanStep(ReducingStep):
    def start(self) -> Any:
        return [None, 0]

    def add(self, acc: Any, t: Trav, ctx: Context) -> Any:
        v = t.value
        if v is None:
            return acc
        if not is_number(v):
            raise GremlinTypeError(f"The mean() step can only take numbers, got {type(v).__name__} {v!r}")
        import decimal

        term = v * t.bulk if isinstance(v, decimal.Decimal) else float(v) * t.bulk
        acc[0] = term if acc[0] is None else acc[0] + term
        acc[1] += t.bulk
        return acc

    def finish(self, acc: Any, seen: bool) -> Any:
        if acc[1] == 0:
            return None if seen else MISSING
        import decimal

        if isinstance(acc[0], decimal.Decimal):
            return acc[0] / acc[1]
        return acc[0] / acc[1]


class MinMaxStep(ReducingStep):
    def __init__(self, name: str, local: bool) -> None:
        super().__init__(name, local)
        self.sign = 1 if name == "max" else -1

    def add(self, acc: Any, t: Trav, ctx: Context) -> Any:
        v = t.value
        if v is None:
            return acc
        if isinstance(v, (dict, list, set, Vertex, Edge, VertexProperty, Property, Path, bool)):
            raise GremlinTypeError(
                f"The {self.name}() step can only take comparable values, got {type(v).__name__} {v!r}"
            )
        if acc is None:
            return v
        if type(v) is type(acc) and type(v) in sem.INTEGERS:  # the same integer class: no widening
            return v if (v > acc if self.sign > 0 else v < acc) else acc
        if is_number(v) and is_number(acc):
            if sem.is_nan(v) or sem.is_nan(acc):
                return acc if sem.is_nan(acc) else v
            c = sem.compare_numbers(v, acc)
            rank = max(sem.num_rank(v), sem.num_rank(acc))
            best = v if c * self.sign > 0 else acc
            return best if sem.num_rank(best) == rank else sem.wrap(best, rank)
        else:
            c = sem.compare(v, acc)
            if c is None:
                raise GremlinTypeError(f"The {self.name}() step cannot compare {acc!r} with {v!r}")
        return v if c * self.sign > 0 else acc

    def finish(self, acc: Any, seen: bool) -> Any:
        if acc is None:
            return None if seen else MISSING
        return acc


class FoldStep(ReducingStep):
    def __init__(self, seed: Any = MISSING, op: Any = None) -> None:
        super().__init__("fold", False)
        self.seed = seed
        self.op = op

    def start(self) -> Any:
        return [] if self.seed is MISSING else self.seed

    def add(self, acc: Any, t: Trav, ctx: Context) -> Any:
        if self.seed is MISSING:
            acc.extend([t.value] * t.bulk)
            return acc
        from server.gremlin.steps.sideeffect import apply_operator

        for _ in range(t.bulk):
            acc = apply_operator(self.op, acc, t.value)
        return acc


def _scope(args: tuple) -> tuple[bool, tuple]:
    if args and isinstance(args[0], Scope):
        return args[0] is Scope.local, args[1:]
    return False, args


step("count")(lambda c, a: CountStep("count", _scope(a)[0]))
step("sum")(lambda c, a: SumStep("sum", _scope(a)[0]))
step("mean")(lambda c, a: MeanStep("mean", _scope(a)[0]))
step("max")(lambda c, a: MinMaxStep("max", _scope(a)[0]))
step("min")(lambda c, a: MinMaxStep("min", _scope(a)[0]))


@step("fold")
def _fold(c: Any, args: tuple) -> Step:
    if len(args) == 2:
        return FoldStep(args[0], args[1])
    return FoldStep()


# -- order ----------------------------------------------------------------------------------------


def sort_key_list(ctx: Context, bys: list[By], travs: list[Trav]) -> list[list[Any]] | None:
    cols = []
    for by in bys or [By("identity")]:
        vals = ctx.by_values(by, travs)
        cols.append(vals)
    return [list(row) for row in zip(*cols, strict=True)]


def order_travs(ctx: Context, bys: list[By], travs: list[Trav], step: Step) -> list[Trav]:
    """``travs`` sorted by ``bys`` (shuffled by ``Order.shuffle``, with ``step``'s random source:
    under SeedStrategy, the shuffle Gremlin Server makes)."""
    bys = bys or [By("identity")]
    keys = sort_key_list(ctx, bys, travs) or []
    rows = [(k, t) for k, t in zip(keys, travs, strict=True) if all(x is not MISSING for x in k)]
    if any(b.order is Order.shuffle for b in bys):
        rnd = ctx.step_random(step)
        for i in range(len(rows) - 1, 0, -1):  # Fisher-Yates as java.util.Collections.shuffle draws it
            j = rnd.randrange(i + 1)
            rows[i], rows[j] = rows[j], rows[i]
        return [t for _, t in rows]
    for i in reversed(range(len(bys))):
        order = bys[i].order or Order.asc
        values = [k[i] for k, _ in rows]
        _check_orderable(values)
        if sem.natively_ordered(values):  # numbers or strings: Python's own comparisons
            rows.sort(key=lambda kt, i=i: kt[0][i], reverse=order is Order.desc)
        else:
            rows.sort(key=lambda kt, i=i: sem.order_key(kt[0][i]), reverse=order is Order.desc)
    return [t for _, t in rows]


def _check_orderable(values: list[Any]) -> None:
    return None


class OrderStep(Step):
    path_extending = False
    name = "order"

    def __init__(self, local: bool) -> None:
        super().__init__()
        self.local = local
        self.streamable = local

    def children(self) -> list[Pipeline]:
        return [b.arg for b in self.bys if b.kind == "traversal"]

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        if self.local:
            yield from super().apply(it, ctx)
            return
        travs = [t for b in it for t in b]
        ctx.check()
        if travs:
            yield order_travs(ctx, self.bys, travs, self)

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        out = []
        for t in batch:
            v = t.value
            if isinstance(v, dict):
                entries = [Trav((k, x)) for k, x in v.items()]
                bys = [self._entry_by(b) for b in self.bys]
                ordered = order_travs(ctx, bys, entries, self)
                out.append(t.split(dict(e.value for e in ordered), ctx))
            elif isinstance(v, (list, tuple, set, frozenset, Path)):
                items = list(v.objects if isinstance(v, Path) else v)
                ordered = order_travs(ctx, self.bys, [Trav(x) for x in items], self)
                out.append(t.split([e.value for e in ordered], ctx))
            else:
                out.append(t)
        return out

    @staticmethod
    def _entry_by(by: By) -> By:
        if by.kind == "identity":
            return By("column", Column.keys, by.order)
        return by


step("order")(lambda c, a: OrderStep(_scope(a)[0]))


class IndexStep(Step):
    path_extending = True
    name = "index"

    def __init__(self) -> None:
        super().__init__()
        self.as_map = False

    def on_with(self, key: Any, value: Any) -> None:
        if key == WithOptions.indexer:
            self.as_map = value == WithOptions.map

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        out = []
        for t in batch:
            items = _local_items(t.value)
            if self.as_map:
                out.append(t.split(dict(enumerate(items)), ctx))
            else:
                out.append(t.split([[x, i] for i, x in enumerate(items)], ctx))
        return out


step("index")(lambda c, a: IndexStep())


def tokenish(v: Any, key: Any) -> Any:
    return token_value(key, v)
