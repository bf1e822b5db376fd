"""Entry point of the ``seer`` command (``python -m server.cli.main`` works too)."""

from __future__ import annotations

import importlib

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="seergraph")
def cli() -> None:
    """Seer: a graph database with learned links (Gremlin + Neptune ML, self-hosted)."""


# Sub-command modules; each defines its commands with ``@cli.command()``.
COMMAND_MODULES: list[str] = [
    "server.cli.migrate",
    "server.cli.serve",
    "server.cli.load",
    "server.cli.worker",
    "server.cli.endpoint",
    "server.cli.generate",
    "server.cli.demo",
    "server.cli.train",
]

for _module in COMMAND_MODULES:
    importlib.import_module(_module)


def main() -> None:
    cli(prog_name="seer")


if __name__ == "__main__":
    # Run as `python -m server.cli.main`, this file is `__main__`; the command modules registered
    # themselves on the importable `server.cli.main`, so run that one.
    from server.cli import main as _importable

    _importable.main()
