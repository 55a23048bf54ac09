"""Dates and times in a schema: format guessing, two-digit years, conversion to numbers.

Datetimes are modelled as numbers: time since 1970-01-01 in days (``unit="D"``) or seconds
(``unit="s"``). A format is a strftime pattern; a two-digit year is read in the 100-year window
that ends at the column's ``pivot_year``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from lookalike.schema._columns import Column

_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%m/%d/%y",
    "%d/%m/%y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
)
_DATE_LIKE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?$")


def _guess_datetime_format(text: pd.Series) -> str | None:
    sample = text.iloc[:: max(1, len(text) // 2000)]
    if not sample.str.match(_DATE_LIKE).all():
        return None
    for fmt in _DATE_FORMATS:
        parsed = pd.to_datetime(sample, format=fmt, errors="coerce")
        if parsed.notna().all() and pd.to_datetime(text, format=fmt, errors="coerce").notna().all():
            return fmt
    return None


def _datetime_format(nonnull: pd.Series, given: Column | None) -> tuple[str | None, int | None]:
    if given is not None and given.format is not None:
        return given.format, given.pivot_year
    if pd.api.types.is_datetime64_any_dtype(nonnull.dtype):
        return None, None
    text = nonnull.astype(str)
    fmt = _guess_datetime_format(text)
    pivot = _two_digit_pivot(text, fmt) if fmt and "%y" in fmt else None
    return fmt, pivot


def _two_digit_pivot(text: pd.Series, fmt: str) -> int:
    """Last year of the 100-year window that two-digit years are read in (see
    :func:`pivot_year_of`), from the dates of ``text`` written in ``fmt``."""
    years = pd.to_datetime(text, format=fmt, errors="coerce").dt.year.dropna().astype(int)
    return pivot_year_of(years.to_numpy() % 100)


def pivot_year_of(two_digit_years: Any) -> int:
    """Last year of the 100-year window that the two-digit years seen (0 .. 99) are read in.

    The window starts after the largest circular gap between the two-digit years seen, and
    is placed in the latest century that puts no date in the future: "47" in a column of
    birth dates from 19 to 98 means 1947, and "19" means 1919.
    """
    seen = np.unique(np.asarray(two_digit_years, dtype=int) % 100)
    gaps = (np.roll(seen, -1) - seen) % 100
    gaps[gaps == 0] = 100
    start = int(seen[(int(np.argmax(gaps)) + 1) % len(seen)])
    newest = (int(seen.max() if start == seen.min() else seen[seen < start].max()) - start) % 100
    this_year = date.today().year
    for century in (2000, 1900, 1800):
        if century + start + newest <= this_year:
            return century + start + 99
    return 1900 + start + 99


def parse_datetime(s: pd.Series, fmt: str | None, pivot_year: int | None = None) -> pd.Series:
    """Parse ``s`` with strftime ``fmt``; two-digit years after ``pivot_year`` go back 100 years.

    The result is ``datetime64[ns]``, or ``datetime64[us]`` when a date lies outside
    1677-09-22 .. 2262-04-11 (a sentinel such as 9999-12-31 is kept, not lost).

    >>> parse_datetime(pd.Series(["4/18/47", "2/6/85"]), "%m/%d/%y", 2026).dt.year.tolist()
    [1947, 1985]
    >>> parse_datetime(pd.Series(["2020-01-31", "9999-12-31"]), "%Y-%m-%d").dt.year.tolist()
    [2020, 9999]
    """
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        out = s
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_convert("UTC").dt.tz_localize(None)
        return fit_resolution(out)
    out = pd.to_datetime(s, format=fmt, errors="coerce") if fmt else pd.to_datetime(s, errors="coerce")
    if fmt and "%y" in fmt and pivot_year is not None:
        late = out.dt.year > pivot_year
        if late.any():
            out = out.where(~late, out - pd.DateOffset(years=100))
        early = out.dt.year <= pivot_year - 100
        if early.any():
            out = out.where(~early, out + pd.DateOffset(years=100))
    return fit_resolution(out)


def fit_resolution(s: pd.Series) -> pd.Series:
    """``s`` as ``datetime64[ns]`` if every value fits (1677-09-22 .. 2262-04-11), else ``[us]``.

    Microseconds reach ±290,000 years; a value beyond that raises ``OutOfBoundsDatetime``.
    """
    try:
        return s.astype("datetime64[ns]")
    except pd.errors.OutOfBoundsDatetime:
        return s.astype("datetime64[us]")


_PER_SECOND = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}
_NS_SECONDS = 9.2e9  # datetime64[ns] holds about ±9.22e9 s around 1970
DATE_RANGE = ("0001-01-01", "9999-12-31T23:59:59")
"""The dates lookalike models: those an ISO date can write (Python's ``datetime`` range)."""
_DATE_SECONDS = (-62135596800.0, 253402300799.0)  # DATE_RANGE in seconds since 1970


def datetime_to_number(values: Any, unit: str | None) -> Any:
    """Datetimes to float time since 1970-01-01 in ``unit`` ("D" days or "s" seconds).

    Any resolution (ns, us, ms, s) is read in its own unit, so dates beyond 2262 convert too.
    """
    scale = 86400.0 if unit == "D" else 1.0
    if isinstance(values, pd.Timestamp):
        return int(values.asm8.view("i8")) / _PER_SECOND[values.unit] / scale
    v = pd.Series(values)
    if not pd.api.types.is_datetime64_any_dtype(v.dtype):
        v = pd.to_datetime(v)
    if getattr(v.dt, "tz", None) is not None:
        v = v.dt.tz_convert("UTC").dt.tz_localize(None)
    per_second = _PER_SECOND[np.datetime_data(v.dtype)[0]]
    out = v.astype("int64").to_numpy(dtype=float) / per_second / scale
    out[v.isna().to_numpy()] = np.nan
    return out


def number_to_datetime(values: np.ndarray, unit: str | None) -> pd.Series:
    """Inverse of :func:`datetime_to_number`, rounded to whole days ("D") or seconds.

    The result is ``datetime64[ns]``, or ``datetime64[us]`` when a value lies beyond
    1677 .. 2262; values outside :data:`DATE_RANGE` (years 1 .. 9999) are clipped to it.

    >>> number_to_datetime(np.array([0.0, 2932896.0, 3e6]), "D").dt.year.tolist()
    [1970, 9999, 9999]
    """
    scale = 86400.0 if unit == "D" else 1.0
    lo, hi = np.ceil(_DATE_SECONDS[0] / scale), np.floor(_DATE_SECONDS[1] / scale)
    values = np.asarray(values, dtype=float)
    missing = np.isnan(values)
    seconds = np.clip(np.round(np.where(missing, 0, values)), lo, hi) * scale
    if np.all(np.abs(seconds) < _NS_SECONDS):
        ns = pd.array((seconds * 1e9).astype("int64"))
        out = pd.Series(pd.to_datetime(ns, unit="ns"))
    else:
        out = pd.Series((seconds * 1e6).astype("int64").view("datetime64[us]"))
    out[missing] = pd.NaT
    return out


def _iso(ts: pd.Timestamp, unit: str) -> str:
    return ts.strftime("%Y-%m-%d") if unit == "D" else ts.isoformat()


# ------------------------------------------------------------------ writing dates as they were
# What Python's strptime (and pandas with a format) accepts for each directive.
_FIELD_RE = {
    "Y": r"\d\d\d\d", "y": r"\d\d", "m": r"1[0-2]|0[1-9]|[1-9]",
    "d": r"3[01]|[12]\d|0[1-9]|[1-9]| [1-9]", "H": r"2[0-3]|[0-1]\d|\d", "M": r"[0-5]\d|\d",
    "S": r"6[0-1]|[0-5]\d|\d", "f": r"[0-9]{1,6}",
}
_PADDABLE = ("m", "d", "H")
_DIRECTIVE = re.compile(r"%(-?)(.)")


def date_regex(fmt: str) -> tuple[str, list[str]] | None:
    """A regular expression matching what strptime accepts for ``fmt``, one group per field.

    Returns the pattern (RE2-compatible: DuckDB runs it too) and the field letters in group
    order, or None when ``fmt`` uses a directive outside ``%Y %y %m %d %H %M %S %f %%``.

    >>> date_regex("%m/%d/%y")[1]
    ['m', 'd', 'y']
    """
    parts, fields, pos = [], [], 0
    for m in _DIRECTIVE.finditer(fmt):
        parts.append(_literal(fmt[pos:m.start()]))
        pos = m.end()
        code = m.group(2)
        if code == "%":
            parts.append("%")
        elif code in _FIELD_RE:
            parts.append(f"({_FIELD_RE[code]})")
            fields.append(code)
        else:
            return None
    parts.append(_literal(fmt[pos:]))
    return "".join(parts), fields


def _literal(text: str) -> str:
    return "".join(r"\s+" if ch.isspace() else re.escape(ch) for ch in text)


def unpadded_format(fmt: str, unpadded: set[str]) -> str:
    """``fmt`` with ``%-m``, ``%-d``, ``%-H`` for the fields written without a leading zero."""
    def spell(m: re.Match) -> str:
        return f"%-{m.group(2)}" if m.group(2) in unpadded else m.group(0)

    return _DIRECTIVE.sub(spell, fmt)


def spelled_format(text: pd.Series, fmt: str) -> str:
    """The pattern ``text``'s dates were written in: ``fmt``, with ``%-m`` (``%-d``, ``%-H``)
    where months (days, hours) below 10 are written as one digit ("4/8/47", not "04/08/47").

    A field counts as unpadded when some value writes it with one digit and none with a
    leading zero; without evidence either way it stays as ``fmt`` writes it.

    >>> spelled_format(pd.Series(["4/18/47", "12/6/85"]), "%m/%d/%y")
    '%-m/%-d/%y'
    """
    found = date_regex(fmt)
    if found is None or not set(found[1]) & set(_PADDABLE):
        return fmt
    regex, fields = found
    values = pd.Series(pd.unique(text.dropna().astype(str).str.strip()))
    parts = values.str.extract(f"^{regex}$")
    unpadded = set()
    for i, field in enumerate(fields):
        if field in _PADDABLE:
            written = parts[i].dropna()
            if (written.str.len() == 1).any() and not written.str.startswith("0").any():
                unpadded.add(field)
    return unpadded_format(fmt, unpadded)


def format_dates(values: pd.Series, fmt: str) -> pd.Series:
    """Datetimes written as text in strftime pattern ``fmt`` (``%-m`` etc.: no leading zero),
    missing as None; any resolution, years 1 .. 9999 (``%Y`` always four digits).

    >>> format_dates(pd.Series(pd.to_datetime(["1947-04-18", None])), "%-m/%-d/%y").tolist()
    ['4/18/47', None]
    """
    present = values.notna().to_numpy()
    v = values[present]
    text = pd.Series("", index=v.index, dtype=object)
    pos = 0
    for m in _DIRECTIVE.finditer(fmt):
        text = text + fmt[pos:m.start()] + _field(v, m.group(2), bool(m.group(1)))
        pos = m.end()
    text = text + fmt[pos:]
    out = np.full(len(values), None, dtype=object)
    out[present] = text.to_numpy(dtype=object)
    return pd.Series(out, index=values.index, dtype=object)


def _field(v: pd.Series, code: str, unpadded: bool) -> pd.Series | str:
    numbers = {"Y": (lambda d: d.year, 4), "y": (lambda d: d.year % 100, 2),
               "m": (lambda d: d.month, 2), "d": (lambda d: d.day, 2), "H": (lambda d: d.hour, 2),
               "M": (lambda d: d.minute, 2), "S": (lambda d: d.second, 2),
               "f": (lambda d: d.microsecond, 6)}
    if code == "%":
        return "%"
    if code not in numbers:
        return v.dt.strftime(f"%{code}").astype(object)
    get, width = numbers[code]
    digits = get(v.dt).astype("int64").astype(str).astype(object)
    return digits if unpadded else digits.str.zfill(width).astype(object)
