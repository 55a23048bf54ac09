"""The data a fit reads: conformed rows in memory, or an engine that keeps them where they live."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lookalike.errors import ColumnError, EmptyDataError
from lookalike.schema import Kind, Schema, resolve_schema

__all__ = ["Source"]


@dataclass
class Source:
    """A fit's input: its schema and either the conformed rows (``frame``) or a count engine.

    ``notes`` are the conform actions (clipped values, unknown categories) the fit reports.
    """

    schema: Schema
    frame: pd.DataFrame | None = None
    engine: Any = None
    notes: list[str] = field(default_factory=list)
    raw: pd.DataFrame | None = None
    """The rows as read, before conforming: what the ledger fingerprints (as DuckDB does)."""

    @classmethod
    def of_frame(cls, frame: pd.DataFrame, schema: Any = None) -> Source:
        """Conform ``frame`` to ``schema`` (inferred when None); refuse a table with nothing to model."""
        schema_ = resolve_schema(frame, schema)
        notes: list[str] = []
        conformed = schema_.conform(frame, actions=notes)
        _check_modelled(schema_)
        if len(frame) == 0:
            raise EmptyDataError("the table has no rows to learn from")
        return cls(schema_, conformed, None, notes, frame)

    @classmethod
    def of_engine(cls, engine: Any) -> Source:
        """Rows that stay inside ``engine`` (DuckDB): only counts come back."""
        _check_modelled(engine.schema)
        return cls(engine.schema, None, engine, engine.conform_notes())

    def n_rows(self) -> int:
        """The exact row count (private in DP fits: used by non-DP fits, and by a DP fit only
        to refuse a table too small for its ε before anything is spent, a message to the
        data holder as the CLI's plan is; never in a model)."""
        if self.frame is not None:
            return len(self.frame)
        return int(self.engine.n_rows())

    def count_engine(self) -> Any:
        """An engine answering count queries over the rows."""
        if self.engine is not None:
            return self.engine
        from lookalike.marginals.engine import NumpyEngine

        return NumpyEngine(self.frame, self.schema)

    def fingerprint(self) -> Any:
        """The content fingerprint the ledger recognises the data by (rows never leave an engine)."""
        if self.engine is not None:
            return self.engine.fingerprint()
        from lookalike.privacy.fingerprint import fingerprint_frame

        return fingerprint_frame(self.raw if self.raw is not None else self.frame)

    def identifiers(self) -> dict[str, set]:
        """The real keys of identifier columns, kept in memory so that samples never reissue one."""
        if self.frame is None:
            return {}
        return {c.name: set(self.frame[c.name].dropna().tolist())
                for c in self.schema.columns if c.kind is Kind.IDENTIFIER}


def _check_modelled(schema: Schema) -> None:
    if not schema.modelled:
        raise ColumnError("no column to model: every column is an identifier or free text")
