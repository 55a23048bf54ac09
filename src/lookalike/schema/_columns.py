"""Column kinds and one column's facts, each with the source it came from."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pandas as pd

from lookalike.schema._datetimes import datetime_to_number

MIN_ROWS = 10
"""Fewest rows a table must have before lookalike will model it."""

_FACTS = ("kind", "nullable", "categories", "bounds", "format", "unit", "pivot_year")


def category_text(value: Any) -> str:
    """The text a categorical value is known by: a whole float as its integer (``3.0`` → "3"),
    anything else as ``str``. Categories and values are matched by it, so a category declared
    as the number 3 (JSON ``"categories": [3, 4, 6]``) matches the integer 3, the float 3.0 and
    the text "3" of the data."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Kind(StrEnum):
    """What a column holds, and so how it is modelled."""

    CATEGORICAL = "categorical"
    INTEGER = "integer"
    FLOAT = "float"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    IDENTIFIER = "identifier"  # unique keys: never modelled, regenerated in the same format
    TEXT = "text"  # free text: excluded from models, with a warning

    @property
    def modelled(self) -> bool:
        return self not in (Kind.IDENTIFIER, Kind.TEXT)

    @property
    def numeric(self) -> bool:
        """Ordered kinds modelled through numbers (datetimes as time since the epoch)."""
        return self in (Kind.INTEGER, Kind.FLOAT, Kind.DATETIME)


@dataclass(frozen=True)
class Column:
    """One column: its kind and domain, with the source of every fact in ``sources``.

    ``bounds`` are numbers for integer/float columns and ISO strings for datetimes;
    ``format`` is a strftime pattern for datetimes and a regular expression for string
    identifiers; ``unit`` is ``"D"`` or ``"s"`` for datetimes; ``pivot_year`` resolves
    two-digit years (a parsed year after it belongs to the previous century).
    """

    name: str
    kind: Kind
    nullable: bool = False
    categories: tuple | None = None
    bounds: tuple | None = None
    format: str | None = None
    unit: str | None = None
    pivot_year: int | None = None
    sources: Mapping[str, str] = field(default_factory=dict, compare=True)

    def __post_init__(self) -> None:
        if self.kind is Kind.CATEGORICAL and self.categories is not None:
            # categories are matched as text (see category_text); numbers declared for codes
            # take the spelling their values get, or no value would ever match them
            object.__setattr__(self, "categories", tuple(category_text(c) for c in self.categories))

    def source(self, fact: str) -> str | None:
        """Where ``fact`` came from: "declared", "data", a DP release, or None if unset."""
        if getattr(self, fact) is None:
            return None
        return self.sources.get(fact, "declared")

    def replace(self, source: str = "declared", **facts: Any) -> Column:
        """A copy with ``facts`` changed, each recorded as coming from ``source``."""
        sources = dict(self.sources)
        sources.update({k: source for k in facts})
        return dataclasses.replace(self, sources=sources, **facts)

    def numeric_bounds(self) -> tuple[float, float] | None:
        """Bounds as floats (datetimes in ``unit`` since 1970-01-01)."""
        if self.bounds is None:
            return None
        if self.kind is Kind.DATETIME:
            lo, hi = (pd.Timestamp(b) for b in self.bounds)
            return datetime_to_number(lo, self.unit), datetime_to_number(hi, self.unit)
        return float(self.bounds[0]), float(self.bounds[1])
