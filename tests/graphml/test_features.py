"""Each feature encoder on hand-made columns."""

from __future__ import annotations

import numpy as np
import pytest

from graphml.api import ConfigError
from graphml.processing.features import (
    OTHER,
    BucketNumericalEncoder,
    CategoryEncoder,
    DatetimeEncoder,
    NumericalEncoder,
    TfidfEncoder,
    auto_type,
    make_encoder,
)


def test_numerical_min_max_with_median_imputer() -> None:
    enc = NumericalEncoder("min-max", "median").fit(["1", "3", "", "5"])
    out = enc.transform(["1", "3", "", "5", "9"])
    assert out.shape == (5, 1)
    np.testing.assert_allclose(out[:, 0], [0.0, 0.5, 0.5, 1.0, 2.0])


def test_numerical_standard_and_multi_value() -> None:
    enc = NumericalEncoder("standard", "mean", separator=";").fit(["1;10", "3;30"])
    out = enc.transform(["1;10", "3;30", "2"])
    assert out.shape == (3, 2)
    np.testing.assert_allclose(out[:2], [[-1, -1], [1, 1]], atol=1e-6)
    assert out[2, 1] == pytest.approx(0.0)  # missing second value imputed with the mean


def test_numerical_none_norm_keeps_values() -> None:
    out = NumericalEncoder("none", None).fit(["2.5", "7"]).transform(["2.5", "7"])
    np.testing.assert_allclose(out[:, 0], [2.5, 7.0])


def test_bucket_numerical_ranges_and_sliding_window() -> None:
    enc = BucketNumericalEncoder([0, 100], 10).fit(["5", "55"])
    out = enc.transform(["5", "55", "-3", "1000"])
    assert out.shape == (4, 10)
    assert out[0].argmax() == 0 and out[1].argmax() == 5
    assert out[2, 0] == 1 and out[3, 9] == 1  # out of range -> first / last bucket
    wide = BucketNumericalEncoder([0, 100], 10, slide_window_size=20).fit(["50"]).transform(["50"])
    assert wide[0].sum() == 3  # 40..60 touches buckets 4, 5, 6


def test_category_top_99_plus_other_and_multi() -> None:
    values = [f"v{i}" for i in range(150)] + ["v0"] * 5
    enc = CategoryEncoder().fit(values)
    assert enc.dim == 100 and enc.categories[-1] == OTHER and enc.categories[0] == "v0"
    out = enc.transform(["v0", "never-seen"])
    assert out[0, 0] == 1 and out[1, enc.categories.index(OTHER)] == 1
    multi = CategoryEncoder(separator=";").fit(["a;b", "b"]).transform(["a;b"])
    assert multi.sum() == 2


def test_datetime_parts_drop_single_year() -> None:
    enc = DatetimeEncoder().fit(["2020-01-06T10:00:00", "2020-03-07T23:00:00"])
    assert "year" not in enc.parts
    out = enc.transform(["2020-01-06T10:00:00"])
    assert out.shape == (1, 12 + 7 + 24) and out.sum() == 3
    multi_year = DatetimeEncoder(["year", "month"]).fit(["2019-01-01", "2021-05-01"])
    assert multi_year.dim == 2 + 12


def test_tfidf_projects_to_at_most_100_dims() -> None:
    docs = [" ".join(f"w{(i * 7 + j) % 300}" for j in range(8)) for i in range(200)]
    enc = TfidfEncoder(min_df=1).fit(docs)
    out = enc.transform(docs[:3])
    assert out.shape == (3, 100)
    assert np.abs(out).sum() > 0


def test_auto_type_rules() -> None:
    assert auto_type(["1.5", "2.5", "3.7", "9.1"], numeric_hint=True) == "numerical"
    assert auto_type(["1", "2"] * 50, numeric_hint=True) == "category"
    assert auto_type(["red", "blue", "red", "blue", "green"] * 3) == "category"
    assert auto_type(["id-1", "id-2", "id-3", "id-4"]) is None  # id-like
    assert auto_type(["the quick brown fox", "a slow green turtle", "my old red car"]) == "text_tfidf"


def test_unknown_type_and_bad_options_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        make_encoder("text_magic", {})
    with pytest.raises(ConfigError):
        make_encoder("bucket_numerical", {"bucket_cnt": 3})
    assert make_encoder("none", {}) is None
