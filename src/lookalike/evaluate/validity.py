"""Validity of synthetic values: the faults a data scientist sees at first glance.

Per modelled column, :func:`validity` measures

* **outside the domain**: the share of synthetic rows whose value the real column does not
  have. Categorical and boolean columns, and *columns of codes*, have a domain of values: a
  synthetic value outside the real column's set of values is outside the domain. A column of
  codes is an integer column, or a float column whose real values are all whole numbers, with
  at most :data:`MAX_CODES` distinct real values (race codes 1–5, a score in steps of 10,
  years of a survey): a 6 among codes 1–5 is outside even though it lies within [1, 5]. Other
  numeric and datetime columns have a range: a value below the real minimum or above the real
  maximum is outside, and so is a non-whole number in an integer column. A value that does
  not read as the column's kind (text in a numeric column, a non-date) is outside too.
* **spurious missing values**: the synthetic missing share in excess of the real one
  (0 when the synthetic column has no more missing values than the real one). The summary
  flags an excess above :data:`SPURIOUS_MISSING` plus three standard errors of the real share
  p in n synthetic rows, 3·sqrt(p(1 − p)/n): a faithful sampler of a column with 5% missing
  values misses its share by 0.7% at n = 1,000, while a column the real data never leaves
  empty is held to 0.1% exactly.
* **collapse**: the synthetic column holds at most one value although the real column's
  *minority share* (1 − the share of its most common value, missing values left out) is at
  least :data:`COLLAPSE_MINORITY`.
* **lost categories**: values of a categorical, boolean or codes column held by at least
  :data:`LOST_SHARE` of the real non-missing values that never occur in the synthetic column.
* **binary columns that lost a value**: the real column has exactly two values and the
  synthetic one lacks either of them (whatever the minority share, which is reported).

Like every evaluation measure this reads the real rows: the result is private.

>>> import pandas as pd
>>> real = pd.DataFrame({"race": [1, 2, 3, 4, 5] * 4, "sick": [0, 1] * 10})
>>> synth = pd.DataFrame({"race": [1, 2, 3, 6, 9] * 4, "sick": [0] * 20})
>>> v = validity(real, synth)
>>> v["race"].domain, v["race"].outside_domain, v["race"].outside_examples
('codes', 0.4, ('6', '9'))
>>> v["sick"].collapsed, v["sick"].binary_lost, v["sick"].lost_categories
(True, True, ('1',))
>>> v.summary.ok, v.summary.outside_domain
(False, ('race',))
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lookalike._json import JsonMixin as _Json
from lookalike.evaluate.tables import _as_schema, _check_columns, read
from lookalike.schema import Column, Kind, Schema, datetime_to_number, parse_datetime

__all__ = [
    "COLLAPSE_MINORITY",
    "LOST_SHARE",
    "MAX_CODES",
    "SPURIOUS_MISSING",
    "ColumnValidity",
    "Validity",
    "ValiditySummary",
    "comparable",
    "validity",
]

MAX_CODES = 20
"""Most distinct real values a whole-number column may have to count as a column of codes."""
COLLAPSE_MINORITY = 0.10
"""A column collapses when its synthetic values are one while its real minority share is this."""
LOST_SHARE = 0.01
"""A real category at least this common (among non-missing values) must occur in synthetic."""
SPURIOUS_MISSING = 0.001
"""Excess synthetic missing share tolerated per column (0.1%), plus the sampling noise of the
real share (see the module doc)."""
_EXAMPLES = 5


@dataclass(frozen=True)
class ColumnValidity(_Json):
    """One column's validity: shares are of the synthetic rows (``missing_real``: real rows).

    ``domain`` is "categories" (categorical and boolean columns), "codes" (whole numbers with
    few values) or "range" (other numbers and datetimes); ``n_real_values`` counts the distinct
    non-missing real values; ``outside_examples`` are the most frequent synthetic values
    outside the domain, as text; ``missing_tolerance`` is the excess missing share tolerated.
    """

    name: str
    kind: str
    domain: str
    n_real_values: int
    outside_domain: float
    outside_examples: tuple[str, ...]
    missing_real: float
    missing_synthetic: float
    spurious_missing: float
    missing_tolerance: float
    minority_share: float
    collapsed: bool
    lost_categories: tuple[str, ...]
    binary_lost: bool

    @property
    def violations(self) -> tuple[str, ...]:
        """The rules this column breaks: outside_domain, spurious_missing, collapsed,
        lost_categories, binary_lost (in that order)."""
        broken = {
            "outside_domain": self.outside_domain > 0,
            "spurious_missing": self.spurious_missing > self.missing_tolerance,
            "collapsed": self.collapsed,
            "lost_categories": bool(self.lost_categories),
            "binary_lost": self.binary_lost,
        }
        return tuple(k for k, v in broken.items() if v)


@dataclass(frozen=True)
class ValiditySummary(_Json):
    """The columns that break each rule, and the worst shares.

    ``spurious_missing`` lists the columns whose excess missing share is above their
    ``missing_tolerance``; ``lost_categories`` counts the lost categories over all columns.
    """

    n_columns: int
    outside_domain: tuple[str, ...]
    max_outside_domain: float
    spurious_missing: tuple[str, ...]
    max_spurious_missing: float
    collapsed: tuple[str, ...]
    columns_losing_categories: tuple[str, ...]
    lost_categories: int
    binary_lost: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when no column breaks any rule."""
        return not (
            self.outside_domain
            or self.spurious_missing
            or self.collapsed
            or self.columns_losing_categories
            or self.binary_lost
        )


@dataclass(frozen=True)
class Validity(_Json):
    """Per-column validity of a synthetic table and its summary (see :func:`validity`)."""

    columns: tuple[ColumnValidity, ...]
    summary: ValiditySummary

    def __getitem__(self, name: str) -> ColumnValidity:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def sentences(self) -> tuple[str, ...]:
        """Plain-language sentences: one if every rule holds, else one per broken rule."""
        s = self.summary
        if s.ok:
            return (
                "Synthetic values are valid: none outside the real domain, no spurious missing "
                "values, no collapsed column, no lost category.",
            )
        out = []
        if s.outside_domain:
            cols = ", ".join(
                f"{c.name!r} ({c.outside_domain:.1%}, e.g. {', '.join(c.outside_examples[:3])})"
                for c in self.columns
                if c.name in s.outside_domain
            )
            out.append(f"Synthetic values outside the real domain in {cols}.")
        if s.spurious_missing:
            cols = ", ".join(
                f"{c.name!r} (+{c.spurious_missing:.1%})"
                for c in self.columns
                if c.name in s.spurious_missing
            )
            out.append(f"Synthetic data has more missing values than the real data in {cols}.")
        if s.collapsed:
            out.append(f"Columns collapsed to a single synthetic value: {list(s.collapsed)}.")
        if s.columns_losing_categories:
            cols = ", ".join(
                f"{c.name!r} ({', '.join(c.lost_categories[:3])}"
                + (", …" if len(c.lost_categories) > 3 else "")
                + ")"
                for c in self.columns
                if c.lost_categories
            )
            out.append(f"Real categories of 1% or more never appear in the synthetic data: {cols}.")
        if s.binary_lost:
            out.append(f"Two-valued columns that lost one value: {list(s.binary_lost)}.")
        return tuple(out)


def validity(
    real: Any,
    synthetic: Any,
    schema: Schema | Mapping | str | os.PathLike | None = None,
) -> Validity:
    """Measure, per column, the synthetic values a real table rules out (see the module doc).

    ``real`` and ``synthetic`` are DataFrames or anything :func:`lookalike.read_table` reads,
    with the same columns; ``schema`` gives the column kinds (default: inferred from ``real``).
    Values are compared as written, before any conforming, so that a value the synthesizer
    should not have produced is counted rather than clipped or set to missing. Identifier and
    text columns are left out.
    """
    real_df = read(real, "real")
    synth_df = read(synthetic, "synthetic")
    _check_columns(real_df, synth_df, "synthetic")
    full = _as_schema(schema, real_df)
    columns = tuple(
        _column(col, real_df[col.name], synth_df[col.name])
        for col in full.columns
        if col.kind.modelled
    )
    return Validity(columns, _summary(columns))


def _column(col: Column, real: pd.Series, synth: pd.Series) -> ColumnValidity:
    real = real.reset_index(drop=True)
    synth = synth.reset_index(drop=True)
    r_keys, _ = comparable(real, col)
    domain = _domain(col, r_keys)
    s_keys, unreadable = comparable(synth, col)
    r_present = r_keys.dropna()
    shares = r_present.value_counts(normalize=True)
    values = set(shares.index)
    readable = s_keys.notna() & ~unreadable
    if domain == "range":
        lo, hi = float(r_present.min()), float(r_present.max())
        num = s_keys.astype(float)
        outside = (num < lo) | (num > hi)
        if col.kind is Kind.INTEGER:
            outside |= np.mod(num, 1) != 0
        outside = (readable & outside) | unreadable
    else:
        outside = (readable & ~s_keys.isin(values)) | unreadable
    s_present = s_keys[readable]
    out_values = synth[outside.to_numpy()]
    n = max(len(synth), 1)
    examples = tuple(_text(v) for v in out_values.value_counts().index[:_EXAMPLES])
    miss_real = float(real.isna().mean()) if len(real) else 0.0
    miss_synth = float(synth.isna().mean()) if len(synth) else 0.0
    minority = 1.0 - float(shares.max()) if len(shares) else 0.0
    synth_values = set(s_present.unique())
    lost: tuple[str, ...] = ()
    if domain != "range":
        lost = tuple(
            _text(v) for v, share in shares.items() if share >= LOST_SHARE and v not in synth_values
        )
    return ColumnValidity(
        name=col.name,
        kind=col.kind.value,
        domain=domain,
        n_real_values=len(values),
        outside_domain=len(out_values) / n,
        outside_examples=examples,
        missing_real=miss_real,
        missing_synthetic=miss_synth,
        spurious_missing=max(0.0, miss_synth - miss_real),
        missing_tolerance=SPURIOUS_MISSING + 3 * float(np.sqrt(miss_real * (1 - miss_real) / n)),
        minority_share=minority,
        collapsed=len(synth_values) + int(unreadable.any()) <= 1 and minority >= COLLAPSE_MINORITY,
        lost_categories=lost,
        binary_lost=len(values) == 2 and not values <= synth_values,
    )


def _domain(col: Column, real_keys: pd.Series) -> str:
    if col.kind in (Kind.CATEGORICAL, Kind.BOOLEAN):
        return "categories"
    if col.kind in (Kind.INTEGER, Kind.FLOAT):
        present = real_keys.dropna().astype(float)
        whole = bool(np.all(np.mod(present, 1) == 0))
        if whole and present.nunique() <= MAX_CODES:
            return "codes"
    return "range"


def comparable(s: pd.Series, col: Column) -> tuple[pd.Series, pd.Series]:
    """The values of ``s`` as validity compares them (missing: NaN/None), and the mask of the
    non-missing values that do not read as ``col``'s kind.

    Categorical values compare as text (a whole float as an integer: 1.0 is "1"); boolean
    values by meaning, as the real column's token for it (``yes``, ``True`` and ``1`` are one
    value when the column's tokens are no/yes); numbers as floats; datetimes as seconds since
    1970-01-01, read in the column's format or, failing that, in any format pandas recognises.
    """
    present = s.notna().to_numpy()
    if col.kind is Kind.CATEGORICAL:
        keys = s.astype(object).map(lambda v: None if _missing(v) else _text(v))
        return keys, pd.Series(np.zeros(len(s), bool))
    if col.kind is Kind.BOOLEAN:
        tokens = col.categories or (False, True)
        mapping = {"false": False, "true": True, "0": False, "1": True}
        mapping.update({str(tokens[0]).lower(): False, str(tokens[1]).lower(): True})

        def as_bool(v: Any) -> Any:
            if _missing(v):
                return None
            meaning = bool(v) if isinstance(v, (bool, np.bool_)) else mapping.get(_text(v).lower())
            return None if meaning is None else _text(tokens[int(meaning)])

        keys = s.astype(object).map(as_bool)  # the real spelling, for lost categories
        return keys, pd.Series(present & keys.isna().to_numpy())
    if col.kind is Kind.DATETIME:
        with warnings.catch_warnings():  # pandas guessing a format warns about day-first
            warnings.simplefilter("ignore", UserWarning)
            parsed = parse_datetime(s, col.format, col.pivot_year)
            other = parsed.isna() & s.notna()
            if col.format is not None and other.any():  # another spelling, not another value
                parsed = parsed.where(~other, parse_datetime(s[other].astype(str), None))
        keys = pd.Series(datetime_to_number(parsed, "s"), dtype=float)
        return keys, pd.Series(present & keys.isna().to_numpy())
    if pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype(float)
    elif s.dtype == object:
        s = s.map(lambda v: float(v) if isinstance(v, (bool, np.bool_)) else v)
    num = pd.to_numeric(s, errors="coerce")
    keys = pd.Series(num.to_numpy(dtype=float, na_value=np.nan))
    return keys, pd.Series(present & keys.isna().to_numpy())


def _missing(v: Any) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v))


def _text(v: Any) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    return str(v)


def _summary(columns: tuple[ColumnValidity, ...]) -> ValiditySummary:
    return ValiditySummary(
        n_columns=len(columns),
        outside_domain=tuple(c.name for c in columns if c.outside_domain > 0),
        max_outside_domain=max((c.outside_domain for c in columns), default=0.0),
        spurious_missing=tuple(
            c.name for c in columns if c.spurious_missing > c.missing_tolerance
        ),
        max_spurious_missing=max((c.spurious_missing for c in columns), default=0.0),
        collapsed=tuple(c.name for c in columns if c.collapsed),
        columns_losing_categories=tuple(c.name for c in columns if c.lost_categories),
        lost_categories=sum(len(c.lost_categories) for c in columns),
        binary_lost=tuple(c.name for c in columns if c.binary_lost),
    )
