"""One call that seeds every random source training touches (Python, NumPy, torch, DGL)."""

from __future__ import annotations

import random

import dgl
import numpy as np
import torch


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    dgl.seed(seed)
    dgl.random.seed(seed)
