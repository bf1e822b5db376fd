"""Finds the Neptune ML steps of a traversal and checks them against Neptune's rules.

A Neptune ML step is an ordinary step followed by ``with`` modulators naming ``Neptune#ml.*``
predicates (reference: neptune-ml.md §2.1-2.4):

- link prediction: ``out(label)`` / ``in(label)`` ``.with("Neptune#ml.prediction")``, then a
  mandatory ``hasLabel(target)`` that names the vertex type to predict;
- classification / regression: ``properties(key[, "Neptune#ml.score"])``
  ``.with("Neptune#ml.classification" | "Neptune#ml.regression")`` on vertices or edges;
- either may add ``.with("Neptune#ml.inductiveInference")`` and ``.with("Neptune#ml.deterministic")``.

:func:`rewrite` replaces each such group of instructions by one ``neptuneML`` instruction whose only
argument is an :class:`MLStepSpec`, in the traversal and in every child traversal (so ML steps work
inside ``repeat()``, ``union()``, ``by()``..., and a query may hold several: both beyond Neptune).
Misuse raises the exception Neptune raises, with a message saying what is wrong.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from gremlin_ext.errors import (
    InvalidParameterException,
    MissingParameterException,
    UnsupportedOperationException,
)
from gremlin_ext.options import PREFIX, SOURCE_KEYS, STEP_OPTION_KEYS, option_fields
from server.gremlin.ir import Binding, Bytecode, Instruction

ML_STEP = "neptuneML"
"""Name of the instruction :func:`rewrite` puts in place of a Neptune ML step."""

PREDICTION = PREFIX + "prediction"
CLASSIFICATION = PREFIX + "classification"
REGRESSION = PREFIX + "regression"
SCORE = PREFIX + "score"
INDUCTIVE = PREFIX + "inductiveInference"
DETERMINISTIC = PREFIX + "deterministic"
STEP_PREDICATES = (PREDICTION, CLASSIFICATION, REGRESSION, INDUCTIVE, DETERMINISTIC)
TASKS = (PREDICTION, CLASSIFICATION, REGRESSION)

Task = Literal["link_prediction", "classification", "regression"]


@dataclasses.dataclass(frozen=True)
class MLStepSpec:
    """One Neptune ML step, validated."""

    task: Task
    step: Literal["out", "in", "properties"]
    edge_label: str | None = None
    """Link prediction: the edge label whose missing edges are predicted."""
    target_label: str | None = None
    """Link prediction: the vertex label of the predicted ends (the ``hasLabel`` after the step)."""
    key: str | None = None
    """Classification / regression: the property predicted."""
    with_score: bool = False
    """``properties(key, "Neptune#ml.score")``: emit a score property after each class."""
    inductive: bool = False
    deterministic: bool = False
    options: tuple[tuple[str, Any], ...] = ()
    """Step-level ``Neptune#ml.endpoint`` / ``limit`` / ``threshold`` (beyond Neptune), validated."""

    def describe(self) -> str:
        if self.task == "link_prediction":
            return f"{self.step}({self.edge_label!r}).with(prediction).hasLabel({self.target_label!r})"
        return f"properties({self.key!r}).with({self.task})"


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Binding) else value


def _ml_predicate(instruction: Instruction) -> str | None:
    """The ``Neptune#ml.*`` key of a ``with`` modulator, or None for other modulators."""
    if instruction.name != "with" or not instruction.args:
        return None
    return ml_key(_plain(instruction.args[0]))


def ml_key(key: Any) -> str | None:
    """``key`` when it is a Neptune ML step key (predicate or step option), None when it is not
    ours; raises for a ``Neptune#ml.*`` key that has no place on a step."""
    if not isinstance(key, str) or not key.startswith(PREFIX):
        return None
    if key in STEP_OPTION_KEYS:
        return key
    if key in SOURCE_KEYS:
        raise InvalidParameterException(
            f"{key} is a traversal-source option: put it on g.with({key!r}, ...), not on a step"
        )
    if key not in STEP_PREDICATES:
        raise InvalidParameterException(
            f"unknown step predicate {key!r}; steps take {', '.join(STEP_PREDICATES)}"
        )
    return key


def _string_args(step: Instruction) -> list[Any]:
    return [_plain(a) for a in step.args]


def build_spec(step: Instruction, predicates: list[str], following: Instruction | None) -> MLStepSpec:
    """Validate one step and its Neptune ML predicates; ``following`` is the next instruction."""
    tasks = [p for p in predicates if p in TASKS]
    inductive = INDUCTIVE in predicates
    deterministic = DETERMINISTIC in predicates
    if not tasks:
        raise MissingParameterException(
            f"{step.name}() has {', '.join(predicates)} but no task predicate: add "
            f".with({PREDICTION!r}) to out()/in(), or .with({CLASSIFICATION!r}) / "
            f".with({REGRESSION!r}) to properties(key)"
        )
    if len(set(tasks)) > 1:
        raise InvalidParameterException(
            f"one step cannot ask for {' and '.join(sorted(t.removeprefix(PREFIX) for t in set(tasks)))}: "
            "use one task predicate per step"
        )
    task = tasks[0]
    args = _string_args(step)
    if task == PREDICTION:
        if step.name in ("both", "bothE", "bothV"):
            raise UnsupportedOperationException(
                "link prediction needs a direction: use out(label) (predict tails) or in(label) "
                "(predict heads); both() is not supported"
            )
        if step.name not in ("out", "in"):
            raise UnsupportedOperationException(
                f"{PREDICTION} goes on out(label) or in(label), not on {step.name}()"
            )
        if not args:
            raise MissingParameterException(f"link prediction needs an edge label: {step.name}('label')")
        if len(args) > 1:
            raise InvalidParameterException(
                f"link prediction takes exactly one edge label, got {len(args)}: {args!r}"
            )
        if not isinstance(args[0], str):
            raise InvalidParameterException(f"the edge label must be a string, got {args[0]!r}")
        if following is None or following.name != "hasLabel":
            raise UnsupportedOperationException(
                f"link prediction must be followed by hasLabel(target vertex label): "
                f"{step.name}({args[0]!r}).with({PREDICTION!r}).hasLabel('...')"
            )
        labels = _string_args(following)
        if len(labels) != 1 or not isinstance(labels[0], str):
            raise InvalidParameterException(
                f"link prediction takes exactly one target vertex label in hasLabel(), got {labels!r}"
            )
        return MLStepSpec(
            task="link_prediction",
            step=step.name,  # type: ignore[arg-type]
            edge_label=args[0],
            target_label=labels[0],
            inductive=inductive,
            deterministic=deterministic,
        )
    name = "classification" if task == CLASSIFICATION else "regression"
    if step.name != "properties":
        raise UnsupportedOperationException(
            f"{task} goes on properties(key) (vertex or edge properties), not on {step.name}()"
        )
    keys = [a for a in args if a != SCORE]
    with_score = len(keys) < len(args)
    if not keys:
        raise MissingParameterException(
            f"{name} needs a property key: properties('key'{', ' + repr(SCORE) if with_score else ''})"
        )
    if len(keys) > 1:
        raise InvalidParameterException(
            f"{name} predicts one property per step; properties() got {len(keys)} keys {keys!r} "
            f"(only {SCORE!r} may come as a second key)"
        )
    if not isinstance(keys[0], str):
        raise InvalidParameterException(f"the property key must be a string, got {keys[0]!r}")
    if with_score and name == "regression":
        raise InvalidParameterException(f"{SCORE} applies to classification only, not to regression")
    return MLStepSpec(
        task=name,  # type: ignore[arg-type]
        step="properties",
        key=keys[0],
        with_score=with_score,
        inductive=inductive,
        deterministic=deterministic,
    )


def spec_for(
    step_name: str,
    step_args: tuple[Any, ...],
    modulators: list[tuple[Any, Any]],
    following: Instruction | None,
) -> MLStepSpec | None:
    """The Neptune ML step a step plus its ``with`` modulators (``(key, value)`` pairs, value
    ``True`` for a bare key) make, or None when no modulator is a Neptune ML one.

    Used on bytecode (:func:`rewrite`) and on compiled steps (:mod:`gremlin_ext.extension`)."""
    predicates: list[str] = []
    options: dict[str, Any] = {}
    for key, value in modulators:
        predicate = ml_key(key)
        if predicate is None:
            continue
        if predicate in STEP_OPTION_KEYS:
            if value is True:
                raise MissingParameterException(
                    f"{predicate} on a step needs a value: .with({predicate!r}, ...)"
                )
            options[predicate] = value
        else:
            predicates.append(predicate)
    if not predicates and not options:
        return None
    if not predicates:
        raise UnsupportedOperationException(
            f"{', '.join(options)} on {step_name}() needs a Neptune ML task predicate on the same step"
        )
    spec = build_spec(Instruction(step_name, tuple(step_args)), predicates, following)
    if options:
        option_fields(options)  # validate now: a bad value fails before anything runs
        spec = dataclasses.replace(spec, options=tuple(options.items()))
    return spec


def _rewrite_arg(arg: Any, found: list[MLStepSpec]) -> Any:
    if isinstance(arg, Bytecode):
        return Bytecode(list(arg.source), _rewrite_steps(arg.steps, found))
    if isinstance(arg, (list, tuple)):
        return type(arg)(_rewrite_arg(a, found) for a in arg)
    if isinstance(arg, dict):
        return {k: _rewrite_arg(v, found) for k, v in arg.items()}
    return arg


def _rewrite_steps(steps: list[Instruction], found: list[MLStepSpec]) -> list[Instruction]:
    out: list[Instruction] = []
    i = 0
    while i < len(steps):
        step = steps[i]
        if step.name == "with":  # a modulator with no step before it that is ours: keep it
            if _ml_predicate(step) is not None:
                raise UnsupportedOperationException(
                    f"{_plain(step.args[0])} must follow a step: out(label), in(label) or properties(key)"
                )
            out.append(step)
            i += 1
            continue
        j = i + 1
        while j < len(steps) and steps[j].name == "with":
            j += 1
        modulators = [
            (_plain(w.args[0]), _plain(w.args[1]) if len(w.args) > 1 else True)
            for w in steps[i + 1 : j]
            if w.args
        ]
        spec = spec_for(step.name, step.args, modulators, steps[j] if j < len(steps) else None)
        if spec is None:
            out.append(Instruction(step.name, tuple(_rewrite_arg(a, found) for a in step.args)))
            out.extend(steps[i + 1 : j])
            i = j
            continue
        found.append(spec)
        out.append(Instruction(ML_STEP, (spec,)))
        i = j + 1 if spec.task == "link_prediction" else j  # hasLabel(target) is part of the step
    return out


def rewrite(bytecode: Bytecode) -> tuple[Bytecode, list[MLStepSpec]]:
    """Replace every Neptune ML step group (in child traversals too) by one ``neptuneML``
    instruction; returns the new traversal and the specs found, outermost first."""
    found: list[MLStepSpec] = []
    steps = _rewrite_steps(bytecode.steps, found)
    return Bytecode(list(bytecode.source), steps), found
