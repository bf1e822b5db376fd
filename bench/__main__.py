"""Runs benchmarks by name: ``python -m bench`` (the default set) or ``python -m bench NAME...``."""

from __future__ import annotations

import importlib
import sys

# name -> module; DEFAULT is what `make bench` runs, GROUPS are the named extra sets.
BENCHMARKS: dict[str, str] = {
    "load": "bench.load",
    "gremlin": "bench.gremlin",
    "protocol": "bench.protocol",
    "ml_queries": "bench.ml_queries",
    "concurrency": "bench.concurrency",
    "engine": "bench.engine",
    "ml_quality": "bench.ml",
    "sampling": "bench.sampling",
}
DEFAULT: list[str] = [
    "load",
    "gremlin",
    "ml_queries",
    "concurrency",
]
GROUPS: dict[str, list[str]] = {"ml": ["ml_queries", "ml_quality"], "sampling": ["sampling"]}


def main(argv: list[str]) -> int:
    names = argv or DEFAULT
    expanded = [n for name in names for n in GROUPS.get(name, [name])]
    unknown = [n for n in expanded if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(sorted(BENCHMARKS))}")
        return 2
    for name in expanded:
        print(f"\n=== {name} ===", flush=True)
        importlib.import_module(BENCHMARKS[name]).main([])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
