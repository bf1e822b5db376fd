"""One compute thread per test: on a busy 2-core machine, spinning OpenMP threads cost 10x."""

from __future__ import annotations

import dgl
import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    before_torch, before_dgl = torch.get_num_threads(), dgl.utils.get_num_threads()
    torch.set_num_threads(1)
    dgl.utils.set_num_threads(1)
    yield
    torch.set_num_threads(before_torch)
    dgl.utils.set_num_threads(before_dgl)
