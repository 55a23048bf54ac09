"""Checks of one column's facts as written in a schema's JSON form.

Each check names the column and the fact, echoes the value and says what form is expected, so
that an edited schema fails when it is read, not deep inside a fit.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from lookalike.errors import SchemaError
from lookalike.schema._columns import Kind, category_text
from lookalike.schema._fakes import FAKE_PROVIDERS, fake_provider

_KINDS = [k.value for k in Kind]
_NUMBER_KINDS = (Kind.INTEGER, Kind.FLOAT, Kind.DATETIME)
_SCALAR = (str, int, float, bool)


_APPLIES = {
    "categories": (Kind.CATEGORICAL, Kind.BOOLEAN),
    "bounds": _NUMBER_KINDS,
    "format": (Kind.DATETIME, Kind.IDENTIFIER),
    "unit": (Kind.DATETIME,),
    "pivot_year": (Kind.DATETIME,),
}


def check_facts(name: str, facts: dict[str, Any], sources: dict[str, str]) -> dict[str, Any]:
    """``facts`` of column ``name`` with kind a :class:`Kind` and lists as tuples, checked.

    A fact that does not apply to the column's kind is refused when declared, and dropped
    (with its entry in ``sources``) when it was read from the data for another kind: the
    bounds ``lookalike inspect`` wrote for an integer column whose kind was then edited to
    categorical. NumPy scalars count as the Python numbers they hold.
    """
    facts = {k: _python(v) for k, v in facts.items()}
    kind = _kind(name, facts["kind"])
    for fact, kinds in _APPLIES.items():
        if fact in facts and kind not in kinds and sources.get(fact) != "declared":
            del facts[fact], sources[fact]
    out = dict(facts, kind=kind)
    if "nullable" in facts and not isinstance(facts["nullable"], bool):
        _fail(name, "nullable", facts["nullable"], "true or false")
    if "categories" in facts:
        out["categories"] = _categories(name, kind, facts["categories"])
    if "bounds" in facts:
        out["bounds"] = _bounds(name, kind, facts["bounds"])
    if "format" in facts:
        _format(name, kind, facts["format"])
    if "unit" in facts:
        _only(name, kind, "unit", (Kind.DATETIME,))
        if facts["unit"] not in ("D", "s"):
            _fail(name, "unit", facts["unit"], '"D" (days) or "s" (seconds)')
    if "pivot_year" in facts:
        _only(name, kind, "pivot_year", (Kind.DATETIME,))
        year = facts["pivot_year"]
        if not _is_int(year) or not 1000 <= year <= 9999:
            _fail(name, "pivot_year", year, "a four-digit year such as 2025")
    return out


def _kind(name: str, value: Any) -> Kind:
    if not isinstance(value, str) or value not in _KINDS:
        raise SchemaError(f"column {name!r}: unknown kind {value!r}; one of {_KINDS}")
    return Kind(value)


def _categories(name: str, kind: Kind, value: Any) -> tuple:
    _only(name, kind, "categories", (Kind.CATEGORICAL, Kind.BOOLEAN))
    if not isinstance(value, list | tuple) or not value:
        _fail(name, "categories", value, 'a non-empty list of values, e.g. ["a", "b"]')
    bad = [v for v in value
           if not isinstance(v, _SCALAR) or (isinstance(v, float) and not math.isfinite(v))]
    if bad:
        _fail(name, "categories", value, f"a list of texts or numbers (not {bad[0]!r})")
    seen = [category_text(v) for v in value]  # 3 and 3.0 are one category (as values are)
    twice = sorted({v for v in seen if seen.count(v) > 1})
    if twice:
        _fail(name, "categories", value, f"a list without repeats (repeated: {twice})")
    if kind is Kind.BOOLEAN and len(value) != 2:
        _fail(name, "categories", value,
              'the two tokens of a boolean, false first, e.g. ["no", "yes"]')
    return tuple(value)


def _bounds(name: str, kind: Kind, value: Any) -> tuple:
    _only(name, kind, "bounds", _NUMBER_KINDS)
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise SchemaError(f"column {name!r}: bounds must be [low, high], got {value!r}")
    lo, hi = value
    if kind is Kind.DATETIME:
        ok = all(isinstance(b, str) for b in value)
        try:
            low, high = (pd.Timestamp(b) for b in value) if ok else (None, None)
        except (TypeError, ValueError, OverflowError):
            ok = False
        ok = ok and not (pd.isna(low) or pd.isna(high))
        example = '["2000-01-01", "2024-12-31"]'
    else:
        ok = all(_is_number(b) for b in value)
        if ok and kind is Kind.INTEGER:
            ok = all(float(b).is_integer() for b in value)
        low, high = lo, hi
        example = "[0, 120]" if kind is Kind.INTEGER else "[0.0, 1.5]"
    if not ok:
        raise SchemaError(
            f"column {name!r}: bounds [{lo!r}, {hi!r}] are not two {kind.value} values; write "
            f"them as [low, high], e.g. {example}"
        )
    if not low <= high:
        raise SchemaError(f"column {name!r}: bounds [{lo}, {hi}] are not low <= high")
    return (lo, hi)


def _format(name: str, kind: Kind, value: Any) -> None:
    _only(name, kind, "format", (Kind.DATETIME, Kind.IDENTIFIER))
    if not isinstance(value, str) or not value:
        _fail(name, "format", value, "a non-empty text")
    if kind is Kind.DATETIME and "%" not in value:
        _fail(name, "format", value, 'a strftime pattern such as "%Y-%m-%d"')
    provider = fake_provider(value) if kind is Kind.IDENTIFIER else None
    if provider is not None and provider not in FAKE_PROVIDERS:
        _fail(name, "format", value,
              '"fake:" and one of the fake providers ' + ", ".join(FAKE_PROVIDERS))
    if kind is Kind.IDENTIFIER and value != "integer" and provider is None:
        try:
            re.compile(value)
        except re.error as e:
            _fail(name, "format", value, f'"integer" or a regular expression ({e}), or '
                  '"fake:<provider>"')


def _only(name: str, kind: Kind, fact: str, kinds: tuple[Kind, ...]) -> None:
    if kind not in kinds:
        raise SchemaError(
            f"column {name!r}: {fact!r} is a fact of {' and '.join(k.value for k in kinds)} "
            f"columns, not of a {kind.value} column; remove it or change the kind"
        )


def _fail(name: str, fact: str, value: Any, expected: str) -> None:
    raise SchemaError(f"column {name!r}: {fact} must be {expected}, got {value!r}")


def _python(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, list | tuple):
        return type(v)(_python(x) for x in v)
    return v


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
