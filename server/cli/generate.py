"""``seer generate``: write a synthetic airline graph as Neptune Gremlin CSV (see
:mod:`server.demo.generate`)."""

from __future__ import annotations

from pathlib import Path

import click

from server.cli.main import cli


@cli.command("generate")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--airports", default=600, show_default=True, help="Number of airport vertices.")
@click.option("--regions", default=6, show_default=True, help="Number of communities (regions).")
@click.option("--mean-degree", default=10.0, show_default=True, help="Average routes per airport.")
@click.option(
    "--unlabelled", default=0.1, show_default=True, help="Fraction of airports written without region."
)
@click.option("--seed", default=7, show_default=True, help="Random seed (same seed, same graph).")
def generate_command(
    out_dir: Path, airports: int, regions: int, mean_degree: float, unlabelled: float, seed: int
) -> None:
    """Write vertices.csv and edges.csv for a synthetic airline graph into OUT_DIR."""
    from server.demo.generate import GraphSpec, generate_csv

    try:
        spec = GraphSpec(
            airports=airports, regions=regions, mean_degree=mean_degree, unlabelled=unlabelled, seed=seed
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    graph = generate_csv(out_dir, spec)
    click.echo(
        f"wrote {len(graph.ids)} airports, {len(graph.country_ids)} countries and {2 * len(graph.routes)} "
        f"route edges ({len(graph.region_names)} regions) to {out_dir}"
    )
