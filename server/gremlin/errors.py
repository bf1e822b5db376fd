"""Named exceptions of the Gremlin engine and language. The protocol layer maps each to a
Gremlin Server status code (shown in brackets); messages are shown to users as they are."""

from __future__ import annotations


class GremlinError(Exception):
    """Base class. [500 SERVER_ERROR unless a subclass says otherwise]"""

    status_code = 500


class GremlinSyntaxError(GremlinError):
    """Script text does not parse. ``line``/``column`` are 1-based. [597 SERVER_ERROR_EVALUATION]"""

    status_code = 597

    def __init__(self, message: str, line: int, column: int, text: str = "") -> None:
        super().__init__(f"Syntax error at line {line}, column {column}: {message}")
        self.line = line
        self.column = column
        self.text = text


class UnknownStepError(GremlinError):
    """A step (or source instruction) the engine does not know. [597]"""

    status_code = 597


class LambdaNotSupported(GremlinError):
    """A lambda or Groovy code: Seer runs no client code. [597]"""

    status_code = 597


class GremlinArgumentError(GremlinError):
    """A step got arguments of the wrong number or type, e.g. ``out(1)``. [597]"""

    status_code = 597


class GremlinTypeError(GremlinError):
    """A value of the wrong type met a step at run time, e.g. ``sum()`` over strings. [500]"""


class FailStepError(GremlinError):
    """The ``fail()`` step was reached. [595 SERVER_ERROR_FAIL_STEP]"""

    status_code = 595


class EvaluationTimeout(GremlinError):
    """``evaluationTimeout`` ran out. [598 SERVER_ERROR_TIMEOUT]"""

    status_code = 598


class ReadOnlyViolation(GremlinError):
    """A write in a read-only traversal (ReadOnlyStrategy or a read-only user). [500]"""
