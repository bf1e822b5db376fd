"""The checked-in list of known failures (``known_failures.txt``), which may only shrink.

One line per failing scenario, per mode and backend: ``<mode> <backend> <feature>::<scenario>``
(``driver sqlite map/Vertex.feature::g_VX1X_out``). ``#`` starts a comment. A scenario that
fails and is not listed is an *unexpected failure*; a listed one that passes is *fixed* and must
be removed from the list (``python -m tests.conformance ... --write-known-failures``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

KNOWN_FAILURES = Path(__file__).with_name("known_failures.txt")

_HEADER = """\
# Known failures of the TinkerPop suite: `<mode> <backend> <feature>::<scenario>`, one per line.
# This list may only shrink. Regenerate the lines of the runs you made with
#   python -m tests.conformance --backend sqlite --backend postgres --write-known-failures
# (lines of other modes/backends are kept). tests/conformance/test_sample.py fails on a failure
# missing here and on a listed scenario that now passes.
"""


def read_known(path: Path = KNOWN_FAILURES) -> set[tuple[str, str, str]]:
    """``{(mode, backend, scenario id)}``."""
    if not path.exists():
        return set()
    out = set()
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        mode, backend, scenario = line.split(" ", 2)
        out.add((mode, backend, scenario))
    return out


def write_known(
    failures: Iterable[tuple[str, str, str]],
    ran: Iterable[tuple[str, str, str]],
    path: Path = KNOWN_FAILURES,
) -> None:
    """Rewrite the list: entries for the (mode, backend, scenario) triples in ``ran`` become
    ``failures``; entries of scenarios not run are kept."""
    ran = set(ran)
    kept = {entry for entry in read_known(path) if entry not in ran}
    lines = sorted(kept | set(failures), key=lambda e: (e[0], e[1], e[2]))
    path.write_text(_HEADER + "".join(f"{m} {b} {s}\n" for m, b, s in lines), encoding="utf-8")
