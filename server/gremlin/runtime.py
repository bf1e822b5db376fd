"""The executor's moving parts: traversers, the per-run context, steps and pipelines.

Execution is set-at-a-time: a :class:`Pipeline` is a chain of generators over *batches* (lists)
of :class:`Trav`. A step's :meth:`Step.process` takes one batch and asks the store once for all of
it; barrier steps override :meth:`Step.apply` to consume their whole input first; ``range`` stops
pulling once satisfied, which is what makes ``limit`` lazy.

Child traversals (``by(__.out().count())``, ``where(__.out())``) run through
:meth:`Context.run_child`: when the child has no barrier (it is *streamable*) every parent traverser
goes through it in one batch, tagged with its position (``root``); otherwise the child runs once
per parent traverser so that its barriers (count, fold, order, limit) stay local to that traverser.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator
from typing import Any

from server.gremlin.errors import EvaluationTimeout, GremlinArgumentError, GremlinTypeError
from server.gremlin.javarandom import JavaRandom
from server.structure import Edge, Property, T, Vertex, VertexProperty
from server.structure.tokens import Column

BATCH = 256
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING", "__bool__": lambda self: False})()
"""A by() modulator or child traversal that produced nothing (unproductive)."""


_NO_LABELS: frozenset[str] = frozenset()


class MapEntry(dict):
    """One entry of a map, as ``unfold()`` makes it: a one-key dict (that is how drivers show a
    Map.Entry) that ``select(keys)``/``select(values)`` see as a key/value pair."""

    @property
    def key(self) -> Any:
        return next(iter(self))

    @property
    def value(self) -> Any:
        return next(iter(self.values()))


class OrderedSet(set):
    """A set that iterates in insertion order (a map's key set: Java's LinkedHashMap.keySet()),
    so that ``select(keys).unfold()`` keeps the map's order. Built once, never mutated."""

    def __init__(self, items: Any = ()) -> None:
        order = list(dict.fromkeys(items))
        super().__init__(order)
        self._order = order

    def __iter__(self) -> Iterator[Any]:
        return iter(self._order)

    def __repr__(self) -> str:
        return "{" + ", ".join(map(repr, self._order)) + "}"


class BulkSet(list):
    """What ``aggregate()`` stores: a list that typeOf() calls a SET (TinkerPop's BulkSet)."""


class Trav:
    """One traverser: a value standing for ``bulk`` identical ones, its path, loop counters and
    sack. ``path`` is a tuple of ``(object, labels)`` pairs (empty when paths are not tracked)."""

    __slots__ = ("value", "bulk", "path", "loops", "sack", "root")

    def __init__(
        self,
        value: Any,
        bulk: int = 1,
        path: tuple = (),
        loops: tuple = (),
        sack: Any = None,
        root: int = 0,
    ) -> None:
        self.value = value
        self.bulk = bulk
        self.path = path
        self.loops = loops
        self.sack = sack
        self.root = root

    def split(self, value: Any, ctx: Context, bulk: int | None = None) -> Trav:
        """A traverser that moved on to ``value`` (extending the path when paths are tracked)."""
        path = self.path + ((value, _NO_LABELS),) if ctx.full_paths else self.path
        sack = ctx.split_sack(self.sack)
        return Trav(value, self.bulk if bulk is None else bulk, path, self.loops, sack, self.root)

    def replace(self, value: Any, ctx: Context) -> Trav:
        """Same traverser, new value, path not extended (e.g. a side effect's own output)."""
        return Trav(value, self.bulk, self.path, self.loops, self.sack, self.root)

    def copy(self, bulk: int | None = None) -> Trav:
        """The same traverser (with ``bulk`` instead of its own, when given)."""
        return Trav(
            self.value, self.bulk if bulk is None else bulk, self.path, self.loops, self.sack, self.root
        )

    def __repr__(self) -> str:
        return f"Trav({self.value!r}x{self.bulk})"


class Context:
    """State of one traversal run: the connection, options, side effects, sack settings and the
    deadline. Child pipelines share their parent's context."""

    def __init__(self, conn: Any, options: Any, engine: Any = None) -> None:
        self.conn = conn
        self.options = options
        self.engine = engine
        self.deadline = getattr(options, "deadline", None)
        self.read_only = bool(getattr(options, "read_only", False))
        self.side_effects: dict[str, Any] = {}
        self.side_effect_ops: dict[str, Any] = {}
        self.sack_init: Any = None
        self.sack_split: Any = None
        self.sack_merge: Any = None
        self.has_sack = False
        self.track_paths = False
        """Traversers carry the step-labelled objects (select, where, match need them)."""
        self.full_paths = False
        """Traversers carry every object they visited (path, simplePath, tree need them)."""
        self.no_merge = False
        """Side effects see each traverser: equal traversers must not be folded into one."""
        self.bulk_enabled = True
        self.source_options: dict[str, Any] = {}
        self.strategies: dict[str, Any] = {}
        self.seed: int | None = None
        """SeedStrategy's seed: coin() and sample() draw from seeded java.util.Random (step_random)."""
        self._step_randoms: dict[int, JavaRandom] = {}
        self._ticks = 0
        self._random: random.Random | None = None
        self.persistent: set[int] = set()
        """ids of steps whose state lives for the whole run (a repeat() body's steps)."""
        self.states: dict[int, Any] = {}

    @property
    def random(self) -> random.Random:
        """The run's random source (coin(), sample()), made on first use: seeding one from the
        OS costs more than a whole small traversal. SeedStrategy sets a seeded one."""
        if self._random is None:
            self._random = random.Random()
        return self._random

    @random.setter
    def random(self, value: random.Random) -> None:
        self._random = value

    def step_random(self, step: Any) -> random.Random | JavaRandom:
        """The random source of a ``coin()`` / ``sample()`` / ``order().by(shuffle)`` step. Under SeedStrategy (``seed``
        set) each step has its own ``java.util.Random`` seeded with it, kept for the run, as
        TinkerPop's seedable steps do, so a seeded traversal draws what it draws on Gremlin
        Server; otherwise the run's shared generator."""
        if self.seed is None:
            return self.random
        found = self._step_randoms.get(id(step))
        if found is None:
            found = self._step_randoms[id(step)] = JavaRandom(self.seed)
        return found

    def state(self, step: Any, factory: Any) -> Any:
        """Per-run state of ``step`` when it must survive between pipeline runs, else fresh."""
        if id(step) in self.persistent or getattr(step, "global_state", False):
            found = self.states.get(id(step))
            if found is None:
                found = self.states[id(step)] = factory()
            return found
        return factory()

    # -- time ---------------------------------------------------------------------------------

    def check(self) -> None:
        """Raise EvaluationTimeout once the deadline has passed."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise EvaluationTimeout("The traversal exceeded its evaluation timeout")

    def tick(self) -> None:
        """A cheap check for tight loops: looks at the clock every 64 calls."""
        self._ticks += 1
        if self._ticks & 63 == 0:
            self.check()

    # -- sacks ---------------------------------------------------------------------------------

    def new_sack(self) -> Any:
        if not self.has_sack:
            return None
        init = self.sack_init
        if isinstance(init, (list, dict, set)):
            import copy

            return copy.deepcopy(init)
        return init

    def split_sack(self, sack: Any) -> Any:
        if sack is None or not isinstance(sack, (list, dict, set)):
            return sack
        import copy

        return copy.deepcopy(sack)

    @property
    def can_merge(self) -> bool:
        """Whether equal traversers may be folded into one bulked traverser."""
        return not self.full_paths and not self.has_sack and self.bulk_enabled and not self.no_merge

    def fold_key(self, t: Trav) -> Any:
        """The key under which equal traversers fold into one bulked traverser (barriers,
        ``sample()``): Gremlin-equal values at the same loop count, from the same parent, along
        equally labelled paths."""
        from server.gremlin.semantics import hkey

        return (hkey(t.value), t.loops, t.root, self.path_key(t))

    def path_key(self, t: Trav) -> Any:
        """What must be equal (besides the value) for two traversers to fold into one."""
        if not t.path:
            return ()
        from server.gremlin.semantics import hkey

        return tuple((hkey(obj), labels) for obj, labels in t.path)

    # -- children ------------------------------------------------------------------------------

    def run_child(self, pipe: Pipeline, travs: list[Trav], keep_bulk: bool = False) -> list[list[Trav]]:
        """Run ``pipe`` for each traverser; answer[i] = what traverser i produced."""
        if not travs:
            return []
        if pipe.streamable:
            seeds = [self._child_seed(t, i, keep_bulk) for i, t in enumerate(travs)]
            return self._by_root(pipe, seeds, len(travs))
        batched = self._batched_children(pipe, travs, keep_bulk)
        if batched is not None:
            return batched
        out: list[list[Trav]] = [[] for _ in travs]
        for i, t in enumerate(travs):
            self.tick()
            for batch in pipe.run(iter([[self._child_seed(t, i, keep_bulk)]]), self):
                out[i].extend(batch)
        return out

    def _child_seed(self, t: Trav, i: int, keep_bulk: bool) -> Trav:
        """Where parent traverser ``i`` starts a child run: its value, path and loops, bulk 1 unless
        ``keep_bulk``, its own copy of the sack, and ``i`` as the root its results carry."""
        return Trav(t.value, t.bulk if keep_bulk else 1, t.path, t.loops, self.split_sack(t.sack), i)

    def _by_root(self, pipe: Pipeline, seeds: list[Trav], n: int) -> list[list[Trav]]:
        """Run ``pipe`` once over all ``seeds`` (roots ``0..n-1``); answer[i] = what root i produced."""
        out: list[list[Trav]] = [[] for _ in range(n)]
        for batch in pipe.run(iter([seeds]), self):
            for r in batch:
                out[r.root].append(r)
        return out

    def _batched_children(
        self, pipe: Pipeline, travs: list[Trav], keep_bulk: bool
    ) -> list[list[Trav]] | None:
        """:meth:`run_child` set-at-a-time for a non-streamable child of a shape that allows it
        (:meth:`_counted_children`, :meth:`_reduced_children`); None for any other child."""
        counted = self._counted_children(pipe, travs, keep_bulk)
        return counted if counted is not None else self._reduced_children(pipe, travs, keep_bulk)

    def _counted_children(
        self, pipe: Pipeline, travs: list[Trav], keep_bulk: bool
    ) -> list[list[Trav]] | None:
        """:meth:`run_child` for a (non-streamable) child that starts with a per-traverser count
        its first step answers for the whole batch at once (``count_each``: the degree counts of
        ``out().count()``), followed by streamable steps only: one store call instead of a
        child run per traverser. None when the child is not of that shape."""
        head = pipe.steps[0] if pipe.steps else None
        count_each = getattr(head, "count_each", None)
        if count_each is None or not travs or not all(s.streamable for s in pipe.steps[1:]):
            return None
        seeds = count_each(travs, self, keep_bulk)
        if seeds is None:
            return None
        return self._by_root(Pipeline(pipe.steps[1:]), seeds, len(travs))

    def _reduced_children(
        self, pipe: Pipeline, travs: list[Trav], keep_bulk: bool
    ) -> list[list[Trav]] | None:
        """:meth:`run_child` for a child of streamable steps that ends in a global reducing
        barrier (``out().fold()``, ``outE().values('w').sum()``): the streamable part runs once
        for the whole batch (one store call per step, one call of a batched extension step such
        as an ML prediction), then the barrier reduces each parent traverser's results apart.
        None when the child is not of that shape."""
        if not pipe.steps or not travs:
            return None
        *head, last = pipe.steps
        reduce = getattr(last, "reduce", None)
        if reduce is None or last.streamable or last.labels or not all(s.streamable for s in head):
            return None
        seeds = [self._child_seed(t, i, keep_bulk) for i, t in enumerate(travs)]
        out: list[list[Trav]] = []
        for group in self._by_root(Pipeline(head), seeds, len(travs)):
            self.tick()
            reduced = reduce(iter([group]), self)
            out.append([] if reduced is None else [reduced])
        return out

    def child_first(self, pipe: Pipeline, travs: list[Trav]) -> list[Any]:
        """The first value each traverser's child run produces, or MISSING."""
        if pipe.streamable:
            return [r[0].value if r else MISSING for r in self.run_child(pipe, travs)]
        batched = self._batched_children(pipe, travs, False)
        if batched is not None:
            return [r[0].value if r else MISSING for r in batched]
        res = []
        for i, t in enumerate(travs):
            self.tick()
            found = MISSING
            for batch in pipe.run(iter([[self._child_seed(t, i, False)]]), self):
                if batch:
                    found = batch[0].value
                    break
            res.append(found)
        return res

    def child_any(self, pipe: Pipeline, travs: list[Trav]) -> list[bool]:
        """Whether each traverser's child run produces anything (a filter child)."""
        if len(pipe.steps) == 1 and travs:
            only = pipe.steps[0]
            if getattr(only, "value_filter", False) and not only.labels:
                # until(has(...)) and the like: the filter's verdict, without seeding a child run
                self.check()
                return only.keep(travs, self)
        if pipe.streamable:
            return [bool(r) for r in self.run_child(pipe, travs)]
        return [v is not MISSING for v in self.child_first(pipe, travs)]

    # -- properties ----------------------------------------------------------------------------

    def load_properties(self, elements: list[Any], keys: list[str] | None = None) -> list[list[Any]]:
        """Properties of each element (vertices, edges, vertex properties), one store call per
        kind. Uses what an element already carries when it is loaded and covers ``keys``."""
        out: list[list[Any]] = [[] for _ in elements]
        vs, vi, es, ei = [], [], [], []
        for i, el in enumerate(elements):
            if el.properties is not None and isinstance(el, (Vertex, Edge, VertexProperty)):
                props = el.properties
                out[i] = props if keys is None else [p for p in props if p.key in keys]
            elif isinstance(el, Vertex):
                vs.append(el)
                vi.append(i)
            elif isinstance(el, Edge):
                es.append(el)
                ei.append(i)
            elif isinstance(el, VertexProperty):
                out[i] = []
        # the same element often stands behind many traversers: ask the store once per element
        for found, idx, fetch in ((vs, vi, self.conn.vertex_properties), (es, ei, self.conn.edge_properties)):
            if not found:
                continue
            slot: dict[Any, int] = {}
            uniq: list[Any] = []
            for el in found:
                if el.id not in slot:
                    slot[el.id] = len(uniq)
                    uniq.append(el)
            answers = fetch(uniq, keys)
            for i, el in zip(idx, found, strict=True):
                props = answers[slot[el.id]]
                out[i] = props
                if keys is None:
                    elements[i].properties = props
        return out

    def element_values(self, elements: list[Any], keys: list[str]) -> tuple[list[int], list[list[Any]]]:
        """Values of properties ``keys`` of each element (what ``values(keys)`` gives), as
        ``(positions, values)`` for the elements that have properties. Vertices whose properties
        are not loaded yet are answered by ``GraphConnection.vertex_values`` (one light query,
        no property objects); everything else goes through :meth:`load_properties`."""
        at: list[int] = []
        found: list[list[Any]] = []
        light: dict[Any, list[int]] = {}
        verts: list[Any] = []
        rest: list[int] = []
        for i, el in enumerate(elements):
            if type(el) is Vertex and el.properties is None:
                slots = light.get(el.id)
                if slots is None:
                    light[el.id] = slots = []
                    verts.append(el)
                slots.append(i)
            elif isinstance(el, (Vertex, Edge, VertexProperty)):
                rest.append(i)
        answers: list[list[Any] | None] = [None] * len(elements)
        if verts:
            for v, vals in zip(verts, self.conn.vertex_values(verts, keys), strict=True):
                for i in light[v.id]:
                    answers[i] = vals
        if rest:
            props = self.load_properties([elements[i] for i in rest], keys)
            for i, ps in zip(rest, props, strict=True):
                answers[i] = [p.value for p in ps]
        for i, vals in enumerate(answers):
            if vals is not None:
                at.append(i)
                found.append(vals)
        return at, found

    def by_values(self, by: By | None, travs: list[Trav]) -> list[Any]:
        """Apply a by() modulator to each traverser; MISSING where it is unproductive."""
        if by is None or by.kind == "identity":
            return [t.value for t in travs]
        if by.kind == "traversal":
            res = self.child_first(by.arg, travs)
        else:
            res = apply_function(self, by.kind, by.arg, [t.value for t in travs])
        if self.productive_by:
            res = [None if v is MISSING else v for v in res]
        return res

    @property
    def productive_by(self) -> bool:
        return "ProductiveByStrategy" in self.strategies


def apply_function(ctx: Context, kind: str, arg: Any, values: list[Any]) -> list[Any]:
    """A by()-style function (property key, T token, Column) over values; MISSING when absent."""
    if kind == "key":
        out: list[Any] = [MISSING] * len(values)
        els = [(i, v) for i, v in enumerate(values) if isinstance(v, (Vertex, Edge, VertexProperty))]
        if els:
            for i, vals in zip(*ctx.element_values([v for _, v in els], [arg]), strict=True):
                if vals:
                    out[els[i][0]] = vals[0]
        for i, v in enumerate(values):
            if isinstance(v, dict):
                out[i] = v.get(arg, MISSING)
            elif not isinstance(v, (Vertex, Edge, VertexProperty)):
                if v is not None and not isinstance(v, dict):
                    raise GremlinTypeError(
                        f'The by("{arg}") modulator can only be applied to an element or a map, '
                        f"not {type(v).__name__} {v!r}"
                    )
        return out
    if kind == "token":
        return [token_value(arg, v) for v in values]
    if kind == "column":
        res = []
        for v in values:
            if isinstance(v, MapEntry):
                res.append(v.key if arg is Column.keys else v.value)
            elif isinstance(v, dict):
                res.append(list(v.keys()) if arg is Column.keys else list(v.values()))
            elif isinstance(v, tuple) and len(v) == 2:
                res.append(v[0] if arg is Column.keys else v[1])
            else:
                res.append(MISSING)
        return res
    raise GremlinTypeError(f"unsupported by() argument {arg!r}")


def token_value(token: T, v: Any) -> Any:
    """T.id / T.label / T.key / T.value of an element or property."""
    if token is T.id:
        return v.id if isinstance(v, (Vertex, Edge, VertexProperty)) else MISSING
    if token is T.label:
        return v.label if isinstance(v, (Vertex, Edge, VertexProperty)) else MISSING
    if token is T.key:
        return v.key if isinstance(v, (VertexProperty, Property)) else MISSING
    if token is T.value:
        return v.value if isinstance(v, (VertexProperty, Property)) else MISSING
    return MISSING


class By:
    """One by() modulator: identity, a property key, a T token, a Column, or a child traversal;
    with an optional comparator (Order) for order()/sample()."""

    __slots__ = ("kind", "arg", "order")

    def __init__(self, kind: str, arg: Any = None, order: Any = None) -> None:
        self.kind = kind
        self.arg = arg
        self.order = order

    def __repr__(self) -> str:
        return f"By({self.kind}, {self.arg!r}, {self.order!r})"


class Step:
    """Base class of every step. Subclasses implement :meth:`process` (one batch in, one batch
    out) or override :meth:`apply` (barriers, early stops)."""

    name = "step"
    streamable = True
    """False for barriers and steps whose meaning depends on seeing every traverser."""
    path_extending = False

    def __init__(self) -> None:
        self.labels: set[str] = set()
        self.bys: list[By] = []
        self.with_options: dict[str, Any] = {}

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        for batch in it:
            ctx.check()
            out = self.process(batch, ctx)
            if out:
                yield out

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        raise NotImplementedError

    def children(self) -> list[Pipeline]:
        """Child pipelines (for strategies that walk the whole tree)."""
        return []

    max_bys: int | None = None
    """How many by() modulators the step takes (None: any number)."""

    def add_by(self, by: By) -> None:
        if self.max_bys is not None and len(self.bys) >= self.max_bys:
            title = self.name[0].upper() + self.name[1:]
            if self.max_bys == 1:
                raise GremlinArgumentError(f"{title} step can only have one by modulator")
            raise GremlinArgumentError(f"{title} step can only have {self.max_bys} by modulators")
        self.bys.append(by)

    def by_at(self, i: int) -> By | None:
        """The i-th by() modulator, cycling like TinkerPop when fewer were given."""
        if not self.bys:
            return None
        return self.bys[i % len(self.bys)]

    def __repr__(self) -> str:
        return f"{type(self).__name__}"


class Pipeline:
    """A compiled (child) traversal: steps run as a chain of batch generators."""

    def __init__(self, steps: list[Step] | None = None) -> None:
        self.steps: list[Step] = steps or []

    @property
    def streamable(self) -> bool:
        return all(s.streamable for s in self.steps)

    def run(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        for step in self.steps:
            it = step.apply(it, ctx)
            if step.labels and ctx.track_paths:
                it = _labelled(it, frozenset(step.labels))
        return it

    def values(self, ctx: Context, seeds: Iterable[Trav]) -> list[Any]:
        return [t.value for b in self.run(iter([list(seeds)]), ctx) for t in b]

    def walk(self) -> Iterator[Step]:
        """Every step, children included (depth first)."""
        for s in self.steps:
            yield s
            for c in s.children():
                yield from c.walk()

    def __repr__(self) -> str:
        return f"Pipeline({self.steps})"


def _labelled(it: Iterator[list[Trav]], labels: frozenset[str]) -> Iterator[list[Trav]]:
    for batch in it:
        for t in batch:
            if t.path:
                obj, old = t.path[-1]
                if obj is t.value:
                    t.path = t.path[:-1] + ((obj, old | labels),)
                    continue
            t.path = t.path + ((t.value, labels),)
        yield batch


def merge_bulk(travs: list[Trav], key: Any) -> list[Trav]:
    """Fold traversers with equal ``key(t)`` into one with the summed bulk (order of first)."""
    seen: dict[Any, Trav] = {}
    for t in travs:
        k = key(t)
        found = seen.get(k)
        if found is None:
            seen[k] = t
        else:
            found.bulk += t.bulk
    return list(seen.values())


def chunks(items: list[Trav], size: int = BATCH) -> Iterator[list[Trav]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
