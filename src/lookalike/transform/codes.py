"""Numeric columns that hold codes, and keeping a non-DP model's output on them.

A race coded 1, 2, 3, 5, 9, a school year 9-20 without 10 or 11, a score in steps of 10: a model
that decodes numbers as a continuum (the copula's interpolated quantiles, the neural models'
Gaussian modes) and rounds writes the integers between the codes, values the data never has
(compas' decile score 0 between its -1 and 1; fair's education 10, 11, 15 beside 9, 12, 14, 16).
A non-DP model reads the data, so it can keep each column's codes and write only those. Codes
stored as decimals are codes too: scikit-learn's diabetes table keeps sex as ±0.0507 (two values
among 442 rows), which the copula and the neural models wrote out as a continuum; and so are
dates of a few values: vega_datasets' cars has model years 1970-1980 and 1982, and tvae wrote
1981 for 6% of its rows.

DP models never use this: their codes are the bins discovery released (a bin of one integer).
Reading the codes here is reading private values, as a non-DP fit does anyway.

>>> codes = integer_codes(np.array([1.0, 2, 3, 5, 9, 9, np.nan]))
>>> codes.tolist()
[1.0, 2.0, 3.0, 5.0, 9.0]
>>> nearest_code(np.array([4.2, 7.5, np.nan, 12.0]), codes).tolist()
[5.0, 9.0, nan, 9.0]
>>> integer_codes(np.array([0.0, 1, 2, 3])) is None  # every integer of its range: no gap
True
>>> float_codes(np.array([0.05, -0.04, 0.05, -0.04, 0.05] * 2)).tolist()
[-0.04, 0.05]
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from lookalike.schema import Column, Kind

__all__ = ["CODE_LIMIT", "CODE_ROWS", "column_codes", "float_codes", "integer_codes",
           "nearest_code"]

CODE_LIMIT = 50
"""The most distinct values an integer column of codes has. Codes, scores and small counts have
few values, each shared by many rows; a column with more (incomes, amounts) is a measurement,
for which values between the observed ones are what a model should write (keeping it on its
observed values would copy each row's own value)."""


CODE_ROWS = 5
"""The fewest rows a decimal column's values hold on average for them to be codes: fewer, and
each observed value is close to one row's own (a 60-row table of 40 weights)."""


def column_codes(values: npt.NDArray[np.floating], col: Column) -> npt.NDArray[np.floating] | None:
    """The codes of a numeric column (:func:`integer_codes`; :func:`float_codes` for decimals
    and for datetimes, as time since the epoch: a model year of 12 values, a survey's waves),
    or None."""
    if col.kind is Kind.INTEGER:
        return integer_codes(values)
    if col.kind in (Kind.FLOAT, Kind.DATETIME):
        return float_codes(values)
    return None


def float_codes(values: npt.NDArray[np.floating]) -> npt.NDArray[np.floating] | None:
    """The sorted distinct values of a decimal column (NaN for missing) when they are codes: two
    to :data:`CODE_LIMIT` of them, each held by :data:`CODE_ROWS` rows or more on average.
    Between two decimals there is always a value the data lacks, so no gap rule is needed."""
    present = values[~np.isnan(values)]
    held = np.unique(present)
    if not 2 <= len(held) <= CODE_LIMIT or len(present) < CODE_ROWS * len(held):
        return None
    return held


def integer_codes(values: npt.NDArray[np.floating]) -> npt.NDArray[np.floating] | None:
    """The sorted distinct values of an integer column (floats, NaN for missing) when they are
    codes: at most :data:`CODE_LIMIT` of them, leaving some integer of their range unheld. None
    otherwise: without a gap, rounding inside the column's range already writes values the data
    has."""
    held = np.unique(values[~np.isnan(values)])
    if not 0 < len(held) <= CODE_LIMIT or held[-1] - held[0] + 1 == len(held):
        return None
    return held


def nearest_code(values: npt.NDArray[np.floating],
                 codes: npt.NDArray[np.floating]) -> npt.NDArray[np.floating]:
    """Each value moved to the nearest of ``codes`` (sorted, two or more, as
    :func:`integer_codes` gives them; the lower one on a tie); a missing value stays missing."""
    values = np.asarray(values, dtype=float)
    right = np.clip(np.searchsorted(codes, values), 1, len(codes) - 1)
    lower, upper = codes[right - 1], codes[right]
    out = np.where(values - lower <= upper - values, lower, upper)
    return np.where(np.isnan(values), np.nan, out)
