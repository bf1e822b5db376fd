"""The synthetic airline graph: structure (communities, heavy-tailed degrees), learnability of the
region label, and the Neptune CSV it writes."""

from __future__ import annotations

import csv
import subprocess
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from server.demo.generate import EDGE_HEADER, VERTEX_HEADER, GraphSpec, generate, generate_csv
from tests.conftest import seer_command, seer_env


@pytest.fixture(scope="module")
def graph():
    return generate(GraphSpec())


def test_same_seed_same_graph_other_seed_other_graph() -> None:
    a, b, c = generate(GraphSpec(seed=3)), generate(GraphSpec(seed=3)), generate(GraphSpec(seed=4))
    assert np.array_equal(a.routes, b.routes) and a.codes == b.codes
    assert not np.array_equal(a.routes, c.routes)


def test_routes_are_simple_and_every_airport_has_one(graph) -> None:
    routes = graph.routes
    assert (routes[:, 0] < routes[:, 1]).all(), "pairs are u < v, so no self-loops"
    assert len({tuple(r) for r in routes.tolist()}) == len(routes), "no duplicate routes"
    assert graph.degrees().min() >= 1
    mean = 2 * len(routes) / len(graph.ids)
    assert 8.0 <= mean <= 12.0  # mean_degree=10


def test_degrees_are_heavy_tailed(graph) -> None:
    deg = np.sort(graph.degrees())[::-1]
    assert deg[0] >= 5 * deg.mean(), "hubs exist"
    top10 = deg[: len(deg) // 10].sum() / deg.sum()
    assert top10 >= 0.3, f"top 10% of airports hold {top10:.0%} of route ends"
    assert np.median(deg) < deg.mean(), "right-skewed"


def test_routes_mostly_stay_in_their_region(graph) -> None:
    same = graph.region[graph.routes[:, 0]] == graph.region[graph.routes[:, 1]]
    assert 0.78 <= same.mean() <= 0.92


def test_region_is_learnable_from_the_neighbourhood(graph) -> None:
    """Majority vote of labelled neighbours predicts an airport's region far above chance."""
    neighbours: dict[int, list[int]] = {i: [] for i in range(len(graph.ids))}
    for u, v in graph.routes.tolist():
        neighbours[u].append(v)
        neighbours[v].append(u)
    hits = total = 0
    for i, nbrs in neighbours.items():
        votes = Counter(int(graph.region[j]) for j in nbrs if graph.labelled[j])
        if votes:
            total += 1
            hits += votes.most_common(1)[0][0] == graph.region[i]
    majority = np.bincount(graph.region).max() / len(graph.ids)
    assert hits / total >= 0.75 > majority + 0.3


def test_hubs_have_more_runways(graph) -> None:
    deg = graph.degrees()
    big = graph.runways[deg >= np.percentile(deg, 90)].mean()
    small = graph.runways[deg <= np.percentile(deg, 50)].mean()
    assert big > small + 1


def test_bad_spec_is_refused() -> None:
    with pytest.raises(ValueError, match="regions"):
        GraphSpec(regions=0)
    with pytest.raises(ValueError, match="unlabelled"):
        GraphSpec(unlabelled=1.0)


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def test_csv_is_neptune_gremlin_csv(tmp_path: Path) -> None:
    graph = generate_csv(tmp_path, GraphSpec(airports=120, seed=5, unlabelled=0.2))
    header, rows = _read(tmp_path / "vertices.csv")
    assert header == VERTEX_HEADER
    vertices = [v for v in rows if v["~label"] == "airport"]
    assert [v["~id"] for v in vertices] == graph.ids
    assert {v["~label"] for v in rows} == {"airport", "country"}
    assert [v["~id"] for v in rows if v["~label"] == "country"] == graph.country_ids
    assert len({v["code:String"] for v in vertices}) == 120
    for v in vertices:
        int(v["runways:Int"]), int(v["elev:Int"]), float(v["lat:Double"]), float(v["lon:Double"])
    blank = sum(1 for v in vertices if v["region:String"] == "")
    assert blank == int((~graph.labelled).sum()) > 0
    assert {v["region:String"] for v in vertices} - {""} <= set(graph.region_names)

    header, all_edges = _read(tmp_path / "edges.csv")
    assert header == EDGE_HEADER
    edges = [e for e in all_edges if e["~label"] == "route"]
    contains = [e for e in all_edges if e["~label"] == "contains"]
    assert len(edges) == 2 * len(graph.routes) and len(contains) == len(graph.ids)
    assert sorted(e["~to"] for e in contains) == sorted(graph.ids), "every airport is in one country"
    region_of_country: dict[str, set] = {}
    for e in contains:
        region_of_country.setdefault(e["~from"], set()).add(graph.region[graph.ids.index(e["~to"])])
    assert all(len(r) == 1 for r in region_of_country.values()), "a country lies in one region"
    assert set(region_of_country) == set(graph.country_ids)
    ids = set(graph.ids)
    pairs = {(e["~from"], e["~to"]) for e in edges}
    assert all(e["~from"] in ids and e["~to"] in ids and e["~label"] == "route" for e in edges)
    assert all((b, a) in pairs for a, b in pairs), "every route flies both ways"
    every_id = [e["~id"] for e in all_edges] + [v["~id"] for v in rows]
    assert len(set(every_id)) == len(every_id), "ids are unique"
    assert all(int(e["dist:Int"]) >= 1 for e in edges)
    region = {vid: graph.region[i] for i, vid in enumerate(graph.ids)}
    for e in edges:
        same = region[e["~from"]] == region[e["~to"]]
        assert e["kind:String"] == ("regional" if same else "intercontinental")


def test_seer_generate_command(tmp_path: Path) -> None:
    out = subprocess.run(
        seer_command("generate", str(tmp_path), "--airports", "50", "--seed", "2"),
        env=seer_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "wrote 50 airports" in out.stdout
    assert (tmp_path / "vertices.csv").read_text().count(",airport,") == 50
    bad = subprocess.run(
        seer_command("generate", str(tmp_path), "--regions", "0"),
        env=seer_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0 and "regions" in bad.stderr
