"""Checks a request's training-data description before a job is queued, so that mistakes get a
400 naming the field instead of a job that fails minutes later: feature and target types that
processing does not implement, a malformed published configuration, and targets or features
naming labels or properties the live graph (or the input CSV files) do not have.

The accepted types are read from ``graphml.processing.config``, so they are exactly the ones
processing implements. ``graphml`` is imported inside the functions, as everywhere in ``server``,
so that starting the server does not load it.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from server.jobs.export import TrainingConfigError
from server.store.interface import ElementQuery, GraphStore, PropertyFilter

NEPTUNE_ONLY_FEATURE_TYPES = (
    "text_fasttext",
    "text_sbert",
    "text_sbert128",
    "text_sbert512",
    "text_word2vec",
    "word2vec",
)
"""Neptune ML feature types that Seer's processing does not implement (said so in the 400)."""


def _check_feature_type(feature_type: Any, where: str) -> None:
    from graphml.processing.config import FEATURE_TYPES

    if feature_type in FEATURE_TYPES:
        return
    supported = ", ".join(FEATURE_TYPES)
    if feature_type in NEPTUNE_ONLY_FEATURE_TYPES:
        raise TrainingConfigError(
            f"feature type {feature_type!r} is a Neptune ML type Seer does not implement; "
            f"use one of: {supported}",
            where,
        )
    raise TrainingConfigError(f"unknown feature type {feature_type!r}; use one of: {supported}", where)


def _check_target_type(target_type: Any, on_node: bool, where: str) -> None:
    """A node target is classification or regression; an edge target may also be link_prediction."""
    from graphml.processing.config import NODE_TARGET_TYPES, TARGET_TYPES

    allowed = NODE_TARGET_TYPES if on_node else TARGET_TYPES
    if target_type in allowed:
        return
    if target_type in TARGET_TYPES:
        raise TrainingConfigError(
            f"{target_type!r} is an edge task; a node target is one of: {', '.join(allowed)}", where
        )
    raise TrainingConfigError(f"unknown target type {target_type!r}; use one of: {', '.join(allowed)}", where)


def _graphs(config: dict[str, Any]) -> list[Any]:
    """The ``graph`` entries of a published configuration (a list, or Neptune's single object)."""
    return config["graph"] if isinstance(config["graph"], list) else [config["graph"]]


def _entries(config: dict[str, Any], where: str) -> list[tuple[str, str, dict[str, Any]]]:
    """``(section, path, entry)`` of every node and edge entry of a published configuration."""
    found = []
    for g, graph in enumerate(_graphs(config)):
        for section in ("nodes", "edges"):
            for e, entry in enumerate((graph if isinstance(graph, dict) else {}).get(section) or []):
                if isinstance(entry, dict):
                    found.append((section, f"{where}.graph[{g}].{section}[{e}]", entry))
    return found


def _spec(item: Any, key: str, size: int) -> list[Any] | None:
    """``item[key]`` when it is a list of ``size`` values (``feature``: [column, name, type];
    ``label``: [column, task]); else ``None``, left to the schema check to report."""
    value = item.get(key) if isinstance(item, dict) else None
    return value if isinstance(value, list) and len(value) == size else None


def check_types(config: dict[str, Any], where: str) -> None:
    """Every feature and target of a ``training-data-configuration.json`` (either published form,
    or the export-time ``neptune_ml`` form) has a type that processing implements."""
    if "graph" not in config:
        for i, feature in enumerate(config.get("features") or []):
            if isinstance(feature, dict) and "type" in feature:
                _check_feature_type(feature["type"], f"{where}.features[{i}].type")
        for i, target in enumerate(config.get("targets") or []):
            if isinstance(target, dict):
                _check_target_type(target.get("type"), "node" in target, f"{where}.targets[{i}].type")
        return
    for section, at, entry in _entries(config, where):
        for f, feature in enumerate(entry.get("features") or []):
            if spec := _spec(feature, "feature", 3):
                _check_feature_type(spec[2], f"{at}.features[{f}].feature[2]")
        for i, label in enumerate(entry.get("labels") or []):
            if spec := _spec(label, "label", 2):
                _check_target_type(spec[1], section == "nodes", f"{at}.labels[{i}].label[1]")


def _check_short_form(config: dict[str, Any], where: str) -> None:
    """The export-time form (``{"targets", "features", "split_rate"}``): only its keys, whose
    features and targets have types processing implements. A misspelled key would otherwise be
    ignored by the export, which would then infer a different task."""
    from graphml.api import ConfigError
    from graphml.processing.config import check_short_form_entries, check_short_form_keys

    try:
        check_short_form_keys(config)
        check_types(config, where)
        check_short_form_entries(config)
    except ConfigError as exc:
        raise _request_error(exc, where) from exc


def _request_error(exc: Any, where: str) -> TrainingConfigError:
    """A processing ``ConfigError`` as the REST layer names fields: processing writes pydantic's
    paths (``graph.0.nodes``), requests index (``configFileName.graph[0].nodes``)."""
    path = re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", exc.field or "")
    message = str(exc).removeprefix(f"{exc.field}: ")
    return TrainingConfigError(message, f"{where}.{path}" if path else where)


def check_config(config: dict[str, Any], where: str) -> None:
    """A ``training-data-configuration.json`` of either form. A published (``graph``) one gets its
    types checked (:func:`check_types`), then the schema processing applies to it (unknown or
    missing keys, bad values)."""
    from graphml.api import ConfigError
    from graphml.processing.config import parse_config

    if "graph" not in config:
        _check_short_form(config, where)
        return
    check_types(config, where)
    try:
        parse_config(config)
    except ConfigError as exc:
        raise _request_error(exc, where) from exc


def _csv_columns(folder: Path) -> set[str]:
    """The property names in the headers of the graph files (with ``~id`` or ``~from``) under
    ``folder``, read from their first lines only. Every vertex or edge label's columns are among
    them, so a property missing from all of them does not exist in the data."""
    from graphml.api import GraphMLError
    from graphml.processing.csvgraph import parse_header

    names: set[str] = set()
    for path in folder.rglob("*.csv"):
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as file:
            header = next(csv.reader(file), [])
        if "~id" not in header and "~from" not in header:
            continue  # not a graph file: processing skips it too
        try:
            names.update(parse_header(column).name for column in header)
        except GraphMLError as exc:
            raise TrainingConfigError(f"{path}: {exc}", "inputDataS3Location") from exc
    return names


def check_csv_columns(config: dict[str, Any], folder: Path, where: str) -> None:
    """The target and feature properties of ``config`` (either form) appear in the header of a
    CSV file of ``folder``; a link_prediction target needs none."""
    named: list[tuple[str, str]] = []  # (property, path of the field naming it)
    if "graph" not in config:
        for section in ("targets", "features"):
            for i, spec in enumerate(config.get(section) or []):
                prop = spec.get("property") if isinstance(spec, dict) else None
                if isinstance(prop, str) and prop and spec.get("type") != "link_prediction":
                    named.append((prop, f"{where}.{section}[{i}].property"))
    else:
        for section, at, entry in _entries(config, where):
            for i, label in enumerate(entry.get("labels") or []):
                if (spec := _spec(label, "label", 2)) and spec[1] != "link_prediction":
                    named.append((spec[0], f"{at}.labels[{i}].label[0]"))
            if section == "edges":
                continue  # processing encodes node features only, so it reads no edge feature column
            for i, feature in enumerate(entry.get("features") or []):
                if spec := _spec(feature, "feature", 3):
                    named.append((spec[0], f"{at}.features[{i}].feature[0]"))
    if not named:
        return
    columns = _csv_columns(folder)
    for prop, at in named:
        if prop not in columns:
            raise TrainingConfigError(f"no CSV file under {folder} has a property column {prop!r}", at)


def check_neptune_ml(store: GraphStore | None, neptune_ml: dict[str, Any], where: str) -> None:
    """Export-time targets and features: known keys and types, and (with a store) labels and
    properties that exist in the live graph."""
    _check_short_form(neptune_ml, where)
    if store is None:
        return
    with store.connect() as conn:
        for section in ("targets", "features"):
            for i, spec in enumerate(neptune_ml.get(section) or []):
                at = f"{where}.{section}[{i}]"
                if not isinstance(spec, dict):
                    raise TrainingConfigError("expected an object", at)
                prop = spec.get("property")
                if "node" in spec:
                    labels = spec["node"] if isinstance(spec["node"], list) else [spec["node"]]
                    for label in labels:
                        if conn.count_vertices(ElementQuery(labels=[label])) == 0:
                            raise TrainingConfigError(
                                f"the graph has no vertices labelled {label!r}", f"{at}.node"
                            )
                        if prop and not conn.count_vertices(
                            ElementQuery(labels=[label], filters=[PropertyFilter(prop, "exists")])
                        ):
                            raise TrainingConfigError(
                                f"no {label!r} vertex has a property {prop!r}", f"{at}.property"
                            )
                elif "edge" in spec:
                    edge = spec["edge"]
                    if not (isinstance(edge, list) and len(edge) == 3):
                        raise TrainingConfigError(
                            "an edge is named [from label, edge label, to label]", f"{at}.edge"
                        )
                    if conn.count_edges(ElementQuery(labels=[edge[1]])) == 0:
                        raise TrainingConfigError(f"the graph has no {edge[1]!r} edges", f"{at}.edge")
                    if prop and not conn.count_edges(
                        ElementQuery(labels=[edge[1]], filters=[PropertyFilter(prop, "exists")])
                    ):
                        raise TrainingConfigError(
                            f"no {edge[1]!r} edge has a property {prop!r}", f"{at}.property"
                        )
                else:
                    raise TrainingConfigError("name a node label (node) or an edge (edge)", at)
