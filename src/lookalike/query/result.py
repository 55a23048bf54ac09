"""A DP query's answers with their uncertainty, and the synthetic preview beside them."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["QueryResult"]


@dataclass(frozen=True, eq=False)
class QueryResult:
    """The DP answer to one aggregate query.

    ``answers``: one row per released group, the keys then one column per aggregate, as the
    query's SELECT names them (ORDER BY and LIMIT applied). ``details``: one row per group and
    aggregate with the ``answer``, the ``noise_sd`` (standard deviation of the noise added, or
    of the answer for averages), the 95% interval ``low``/``high`` (open, ±inf, on a side where
    discovered bounds clipped values), and, with a synthetic table, its ``synthetic`` answer
    and whether that lies ``inside`` the interval; ``note`` says what the number is.

    ``epsilon``/``delta``/``rho`` are this query's own cost (zero when ``reused``: an identical
    query answered before, its released answer returned again at no cost).
    """

    sql: str
    answers: pd.DataFrame
    details: pd.DataFrame
    epsilon: float
    delta: float
    rho: float
    reused: bool = False
    notes: tuple[str, ...] = ()
    releases: tuple[dict[str, Any], ...] = field(default=())
    ledger_entry: tuple[str, str, int] | None = None
    layout: Mapping[str, Any] = field(default_factory=dict)
    """The answers' shape: output ``columns``, group ``keys``, ``order`` and ``limit``."""

    def to_pandas(self) -> pd.DataFrame:
        """The answers as a pandas DataFrame."""
        return self.answers.copy()

    def to_polars(self) -> Any:
        """The answers as a polars DataFrame (needs polars)."""
        import polars as pl

        return pl.from_pandas(self.answers)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the query, its cost, the answers with their intervals, the notes."""
        rows = [{k: _plain(v) for k, v in r.items()} for r in self.details.to_dict("records")]
        return {"sql": self.sql, "epsilon": self.epsilon, "delta": self.delta, "rho": self.rho,
                "reused": self.reused, "answers": rows, "notes": list(self.notes),
                "releases": list(self.releases), "layout": dict(self.layout)}

    def __repr__(self) -> str:
        cost = "reused, no cost" if self.reused else f"epsilon={self.epsilon:.4g}"
        return f"QueryResult({self.sql!r}, {cost})\n{self.details.to_string(index=False)}"

    def _repr_html_(self) -> str:
        cost = ("answered before: returned again at no cost" if self.reused
                else f"cost epsilon={self.epsilon:.4g}, delta={self.delta:.3g}")
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        table = self.details.to_html(index=False, na_rep="", float_format=lambda v: f"{v:.4g}")
        return (f"<div><p><code>{html.escape(self.sql)}</code><br>differentially private "
                f"answer ({html.escape(cost)}); 95% intervals</p>{table}"
                f"{'<ul>' + notes + '</ul>' if notes else ''}</div>")


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v
