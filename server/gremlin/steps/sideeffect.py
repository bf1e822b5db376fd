"""Side-effect steps and the map-building barriers: aggregate/store, group, groupCount, tree,
cap, sideEffect, sack, barrier, fail, subgraph."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from server.gremlin import semantics as sem
from server.gremlin.compiler import step
from server.gremlin.errors import FailStepError, GremlinArgumentError, GremlinTypeError
from server.gremlin.javahash import hashmap_order
from server.gremlin.runtime import MISSING, BulkSet, By, Context, Pipeline, Step, Trav, merge_bulk
from server.gremlin.steps.map import ReducingStep, by_one
from server.structure import Barrier, Edge, Operator, Scope, Vertex, VertexProperty
from server.structure.values import Int64, is_number


class Tree(dict):
    """The result of ``tree()``: ``{object: Tree}`` (serializers write it as a Gremlin Tree)."""


class Subgraph:
    """The result of ``subgraph()``: the edges (and their vertices) that passed through it."""

    def __init__(self) -> None:
        self.vertices: dict[Any, Vertex] = {}
        self.edges: dict[Any, Edge] = {}

    def __repr__(self) -> str:
        return f"subgraph[vertices:{len(self.vertices)} edges:{len(self.edges)}]"


def dict_key(v: Any) -> Any:
    """A value usable as a Python dict key (lists become tuples, sets frozensets, maps
    :class:`KeyMap`)."""
    if isinstance(v, list):
        return tuple(dict_key(x) for x in v)
    if isinstance(v, set):
        return frozenset(dict_key(x) for x in v)
    if isinstance(v, dict):
        return v if isinstance(v, KeyMap) else KeyMap(v)
    return v


class KeyMap(dict):
    """A map used as a map key (``group().by(project(...))``, say): still a map to ``select()``,
    ``where()`` and the serializers, hashed by its Gremlin-equal contents. Never changed once
    it is a key."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(sem.hkey(self))


def apply_operator(op: Any, a: Any, b: Any) -> Any:
    """A sack / fold / withSideEffect reducer (an Operator token)."""
    if op is None:
        return b
    if not isinstance(op, Operator):
        raise GremlinArgumentError(f"{op!r} is not an Operator")
    if op is Operator.assign:
        return b
    if op in (Operator.and_, Operator.or_):
        return (a and b) if op is Operator.and_ else (a or b)
    if op is Operator.addAll:
        if isinstance(a, dict):
            r = dict(a)
            r.update(b)
            return r
        if isinstance(a, set):
            return a | set(b)
        return list(a) + list(b)
    if a is None:
        return b
    if b is None:
        return a
    if not is_number(a) or not is_number(b):
        raise GremlinTypeError(f"Operator.{op.value} needs numbers, got {a!r} and {b!r}")
    if op is Operator.sum:
        return sem.add(a, b)
    if op is Operator.sumLong:
        return Int64(int(a) + int(b))
    if op is Operator.minus:
        return sem.sub(a, b)
    if op is Operator.mult:
        return sem.mul(a, b)
    if op is Operator.div:
        return sem.div(a, b)
    if op is Operator.min:
        return sem.num_min(a, b)
    if op is Operator.max:
        return sem.num_max(a, b)
    raise GremlinArgumentError(f"unsupported operator {op!r}")


def _store_into(ctx: Context, key: str, values: list[Any]) -> None:
    current = ctx.side_effects.get(key)
    op = ctx.side_effect_ops.get(key)
    if op is Operator.assign:
        ctx.side_effects[key] = BulkSet(values)
        return
    if current is None:
        current = BulkSet()
        ctx.side_effects[key] = current
    if isinstance(current, list):
        current.extend(values)
    elif isinstance(current, set):
        current.update(dict_key(v) for v in values)
    elif op is not None:
        for v in values:
            current = apply_operator(op, current, v)
        ctx.side_effects[key] = current
    else:
        raise GremlinTypeError(f"side effect {key!r} ({type(current).__name__}) cannot take more values")


class AggregateStep(Step):
    """``aggregate(key)`` (a barrier: every value is stored before any traverser moves on) and
    ``aggregate(local, key)`` / ``store(key)`` (stores as traversers pass)."""

    name = "aggregate"
    max_bys = 1

    def __init__(self, key: str, lazy: bool) -> None:
        super().__init__()
        self.key = key
        self.lazy = lazy
        self.streamable = False

    def _values(self, ctx: Context, batch: list[Trav]) -> list[Any]:
        vals = ctx.by_values(self.bys[0] if self.bys else None, batch)
        out = []
        for t, v in zip(batch, vals, strict=True):
            if v is MISSING:
                continue
            out.extend([v] * t.bulk)
        return out

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        if self.key not in ctx.side_effects:
            ctx.side_effects[self.key] = BulkSet()
        if self.lazy:
            for batch in it:
                _store_into(ctx, self.key, self._values(ctx, batch))
                yield batch
            return
        everything = [t for b in it for t in b]
        _store_into(ctx, self.key, self._values(ctx, everything))
        if everything:
            yield everything


@step("aggregate")
def _aggregate(c: Any, args: tuple) -> Step:
    lazy = False
    if args and isinstance(args[0], Scope):
        lazy, args = args[0] is Scope.local, args[1:]
    return AggregateStep(args[0], lazy)


step("store")(lambda c, a: AggregateStep(a[0], True))


class _Grouper:
    """Shared logic of group(): keys from the first by(), values reduced by the second."""

    def __init__(self, owner: Step) -> None:
        self.owner = owner

    def key_by(self) -> By | None:
        return self.owner.bys[0] if self.owner.bys else None

    def value_by(self) -> By | None:
        return self.owner.bys[1] if len(self.owner.bys) > 1 else None

    def keys(self, ctx: Context, batch: list[Trav]) -> list[Any]:
        return ctx.by_values(self.key_by(), batch)

    def reduce(self, ctx: Context, members: list[Trav]) -> Any:
        vb = self.value_by()
        if vb is None or vb.kind != "traversal":
            vals = ctx.by_values(vb, members)
            out = []
            for t, v in zip(members, vals, strict=True):
                if v is not MISSING:
                    out.extend([v] * t.bulk)
            return out
        pipe: Pipeline = vb.arg
        seeds = [t.copy() for t in members]
        for b in pipe.run(iter([seeds]), ctx):
            if b:
                return b[0].value
        return MISSING


def _is_reducing(s: Step) -> bool:
    if isinstance(s, ReducingStep):
        return not s.local
    return type(s).__name__ in ("GroupStep", "GroupCountStep", "TreeStep", "CapStep")


class GroupStep(Step):
    name = "group"
    path_extending = True

    max_bys = 2

    def __init__(self, key: str | None) -> None:
        super().__init__()
        self.key = key
        self.global_state = key is not None
        self.grouper = _Grouper(self)
        self.streamable = False

    def children(self) -> list[Pipeline]:
        return [b.arg for b in self.bys if b.kind == "traversal"]

    def _build(self, ctx: Context, travs: list[Trav]) -> dict:
        groups: dict[Any, tuple[Any, list[Trav]]] = {}
        keys = self.grouper.keys(ctx, travs) if travs else []
        for t, k in zip(travs, keys, strict=True):
            if k is MISSING:
                continue
            hk = sem.hkey(k)
            if hk not in groups:
                groups[hk] = (k, [])
            groups[hk][1].append(t)
        # Gremlin Server reduces the groups in its HashMap's order, which decides what a seeded
        # sample() in the value traversal draws for which group. Only a seeded run can tell the
        # orders apart, so only it pays for Java's hashes (about 2 us a key); the answer keeps
        # the keys in first-seen order either way.
        entries = list(groups.values())
        java_order = hashmap_order([k for k, _ in entries]) if ctx.seed is not None else None
        order = java_order or range(len(entries))
        reduced = [MISSING] * len(entries)
        for i in order:
            ctx.tick()
            reduced[i] = self.grouper.reduce(ctx, entries[i][1])
        return {dict_key(k): v for (k, _), v in zip(entries, reduced, strict=True) if v is not MISSING}

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        if self.key is None:
            travs = [t for b in it for t in b]
            m = self._build(ctx, travs)
            yield [Trav(m, 1, ((m, frozenset()),) if ctx.full_paths else (), (), ctx.new_sack())]
            return
        seen: list[Trav] = ctx.states.setdefault(("group", self.key), [])
        for batch in it:
            seen.extend(t.copy() for t in batch)
            ctx.side_effects[self.key] = self._build(ctx, seen)
            yield batch
        if self.key not in ctx.side_effects:
            ctx.side_effects[self.key] = {}


step("group")(lambda c, a: GroupStep(a[0] if a else None))


class GroupCountStep(Step):
    name = "groupCount"
    path_extending = True

    max_bys = 1

    def __init__(self, key: str | None) -> None:
        super().__init__()
        self.key = key
        self.global_state = key is not None
        self.streamable = False

    def children(self) -> list[Pipeline]:
        return [b.arg for b in self.bys if b.kind == "traversal"]

    def _count(self, ctx: Context, batch: list[Trav], acc: dict) -> None:
        keys = ctx.by_values(self.bys[0] if self.bys else None, batch)
        for t, k in zip(batch, keys, strict=True):
            if k is not MISSING:
                self.tally(acc, k, t.bulk)

    @staticmethod
    def tally(acc: dict, key: Any, bulk: int) -> None:
        """Count ``bulk`` more of ``key`` in ``acc`` (hash key -> ``[key, count]``, first-seen order)."""
        hk = sem.hkey(key)
        entry = acc.get(hk)
        if entry is None:
            acc[hk] = [key, bulk]
        else:
            entry[1] += bulk

    @staticmethod
    def _result(acc: dict) -> dict:
        return {dict_key(k): Int64(n) for k, n in acc.values()}

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        acc: dict = ctx.states.setdefault(("groupCount", self.key), {}) if self.key else {}
        if self.key is None:
            for batch in it:
                ctx.check()
                self._count(ctx, batch, acc)
            m = self._result(acc)
            yield [Trav(m, 1, ((m, frozenset()),) if ctx.full_paths else (), (), ctx.new_sack())]
            return
        for batch in it:
            self._count(ctx, batch, acc)
            ctx.side_effects[self.key] = self._result(acc)
            yield batch
        ctx.side_effects.setdefault(self.key, {})


step("groupCount")(lambda c, a: GroupCountStep(a[0] if a else None))


class TreeStep(Step):
    name = "tree"
    path_extending = True

    def __init__(self, key: str | None) -> None:
        super().__init__()
        self.key = key
        self.streamable = False

    def _add(self, ctx: Context, tree: Tree, t: Trav) -> None:
        node = tree
        for i, (obj, _) in enumerate(t.path):
            v = by_one(ctx, self.by_at(i), obj, t) if self.bys else obj
            if v is MISSING:
                continue
            k = dict_key(v)
            if k not in node:
                node[k] = Tree()
            node = node[k]

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        tree = Tree()
        if self.key is None:
            for b in it:
                for t in b:
                    self._add(ctx, tree, t)
            yield [Trav(tree, 1, (), (), ctx.new_sack())]
            return
        # One tree per key for the whole traversal: a tree('a') that runs more than once (inside
        # local(), repeat(), a by()) adds to what it holds, as TinkerPop merges tree side-effects.
        stored = ctx.side_effects.get(self.key)
        if isinstance(stored, Tree):
            tree = stored
        else:
            ctx.side_effects[self.key] = tree
        for b in it:
            for t in b:
                self._add(ctx, tree, t)
            yield b


step("tree")(lambda c, a: TreeStep(a[0] if a else None))


class CapStep(Step):
    name = "cap"
    path_extending = True

    def __init__(self, keys: list[str]) -> None:
        super().__init__()
        self.keys = keys
        self.streamable = False

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        for _ in it:
            ctx.check()
        if len(self.keys) == 1:
            v = ctx.side_effects.get(self.keys[0], MISSING)
            if v is MISSING:
                raise GremlinArgumentError(f"The side effect {self.keys[0]!r} does not exist")
        else:
            v = {k: ctx.side_effects.get(k) for k in self.keys}
        yield [Trav(v, 1, ((v, frozenset()),) if ctx.full_paths else (), (), ctx.new_sack())]


step("cap")(lambda c, a: CapStep(list(a)))


class SideEffectStep(Step):
    name = "sideEffect"

    def __init__(self, child: Pipeline) -> None:
        super().__init__()
        self.child = child

    def children(self) -> list[Pipeline]:
        return [self.child]

    @property
    def streamable(self) -> bool:  # type: ignore[override]
        return self.child.streamable

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        ctx.run_child(self.child, batch, keep_bulk=True)
        return batch


step("sideEffect")(lambda c, a: SideEffectStep(c.child(a[0])))


class SackStep(Step):
    """``sack()`` reads the sack; ``sack(op).by(...)`` combines it with a value."""

    name = "sack"
    max_bys = 1

    def __init__(self, op: Any) -> None:
        super().__init__()
        self.op = op
        self.path_extending = op is None

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        if self.op is None:
            return [t.split(t.sack, ctx) for t in batch]
        vals = ctx.by_values(self.bys[0] if self.bys else None, batch)
        out = []
        for t, v in zip(batch, vals, strict=True):
            if v is MISSING:
                continue
            n = t.copy()
            n.sack = apply_operator(self.op, t.sack, v)
            out.append(n)
        return out


step("sack")(lambda c, a: SackStep(a[0] if a else None))


class BarrierStep(Step):
    """``barrier()``: waits for every traverser and folds equal ones (sacks merged with the
    withSack merge operator); ``barrier(normSack)`` scales sacks so that they sum to 1."""

    name = "barrier"
    streamable = False

    def __init__(self, norm_sack: bool = False) -> None:
        super().__init__()
        self.norm_sack = norm_sack

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        everything = [t for b in it for t in b]
        ctx.check()
        if ctx.has_sack and ctx.sack_merge is not None and not ctx.full_paths:
            merged: dict[Any, Trav] = {}
            for t in everything:
                k = ctx.fold_key(t)
                m = merged.get(k)
                if m is None:
                    merged[k] = t.copy()
                else:
                    m.sack = apply_operator(ctx.sack_merge, m.sack, t.sack)
                    if ctx.bulk_enabled:
                        m.bulk += t.bulk
            everything = list(merged.values())
        elif ctx.can_merge:
            everything = merge_bulk(everything, ctx.fold_key)
        if self.norm_sack and everything:
            import decimal

            exact = any(
                isinstance(t.sack, (int, decimal.Decimal)) and not isinstance(t.sack, bool)
                for t in everything
            )
            total = sum((decimal.Decimal(t.sack) if exact else float(t.sack)) * t.bulk for t in everything)
            if total:
                everything = [t.copy() for t in everything]
                for t in everything:
                    t.sack = (decimal.Decimal(t.sack) if exact else float(t.sack)) / total
        if everything:
            yield everything


step("barrier")(lambda c, a: BarrierStep(norm_sack=bool(a) and a[0] is Barrier.normSack))


class FailStep(Step):
    name = "fail"

    def __init__(self, message: str | None) -> None:
        super().__init__()
        self.message = message

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        if batch:
            raise FailStepError(self.message or "fail() step triggered")
        return batch


step("fail")(lambda c, a: FailStep(a[0] if a else None))


class SubgraphStep(Step):
    name = "subgraph"
    streamable = False

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        sg = ctx.side_effects.get(self.key)
        if not isinstance(sg, Subgraph):
            sg = Subgraph()
            ctx.side_effects[self.key] = sg
        for t in batch:
            e = t.value
            if not isinstance(e, Edge):
                raise GremlinTypeError(f"subgraph() takes edges, got {e!r}")
            sg.edges[e.id] = e
            sg.vertices[e.out_v.id] = e.out_v
            sg.vertices[e.in_v.id] = e.in_v
        return batch

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        if not isinstance(ctx.side_effects.get(self.key), Subgraph):
            ctx.side_effects[self.key] = Subgraph()
        yield from super().apply(it, ctx)


step("subgraph")(lambda c, a: SubgraphStep(a[0]))

_ = (VertexProperty,)
