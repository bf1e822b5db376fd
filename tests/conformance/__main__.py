"""Run the TinkerPop Gremlin suite against Seer and print pass/fail/skip per folder.

    python -m tests.conformance --backend sqlite --backend postgres [--mode driver|inprocess]
                                [--folder map] [--feature map/Vertex.feature] [--scenario NAME]
                                [--core-only] [--write-known-failures] [--markdown FILE] [-v]

Backends run one after another (never two at once, to bound memory); the process caps its own
address space (``--max-memory-gb``, default 4) and prints its peak RSS. The exit status is 1 when
a scenario fails that ``known_failures.txt`` does not list, or a listed one now passes.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from tests.conformance.features import Scenario, load_scenarios
from tests.conformance.known import read_known, write_known
from tests.conformance.report import Tally, markdown_table, text_table
from tests.conformance.session import BACKENDS, open_session


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    _cap_memory(args.max_memory_gb)
    scenarios = select(load_scenarios(), args)
    if not scenarios:
        print("no scenario matches the selection", file=sys.stderr)
        return 2
    known = read_known()
    unexpected: list[str] = []
    fixed: list[str] = []
    failures: set[tuple[str, str, str]] = set()
    ran: set[tuple[str, str, str]] = set()
    sections: list[tuple[str, Tally]] = []
    for backend in args.backend:
        started = time.monotonic()
        tally = Tally()
        with tempfile.TemporaryDirectory(prefix=f"seer-conformance-{backend}-") as tmp:
            with open_session(backend, args.mode, Path(tmp), timeout_s=args.timeout) as runner:

                def progress(outcome, backend=backend, tally=tally):  # noqa: ANN001, ANN202
                    tally.add(outcome)
                    if args.verbose or outcome.status == "fail" and args.show_failures:
                        print(
                            f"[{backend}] {outcome.status.upper():4} {outcome.scenario.id}  {outcome.reason}"
                        )
                    elif sys.stderr.isatty():
                        print(f"\r[{backend}] {tally.summary()}", end="", file=sys.stderr, flush=True)

                outcomes = runner.run_all(scenarios, progress)
                if sys.stderr.isatty():
                    print(file=sys.stderr)
        for outcome in outcomes:
            key = (args.mode, backend, outcome.scenario.id)
            if outcome.status == "skip":
                continue
            ran.add(key)
            if outcome.status == "fail":
                failures.add(key)
                if key not in known:
                    unexpected.append(f"{backend}: {outcome.scenario.id}: {outcome.reason}")
            elif key in known:
                fixed.append(f"{backend}: {outcome.scenario.id}")
        elapsed = time.monotonic() - started
        title = f"{backend} ({args.mode}, {elapsed:.0f} s, graph loads: {runner.graphs.loads})"
        sections.append((title, tally))
        print(f"\n== {title}")
        print(text_table(tally))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rss_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\npeak RSS: harness {rss_mb:.0f} MB, largest child {rss_child:.0f} MB")
    if args.markdown:
        command = "python -m tests.conformance " + " ".join(argv if argv is not None else sys.argv[1:])
        Path(args.markdown).write_text(markdown_table(sections, command), encoding="utf-8")
        print(f"wrote {args.markdown}")
    if args.write_known_failures:
        write_known(failures, ran)
        print(f"known_failures.txt rewritten for this run: {len(failures)} failing scenario runs")
        return 0
    if unexpected:
        print(f"\n{len(unexpected)} unexpected failures (not in known_failures.txt):")
        print("\n".join(f"  {line}" for line in unexpected[:50]))
    if fixed:
        print(f"\n{len(fixed)} known failures now pass; remove them from known_failures.txt:")
        print("\n".join(f"  {line}" for line in fixed[:50]))
    return 1 if unexpected or fixed else 0


def select(scenarios: tuple[Scenario, ...], args: argparse.Namespace) -> list[Scenario]:
    out = []
    for sc in scenarios:
        if args.folder and sc.folder not in args.folder:
            continue
        if args.feature and sc.feature not in args.feature:
            continue
        if args.scenario and sc.name not in args.scenario:
            continue
        if args.core_only and not sc.is_core:
            continue
        out.append(sc)
    return out


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance", description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", choices=sorted(BACKENDS), help="repeatable")
    parser.add_argument("--mode", choices=["driver", "inprocess"], default="driver")
    parser.add_argument("--folder", action="append", help="e.g. map, filter (repeatable)")
    parser.add_argument("--feature", action="append", help="e.g. map/Vertex.feature (repeatable)")
    parser.add_argument("--scenario", action="append", help="a scenario name (repeatable)")
    parser.add_argument("--core-only", action="store_true", help="only the 1,881 core scenarios")
    parser.add_argument("--write-known-failures", action="store_true")
    parser.add_argument("--markdown", help="write the per-folder tables to this file")
    parser.add_argument("--max-memory-gb", type=float, default=4.0)
    parser.add_argument("--timeout", type=int, default=20, help="seconds per scenario (default 20)")
    parser.add_argument("--show-failures", action="store_true", help="print each failure as it happens")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every scenario")
    args = parser.parse_args(argv)
    args.backend = args.backend or ["sqlite"]
    return args


def _cap_memory(gigabytes: float) -> None:
    limit = int(gigabytes * 1024**3)
    if os.environ.get("SEER_CONFORMANCE_NO_MEMORY_CAP"):
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard > limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


if __name__ == "__main__":
    sys.exit(main())
