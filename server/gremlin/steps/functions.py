"""Value functions: math(), string steps (concat, split, toUpper, ...), type casts (asString,
asNumber, asBool, asDate), dates (dateAdd, dateDiff) and list steps (combine, difference,
disjunct, intersect, conjoin, merge, product, reverse, length). Each is a map step; ``local``
scope applies a string step to every item of a list."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import uuid
from typing import Any

from server.gremlin import semantics as sem
from server.gremlin.compiler import step
from server.gremlin.errors import GremlinArgumentError, GremlinTypeError
from server.gremlin.ir import Bytecode
from server.gremlin.runtime import MISSING, Context, Pipeline, Step, Trav
from server.gremlin.steps.map import by_one, scope_value
from server.structure import DT, GType, Path, Scope
from server.structure.values import (
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    BigInt,
    Float32,
    Int8,
    Int16,
    Int64,
    is_number,
)


class ValueFnStep(Step):
    """Maps each value with ``fn(value, traverser, ctx)``; MISSING drops the traverser."""

    path_extending = True

    def __init__(self, name: str, fn: Any, local: bool = False) -> None:
        super().__init__()
        self.name = name
        self.fn = fn
        self.local = local

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        out = []
        for t in batch:
            v = t.value
            if self.local and isinstance(v, (list, tuple)):
                r = [self.fn(x, t, ctx) for x in v]
            else:
                r = self.fn(v, t, ctx)
            if r is not MISSING:
                out.append(t.split(r, ctx))
        return out


def _string_fn(name: str, fn: Any, local: bool = False) -> Any:
    def run(v: Any, t: Trav, ctx: Context) -> Any:
        if v is None:
            return None
        if not isinstance(v, str):
            if local:
                raise GremlinTypeError(
                    f"The {name}(local) step can only take string or list of strings, encountered "
                    f"{type(v).__name__}"
                )
            raise GremlinTypeError(
                f"The {name}() step can only take string as argument, encountered {type(v).__name__}"
            )
        return fn(v)

    return run


def _register_string(name: str, fn: Any) -> None:
    def build(c: Any, args: tuple) -> Step:
        local = bool(args) and args[0] is Scope.local
        return ValueFnStep(name, _string_fn(name, fn, local), local)

    step(name)(build)


_register_string("toUpper", str.upper)
_register_string("toLower", str.lower)
_register_string("trim", lambda s: s.strip())
_register_string("lTrim", lambda s: s.lstrip())
_register_string("rTrim", lambda s: s.rstrip())


@step("length")
def _length(c: Any, args: tuple) -> Step:
    local = bool(args) and args[0] is Scope.local
    return ValueFnStep("length", _string_fn("length", lambda s: len(s), local), local)


@step("reverse")
def _reverse(c: Any, args: tuple) -> Step:
    def fn(v: Any, t: Trav, ctx: Context) -> Any:
        if v is None:
            return None
        if isinstance(v, str):
            return v[::-1]
        if isinstance(v, (list, tuple)):
            return list(reversed(v))
        if isinstance(v, Path):
            return list(reversed(v.objects))
        return v

    return ValueFnStep("reverse", fn)


@step("replace")
def _replace(c: Any, args: tuple) -> Step:
    local = bool(args) and args[0] is Scope.local
    if local:
        args = args[1:]
    old, new = args[0], args[1]
    return ValueFnStep(
        "replace",
        _string_fn("replace", lambda s: s if old is None else s.replace(old, new or ""), local),
        local,
    )


@step("split")
def _split(c: Any, args: tuple) -> Step:
    local = bool(args) and args[0] is Scope.local
    if local:
        args = args[1:]
    sep = args[0]

    def fn(s: str) -> Any:
        if sep is None:
            return s.split()
        if sep == "":
            return list(s)
        return s.split(sep)

    return ValueFnStep("split", _string_fn("split", fn, local), local)


@step("substring")
def _substring(c: Any, args: tuple) -> Step:
    local = bool(args) and args[0] is Scope.local
    if local:
        args = args[1:]
    start = int(args[0])
    end = int(args[1]) if len(args) > 1 and args[1] is not None else None

    def fn(s: str) -> Any:
        n = len(s)
        a = start if start >= 0 else max(n + start, 0)
        if end is None:
            return s[a:]
        b = end if end >= 0 else n + end
        b = min(b, n)
        return s[a:b] if b > a else ""

    return ValueFnStep("substring", _string_fn("substring", fn, local), local)


@step("concat")
def _concat(c: Any, args: tuple) -> Step:
    parts = [c.child(a) if isinstance(a, Bytecode) else a for a in args]

    class ConcatStep(Step):
        name = "concat"
        path_extending = True

        def children(self) -> list[Pipeline]:
            return [p for p in parts if isinstance(p, Pipeline)]

        def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
            cols = []
            for p in parts:
                if isinstance(p, Pipeline):
                    cols.append(ctx.child_first(p, batch))
                else:
                    cols.append([p] * len(batch))
            out = []
            for i, t in enumerate(batch):
                v = t.value
                if v is not None and not isinstance(v, str):
                    raise GremlinTypeError(
                        f"String concat() can only take string as argument, encountered {type(v).__name__}"
                    )
                s = v if v is not None else None
                pieces = [s] + [col[i] for col in cols]
                pieces = [x for x in pieces if x is not None and x is not MISSING]
                for x in pieces:
                    if not isinstance(x, str):
                        raise GremlinTypeError(f"The concat() step can only concatenate strings, got {x!r}")
                if s is None and not pieces:
                    out.append(t.split(None, ctx))
                else:
                    out.append(t.split("".join(pieces), ctx))
            return out

    return ConcatStep()


@step("format")
def _format(c: Any, args: tuple) -> Step:
    template = args[0]
    pattern = re.compile(r"%\{(.*?)\}")

    class FormatStep(Step):
        name = "format"
        path_extending = True

        def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
            out = []
            for t in batch:
                s = self._format(ctx, t)
                if s is not MISSING:
                    out.append(t.split(s, ctx))
            return out

        def _format(self, ctx: Context, t: Trav) -> Any:
            from server.gremlin.runtime import apply_function
            from server.structure import Edge, Vertex, VertexProperty

            pieces: list[str] = []
            pos = 0
            byi = 0
            for m in pattern.finditer(template):
                name = m.group(1)
                v = t.value
                val: Any = MISSING
                if name == "_":
                    val = v
                elif isinstance(v, dict) and name in v:
                    val = v[name]
                elif isinstance(v, (Vertex, Edge, VertexProperty)):
                    val = apply_function(ctx, "key", name, [v])[0]
                if val is MISSING:
                    val = scope_value(ctx, t, name)
                if val is not MISSING and self.bys and name == "_":
                    val = by_one(ctx, self.by_at(byi), val, t)
                    byi += 1
                if val is MISSING:
                    return MISSING
                pieces.append(template[pos : m.start()])
                pieces.append(_to_string(val))
                pos = m.end()
            pieces.append(template[pos:])
            return "".join(pieces)

    return FormatStep()


def _to_string(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return repr(float(v))
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, dt.datetime):
        s = v.isoformat()
        return s.replace("+00:00", "Z")
    if isinstance(v, list):
        return "[" + ", ".join(_to_string(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_to_string(k)}={_to_string(x)}" for k, x in v.items()) + "}"
    if hasattr(v, "label") and hasattr(v, "id") and type(v).__name__ == "Vertex":
        return f"v[{v.id}]"
    if type(v).__name__ == "Edge":
        return f"e[{v.id}][{v.out_v.id}-{v.label}->{v.in_v.id}]"
    if type(v).__name__ == "VertexProperty":
        return f"vp[{v.label}->{_to_string(v.value)}]"
    return str(v)


@step("asString")
def _as_string(c: Any, args: tuple) -> Step:
    local = bool(args) and args[0] is Scope.local

    def fn(v: Any, t: Trav, ctx: Context) -> Any:
        if v is None:
            raise GremlinTypeError("Can't parse null as String.")
        return _to_string(v)

    return ValueFnStep("asString", fn, local)


# -- asNumber / asBool / asDate ----------------------------------------------------------------------

_GTYPE_RANK = {
    GType.BYTE: 0,
    GType.SHORT: 1,
    GType.INT: 2,
    GType.LONG: 3,
    GType.BIGINT: 4,
    GType.FLOAT: 5,
    GType.DOUBLE: 6,
    GType.BIGDECIMAL: 7,
}
_BOUNDS = {0: (-128, 127), 1: (-(2**15), 2**15 - 1), 2: (INT32_MIN, INT32_MAX), 3: (INT64_MIN, INT64_MAX)}
_CLS = {0: Int8, 1: Int16, 2: int, 3: Int64, 4: BigInt}


_JAVA_TARGET = {
    GType.BYTE: "Byte",
    GType.SHORT: "Short",
    GType.INT: "Integer",
    GType.LONG: "Long",
    GType.BIGINT: "BigInteger",
    GType.FLOAT: "Float",
    GType.DOUBLE: "Double",
    GType.BIGDECIMAL: "BigDecimal",
}


def _java(v: Any) -> str:
    """The Java class name TinkerPop's messages use for a value."""
    if isinstance(v, bool):
        return "Boolean"
    if isinstance(v, Int8):
        return "Byte"
    if isinstance(v, Int16):
        return "Short"
    if isinstance(v, Int64):
        return "Long"
    if isinstance(v, BigInt):
        return "BigInteger"
    if isinstance(v, Float32):
        return "Float"
    if isinstance(v, int):
        return "Integer" if INT32_MIN <= v <= INT32_MAX else "Long"
    if isinstance(v, float):
        return "Double"
    if isinstance(v, decimal.Decimal):
        return "BigDecimal"
    if isinstance(v, str):
        return "String"
    if isinstance(v, (list, tuple)):
        return "ArrayList"
    if isinstance(v, dict):
        return "LinkedHashMap"
    if isinstance(v, (set, frozenset)):
        return "LinkedHashSet"
    return type(v).__name__


def _parse_number(s: str) -> Any:
    s2 = s.strip()
    if re.fullmatch(r"[+-]?0[xX][0-9a-fA-F]+", s2):
        n = int(s2, 16)
        return n if INT32_MIN <= n <= INT32_MAX else Int64(n)
    try:
        if re.fullmatch(r"[+-]?\d+", s2):
            n = int(s2)
            return (
                n if INT32_MIN <= n <= INT32_MAX else (Int64(n) if INT64_MIN <= n <= INT64_MAX else BigInt(n))
            )
        return float(s2) if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", s2) else None
    except ValueError:
        return None


def as_number(v: Any, target: GType | None) -> Any:
    if target is not None and target not in _GTYPE_RANK and target is not GType.NUMBER:
        raise GremlinArgumentError(f"asNumber() requires a numeric type token, got {target.value}")
    if v is None:
        if target is not None:
            return None
        raise GremlinTypeError("Can't parse null as number.")
    if isinstance(v, dt.datetime):
        v = Int64(int(v.timestamp() * 1000))
    if isinstance(v, bool) or not (is_number(v) or isinstance(v, str)):
        raise GremlinTypeError(f"Can't parse type {_java(v)} as number.")
    if isinstance(v, str):
        parsed = _parse_number(v)
        if parsed is None:
            raise GremlinTypeError(f"Can't parse string '{v}' as number.")
        v = parsed
    if target is None:
        return v
    rank = _GTYPE_RANK.get(target)
    if rank is None:
        raise GremlinArgumentError(f"asNumber() requires a numeric type token, got {target.value}")
    if rank <= 4:
        if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
            raise GremlinTypeError(f"Can't convert {v} to {target.value}")
        n = int(v)
        if rank < 4:
            lo, hi = _BOUNDS[rank]
            if not lo <= n <= hi:
                raise GremlinTypeError(
                    f"Can't convert number of type {_java(v)} to {_JAVA_TARGET[target]} due to overflow."
                )
        cls = _CLS[rank]
        return n if cls is int else cls(n)
    if rank == 5:
        f = float(v)
        if math.isfinite(f) and abs(f) > 3.4028234663852886e38:
            raise GremlinTypeError(f"Can't convert number of type {_java(v)} to Float due to overflow.")
        return Float32(f)
    if rank == 6:
        return float(v)
    return decimal.Decimal(str(v))


@step("asNumber")
def _as_number(c: Any, args: tuple) -> Step:
    target = args[0] if args else None
    return ValueFnStep("asNumber", lambda v, t, ctx: as_number(v, target))


@step("asBool")
def _as_bool(c: Any, args: tuple) -> Step:
    def fn(v: Any, t: Trav, ctx: Context) -> Any:
        if v is None:
            raise GremlinTypeError("Can't parse null as Boolean.")
        if isinstance(v, bool):
            return v
        if is_number(v):
            if sem.is_nan(v):
                return False
            return v != 0
        if isinstance(v, str):
            low = v.lower()
            if low == "true":
                return True
            if low == "false":
                return False
            raise GremlinTypeError(f"Can't parse {v} as Boolean.")
        raise GremlinTypeError(f"Can't parse type {_java(v)} as Boolean.")

    return ValueFnStep("asBool", fn)


def parse_date(s: str) -> dt.datetime:
    text = s.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        d = dt.datetime.fromisoformat(text)
    except ValueError:
        raise GremlinTypeError(f"Can't parse {s!r} as Date.") from None
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.UTC)
    return d


@step("asDate")
def _as_date(c: Any, args: tuple) -> Step:
    def fn(v: Any, t: Trav, ctx: Context) -> Any:
        if v is None:
            raise GremlinTypeError("Can't parse null as Date.")
        if isinstance(v, dt.datetime):
            return v if v.tzinfo else v.replace(tzinfo=dt.UTC)
        if isinstance(v, str):
            return parse_date(v)
        if is_number(v) and not isinstance(v, (float, decimal.Decimal, Float32)):
            return dt.datetime.fromtimestamp(int(v) / 1000.0, tz=dt.UTC)
        raise GremlinTypeError(f"Can't parse type {_java(v)} as Date.")

    return ValueFnStep("asDate", fn)


_DT_UNITS = {DT.second: "seconds", DT.minute: "minutes", DT.hour: "hours", DT.day: "days"}


@step("dateAdd")
def _date_add(c: Any, args: tuple) -> Step:
    unit, n = args[0], int(args[1])

    def fn(v: Any, t: Trav, ctx: Context) -> Any:
        if not isinstance(v, dt.datetime):
            raise GremlinTypeError(f"The dateAdd() step can only take a date, got {v!r}")
        return v + dt.timedelta(**{_DT_UNITS[unit]: n})

    return ValueFnStep("dateAdd", fn)


@step("dateDiff")
def _date_diff(c: Any, args: tuple) -> Step:
    other = args[0]
    pipe = c.child(other) if isinstance(other, Bytecode) else None

    class DateDiffStep(Step):
        name = "dateDiff"
        path_extending = True

        def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
            others = ctx.child_first(pipe, batch) if pipe is not None else [other] * len(batch)
            out = []
            for t, o in zip(batch, others, strict=True):
                v = t.value
                if not isinstance(v, dt.datetime):
                    raise GremlinTypeError(f"The dateDiff() step can only take a date, got {v!r}")
                if o is MISSING or o is None:
                    o = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
                if not isinstance(o, dt.datetime):
                    raise GremlinTypeError(f"dateDiff() needs a date to compare with, got {o!r}")
                a = v if v.tzinfo else v.replace(tzinfo=dt.UTC)
                b = o if o.tzinfo else o.replace(tzinfo=dt.UTC)
                out.append(t.split(Int64((a - b) // dt.timedelta(milliseconds=1)), ctx))
            return out

    return DateDiffStep()


# -- list functions ---------------------------------------------------------------------------------


def _iterable(v: Any) -> list[Any] | None:
    if isinstance(v, Path):
        return list(v.objects)
    if isinstance(v, (list, tuple, set, frozenset)):
        return list(v)
    return None


def _list_arg_step(name: str, fn: Any, maps: bool = False) -> None:
    """A step combining the incoming list with an argument list (constant or traversal), with
    TinkerPop's error messages for the wrong kinds of input."""

    def build(c: Any, args: tuple) -> Step:
        arg = args[0] if args else None
        pipe = c.child(arg) if isinstance(arg, Bytecode) else None
        if pipe is None:
            if arg is None:
                raise GremlinArgumentError(f"Argument provided for {name} step can't be null.")
            if not (isinstance(arg, (list, tuple, set, frozenset)) or (maps and isinstance(arg, dict))):
                raise GremlinArgumentError(
                    f"{name} step can only take an array or an Iterable as an argument, "
                    f"encountered {type(arg).__name__}"
                )

        class ListStep(Step):
            path_extending = True

            def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
                others = ctx.child_first(pipe, batch) if pipe is not None else [arg] * len(batch)
                out = []
                for t, o in zip(batch, others, strict=True):
                    v = t.value
                    if v is None:
                        raise GremlinTypeError(f"Incoming traverser for {name} step can't be null.")
                    if maps and isinstance(v, dict):
                        if not isinstance(o, dict):
                            raise GremlinTypeError(
                                f"{name} step expected provided argument to evaluate to a Map, "
                                f"encountered {type(o).__name__}"
                            )
                        merged = dict(v)
                        merged.update(o)
                        out.append(t.split(merged, ctx))
                        continue
                    items = _iterable(v)
                    if items is None:
                        raise GremlinTypeError(
                            f"{name} step can only take an array or an Iterable type for incoming "
                            f"traversers, encountered {type(v).__name__}"
                        )
                    if o is MISSING or o is None:
                        raise GremlinTypeError(
                            f"traversal argument for {name} step must yield an iterable type, not null"
                        )
                    if isinstance(o, dict) and maps:
                        raise GremlinTypeError(
                            "step type mismatch: expected argument to be Iterable but got Map"
                        )
                    other = _iterable(o)
                    if other is None:
                        raise GremlinTypeError(
                            f"traversal argument for {name} step must yield an iterable type, "
                            f"encountered {type(o).__name__}"
                        )
                    out.append(t.split(fn(items, other), ctx))
                return out

        s = ListStep()
        s.name = name
        return s

    step(name)(build)


def _uniq(items: list[Any]) -> list[Any]:
    seen: set = set()
    out = []
    for x in items:
        k = sem.hkey(x)
        if k not in seen:
            seen.add(k)
            out.append(x)
    return out


def _contains(items: list[Any], x: Any) -> bool:
    k = sem.hkey(x)
    return any(sem.hkey(y) == k for y in items)


_list_arg_step("combine", lambda a, b: a + list(b))
_list_arg_step("merge", lambda a, b: set(_uniq(a + list(b))), maps=True)
_list_arg_step("difference", lambda a, b: {x for x in _uniq(a) if not _contains(list(b), x)})
_list_arg_step(
    "disjunct",
    lambda a, b: set(
        [x for x in _uniq(a) if not _contains(list(b), x)]
        + [x for x in _uniq(list(b)) if not _contains(a, x)]
    ),
)
_list_arg_step("intersect", lambda a, b: {x for x in _uniq(a) if _contains(list(b), x)})
_list_arg_step("product", lambda a, b: [[x, y] for x in a for y in b])


@step("conjoin")
def _conjoin(c: Any, args: tuple) -> Step:
    sep = args[0]
    if not isinstance(sep, str):
        raise GremlinArgumentError(f"conjoin() needs a string delimiter, got {sep!r}")

    def fn(v: Any, t: Trav, ctx: Context) -> Any:
        if v is None:
            raise GremlinTypeError("Incoming traverser for conjoin step can't be null.")
        items = _iterable(v)
        if items is None:
            raise GremlinTypeError(
                "conjoin step can only take an array or an Iterable type for incoming traversers, "
                f"encountered {type(v).__name__}"
            )
        return sep.join(_to_string(x) for x in items if x is not None)

    return ValueFnStep("conjoin", fn)


# -- math ----------------------------------------------------------------------------------------

_FUNCS = {
    "abs": abs,
    "acos": math.acos,
    "asin": math.asin,
    "atan": math.atan,
    "cbrt": lambda x: math.copysign(abs(x) ** (1 / 3), x),
    "ceil": math.ceil,
    "cos": math.cos,
    "cosh": math.cosh,
    "exp": math.exp,
    "floor": math.floor,
    "log": math.log,
    "log10": math.log10,
    "log2": math.log2,
    "sin": math.sin,
    "sinh": math.sinh,
    "sqrt": math.sqrt,
    "tan": math.tan,
    "tanh": math.tanh,
    "signum": lambda x: float((x > 0) - (x < 0)),
}
_TOKEN = re.compile(r"\s*(?:(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+)|([A-Za-z_][A-Za-z_0-9]*)|(.))")


class MathExpr:
    """A parsed math() expression (recursive descent; no eval)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str]] = []
        for m in _TOKEN.finditer(text):
            if m.group(1):
                self.tokens.append(("num", m.group(1)))
            elif m.group(2):
                self.tokens.append(("name", m.group(2)))
            elif m.group(3) and not m.group(3).isspace():
                self.tokens.append(("op", m.group(3)))
        self.variables: list[str] = []
        for i, (kind, val) in enumerate(self.tokens):
            self.tokens[i + 1] if i + 1 < len(self.tokens) else None
            if kind == "name" and val not in _FUNCS and val not in self.variables:
                if val not in ("pi", "e"):
                    self.variables.append(val)
        self.pos = 0
        self.env: dict[str, float] = {}

    def evaluate(self, env: dict[str, float]) -> float:
        self.pos = 0
        self.env = env
        v = self._expr()
        if self.pos != len(self.tokens):
            raise GremlinArgumentError(f"Invalid math() expression: {self.text!r}")
        return v

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _expr(self) -> float:
        v = self._term()
        while (p := self._peek()) and p in (("op", "+"), ("op", "-")):
            self.pos += 1
            r = self._term()
            v = v + r if p[1] == "+" else v - r
        return v

    def _term(self) -> float:
        v = self._power()
        while (p := self._peek()) and p in (("op", "*"), ("op", "/"), ("op", "%")):
            self.pos += 1
            r = self._power()
            if p[1] == "*":
                v = v * r
            elif p[1] == "/":
                v = v / r if r != 0 else (math.copysign(math.inf, v) if v != 0 else math.nan)
            else:
                v = math.fmod(v, r)
        return v

    def _power(self) -> float:
        v = self._unary()
        if self._peek() == ("op", "^"):
            self.pos += 1
            return v ** self._power()
        return v

    def _unary(self) -> float:
        p = self._peek()
        if p == ("op", "-"):
            self.pos += 1
            return -self._unary()
        if p == ("op", "+"):
            self.pos += 1
            return self._unary()
        return self._atom()

    def _atom(self) -> float:
        p = self._peek()
        if p is None:
            raise GremlinArgumentError(f"Invalid math() expression: {self.text!r}")
        self.pos += 1
        kind, val = p
        if kind == "num":
            return float(val)
        if kind == "name":
            if self._peek() == ("op", "("):
                self.pos += 1
                arg = self._expr()
                self._expect(")")
                fn = _FUNCS.get(val)
                if fn is None:
                    raise GremlinArgumentError(f"Unknown math() function {val!r}")
                return float(fn(arg))
            if val in _FUNCS:
                return float(_FUNCS[val](self._unary()))
            if val in self.env:
                return self.env[val]
            if val == "pi":
                return math.pi
            if val == "e":
                return math.e
            raise GremlinArgumentError(f"Unknown math() variable {val!r}")
        if val == "(":
            v = self._expr()
            self._expect(")")
            return v
        raise GremlinArgumentError(f"Invalid math() expression: {self.text!r}")

    def _expect(self, op: str) -> None:
        if self._peek() != ("op", op):
            raise GremlinArgumentError(f"Invalid math() expression: {self.text!r}")
        self.pos += 1


class MathStep(Step):
    name = "math"
    path_extending = True

    def __init__(self, expr: str) -> None:
        super().__init__()
        self.expr = MathExpr(expr)

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        out = []
        for t in batch:
            env = {}
            ok = True
            for i, name in enumerate(self.expr.variables):
                val = t.value if name == "_" else scope_value(ctx, t, name)
                if val is MISSING:
                    ok = False
                    break
                if self.bys:
                    val = by_one(ctx, self.by_at(i), val, t)
                    if val is MISSING:
                        ok = False
                        break
                if not is_number(val):
                    raise GremlinTypeError(
                        f"The math() step needs numbers, got {type(val).__name__} {val!r} for {name}"
                    )
                env[name] = float(val)
            if ok:
                out.append(t.split(self.expr.evaluate(env), ctx))
        return out


step("math")(lambda c, a: MathStep(a[0]))

_ = (uuid, Path)
