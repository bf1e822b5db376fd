"""``seer demo`` (``make demo``): generate or take a graph, start the embedded server, train a
link-prediction and a node-classification model through the REST job API, and print Gremlin
queries with their predicted links and labels (see :mod:`server.demo.walkthrough`)."""

from __future__ import annotations

from pathlib import Path

import click

from server.cli.main import cli


def _triple(value: str) -> tuple[str, str, str]:
    parts = tuple(value.split("."))
    if len(parts) != 3 or not all(parts):
        raise click.BadParameter(f"expected FROM.EDGE.TO, got {value!r}")
    return parts  # type: ignore[return-value]


def _pair(value: str) -> tuple[str, str]:
    parts = tuple(value.split("."))
    if len(parts) != 2 or not all(parts):
        raise click.BadParameter(f"expected LABEL.PROPERTY, got {value!r}")
    return parts  # type: ignore[return-value]


@cli.command("demo")
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="A Neptune CSV folder to load (e.g. ../shared/datasets/air-routes) instead of the generated graph.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".seer/demo"),
    show_default=True,
    help="Where the demo's database and models go (emptied first).",
)
@click.option("--airports", default=600, show_default=True, help="Size of the generated graph.")
@click.option(
    "--predict",
    "link",
    default="airport.route.airport",
    show_default=True,
    help="Link-prediction target FROM.EDGE.TO.",
)
@click.option(
    "--classify",
    default=None,
    help="Node-classification target LABEL.PROPERTY [default: airport.region; airport.country with --data].",
)
@click.option(
    "--epochs", type=int, default=None, help="Training epochs per model [default: 5 links, 15 classes]."
)
@click.option("--port", type=int, default=None, help="Server port (default: a free one).")
@click.option("--keep-serving", is_flag=True, help="Leave the server running after the queries.")
def demo_command(
    data: Path | None,
    data_dir: Path,
    airports: int,
    link: str,
    classify: str | None,
    epochs: int | None,
    port: int | None,
    keep_serving: bool,
) -> None:
    """Train and query learned links end to end (exits 0 when every step worked)."""
    from server.demo.walkthrough import Demo, DemoConfig

    classify = classify or ("airport.country" if data is not None else "airport.region")
    config = DemoConfig(
        data_dir=data_dir,
        data=data,
        airports=airports,
        link=_triple(link),
        classify=_pair(classify),
        epochs=epochs,
        port=port,
        keep_serving=keep_serving,
    )
    raise SystemExit(Demo(config, echo=click.echo).run())
