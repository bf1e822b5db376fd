"""Input-layer feature gathering with an optional device-side cache, counting host-to-device bytes.

In mixed CPU-GPU training the features of a mini-batch's input nodes are copied from host memory to
the device. With GNS, the features of the epoch's cached nodes are copied once per epoch and then
read on the device; only cache misses travel per mini-batch. :class:`InputFeatures` does exactly
that and counts the bytes, so benchmarks can report the traffic even on a CPU-only machine (where
"the device" is the CPU and the copy is a gather).
"""

from __future__ import annotations

import torch


class InputFeatures:
    """Features ``[num_nodes, F]`` on the host; ``gather`` returns rows on ``device``.

    Attributes:
        bytes_moved: host-to-device bytes so far (mini-batch misses plus cache loads).
    """

    def __init__(self, features: torch.Tensor, device: torch.device | str = "cpu") -> None:
        self.features = features
        self.device = torch.device(device)
        self.row_bytes = features.shape[1] * features.element_size()
        self.slots: torch.Tensor | None = None  # node id -> cache row, -1 when not cached; [num_nodes]
        self.cached: torch.Tensor | None = None  # [cache_size, F] on the device
        self.bytes_moved = 0

    def load_cache(self, cache_nodes: torch.Tensor) -> int:
        """Copy the rows of ``cache_nodes`` to the device; returns the bytes copied."""
        slots = torch.full((self.features.shape[0],), -1, dtype=torch.int64)
        slots[cache_nodes] = torch.arange(cache_nodes.numel())
        self.slots = slots
        self.cached = self.features[cache_nodes].to(self.device)
        moved = cache_nodes.numel() * self.row_bytes
        self.bytes_moved += moved
        return moved

    def gather(self, input_nodes: torch.Tensor) -> tuple[torch.Tensor, int]:
        """Rows of ``input_nodes`` on the device ``[len(input_nodes), F]`` and the bytes copied for them."""
        # index_select / index_copy_ rather than tensor[index] and boolean masks: the same rows,
        # measured 2.7x faster on CPU for a 57k-row gather from a 2M-row table.
        if self.slots is None or self.cached is None:
            out = self.features.index_select(0, input_nodes).to(self.device)
            moved = input_nodes.numel() * self.row_bytes
        else:
            slot = self.slots.index_select(0, input_nodes)
            hit = slot >= 0
            hit_at, miss_at = torch.nonzero(hit).squeeze(1), torch.nonzero(~hit).squeeze(1)
            out = torch.empty(
                input_nodes.numel(), self.features.shape[1], dtype=self.features.dtype, device=self.device
            )
            out.index_copy_(
                0, hit_at.to(self.device), self.cached.index_select(0, slot[hit_at].to(self.device))
            )
            misses = self.features.index_select(0, input_nodes.index_select(0, miss_at))
            out.index_copy_(0, miss_at.to(self.device), misses.to(self.device))
            moved = miss_at.numel() * self.row_bytes
        self.bytes_moved += moved
        return out, moved
