"""Reads a folder of Neptune Gremlin CSV files into per-label tables.

A file with ``~from``/``~to`` columns holds edges, one with ``~id`` (and no ``~from``) holds
vertices. Typed headers (``lat:Double``, ``tags:String[]``, ``code:string``) give each
property's type; ``[]`` marks a multi-valued column whose cell joins values with ``;``. A file
without ``~label`` takes its label from its name (``nodes/<label>.csv``,
``edges/(<from>)-<label>-(<to>).csv``). Every value is kept as the CSV's string; encoders parse
them (so that live properties handed to inductive inference go through the same code).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from graphml.api import ConfigError, GraphMLError

MULTI_SEPARATOR = ";"
_NUMERIC = {"int", "integer", "long", "short", "byte", "double", "float", "decimal"}
_TYPES = _NUMERIC | {"string", "bool", "boolean", "date", "datetime"}
_EDGE_FILE = re.compile(r"^\((?P<src>[^)]*)\)-(?P<label>.+)-\((?P<dst>[^)]*)\)$")


@dataclass(frozen=True)
class Column:
    """One property column: its name, normalised type and whether it holds several values."""

    name: str
    type: str  # "string" | "number" | "bool" | "date"
    multi: bool = False

    @property
    def numeric(self) -> bool:
        return self.type == "number"


@dataclass
class NodeTable:
    """The vertices of one label: ids (strings) and a frame of raw property strings."""

    label: str
    ids: list[str]
    props: pd.DataFrame
    columns: dict[str, Column]
    files: list[str] = field(default_factory=list)


@dataclass
class EdgeTable:
    """The edges of one canonical type (source label, edge label, destination label)."""

    src_label: str
    label: str
    dst_label: str
    src: list[str]
    dst: list[str]
    props: pd.DataFrame
    columns: dict[str, Column]
    files: list[str] = field(default_factory=list)

    @property
    def etype(self) -> tuple[str, str, str]:
        return (self.src_label, self.label, self.dst_label)


@dataclass
class CsvGraph:
    nodes: dict[str, NodeTable]
    edges: dict[tuple[str, str, str], EdgeTable]
    warnings: list[str] = field(default_factory=list)


def parse_header(header: str) -> Column:
    """``name:Type[]`` -> Column; an untyped header is a string."""
    name, _, typ = header.partition(":")
    typ = typ.strip()
    multi = typ.endswith("[]")
    typ = typ.removesuffix("[]")
    typ = re.sub(r"\((single|set|list)\)$", "", typ, flags=re.I).lower()
    if typ and typ not in _TYPES:
        raise GraphMLError(f"unknown column type {typ!r} in header {header!r}")
    if typ in _NUMERIC:
        kind = "number"
    elif typ in ("bool", "boolean"):
        kind = "bool"
    elif typ in ("date", "datetime"):
        kind = "date"
    else:
        kind = "string"
    return Column(name=name, type=kind, multi=multi)


def _read(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[], encoding="utf-8")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise GraphMLError(f"{path}: cannot parse CSV: {exc}") from exc


def _split_props(frame: pd.DataFrame, reserved: set[str], where: Path) -> tuple[pd.DataFrame, dict]:
    columns: dict[str, Column] = {}
    renamed = {}
    for header in frame.columns:
        if header in reserved:
            continue
        try:
            col = parse_header(header)
        except GraphMLError as exc:
            raise GraphMLError(f"{where}: {exc}") from exc
        columns[col.name] = col
        renamed[header] = col.name
    props = frame[list(renamed)].rename(columns=renamed).reset_index(drop=True)
    return props, columns


def _merge(tables: list[tuple[pd.DataFrame, dict, str]]) -> tuple[pd.DataFrame, dict, list[str]]:
    columns: dict[str, Column] = {}
    for _, cols, _ in tables:
        for name, col in cols.items():
            old = columns.get(name)
            if old is not None and old.type != col.type:
                col = Column(name, "string", old.multi or col.multi)
            columns[name] = col
    frames = [frame.reindex(columns=list(columns), fill_value="") for frame, _, _ in tables]
    return pd.concat(frames, ignore_index=True), columns, [f for _, _, f in tables]


def read_csv_folder(input_dir: Path) -> CsvGraph:
    """Read every ``*.csv`` under ``input_dir`` (recursively, sorted by path)."""
    input_dir = Path(input_dir)
    if not input_dir.is_dir():
        raise ConfigError(f"input folder {input_dir} does not exist", field="inputDataS3Location")
    files = sorted(p for p in input_dir.rglob("*.csv") if "custom_split" not in p.parts)
    node_parts: dict[str, list[tuple[pd.DataFrame, dict, str]]] = {}
    node_ids: dict[str, list[str]] = {}
    raw_edges: list[tuple[pd.DataFrame, Path]] = []
    for path in files:
        frame = _read(path)
        if "~from" in frame.columns and "~to" in frame.columns:
            raw_edges.append((frame, path))
            continue
        if "~id" not in frame.columns:
            continue  # not a graph file (e.g. a custom split list is read separately)
        labels = frame["~label"] if "~label" in frame.columns else pd.Series([path.stem] * len(frame))
        labels = labels.str.split("::").str[0]
        props, cols = _split_props(frame, {"~id", "~label"}, path)
        for label, idx in labels.groupby(labels).groups.items():
            part = props.loc[idx].reset_index(drop=True)
            node_parts.setdefault(label, []).append((part, cols, str(path.relative_to(input_dir))))
            node_ids.setdefault(label, []).extend(frame["~id"].loc[idx].tolist())
    nodes: dict[str, NodeTable] = {}
    label_of: dict[str, str] = {}
    warnings: list[str] = []
    for label in sorted(node_parts):
        props, cols, names = _merge(node_parts[label])
        ids = node_ids[label]
        if len(set(ids)) != len(ids):
            keep = ~pd.Series(ids).duplicated().to_numpy()
            warnings.append(f"{len(ids) - int(keep.sum())} duplicate ids in label {label!r} dropped")
            props = props[keep].reset_index(drop=True)
            ids = [i for i, k in zip(ids, keep, strict=True) if k]
        nodes[label] = NodeTable(label, ids, props, cols, names)
        for i in ids:
            label_of.setdefault(i, label)
    edge_parts: dict[tuple[str, str, str], list] = {}
    edge_ends: dict[tuple[str, str, str], tuple[list[str], list[str]]] = {}
    dropped = 0
    for frame, path in raw_edges:
        if "~label" in frame.columns:
            elabels = frame["~label"]
        else:
            match = _EDGE_FILE.match(path.stem)
            elabels = pd.Series([match["label"] if match else path.stem] * len(frame))
        props, cols = _split_props(frame, {"~id", "~from", "~to", "~label"}, path)
        src_l = frame["~from"].map(label_of)
        dst_l = frame["~to"].map(label_of)
        ok = src_l.notna() & dst_l.notna()
        dropped += int((~ok).sum())
        key = pd.DataFrame({"s": src_l, "e": elabels, "d": dst_l})[ok]
        for etype, idx in key.groupby(["s", "e", "d"]).groups.items():
            edge_parts.setdefault(etype, []).append(
                (props.loc[idx].reset_index(drop=True), cols, str(path.relative_to(input_dir)))
            )
            src, dst = edge_ends.setdefault(etype, ([], []))
            src.extend(frame["~from"].loc[idx].tolist())
            dst.extend(frame["~to"].loc[idx].tolist())
    if dropped:
        warnings.append(f"{dropped} edges whose endpoints are not in any vertex file were dropped")
    edges = {}
    for etype in sorted(edge_parts):
        props, cols, names = _merge(edge_parts[etype])
        src, dst = edge_ends[etype]
        edges[etype] = EdgeTable(*etype, src, dst, props, cols, names)
    if not nodes:
        raise GraphMLError(f"no vertex CSV files (with a ~id column) under {input_dir}")
    return CsvGraph(nodes, edges, warnings)
