"""Small generated graphs for job tests: a social graph with a categorical and a numeric property,
and enough structure (teams of friends) for link prediction and classification to learn."""

from __future__ import annotations

import random

from server.store.interface import GraphStore
from server.structure import Int64


def social_graph(store: GraphStore, people: int = 60, seed: int = 7) -> None:
    """``person`` vertices (``team``: one of 3 strings, ``age``: int, ``score``: double),
    ``knows`` edges mostly inside a team (``weight``: double), ``project`` vertices and
    ``works_on`` edges."""
    rng = random.Random(seed)
    with store.connect() as conn, conn.atomic():
        persons = []
        for i in range(people):
            team = ["red", "green", "blue"][i % 3]
            v = conn.add_vertex("person", id=f"p{i}")
            conn.add_vertex_property(v, "team", team)
            conn.add_vertex_property(v, "age", 20 + (i % 3) * 10 + rng.randint(0, 5))
            conn.add_vertex_property(v, "score", float(i % 3) + rng.random())
            persons.append((v, team))
        projects = []
        for j in range(6):
            v = conn.add_vertex("project", id=f"j{j}")
            conn.add_vertex_property(v, "budget", Int64(1000 * (j + 1)))
            projects.append(v)
        for i, (v, team) in enumerate(persons):
            mates = [w for w, t in persons if t == team and w is not v]
            for w in rng.sample(mates, 4):
                e = conn.add_edge("knows", v, w)
                conn.set_edge_property(e, "weight", rng.random())
            other = rng.choice([w for w, t in persons if t != team])
            conn.add_edge("knows", v, other)
            conn.add_edge("works_on", v, projects[(i % 3) * 2 + rng.randint(0, 1)])
