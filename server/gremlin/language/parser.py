"""Recursive-descent parser: gremlin-lang tokens -> :class:`~server.gremlin.ir.Bytecode`.

It accepts the language of TinkerPop's ``Gremlin.g4`` as the compliance suite uses it, and builds
the bytecode gremlinpython would send for the same traversal. Hand-written because the grammar is
regular in shape (a chain of ``name(args)`` calls whose arguments are literals, tokens, predicates,
strategies or child traversals); a generated ANTLR parser would add a runtime dependency and a
3,000-line grammar for no gain in the result.

Bare identifiers resolve in this order: literal keywords (``true``, ``NaN``, ...), enum constants
(``desc``, ``local``, ``OUT``; see :mod:`.names`), parameters from the bindings, strategy names.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import uuid
from collections.abc import Mapping
from typing import Any, NoReturn

from server.gremlin.errors import GremlinSyntaxError, LambdaNotSupported
from server.gremlin.ir import Bytecode, CardinalityValue, Instruction, P, Strategy, StrategyClass, TextP
from server.gremlin.language import names
from server.gremlin.language.lexer import Kind, Token, tokenize
from server.structure.tokens import TOKEN_TYPES, Cardinality
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
)

_LITERAL_WORDS: dict[str, Any] = {
    "true": True,
    "false": False,
    "null": None,
    "NaN": float("nan"),
    "Infinity": float("inf"),
}
_INT_TYPES: dict[str, tuple[type, int, int, str]] = {
    "b": (Int8, -128, 127, "Byte"),
    "s": (Int16, -32768, 32767, "Short"),
    "i": (int, INT32_MIN, INT32_MAX, "Int"),
    "l": (Int64, INT64_MIN, INT64_MAX, "Long"),
}


_CACHED_TEXT = 4096
"""Scripts up to this length keep their tokens in :func:`_tokens`' cache (bounded memory)."""


@functools.lru_cache(maxsize=512)
def _tokens(text: str) -> tuple[Token, ...]:
    """The tokens of a script, cached: clients send the same few scripts over and over, and
    tokens are immutable (the parser builds a fresh Bytecode from them every time)."""
    return tuple(tokenize(text))


class Parser:
    """Parses one script; use :func:`server.gremlin.language.parse`."""

    def __init__(self, text: str, bindings: Mapping[str, Any] | None = None) -> None:
        self.text = text
        self.bindings = bindings if bindings is not None else {}
        self.tokens = _tokens(text) if len(text) <= _CACHED_TEXT else tokenize(text)
        self.pos = 0

    # -- token helpers -------------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind is not Kind.EOF:
            self.pos += 1
        return tok

    def at(self, text: str, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok.kind in (Kind.PUNCT, Kind.IDENT) and tok.text == text

    def expect(self, text: str) -> Token:
        if not self.at(text):
            self.fail(f"'{text}'")
        return self.advance()

    def expect_ident(self, what: str = "a name") -> Token:
        if self.peek().kind is not Kind.IDENT:
            self.fail(what)
        return self.advance()

    def fail(self, expected: str, tok: Token | None = None) -> NoReturn:
        tok = tok or self.peek()
        if tok.kind is Kind.ARROW or (tok.kind is Kind.PUNCT and tok.text == "{" and self._closure_at(tok)):
            self.reject_lambda(tok)
        raise GremlinSyntaxError(
            f"expected {expected} but found {tok.describe()}", tok.line, tok.column, self.text
        )

    def error(self, message: str, tok: Token) -> NoReturn:
        raise GremlinSyntaxError(message, tok.line, tok.column, self.text)

    def reject_lambda(self, tok: Token) -> NoReturn:
        raise LambdaNotSupported(
            f"Lambdas and Groovy closures are not supported (line {tok.line}, column {tok.column}): "
            "Seer runs no client code; use Gremlin steps instead"
        )

    def _closure_at(self, brace: Token) -> bool:
        """True when the ``{`` token starts a Groovy closure (``{ it.x }`` or ``{ a -> ... }``)."""
        i = self.tokens.index(brace)
        depth = 0
        for tok in self.tokens[i:]:
            if tok.kind is Kind.PUNCT and tok.text == "{":
                depth += 1
            elif tok.kind is Kind.PUNCT and tok.text == "}":
                depth -= 1
                if depth == 0:
                    return False
            elif tok.kind is Kind.ARROW or (tok.kind is Kind.IDENT and tok.text == "it"):
                return True
            elif tok.kind is Kind.EOF:
                return False
        return False

    # -- queries --------------------------------------------------------------------------------

    def parse_query(self) -> Bytecode:
        first = self.peek()
        if first.kind is Kind.IDENT and first.text == "__":
            self.advance()
            self.expect(".")
            result = self.parse_chain(Bytecode())
        elif first.kind is Kind.IDENT and first.text == "g":
            self.advance()
            result = self.parse_root()
        else:
            self.fail("'g' (a traversal must start with the traversal source g)")
        while self.at(";"):
            self.advance()
        if self.peek().kind is not Kind.EOF:
            self.fail("'.' followed by a step, or the end of the script")
        return result

    def parse_root(self) -> Bytecode:
        code = Bytecode()
        if not self.at("."):
            self.fail("'.' after g")
        in_source = True
        while self.at("."):
            self.advance()
            name_tok = self.expect_ident("a step or source method name")
            name = name_tok.text
            if self.at("{"):
                self.reject_lambda(self.peek())
            if name == "tx" and in_source and not code.source:
                self.expect("(")
                self.expect(")")
                self.expect(".")
                action = self.expect_ident("commit() or rollback()")
                if action.text not in ("commit", "rollback"):
                    self.fail("commit() or rollback()", action)
                self.expect("(")
                self.expect(")")
                code.add_source("tx", action.text)
                return code
            if not self.at("("):
                self.fail(f"'(' after step {name}")
            if name in names.TERMINAL_METHODS and not in_source:
                self.parse_terminal(code, name_tok)
                return code
            args = self.parse_args(name)
            if in_source and name in names.SOURCE_METHODS:
                self.add_source(code, name, args, name_tok)
            else:
                in_source = False
                code.steps.append(Instruction(name, tuple(args)))
        if in_source:
            self.fail("'.' followed by a step such as V() (the traversal has no steps)")
        return code

    def parse_terminal(self, code: Bytecode, tok: Token) -> None:
        args = self.parse_args(tok.text)
        if tok.text == "iterate":
            code.add_step("discard")
        elif tok.text in ("next", "tryNext"):
            code.add_step("limit", Int64(args[0]) if args else Int64(1))
        elif tok.text == "hasNext":
            code.add_step("limit", Int64(1))
            code.add_step("count")
            code.add_step("is", P("gt", (Int64(0),)))

    def add_source(self, code: Bytecode, name: str, args: list[Any], tok: Token) -> None:
        if name == "with":
            if not 1 <= len(args) <= 2 or not isinstance(args[0], str):
                self.error("g.with() takes a string key and an optional value", tok)
            value = args[1] if len(args) == 2 else True
            for instr in code.source:
                if instr.name == "withStrategies" and instr.args and _is_options(instr.args[0]):
                    instr.args[0].config[args[0]] = value
                    return
            code.add_source("withStrategies", Strategy("OptionsStrategy", {args[0]: value}))
            return
        code.source.append(Instruction(name, tuple(args)))

    def parse_chain(self, code: Bytecode) -> Bytecode:
        """Steps ``name(args)`` separated by dots, the first one already past its leading dot."""
        while True:
            name_tok = self.expect_ident("a step name")
            if self.at("{"):
                self.reject_lambda(self.peek())
            if not self.at("("):
                self.fail(f"'(' after step {name_tok.text}")
            code.steps.append(Instruction(name_tok.text, tuple(self.parse_args(name_tok.text))))
            if self.at(".") and self.peek(1).kind is Kind.IDENT:
                self.advance()
                continue
            return code

    def parse_args(self, context: str) -> list[Any]:
        self.expect("(")
        args: list[Any] = []
        if self.at(")"):
            self.advance()
            return args
        while True:
            args.append(self.parse_value(context))
            if self.at(","):
                self.advance()
                continue
            if self.at(")"):
                self.advance()
                return args
            self.fail("',' or ')'")

    # -- values ---------------------------------------------------------------------------------

    def parse_value(self, context: str = "") -> Any:
        tok = self.peek()
        if tok.kind is Kind.STRING:
            self.advance()
            return tok.text
        if tok.kind is Kind.NUMBER:
            self.advance()
            return self.number(tok, negative=False)
        if tok.kind is Kind.PUNCT:
            if tok.text in "+-":
                return self.parse_signed()
            if tok.text == "[":
                return self.parse_list_or_map()
            if tok.text == "{":
                return self.parse_set()
            if tok.text == "(":
                self.advance()
                value = self.parse_value(context)
                self.expect(")")
                return value
        if tok.kind is Kind.IDENT:
            return self.parse_identifier(context)
        self.fail("a value (a literal, token, predicate or traversal)")

    def parse_signed(self) -> Any:
        sign = self.advance()
        tok = self.peek()
        negative = sign.text == "-"
        if tok.kind is Kind.NUMBER:
            self.advance()
            return self.number(tok, negative=negative)
        if tok.kind is Kind.IDENT and tok.text == "Infinity":
            self.advance()
            return float("-inf") if negative else float("inf")
        self.fail(f"a number after '{sign.text}'")

    def number(self, tok: Token, *, negative: bool) -> Any:
        text = tok.text
        sign = "-" if negative else ""
        lower = text.lower()
        if lower.startswith("0x"):
            suffix = lower[-1] if lower[-1] in "bsiln" else ""
            digits = text[2 : len(text) - len(suffix)]
            return self.integer(int(sign + digits, 16), suffix, tok)
        suffix = lower[-1] if lower[-1].isalpha() and lower[-1] != "e" else ""
        body = text[: len(text) - len(suffix)] if suffix else text
        is_decimal = any(c in body for c in ".eE")
        if suffix == "f":
            return Float32(float(sign + body))
        if suffix == "d":
            return float(sign + body)
        if suffix == "m":
            return decimal.Decimal(sign + body)
        if is_decimal:
            if suffix:
                self.error(f"the suffix '{suffix}' needs an integer, not {text}", tok)
            return float(sign + body)
        base = 8 if len(body) > 1 and body.startswith("0") else 10
        try:
            value = int(sign + body, base)
        except ValueError:
            self.error(f"malformed octal number {text}", tok)
        return self.integer(value, suffix, tok)

    def integer(self, value: int, suffix: str, tok: Token) -> Any:
        if suffix == "n":
            return BigInt(value)
        if suffix:
            kind, low, high, type_name = _INT_TYPES[suffix]
            if not low <= value <= high:
                self.error(f"{value} is out of range for {type_name}", tok)
            return kind(value)
        if INT32_MIN <= value <= INT32_MAX:
            return value
        if INT64_MIN <= value <= INT64_MAX:
            return Int64(value)
        return BigInt(value)

    def parse_list_or_map(self) -> list[Any] | dict[Any, Any]:
        self.expect("[")
        if self.at(":") and self.at("]", 1):
            self.advance()
            self.advance()
            return {}
        if self.at("]"):
            self.advance()
            return []
        first_is_key = self.peek().kind is Kind.IDENT and self.at(":", 1) or self.at("(")
        first = self.parse_map_key() if first_is_key else self.parse_value()
        if self.at(":"):
            return self.parse_map_rest(first)
        items = [first]
        while self.at(","):
            self.advance()
            items.append(self.parse_value())
        self.expect("]")
        return items

    def parse_map_key(self) -> Any:
        tok = self.peek()
        if tok.kind is Kind.IDENT and self.at(":", 1):
            self.advance()
            return tok.text  # a bare word before ':' is a string key, as in Groovy
        if self.at("("):
            self.advance()
            key = self.parse_value()
            self.expect(")")
            return _hashable(key)
        return _hashable(self.parse_value())

    def parse_map_rest(self, first_key: Any) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        key = _hashable(first_key)
        while True:
            self.expect(":")
            result[key] = self.parse_value()
            if self.at(","):
                self.advance()
                key = self.parse_map_key()
                continue
            self.expect("]")
            return result

    def parse_set(self) -> set[Any]:
        brace = self.peek()
        if self._closure_at(brace):
            self.reject_lambda(brace)
        self.advance()
        items: set[Any] = set()
        if self.at("}"):
            self.advance()
            return items
        while True:
            items.add(_hashable(self.parse_value()))
            if self.at(","):
                self.advance()
                continue
            self.expect("}")
            return items

    def parse_identifier(self, context: str) -> Any:
        tok = self.advance()
        name = tok.text
        if self.peek().kind is Kind.ARROW:
            self.reject_lambda(tok)
        if name in _LITERAL_WORDS and not self.at("("):
            return _LITERAL_WORDS[name]
        if name == "__":
            self.expect(".")
            return self.parse_chain(Bytecode())
        if name == "new":
            cls = self.expect_ident("a strategy name after 'new'")
            return self.parse_strategy(cls)
        if name == "Lambda":
            self.reject_lambda(tok)
        if self.at(".") and self.peek(1).kind is Kind.IDENT and _is_class_name(name):
            return self.parse_qualified(tok)
        if self.at("("):
            return self.parse_call(tok)
        if context == "withoutStrategies" and name[:1].isupper():
            return StrategyClass(name)
        if name in names.BARE_TOKENS:
            return names.BARE_TOKENS[name]
        if name in self.bindings:
            return self.bindings[name]
        if name.endswith("Strategy") and name[:1].isupper():
            return Strategy(name, {})
        self.error(f"undefined variable '{name}' (not a token, and no binding of that name was given)", tok)

    def parse_qualified(self, cls_tok: Token) -> Any:
        cls = cls_tok.text
        self.expect(".")
        member = self.advance()
        if cls in ("P", "TextP"):
            if not self.at("("):
                self.fail(f"'(' after {cls}.{member.text}")
            methods = names.P_METHODS if cls == "P" else names.TEXTP_METHODS
            if member.text not in methods:
                self.error(
                    f"{cls}.{member.text} is not a predicate (expected one of {sorted(methods)})", member
                )
            return self.parse_predicate(cls, member)
        if cls == "Cardinality" and self.at("("):
            card = self._enum_member(Cardinality, member)
            args = self.parse_args("Cardinality")
            if len(args) != 1:
                self.error(f"Cardinality.{member.text}() takes exactly one value", member)
            return CardinalityValue(card, args[0])
        if cls in TOKEN_TYPES:
            return self._enum_member(TOKEN_TYPES[cls], member)
        if cls in names.CONSTANT_CLASSES:
            table = names.CONSTANT_CLASSES[cls]
            if member.text not in table:
                self.error(f"{cls}.{member.text} is unknown (expected one of {sorted(table)})", member)
            return table[member.text]
        self.error(f"unknown class '{cls}'", cls_tok)

    def _enum_member(self, cls: Any, member: Token) -> Any:
        try:
            return cls.from_name(member.text)
        except ValueError as exc:
            self.error(str(exc), member)

    def parse_call(self, tok: Token) -> Any:
        name = tok.text
        if name in names.BARE_P_METHODS:
            return self.parse_predicate("P", tok)
        if name in names.TEXTP_METHODS:
            return self.parse_predicate("TextP", tok)
        if name in ("datetime", "DateTime"):
            return self.parse_datetime(tok)
        if name == "UUID":
            args = self.parse_args(name)
            if not args:
                return uuid.uuid4()
            if len(args) != 1 or not isinstance(args[0], str):
                self.error("UUID() takes one string", tok)
            try:
                return uuid.UUID(args[0])
            except ValueError:
                self.error(f"invalid UUID {args[0]!r}", tok)
        if name in ("single", "list", "set"):
            args = self.parse_args(name)
            if len(args) != 1:
                self.error(f"{name}() takes exactly one value", tok)
            return CardinalityValue(Cardinality.from_name(name), args[0])
        if name[:1].isupper() and name.endswith("Strategy"):
            return self.parse_strategy(tok)
        # a step: the start of an anonymous traversal (``out()`` means ``__.out()``), unless it is
        # ``not(<predicate>)``
        args = self.parse_args(name)
        if name == "not" and len(args) == 1 and isinstance(args[0], (P, TextP)):
            return self.predicate_chain(P("not", (args[0],)))
        code = Bytecode()
        code.steps.append(Instruction(name, tuple(args)))
        if self.at(".") and self.peek(1).kind is Kind.IDENT:
            self.advance()
            self.parse_chain(code)
        return code

    def parse_predicate(self, cls: str, tok: Token) -> P | TextP:
        name = tok.text
        args = self.parse_args(name)
        if cls == "TextP":
            if len(args) != 1:
                self.error(f"TextP.{name}() takes one string", tok)
            return self.predicate_chain(TextP(name, tuple(args)))
        if name in names.COLLECTION_P:
            if len(args) == 1 and isinstance(args[0], (list, tuple, set, frozenset)):
                args = list(args[0])
            return self.predicate_chain(P(name, tuple(args)))
        expected = 2 if name in ("between", "inside", "outside") else 1
        if len(args) != expected:
            self.error(
                f"P.{name}() takes {expected} argument{'s' if expected > 1 else ''}, got {len(args)}", tok
            )
        if name == "not" and not isinstance(args[0], (P, TextP)):
            self.error("P.not() takes a predicate", tok)
        return self.predicate_chain(P(name, tuple(args)))

    def predicate_chain(self, pred: P | TextP) -> P | TextP:
        """``p.and(q)`` / ``p.or(q)`` / ``p.negate()`` after a predicate."""
        while self.at(".") and self.peek(1).text in ("and", "or", "negate"):
            self.advance()
            op = self.advance()
            args = self.parse_args(op.text)
            if op.text == "negate":
                if args:
                    self.error("negate() takes no arguments", op)
                pred = P("not", (pred,))
                continue
            if len(args) != 1 or not isinstance(args[0], (P, TextP)):
                self.error(f"{op.text}() after a predicate takes one predicate", op)
            pred = P(op.text, (pred, args[0]))
        return pred

    def parse_datetime(self, tok: Token) -> datetime.datetime:
        args = self.parse_args(tok.text)
        if not args:
            return datetime.datetime.now(datetime.UTC)
        if len(args) != 1 or not isinstance(args[0], str):
            self.error("datetime() takes one ISO-8601 string", tok)
        text = args[0].strip()
        try:
            value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                value = datetime.datetime.combine(datetime.date.fromisoformat(text), datetime.time())
            except ValueError:
                self.error(f"invalid ISO-8601 date-time {args[0]!r}", tok)
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        return value

    def parse_strategy(self, name_tok: Token) -> Strategy:
        if not self.at("("):
            return Strategy(name_tok.text, {})
        self.expect("(")
        config: dict[str, Any] = {}
        while not self.at(")"):
            key = self.peek()
            if key.kind is Kind.IDENT:
                self.advance()
            elif key.kind is Kind.STRING:
                self.advance()
            else:
                self.fail("a configuration key such as vertices: ...")
            self.expect(":")
            config[key.text] = self.parse_value()
            if self.at(","):
                self.advance()
            elif not self.at(")"):
                self.fail("',' or ')'")
        self.advance()
        return Strategy(name_tok.text, config)


def _is_class_name(name: str) -> bool:
    return name in ("P", "TextP") or name in TOKEN_TYPES or name in names.CONSTANT_CLASSES


def _is_options(value: Any) -> bool:
    return isinstance(value, Strategy) and value.name == "OptionsStrategy"


def _hashable(value: Any) -> Any:
    """Collections used as map keys or set members become their immutable counterparts."""
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, set):
        return frozenset(value)
    if isinstance(value, dict):
        return tuple((k, _hashable(v)) for k, v in value.items())
    return value
