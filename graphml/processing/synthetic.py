"""A small synthetic property graph in Neptune Gremlin CSV, for tests and demos without data.

Two communities of ``person`` vertices; ``knows`` edges mostly inside a community, ``likes``
edges to ``product`` vertices that belong to one community each. Properties of every Neptune
type carry community signal: ``age:Int``, ``score:Double`` (a regression target), ``joined:Date``,
``bio:String`` (text), ``tags:String[]`` (multi-valued), ``group:String`` (the class).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path


def write_synthetic_graph(folder: Path, persons: int = 80, products: int = 16, seed: int = 7) -> Path:
    rng = random.Random(seed)
    folder = Path(folder)
    (folder / "nodes").mkdir(parents=True, exist_ok=True)
    (folder / "edges").mkdir(parents=True, exist_ok=True)
    words = {0: ["river", "boat", "fish", "water"], 1: ["mountain", "snow", "ski", "rock"]}
    group = {f"p{i}": i % 2 for i in range(persons)}
    with open(folder / "nodes" / "person.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "~id",
                "~label",
                "age:Int",
                "score:Double",
                "joined:Date",
                "bio:String",
                "tags:String[]",
                "group:String",
            ]
        )
        for pid, c in group.items():
            age = rng.randint(20, 35) if c == 0 else rng.randint(40, 60)
            score = round((1.0 if c == 0 else 3.0) + rng.gauss(0, 0.2), 3)
            joined = f"{2015 + c * 5 + rng.randint(0, 2)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            bio = " ".join(rng.choice(words[c]) for _ in range(4))
            tags = ";".join(rng.sample(["a", "b", "c"] if c == 0 else ["x", "y", "z"], 2))
            w.writerow(
                [
                    pid,
                    "person",
                    age if rng.random() > 0.05 else "",
                    score,
                    joined,
                    bio,
                    tags,
                    "river" if c == 0 else "mountain",
                ]
            )
    with open(folder / "nodes" / "product.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["~id", "~label", "price:Double"])
        for j in range(products):
            w.writerow([f"q{j}", "product", round(10 + 5 * (j % 2) + rng.random(), 2)])
    ids = list(group)
    with open(folder / "edges" / "edges.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["~id", "~from", "~to", "~label", "since:Int"])
        n = 0
        for a in ids:
            same = [b for b in ids if group[b] == group[a] and b != a]
            other = [b for b in ids if group[b] != group[a]]
            for b in rng.sample(same, 4) + ([rng.choice(other)] if rng.random() < 0.2 else []):
                w.writerow([f"e{n}", a, b, "knows", rng.randint(2000, 2020)])
                n += 1
            for j in rng.sample([j for j in range(products) if j % 2 == group[a]], 3):
                w.writerow([f"e{n}", a, f"q{j}", "likes", rng.randint(2000, 2020)])
                n += 1
    return folder
