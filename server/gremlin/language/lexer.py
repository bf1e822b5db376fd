"""Tokenizer for gremlin-lang script text.

Hand-written (rather than generated from ``Gremlin.g4``) because the language's lexical part is
small: identifiers, numbers with type suffixes, Java-style quoted strings and a few punctuation
marks. Unknown characters become ``OTHER`` tokens instead of failing here, so that the parser can
report them in context (and recognise Groovy closures, which it rejects with a clear message).
"""

from __future__ import annotations

import dataclasses
import re
from enum import Enum

from server.gremlin.errors import GremlinSyntaxError


class Kind(Enum):
    IDENT = "identifier"
    NUMBER = "number"
    STRING = "string"
    PUNCT = "punctuation"
    ARROW = "'->'"
    OTHER = "character"
    EOF = "end of script"


@dataclasses.dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str
    """The source text (for STRING: the decoded value)."""
    line: int
    column: int

    def describe(self) -> str:
        if self.kind is Kind.EOF:
            return "end of script"
        if self.kind is Kind.STRING:
            return f"string {self.text!r}"
        return f"'{self.text}'"


_PUNCT = set(".,()[]{}:;+-")
_NUMBER = re.compile(
    r"0[xX][0-9a-fA-F]+[lLbBsSiInN]?"
    r"|(?:\d+\.\d+|\.\d+|\d+)(?:[eE][+-]?\d+)?[bBsSiIlLnNfFdDmM]?"
)
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_SPACE = re.compile(r"(?:\s+|//[^\n]*|/\*.*?\*/)+", re.DOTALL)
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "'": "'", "\\": "\\"}


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with one EOF token.

    Raises:
        GremlinSyntaxError: an unterminated string or a bad escape sequence.
    """
    tokens: list[Token] = []
    pos, line, line_start = 0, 1, 0
    n = len(text)
    while pos < n:
        space = _SPACE.match(text, pos)
        if space:
            chunk = space.group(0)
            newlines = chunk.count("\n")
            if newlines:
                line += newlines
                line_start = pos + chunk.rindex("\n") + 1
            pos = space.end()
            continue
        col = pos - line_start + 1
        ch = text[pos]
        if ch.isdigit() or (ch == "." and pos + 1 < n and text[pos + 1].isdigit()):
            m = _NUMBER.match(text, pos)
            end = m.end() if m else pos + 1
            if end < n and (text[end].isalnum() or text[end] == "_"):
                raise GremlinSyntaxError(f"malformed number {text[pos : end + 1]!r}", line, col, text)
            tokens.append(Token(Kind.NUMBER, text[pos:end], line, col))
            pos = end
        elif ch.isalpha() or ch in "_$":
            end = _IDENT.match(text, pos).end()  # type: ignore[union-attr] - ch is a valid first char
            tokens.append(Token(Kind.IDENT, text[pos:end], line, col))
            pos = end
        elif ch in "\"'":
            value, end, lines, last_nl = _read_string(text, pos, line, col)
            tokens.append(Token(Kind.STRING, value, line, col))
            if lines:
                line += lines
                line_start = last_nl + 1
            pos = end
        elif ch == "-" and text.startswith("->", pos):
            tokens.append(Token(Kind.ARROW, "->", line, col))
            pos += 2
        elif ch in _PUNCT:
            tokens.append(Token(Kind.PUNCT, ch, line, col))
            pos += 1
        else:
            tokens.append(Token(Kind.OTHER, ch, line, col))
            pos += 1
    tokens.append(Token(Kind.EOF, "", line, pos - line_start + 1))
    return tokens


def _read_string(text: str, start: int, line: int, col: int) -> tuple[str, int, int, int]:
    """Decode the quoted string at ``start``; returns (value, end, newlines inside, last newline pos)."""
    quote = text[start]
    out: list[str] = []
    pos = start + 1
    n = len(text)
    newlines, last_nl = 0, -1
    while pos < n:
        ch = text[pos]
        if ch == quote:
            return "".join(out), pos + 1, newlines, last_nl
        if ch == "\\":
            if pos + 1 >= n:
                break
            esc = text[pos + 1]
            if esc in _ESCAPES:
                out.append(_ESCAPES[esc])
                pos += 2
            elif esc == "u":
                digits = text[pos + 2 : pos + 6]
                if not re.fullmatch(r"[0-9a-fA-F]{4}", digits):
                    raise GremlinSyntaxError(
                        r"bad unicode escape (expected \u and 4 hex digits)", line, col, text
                    )
                out.append(chr(int(digits, 16)))
                pos += 6
            elif esc in "01234567":
                octal = re.match(r"[0-3][0-7]{0,2}|[4-7][0-7]?", text[pos + 1 : pos + 4]).group(0)  # type: ignore[union-attr]
                out.append(chr(int(octal, 8)))
                pos += 1 + len(octal)
            else:
                raise GremlinSyntaxError(f"bad escape sequence '\\{esc}' in string", line, col, text)
            continue
        if ch == "\n":
            newlines += 1
            last_nl = pos
        out.append(ch)
        pos += 1
    raise GremlinSyntaxError(f"unterminated string (expected a closing {quote})", line, col, text)
