"""``seer train``: GraphSAGE node classification on one process or on DistDGL partitions.

    seer train --dataset cora --partitions 2          # METIS + DistDGL servers/trainers on loopback
    seer train --dataset /path/graph.bin --sampler gns # one process, GNS sampling

``--dataset`` is ``cora`` / ``citeseer`` (Planetoid files under ``--data-dir``), ``powerlaw``
(generated, ``--nodes``/``--edges``) or a ``dgl.save_graphs`` file. Prints the metrics as JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from server.cli.main import cli


@cli.command("train")
@click.option(
    "--dataset", default="cora", show_default=True, help="cora | citeseer | powerlaw | a graph.bin path"
)
@click.option("--data-dir", type=click.Path(path_type=Path), help="folder of the Planetoid ind.* files")
@click.option("--partitions", default=1, show_default=True, help="> 1: distributed training on DistDGL")
@click.option(
    "--sampler", type=click.Choice(["neighbor", "labor", "gns"]), default="neighbor", show_default=True
)
@click.option("--epochs", default=50, show_default=True)
@click.option("--fanouts", default="10,10", show_default=True, help="per layer, input layer first")
@click.option("--hidden", default=64, show_default=True)
@click.option("--lr", default=0.01, show_default=True)
@click.option("--batch-size", default=64, show_default=True)
@click.option("--nodes", default=100_000, show_default=True, help="powerlaw only")
@click.option("--edges", default=1_000_000, show_default=True, help="powerlaw only")
@click.option("--work-dir", type=click.Path(path_type=Path), help="partitions, logs and model (distributed)")
def train(
    dataset: str,
    data_dir: Path | None,
    partitions: int,
    sampler: str,
    epochs: int,
    fanouts: str,
    hidden: int,
    lr: float,
    batch_size: int,
    nodes: int,
    edges: int,
    work_dir: Path | None,
) -> None:
    """Train GraphSAGE node classification and print its metrics."""
    import dgl

    from graphml.datasets import DatasetError, load_planetoid, power_law_graph
    from graphml.distributed import DistributedError, train_node_classification
    from graphml.models.sage_training import SageConfig, train_node_classifier

    if dataset in ("cora", "citeseer"):
        root = data_dir or Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "planetoid"
        try:
            graph = load_planetoid(dataset, root)
        except DatasetError as exc:
            raise click.ClickException(str(exc)) from exc
    elif dataset == "powerlaw":
        graph = power_law_graph(nodes, edges)
    else:
        path = Path(dataset)
        if not path.is_file():
            raise click.BadParameter(f"{dataset}: not a dataset name or a graph file", param_hint="--dataset")
        graph = dgl.load_graphs(str(path))[0][0]
    config = SageConfig(
        sampler=sampler,
        fanouts=[int(f) for f in fanouts.split(",")],
        hidden=hidden,
        lr=lr,
        weight_decay=5e-4,
        batch_size=batch_size,
        epochs=epochs,
    )
    if partitions > 1:
        if sampler != "neighbor":
            raise click.BadParameter("distributed training samples with 'neighbor'", param_hint="--sampler")
        try:
            metrics = train_node_classification(graph, partitions, config, work_dir=work_dir)
        except DistributedError as exc:
            raise click.ClickException(str(exc)) from exc
    else:
        metrics = train_node_classifier(graph, config).metrics()
    click.echo(json.dumps(metrics, indent=2, default=str))
