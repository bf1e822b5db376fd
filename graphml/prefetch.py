"""Prepare items on the calling thread while a worker thread consumes them, a bounded number ahead.

Why: in mini-batch GNN training the next batch can be sampled and its input features gathered
while the current one trains. DGL's ``DataLoader`` does this with its prefetch thread when it
samples on the CPU for a GPU (``use_prefetch_thread``), and the GNS paper's timings assume that
pipeline; DGL turns the thread on only for a CUDA device. :func:`consume_in_thread` does the same
on any device, so a CPU-only run overlaps sampling with compute too: PyTorch and DGL release the
GIL inside their kernels, so the two threads keep two cores busy.

The items are made on the *calling* thread and consumed on the worker, not the other way round,
because DGL's random generator is per thread and ``dgl.seed`` only reaches the threads it runs
on: sampling on the thread that seeded it keeps runs reproducible (and identical to running
without the worker). The consumer's own randomness (dropout) uses PyTorch's global generator,
which only it draws from.

Hand-written (a queue and a thread) because neither PyTorch nor DGL exposes theirs as an API:
DGL's ``_PrefetchingIter`` is private and bound to its ``DataLoader``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_END = object()


class _Closed(Exception):
    """The producer stopped early (it failed): the consumer must stop too."""


def consume_in_thread(
    items: Iterable[T],
    consume: Callable[[Iterator[T]], R],
    *,
    depth: int = 1,
    thread_setup: Callable[[], None] | None = None,
    name: str = "consumer",
) -> R:
    """Iterate ``items`` on this thread while ``consume(iterator)`` runs on a worker thread and
    reads them in order, at most ``depth`` items behind the producer.

    Returns what ``consume`` returns. An exception raised by ``consume`` stops the producer and
    is raised here; one raised by ``items`` stops the consumer (its iterator raises) and is raised
    here. ``thread_setup`` runs first on the worker thread (per-thread settings such as the
    number of intra-op threads).
    """
    if depth < 1:
        raise ValueError("depth must be at least 1")
    channel: queue.Queue[Any] = queue.Queue(maxsize=depth)
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def received() -> Iterator[T]:
        while True:
            item = channel.get()
            if item is _END:
                return
            if isinstance(item, _Closed):
                raise item
            yield item

    def run() -> None:
        try:
            if thread_setup is not None:
                thread_setup()
            outcome["result"] = consume(received())
        except BaseException as exc:  # noqa: BLE001 - raised again on the calling thread
            outcome["error"] = exc
        finally:
            done.set()

    def put(item: object) -> bool:
        """Queue ``item``; False once the consumer has finished (it wants no more)."""
        while not done.is_set():
            try:
                channel.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    worker = threading.Thread(target=run, name=name, daemon=True)
    worker.start()
    try:
        for item in items:
            if not put(item):
                break
        put(_END)
    except BaseException:
        put(_Closed("the producer failed"))
        worker.join()
        raise
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]
