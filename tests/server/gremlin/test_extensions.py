"""The extension API with a toy extension: a custom batched step, and a strategy that rewrites
steps carrying a ``with()`` option using a source-level OptionsStrategy option."""

from __future__ import annotations

from typing import Any

import pytest

from server.gremlin.engine import CompiledTraversal, GremlinEngine
from server.gremlin.errors import GremlinArgumentError
from server.gremlin.extensions import EngineExtension, replace_steps
from server.gremlin.language import parse
from server.gremlin.runtime import Context, Step, Trav
from server.store.memory import MemoryStore
from server.structure import Vertex
from tests.server.gremlin.test_engine import modern


class ScoreStep(Step):
    """Maps each vertex to ``factor * id``; records the size of every batch it was given."""

    name = "score"

    def __init__(self, factor: int, batches: list[int]) -> None:
        super().__init__()
        self.factor = factor
        self.batches = batches

    def process(self, batch: list[Trav], ctx: Context) -> list[Trav]:
        self.batches.append(len(batch))
        return [t.split(self.factor * t.value.id, ctx) for t in batch if isinstance(t.value, Vertex)]


class ToyExtension(EngineExtension):
    name = "toy"
    strategy_names = frozenset({"ToyStrategy"})

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.seen_options: list[dict[str, Any]] = []

    def steps(self):  # type: ignore[no-untyped-def]
        def build(compiler: Any, args: tuple) -> Step:
            if len(args) != 1 or not isinstance(args[0], int):
                raise GremlinArgumentError("score() takes one integer factor")
            return ScoreStep(args[0], self.batches)

        return {"score": build}

    def strategies(self):  # type: ignore[no-untyped-def]
        def rewrite(compiled: CompiledTraversal) -> None:
            factor = int(compiled.source_options.get("toy#factor", 1))

            def marked(s: Step) -> bool:
                if "toy#score" in s.with_options:
                    self.seen_options.append(dict(s.with_options))
                    return True
                return False

            replace_steps(compiled, marked, lambda s: ScoreStep(factor, self.batches))

        return [rewrite]


@pytest.fixture
def store() -> MemoryStore:
    s = MemoryStore()
    modern(s)
    return s


def _run(engine: GremlinEngine, store: MemoryStore, text: str) -> list:
    with store.connect() as conn:
        return [t.value for t in engine.execute(parse(text), conn) for _ in range(t.bulk)]


def test_custom_step_is_batched(store: MemoryStore) -> None:
    ext = ToyExtension()
    engine = GremlinEngine(store, extensions=[ext])
    assert sorted(_run(engine, store, "g.V().hasLabel('person').score(10)")) == [10, 20, 40, 60]
    assert ext.batches == [4]  # one call for the whole batch
    with pytest.raises(GremlinArgumentError):
        _run(engine, store, "g.V().score('x')")


def test_custom_step_in_a_reducing_child_is_batched(store: MemoryStore) -> None:
    """A by() child that ends in a barrier (fold, sum) still calls the step once for all the
    parent traversers, and each parent gets its own reduction: the same rows as one at a time."""
    ext = ToyExtension()
    engine = GremlinEngine(store, extensions=[ext])
    project = ".project('id','s','n').by(id()).by(score(10).fold()).by(out().score(1).sum())"
    rows = _run(engine, store, "g.V().hasLabel('person')" + project)
    assert ext.batches == [4, 6]  # each child step called once: 4 people, then their 6 out-neighbours
    one_at_a_time = [_run(engine, store, f"g.V({row['id']})" + project)[0] for row in rows]
    assert rows == one_at_a_time
    assert [len(row["s"]) for row in rows] == [1, 1, 1, 1]


def test_strategy_sees_with_and_source_options(store: MemoryStore) -> None:
    ext = ToyExtension()
    engine = GremlinEngine(store, extensions=[ext])
    text = 'g.with("toy#factor", 3).V(1).out("knows").identity().with("toy#score", true)'
    assert sorted(_run(engine, store, text)) == [6, 12]
    assert ext.seen_options == [{"toy#score": True}]


def test_without_the_extension_the_step_is_unknown(store: MemoryStore) -> None:
    from server.gremlin.errors import UnknownStepError

    with pytest.raises(UnknownStepError):
        _run(GremlinEngine(store), store, "g.V().score(2)")
