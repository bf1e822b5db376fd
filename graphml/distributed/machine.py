"""Everything one machine runs: ``python -m graphml.distributed.machine --machine-id I ...``.

Starts this machine's graph server (partition ``I``) and its trainer (rank ``I``), waits for the
trainer, then for the server (rank 0 shuts all servers down when training ends), and kills what is
left. On a cluster, run it once per machine with the same ip_config and partition folder (shared
storage or a copy); on loopback :mod:`graphml.distributed.launch` runs one per partition.

``--loopback`` is for several machines on one host: every machine then has address 127.0.0.1,
so DistDGL cannot tell them apart by IP; the trainer is told its machine id instead
(``SEER_DIST_MACHINE_ID``), and the launcher gives each machine a private ``/dev/shm`` (DistDGL
names its shared memory after the graph and the data, which would otherwise collide).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--machine-id", type=int, required=True)
    parser.add_argument("--num-machines", type=int, required=True)
    parser.add_argument("--ip-config", required=True)
    parser.add_argument("--part-config", required=True)
    parser.add_argument("--master", required=True)
    parser.add_argument("--num-classes", type=int, required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--loopback", action="store_true")
    args = parser.parse_args(argv)

    env = dict(os.environ)
    env.update({"DGL_DIST_MODE": "distributed", "DGL_NUM_SERVER": "1", "DGL_NUM_SAMPLER": "0"})
    if args.loopback:
        env["SEER_DIST_MACHINE_ID"] = str(args.machine_id)
    python = sys.executable
    server = subprocess.Popen(
        [
            python,
            "-m",
            "graphml.distributed.server",
            "--server-id",
            str(args.machine_id),
            "--ip-config",
            args.ip_config,
            "--part-config",
            args.part_config,
            "--num-clients",
            str(args.num_machines),
        ],
        env={**env, "DGL_ROLE": "server", "DGL_SERVER_ID": str(args.machine_id)},
    )
    trainer = subprocess.Popen(
        [
            python,
            "-m",
            "graphml.distributed.trainer",
            "--ip-config",
            args.ip_config,
            "--part-config",
            args.part_config,
            "--rank",
            str(args.machine_id),
            "--world-size",
            str(args.num_machines),
            "--master",
            args.master,
            "--num-classes",
            str(args.num_classes),
            "--config",
            args.config,
            "--output",
            args.output,
        ],
        env={**env, "DGL_ROLE": "client"},
    )
    try:
        code = trainer.wait()
        if code == 0:
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        return code
    finally:
        for proc in (trainer, server):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


if __name__ == "__main__":
    sys.exit(main())
