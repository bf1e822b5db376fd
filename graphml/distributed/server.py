"""One DistDGL graph server: ``python -m graphml.distributed.server --server-id N ...``.

Serves one partition's structure and node data to the trainers until rank 0 shuts the servers down
at the end of training. ``--no-shared-mem`` is for several "machines" on one host (loopback tests):
the servers of different partitions would otherwise publish the same shared-memory names.
"""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--server-id", type=int, required=True, help="global server id (machine * servers + i)"
    )
    parser.add_argument("--ip-config", required=True)
    parser.add_argument("--part-config", required=True)
    parser.add_argument("--num-servers", type=int, default=1, help="servers per machine")
    parser.add_argument(
        "--num-clients", type=int, required=True, help="trainers (and sampler processes) in all"
    )
    parser.add_argument("--no-shared-mem", action="store_true")
    args = parser.parse_args(argv)

    import dgl

    dgl.distributed.rpc.reset()
    server = dgl.distributed.DistGraphServer(
        args.server_id,
        args.ip_config,
        args.num_servers,
        args.num_clients,
        args.part_config,
        disable_shared_mem=args.no_shared_mem,
        graph_format=["csc", "coo"],
    )
    server.start()


if __name__ == "__main__":
    main()
