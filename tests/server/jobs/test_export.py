"""Export of the live store to Neptune Gremlin CSV, and export-time targets -> training config."""

from __future__ import annotations

import csv

import pytest

from server.jobs.export import TrainingConfigError, export_store, training_config
from server.store.memory import MemoryStore
from server.structure import Cardinality, Int64
from tests.server.jobs.graphs import social_graph


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_export_writes_typed_headers_per_label(tmp_path) -> None:
    store = MemoryStore()
    social_graph(store, people=30)
    seen: list[dict] = []
    summary = export_store(store, tmp_path, progress=seen.append)
    people = _rows(tmp_path / "nodes" / "person.csv")
    assert people[0] == ["~id", "~label", "team:String", "age:Int", "score:Double"]
    assert len(people) == 31 and people[1][:3] == ["p0", "person", "red"]
    assert _rows(tmp_path / "nodes" / "project.csv")[0] == ["~id", "~label", "budget:Long"]
    knows = _rows(tmp_path / "edges" / "(person)-knows-(person).csv")
    assert knows[0] == ["~id", "~from", "~to", "~label", "weight:Double"]
    assert summary["edges"]["(person)-knows-(person)"]["count"] == 30 * 5
    assert summary["vertices"] == 36 and summary["edges_total"] == 30 * 6
    assert seen[-1]["percent"] == 100.0 and seen[-1]["stage"] == "export"


def test_multi_properties_become_array_columns(tmp_path) -> None:
    store = MemoryStore()
    with store.connect() as conn, conn.atomic():
        v = conn.add_vertex("movie", id=Int64(1))
        conn.add_vertex_property(v, "genre", "drama", Cardinality.list_)
        conn.add_vertex_property(v, "genre", "crime; noir", Cardinality.list_)
        w = conn.add_vertex("movie", id=Int64(2))
        conn.add_vertex_property(w, "genre", "comedy", Cardinality.list_)
        conn.add_vertex_property(w, "year", 1999)
        conn.add_vertex_property(v, "year", "unknown")
    export_store(store, tmp_path)
    rows = _rows(tmp_path / "nodes" / "movie.csv")
    assert rows[0] == ["~id", "~label", "genre:String[]", "year:String"]  # mixed types -> String
    assert rows[1] == ["1", "movie", "drama;crime\\; noir", "unknown"]
    assert rows[2] == ["2", "movie", "comedy", "1999"]


def test_training_config_from_export_time_targets(tmp_path) -> None:
    store = MemoryStore()
    social_graph(store, people=18)
    summary = export_store(store, tmp_path)
    config = training_config(
        summary,
        {
            "targets": [
                {
                    "node": "person",
                    "property": "team",
                    "type": "classification",
                    "split_rate": [0.6, 0.2, 0.2],
                },
                {"edge": ["person", "knows", "person"], "type": "link_prediction"},
            ],
            "features": [
                {
                    "node": "person",
                    "property": "age",
                    "type": "bucket_numerical",
                    "range": [1, 99],
                    "bucket_cnt": 5,
                }
            ],
        },
        tmp_path,
    )
    person = next(n for n in config["graph"][0]["nodes"] if n["node"] == ["~id", "person"])
    assert person["file_name"] == "nodes/person.csv"
    assert person["labels"] == [{"label": ["team", "classification"], "split_rate": [0.6, 0.2, 0.2]}]
    features = {f["feature"][0]: f for f in person["features"]}
    assert "team" not in features  # the target is not a feature
    assert features["age"] == {
        "feature": ["age", "age", "bucket_numerical"],
        "range": [1, 99],
        "bucket_cnt": 5,
    }
    knows = next(e for e in config["graph"][0]["edges"] if e["relation"] == ["", "knows"])
    assert knows["labels"] == [{"label": ["", "link_prediction"]}]


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"targets": [{"node": "planet", "property": "team", "type": "classification"}]}, "targets[0].node"),
        (
            {"targets": [{"node": "person", "property": "colour", "type": "classification"}]},
            "targets[0].property",
        ),
        ({"targets": [{"node": "person", "property": "team", "type": "link_prediction"}]}, "targets[0].type"),
        (
            {"targets": [{"edge": ["person", "likes", "person"], "type": "link_prediction"}]},
            "targets[0].edge",
        ),
    ],
)
def test_training_config_names_the_bad_field(tmp_path, spec, field) -> None:
    store = MemoryStore()
    social_graph(store, people=18)
    summary = export_store(store, tmp_path)
    with pytest.raises(TrainingConfigError) as info:
        training_config(summary, spec, tmp_path)
    assert info.value.field == field
