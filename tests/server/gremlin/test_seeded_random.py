"""coin() and sample() under SeedStrategy draw from java.util.Random, as on Gremlin Server; and
their drawing rules (bulk, weights, local picks) hold without a seed too."""

from __future__ import annotations

from collections import Counter

import pytest

from server.gremlin.errors import GremlinArgumentError, GremlinTypeError
from server.gremlin.javarandom import JavaRandom
from server.store.memory import MemoryStore
from tests.server.gremlin.test_engine import modern, run

SEEDED = "g.withStrategies(new SeedStrategy(seed: 999999))"


@pytest.fixture
def store() -> MemoryStore:
    s = MemoryStore()
    modern(s)
    return s


def test_java_random_gives_javas_sequence():
    # what `new java.util.Random(seed).nextDouble()` / `.nextInt(bound)` return
    assert JavaRandom(42).random() == 0.7275636800328681
    assert JavaRandom(0).random() == 0.730967787376657
    r = JavaRandom(42)
    assert [r.randrange(10) for _ in range(10)] == [0, 3, 8, 4, 0, 5, 5, 8, 9, 3]
    powers = JavaRandom(7)
    assert all(0 <= powers.randrange(16) < 16 for _ in range(1000))  # the power-of-two branch
    with pytest.raises(ValueError):
        JavaRandom(1).randrange(0)


def test_seeded_coin_keeps_what_gremlin_server_keeps(store):
    # TinkerPop's expected result for this seed (filter/Coin.feature)
    got = run(store, f'{SEEDED}.V().order().by("name").coin(0.5).values("name")')
    assert got == ["josh"]
    # each coin() step has its own generator seeded alike: a second step draws the same stream
    two = run(store, f'{SEEDED}.V().order().by("name").coin(0.5).coin(0.5).values("name")')
    assert two == ["josh"]


def test_seeded_runs_repeat_and_unseeded_runs_vary(store):
    text = 'V().both().both().coin(0.5).values("name")'
    seeded = [run(store, f"{SEEDED}.{text}") for _ in range(3)]
    assert seeded[0] == seeded[1] == seeded[2]
    unseeded = {tuple(sorted(run(store, f"g.{text}"))) for _ in range(20)}
    assert len(unseeded) > 1


def test_coin_draws_per_unit_of_bulk_and_rounds_big_bulks(store):
    # 300 bulked copies of one traverser: round(p * bulk) of them survive, without draws
    assert run(
        store,
        "g.withBulk(true).inject(1).repeat(union(identity(), identity())).times(8).barrier().coin(0.25).count()",
    ) == [64]
    assert run(store, "g.inject(1).coin(1.0)") == [1]
    assert run(store, "g.inject(1).coin(0.0)") == []


def test_seeded_local_sample_picks_what_gremlin_server_picks(store):
    # filter/Sample.feature: the person weights, sorted, sampled locally 5 of 8
    got = run(
        store,
        f'{SEEDED}.V().hasLabel("person").bothE().values("weight").order().fold().sample(Scope.local, 5)',
    )
    assert got == [[0.5, 1.0, 0.4, 0.2, 1.0]]
    # fewer items than asked: the collection as it is, in its order
    assert run(store, f"{SEEDED}.inject([3, 1, 2]).sample(Scope.local, 5)") == [[3, 1, 2]]


def test_global_sample_takes_n_distinct_units_weighted(store):
    draws = Counter()
    for _ in range(300):
        got = run(store, 'g.V().hasLabel("person").sample(1).by("age").values("name")')
        assert len(got) == 1
        draws[got[0]] += 1
    assert set(draws) <= {"marko", "vadas", "josh", "peter"} and len(draws) == 4
    # without a weight every unit is equally likely; with fewer units than asked, all of them
    assert sorted(run(store, 'g.V().hasLabel("software").sample(5).values("name")')) == ["lop", "ripple"]
    assert len(run(store, "g.V().sample(3)")) == 3
    # unproductive weights leave the traverser out (software has no age)
    assert sorted(run(store, 'g.V().sample(10).by("age").values("name")')) == [
        "josh",
        "marko",
        "peter",
        "vadas",
    ]


def test_sample_weights_must_be_numbers_and_the_seed_an_integer(store):
    with pytest.raises(GremlinTypeError, match="not a number"):
        run(store, 'g.V().sample(1).by("name")')
    with pytest.raises(GremlinArgumentError, match="seed"):
        run(store, 'g.withStrategies(new SeedStrategy(seed: "x")).V().coin(0.5)')


def test_seeded_shuffle_repeats_and_unseeded_shuffle_varies(store):
    text = 'V().order().by(Order.shuffle).values("name")'
    seeded = {tuple(run(store, f"{SEEDED}.{text}")) for _ in range(5)}
    assert len(seeded) == 1 and sorted(next(iter(seeded))) == [
        "josh",
        "lop",
        "marko",
        "peter",
        "ripple",
        "vadas",
    ]
    assert len({tuple(run(store, f"g.{text}")) for _ in range(20)}) > 1
