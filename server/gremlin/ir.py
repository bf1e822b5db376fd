"""The one internal form of a traversal: TinkerPop's Bytecode, as plain Python data.

Script text (gremlin-lang) and wire bytecode (GraphBinary / GraphSON) are both decoded into this
form; the engine compiles it. It mirrors TinkerPop's Bytecode exactly, so translation in either
direction is mechanical:

- :class:`Bytecode` = source instructions (``withStrategies``, ``withSideEffect``, ``withSack``,
  ``withBulk``, ``withPath``, ``withoutStrategies``, ``tx``) + step instructions (``V``, ``out``,
  ``has``, ``with``, ...), each an :class:`Instruction` ``(name, args)`` with Gremlin's camelCase
  names (``outE``, ``valueMap``).
- Anonymous child traversals (``__.out()`` or a bare ``out()`` inside a step) are nested
  :class:`Bytecode` values with step instructions only.
- Argument values are Gremlin values (:mod:`server.structure.values`), tokens
  (:mod:`server.structure.tokens`), elements, or the small classes below.
- ``g.with_(k, v)`` arrives as an ``OptionsStrategy`` inside ``withStrategies``; the step
  modulator ``.with_(k[, v])`` as a ``with`` step instruction right after the step it modifies.
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class Instruction:
    """One source or step instruction: ``name(args...)``."""

    name: str
    args: tuple[Any, ...] = ()

    def __repr__(self) -> str:
        return f"{self.name}({', '.join(map(repr, self.args))})"


@dataclasses.dataclass
class Bytecode:
    """A traversal: source instructions, then step instructions."""

    source: list[Instruction] = dataclasses.field(default_factory=list)
    steps: list[Instruction] = dataclasses.field(default_factory=list)

    def add_source(self, name: str, *args: Any) -> Bytecode:
        self.source.append(Instruction(name, tuple(args)))
        return self

    def add_step(self, name: str, *args: Any) -> Bytecode:
        self.steps.append(Instruction(name, tuple(args)))
        return self

    @property
    def is_anonymous(self) -> bool:
        """True for a child traversal (``__.out()``): no source, no start step of a source."""
        return not self.source

    def __repr__(self) -> str:
        src = ".".join(map(repr, self.source))
        steps = ".".join(map(repr, self.steps))
        return f"g{'.' + src if src else ''}.{steps}" if self.source else f"__.{steps}"


@dataclasses.dataclass(frozen=True)
class P:
    """A predicate: ``P.gt(3)``, ``P.within(1, 2)``, ``P.between(1, 5)``, ``p1.and(p2)``.

    ``args`` holds the operands as given: one value for eq/neq/lt/lte/gt/gte, two for
    between/inside/outside, a tuple of values for within/without (wire forms that send a single
    list are flattened by the decoders), two predicates for ``and``/``or``, one for ``not``.
    """

    name: str
    args: tuple[Any, ...] = ()


@dataclasses.dataclass(frozen=True)
class TextP:
    """A text predicate: containing, startingWith, endingWith, notContaining, notStartingWith,
    notEndingWith, regex, notRegex; ``and``/``or`` combine like :class:`P`."""

    name: str
    args: tuple[Any, ...] = ()


@dataclasses.dataclass(frozen=True)
class Strategy:
    """A traversal strategy with its configuration, e.g.
    ``Strategy("SubgraphStrategy", {"vertices": Bytecode(...)})``. ``name`` is the simple class
    name; configuration values may be child traversals."""

    name: str
    config: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __hash__(self) -> int:
        return hash(self.name)


@dataclasses.dataclass(frozen=True)
class StrategyClass:
    """A strategy named as a class (the argument of ``withoutStrategies``)."""

    name: str


@dataclasses.dataclass(frozen=True)
class Binding:
    """A named value in bytecode (``Bindings.of("x", 1)``); the engine uses ``value``."""

    key: str
    value: Any


@dataclasses.dataclass(frozen=True)
class Lambda:
    """A lambda sent by a client. Seer runs no Groovy or Python code: the engine rejects it."""

    script: str
    language: str = "gremlin-groovy"
    arguments: int = -1


@dataclasses.dataclass(frozen=True)
class CardinalityValue:
    """``Cardinality.list_(value)`` inside a mergeV/property map."""

    cardinality: Any  # server.structure.tokens.Cardinality
    value: Any


@dataclasses.dataclass(frozen=True)
class GremlinClass:
    """A class literal such as the argument of ``io(...).with(IO.reader, IO.graphson)``."""

    name: str
