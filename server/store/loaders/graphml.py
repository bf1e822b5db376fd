"""GraphML (as TinkerPop's GraphMLWriter writes it): ``<key>`` declarations with ``attr.type``,
``<node id>`` and ``<edge id source target>`` with ``<data key>`` children; the vertex and edge
labels are the ``labelV`` / ``labelE`` data keys (``label`` also accepted).

Read with SAX so that huge files stream and every error names its line and column. Ids are
strings (GraphML has no typed ids).
"""

from __future__ import annotations

import xml.sax
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from xml.sax.handler import ContentHandler

from server.store.loaders.records import EdgeRecord, FileError, LoadIssue, PropRecord, VertexRecord
from server.structure.values import Float32, Int64


def _bool(text: str) -> bool:
    low = text.strip().lower()
    if low not in ("true", "false"):
        raise ValueError("expected true or false")
    return low == "true"


TYPES: dict[str, Callable[[str], Any]] = {
    "string": str,
    "int": int,
    "long": Int64,
    "float": lambda t: Float32(float(t)),
    "double": float,
    "boolean": _bool,
}
VERTEX_LABEL_KEYS = ("labelV", "label")
EDGE_LABEL_KEYS = ("labelE", "label")


class _Handler(ContentHandler):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.keys: dict[str, tuple[str, Callable[[str], Any], str]] = {}  # id -> (name, convert, type)
        self.out: list[VertexRecord | EdgeRecord | LoadIssue] = []
        self.current: dict[str, Any] | None = None
        self.data_key: str | None = None
        self.text: list[str] = []
        self.locator: Any = None

    def setDocumentLocator(self, locator: Any) -> None:  # noqa: N802 - SAX API
        self.locator = locator

    def _where(self) -> tuple[int, int]:
        return self.locator.getLineNumber(), self.locator.getColumnNumber() + 1

    def _issue(self, message: str) -> LoadIssue:
        line, col = self._where()
        return LoadIssue("parse", self.name, line, col, message)

    def startElement(self, tag: str, attrs: Any) -> None:  # noqa: N802 - SAX API
        line, _ = self._where()
        if tag == "key":
            kind = attrs.get("attr.type", "string")
            if kind not in TYPES:
                raise FileError(
                    self._issue(f"unknown attr.type {kind!r} (expected one of {', '.join(TYPES)})")
                )
            self.keys[attrs["id"]] = (attrs.get("attr.name", attrs["id"]), TYPES[kind], kind)
        elif tag == "node":
            self.current = {"kind": "node", "id": attrs.get("id"), "data": [], "line": line, "bad": None}
            if self.current["id"] is None:
                self.current["bad"] = self._issue("<node> without an id")
        elif tag == "edge":
            self.current = {
                "kind": "edge",
                "id": attrs.get("id"),
                "source": attrs.get("source"),
                "target": attrs.get("target"),
                "data": [],
                "line": line,
                "bad": None,
            }
            if self.current["source"] is None or self.current["target"] is None:
                self.current["bad"] = self._issue("<edge> needs source and target")
        elif tag == "data" and self.current is not None:
            self.data_key = attrs.get("key")
            self.text = []

    def characters(self, content: str) -> None:
        if self.data_key is not None:
            self.text.append(content)

    def endElement(self, tag: str) -> None:  # noqa: N802 - SAX API
        cur = self.current
        if tag == "data" and cur is not None and self.data_key is not None:
            key, text = self.data_key, "".join(self.text)
            self.data_key = None
            if cur["bad"] is not None:
                return
            if key not in self.keys:
                cur["bad"] = self._issue(f"<data key={key!r}> has no <key> declaration")
                return
            prop, convert, kind = self.keys[key]
            try:
                cur["data"].append((prop, convert(text)))
            except ValueError as exc:
                cur["bad"] = self._issue(f"cannot parse {text!r} as {kind} for {prop!r} ({exc})")
        elif tag in ("node", "edge") and cur is not None:
            self.current = None
            if cur["bad"] is not None:
                self.out.append(cur["bad"])
                return
            label_keys = VERTEX_LABEL_KEYS if tag == "node" else EDGE_LABEL_KEYS
            label = next((v for k, v in cur["data"] if k in label_keys), None)
            data = [(k, v) for k, v in cur["data"] if k not in label_keys]
            if tag == "node":
                props = [PropRecord(k, v) for k, v in data]
                self.out.append(VertexRecord(cur["id"], label or "vertex", props, self.name, cur["line"]))
            else:
                self.out.append(
                    EdgeRecord(
                        cur["id"], label or "edge", cur["source"], cur["target"], data, self.name, cur["line"]
                    )
                )


def parse(path: Path) -> Iterator[VertexRecord | EdgeRecord | LoadIssue]:
    """Vertex and edge records in document order; a LoadIssue per bad element.

    Raises:
        FileError: the XML itself is malformed, or a key declares an unknown type.
    """
    handler = _Handler(str(path))
    parser = xml.sax.make_parser()
    parser.setFeature(xml.sax.handler.feature_external_ges, False)
    parser.setContentHandler(handler)
    handler.locator = parser  # ExpatParser is its own Locator (feed() never hands one over)
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                parser.feed(chunk)
                yield from handler.out
                handler.out.clear()
            parser.close()
    except xml.sax.SAXParseException as exc:
        issue = LoadIssue(
            "parse",
            str(path),
            exc.getLineNumber(),
            exc.getColumnNumber() + 1,
            f"malformed XML: {exc.getMessage()}",
        )
        raise FileError(issue) from None
    yield from handler.out
