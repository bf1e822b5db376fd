"""Training artifacts: ``model.pt`` (state dict), ``model-config.json``, ``metrics.json`` and
``training-curves.png`` (matplotlib, Agg backend, so no display is needed)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch

from graphml.models.bundle import build_model

MODEL_FILE, MODEL_CONFIG_FILE, METRICS_FILE, CURVES_FILE = (
    "model.pt",
    "model-config.json",
    "metrics.json",
    "training-curves.png",
)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def save_artifacts(
    out: Path,
    model: torch.nn.Module,
    config: dict[str, Any],
    metrics: dict[str, Any],
    curves: dict[str, list[float]],
) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), out / MODEL_FILE)
    (out / MODEL_CONFIG_FILE).write_text(json.dumps(_clean(config), indent=2))
    (out / METRICS_FILE).write_text(json.dumps(_clean(dict(metrics, curves=curves)), indent=2))
    plot_curves(curves, out / CURVES_FILE)


def plot_curves(curves: dict[str, list[float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, axes = plt.subplots(1, max(len(curves), 1), figsize=(5 * max(len(curves), 1), 3.5))
    axes = axes if hasattr(axes, "__len__") else [axes]
    for ax, (name, values) in zip(axes, curves.items(), strict=False):
        ax.plot(range(1, len(values) + 1), values, marker="o")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def load_model(folder: Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    folder = Path(folder)
    config = json.loads((folder / MODEL_CONFIG_FILE).read_text())
    model = build_model(config)
    model.load_state_dict(torch.load(folder / MODEL_FILE, map_location="cpu"))
    model.eval()
    return model, config
