"""A synthetic airline graph with real structure, written as Neptune Gremlin CSV.

Why synthetic: the demo and the tests must run on a machine without ``../shared``. The graph is
drawn from a *degree-corrected stochastic block model*, the standard model of networks that have
both communities and heavy-tailed degrees:

- every airport belongs to one region (the community); region sizes are uneven;
- every airport has an activity weight drawn from a Pareto law, so degrees follow a power law
  (a few hubs, many small airports), and hubs get more runways and longer runways;
- routes are drawn Chung-Lu style: an endpoint pair ``(u, v)`` is picked with probability
  proportional to ``w_u * w_v``, inside one region with probability ``intra_region`` and across
  regions otherwise; routes are two-way (an edge each direction), as most air routes are;
- ``region`` (a string category) is therefore predictable from the neighbourhood: node
  classification is learnable, and link prediction has community structure to find.
  ``lat``/``lon`` are drawn around a region centre with enough noise that regions overlap, so the
  features alone do not give the answer away.

Like air-routes, ``country`` vertices ``contains`` their airports (two to five countries per
region). A fraction of airports (``unlabelled``) is written without ``region``: those are the ones the
classification model is asked about. Route edges carry ``dist`` (great-circle km, an edge
regression target) and ``kind`` (``regional`` inside a region, ``intercontinental`` across: an
edge classification target). Output: ``vertices.csv`` and ``edges.csv`` with typed
headers (``code:String``, ``runways:Int``, ``lat:Double``...), which ``seer load`` and ``/loader``
read. Deterministic for a given seed.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import string
from pathlib import Path

import numpy as np

VERTEX_HEADER = [
    "~id",
    "~label",
    "code:String",
    "name:String",
    "region:String",
    "runways:Int",
    "longest:Int",
    "elev:Int",
    "lat:Double",
    "lon:Double",
]
EDGE_HEADER = ["~id", "~from", "~to", "~label", "dist:Int", "kind:String"]

REGION_NAMES = [
    "north-america",
    "europe",
    "east-asia",
    "south-america",
    "africa",
    "oceania",
    "middle-east",
    "south-asia",
    "central-asia",
    "caribbean",
]


@dataclasses.dataclass(frozen=True)
class GraphSpec:
    """What to generate. Defaults give ~600 airports and ~6,000 route edges (a second to write,
    a minute or two to train on two cores)."""

    airports: int = 600
    regions: int = 6
    mean_degree: float = 10.0
    """Average number of routes (each counted once, two edges) per airport."""
    intra_region: float = 0.85
    """Probability that a route stays inside one region."""
    pareto_shape: float = 1.8
    """Tail exponent of the activity weights; smaller = heavier-tailed degrees."""
    unlabelled: float = 0.1
    """Fraction of airports written without ``region``."""
    seed: int = 7

    def __post_init__(self) -> None:
        if self.airports < 2:
            raise ValueError("airports must be at least 2")
        if not 1 <= self.regions <= len(REGION_NAMES):
            raise ValueError(f"regions must be between 1 and {len(REGION_NAMES)}")
        if not 0.0 <= self.intra_region <= 1.0:
            raise ValueError("intra_region must be a probability")
        if not 0.0 <= self.unlabelled < 1.0:
            raise ValueError("unlabelled must be in [0, 1)")
        if self.mean_degree <= 0 or self.pareto_shape <= 0:
            raise ValueError("mean_degree and pareto_shape must be positive")


@dataclasses.dataclass
class GeneratedGraph:
    """The graph in memory (what the CSV files hold), for tests and the demo's explanations."""

    ids: list[str]
    codes: list[str]
    region: np.ndarray
    """Shape (airports,): region index of each airport."""
    labelled: np.ndarray
    """Shape (airports,): bool, False where ``region`` is left out of the CSV."""
    weights: np.ndarray
    routes: np.ndarray
    """Shape (routes, 2): undirected route pairs ``(u, v)`` with ``u < v``, no duplicates."""
    lat: np.ndarray
    lon: np.ndarray
    runways: np.ndarray
    longest: np.ndarray
    elev: np.ndarray
    region_names: list[str]
    country: np.ndarray
    """Shape (airports,): index into ``country_ids`` of each airport's country."""
    country_ids: list[str]
    country_codes: list[str]

    def degrees(self) -> np.ndarray:
        """Shape (airports,): number of routes of each airport."""
        return np.bincount(self.routes.ravel(), minlength=len(self.ids))


def _codes(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` distinct airport-like codes: three letters while they last, then four."""
    letters = string.ascii_uppercase
    pool = ["".join(c) for c in itertools.product(letters, repeat=3)]
    if n > len(pool):
        pool += ["".join(c) for c in itertools.product(letters, repeat=4)]
    picked = rng.choice(len(pool), size=n, replace=False)
    return [pool[i] for i in picked]


def _haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 6371.0 * 2 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _draw_routes(
    spec: GraphSpec, region: np.ndarray, weights: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Chung-Lu sampling inside a block structure; returns unique ``u < v`` pairs."""
    n = len(region)
    target = int(round(spec.mean_degree * n / 2))
    prob = weights / weights.sum()
    members = [np.flatnonzero(region == r) for r in range(spec.regions)]
    member_prob = [prob[m] / prob[m].sum() for m in members]
    pairs: set[tuple[int, int]] = set()
    # Draw in rounds: duplicates and self-loops are thrown away, so a few rounds reach the target.
    for _ in range(50):
        missing = target - len(pairs)
        if missing <= 0:
            break
        batch = int(missing * 1.3) + 16
        src = rng.choice(n, size=batch, p=prob)
        intra = rng.random(batch) < spec.intra_region
        dst = rng.choice(n, size=batch, p=prob)
        for r in range(spec.regions):
            here = np.flatnonzero(intra & (region[src] == r))
            dst[here] = rng.choice(members[r], size=len(here), p=member_prob[r])
        for u, v in zip(src.tolist(), dst.tolist(), strict=True):
            if u != v:
                pairs.add((min(u, v), max(u, v)))
            if len(pairs) >= target:
                break
    # No airport without routes: an isolated one gets a route to its region's busiest airport.
    touched = np.zeros(n, dtype=bool)
    for u, v in pairs:
        touched[u] = touched[v] = True
    for u in np.flatnonzero(~touched).tolist():
        hub = int(members[region[u]][np.argmax(prob[members[region[u]]])])
        if hub == u:  # the hub itself is isolated: link it to the busiest airport overall
            hub = int(np.argmax(np.where(np.arange(n) == u, -1.0, prob)))
        pairs.add((min(u, hub), max(u, hub)))
    return np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)


def generate(spec: GraphSpec = GraphSpec()) -> GeneratedGraph:
    """Draw a graph from ``spec`` (deterministic for a given ``spec.seed``)."""
    rng = np.random.default_rng(spec.seed)
    n = spec.airports
    # Uneven region sizes (Dirichlet), every region non-empty.
    share = rng.dirichlet(np.full(spec.regions, 4.0))
    region = rng.choice(spec.regions, size=n, p=share)
    region[: spec.regions] = np.arange(spec.regions)
    region = rng.permutation(region)
    weights = rng.pareto(spec.pareto_shape, size=n) + 1.0

    centres_lat = rng.uniform(-40, 55, size=spec.regions)
    centres_lon = rng.uniform(-150, 150, size=spec.regions)
    lat = np.clip(centres_lat[region] + rng.normal(0, 14, size=n), -80, 80)
    lon = (centres_lon[region] + rng.normal(0, 22, size=n) + 180) % 360 - 180

    size_rank = np.log(weights)  # hubs: more and longer runways
    runways = np.clip(1 + np.round(size_rank * 1.5 + rng.normal(0, 0.6, size=n)), 1, 8).astype(int)
    longest = (6000 + 1800 * size_rank + rng.normal(0, 900, size=n)).clip(3000, 16000).astype(int)
    elev = np.abs(rng.normal(0, 900, size=n)).astype(int)

    routes = _draw_routes(spec, region, weights, rng)
    labelled = rng.random(n) >= spec.unlabelled
    country, country_region = _countries(spec, region, rng)
    return GeneratedGraph(
        ids=[str(i + 1) for i in range(n)],
        codes=_codes(n, rng),
        region=region,
        labelled=labelled,
        weights=weights,
        routes=routes,
        lat=lat,
        lon=lon,
        runways=runways,
        longest=longest,
        elev=elev,
        region_names=REGION_NAMES[: spec.regions],
        country=country,
        country_ids=[f"c{i + 1}" for i in range(len(country_region))],
        country_codes=[f"{REGION_NAMES[r][:2].upper()}{i + 1}" for i, r in enumerate(country_region)],
    )


def _countries(spec: GraphSpec, region: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, list[int]]:
    """Two to five countries per region (uneven sizes); each airport in one of its region's."""
    country = np.zeros(len(region), dtype=np.int64)
    country_region: list[int] = []
    for r in range(spec.regions):
        members = np.flatnonzero(region == r)
        k = int(min(len(members), rng.integers(2, 6)))
        first = len(country_region)
        country_region += [r] * k
        country[members] = first + rng.choice(k, size=len(members), p=rng.dirichlet(np.full(k, 1.5)))
        country[members[:k]] = first + np.arange(k)  # no empty country
    return country, country_region


def write_csv(graph: GeneratedGraph, out_dir: Path) -> tuple[Path, Path]:
    """Write ``vertices.csv`` and ``edges.csv`` (Neptune Gremlin CSV) under ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    vertices_path, edges_path = out_dir / "vertices.csv", out_dir / "edges.csv"
    with vertices_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(VERTEX_HEADER)
        for i, vid in enumerate(graph.ids):
            code = graph.codes[i]
            region = graph.region_names[graph.region[i]] if graph.labelled[i] else ""
            writer.writerow(
                [
                    vid,
                    "airport",
                    code,
                    f"{code} International Airport",
                    region,
                    int(graph.runways[i]),
                    int(graph.longest[i]),
                    int(graph.elev[i]),
                    f"{graph.lat[i]:.4f}",
                    f"{graph.lon[i]:.4f}",
                ]
            )
        for cid, code in zip(graph.country_ids, graph.country_codes, strict=True):
            writer.writerow([cid, "country", code, f"Country {code}", "", "", "", "", "", ""])
    u, v = graph.routes[:, 0], graph.routes[:, 1]
    dist = _haversine_km(graph.lat[u], graph.lon[u], graph.lat[v], graph.lon[v]).round().astype(int)
    first_edge_id = len(graph.ids) + 1
    with edges_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(EDGE_HEADER)
        eid = first_edge_id
        for a, b, d in zip(u.tolist(), v.tolist(), dist.tolist(), strict=True):
            kind = "regional" if graph.region[a] == graph.region[b] else "intercontinental"
            for s, t in ((a, b), (b, a)):
                writer.writerow([f"e{eid}", graph.ids[s], graph.ids[t], "route", max(int(d), 1), kind])
                eid += 1
        for i, c in enumerate(graph.country.tolist()):
            writer.writerow([f"e{eid}", graph.country_ids[c], graph.ids[i], "contains", "", ""])
            eid += 1
    return vertices_path, edges_path


def generate_csv(out_dir: Path, spec: GraphSpec = GraphSpec()) -> GeneratedGraph:
    """Generate and write in one go; returns the in-memory graph."""
    graph = generate(spec)
    write_csv(graph, out_dir)
    return graph
