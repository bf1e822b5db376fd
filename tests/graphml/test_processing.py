"""Data processing on the synthetic CSV graph and on air-routes; configuration errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from graphml.api import ConfigError, run_data_processing
from graphml.processing.csvgraph import parse_header
from graphml.processing.processed import ProcessedGraph
from tests.conftest import DATASETS


def test_headers() -> None:
    assert parse_header("lat:Double").type == "number"
    col = parse_header("tags:String[]")
    assert col.multi and col.type == "string"
    assert parse_header("code").type == "string"


def test_inferred_config_written_and_link_prediction_default(csv_graph: Path, tmp_path: Path) -> None:
    summary = run_data_processing(csv_graph, tmp_path / "out")
    cfg = json.loads((tmp_path / "out" / "training-data-configuration.json").read_text())
    assert cfg["version"] == "v2.0" and cfg["graph"][0]["nodes"]
    assert summary["target"]["task"] == "link_prediction"
    assert summary["nodes"] == {"person": 80, "product": 16}
    feats = dict(f.split(":") for f in summary["features"]["person"])
    assert feats["age"] == "numerical" and feats["bio"] == "text_tfidf" and feats["joined"] == "datetime"
    pg = ProcessedGraph.load(tmp_path / "out")
    et = tuple(summary["target"]["etype"])
    data = pg.graph.edges[et].data
    n = pg.graph.num_edges(et)
    assert int(data["train_mask"].sum()) == round(0.9 * n)  # Neptune's LP default 0.9 / 0.05 / 0.05
    assert not (data["train_mask"] & data["test_mask"]).any()
    # the written config reproduces the same processed graph
    again = run_data_processing(csv_graph, tmp_path / "again", config=cfg)
    assert again["feature_dims"] == summary["feature_dims"]


def test_node_classification_labels_masks_and_id_maps(nc_dir: Path) -> None:
    pg = ProcessedGraph.load(nc_dir)
    assert pg.target.task == "node_class" and pg.target.classes == ["mountain", "river"]
    data = pg.graph.nodes["person"].data
    assert "group" not in [p for p, _, _ in pg.encoders["person"]]  # the target is never a feature
    p0 = pg.index["person"]["p0"]
    assert pg.target.classes[int(data["label"][p0])] == "river"
    total = data["train_mask"].sum() + data["val_mask"].sum() + data["test_mask"].sum()
    assert int(total) == 80 and int(data["train_mask"].sum()) == 48
    assert data["feat"].shape[0] == 80 and data["feat"].dtype == torch.float32


def test_multi_label_and_custom_split(csv_graph: Path, tmp_path: Path) -> None:
    (csv_graph / "custom_split").mkdir(exist_ok=True)
    for part, ids in (("train", range(0, 60)), ("valid", range(60, 70)), ("test", range(70, 80))):
        (csv_graph / "custom_split" / f"{part}.csv").write_text("~id\n" + "\n".join(f"p{i}" for i in ids))
    cfg = {
        "targets": [
            {
                "node": "person",
                "property": "tags",
                "type": "classification",
                "separator": ";",
                "custom_split_filenames": {
                    "train": "custom_split/train.csv",
                    "valid": "custom_split/valid.csv",
                    "test": "custom_split/test.csv",
                },
            }
        ]
    }
    run_data_processing(csv_graph, tmp_path / "ml", config=cfg)
    pg = ProcessedGraph.load(tmp_path / "ml")
    data = pg.graph.nodes["person"].data
    assert pg.target.multi_label and data["label"].shape == (80, 6)
    assert float(data["label"][pg.index["person"]["p0"]].sum()) == 2
    assert int(data["train_mask"].sum()) == 60 and bool(data["test_mask"][pg.index["person"]["p75"]])


def test_edge_regression_target(csv_graph: Path, tmp_path: Path) -> None:
    cfg = {"targets": [{"edge": ["person", "knows", "person"], "property": "since", "type": "regression"}]}
    summary = run_data_processing(csv_graph, tmp_path / "er", config=cfg)
    assert summary["target"]["task"] == "edge_regression"
    pg = ProcessedGraph.load(tmp_path / "er")
    assert pg.graph.edges[("person", "knows", "person")].data["label"].min() >= 2000


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"features": [{"node": "person", "property": "age", "type": "wavelet"}]}, "features.0.type"),
        (
            {"targets": [{"node": "person", "property": "nope", "type": "classification"}]},
            "targets.0.property",
        ),
        ({"targets": [{"node": "robot", "property": "x", "type": "classification"}]}, "targets.0.node"),
        ({"targets": [{"node": "person", "type": "classification"}]}, "targets.0.property"),
        ({"targets": [{"edge": ["person", "knows"], "type": "link_prediction"}]}, "targets.0.edge"),
        ({"targets": [{"node": "person", "property": "group", "type": "link_prediction"}]}, "targets.0.type"),
        ({"targetz": []}, "targetz"),
        (
            {
                "graph": [
                    {
                        "nodes": [
                            {"node": ["~id", "person"], "features": [{"feature": ["age", "age", "magic"]}]}
                        ]
                    }
                ]
            },
            "graph.0.nodes.0.features.0.feature.2",
        ),
        (
            {
                "graph": [
                    {
                        "nodes": [
                            {
                                "node": ["~id", "person"],
                                "labels": [
                                    {"label": ["group", "classification"], "split_rate": [0.5, 0.5, 0.5]}
                                ],
                            }
                        ]
                    }
                ]
            },
            "graph.0.nodes.0.labels.0.split_rate",
        ),
        (
            {
                "graph": [
                    {
                        "nodes": [
                            {"node": ["~id", "person"], "labels": [{"label": ["missing", "classification"]}]}
                        ]
                    }
                ]
            },
            "graph.0.nodes.0.labels.0.label",
        ),
        (
            {
                "graph": [
                    {
                        "nodes": [
                            {
                                "node": ["~id", "person"],
                                "features": [
                                    {"feature": ["age", "age", "bucket_numerical"], "range": [0, 10]}
                                ],
                            }
                        ]
                    }
                ]
            },
            "graph.0.nodes.0.features.0",
        ),
    ],
)
def test_config_errors_name_the_field(csv_graph: Path, tmp_path: Path, config: dict, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        run_data_processing(csv_graph, tmp_path / "bad", config=config)
    assert info.value.field == field
    assert not (tmp_path / "bad").exists()  # nothing partial is left behind


def test_air_routes_processing(tmp_path: Path) -> None:
    cfg = {"targets": [{"node": "airport", "property": "country", "type": "classification"}]}
    summary = run_data_processing(DATASETS / "air-routes", tmp_path / "ar", config=cfg)
    assert summary["nodes"]["airport"] == 3504
    assert summary["edges"]["airport|route|airport"] == 50637
    assert summary["target"]["task"] == "node_class" and len(summary["target"]["classes"]) > 200
    pg = ProcessedGraph.load(tmp_path / "ar")
    aus = pg.index["airport"]["3"]  # AUS has ~id 3
    assert pg.target.classes[int(pg.graph.nodes["airport"].data["label"][aus])] == "US"
