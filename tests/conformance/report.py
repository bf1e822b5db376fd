"""Counting outcomes per folder, core and tagged scenarios apart, and printing the tables."""

from __future__ import annotations

import dataclasses
import datetime
import os
from collections import defaultdict

from tests.conformance.runner import Outcome

FOLDERS = ["branch", "data", "filter", "integrated", "map", "semantics", "sideEffect"]


@dataclasses.dataclass
class Tally:
    """``counts[set][folder][status]`` with set ``core`` or ``tagged``."""

    counts: dict[str, dict[str, dict[str, int]]] = dataclasses.field(
        default_factory=lambda: defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    )

    def add(self, outcome: Outcome) -> None:
        group = "core" if outcome.scenario.is_core else "tagged"
        self.counts[group][outcome.scenario.folder][outcome.status] += 1

    def total(self, group: str, status: str) -> int:
        return sum(f[status] for f in self.counts[group].values())

    def summary(self) -> str:
        core = {s: self.total("core", s) for s in ("pass", "fail", "skip")}
        return f"core pass {core['pass']} fail {core['fail']} skip {core['skip']}"

    def rows(self, group: str) -> list[tuple[str, int, int, int]]:
        folders = [f for f in FOLDERS if f in self.counts[group]]
        folders += sorted(set(self.counts[group]) - set(FOLDERS))
        return [
            (f, self.counts[group][f]["pass"], self.counts[group][f]["fail"], self.counts[group][f]["skip"])
            for f in folders
        ]


def _pct(passed: int, failed: int, skipped: int) -> str:
    total = passed + failed + skipped
    return f"{100 * passed / total:.1f}%" if total else "-"


def text_table(tally: Tally) -> str:
    lines = []
    for group in ("core", "tagged"):
        rows = tally.rows(group)
        if not rows:
            continue
        lines.append(f"{group:<12}{'pass':>7}{'fail':>7}{'skip':>7}{'pass %':>9}")
        for folder, p, f, s in rows:
            lines.append(f"  {folder:<10}{p:>7}{f:>7}{s:>7}{_pct(p, f, s):>9}")
        p, f, s = (tally.total(group, k) for k in ("pass", "fail", "skip"))
        lines.append(f"  {'TOTAL':<10}{p:>7}{f:>7}{s:>7}{_pct(p, f, s):>9}")
    return "\n".join(lines)


def measured_on() -> str:
    """When and on what the run was measured (timings on a shared machine are noisy)."""
    cores = os.cpu_count() or 1
    load = os.getloadavg()[0]
    loaded = "a loaded " if load > cores else "a "
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"Measured {when} on {loaded}{cores}-core machine (load average {load:.1f} at the end)."


def markdown_table(sections: list[tuple[str, Tally]], command: str) -> str:
    out = [
        "# TinkerPop conformance",
        "",
        "The Gremlin compliance suite (`../shared/tinkerpop/features`, TinkerPop 3.8) run against Seer.",
        '"core" = scenarios with no capability tag except `@StepClassSemantics`, not placeholders',
        '(1,881); "tagged" = the others, counted apart. pass % is of all scenarios in the row.',
        "",
        "Driver mode sends the script text with bindings through the real gremlinpython driver",
        "(GraphBinary) over the WebSocket to a `seer serve` subprocess (`client.submit`). Known failures:",
        "`tests/conformance/known_failures.txt` (may only shrink); a fixed 400-scenario sample runs in the",
        "default test run (`tests/conformance/test_sample.py`). Skipped: placeholders, `@GraphComputerOnly`,",
        "`@TinkerServiceRegistry` (TinkerGraph's own `call()` services), `@AllowNullPropertyValues` (the",
        "store never stores null), subgraph results, and the two Gryo (`.kryo`) reads (file not shipped).",
        "Timings depend on the machine's load.",
        "",
        measured_on(),
        "",
        "Command:",
        "",
        "```",
        command,
        "```",
        "",
    ]
    for title, tally in sections:
        out.append(f"## {title}")
        out.append("")
        for group in ("core", "tagged"):
            rows = tally.rows(group)
            if not rows:
                continue
            out.append(f"| {group} folder | pass | fail | skip | pass % |")
            out.append("|---|---:|---:|---:|---:|")
            for folder, p, f, s in rows:
                out.append(f"| {folder} | {p} | {f} | {s} | {_pct(p, f, s)} |")
            p, f, s = (tally.total(group, k) for k in ("pass", "fail", "skip"))
            out.append(f"| **total** | **{p}** | **{f}** | **{s}** | **{_pct(p, f, s)}** |")
            out.append("")
    return "\n".join(out)
