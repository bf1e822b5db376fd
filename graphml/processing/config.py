"""``training-data-configuration.json`` (Neptune's v2.0 format) as pydantic models.

Two documents are accepted: the full file (``{"version", "query_engine", "graph": [{"nodes",
"edges"}]}``) and the short export-time form (``{"targets": [...], "features": [...],
"split_rate": ...}``) that Neptune users write in ``additionalParams.neptune_ml``; the short form
is applied on top of the inferred full document. Every validation error becomes
:class:`~graphml.api.ConfigError` whose ``field`` is the dotted path of the bad entry.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from graphml.api import ConfigError
from graphml.processing.csvgraph import CsvGraph
from graphml.processing.features import FEATURE_TYPES, auto_type

CONFIG_KEYS_SHORT = frozenset({"version", "targets", "features", "split_rate"})
"""The keys of the short export-time form (``additionalParams.neptune_ml``)."""
FeatureType = Literal["numerical", "bucket_numerical", "category", "datetime", "text_tfidf", "auto", "none"]
TargetType = Literal["classification", "regression", "link_prediction"]
TARGET_TYPES: tuple[str, ...] = get_args(TargetType)
"""The target (label) types processing implements; node targets take the first two."""
NODE_TARGET_TYPES: tuple[str, ...] = ("classification", "regression")
DEFAULT_SPLIT = {
    "classification": [0.9, 0.1, 0.0],
    "regression": [0.9, 0.1, 0.0],
    "link_prediction": [0.9, 0.05, 0.05],
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FeatureSpec(_Strict):
    """``feature: [column, feature_name, feature_type]`` plus type-specific options."""

    feature: tuple[str, str, FeatureType]
    norm: Literal["min-max", "standard", "none"] | None = None
    imputer: Literal["mean", "median", "most-frequent", "most_frequent", "none"] | None = None
    separator: str | None = None
    range: tuple[float, float] | None = None
    bucket_cnt: int | None = Field(default=None, ge=1)
    slide_window_size: float | None = Field(default=None, ge=0)
    max_features: int | None = Field(default=None, ge=1)
    min_df: int | None = Field(default=None, ge=1)
    ngram_range: tuple[int, int] | None = None
    datetime_parts: list[Literal["year", "month", "weekday", "hour"]] | None = None
    language: str | None = None
    max_length: int | None = None

    @model_validator(mode="after")
    def _bucket_needs_range(self) -> FeatureSpec:
        if self.feature[2] == "bucket_numerical" and (self.range is None or self.bucket_cnt is None):
            raise ValueError("bucket_numerical needs range and bucket_cnt")
        if self.range is not None and self.range[0] >= self.range[1]:
            raise ValueError("range must be [low, high] with low < high")
        return self

    def options(self) -> dict[str, Any]:
        opts = self.model_dump(exclude={"feature"}, exclude_none=True)
        if opts.get("imputer") == "none":
            opts["imputer"] = None
        return opts


class CustomSplit(_Strict):
    train: list[str] | str
    valid: list[str] | str
    test: list[str] | str


class LabelSpec(_Strict):
    """``label: [column, task]`` with ``split_rate`` or ``custom_split_filenames``."""

    label: tuple[str, TargetType]
    split_rate: tuple[float, float, float] | None = None
    custom_split_filenames: CustomSplit | None = None
    separator: str | None = None

    @field_validator("split_rate")
    @classmethod
    def _sums_to_one(cls, v: tuple[float, float, float] | None) -> tuple[float, float, float] | None:
        if v is not None and (any(x < 0 for x in v) or abs(sum(v) - 1.0) > 1e-6):
            raise ValueError("split_rate must be three non-negative rates summing to 1")
        return v

    def rates(self) -> tuple[float, float, float]:
        return tuple(self.split_rate or DEFAULT_SPLIT[self.label[1]])  # type: ignore[return-value]


class NodeEntry(_Strict):
    file_name: str | list[str] | None = None
    separator: str = ","
    node: tuple[str, str]
    features: list[FeatureSpec] = []
    labels: list[LabelSpec] = []

    @model_validator(mode="after")
    def _node_tasks(self) -> NodeEntry:
        if any(lab.label[1] == "link_prediction" for lab in self.labels):
            raise ValueError("link_prediction is an edge task")
        return self


class EdgeEntry(_Strict):
    file_name: str | list[str] | None = None
    separator: str = ","
    source: tuple[str, str]
    relation: tuple[str, str]
    dest: tuple[str, str]
    features: list[FeatureSpec] = []
    labels: list[LabelSpec] = []

    @property
    def etype(self) -> tuple[str, str, str]:
        col, prefix = self.relation
        return (self.source[1], prefix if not col else (f"{prefix}-{col}" if prefix else col), self.dest[1])


class GraphEntry(_Strict):
    nodes: list[NodeEntry] = []
    edges: list[EdgeEntry] = []
    warnings: list[str] = []


class TrainingDataConfig(_Strict):
    version: str = "v2.0"
    query_engine: Literal["gremlin"] = "gremlin"
    graph: list[GraphEntry] = Field(min_length=1)

    @property
    def nodes(self) -> list[NodeEntry]:
        return [n for g in self.graph for n in g.nodes]

    @property
    def edges(self) -> list[EdgeEntry]:
        return [e for g in self.graph for e in g.edges]


def config_error(exc: ValidationError, prefix: str = "") -> ConfigError:
    """The first pydantic error as a ConfigError naming its dotted field path."""
    err = exc.errors()[0]
    path = ".".join(str(p) for p in err["loc"])
    field = f"{prefix}.{path}" if prefix and path else (prefix or path)
    return ConfigError(f"{field}: {err['msg']}", field=field or None)


def parse_config(doc: dict[str, Any]) -> TrainingDataConfig:
    if not isinstance(doc, dict):
        raise ConfigError("the configuration must be a JSON object", field="config")
    try:
        return TrainingDataConfig.model_validate(doc)
    except ValidationError as exc:
        raise config_error(exc) from exc


# --- inference -----------------------------------------------------------------------------------


def _infer_features(table: Any) -> list[dict[str, Any]]:
    out = []
    for name, col in table.columns.items():
        values = table.props[name].tolist()
        sep = ";" if col.multi else None
        ftype = (
            "datetime" if col.type == "date" else auto_type(values, numeric_hint=col.numeric, separator=sep)
        )
        if ftype is None:
            continue
        spec: dict[str, Any] = {"feature": [name, name, ftype]}
        if ftype == "numerical":
            spec.update(norm="min-max", imputer="median")
        if sep:
            spec["separator"] = sep
        out.append(spec)
    return out


def infer_config(graph: CsvGraph, model_type: str | None = None) -> dict[str, Any]:
    """A sensible full configuration: every useful property becomes a feature (auto-inference
    rules of Neptune's processing step); with no target, link prediction on the most numerous
    edge type (Neptune's default when nothing is labelled). ``model_type="kge"`` drops features."""
    kge = model_type == "kge"
    nodes = [
        {
            "file_name": t.files,
            "separator": ",",
            "node": ["~id", label],
            "features": [] if kge else _infer_features(t),
            "labels": [],
        }
        for label, t in graph.nodes.items()
    ]
    edges = [
        {
            "file_name": t.files,
            "separator": ",",
            "source": ["~from", t.src_label],
            "relation": ["", t.label],
            "dest": ["~to", t.dst_label],
            "features": [],
            "labels": [],
        }
        for t in graph.edges.values()
    ]
    if edges:
        biggest = max(range(len(edges)), key=lambda i: len(list(graph.edges.values())[i].src))
        edges[biggest]["labels"] = [
            {"label": ["", "link_prediction"], "split_rate": DEFAULT_SPLIT["link_prediction"]}
        ]
    return {
        "version": "v2.0",
        "query_engine": "gremlin",
        "graph": [{"nodes": nodes, "edges": edges, "warnings": list(graph.warnings)}],
    }


def _edge_key(value: Any, where: str) -> tuple[str, str, str]:
    if not (isinstance(value, list | tuple) and len(value) == 3 and all(isinstance(v, str) for v in value)):
        raise ConfigError(f"{where} must be [source label, edge label, destination label]", field=where)
    return tuple(value)  # type: ignore[return-value]


def check_short_form_keys(doc: dict[str, Any]) -> None:
    """Only the export-time form's keys (:data:`CONFIG_KEYS_SHORT`): a misspelled one would be
    ignored, and processing would infer a different task. ConfigError names the key."""
    unknown = sorted(set(doc) - CONFIG_KEYS_SHORT)
    if unknown:
        raise ConfigError(
            f"unknown key {unknown[0]!r}; the keys are: {', '.join(sorted(CONFIG_KEYS_SHORT))}",
            field=unknown[0],
        )


def check_short_form_entries(doc: dict[str, Any]) -> None:
    """The shape of each ``targets`` / ``features`` entry of the export-time form, before any data
    is read: an object naming ``node`` (a label) or ``edge`` ([from, label, to]), a string
    ``property`` (required but for link prediction), and only the options the published form
    takes beside it (``norm``, ``imputer``, ``separator``, ``split_rate``...), with valid values.
    :func:`apply_short_form` checks the labels and properties against the data. ConfigError names
    the field (``targets.0.property``)."""
    for section, spec_of in (("features", FeatureSpec), ("targets", LabelSpec)):
        for i, entry in enumerate(doc.get(section) or []):
            where = f"{section}.{i}"
            if not isinstance(entry, dict):
                raise ConfigError(f"{where} must be an object", field=where)
            if "node" in entry:
                if not isinstance(entry["node"], str):
                    raise ConfigError(f"{where}.node must be a vertex label", field=f"{where}.node")
            elif "edge" in entry:
                _edge_key(entry["edge"], f"{where}.edge")
            else:
                raise ConfigError(f"{where} needs node or edge", field=f"{where}.node")
            prop, kind = entry.get("property"), entry.get("type")
            if prop is not None and not isinstance(prop, str):
                raise ConfigError(f"{where}.property must be a property name", field=f"{where}.property")
            if not prop and kind != "link_prediction":
                raise ConfigError(f"{where}.property is required", field=f"{where}.property")
            options = {k: v for k, v in entry.items() if k not in ("node", "edge", "property", "type")}
            head = {"feature": [prop, prop, kind]} if section == "features" else {"label": [prop or "", kind]}
            try:
                spec_of.model_validate({**head, **options})
            except ValidationError as exc:
                error = exc.errors()[0]
                at = ".".join(str(part) for part in error["loc"] if part not in ("feature", "label"))
                field = f"{where}.{at}" if at and at not in ("0", "1", "2") else f"{where}.type"
                raise ConfigError(f"{field}: {error['msg']}", field=field) from exc


def apply_short_form(doc: dict[str, Any], inferred: dict[str, Any], graph: CsvGraph) -> dict[str, Any]:
    """Merge Neptune's export-time ``{"targets", "features", "split_rate"}`` into ``inferred``."""
    check_short_form_keys(doc)
    check_short_form_entries(doc)
    full = inferred
    g = full["graph"][0]
    node_entry = {n["node"][1]: n for n in g["nodes"]}
    edge_entry = {(e["source"][1], e["relation"][1], e["dest"][1]): e for e in g["edges"]}
    split = doc.get("split_rate")
    for i, feat in enumerate(doc.get("features", []) or []):
        where = f"features.{i}"
        if not isinstance(feat, dict):
            raise ConfigError(f"{where} must be an object", field=where)
        ftype, prop = feat.get("type"), feat.get("property")
        if ftype not in FEATURE_TYPES:
            raise ConfigError(
                f"{where}.type: unknown feature type {ftype!r}; expected one of {', '.join(FEATURE_TYPES)}",
                field=f"{where}.type",
            )
        extra = {k: v for k, v in feat.items() if k not in ("node", "edge", "property", "type")}
        if "node" in feat:
            entry, cols = node_entry.get(feat["node"]), graph.nodes.get(feat["node"])
            if entry is None:
                raise ConfigError(f"{where}.node: no vertex label {feat['node']!r}", field=f"{where}.node")
        elif "edge" in feat:
            key = _edge_key(feat["edge"], f"{where}.edge")
            entry, cols = edge_entry.get(key), graph.edges.get(key)
            if entry is None:
                raise ConfigError(f"{where}.edge: no edge type {list(key)}", field=f"{where}.edge")
        else:
            raise ConfigError(f"{where} needs node or edge", field=f"{where}.node")
        if prop not in cols.columns:
            raise ConfigError(f"{where}.property: no property {prop!r}", field=f"{where}.property")
        entry["features"] = [f for f in entry["features"] if f["feature"][0] != prop]
        entry["features"].append({"feature": [prop, prop, ftype], **extra})
    targets = doc.get("targets", []) or []
    for i, tgt in enumerate(targets):
        where = f"targets.{i}"
        if not isinstance(tgt, dict):
            raise ConfigError(f"{where} must be an object", field=where)
        task, prop = tgt.get("type"), tgt.get("property")
        extra = {k: v for k, v in tgt.items() if k not in ("node", "edge", "property", "type")}
        if split is not None and "split_rate" not in extra:
            extra["split_rate"] = split
        if "node" in tgt:
            entry, table = node_entry.get(tgt["node"]), graph.nodes.get(tgt["node"])
            if entry is None:
                raise ConfigError(f"{where}.node: no vertex label {tgt['node']!r}", field=f"{where}.node")
            if task not in NODE_TARGET_TYPES:
                raise ConfigError(
                    f"{where}.type: node targets are classification or regression", field=f"{where}.type"
                )
        elif "edge" in tgt:
            key = _edge_key(tgt["edge"], f"{where}.edge")
            entry, table = edge_entry.get(key), graph.edges.get(key)
            if entry is None:
                raise ConfigError(f"{where}.edge: no edge type {list(key)}", field=f"{where}.edge")
            if task not in TARGET_TYPES:
                raise ConfigError(f"{where}.type: unknown task {task!r}", field=f"{where}.type")
        else:
            raise ConfigError(f"{where} needs node or edge", field=f"{where}.node")
        if task != "link_prediction":
            if not prop:
                raise ConfigError(f"{where}.property is required for {task}", field=f"{where}.property")
            if prop not in table.columns:
                raise ConfigError(f"{where}.property: no property {prop!r}", field=f"{where}.property")
            entry["features"] = [f for f in entry["features"] if f["feature"][0] != prop]
        if i == 0:  # the given targets replace the inferred default
            for e in [*g["nodes"], *g["edges"]]:
                e["labels"] = []
        entry["labels"].append({"label": [prop or "", task], **extra})
    return full
