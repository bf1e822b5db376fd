"""Feature encoders of Neptune's feature types: raw property strings -> float matrices.

Each encoder is fitted once on the training graph's column and then turns any list of raw
values (CSV strings, or live property values for inductive inference) into a
``float32 [n, dim]`` array. Encoders are plain picklable objects saved with the processed graph.
scikit-learn does the scaling, imputing, TF-IDF and random projection.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from graphml.api import ConfigError

FEATURE_TYPES = ("numerical", "bucket_numerical", "category", "datetime", "text_tfidf", "auto", "none")
MAX_CATEGORIES = 100
OTHER = "OTHER"
DATETIME_PARTS = ("year", "month", "weekday", "hour")


def _cells(values: Sequence[Any], separator: str | None) -> list[list[str]]:
    """Each raw value -> list of its non-empty string parts (multi-values split on ``separator``)."""
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            out.append([])
        elif isinstance(v, list | tuple):
            out.append([str(x) for x in v if str(x) != ""])
        else:
            s = str(v)
            parts = s.split(separator) if separator else [s]
            out.append([p.strip() for p in parts if p.strip() != ""])
    return out


def _to_float(parts: list[str]) -> list[float]:
    return [float(x) for x in pd.to_numeric(pd.Series(parts, dtype=object), errors="coerce")]


class Encoder:
    """Base: ``fit(values)`` then ``transform(values) -> float32 [n, dim]``."""

    dim: int = 0

    def fit(self, values: Sequence[Any]) -> Encoder:  # pragma: no cover - interface
        raise NotImplementedError

    def transform(self, values: Sequence[Any]) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError


class NumericalEncoder(Encoder):
    """Float vector (several values with a separator), imputed, then min-max / standard / none."""

    def __init__(self, norm: str = "min-max", imputer: str | None = "median", separator: str | None = None):
        if norm not in ("min-max", "standard", "none"):
            raise ConfigError(f"unknown norm {norm!r}", field="norm")
        if imputer not in (None, "mean", "median", "most-frequent", "most_frequent"):
            raise ConfigError(f"unknown imputer {imputer!r}", field="imputer")
        self.norm, self.imputer, self.separator = norm, imputer, separator

    def _matrix(self, values: Sequence[Any]) -> np.ndarray:
        rows = [_to_float(c) for c in _cells(values, self.separator)]
        width = getattr(self, "dim", 0) or max((len(r) for r in rows), default=1) or 1
        mat = np.full((len(rows), width), np.nan, dtype=np.float64)
        for i, r in enumerate(rows):
            r = r[:width]
            mat[i, : len(r)] = r
        return mat

    def fit(self, values: Sequence[Any]) -> NumericalEncoder:
        from sklearn.impute import SimpleImputer
        from sklearn.preprocessing import MinMaxScaler, StandardScaler

        self.dim = 0
        mat = self._matrix(values)
        self.dim = mat.shape[1]
        strategy = {"most-frequent": "most_frequent"}.get(self.imputer or "", self.imputer)
        self._imputer = SimpleImputer(
            strategy=strategy or "constant", fill_value=0.0, keep_empty_features=True
        ).fit(mat)
        filled = self._imputer.transform(mat)
        self._scaler = {"min-max": MinMaxScaler(), "standard": StandardScaler()}.get(self.norm)
        if self._scaler is not None:
            self._scaler.fit(filled)
        return self

    def transform(self, values: Sequence[Any]) -> np.ndarray:
        out = self._imputer.transform(self._matrix(values))
        if self._scaler is not None:
            out = self._scaler.transform(out)
        return out.astype(np.float32)


class BucketNumericalEncoder(Encoder):
    """One-hot bucket over ``range`` in ``bucket_cnt`` equal buckets; ``slide_window_size`` spreads a
    value over every bucket its window ``[v - w/2, v + w/2]`` touches. Out of range -> end buckets."""

    def __init__(
        self,
        range: Sequence[float],
        bucket_cnt: int,
        slide_window_size: float = 0.0,
        imputer: str | None = "median",
    ):
        if len(range) != 2 or float(range[0]) >= float(range[1]):
            raise ConfigError("range must be [low, high] with low < high", field="range")
        if int(bucket_cnt) < 1:
            raise ConfigError("bucket_cnt must be at least 1", field="bucket_cnt")
        self.low, self.high = float(range[0]), float(range[1])
        self.dim, self.window, self.imputer = int(bucket_cnt), float(slide_window_size or 0), imputer

    def fit(self, values: Sequence[Any]) -> BucketNumericalEncoder:
        vals = np.array([r[0] if r else np.nan for r in map(_to_float, _cells(values, None))])
        finite = vals[~np.isnan(vals)]
        self._fill = float(
            np.median(finite)
            if self.imputer == "median" and finite.size
            else np.mean(finite)
            if finite.size
            else self.low
        )
        return self

    def _bucket(self, v: np.ndarray) -> np.ndarray:
        width = (self.high - self.low) / self.dim
        return np.clip(((v - self.low) // width).astype(int), 0, self.dim - 1)

    def transform(self, values: Sequence[Any]) -> np.ndarray:
        vals = np.array([r[0] if r else np.nan for r in map(_to_float, _cells(values, None))])
        vals = np.where(np.isnan(vals), self._fill, vals)
        out = np.zeros((len(vals), self.dim), dtype=np.float32)
        lo, hi = self._bucket(vals - self.window / 2), self._bucket(vals + self.window / 2)
        for i in range(len(vals)):
            out[i, lo[i] : hi[i] + 1] = 1.0
        return out


class CategoryEncoder(Encoder):
    """One-hot (multi-hot with a separator) over the 99 most frequent values plus ``OTHER`` when a
    column has more than 100 distinct values."""

    def __init__(self, separator: str | None = None):
        self.separator = separator

    def fit(self, values: Sequence[Any]) -> CategoryEncoder:
        counts = Counter(x for cell in _cells(values, self.separator) for x in cell)
        ranked = sorted(counts, key=lambda k: (-counts[k], k))
        if len(ranked) > MAX_CATEGORIES:
            ranked = ranked[: MAX_CATEGORIES - 1] + [OTHER]
        self.categories = ranked
        self._index = {c: i for i, c in enumerate(ranked)}
        self.dim = max(len(ranked), 1)
        return self

    def transform(self, values: Sequence[Any]) -> np.ndarray:
        out = np.zeros((len(values), self.dim), dtype=np.float32)
        other = self._index.get(OTHER)
        for i, cell in enumerate(_cells(values, self.separator)):
            for x in cell:
                j = self._index.get(x, other)
                if j is not None:
                    out[i, j] = 1.0
        return out


class DatetimeEncoder(Encoder):
    """One-hot of the chosen parts (year, month, weekday, hour); year dropped within one year."""

    def __init__(self, datetime_parts: Sequence[str] | None = None):
        parts = list(datetime_parts or DATETIME_PARTS)
        bad = [p for p in parts if p not in DATETIME_PARTS]
        if bad:
            raise ConfigError(f"unknown datetime part(s) {bad}", field="datetime_parts")
        self.parts = parts

    @staticmethod
    def _parse(values: Sequence[Any]) -> pd.Series:
        raw = pd.Series([None if v in (None, "") else str(v) for v in values], dtype=object)
        return pd.to_datetime(raw, errors="coerce", utc=True, format="mixed")

    def fit(self, values: Sequence[Any]) -> DatetimeEncoder:
        ts = self._parse(values).dropna()
        self.years = sorted(int(y) for y in ts.dt.year.unique())
        if "year" in self.parts and len(self.years) <= 1:
            self.parts = [p for p in self.parts if p != "year"]
        sizes = {"year": len(self.years), "month": 12, "weekday": 7, "hour": 24}
        self.dim = sum(sizes[p] for p in self.parts) or 1
        return self

    def transform(self, values: Sequence[Any]) -> np.ndarray:
        ts = self._parse(values)
        out = np.zeros((len(ts), self.dim), dtype=np.float32)
        year_index = {y: i for i, y in enumerate(self.years)}
        for i, t in enumerate(ts):
            if pd.isna(t):
                continue
            offset = 0
            for part in self.parts:
                if part == "year":
                    j = year_index.get(t.year)
                    size = len(self.years)
                else:
                    j, size = {"month": (t.month - 1, 12), "weekday": (t.weekday(), 7), "hour": (t.hour, 24)}[
                        part
                    ]
                if j is not None:
                    out[i, offset + j] = 1.0
                offset += size
        return out


class TfidfEncoder(Encoder):
    """TF-IDF over words, then a fixed-seed sparse random projection to at most 100 dimensions."""

    def __init__(self, max_features: int = 5000, min_df: int = 2, ngram_range: Sequence[int] = (1, 1)):
        self.max_features, self.min_df, self.ngram_range = int(max_features), int(min_df), tuple(ngram_range)

    def fit(self, values: Sequence[Any]) -> TfidfEncoder:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.random_projection import SparseRandomProjection

        docs = [" ".join(c) for c in _cells(values, None)]
        min_df = self.min_df if sum(bool(d) for d in docs) >= 2 * self.min_df else 1
        self._tfidf = TfidfVectorizer(
            max_features=self.max_features, min_df=min_df, ngram_range=self.ngram_range
        )
        try:
            mat = self._tfidf.fit_transform(docs)
        except ValueError:  # empty vocabulary: every document empty
            self._tfidf, self.dim, self._proj = None, 1, None
            return self
        self._proj = None
        self.dim = mat.shape[1]
        if self.dim > 100:
            self._proj = SparseRandomProjection(n_components=100, random_state=0).fit(mat)
            self.dim = 100
        return self

    def transform(self, values: Sequence[Any]) -> np.ndarray:
        if self._tfidf is None:
            return np.zeros((len(values), 1), dtype=np.float32)
        mat = self._tfidf.transform([" ".join(c) for c in _cells(values, None)])
        if self._proj is not None:
            mat = self._proj.transform(mat)
        return np.asarray(mat.todense() if hasattr(mat, "todense") else mat, dtype=np.float32)


def auto_type(values: Sequence[Any], numeric_hint: bool = False, separator: str | None = None) -> str | None:
    """Neptune's processing-time inference: the feature type for a column, or None to drop it.

    Numeric with < 10% unique and < 100 distinct values -> category; numeric -> numerical; dates ->
    datetime; strings unique per vertex (id-like) -> dropped; long multi-word strings -> text_tfidf;
    other strings -> category.
    """
    cells = _cells(values, separator)
    flat = [x for c in cells for x in c]
    if not flat:
        return None
    distinct = len(set(flat))
    present = sum(1 for c in cells if c)
    numbers = pd.to_numeric(pd.Series(flat, dtype=object), errors="coerce")
    if numeric_hint or numbers.notna().all():
        if distinct < 100 and distinct < 0.1 * present:
            return "category"
        return "numerical"
    if distinct <= 2:
        return "category"
    words = float(np.mean([len(x.split()) for x in flat]))
    if distinct >= 0.5 * present and words >= 3:
        return "text_tfidf"
    if distinct >= 0.9 * present and separator is None:
        return None  # id-like: unique per vertex, carries no shared signal
    dates = pd.to_datetime(pd.Series(flat[:200], dtype=object), errors="coerce", utc=True, format="mixed")
    if dates.notna().all() and not numbers.notna().any():
        return "datetime"
    return "category"


def make_encoder(ftype: str, options: dict[str, Any]) -> Encoder | None:
    """The encoder for a feature type and its config options (None for ``none``)."""
    opts = {k: v for k, v in options.items() if v is not None}
    try:
        if ftype == "numerical":
            return NumericalEncoder(
                opts.get("norm", "min-max"), opts.get("imputer", "median"), opts.get("separator")
            )
        if ftype == "bucket_numerical":
            if "range" not in opts or "bucket_cnt" not in opts:
                raise ConfigError("bucket_numerical needs range and bucket_cnt", field="range")
            return BucketNumericalEncoder(
                opts["range"],
                opts["bucket_cnt"],
                opts.get("slide_window_size", 0),
                opts.get("imputer", "median"),
            )
        if ftype == "category":
            return CategoryEncoder(opts.get("separator"))
        if ftype == "datetime":
            return DatetimeEncoder(opts.get("datetime_parts"))
        if ftype == "text_tfidf":
            return TfidfEncoder(
                opts.get("max_features", 5000), opts.get("min_df", 2), opts.get("ngram_range", (1, 1))
            )
    except TypeError as exc:
        raise ConfigError(f"bad options for {ftype}: {exc}", field="feature") from exc
    if ftype == "none":
        return None
    raise ConfigError(
        f"unknown feature type {ftype!r}; expected one of {', '.join(FEATURE_TYPES)}", field="feature"
    )
