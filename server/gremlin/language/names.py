"""Name tables of gremlin-lang: which identifiers are tokens, predicates, source methods.

gremlin-lang lets most enum constants appear with or without their class prefix (``Order.desc``
or ``desc``). Every bare name below belongs to exactly one enum, which :data:`BARE_TOKENS` checks
when the module loads, so a bare name resolves without looking at the surrounding step.
"""

from __future__ import annotations

from typing import Any

from server.structure.tokens import TOKEN_TYPES, Direction, WithOptions

SOURCE_METHODS = frozenset(
    {
        "withStrategies",
        "withoutStrategies",
        "withSideEffect",
        "withSack",
        "withBulk",
        "withPath",
        "withComputer",
        "with",
    }
)
"""Methods of ``g`` that configure the source (they become source instructions)."""

TERMINAL_METHODS = frozenset({"iterate", "toList", "toSet", "next", "hasNext", "tryNext"})
"""Java terminal methods the grammar accepts at the end of a root traversal."""

P_METHODS = frozenset(
    {
        "eq",
        "neq",
        "lt",
        "lte",
        "gt",
        "gte",
        "inside",
        "outside",
        "between",
        "within",
        "without",
        "not",
        "typeOf",
    }
)
TEXTP_METHODS = frozenset(
    {
        "containing",
        "notContaining",
        "startingWith",
        "notStartingWith",
        "endingWith",
        "notEndingWith",
        "regex",
        "notRegex",
    }
)
COLLECTION_P = frozenset({"within", "without"})
"""Predicates whose operands are a collection: a single list argument is flattened."""

BARE_P_METHODS = P_METHODS - {"not"}
"""Predicates that may be called without ``P.``; bare ``not(...)`` is a predicate only when its
argument is one (else it is the ``not`` step)."""


def _constants(cls: type, names: list[str]) -> dict[str, Any]:
    return {n: getattr(cls, n) for n in names}


class _IO:
    graphml = "graphml"
    graphson = "graphson"
    gryo = "gryo"
    reader = "~tinkerpop.io.reader"
    writer = "~tinkerpop.io.writer"
    registry = "~tinkerpop.io.registry"


CONSTANT_CLASSES: dict[str, dict[str, Any]] = {
    "WithOptions": _constants(
        WithOptions,
        ["tokens", "none", "ids", "labels", "keys", "values", "all", "indexer", "list", "map"],
    ),
    "IO": _constants(_IO, ["graphml", "graphson", "gryo", "reader", "writer", "registry"]),
    "ConnectedComponent": {
        "component": "gremlin.connectedComponentVertexProgram.component",
        "edges": "~tinkerpop.connectedComponent.edges",
        "propertyName": "~tinkerpop.connectedComponent.propertyName",
    },
    "PageRank": {
        "edges": "~tinkerpop.pageRank.edges",
        "propertyName": "~tinkerpop.pageRank.propertyName",
        "times": "~tinkerpop.pageRank.times",
    },
    "PeerPressure": {
        "edges": "~tinkerpop.peerPressure.edges",
        "propertyName": "~tinkerpop.peerPressure.propertyName",
        "times": "~tinkerpop.peerPressure.times",
    },
    "ShortestPath": {
        "target": "~tinkerpop.shortestPath.target",
        "edges": "~tinkerpop.shortestPath.edges",
        "distance": "~tinkerpop.shortestPath.distance",
        "maxDistance": "~tinkerpop.shortestPath.maxDistance",
        "includeEdges": "~tinkerpop.shortestPath.includeEdges",
    },
}
"""Classes whose members are plain values (strings or ints), as gremlinpython sends them."""


def _bare_tokens() -> dict[str, Any]:
    table: dict[str, Any] = {}
    for cls in TOKEN_TYPES.values():
        for member in cls:
            if member.value in table:
                raise RuntimeError(f"bare token {member.value!r} is ambiguous")
            table[member.value] = member
    table["from"] = Direction.OUT
    table["to"] = Direction.IN
    return table


BARE_TOKENS: dict[str, Any] = _bare_tokens()
"""Enum constants by their unprefixed gremlin-lang name (``desc``, ``local``, ``OUT``, ...)."""
