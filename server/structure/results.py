"""Result containers that only traversals produce (never stored as property values).

The serializers (:mod:`server.protocol`) write them with their own wire types:

- :class:`BulkSet`: what ``aggregate()``/``store()`` side effects hold (``cap("x")``); a list of
  ``(value, bulk)`` pairs, GraphBinary 0x2a / GraphSON ``g:BulkSet``. Clients see a list in which
  each value repeats ``bulk`` times.
- :class:`Tree`: what ``tree()`` returns; a dict from a node to its subtree (GraphBinary 0x2b /
  GraphSON ``g:Tree``).
- :class:`Subgraph`: what ``subgraph("sg").cap("sg")`` returns; written as TinkerPop's
  ``tinker:graph`` in GraphSON (gremlinpython cannot read a graph in GraphBinary at all).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from server.structure.elements import Edge, Vertex


class BulkSet:
    """A multiset that keeps insertion order: ``items`` are ``(value, bulk)`` pairs."""

    __slots__ = ("items",)

    def __init__(self, items: list[tuple[Any, int]] | None = None) -> None:
        self.items = list(items or [])

    def __iter__(self) -> Iterator[Any]:
        for value, bulk in self.items:
            for _ in range(bulk):
                yield value

    def __len__(self) -> int:
        return sum(bulk for _, bulk in self.items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BulkSet) and other.items == self.items

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"BulkSet({self.items!r})"


class Tree(dict):
    """A tree of traversal results: each key maps to its own :class:`Tree` of children."""

    def __repr__(self) -> str:
        return f"Tree({dict.__repr__(self)})"


@dataclasses.dataclass
class Subgraph:
    """The vertices and edges a ``subgraph()`` step collected (properties loaded)."""

    vertices: list[Vertex] = dataclasses.field(default_factory=list)
    edges: list[Edge] = dataclasses.field(default_factory=list)
