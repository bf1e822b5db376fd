"""One DistDGL trainer: ``python -m graphml.distributed.trainer --rank R ...``.

Environment (set by :mod:`graphml.distributed.launch`, or by hand on a cluster):
``DGL_DIST_MODE=distributed``, ``DGL_ROLE=client``, ``DGL_NUM_SERVER`` (servers per machine),
``DGL_NUM_SAMPLER=0``.

Each trainer takes an even share of the training nodes (``node_split``, its partition's nodes
first), samples blocks with ``DistNodeDataLoader`` + DGL's ``NeighborSampler`` over the servers,
reads features from the distributed ``ndata`` and trains :class:`graphml.models.sage.SAGE` inside
``DistributedDataParallel`` (gloo), so every step applies the gradient of the whole global batch.
Rank 0 saves the weights and a JSON line of per-epoch figures.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ip-config", required=True)
    parser.add_argument("--part-config", required=True)
    parser.add_argument("--rank", type=int, required=True)
    parser.add_argument("--world-size", type=int, required=True)
    parser.add_argument("--master", required=True, help="HOST:PORT of the torch.distributed rendezvous")
    parser.add_argument("--config", required=True, help="JSON of graphml.models.sage_training.SageConfig")
    parser.add_argument("--num-classes", type=int, required=True)
    parser.add_argument("--output", required=True, help="folder for model.pt and history.json (rank 0)")
    args = parser.parse_args(argv)

    import os

    import dgl
    import torch
    import torch.nn.functional as F
    from torch.nn.parallel import DistributedDataParallel

    from graphml.models.sage import SAGE
    from graphml.models.sage_training import SageConfig

    config = SageConfig(**json.loads(args.config))
    torch.set_num_threads(1)
    dgl.utils.set_num_threads(1)
    if os.environ.get("SEER_DIST_MACHINE_ID"):
        # Several machines on one host all have address 127.0.0.1, so DistDGL's detection of the
        # local machine (first ip_config line with a local address) would say 0 for every trainer.
        from dgl.distributed import rpc_client

        machine_id = int(os.environ["SEER_DIST_MACHINE_ID"])
        rpc_client.get_local_machine_id = lambda _server_namebook: machine_id
    dgl.distributed.initialize(args.ip_config)
    torch.distributed.init_process_group(
        "gloo", init_method=f"tcp://{args.master}", rank=args.rank, world_size=args.world_size
    )
    graph_name = json.loads(Path(args.part_config).read_text())["graph_name"]
    g = dgl.distributed.DistGraph(graph_name)

    torch.manual_seed(config.seed)
    dgl.seed(config.seed + args.rank)
    train_nids = dgl.distributed.node_split(g.ndata["train_mask"], g.get_partition_book(), force_even=True)
    in_feats = g.ndata["feat"].shape[1]
    model = SAGE(in_feats, config.hidden, args.num_classes, len(config.fanouts), config.dropout)
    ddp = DistributedDataParallel(model)
    opt = torch.optim.Adam(ddp.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    sampler = dgl.dataloading.NeighborSampler(config.fanouts)
    loader = dgl.dataloading.DistNodeDataLoader(
        g, train_nids, sampler, batch_size=config.batch_size, shuffle=True, drop_last=False
    )
    history = []
    for epoch in range(config.epochs):
        start, sample_s, batches, loss_sum = time.perf_counter(), 0.0, 0, 0.0
        ddp.train()
        with ddp.join():  # trainers may get one batch more or less than the others
            batch_iter = iter(loader)
            while True:
                t0 = time.perf_counter()
                try:
                    input_nodes, seeds, blocks = next(batch_iter)
                except StopIteration:
                    break
                sample_s += time.perf_counter() - t0
                x = g.ndata["feat"][input_nodes]
                y = g.ndata["label"][seeds]
                loss = F.cross_entropy(ddp(blocks, x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                batches += 1
                loss_sum += float(loss)
        history.append(
            {
                "epoch": epoch,
                "batches": batches,
                "epoch_s": time.perf_counter() - start,
                "sample_s": sample_s,
                "loss": loss_sum / max(batches, 1),
            }
        )
    if args.rank == 0:
        out = Path(args.output)
        out.mkdir(parents=True, exist_ok=True)
        torch.save({"state_dict": model.state_dict(), "hyper": model.hyper}, out / "model.pt")
        (out / "history.json").write_text(json.dumps(history))
    torch.distributed.barrier()
    torch.distributed.destroy_process_group()
    dgl.distributed.exit_client()


if __name__ == "__main__":
    main()
