"""A table's schema: an ordered set of columns, its JSON round trip, and conforming data to it."""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lookalike._files import atomic_output
from lookalike.errors import SchemaError, SourceNotFoundError
from lookalike.schema._columns import Column
from lookalike.schema._conform import conform_frame
from lookalike.schema._json import schema_parts_from_dict, schema_to_dict


@dataclass(frozen=True)
class Schema:
    """An ordered set of columns, plus the row count as an optional fact.

    ``n_rows`` is ``None`` unless known; in DP mode the row count is private unless declared.
    """

    columns: tuple[Column, ...]
    n_rows: int | None = None
    n_rows_source: str | None = None

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise SchemaError(f"schema names columns more than once: {dupes}")

    def __getitem__(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise SchemaError(f"no column {name!r} in the schema; columns are {self.names}")

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.columns)

    def __iter__(self):
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def modelled(self) -> list[Column]:
        """Columns a synthesizer models (not identifiers, not free text)."""
        return [c for c in self.columns if c.kind.modelled]

    def source(self, column: str, fact: str) -> str | None:
        return self[column].source(fact)

    def with_column(self, column: Column) -> Schema:
        """A copy with ``column`` replacing the one of the same name."""
        cols = tuple(column if c.name == column.name else c for c in self.columns)
        return dataclasses.replace(self, columns=cols)

    # ---------------------------------------------------------------- JSON round trip
    def to_dict(self) -> dict:
        return schema_to_dict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    @classmethod
    def from_dict(cls, d: Mapping) -> Schema:
        return cls(*schema_parts_from_dict(d))

    @classmethod
    def from_json(cls, text: str) -> Schema:
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise SchemaError(f"schema is not valid JSON: {e}") from None
        return cls.from_dict(d)

    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        with atomic_output(path, overwrite=overwrite) as tmp:
            tmp.write_text(self.to_json() + "\n", encoding="utf-8")
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Schema:
        p = Path(path)
        if not p.is_file():
            raise SourceNotFoundError(f"schema file {p} does not exist")
        return cls.from_json(p.read_text(encoding="utf-8"))

    # ---------------------------------------------------------------- data conformance
    def conform(self, df: pd.DataFrame, *, actions: list[str] | None = None) -> pd.DataFrame:
        """Return ``df`` with the schema's columns, order and types.

        Values outside declared bounds are clipped and unknown categories become missing;
        each such action is appended to ``actions`` (and warned about), never silent.
        """
        notes = actions if actions is not None else []
        out = conform_frame(self, df, notes)
        if notes and actions is None:
            for note in notes:
                warnings.warn(note, stacklevel=2)
        return out
