"""Mutating steps: addV, addE, property, drop, mergeV, mergeE. Each refuses to run in a
read-only traversal (:class:`ReadOnlyViolation`) and turns store errors into Gremlin errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from server.gremlin import semantics as sem
from server.gremlin.compiler import step
from server.gremlin.errors import GremlinArgumentError, GremlinError, GremlinTypeError, ReadOnlyViolation
from server.gremlin.ir import Bytecode, CardinalityValue
from server.gremlin.runtime import MISSING, Context, Pipeline, Step, Trav
from server.gremlin.steps.map import scope_value
from server.store.errors import ConflictError, StoreError
from server.store.interface import ElementQuery, PropertyFilter
from server.structure import Cardinality, Direction, Edge, Merge, Property, T, Vertex, VertexProperty


def _writable(ctx: Context, name: str) -> None:
    if ctx.read_only:
        raise ReadOnlyViolation(
            f"The provided traversal has a mutating step and thus is not read only: {name}()"
        )


def _store_call(fn: Any, *args: Any, **kw: Any) -> Any:
    try:
        return fn(*args, **kw)
    except ConflictError:
        raise  # the caller retries: the protocol answers 596 for it
    except StoreError as exc:
        raise GremlinError(str(exc)) from exc


def _resolve(ctx: Context, value: Any, t: Trav | None) -> Any:
    """A property value argument: a constant, or a child traversal's first value."""
    if isinstance(value, Pipeline):
        if t is None:
            t = Trav(None)
        return ctx.child_first(value, [t])[0]
    return value


class MutatingStep(Step):
    streamable = False
    mutates = True


class PropertyStep(MutatingStep):
    name = "property"

    def __init__(
        self, cardinality: Cardinality | None, key: Any, value: Any, meta: list[tuple[Any, Any]]
    ) -> None:
        super().__init__()
        self.cardinality = cardinality
        self.key = key
        self.value = value
        self.meta = meta

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        _writable(ctx, "property")
        for t in batch:
            ctx.tick()
            set_property(
                ctx,
                t.value,
                self.cardinality,
                self.key,
                _resolve(ctx, self.value, t),
                [(k, _resolve(ctx, v, t)) for k, v in self.meta],
                t,
            )
        return batch


def set_property(
    ctx: Context,
    el: Any,
    cardinality: Cardinality | None,
    key: Any,
    value: Any,
    meta: list[tuple[Any, Any]],
    t: Trav | None = None,
) -> None:
    conn = ctx.conn
    if isinstance(value, CardinalityValue):
        cardinality, value = value.cardinality, value.value
    if value is MISSING:
        raise GremlinArgumentError(f"The property() value traversal for {key!r} produced nothing")
    if isinstance(key, Pipeline):
        key = ctx.child_first(key, [t or Trav(el)])[0]
    if isinstance(key, dict) and value is None:
        for k, v in key.items():
            set_property(ctx, el, cardinality, k, _resolve(ctx, v, t), [], t)
        return
    if isinstance(key, T):
        raise GremlinArgumentError(f"property({key}) can only be set when an element is created")
    if not isinstance(key, str):
        raise GremlinArgumentError(f"property keys must be strings, got {key!r}")
    if isinstance(el, Vertex):
        el.properties = None
        if value is None:
            props = conn.vertex_properties([el], [key])[0]
            if props and (cardinality in (None, Cardinality.single)):
                _store_call(conn.remove_vertex_properties, props)
            return
        card = cardinality or Cardinality.single
        id_ = None
        rest = []
        for k, v in meta:
            if k is T.id:
                id_ = v
            else:
                rest.append((k, v))
        if any(v is None for _, v in rest):
            rest = [(k, v) for k, v in rest if v is not None]
        _store_call(conn.add_vertex_property, el, key, value, card, id_, rest)
    elif isinstance(el, Edge):
        if cardinality not in (None, Cardinality.single):
            raise GremlinArgumentError("Edges only support single cardinality properties")
        if meta:
            raise GremlinArgumentError("Edge properties cannot have meta-properties")
        el.properties = None
        if value is None:
            props = conn.edge_properties([el], [key])[0]
            if props:
                _store_call(conn.remove_properties, props)
            return
        _store_call(conn.set_edge_property, el, key, value)
    elif isinstance(el, VertexProperty):
        if value is None:
            props = [p for p in (el.properties or []) if p.key == key]
            if props:
                _store_call(conn.remove_properties, props)
            return
        _store_call(conn.set_meta_property, el, key, value)
    else:
        raise GremlinTypeError(f"property() can only be set on an element, not {el!r}")


@step("property")
def _property(c: Any, args: tuple) -> Step:
    card = None
    if args and isinstance(args[0], Cardinality):
        card, args = args[0], args[1:]
    if len(args) == 1 and isinstance(args[0], dict):
        return PropertyStep(card, {k: _lift(c, v) for k, v in args[0].items()}, None, [])
    if len(args) == 1 and args[0] is None:
        return PropertyStep(card, {}, None, [])
    if len(args) < 2:
        raise GremlinArgumentError("property() needs a key and a value")
    key, value, rest = _lift(c, args[0]), args[1], args[2:]
    if len(rest) % 2:
        raise GremlinArgumentError("property() meta-properties come in key/value pairs")
    meta = [(rest[i], _lift(c, rest[i + 1])) for i in range(0, len(rest), 2)]
    return PropertyStep(card, key, _lift(c, value), meta)


def _lift(c: Any, v: Any) -> Any:
    return c.child(v) if isinstance(v, Bytecode) else v


class _CreatingStep(MutatingStep):
    """``addV()`` / ``addE()``: one new element per traverser (bulk expanded), or one at the start.

    Subclasses implement ``_create(ctx, traverser)``; the traverser is ``None`` at the start."""

    is_start: bool

    def _create(self, ctx: Context, t: Trav | None) -> Any:
        raise NotImplementedError

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        _writable(ctx, self.name)
        if self.is_start:
            element = self._create(ctx, None)
            yield [Trav(element, 1, ((element, frozenset()),) if ctx.full_paths else (), (), ctx.new_sack())]
            return
        for batch in it:
            out = []
            for t in batch:
                for _ in range(t.bulk):
                    n = t.split(self._create(ctx, t), ctx)
                    n.bulk = 1
                    out.append(n)
            if out:
                yield out


class AddVertexStep(_CreatingStep):
    name = "addV"
    path_extending = True

    def __init__(self, label: Any) -> None:
        super().__init__()
        self.label = label
        self.props: list[PropertyStep] = []
        self.is_start = False

    def _create(self, ctx: Context, t: Trav | None) -> Vertex:
        label = _resolve(ctx, self.label, t) if self.label is not None else "vertex"
        if label is MISSING or label is None:
            label = "vertex"
        id_ = None
        for p in self.props:
            if p.key is T.id:
                id_ = _resolve(ctx, p.value, t)
            elif p.key is T.label:
                label = _resolve(ctx, p.value, t)
        if not isinstance(label, str):
            raise GremlinArgumentError(f"a vertex label must be a string, got {label!r}")
        v = _store_call(ctx.conn.add_vertex, label, id_)
        # The properties given with addV() are the new vertex's: a key given twice without a
        # cardinality keeps both values (list), as TinkerGraph's addVertex(keyValues) does;
        # property() on an existing vertex replaces (single) unless told otherwise.
        seen: set[Any] = set()
        for p in self.props:
            if p.key in (T.id, T.label):
                continue
            val = _resolve(ctx, p.value, t)
            if isinstance(p.key, dict):
                for k, x in p.key.items():
                    set_property(ctx, v, p.cardinality, k, _resolve(ctx, x, t), [], t)
                continue
            if val is None:
                continue
            key = ctx.child_first(p.key, [t or Trav(v)])[0] if isinstance(p.key, Pipeline) else p.key
            card = p.cardinality
            if card is None and key in seen and not isinstance(val, CardinalityValue):
                card = Cardinality.list_
            seen.add(key)
            set_property(ctx, v, card, key, val, [(k, _resolve(ctx, m, t)) for k, m in p.meta], t)
        v.properties = None
        return v


@step("addV")
def _add_v(c: Any, args: tuple) -> Step:
    label = args[0] if args else None
    if isinstance(label, Bytecode):
        label = c.child(label)
    return AddVertexStep(label)


class AddEdgeStep(_CreatingStep):
    name = "addE"
    path_extending = True

    def __init__(self, label: Any) -> None:
        super().__init__()
        self.label = label
        self.from_: Any = MISSING
        self.to: Any = MISSING
        self.props: list[PropertyStep] = []
        self.is_start = False

    def accepts(self, name: str) -> bool:
        return name in ("from", "to")

    def modulate(self, c: Any, name: str, args: tuple) -> None:
        v = args[0]
        if isinstance(v, Bytecode):
            v = c.child(v)
        if name == "from":
            self.from_ = v
        else:
            self.to = v

    def _end(self, ctx: Context, spec: Any, t: Trav | None, which: str) -> Vertex:
        if spec is MISSING:
            if t is None:
                raise GremlinArgumentError(f"addE() needs a {which}() vertex")
            v = t.value
        elif isinstance(spec, Pipeline):
            v = ctx.child_first(spec, [t or Trav(None)])[0]
        elif isinstance(spec, str):
            v = scope_value(ctx, t, spec) if t is not None else MISSING
        else:
            v = spec
        if v is MISSING:
            raise GremlinArgumentError(f"The {which}() of addE() produced no vertex")
        if isinstance(v, Vertex):
            return v
        if isinstance(v, (int, str)) and not isinstance(v, bool):
            found = list(ctx.conn.vertices(ElementQuery(ids=[v])))
            if found:
                return found[0]
        raise GremlinTypeError(
            f"The value given to addE().{which}() must resolve to a Vertex or the ID of a Vertex present "
            f"in the graph, got {v!r}"
        )

    def _create(self, ctx: Context, t: Trav | None) -> Edge:
        label = _resolve(ctx, self.label, t)
        out_v = self._end(ctx, self.from_, t, "from")
        in_v = self._end(ctx, self.to, t, "to")
        id_ = None
        for p in self.props:
            if p.key is T.id:
                id_ = _resolve(ctx, p.value, t)
        e = _store_call(ctx.conn.add_edge, label, out_v, in_v, id_)
        for p in self.props:
            if p.key is T.id:
                continue
            val = _resolve(ctx, p.value, t)
            if val is None:
                continue
            set_property(ctx, e, p.cardinality, p.key, val, [], t)
        e.properties = None
        return e


@step("addE")
def _add_e(c: Any, args: tuple) -> Step:
    label = args[0] if args else None
    if isinstance(label, Bytecode):
        label = c.child(label)
    return AddEdgeStep(label)


class DropStep(MutatingStep):
    """``drop()``: removes what reaches it (a barrier, so scans are not disturbed)."""

    name = "drop"

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        _writable(ctx, "drop")
        items = [t.value for b in it for t in b]
        conn = ctx.conn
        vs = [x for x in items if isinstance(x, Vertex)]
        es = [x for x in items if isinstance(x, Edge)]
        vps = [x for x in items if isinstance(x, VertexProperty)]
        ps = [x for x in items if isinstance(x, Property)]
        if es:
            _store_call(conn.remove_edges, es)
        if vs:
            _store_call(conn.remove_vertices, vs)
        if vps:
            _store_call(conn.remove_vertex_properties, vps)
        if ps:
            _store_call(conn.remove_properties, ps)
        return
        yield


step("drop")(lambda c, a: DropStep())


# -- mergeV / mergeE -----------------------------------------------------------------------------


def _check_map(m: Any, what: str, allowed_tokens: tuple) -> dict:
    if m is None:
        return {}
    if not isinstance(m, dict):
        raise GremlinTypeError(f"{what} expects a Map, got {type(m).__name__} {m!r}")
    for k, v in m.items():
        if isinstance(k, str) and k.startswith("~"):
            raise GremlinArgumentError(f"Property key can not be a hidden key: {k}")
        if k is T.label and isinstance(v, str) and v.startswith("~"):
            raise GremlinArgumentError(f"Label can not be a hidden key: {v}")
        if isinstance(k, (T, Direction)) and k not in allowed_tokens:
            raise GremlinArgumentError(f"{what} does not allow {k!r} as a key")
        if not isinstance(k, (str, T, Direction)):
            raise GremlinArgumentError(f"{what} keys must be strings or tokens, got {k!r}")
    return m


class _MergeBase(MutatingStep):
    path_extending = True

    def __init__(self, spec: Any) -> None:
        super().__init__()
        self.spec = spec
        self.on_create: Any = None
        self.on_match: Any = None
        self.out_v: Any = MISSING
        self.in_v: Any = MISSING
        self.is_start = False
        self.partition: tuple[str, Any, list[Any]] | None = None
        """PartitionStrategy: (key, write partition, read partitions)."""

    def _in_partition(self, ctx: Context, els: list[Any]) -> list[Any]:
        if self.partition is None or not els:
            return els
        key, _, reads = self.partition
        props = ctx.load_properties(els, [key])
        return [
            e
            for e, ps in zip(els, props, strict=True)
            if any(any(sem.equals(p.value, r) for r in reads) for p in ps)
        ]

    def _stamp(self, ctx: Context, el: Any) -> None:
        if self.partition is not None:
            key, write, _ = self.partition
            set_property(ctx, el, None, key, write, [])

    def accepts(self, name: str) -> bool:
        return name == "option"

    def modulate(self, c: Any, name: str, args: tuple) -> None:
        key, val = args[0], args[1] if len(args) > 1 else None
        if isinstance(val, Bytecode):
            val = c.child(val)
        elif isinstance(val, dict):
            for k in val:
                if isinstance(k, str) and k.startswith("~"):
                    raise GremlinArgumentError(f"Property key can not be a hidden key: {k}")
            label = val.get(T.label)
            if isinstance(label, str) and label.startswith("~"):
                raise GremlinArgumentError(f"Label can not be a hidden key: {label}")
        if key is Merge.onCreate:
            self.on_create = val
        elif key is Merge.onMatch:
            self.on_match = val
        elif key is Merge.outV:
            self.out_v = val
        elif key is Merge.inV:
            self.in_v = val
        else:
            raise GremlinArgumentError(f"{self.name}().option() does not take {key!r}")

    def _spec_for(self, ctx: Context, spec: Any, t: Trav | None) -> Any:
        if spec is MISSING:
            return t.value if t is not None else {}
        if isinstance(spec, Pipeline):
            return ctx.child_first(spec, [t or Trav(None)])[0]
        return spec

    def apply(self, it: Iterator[list[Trav]], ctx: Context) -> Iterator[list[Trav]]:
        _writable(ctx, self.name)
        if self.is_start:
            it = iter([[Trav(None, 1, (), (), ctx.new_sack())]])
        for batch in it:
            out = []
            for t in batch:
                ctx.tick()
                for el in self.merge(ctx, None if self.is_start else t):
                    n = (
                        t.split(el, ctx)
                        if not self.is_start
                        else Trav(el, 1, ((el, frozenset()),) if ctx.full_paths else (), (), ctx.new_sack())
                    )
                    out.append(n)
            if out:
                yield out

    def merge(self, ctx: Context, t: Trav | None) -> list[Any]:
        raise NotImplementedError


def _props_match(ctx: Context, els: list[Any], props: dict) -> list[Any]:
    if not props or not els:
        return els
    loaded = ctx.load_properties(els, list(props))
    out = []
    for el, ps in zip(els, loaded, strict=True):
        ok = True
        for k, v in props.items():
            if isinstance(v, CardinalityValue):
                v = v.value
            if not any(p.key == k and sem.equals(p.value, v) for p in ps):
                ok = False
                break
        if ok:
            out.append(el)
    return out


def _no_override(spec: dict, on_create: Any) -> None:
    """A constant onCreate map may not contradict the merge() argument, matched or not."""
    if not isinstance(on_create, dict):
        return
    for k, val in on_create.items():
        if k in spec and not sem.equals(spec[k], val):
            raise GremlinArgumentError(
                f"option(onCreate) cannot override values from merge() argument: {k!r}"
            )


class MergeVertexStep(_MergeBase):
    name = "mergeV"

    def merge(self, ctx: Context, t: Trav | None) -> list[Any]:
        spec = _check_map(self._spec_for(ctx, self.spec, t), "mergeV()", (T.id, T.label))
        _no_override(spec, self.on_create)
        conn = ctx.conn
        props = {k: v for k, v in spec.items() if isinstance(k, str)}
        q = ElementQuery(
            ids=[spec[T.id]] if T.id in spec else None,
            labels=[spec[T.label]] if T.label in spec else None,
            filters=tuple(
                PropertyFilter(k, "eq", v)
                for k, v in props.items()
                if v is not None and not isinstance(v, (CardinalityValue, list, dict, set))
            ),
        )
        if T.id in spec and spec[T.id] is None:
            found = []
        else:
            found = self._in_partition(ctx, _props_match(ctx, list(conn.vertices(q)), props))
        if found:
            if self.on_match is not None:
                for v in found:
                    m = self._spec_for(ctx, self.on_match, Trav(v, 1, t.path if t else (), (), None))
                    m = _check_map(m, "mergeV() onMatch", ())
                    for k, val in m.items():
                        if isinstance(val, CardinalityValue):
                            set_property(ctx, v, val.cardinality, k, val.value, [])
                        else:
                            set_property(ctx, v, Cardinality.single, k, val, [])
                    v.properties = None
            return found
        create = dict(spec)
        if self.on_create is not None:
            extra = _check_map(self._spec_for(ctx, self.on_create, t), "mergeV() onCreate", (T.id, T.label))
            for k, val in extra.items():
                if k in spec and not sem.equals(spec[k], val):
                    raise GremlinArgumentError(
                        f"option(onCreate) cannot override values from merge() argument: {k!r}"
                    )
                create[k] = val
        label = create.get(T.label, "vertex")
        v = _store_call(conn.add_vertex, label, create.get(T.id))
        self._stamp(ctx, v)
        for k, val in create.items():
            if isinstance(k, str) and val is not None:
                if isinstance(val, CardinalityValue):
                    set_property(ctx, v, val.cardinality, k, val.value, [])
                else:
                    set_property(ctx, v, Cardinality.single, k, val, [])
        v.properties = None
        return [v]


@step("mergeV")
def _merge_v(c: Any, args: tuple) -> Step:
    spec = args[0] if args else MISSING
    if isinstance(spec, Bytecode):
        spec = c.child(spec)
    elif spec is not MISSING and spec is not None:
        _check_map(spec, "mergeV()", (T.id, T.label))
    return MergeVertexStep(spec if spec is not None else {})


class MergeEdgeStep(_MergeBase):
    name = "mergeE"

    def _vertex(self, ctx: Context, v: Any, which: str, t: Trav | None) -> Vertex:
        if v is Merge.outV or v is Merge.inV:
            placeholder = self.out_v if v is Merge.outV else self.in_v
            if placeholder is MISSING:
                raise GremlinArgumentError(f"mergeE() uses {v!r} without option({v!r}, ...)")
            v = self._spec_for(ctx, placeholder, t)
            if isinstance(v, dict):
                found = list(
                    ctx.conn.vertices(
                        ElementQuery(
                            ids=[v[T.id]] if T.id in v else None,
                            labels=[v[T.label]] if T.label in v else None,
                            filters=tuple(
                                PropertyFilter(k, "eq", x) for k, x in v.items() if isinstance(k, str)
                            ),
                        )
                    )
                )
                if not found:
                    raise GremlinArgumentError(f"mergeE(): no vertex matches {v!r} for {which}")
                return found[0]
        if isinstance(v, Vertex):
            return v
        found = list(ctx.conn.vertices(ElementQuery(ids=[v])))
        if not found:
            # TinkerPop's wording first (clients match on it), then which end and why
            raise GremlinArgumentError(
                f"Vertex id could not be resolved from mergeE: {v!r} (the {which} vertex does not exist)"
            )
        return found[0]

    def merge(self, ctx: Context, t: Trav | None) -> list[Any]:
        allowed = (T.id, T.label, Direction.OUT, Direction.IN)
        spec = _check_map(self._spec_for(ctx, self.spec, t), "mergeE()", allowed)
        _no_override(spec, self.on_create)
        conn = ctx.conn
        props = {k: v for k, v in spec.items() if isinstance(k, str)}
        out_v = self._vertex(ctx, spec[Direction.OUT], "out", t) if Direction.OUT in spec else None
        in_v = self._vertex(ctx, spec[Direction.IN], "in", t) if Direction.IN in spec else None
        label = spec.get(T.label)
        if T.id in spec:
            cands = list(conn.edges(ElementQuery(ids=[spec[T.id]])))
        elif out_v is not None:
            cands = conn.incident_edges([out_v], Direction.OUT, [label] if label else None)[0]
        elif in_v is not None:
            cands = conn.incident_edges([in_v], Direction.IN, [label] if label else None)[0]
        else:
            cands = list(conn.edges(ElementQuery(labels=[label] if label else None)))
        cands = [
            e
            for e in cands
            if (label is None or e.label == label)
            and (out_v is None or e.out_v == out_v)
            and (in_v is None or e.in_v == in_v)
        ]
        found = self._in_partition(ctx, _props_match(ctx, cands, props))
        if found:
            if self.on_match is not None:
                for e in found:
                    m = _check_map(
                        self._spec_for(ctx, self.on_match, Trav(e, 1, t.path if t else (), (), None)),
                        "mergeE() onMatch",
                        (),
                    )
                    for k, val in m.items():
                        set_property(ctx, e, None, k, val, [])
                    e.properties = None
            return found
        create = dict(spec)
        if self.on_create is not None:
            extra = _check_map(self._spec_for(ctx, self.on_create, t), "mergeE() onCreate", allowed)
            for k, val in extra.items():
                if k in spec and not sem.equals(spec[k], val):
                    raise GremlinArgumentError(
                        f"option(onCreate) cannot override values from merge() argument: {k!r}"
                    )
                create[k] = val
        if out_v is None:
            if Direction.OUT not in create:
                raise GremlinArgumentError("Out Vertex not specified in mergeE()")
            out_v = self._vertex(ctx, create[Direction.OUT], "out", t)
        if in_v is None:
            if Direction.IN not in create:
                raise GremlinArgumentError("In Vertex not specified in mergeE()")
            in_v = self._vertex(ctx, create[Direction.IN], "in", t)
        lab = create.get(T.label, "edge")
        e = _store_call(conn.add_edge, lab, out_v, in_v, create.get(T.id))
        self._stamp(ctx, e)
        for k, val in create.items():
            if isinstance(k, str) and val is not None:
                set_property(ctx, e, None, k, val, [])
        e.properties = None
        return [e]


@step("mergeE")
def _merge_e(c: Any, args: tuple) -> Step:
    spec = args[0] if args else MISSING
    if isinstance(spec, Bytecode):
        spec = c.child(spec)
    elif spec is not MISSING and spec is not None:
        _check_map(spec, "mergeE()", (T.id, T.label, Direction.OUT, Direction.IN))
    return MergeEdgeStep(spec if spec is not None else {})
