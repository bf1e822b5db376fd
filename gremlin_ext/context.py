"""The live neighbourhood of elements, for inductive inference (``Neptune#ml.inductiveInference``).

Neptune builds the k-hop neighbourhood of the entity, ships it with the properties to the model,
and the model re-runs feature processing and message passing on it. Seer reads the neighbourhood
from the store, batched: one adjacency read per hop for the whole frontier of every element of the
step, and one property read for every vertex reached; :func:`node_contexts` turns it into the
``NodeContext`` records ``graphml`` embeds (the model samples its ``fanout`` from them, randomly
unless ``Neptune#ml.deterministic``). Capped neighbour lists are cut randomly, or to the first
edges in the store's (insertion) order when deterministic.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from typing import Any

from gremlin_ext.plan import MLStepSpec
from server.store.interface import GraphConnection
from server.structure import Direction, Edge, Vertex

DEFAULT_HOPS = 1
"""The model embeds a new vertex from its direct neighbours' precomputed representations
(``graphml.inference.inductive``), so one hop of live edges is what it needs."""
MAX_NEIGHBOURS = 1000
"""Cap on the edges read per vertex and hop (bounds the request to a remote endpoint); the model
samples its own ``fanout`` from them."""


@dataclasses.dataclass
class Neighbourhood:
    """The sampled k-hop neighbourhood of one vertex (or of both ends of one edge).

    ``nodes`` maps a model id (``str(store id)``) to ``(label, {key: value})`` (single values; a
    multi-property keeps its first value); ``edges`` lists ``(source id, edge label, target id)``
    in the store's direction. ``seeds`` are the ids the answer is about."""

    seeds: list[str]
    nodes: dict[str, tuple[str, dict[str, Any]]]
    edges: list[tuple[str, str, str]]


def build_neighbourhoods(
    conn: GraphConnection,
    elements: Sequence[Any],
    *,
    hops: int = DEFAULT_HOPS,
    fanout: int = MAX_NEIGHBOURS,
    deterministic: bool = False,
    seed: int | None = None,
) -> list[Neighbourhood]:
    """One :class:`Neighbourhood` per element (vertex, or edge: both its ends are seeds)."""
    rng = random.Random(seed)
    seeds_of: list[list[Vertex]] = []
    for element in elements:
        if isinstance(element, Edge):
            seeds_of.append([element.out_v, element.in_v])
        else:
            seeds_of.append([element])
    # Per element: its frontier and what it has reached. The store is asked once per hop for the
    # union of all frontiers.
    reached: list[dict[Any, Vertex]] = [{v.id: v for v in seeds} for seeds in seeds_of]
    edges: list[dict[Any, Edge]] = [{} for _ in elements]
    frontiers: list[list[Vertex]] = [list(seeds) for seeds in seeds_of]
    for _ in range(hops):
        union: dict[Any, Vertex] = {v.id: v for f in frontiers for v in f}
        if not union:
            break
        order = list(union.values())
        incident = dict(zip((v.id for v in order), conn.incident_edges(order, Direction.BOTH), strict=True))
        for i, frontier in enumerate(frontiers):
            nxt: list[Vertex] = []
            for v in frontier:
                candidates = incident[v.id]
                if len(candidates) > fanout:
                    candidates = candidates[:fanout] if deterministic else rng.sample(candidates, fanout)
                for e in candidates:
                    edges[i].setdefault(e.id, e)
                    other = e.in_v if e.out_v.id == v.id else e.out_v
                    if other.id not in reached[i]:
                        reached[i][other.id] = other
                        nxt.append(other)
            frontiers[i] = nxt
    everyone: dict[Any, Vertex] = {vid: v for r in reached for vid, v in r.items()}
    order = list(everyone.values())
    props: dict[Any, dict[str, Any]] = {}
    for v, vps in zip(order, conn.vertex_properties(order), strict=True):
        values: dict[str, Any] = {}
        for vp in vps:
            values.setdefault(vp.key, vp.value)
        props[v.id] = values
    out: list[Neighbourhood] = []
    for i, seeds in enumerate(seeds_of):
        out.append(
            Neighbourhood(
                seeds=[str(v.id) for v in seeds],
                nodes={str(vid): (v.label, props.get(vid, {})) for vid, v in reached[i].items()},
                edges=[(str(e.out_v.id), e.label, str(e.in_v.id)) for e in edges[i].values()],
            )
        )
    return out


def build_contexts(conn: GraphConnection, elements: Sequence[Any], spec: MLStepSpec) -> list[Neighbourhood]:
    """The :data:`~gremlin_ext.execute.ContextBuilder` the extension uses by default."""
    return build_neighbourhoods(conn, elements, deterministic=spec.deterministic)


def node_contexts(hood: Neighbourhood) -> list[dict[str, Any]]:
    """``graphml.inference.inductive.NodeContext`` fields of each seed of ``hood``: id, label,
    properties and ``(edge label, "out"|"in", neighbour id, neighbour label)`` neighbours."""
    out = []
    for seed in hood.seeds:
        label, properties = hood.nodes[seed]
        neighbours = []
        for src, elabel, dst in hood.edges:
            if src == seed:
                neighbours.append((elabel, "out", dst, hood.nodes[dst][0]))
            if dst == seed:
                neighbours.append((elabel, "in", src, hood.nodes[src][0]))
        out.append({"id": seed, "label": label, "properties": dict(properties), "neighbors": neighbours})
    return out
