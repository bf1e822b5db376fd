"""Export the live store to Neptune's Gremlin CSV files, the input format of ``graphml``.

Layout (what neptune-export writes for Neptune ML):

- ``nodes/<label>.csv`` with header ``~id,~label,<key>:<Type>,...``;
- ``edges/(<from label>)-<label>-(<to label>).csv`` with ``~id,~from,~to,~label,<key>:<Type>,...``.

Column types are Neptune's load types (``Int``, ``Long``, ``Float``, ``Double``, ``Bool``, ``Date``,
``String``, ``Byte``, ``Short``); a key with several values on one element (multi-properties) or a
list value becomes an array column (``String[]``) whose cell joins the values with ``;`` (a ``;``
inside a value is written ``\\;``). Ids are written by :func:`export_id` (``str`` of the plain value), which is how ``graphml``
names vertices. Columns whose values mix types are written as ``String``.

Rows are read in batches through the store interface (one properties query per batch) and kept
per label in memory until the label's columns are known: fine for graphs of a few million
elements, which is what one training box handles anyway.

:func:`training_config` turns Neptune's export-time ``additionalParams.neptune_ml`` description
(targets and features by label) into the ``training-data-configuration.json`` of the exported
files, as neptune-export does.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.store.interface import GraphStore
from server.structure import Float32, Int8, Int16, Int64

BATCH = 2000
ProgressFn = Callable[[dict[str, Any]], None]

# Type precedence when one column sees several numeric types: the widest wins.
_NUMERIC_ORDER = ["Byte", "Short", "Int", "Long", "Float", "Double"]


class ExportCancelled(Exception):
    """``should_stop()`` turned true during the export."""


def neptune_type(value: Any) -> str:
    """Neptune load type of one Python/Gremlin value."""
    if isinstance(value, bool):
        return "Bool"
    if isinstance(value, Int8):
        return "Byte"
    if isinstance(value, Int16):
        return "Short"
    if isinstance(value, Int64):
        return "Long"
    if isinstance(value, int):
        return "Int" if -(2**31) <= value < 2**31 else "Long"
    if isinstance(value, Float32):
        return "Float"
    if isinstance(value, float):
        return "Double"
    if isinstance(value, dt.datetime | dt.date):
        return "Date"
    return "String"


def _merge_type(a: str | None, b: str) -> str:
    if a is None or a == b:
        return b
    if a in _NUMERIC_ORDER and b in _NUMERIC_ORDER:
        return max(a, b, key=_NUMERIC_ORDER.index)
    return "String"


def export_id(value: Any) -> str:
    """The text of an element id in the exported files, hence ``graphml``'s vertex name.

    Numbers are written by value (an ``Int64`` 1 is ``"1"``, not its Gremlin repr ``"1L"``), so
    the Gremlin extension maps a prediction back to the store with ``export_id(v.id)``."""
    return _cell(value)


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return repr(float(value))
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat()
    return str(value)


@dataclass
class _Table:
    """Rows of one output file and what is known of its columns."""

    path: Path
    fixed: list[str]
    rows: list[tuple[list[str], dict[str, list[Any]]]] = field(default_factory=list)
    types: dict[str, str] = field(default_factory=dict)
    multi: set[str] = field(default_factory=set)

    def add(self, fixed_values: list[str], props: dict[str, list[Any]]) -> None:
        for key, values in props.items():
            for value in values:
                self.types[key] = _merge_type(self.types.get(key), neptune_type(value))
            if len(values) > 1:
                self.multi.add(key)
        self.rows.append((fixed_values, props))

    def write(self) -> dict[str, Any]:
        keys = list(self.types)
        header = self.fixed + [f"{k}:{self.types[k]}{'[]' if k in self.multi else ''}" for k in keys]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            for fixed_values, props in self.rows:
                cells = []
                for key in keys:
                    values = props.get(key, [])
                    cells.append(";".join(_cell(v).replace(";", "\\;") for v in values))
                writer.writerow(fixed_values + cells)
        return {
            "file": str(self.path),
            "count": len(self.rows),
            "columns": {k: self.types[k] + ("[]" if k in self.multi else "") for k in keys},
        }


def _safe(label: str) -> str:
    """A label as a file-name part: path separators and control characters replaced."""
    return re.sub(r"[\\/\x00-\x1f:*?\"<>|]", "_", label) or "_"


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list | tuple | set | frozenset):
        return [v for v in value if v is not None]
    return [] if value is None else [value]


def _chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def export_store(
    store: GraphStore,
    output_dir: Path,
    *,
    progress: ProgressFn | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Write the whole graph of ``store`` as Neptune Gremlin CSV under ``output_dir``.

    Returns ``{"nodes": {label: {file, count, columns}}, "edges": {"(a)-l-(b)": {..., "source",
    "relation", "dest"}}, "vertices": n, "edges_total": m}``. Raises :class:`ExportCancelled`.
    """
    output_dir = Path(output_dir)
    report = progress or (lambda _p: None)
    stop = should_stop or (lambda: False)
    nodes: dict[str, _Table] = {}
    edges: dict[tuple[str, str, str], _Table] = {}
    with store.connect() as conn:
        n_vertices, n_edges = conn.count_vertices(), conn.count_edges()
        total = max(n_vertices + n_edges, 1)
        done = 0
        for chunk in _chunks(conn.vertices(), BATCH):
            if stop():
                raise ExportCancelled("export stopped")
            for vertex, vprops in zip(chunk, conn.vertex_properties(chunk), strict=True):
                props: dict[str, list[Any]] = {}
                for vp in vprops:
                    props.setdefault(vp.key, []).extend(_flatten(vp.value))
                table = nodes.get(vertex.label)
                if table is None:
                    path = output_dir / "nodes" / f"{_safe(vertex.label)}.csv"
                    table = nodes[vertex.label] = _Table(path, ["~id", "~label"])
                table.add([export_id(vertex.id), vertex.label], props)
            done += len(chunk)
            report({"stage": "export", "percent": round(100 * done / total, 1), "exported": done})
        for chunk in _chunks(conn.edges(), BATCH):
            if stop():
                raise ExportCancelled("export stopped")
            for edge, eprops in zip(chunk, conn.edge_properties(chunk), strict=True):
                triple = (edge.out_v.label, edge.label, edge.in_v.label)
                table = edges.get(triple)
                if table is None:
                    name = f"({_safe(triple[0])})-{_safe(triple[1])}-({_safe(triple[2])}).csv"
                    table = edges[triple] = _Table(
                        output_dir / "edges" / name, ["~id", "~from", "~to", "~label"]
                    )
                table.add(
                    [export_id(edge.id), export_id(edge.out_v.id), export_id(edge.in_v.id), edge.label],
                    {p.key: _flatten(p.value) for p in eprops},
                )
            done += len(chunk)
            report({"stage": "export", "percent": round(100 * done / total, 1), "exported": done})
    summary: dict[str, Any] = {"vertices": n_vertices, "edges_total": n_edges, "nodes": {}, "edges": {}}
    for label, table in nodes.items():
        summary["nodes"][label] = table.write()
    for (src, rel, dst), table in edges.items():
        summary["edges"][f"({src})-{rel}-({dst})"] = {
            **table.write(),
            "source": src,
            "relation": rel,
            "dest": dst,
        }
    return summary


class TrainingConfigError(ValueError):
    """The export-time ``neptune_ml`` description names something the graph does not have.

    ``field`` is the dotted path of the offending field (for the REST layer's 400)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _labels_of(spec: Any) -> list[str]:
    return list(spec) if isinstance(spec, list) else [spec]


def training_config(summary: dict[str, Any], neptune_ml: dict[str, Any], root: Path) -> dict[str, Any]:
    """``training-data-configuration.json`` (v2.0, the user guide's form: ``"graph"`` is a list)
    for the files of ``summary``.

    ``neptune_ml`` is Neptune's export-time form: ``{"targets": [{"node": L, "property": P,
    "type": ...} | {"edge": [A, L, B], "property"?: P, "type": ...}], "features": [...],
    "split_rate": [...]}``. Features not listed are left to ``graphml`` to infer (``auto``);
    a target's property is not used as a feature. Raises :class:`TrainingConfigError`.
    """
    targets: Sequence[dict[str, Any]] = neptune_ml.get("targets") or []
    features: Sequence[dict[str, Any]] = neptune_ml.get("features") or []
    split_rate = neptune_ml.get("split_rate")
    node_entries: dict[str, dict[str, Any]] = {}
    for label, info in summary["nodes"].items():
        node_entries[label] = {
            "file_name": str(Path(info["file"]).relative_to(root)),
            "separator": ",",
            "node": ["~id", label],
            "features": [
                {"feature": [key, key, "auto"], **({"separator": ";"} if typ.endswith("[]") else {})}
                for key, typ in info["columns"].items()
            ],
            "labels": [],
        }
    edge_entries: dict[tuple[str, str, str], dict[str, Any]] = {}
    for info in summary["edges"].values():
        triple = (info["source"], info["relation"], info["dest"])
        edge_entries[triple] = {
            "file_name": str(Path(info["file"]).relative_to(root)),
            "separator": ",",
            "source": ["~from", info["source"]],
            "relation": ["", info["relation"]],
            "dest": ["~to", info["dest"]],
            "features": [{"feature": [key, key, "auto"]} for key in info["columns"]],
            "labels": [],
        }

    def node_entry(label: str, where: str) -> dict[str, Any]:
        if label not in node_entries:
            raise TrainingConfigError(f"the graph has no vertices labelled {label!r}", where)
        return node_entries[label]

    def edge_entry(spec: Any, where: str) -> dict[str, Any]:
        if not (isinstance(spec, list) and len(spec) == 3):
            raise TrainingConfigError("an edge is named [from label, edge label, to label]", where)
        triple = tuple(spec)
        if triple not in edge_entries:
            raise TrainingConfigError(
                f"the graph has no {spec[1]!r} edges from {spec[0]!r} to {spec[2]!r}", where
            )
        return edge_entries[triple]  # type: ignore[index]

    def column_check(entry: dict[str, Any], key: str, where: str) -> None:
        known = {f["feature"][0] for f in entry["features"]}
        if key not in known:
            raise TrainingConfigError(f"property {key!r} does not exist on {entry['file_name']}", where)

    for i, target in enumerate(targets):
        where = f"targets[{i}]"
        kind = target.get("type")
        prop = target.get("property")
        if "node" in target:
            entries = [node_entry(label, f"{where}.node") for label in _labels_of(target["node"])]
            if kind not in ("classification", "regression"):
                raise TrainingConfigError(
                    f"a node target's type is classification or regression, not {kind!r}", f"{where}.type"
                )
        elif "edge" in target:
            entries = [edge_entry(target["edge"], f"{where}.edge")]
            if kind not in ("classification", "regression", "link_prediction"):
                raise TrainingConfigError(
                    f"an edge target's type is classification, regression or link_prediction, not {kind!r}",
                    f"{where}.type",
                )
        else:
            raise TrainingConfigError("a target names a node label or an edge", where)
        for entry in entries:
            if kind != "link_prediction":
                if not prop:
                    raise TrainingConfigError("this target needs a property", f"{where}.property")
                column_check(entry, prop, f"{where}.property")
                entry["features"] = [f for f in entry["features"] if f["feature"][0] != prop]
            label: dict[str, Any] = {"label": [prop or "", kind]}
            rate = target.get("split_rate", split_rate)
            if rate is not None:
                label["split_rate"] = rate
            if target.get("separator"):
                label["separator"] = target["separator"]
            entry["labels"].append(label)
    for i, feature in enumerate(features):
        where = f"features[{i}]"
        if "node" in feature:
            entries = [node_entry(label, f"{where}.node") for label in _labels_of(feature["node"])]
        elif "edge" in feature:
            entries = [edge_entry(feature["edge"], f"{where}.edge")]
        else:
            raise TrainingConfigError("a feature names a node label or an edge", where)
        prop = feature.get("property")
        if not prop:
            raise TrainingConfigError("a feature needs a property", f"{where}.property")
        options = {k: v for k, v in feature.items() if k not in ("node", "edge", "property", "type")}
        for entry in entries:
            column_check(entry, prop, f"{where}.property")
            entry["features"] = [f for f in entry["features"] if f["feature"][0] != prop]
            entry["features"].append({"feature": [prop, prop, feature.get("type", "auto")], **options})
    return {
        "version": "v2.0",
        "query_engine": "gremlin",
        "graph": [
            {"nodes": list(node_entries.values()), "edges": list(edge_entries.values()), "warnings": []}
        ],
    }
