"""Hyper-parameters: Neptune ML's tiered search space, defaults, and trial sampling.

``maxHPONumberOfTrainingJobs`` decides which tiers are tuned (Neptune's rule): fewer than 10
trials tune tier 1 only, 10-50 tiers 1 and 2, more than 50 all three. Trial 0 runs the defaults,
or a previous job's best hyper-parameters when the job is warm-started (Neptune's
``previousModelTrainingJobId``); later trials draw the tuned parameters at random (seeded) and keep
the rest at their defaults. ``overrides`` fix parameters outright (never tuned).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from graphml.api import ConfigError


@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    tier: int  # 1, 2, 3, or 0 for fixed
    range: tuple[float, float] | None = None
    options: tuple[Any, ...] | None = None
    strategy: str = "linear"  # linear | log | power2 | int

    def draw(self, rng: random.Random) -> Any:
        if self.options is not None:
            return rng.choice(self.options)
        lo, hi = self.range  # type: ignore[misc]
        if self.strategy == "log":
            return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
        if self.strategy == "power2":
            return 2 ** rng.randint(int(math.log2(lo)), int(math.log2(hi)))
        if self.strategy == "int":
            return rng.randint(int(lo), int(hi))
        return round(rng.uniform(lo, hi), 4)


RGCN_SPACE = (
    Param("num-hidden", 64, 1, (16, 128), strategy="power2"),
    Param("num-epochs", 20, 1, (3, 30), strategy="int"),
    Param("lr", 0.005, 1, (0.001, 0.01), strategy="log"),
    Param("dropout", 0.3, 2, (0.0, 0.5)),
    Param("layer-norm", True, 2, options=(True, False)),
    Param("batch-size", 1024, 3, (128, 4096), strategy="power2"),
    Param("fanout", [10, 15, 15], 3, options=([5, 10, 10], [10, 15, 15], [15, 20, 20])),
    Param("num-layer", 2, 3, (1, 3), strategy="int"),
    Param("num-bases", 0, 3, (0, 8), strategy="int"),
    Param("concat-node-embed", False, 0),
    Param("use-self-loop", True, 0),
    Param("l2norm", 0.0, 0),
    Param("input-dropout", 0.0, 0),
    Param("num-negs", 10, 0),
    Param("enable-early-stop", True, 0),
    Param("window-for-early-stop", 3, 0),
    Param("sampler", "neighbor", 0),
    Param("seed", 0, 0),
    Param("num-partitions", 1, 0),
    Param("eval-batch-size", 512, 0),
)

OPTIMIZERS = ("adam", "adagrad")
"""The KGE trainer's optimizers (``optimizer``; see ``kge_trainer.make_optimizer``)."""

KGE_SPACE = (
    Param("num-hidden", 200, 1, (64, 512), strategy="power2"),
    Param("num-epochs", 20, 1, (5, 50), strategy="int"),
    Param("lr", 0.003, 1, (0.0005, 0.01), strategy="log"),
    Param("dropout", 0.2, 2, (0.0, 0.5)),
    Param("label-smoothing", 0.1, 2, (0.0, 0.2)),
    Param("batch-size", 1024, 3, (256, 4096), strategy="power2"),
    Param("regularization-coef", 0.0, 3, (0.0, 0.1)),  # N3 weight
    Param("optimizer", "adam", 0, options=OPTIMIZERS),
    Param("num-negs", 0, 0),
    Param("enable-early-stop", True, 0),
    Param("window-for-early-stop", 3, 0),
    Param("time-limit-s", 0, 0),
    Param("seed", 0, 0),
    Param("num-partitions", 1, 0),
    Param("sampler", "neighbor", 0),
    Param("eval-batch-size", 512, 0),
)


def space_for(model: str) -> tuple[Param, ...]:
    return RGCN_SPACE if model == "rgcn" else KGE_SPACE


def tuned_tiers(max_trials: int) -> set[int]:
    return {1} if max_trials < 10 else {1, 2} if max_trials <= 50 else {1, 2, 3}


def check_overrides(model: str, overrides: dict[str, Any] | None) -> dict[str, Any]:
    """Validate override names (ConfigError naming ``overrides.<name>`` for an unknown one)."""
    names = {p.name for p in space_for(model)}
    out = {}
    for key, value in (overrides or {}).items():
        if key not in names:
            raise ConfigError(f"unknown hyper-parameter {key!r} for {model}", field=f"overrides.{key}")
        out[key] = value
    if "optimizer" in out and out["optimizer"] not in OPTIMIZERS:
        raise ConfigError(
            f"unknown optimizer {out['optimizer']!r}; expected {' or '.join(OPTIMIZERS)}",
            field="overrides.optimizer",
        )
    if "sampler" in out and out["sampler"] not in ("neighbor", "labor", "gns"):
        raise ConfigError(f"unknown sampler {out['sampler']!r}", field="overrides.sampler")
    return out


def trial_params(
    model: str,
    trial: int,
    max_trials: int,
    overrides: dict[str, Any],
    seed: int = 0,
    first: dict[str, Any] | None = None,
) -> dict:
    """Hyper-parameters of trial ``trial``: trial 0 runs ``first`` (a previous job's best, for a
    warm start; names this model does not have are dropped) over the defaults, or the defaults;
    ``overrides`` win over both."""
    space = space_for(model)
    params = {p.name: p.default for p in space}
    if trial == 0 and first:
        params.update((name, value) for name, value in first.items() if name in params)
    elif trial > 0:
        rng = random.Random(seed * 1000 + trial)
        tiers = tuned_tiers(max_trials)
        for p in space:
            if p.tier in tiers:
                params[p.name] = p.draw(rng)
    params.update(overrides)
    return params
