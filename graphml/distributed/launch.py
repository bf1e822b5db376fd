"""Starts DistDGL servers and trainers as separate processes on loopback and collects the result.

Every child runs in its own session (process group); whatever happens (success, error, timeout,
KeyboardInterrupt) the launcher kills the groups that are still alive before returning, so no
DistDGL process outlives a run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import dgl
import torch

from graphml.api import GraphMLError
from graphml.distributed.partition import partition
from graphml.models.sage import SAGE
from graphml.models.sage_training import SageConfig, evaluate

REPO_ROOT = Path(__file__).resolve().parents[2]


class DistributedError(GraphMLError):
    """A server or trainer failed or timed out; the message holds the tail of its log."""


def free_ports(count: int) -> list[int]:
    """``count`` TCP ports that were free a moment ago on 127.0.0.1."""
    socks, ports = [], []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def write_loopback_ip_config(path: Path, num_machines: int) -> Path:
    """One ``127.0.0.1 PORT`` line per machine (= partition), as DistDGL's ip_config wants."""
    path.write_text("".join(f"127.0.0.1 {port}\n" for port in free_ports(num_machines)))
    return path


def load_graph(graph_or_path: dgl.DGLGraph | str | Path) -> dgl.DGLGraph:
    """A graph, or a file saved with ``dgl.save_graphs`` (or a folder holding ``graph.bin``)."""
    if isinstance(graph_or_path, dgl.DGLGraph):
        return graph_or_path
    path = Path(graph_or_path)
    if path.is_dir():
        path = path / "graph.bin"
    if not path.is_file():
        raise DistributedError(f"{path}: no graph file (expected a dgl.save_graphs file)")
    graphs, _ = dgl.load_graphs(str(path))
    return graphs[0]


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))
    env.update(
        {
            "OMP_NUM_THREADS": "1",
            "DGLBACKEND": "pytorch",
        }
    )
    return env


def _private_shm_prefix() -> list[str]:
    """Command prefix that runs a "machine" with its own ``/dev/shm`` (a mount namespace with a
    fresh tmpfs), so that DistDGL's shared-memory names do not collide between machines on one
    host. Unprivileged users get a user namespace as well."""
    unshare = shutil.which("unshare")
    if unshare is None:
        raise DistributedError("loopback DistDGL needs util-linux's `unshare` (private /dev/shm per machine)")
    user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    return [
        unshare,
        *user,
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        'mount -t tmpfs tmpfs /dev/shm && exec "$@"',
        "machine",
    ]


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _group_alive(proc: subprocess.Popen) -> bool:
    """Whether any process of ``proc``'s process group is still there (``proc`` reaped first, so
    that a leader that has exited does not count as a zombie)."""
    proc.poll()
    try:
        os.killpg(proc.pid, 0)
    except ProcessLookupError:
        return False
    return True


def _kill_group(proc: subprocess.Popen, grace_s: float = 5.0) -> None:
    """Stop a machine's whole process group: its graph server and trainer too, also when the
    machine's own process has already exited (a failed machine leaves its other children
    running). SIGTERM, then SIGKILL what is left after ``grace_s``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not _group_alive(proc):
            break
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + grace_s
        while _group_alive(proc) and time.monotonic() < deadline:
            time.sleep(0.05)
    proc.wait()


def train_node_classification(
    graph_or_processed_dir: dgl.DGLGraph | str | Path,
    num_partitions: int,
    config: SageConfig | dict[str, Any] | None = None,
    *,
    work_dir: Path | None = None,
    timeout_s: float = 600.0,
) -> dict[str, Any]:
    """Partition, start ``num_partitions`` servers and trainers on loopback, train, evaluate.

    Args:
        graph_or_processed_dir: a homogeneous graph with the node data of :mod:`graphml.datasets`,
            or a ``dgl.save_graphs`` file / folder holding ``graph.bin``.
        num_partitions: METIS partitions = graph servers = trainers.
        config: :class:`SageConfig` (or its fields as a dict); the sampler is DGL's
            ``NeighborSampler`` over DistDGL.
        work_dir: where partitions, ip_config, logs and ``model.pt`` go (default: a temp folder).
        timeout_s: the whole run's limit.

    Returns:
        ``{"val_acc", "test_acc", "num_partitions", "epochs": [...], "train_s", "work_dir"}``.

    Raises:
        DistributedError: a process failed or the run timed out (its log tail in the message).
    """
    if num_partitions < 1:
        raise DistributedError("num_partitions must be >= 1")
    cfg = config if isinstance(config, SageConfig) else SageConfig(**(config or {}))
    graph = load_graph(graph_or_processed_dir)
    work = Path(work_dir) if work_dir is not None else Path(tempfile.mkdtemp(prefix="seer-dist-"))
    work.mkdir(parents=True, exist_ok=True)
    part_config = partition(graph, num_partitions, work / "parts")
    ip_config = write_loopback_ip_config(work / "ip_config.txt", num_partitions)
    master = f"127.0.0.1:{free_ports(1)[0]}"
    num_classes = int(graph.ndata["label"].max()) + 1
    env = _child_env()
    python = sys.executable
    procs: list[tuple[str, subprocess.Popen, Path]] = []

    def spawn(name: str, argv: list[str]) -> None:
        log = work / f"{name}.log"
        with log.open("wb") as fh:
            proc = subprocess.Popen(
                argv, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
            )
        procs.append((name, proc, log))

    start = time.perf_counter()
    try:
        for i in range(num_partitions):
            machine = [
                python,
                "-m",
                "graphml.distributed.machine",
                "--machine-id",
                str(i),
                "--num-machines",
                str(num_partitions),
                "--ip-config",
                str(ip_config),
                "--part-config",
                str(part_config),
                "--master",
                master,
                "--num-classes",
                str(num_classes),
                "--config",
                json.dumps(asdict(cfg)),
                "--output",
                str(work / "model"),
                "--loopback",
            ]
            spawn(f"machine-{i}", [*_private_shm_prefix(), *machine])
        deadline = start + timeout_s
        while True:
            codes = {name: proc.poll() for name, proc, _ in procs}
            failed = [(name, log) for name, proc, log in procs if proc.poll() not in (None, 0)]
            if failed:
                name, log = failed[0]
                raise DistributedError(f"{name} exited with {codes[name]}:\n{_tail(log)}")
            if all(code == 0 for code in codes.values()):
                break
            if time.perf_counter() > deadline:
                raise DistributedError(f"distributed training timed out after {timeout_s:.0f} s")
            time.sleep(0.2)
        train_s = time.perf_counter() - start
    finally:
        for _, proc, _ in procs:
            _kill_group(proc)

    saved = torch.load(work / "model" / "model.pt")
    model = SAGE(**saved["hyper"])
    model.load_state_dict(saved["state_dict"])
    val_acc, test_acc = evaluate(model, graph, cfg.eval_batch_size)
    return {
        "val_acc": val_acc,
        "test_acc": test_acc,
        "num_partitions": num_partitions,
        "epochs": json.loads((work / "model" / "history.json").read_text()),
        "train_s": train_s,
        "work_dir": str(work),
    }
