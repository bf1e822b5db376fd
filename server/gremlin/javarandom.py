"""``java.util.Random`` for ``SeedStrategy``: seeded runs flip the same coins as Gremlin Server.

TinkerPop gives each random step (``coin()``, ``sample()``) its own ``java.util.Random`` and
``SeedStrategy(seed: n)`` seeds every one of them with ``n``; the TinkerPop suite's expected
results for seeded traversals are those draws. Python's ``random`` is a different generator, so
the same seed would pick other elements. :class:`JavaRandom` is the generator the Java class
documents (a 48-bit linear congruential generator; its constants and the ``nextDouble`` /
``nextInt`` derivations are part of the Java API contract), with the two draws the steps use under
the names of Python's ``random.Random``, so a step takes either.
"""

from __future__ import annotations

_MULTIPLIER = 0x5DEECE66D
_ADDEND = 0xB
_MASK = (1 << 48) - 1
_INT_LIMIT = 1 << 31


class JavaRandom:
    """``java.util.Random(seed)``: ``random()`` is ``nextDouble()``, ``randrange(n)`` is
    ``nextInt(n)``; the same seed gives the same sequence as in Java."""

    def __init__(self, seed: int) -> None:
        self._state = (seed ^ _MULTIPLIER) & _MASK

    def _next(self, bits: int) -> int:
        """The top ``bits`` (at most 31, so never negative) of the next state."""
        self._state = (self._state * _MULTIPLIER + _ADDEND) & _MASK
        return self._state >> (48 - bits)

    def random(self) -> float:
        """A double in ``[0, 1)`` from 53 random bits (``nextDouble``)."""
        return ((self._next(26) << 27) + self._next(27)) * (1.0 / (1 << 53))

    def randrange(self, bound: int) -> int:
        """An int in ``[0, bound)`` (``nextInt(bound)``: rejection keeps it uniform)."""
        if bound <= 0:
            raise ValueError("bound must be positive")
        r = self._next(31)
        if bound & (bound - 1) == 0:  # a power of two: the high bits
            return (bound * r) >> 31
        while True:
            value = r % bound
            if r - value + bound - 1 < _INT_LIMIT:  # Java's int overflow test
                return value
            r = self._next(31)
