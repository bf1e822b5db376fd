"""Data processing: Neptune Gremlin CSV folder -> processed graph (see ``processed.py``).

Steps: read the CSV files, settle the configuration (given, short form merged into the inferred
one, or inferred and written out), validate it against the data, fit the feature encoders,
build the DGL heterograph with labels and split masks, save. Splits use a fixed seed, so the
same input and configuration give the same processed graph.

Incremental processing (``previous_dir``, Neptune's ``previousDataProcessingJobId``) fits nothing:
a grown graph is encoded with the previous job's fitted encoders (category vocabularies, scaling
statistics, bucket ranges, TF-IDF vocabulary, the types ``auto`` resolved to), and the previous
vertices keep their node positions with new ones appended, so a model trained on the previous
graph applies to the new one (``modeltransform`` with the old training job).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import dgl
import numpy as np
import pandas as pd
import torch

from graphml.api import Cancelled, ConfigError, ProgressFn, StopFn
from graphml.processing.config import (
    LabelSpec,
    TrainingDataConfig,
    apply_short_form,
    infer_config,
    parse_config,
)
from graphml.processing.csvgraph import CsvGraph, read_csv_folder
from graphml.processing.features import Encoder, auto_type, make_encoder
from graphml.processing.layout import CONFIG_FILE
from graphml.processing.processed import (
    KEPT_POSITIONS,
    Fitted,
    ProcessedGraph,
    Target,
    keep_splits,
    split_masks,
)

SPLIT_SEED = 42


def _check(stop: StopFn | None) -> None:
    if stop is not None and stop():
        raise Cancelled("data processing cancelled")


def settle_config(
    graph: CsvGraph, config: dict[str, Any] | None, model_type: str | None
) -> TrainingDataConfig:
    """The full configuration to apply (see the module docstring of ``config``)."""
    inferred = infer_config(graph, model_type)
    if config is None:
        doc = inferred
    elif isinstance(config, dict) and "graph" not in config:
        doc = apply_short_form(config, inferred, graph)
    else:
        doc = config
    return parse_config(doc)


def _encode_nodes(
    cfg: TrainingDataConfig, graph: CsvGraph, previous: dict[str, list] | None = None
) -> tuple[dict[str, torch.Tensor], dict[str, list]]:
    """Each node type's features ``float32 [num_nodes, dim]`` and its encoders, in the
    configuration's feature order. With ``previous`` (a previous job's fitted encoders, see
    :class:`Fitted`) every feature is encoded by the encoder fitted then, not refitted, so the
    widths and the encoding of unchanged values stay the same."""
    feats: dict[str, torch.Tensor] = {}
    encoders: dict[str, list] = {}
    for i, entry in enumerate(cfg.nodes):
        table = graph.nodes[entry.node[1]]
        blocks, encs = [], []
        for j, spec in enumerate(entry.features):
            column, _, ftype = spec.feature
            where = f"graph.0.nodes.{i}.features.{j}.feature"
            if column not in table.columns:
                raise ConfigError(
                    f"{where}: vertex label {entry.node[1]!r} has no property {column!r}", field=where
                )
            values = table.props[column].tolist()
            if previous is not None:
                found = _previous_encoder(previous, entry.node[1], column, ftype, where)
                if found is not None:
                    blocks.append(found[1].transform(values))
                    encs.append((column, *found))
                continue
            opts = spec.options()
            if ftype == "auto":
                col = table.columns[column]
                sep = opts.get("separator") or (";" if col.multi else None)
                ftype = auto_type(values, numeric_hint=col.numeric, separator=sep) or "none"
                opts = {"separator": sep} if ftype in ("numerical", "category") and sep else {}
            try:
                enc = make_encoder(ftype, opts)
            except ConfigError as exc:
                raise ConfigError(f"{where}: {exc}", field=where) from exc
            if enc is None:
                continue
            blocks.append(enc.fit(values).transform(values))
            encs.append((column, ftype, enc))
        if blocks:
            feats[entry.node[1]] = torch.from_numpy(np.concatenate(blocks, axis=1))
            encoders[entry.node[1]] = encs
    return feats, encoders


def _previous_encoder(
    previous: dict[str, list], ntype: str, column: str, ftype: str, where: str
) -> tuple[str, Encoder] | None:
    """The (resolved feature type, fitted encoder) a previous job used for ``ntype.column``;
    None when it dropped the column (``none``, or ``auto`` that resolved to nothing). A declared
    type other than the one fitted then raises :class:`ConfigError`: the encoding would change."""
    fitted = {prop: (kind, enc) for prop, kind, enc in previous.get(ntype, [])}
    if column not in fitted:
        if ftype in ("auto", "none"):
            return None
        raise ConfigError(
            f"{where}: the previous processing job has no fitted encoder for {ntype}.{column}", field=where
        )
    if ftype != "auto" and ftype != fitted[column][0]:
        raise ConfigError(
            f"{where}: {ntype}.{column} is {ftype} here but the previous processing job encoded it "
            f"as {fitted[column][0]}",
            field=where,
        )
    return fitted[column]


def keep_positions(graph: CsvGraph, previous_ids: dict[str, list[str]]) -> dict[str, int]:
    """Reorder ``graph``'s vertex tables in place so that the vertices a previous job processed
    keep their node index (its order) and new vertices follow, in export order; a model trained
    on the previous graph (its learnt per-node embeddings, its precomputed tables) then applies by
    position. Returns ``{node type: k}`` (see :data:`KEPT_POSITIONS`): the first ``k`` nodes sit
    where they sat before; ``k`` is short of the previous count only when vertices were deleted
    (Neptune's incremental workflow covers additions only), which adds a warning."""
    kept: dict[str, int] = {}
    for label, table in graph.nodes.items():
        old = previous_ids.get(label)
        if old is None:
            continue  # a vertex label the previous job did not have: nothing to keep
        row = {v: i for i, v in enumerate(table.ids)}
        still = [row[v] for v in old if v in row]
        taken = set(still)
        order = still + [i for i in range(len(table.ids)) if i not in taken]
        table.ids = [table.ids[i] for i in order]
        table.props = table.props.iloc[order].reset_index(drop=True)
        kept[label] = next((k for k, v in enumerate(old) if v not in row), len(old))
        if len(still) < len(old):
            graph.warnings.append(
                f"label {label!r}: {len(old) - len(still)} of the previous processing job's {len(old)} "
                f"vertices missing; only the first {kept[label]} keep their node positions"
            )
    return kept


def _find_target(cfg: TrainingDataConfig) -> tuple[str, int, LabelSpec]:
    found = [("nodes", i, lab) for i, n in enumerate(cfg.nodes) for lab in n.labels]
    found += [("edges", i, lab) for i, e in enumerate(cfg.edges) for lab in e.labels]
    if not found:
        raise ConfigError("the configuration has no target (labels)", field="graph.0.edges")
    if len(found) > 1:
        kind, i, _ = found[1]
        raise ConfigError("one target per processing job is supported", field=f"graph.0.{kind}.{i}.labels")
    return found[0]


def _custom_split(spec: LabelSpec, input_dir: Path, keys: list[str], where: str) -> tuple[torch.Tensor, ...]:
    position = {k: i for i, k in enumerate(keys)}
    masks = []
    for part in ("train", "valid", "test"):
        names = getattr(spec.custom_split_filenames, part)
        mask = torch.zeros(len(keys), dtype=torch.bool)
        for name in [names] if isinstance(names, str) else names:
            path = input_dir / name
            if not path.exists():
                raise ConfigError(
                    f"{where}: custom split file {name!r} not found",
                    field=f"{where}.custom_split_filenames.{part}",
                )
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            rows = frame["~id"] if "~id" in frame.columns else frame["~from"] + "\x00" + frame["~to"]
            hit = [position[r] for r in rows if r in position]
            mask[hit] = True
        masks.append(mask)
    return tuple(masks)


def _labels(
    values: list[str], spec: LabelSpec, task: str, where: str
) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """Raw label strings -> (label tensor, has-label mask, classes)."""
    if task == "regression":
        nums = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=np.float64)
        has = ~np.isnan(nums)
        if not has.any():
            raise ConfigError(f"{where}: no numeric values for the regression target", field=where)
        return torch.tensor(np.nan_to_num(nums), dtype=torch.float32), torch.from_numpy(has), []
    sep = spec.separator
    cells = [[p.strip() for p in (v.split(sep) if sep else [v]) if p.strip()] for v in values]
    classes = sorted({c for cell in cells for c in cell})
    if not classes:
        raise ConfigError(f"{where}: no values for the classification target", field=where)
    index = {c: i for i, c in enumerate(classes)}
    has = torch.tensor([bool(c) for c in cells])
    if sep:
        lab = torch.zeros(len(cells), len(classes))
        for i, cell in enumerate(cells):
            lab[i, [index[c] for c in cell]] = 1.0
        return lab, has, classes
    return torch.tensor([index[c[0]] if c else -1 for c in cells]), has, classes


def build_processed(
    graph: CsvGraph, cfg: TrainingDataConfig, input_dir: Path, previous: Fitted | None = None
) -> ProcessedGraph:
    """Apply a validated configuration to the CSV tables; with ``previous`` (incremental
    processing), with that job's fitted encoders and vertex positions (see :func:`keep_positions`)."""
    for i, entry in enumerate(cfg.nodes):
        if entry.node[1] not in graph.nodes:
            raise ConfigError(
                f"graph.0.nodes.{i}.node: no vertex label {entry.node[1]!r} in the data",
                field=f"graph.0.nodes.{i}.node",
            )
    for i, entry in enumerate(cfg.edges):
        if entry.etype not in graph.edges:
            raise ConfigError(
                f"graph.0.edges.{i}.relation: no edge type {list(entry.etype)} in the data",
                field=f"graph.0.edges.{i}.relation",
            )
    kind, idx, spec = _find_target(cfg)
    column, task = spec.label
    where = f"graph.0.{kind}.{idx}.labels.0.label"
    if task != "link_prediction":
        owner = graph.nodes[cfg.nodes[idx].node[1]] if kind == "nodes" else graph.edges[cfg.edges[idx].etype]
        if column not in owner.columns:
            raise ConfigError(f"{where}: the target property {column!r} does not exist", field=where)
    if not cfg.edges:
        raise ConfigError("the configuration lists no edge types", field="graph.0.edges")
    kept = keep_positions(graph, previous.id_maps) if previous is not None else None
    id_maps = {label: t.ids for label, t in graph.nodes.items()}
    index = {label: {v: i for i, v in enumerate(ids)} for label, ids in id_maps.items()}
    data = {}
    wanted = {e.etype for e in cfg.edges}
    for etype, t in graph.edges.items():
        if etype not in wanted:
            continue  # Neptune processes only the edge types the configuration lists
        src = torch.tensor([index[etype[0]][s] for s in t.src], dtype=torch.int64)
        dst = torch.tensor([index[etype[2]][d] for d in t.dst], dtype=torch.int64)
        data[etype] = (src, dst)
    g = dgl.heterograph(data, num_nodes_dict={k: len(v) for k, v in id_maps.items()})
    feats, encoders = _encode_nodes(cfg, graph, previous.encoders if previous is not None else None)
    for ntype, feat in feats.items():
        g.nodes[ntype].data["feat"] = feat
    if kind == "nodes":
        ntype = cfg.nodes[idx].node[1]
        table = graph.nodes[ntype]
        frame, keys, store = table.props, table.ids, g.nodes[ntype].data
        target = Target("node_class" if task == "classification" else "node_regression", ntype=ntype)
    else:
        etype = cfg.edges[idx].etype
        table = graph.edges[etype]
        frame, store = table.props, g.edges[etype].data
        keys = [f"{s}\x00{d}" for s, d in zip(table.src, table.dst, strict=True)]
        name = {"classification": "edge_class", "regression": "edge_regression"}.get(task, "link_prediction")
        target = Target(name, etype=etype)
    if task != "link_prediction":
        if column not in frame.columns:
            raise ConfigError(
                f"{where}: the target property {column!r} does not exist on "
                f"{target.ntype or list(target.etype or ())}",
                field=where,
            )
        label, has, classes = _labels(frame[column].tolist(), spec, task, where)
        store["label"] = label
        target.property, target.classes = column, classes
        target.multi_label, target.separator = bool(spec.separator and classes), spec.separator
    else:
        has = torch.ones(len(keys), dtype=torch.bool)
    if spec.custom_split_filenames is not None:
        masks = _custom_split(spec, input_dir, keys, f"graph.0.{kind}.{idx}.labels.0")
    else:
        masks = split_masks(len(keys), spec.rates(), SPLIT_SEED)
        if previous is not None:  # a grown graph: what was held out before stays held out
            masks = keep_splits(keys, masks, previous.splits())
    for name, mask in zip(("train_mask", "val_mask", "test_mask"), masks, strict=True):
        store[name] = mask & has
    meta: dict[str, Any] = {"warnings": list(graph.warnings)}
    if kept is not None:
        meta[KEPT_POSITIONS] = kept
    return ProcessedGraph(g, id_maps, target, encoders, meta)


def run_data_processing(
    input_dir: Path,
    output_dir: Path,
    *,
    config: dict[str, Any] | None = None,
    model_type: str | None = None,
    previous_dir: Path | None = None,
    progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> dict[str, Any]:
    """See :func:`graphml.api.run_data_processing`."""
    report = progress or (lambda _: None)
    input_dir, output_dir = Path(input_dir), Path(output_dir)
    if model_type not in (None, "heterogeneous", "kge"):
        raise ConfigError(f"modelType must be heterogeneous or kge, not {model_type!r}", field="modelType")
    report({"stage": "reading", "percent": 0})
    previous = Fitted.load(Path(previous_dir)) if previous_dir is not None else None
    graph = read_csv_folder(input_dir)
    _check(should_stop)
    report({"stage": "configuring", "percent": 30})
    cfg = settle_config(graph, config, model_type)
    report({"stage": "encoding", "percent": 50})
    processed = build_processed(graph, cfg, input_dir, previous)
    _check(should_stop)
    processed.meta["model_type"] = model_type or ("kge" if not processed.encoders else "heterogeneous")
    report({"stage": "saving", "percent": 90})
    tmp = output_dir.with_name(output_dir.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    processed.save(tmp)
    (tmp / CONFIG_FILE).write_text(json.dumps(cfg.model_dump(exclude_none=True), indent=2))
    output_dir.mkdir(parents=True, exist_ok=True)
    for item in tmp.iterdir():
        item.replace(output_dir / item.name)
    tmp.rmdir()
    report({"stage": "done", "percent": 100})
    return summarize(processed)


def summarize(p: ProcessedGraph) -> dict[str, Any]:
    g = p.graph
    return {
        "nodes": {nt: g.num_nodes(nt) for nt in g.ntypes},
        "edges": {"|".join(et): g.num_edges(et) for et in g.canonical_etypes},
        "target": p.target.to_json(),
        "features": {nt: [f"{prop}:{ftype}" for prop, ftype, _ in encs] for nt, encs in p.encoders.items()},
        "feature_dims": p.feature_dims(),
        "model_type": p.meta.get("model_type"),
        "warnings": p.meta.get("warnings", []),
        **({KEPT_POSITIONS: p.meta[KEPT_POSITIONS]} if KEPT_POSITIONS in p.meta else {}),
    }
