"""gremlin-lang parser: the suite's corpus, the bytecode it builds, and its errors."""

from __future__ import annotations

import datetime
import decimal
import math
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from server.gremlin.errors import GremlinSyntaxError, LambdaNotSupported
from server.gremlin.ir import Bytecode, CardinalityValue, Instruction, P, Strategy, StrategyClass, TextP
from server.gremlin.language import parse
from server.structure import BigInt, Cardinality, Column, Direction, Float32, Int8, Int16, Int64, Merge, Order
from server.structure.tokens import GType, Operator, Pick, Pop, Scope, T, WithOptions
from tests.conformance.features import load_scenarios


class _AnyBinding(Mapping[str, Any]):
    """Binds every name to a marker, so that the corpus parses without the suite's parameters."""

    def __getitem__(self, key: str) -> Any:
        return ("param", key)

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def steps(code: Bytecode) -> list[Instruction]:
    return code.steps


def test_every_gremlin_string_of_the_suite_parses() -> None:
    strings = [s for sc in load_scenarios() for s in sc.gremlin_strings()]
    assert len(strings) == 2758
    failures = []
    for text in strings:
        try:
            code = parse(text, _AnyBinding())
        except Exception as exc:  # noqa: BLE001 - collect them all for one readable failure
            failures.append(f"{text!r}: {exc}")
            continue
        assert code.steps or code.source, text
    assert not failures, "\n".join(failures[:20])


def test_source_and_steps() -> None:
    code = parse('g.withSack(1.0d, Operator.sum).V().has("name", "marko").outE("knows").inV()')
    assert code.source == [Instruction("withSack", (1.0, Operator.sum))]
    assert code.steps == [
        Instruction("V"),
        Instruction("has", ("name", "marko")),
        Instruction("outE", ("knows",)),
        Instruction("inV"),
    ]


def test_g_with_becomes_one_options_strategy_and_step_with_stays_a_step() -> None:
    code = parse('g.with("a", 1).with("b").V().valueMap().with(WithOptions.tokens)')
    assert code.source == [Instruction("withStrategies", (Strategy("OptionsStrategy", {"a": 1, "b": True}),))]
    assert code.steps[-1] == Instruction("with", (WithOptions.tokens,))


def test_anonymous_traversals_with_and_without_prefix() -> None:
    bare = parse('g.V().where(out("knows").has("age", gt(30))).local(__.in().count())')
    child = bare.steps[1].args[0]
    assert isinstance(child, Bytecode) and child.is_anonymous
    assert child.steps == [Instruction("out", ("knows",)), Instruction("has", ("age", P("gt", (30,))))]
    assert bare.steps[2].args[0].steps == [Instruction("in"), Instruction("count")]
    assert parse("__.out().count()").steps == [Instruction("out"), Instruction("count")]


def test_predicates() -> None:
    code = parse(
        'g.V().has("a", P.within("x", "y")).has("b", within(["x"])).has("c", P.between(1, 5).and(P.neq(3)))'
        '.has("d", TextP.startingWith("m")).is(not(eq(1))).where(not(has("x"))).has("e", P.typeOf(GType.INT))'
    )
    args = [s.args[-1] for s in code.steps[1:]]
    assert args[0] == P("within", ("x", "y"))
    assert args[1] == P("within", ("x",))
    assert args[2] == P("and", (P("between", (1, 5)), P("neq", (3,))))
    assert args[3] == TextP("startingWith", ("m",))
    assert args[4] == P("not", (P("eq", (1,)),))
    assert args[5] == Bytecode(steps=[Instruction("not", (Bytecode(steps=[Instruction("has", ("x",))]),))])
    assert args[6] == P("typeOf", (GType.INT,))


def test_tokens_with_and_without_class_prefix() -> None:
    code = parse(
        "g.V().order().by(T.label, Order.desc).by(desc).select(first, 'a').select(Pop.all, 'b')"
        ".sample(Scope.local, 1).sum(local).unfold().select(Column.values).select(keys)"
        ".property(Cardinality.list, 'a', 1).property(set, 'b', 2).to(Direction.from).option(Pick.none, out())"
    )
    found = [a for s in code.steps for a in s.args if not isinstance(a, (str, int, Bytecode))]
    assert found == [
        T.label,
        Order.desc,
        Order.desc,
        Pop.first,
        Pop.all_,
        Scope.local,
        Scope.local,
        Column.values,
        Column.keys,
        Cardinality.list_,
        Cardinality.set_,
        Direction.OUT,
        Pick.none,
    ]


@pytest.mark.parametrize(
    ("literal", "expected", "kind"),
    [
        ("1", 1, int),
        ("1i", 1, int),
        ("1b", 1, Int8),
        ("-128b", -128, Int8),
        ("1s", 1, Int16),
        ("1L", 1, Int64),
        ("1l", 1, Int64),
        ("2147483648", 2147483648, Int64),
        ("10000000000000000000000", 10**22, BigInt),
        ("1n", 1, BigInt),
        ("1.5", 1.5, float),
        (".5", 0.5, float),
        ("1d", 1.0, float),
        ("-1.7976931348623157E+308d", -1.7976931348623157e308, float),
        ("1.5f", 1.5, Float32),
        ("1m", decimal.Decimal(1), decimal.Decimal),
        ("1.10m", decimal.Decimal("1.10"), decimal.Decimal),
        ("0x1F", 31, int),
        ("010", 8, int),
    ],
)
def test_numeric_literals_keep_their_type(literal: str, expected: Any, kind: type) -> None:
    (value,) = parse(f"g.inject({literal})").steps[0].args
    assert value == expected
    assert type(value) is kind


def test_special_numbers_and_scalars() -> None:
    args = (
        parse('g.inject(NaN, Infinity, -Infinity, +Infinity, null, true, false, "a\\u00A9\\n", \'b"\')')
        .steps[0]
        .args
    )
    assert math.isnan(args[0])
    assert args[1:4] == (math.inf, -math.inf, math.inf)
    assert args[4:] == (None, True, False, "a\u00a9\n", 'b"')


def test_collections_dates_and_uuids() -> None:
    (lst, st, mp, empty_map, empty_list, empty_set, dt, uid) = (
        parse(
            'g.inject([1, "a", [2]], {1, 2}, [name: "x", (T.id): 1L, T.label: "p", "k": [a: 1], 3: "n", (OUT): Merge.outV],'
            ' [:], [], {}, datetime("2023-08-08T00:00:00Z"), UUID("f47af10b-58cc-4372-a567-0f02b2f3d479"))'
        )
        .steps[0]
        .args
    )
    assert lst == [1, "a", [2]]
    assert st == {1, 2}
    assert mp == {"name": "x", T.id: Int64(1), T.label: "p", "k": {"a": 1}, 3: "n", Direction.OUT: Merge.outV}
    assert (empty_map, empty_list, empty_set) == ({}, [], set())
    assert dt == datetime.datetime(2023, 8, 8, tzinfo=datetime.UTC)
    assert uid == uuid.UUID("f47af10b-58cc-4372-a567-0f02b2f3d479")


def test_cardinality_values_in_maps() -> None:
    (mp,) = parse('g.V().property([name: Cardinality.set("bar"), age: single(43)])').steps[1].args
    assert mp == {
        "name": CardinalityValue(Cardinality.set_, "bar"),
        "age": CardinalityValue(Cardinality.single, 43),
    }


def test_strategies() -> None:
    code = parse(
        'g.withStrategies(new SubgraphStrategy(vertices: __.has("name", "a"), checkAdjacentVertices: false),'
        " ReadOnlyStrategy, SeedStrategy(seed: 99)).withoutStrategies(CountStrategy).V()"
    )
    subgraph, read_only, seed = code.source[0].args
    assert subgraph.name == "SubgraphStrategy"
    assert subgraph.config == {
        "vertices": Bytecode(steps=[Instruction("has", ("name", "a"))]),
        "checkAdjacentVertices": False,
    }
    assert (read_only.name, read_only.config) == ("ReadOnlyStrategy", {})
    assert seed.config == {"seed": 99}
    assert code.source[1] == Instruction("withoutStrategies", (StrategyClass("CountStrategy"),))


def test_parameters_come_from_bindings() -> None:
    code = parse("g.V(vid1).has('age', P.within(xx1)).limit(n)", {"vid1": 1, "xx1": [29, 30], "n": Int64(2)})
    assert code.steps == [
        Instruction("V", (1,)),
        Instruction("has", ("age", P("within", (29, 30)))),
        Instruction("limit", (Int64(2),)),
    ]


def test_terminal_and_transaction_methods() -> None:
    assert parse("g.V().iterate()").steps[-1] == Instruction("discard")
    assert parse("g.tx().commit()").source == [Instruction("tx", ("commit",))]


def test_multiline_script() -> None:
    code = parse('g.V().\n  has("name", "marko").\n    out()')
    assert [s.name for s in code.steps] == ["V", "has", "out"]


@pytest.mark.parametrize(
    ("script", "line", "column", "expected"),
    [
        ('g.V().has("name" "marko")', 1, 18, "expected ',' or ')'"),
        ("g.V().out(", 1, 11, "expected a value"),
        ('g.V().\n  has("name", "marko")\n  .out(]', 3, 8, "expected a value"),
        ("g.V().out", 1, 10, "expected '(' after step out"),
        ("h.V()", 1, 1, "expected 'g'"),
        ('g.V().has("name)', 1, 11, "unterminated string"),
        ("g.V(unknownVar)", 1, 5, "undefined variable 'unknownVar'"),
        ("g.inject(128b)", 1, 10, "out of range for Byte"),
        ("g.V().order().by(Order.sideways)", 1, 24, "not a Order"),
        ("g", 1, 2, "expected '.' after g"),
        ("g.V()) ", 1, 6, "expected '.' followed by a step"),
    ],
)
def test_syntax_errors_name_line_column_and_expectation(
    script: str, line: int, column: int, expected: str
) -> None:
    with pytest.raises(GremlinSyntaxError) as info:
        parse(script)
    assert (info.value.line, info.value.column) == (line, column), str(info.value)
    assert expected in str(info.value)
    assert f"line {line}, column {column}" in str(info.value)


@pytest.mark.parametrize(
    "script",
    [
        "g.V().filter{it.get().value('age') > 30}",
        "g.V().map({ x -> x.get() })",
        "g.V().filter(Lambda.groovy('it.get()'))",
        "g.V().map(x -> x)",
    ],
)
def test_lambdas_are_rejected_clearly(script: str) -> None:
    with pytest.raises(LambdaNotSupported, match="Lambdas and Groovy closures are not supported"):
        parse(script)
