"""Checks a request's training-data description before a job is queued, so that mistakes get a
400 naming the field instead of a job that fails minutes later: unknown feature types, and
targets or features naming labels or properties the live graph does not have."""

from __future__ import annotations

from typing import Any

from server.jobs.export import TrainingConfigError
from server.store.interface import ElementQuery, GraphStore, PropertyFilter

FEATURE_TYPES = frozenset(
    {
        "numerical",
        "bucket_numerical",
        "category",
        "datetime",
        "text_fasttext",
        "text_sbert",
        "text_sbert128",
        "text_sbert512",
        "text_word2vec",
        "word2vec",
        "text_tfidf",
        "auto",
        "none",
    }
)


def _check_type(feature_type: Any, where: str) -> None:
    if feature_type not in FEATURE_TYPES:
        raise TrainingConfigError(
            f"unknown feature type {feature_type!r} (one of {', '.join(sorted(FEATURE_TYPES))})", where
        )


def check_feature_types(config: dict[str, Any], where: str) -> None:
    """Every feature of a ``training-data-configuration.json`` (either published form, or the
    export-time ``neptune_ml`` form) has a known type."""
    if "graph" not in config:
        for i, feature in enumerate(config.get("features") or []):
            if isinstance(feature, dict) and "type" in feature:
                _check_type(feature["type"], f"{where}.features[{i}].type")
        return
    graphs = config["graph"] if isinstance(config["graph"], list) else [config["graph"]]
    for g, graph in enumerate(graphs):
        for section in ("nodes", "edges"):
            for e, entry in enumerate((graph or {}).get(section) or []):
                for f, feature in enumerate(entry.get("features") or []):
                    spec = feature.get("feature") if isinstance(feature, dict) else None
                    if isinstance(spec, list) and len(spec) == 3:
                        _check_type(spec[2], f"{where}.graph[{g}].{section}[{e}].features[{f}].feature[2]")


def check_neptune_ml(store: GraphStore | None, neptune_ml: dict[str, Any], where: str) -> None:
    """Export-time targets and features: known types, and (with a store) labels and properties
    that exist in the live graph."""
    check_feature_types(neptune_ml, where)
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
