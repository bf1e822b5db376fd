"""Evaluation of ``P`` and ``TextP`` predicates, with TinkerPop's ternary logic.

``test(p, value)`` returns True, False, or None for the *error* state (comparing a string with a
number, a text predicate on a non-string). Filters drop both False and None; ``not`` keeps None as
None, so ``P.not(P.lt(1))`` on a string is still filtered out, as in TinkerPop.
"""

from __future__ import annotations

import re
from typing import Any

from server.gremlin import semantics as sem
from server.gremlin.errors import GremlinArgumentError
from server.gremlin.ir import P, TextP
from server.store.interface import PropertyFilter


def _cmp(value: Any, operand: Any) -> int | None:
    return sem.compare(value, operand)


_ORDERING = {"lt": (0).__gt__, "lte": (0).__ge__, "gt": (0).__lt__, "gte": (0).__le__}
"""P.lt & co. on a comparison result c: 0 > c, 0 >= c, 0 < c, 0 <= c."""


def test(p: Any, value: Any) -> bool | None:
    """Whether ``value`` satisfies predicate ``p`` (a P, a TextP, or a plain value meaning eq)."""
    if not isinstance(p, (P, TextP)):
        return sem.equals(value, p)
    name, args = p.name, p.args
    if name == "and":
        results = [test(q, value) for q in args]
        if any(r is False for r in results):
            return False
        return None if any(r is None for r in results) else True
    if name == "or":
        results = [test(q, value) for q in args]
        if any(r is True for r in results):
            return True
        return None if any(r is None for r in results) else False
    if name == "not":
        r = test(args[0], value)
        return None if r is None else not r
    if isinstance(p, TextP):
        return _text(name, args, value)
    if name == "eq":
        return sem.equals(value, args[0])
    if name == "neq":
        return not sem.equals(value, args[0])
    if name == "within":
        return any(sem.equals(value, a) for a in _flat(args))
    if name == "without":
        return not any(sem.equals(value, a) for a in _flat(args))
    if name in _ORDERING:
        c = sem.compare(value, args[0])
        return None if c is None else _ORDERING[name](c)
    if name in ("between", "inside", "outside"):
        lo, hi = _cmp(value, args[0]), _cmp(value, args[1])
        if lo is None or hi is None:
            return None
        if name == "between":
            return lo >= 0 and hi < 0
        if name == "inside":
            return lo > 0 and hi < 0
        return lo < 0 or hi > 0
    if name == "typeOf":
        from server.gremlin.types import type_matches

        return type_matches(value, args[0])
    raise GremlinArgumentError(f"unknown predicate P.{name}")


def _flat(args: tuple) -> list:
    if len(args) == 1 and isinstance(args[0], (list, tuple, set, frozenset)):
        return list(args[0])
    return list(args)


def _text(name: str, args: tuple, value: Any) -> bool | None:
    if not isinstance(value, str) or not isinstance(args[0], str):
        return None
    arg = args[0]
    if name == "containing":
        return arg in value
    if name == "notContaining":
        return arg not in value
    if name == "startingWith":
        return value.startswith(arg)
    if name == "notStartingWith":
        return not value.startswith(arg)
    if name == "endingWith":
        return value.endswith(arg)
    if name == "notEndingWith":
        return not value.endswith(arg)
    if name == "regex":
        return re.search(arg, value) is not None
    if name == "notRegex":
        return re.search(arg, value) is None
    raise GremlinArgumentError(f"unknown predicate TextP.{name}")


def accepts(p: Any, value: Any) -> bool:
    return test(p, value) is True


_PUSHABLE = {"eq", "neq", "lt", "lte", "gt", "gte", "within", "without"}


def _plain(v: Any) -> bool:
    return v is not None and not isinstance(v, (list, dict, set, tuple, P, TextP)) and not sem.is_nan(v)


def to_filters(key: str, p: Any) -> list[PropertyFilter] | None:
    """Store filters equivalent to ``has(key, p)``, or None when the store cannot answer it."""
    if not isinstance(p, (P, TextP)):
        return [PropertyFilter(key, "eq", p)] if _plain(p) else None
    if isinstance(p, TextP):
        return None
    if p.name == "and":
        out: list[PropertyFilter] = []
        for q in p.args:
            f = to_filters(key, q)
            if f is None:
                return None
            out += f
        # and() over one multi-valued key is "one value satisfies all" in Gremlin; the store's
        # per-filter "any value" differs only for multi-properties: keep them exact by checking.
        return out
    if p.name in ("within", "without"):
        vals = _flat(p.args)
        if not all(_plain(v) for v in vals):
            return None
        return [PropertyFilter(key, p.name, tuple(vals))]
    if p.name == "between" and _plain(p.args[0]) and _plain(p.args[1]):
        return [PropertyFilter(key, "gte", p.args[0]), PropertyFilter(key, "lt", p.args[1])]
    if p.name == "inside" and _plain(p.args[0]) and _plain(p.args[1]):
        return [PropertyFilter(key, "gt", p.args[0]), PropertyFilter(key, "lt", p.args[1])]
    if p.name in _PUSHABLE and len(p.args) == 1 and _plain(p.args[0]):
        if p.name == "neq":
            return None  # a vertex with a different *type* of value differs in Gremlin too; keep exact
        return [PropertyFilter(key, p.name, p.args[0])]
    return None
