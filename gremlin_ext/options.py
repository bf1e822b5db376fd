"""Source-level Neptune ML options: ``g.with_("Neptune#ml.endpoint", ...)`` and friends.

gremlinpython sends every ``g.with_(k, v)`` as one ``OptionsStrategy`` inside ``withStrategies``;
script text (``g.with("k", v)``) reaches the IR the same way. :func:`read_source_options` collects
the ``Neptune#ml.*`` keys of every OptionsStrategy of a traversal and validates them.
"""

from __future__ import annotations

import dataclasses
import decimal
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

from gremlin_ext.errors import InvalidParameterException
from server.gremlin.ir import Binding, Bytecode, Strategy

PREFIX = "Neptune#ml."
ENDPOINT = PREFIX + "endpoint"
IAM_ROLE_ARN = PREFIX + "iamRoleArn"
LIMIT = PREFIX + "limit"
THRESHOLD = PREFIX + "threshold"
DISABLE_METADATA_CACHE = PREFIX + "disableInductiveInferenceMetadataCache"
SOURCE_KEYS = (ENDPOINT, IAM_ROLE_ARN, LIMIT, THRESHOLD, DISABLE_METADATA_CACHE)
STEP_OPTION_KEYS = (ENDPOINT, LIMIT, THRESHOLD)
"""Beyond Neptune: these may also go on an ML step (``.with_("Neptune#ml.endpoint", "other")``), so
that one query can ask several models, each step its own endpoint, limit and threshold."""

MAX_LIMIT = 100


@dataclasses.dataclass(frozen=True)
class MLOptions:
    """The Neptune ML options of one traversal."""

    endpoint: str | None = None
    """Endpoint id, model-training job id, or an ``http(s)://`` URL of a ``seer endpoint``."""
    iam_role_arn: str | None = None
    """Accepted for compatibility with Neptune clients; Seer does not use it."""
    limit: int = 1
    """Results per entity for classification and link prediction (Neptune: default 1, max 100)."""
    threshold: float | None = None
    """Drop classification / link results whose score is below it."""
    disable_metadata_cache: bool = False
    """Reload the model's inductive metadata instead of using the cached copy."""

    @property
    def any_set(self) -> bool:
        return self != MLOptions()


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Binding) else value


def parse_options(config: Mapping[str, Any]) -> MLOptions:
    """Validate the ``Neptune#ml.*`` entries of one option map (other keys are not ours)."""
    return MLOptions(**option_fields(config))


def option_fields(config: Mapping[str, Any]) -> dict[str, Any]:
    """The :class:`MLOptions` fields that ``config`` sets, validated."""
    values = {k: _plain(v) for k, v in config.items() if isinstance(k, str) and k.startswith(PREFIX)}
    unknown = sorted(set(values) - set(SOURCE_KEYS))
    if unknown:
        raise InvalidParameterException(
            f"unknown traversal-source option {unknown[0]!r}; g.with() takes {', '.join(SOURCE_KEYS)} "
            '(step predicates such as Neptune#ml.prediction go on the step: .with("Neptune#ml.prediction"))'
        )
    fields: dict[str, Any] = {}
    if ENDPOINT in values:
        endpoint = values[ENDPOINT]
        if not isinstance(endpoint, str) or not endpoint.strip():
            raise InvalidParameterException(f"{ENDPOINT} must be a non-empty string, got {endpoint!r}")
        fields["endpoint"] = endpoint.strip()
    if IAM_ROLE_ARN in values:
        arn = values[IAM_ROLE_ARN]
        if not isinstance(arn, str) or not arn.startswith("arn:"):
            raise InvalidParameterException(f"{IAM_ROLE_ARN} must be an ARN string (arn:...), got {arn!r}")
        fields["iam_role_arn"] = arn
    if LIMIT in values:
        limit = values[LIMIT]
        if isinstance(limit, bool) or not isinstance(limit, numbers.Integral):
            raise InvalidParameterException(f"{LIMIT} must be an integer, got {limit!r}")
        if not 1 <= int(limit) <= MAX_LIMIT:
            raise InvalidParameterException(f"{LIMIT} must be between 1 and {MAX_LIMIT}, got {int(limit)}")
        fields["limit"] = int(limit)
    if THRESHOLD in values:
        threshold = values[THRESHOLD]
        if isinstance(threshold, bool) or not isinstance(threshold, (numbers.Real, decimal.Decimal)):
            raise InvalidParameterException(f"{THRESHOLD} must be a number such as 0.5D, got {threshold!r}")
        fields["threshold"] = float(threshold)
    if DISABLE_METADATA_CACHE in values:
        flag = values[DISABLE_METADATA_CACHE]
        if not isinstance(flag, bool):
            raise InvalidParameterException(f"{DISABLE_METADATA_CACHE} takes true or false, got {flag!r}")
        fields["disable_metadata_cache"] = flag
    return fields


def step_options(source: MLOptions, overrides: tuple[tuple[str, Any], ...]) -> MLOptions:
    """The options one ML step runs with: the source's, overridden by the step's own."""
    return dataclasses.replace(source, **option_fields(dict(overrides))) if overrides else source


def option_strategies(bytecode: Bytecode) -> Iterable[Strategy]:
    """The OptionsStrategy instances of a traversal's source, in order."""
    for instruction in bytecode.source:
        if instruction.name != "withStrategies":
            continue
        for arg in instruction.args:
            if isinstance(arg, Strategy) and arg.name in (
                "OptionsStrategy",
                "org.apache.tinkerpop.gremlin.process.traversal.strategy.decoration.OptionsStrategy",
            ):
                yield arg


def read_source_options(bytecode: Bytecode) -> MLOptions:
    """Merge (later wins) and validate the Neptune ML options of ``bytecode``'s source."""
    merged: dict[str, Any] = {}
    for strategy in option_strategies(bytecode):
        merged.update(strategy.config)
    return parse_options(merged)
