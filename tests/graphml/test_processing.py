"""Data processing on the synthetic CSV graph and on air-routes; configuration errors."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
import torch

from graphml.api import ConfigError, load_predictor, run_data_processing, run_training, run_transform
from graphml.inference.transform import IncompatibleGraph
from graphml.processing.csvgraph import parse_header
from graphml.processing.layout import CONFIG_FILE
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


def _grown(
    csv_graph: Path,
    dest: Path,
    people: list[list],
    files: dict[str, list[list]] | None = None,
    drop: str | None = None,
) -> Path:
    """A copy of the synthetic graph with more ``person`` vertices (rows in ``person.csv``'s
    columns) in a file that sorts before ``person.csv``, so they come first in the new export;
    more CSV files (relative path -> header and rows); and vertex ``drop`` gone."""
    shutil.copytree(csv_graph, dest)
    path = dest / "nodes" / "person.csv"
    lines = path.read_text().splitlines(True)
    if drop is not None:
        path.write_text("".join(line for line in lines if not line.startswith(f"{drop},")))
    header = next(csv.reader(lines[:1]))
    for name, rows in {"nodes/new-people.csv": [header, *people], **(files or {})}.items():
        with open(dest / name, "w", newline="") as fh:
            csv.writer(fh).writerows(rows)
    return dest


def _previous_config(processed: Path) -> dict:
    return json.loads((processed / CONFIG_FILE).read_text())


def test_incremental_processing_reuses_encoders_and_positions(
    csv_graph: Path, nc_dir: Path, tmp_path: Path
) -> None:
    # an unseen tag (multi-category), an age and a year outside the fitted range, unseen words
    new = [
        ["p80", "person", 99, 9.5, "2031-05-05", "glacier kayak", "a;w", "river"],
        ["p81", "person", "", 1.0, "", "", "", "mountain"],
    ]
    grown = _grown(csv_graph, tmp_path / "grown", new)
    summary = run_data_processing(
        grown, tmp_path / "v2", config=_previous_config(nc_dir), previous_dir=nc_dir
    )
    old, pg = ProcessedGraph.load(nc_dir), ProcessedGraph.load(tmp_path / "v2")
    assert summary["feature_dims"] == old.feature_dims()
    assert summary["kept_positions"] == {"person": 80, "product": 16}
    # the old vertices keep their positions and their exact features; new ones come after
    assert pg.id_maps["person"] == old.id_maps["person"] + ["p80", "p81"]
    assert pg.id_maps["product"] == old.id_maps["product"]
    feat, old_feat = pg.graph.nodes["person"].data["feat"], old.graph.nodes["person"].data["feat"]
    assert torch.equal(feat[:80], old_feat)
    # new rows go through the old encoders: unseen values where the old vocabulary puts them,
    # numbers scaled by the old statistics (not refitted, not clipped)
    raw = dict(zip(["age", "score", "joined", "bio", "tags"], new[0][2:7], strict=True))
    blocks = [torch.from_numpy(enc.transform([raw[prop]])) for prop, _, enc in old.encoders["person"]]
    assert torch.equal(feat[80:81], torch.cat(blocks, dim=1))
    tags = next(enc for prop, _, enc in old.encoders["person"] if prop == "tags")
    assert tags.transform(["a;w"]).sum() == 1  # "w" is unseen: no column (no OTHER bucket under 100 values)
    # a fresh processing of the same data refits: the unseen tag widens the features
    fresh = run_data_processing(grown, tmp_path / "fresh", config=_previous_config(nc_dir))
    assert fresh["feature_dims"]["person"] > old.feature_dims()["person"] and "kept_positions" not in fresh


def test_incremental_processing_keeps_the_splits(
    csv_graph: Path, nc_dir: Path, lp_dir: Path, tmp_path: Path
) -> None:
    """What was held out (validation, test) before stays held out: a warm-started model is never
    trained on what its predecessor was evaluated on. New vertices and edges get their own draw."""
    new = [[f"p{80 + i}", "person", 30, 1.0, "2016-01-01", "river boat", "a;b", "river"] for i in range(20)]
    edges = [["~id", "~from", "~to", "~label"], *[[f"n{i}", f"p{80 + i}", "p1", "knows"] for i in range(20)]]
    grown = _grown(csv_graph, tmp_path / "grown", new, files={"edges/new-knows.csv": edges})
    names = ("train_mask", "val_mask", "test_mask")
    old = ProcessedGraph.load(nc_dir)
    run_data_processing(grown, tmp_path / "nc2", config=_previous_config(nc_dir), previous_dir=nc_dir)
    pg = ProcessedGraph.load(tmp_path / "nc2")
    for name in names:
        assert torch.equal(pg.graph.nodes["person"].data[name][:80], old.graph.nodes["person"].data[name])
    assert int(sum(pg.graph.nodes["person"].data[name][80:].sum() for name in names)) == 20  # all drawn

    def splits(processed: ProcessedGraph) -> dict[tuple[str, str], str]:
        etype = processed.target.etype
        src, dst = processed.graph.edges(etype=etype)
        ids_s, ids_d = processed.id_maps[etype[0]], processed.id_maps[etype[2]]
        data = processed.graph.edges[etype].data
        return {
            (ids_s[s], ids_d[d]): next(n for n in names if data[n][i])
            for i, (s, d) in enumerate(zip(src.tolist(), dst.tolist(), strict=True))
        }

    run_data_processing(grown, tmp_path / "lp2", config=_previous_config(lp_dir), previous_dir=lp_dir)
    before, after = splits(ProcessedGraph.load(lp_dir)), splits(ProcessedGraph.load(tmp_path / "lp2"))
    assert {k: after[k] for k in before} == before
    assert len(after) == len(before) + 20


def test_incremental_processing_after_deletions(csv_graph: Path, nc_dir: Path, tmp_path: Path) -> None:
    new = [["p80", "person", 30, 1.0, "2016-01-01", "river boat", "a;b", "river"]]
    grown = _grown(csv_graph, tmp_path / "grown", new, drop="p3")
    config = _previous_config(nc_dir)
    summary = run_data_processing(grown, tmp_path / "v2", config=config, previous_dir=nc_dir)
    old = ProcessedGraph.load(nc_dir).id_maps["person"]
    assert ProcessedGraph.load(tmp_path / "v2").id_maps["person"] == [v for v in old if v != "p3"] + ["p80"]
    assert summary["kept_positions"]["person"] == old.index("p3")  # positions shift after the gap
    gone = "label 'person': 1 of the previous processing job's 80 vertices missing"
    assert any(w.startswith(gone) for w in summary["warnings"])
    # a configuration that encodes a column differently than the previous job did is refused
    nodes = config["graph"][0]["nodes"]
    i = next(i for i, n in enumerate(nodes) if n["node"][1] == "person")
    j = next(j for j, f in enumerate(nodes[i]["features"]) if f["feature"][0] == "age")
    nodes[i]["features"][j] = {"feature": ["age", "age", "category"]}
    with pytest.raises(ConfigError) as info:
        run_data_processing(grown, tmp_path / "v3", config=config, previous_dir=nc_dir)
    assert info.value.field == f"graph.0.nodes.{i}.features.{j}.feature" and "as numerical" in str(info.value)


def test_old_model_transforms_the_incrementally_processed_graph(csv_graph: Path, tmp_path: Path) -> None:
    """Products carry no features here, so the model learns an embedding per product: the old
    products keep theirs by position, the new product (past the trained ones) gets none."""
    config = {
        "targets": [{"node": "person", "property": "group", "type": "classification"}],
        "features": [{"node": "product", "property": "price", "type": "none"}],
    }
    run_data_processing(csv_graph, tmp_path / "v1", config=config)
    hp = {"num-epochs": 1, "num-hidden": 8, "batch-size": 64, "fanout": [5, 5]}
    run_training(tmp_path / "v1", tmp_path / "model", max_hpo_jobs=1, overrides=hp)
    person = ["p80", "person", 30, 1.0, "2016-01-01", "river boat", "a;b", ""]
    files = {
        "nodes/product-new.csv": [["~id", "~label", "price:Double"], ["q16", "product", 12.5]],
        "edges/new.csv": [
            ["~id", "~from", "~to", "~label"],
            ["n0", "p80", "q16", "likes"],
            ["n1", "p80", "p0", "knows"],
        ],
    }
    grown = _grown(csv_graph, tmp_path / "grown", [person], files)
    previous = _previous_config(tmp_path / "v1")
    run_data_processing(grown, tmp_path / "v2", config=previous, previous_dir=tmp_path / "v1")
    info = run_transform(tmp_path / "v2", tmp_path / "model", tmp_path / "t2")
    assert info["new_nodes"] == {"person": 1, "product": 1}
    (answer,) = load_predictor(tmp_path / "t2").classify(["p80"], "group", limit=2)
    assert sorted(label for label, _ in answer) == ["mountain", "river"]
    # the same grown graph processed afresh: the widths happen to match, but nothing says the
    # products are where the model learnt them, so the transform refuses
    run_data_processing(grown, tmp_path / "fresh", config=previous)
    with pytest.raises(IncompatibleGraph, match="product 17 here, 16 when trained"):
        run_transform(tmp_path / "fresh", tmp_path / "model", tmp_path / "t3")
