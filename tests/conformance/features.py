"""Reads TinkerPop's Gherkin feature files into :class:`Scenario` records.

Parsing uses the official Cucumber parser (``gherkin-official``); this module only turns its
AST into the few phrases the Gremlin suite uses (see ``../shared/tinkerpop/README.md``).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from pathlib import Path

from gherkin.parser import Parser
from gherkin.token_scanner import TokenScanner

from tests.conftest import TINKERPOP

FEATURES = TINKERPOP / "features"
DATA = TINKERPOP / "data"

CAPABILITY_TAGS = frozenset(
    {
        "@GraphComputerOnly",
        "@MultiProperties",
        "@MetaProperties",
        "@UserSuppliedVertexIds",
        "@UserSuppliedEdgeIds",
        "@UserSuppliedVertexPropertyIds",
        "@AllowNullPropertyValues",
        "@DisallowNullPropertyValues",
        "@AllowListPropertyValues",
        "@AllowMapPropertyValues",
        "@AllowSetPropertyValues",
        "@AllowUUIDPropertyValues",
        "@AllowDateTimePropertyValues",
        "@InsertionOrderingRequired",
        "@TinkerServiceRegistry",
        "@GremlinGroovyNotSupported",
    }
)
"""Tags that make a scenario depend on a provider capability (README "Capability tags"). A scenario
with none of them (``@StepClassSemantics`` is not one) and not a placeholder is in the core set."""


@dataclasses.dataclass
class Assertion:
    """One ``Then``/``And`` check: ``kind`` is ``unordered``, ``ordered``, ``of``, ``empty``,
    ``count``, ``error``, ``tree``, ``subgraph`` or ``graph_count``."""

    kind: str
    rows: list[str] = dataclasses.field(default_factory=list)
    """Table cells (header row dropped) or, for ``tree``, the doc string lines."""
    count: int = 0
    traversal: str = ""
    """``graph_count``: the traversal whose count() is checked."""
    message_match: str = ""
    """``error``: ``containing`` / ``starting`` / ``ending`` / empty for any error."""
    message: str = ""
    header: str = ""


@dataclasses.dataclass
class Scenario:
    feature: str
    """Path relative to the features folder, e.g. ``map/Vertex.feature``."""
    name: str
    line: int
    tags: frozenset[str]
    graph: str = ""
    placeholder: bool = False
    initializer: str = ""
    parameters: dict[str, str] = dataclasses.field(default_factory=dict)
    side_effects: dict[str, str] = dataclasses.field(default_factory=dict)
    traversal: str = ""
    iterate: str = "list"
    """``list`` (When iterated to list) or ``next`` (When iterated next)."""
    assertions: list[Assertion] = dataclasses.field(default_factory=list)

    @property
    def folder(self) -> str:
        return self.feature.split("/", 1)[0]

    @property
    def id(self) -> str:
        """A stable identifier: ``feature::scenario name``."""
        return f"{self.feature}::{self.name}"

    @property
    def capability_tags(self) -> frozenset[str]:
        return self.tags & CAPABILITY_TAGS

    @property
    def is_core(self) -> bool:
        return not self.placeholder and not self.capability_tags

    @property
    def mutates(self) -> bool:
        """True when the scenario may change its graph (only the empty graph may be changed)."""
        return self.graph == "empty"

    def gremlin_strings(self) -> list[str]:
        out = [s for s in (self.initializer, self.traversal) if s]
        out.extend(a.traversal for a in self.assertions if a.kind == "graph_count")
        return out


_PARAM = re.compile(r'^using the parameter (\w+) defined as "(.*)"$')
_SIDE_EFFECT = re.compile(r'^using the side effect (\w+) defined as "(.*)"$')
_GRAPH = re.compile(r"^the (\w+) graph$")
_COUNT = re.compile(r"^the result should have a count of (\d+)$")
_GRAPH_COUNT = re.compile(r'^the graph should return (\d+) for count of "(.*)"$')
_ERROR = re.compile(r'^the traversal will raise an error(?: with message (\w+) text of "(.*)")?$')


def _unescape(text: str) -> str:
    return text.replace('\\"', '"')


def _read_feature(path: Path) -> list[Scenario]:
    doc = Parser().parse(TokenScanner(path.read_text(encoding="utf-8")))
    feature = doc["feature"]
    rel = path.relative_to(FEATURES).as_posix()
    feature_tags = {t["name"] for t in feature.get("tags", [])}
    scenarios = []
    for child in feature["children"]:
        sc = child.get("scenario")
        if sc is None:
            continue
        tags = frozenset(feature_tags | {t["name"] for t in sc.get("tags", [])})
        scenario = Scenario(feature=rel, name=sc["name"], line=sc["location"]["line"], tags=tags)
        for step in sc["steps"]:
            _apply_step(scenario, step)
        scenarios.append(scenario)
    return scenarios


def _apply_step(sc: Scenario, step: dict) -> None:
    text = step["text"].strip()
    doc = step.get("docString", {}).get("content", "")
    rows = [[c["value"].strip() for c in r["cells"]] for r in step.get("dataTable", {}).get("rows", [])]
    if text == "an unsupported test" or text.startswith("nothing should happen because"):
        sc.placeholder = True
    elif m := _GRAPH.match(text):
        sc.graph = m.group(1)
    elif text == "the graph initializer of":
        sc.initializer = doc
    elif m := _PARAM.match(text):
        sc.parameters[m.group(1)] = _unescape(m.group(2))
    elif m := _SIDE_EFFECT.match(text):
        sc.side_effects[m.group(1)] = _unescape(m.group(2))
    elif text == "the traversal of":
        sc.traversal = doc
    elif text == "iterated to list":
        sc.iterate = "list"
    elif text == "iterated next":
        sc.iterate = "next"
    elif text in (
        "the result should be unordered",
        "the result should be ordered",
        "the result should be of",
    ):
        sc.assertions.append(Assertion(text.rsplit(" ", 1)[1], [r[0] for r in rows[1:]]))
    elif text == "the result should be empty":
        sc.assertions.append(Assertion("empty"))
    elif m := _COUNT.match(text):
        sc.assertions.append(Assertion("count", count=int(m.group(1))))
    elif m := _GRAPH_COUNT.match(text):
        sc.assertions.append(Assertion("graph_count", count=int(m.group(1)), traversal=_unescape(m.group(2))))
    elif m := _ERROR.match(text):
        sc.assertions.append(Assertion("error", message_match=m.group(1) or "", message=m.group(2) or ""))
    elif text == "the result should be a tree with a structure of":
        sc.assertions.append(Assertion("tree", rows=doc.splitlines()))
    elif text == "the result should be a subgraph with the following":
        header = rows[0][0] if rows else ""
        sc.assertions.append(Assertion("subgraph", [r[0] for r in rows[1:]], header=header))
    else:
        raise ValueError(f"{sc.feature}:{step['location']['line']}: unknown step phrase {text!r}")


@functools.cache
def load_scenarios(root: Path = FEATURES) -> tuple[Scenario, ...]:
    """All scenarios of the suite, in file and line order (cached: the files do not change)."""
    out: list[Scenario] = []
    for path in sorted(root.rglob("*.feature")):
        out.extend(_read_feature(path))
    return tuple(out)
