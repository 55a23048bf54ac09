"""A DP utility check for a release: a workload answered on the real rows under DP, beside the
synthetic rows' answers, so that a shareable release sheet can say how good the rows are
without disclosing any exact real statistic.

The default workload asks, of every modelled column, its 1-way distribution: counts per
category for categorical and boolean columns (at most ``MAX_GROUPS`` categories), the mean for
numeric ones. Its keys and bounds are the model's own domain, declared public or already
released under DP, so none of the check's budget goes to discovery.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["MAX_GROUPS", "Workload", "release_workload", "utility_summary"]

MAX_GROUPS = 40


@dataclass(frozen=True)
class Workload:
    """Queries with the public keys (by output name) and bounds (by column) they use."""

    sql: tuple[str, ...]
    keys: Mapping[str, Sequence[Any]]
    bounds: Mapping[str, tuple[float, float]]


def _public(column: Any, fact: str) -> bool:
    source = column.source(fact) or ""
    return source in ("declared", "default") or source.startswith("dp")


def release_workload(model: Any, columns: Sequence[str] | None = None) -> Workload:
    """The default workload of a fitted DP ``model`` over ``columns`` (default: all the model
    produces): its public or DP-released domain only (raises ConfigError if nothing is)."""
    from lookalike.errors import ConfigError
    from lookalike.schema import Kind

    sql: list[str] = []
    keys: dict[str, list[Any]] = {}
    bounds: dict[str, tuple[float, float]] = {}
    for col in model.schema_:
        if columns is not None and col.name not in columns:
            continue
        quoted = '"' + col.name.replace('"', '""') + '"'
        if col.kind is Kind.BOOLEAN:
            keys[col.name] = [False, True]
        elif col.kind is Kind.CATEGORICAL and col.categories and _public(col, "categories") \
                and len(col.categories) <= MAX_GROUPS:
            keys[col.name] = list(col.categories)
        elif col.kind in (Kind.INTEGER, Kind.FLOAT) and col.bounds is not None \
                and _public(col, "bounds"):
            bounds[col.name] = col.numeric_bounds()
            sql.append(f"SELECT avg({quoted}) AS mean FROM t")
            continue
        else:
            continue
        sql.append(f"SELECT {quoted}, count(*) AS n FROM t GROUP BY {quoted}")
    if not sql:
        raise ConfigError("the model has no column with public or DP-released categories or "
                          "bounds to check the release against (--dp-utility-epsilon)")
    return Workload(tuple(sql), keys, bounds)


def utility_summary(results: Sequence[Any]) -> dict[str, Any]:
    """The release sheet's DP utility section from query results run with a synthetic table:
    per query its DP answers, intervals, synthetic answers; overall how often the synthetic
    answer lies inside the DP answer's 95% interval."""
    queries, inside = [], []
    for r in results:
        d = r.details
        keys = [c for c in d.columns if c not in ("column", "answer", "noise_sd", "low", "high",
                                                  "note", "synthetic", "inside")]
        rows = []
        for rec in d.to_dict("records"):
            group = ", ".join(str(rec[k]) for k in keys)
            rows.append({"group": group, "column": rec["column"], "answer": _num(rec["answer"]),
                         "low": _num(rec["low"]), "high": _num(rec["high"]),
                         "synthetic": _num(rec.get("synthetic")), "inside": rec.get("inside")})
            if rec.get("inside") is not None:
                inside.append(bool(rec["inside"]))
        queries.append({"sql": r.sql, "epsilon": r.epsilon, "rho": r.rho, "reused": r.reused,
                        "answers": rows, "notes": list(r.notes)})
    return {"queries": queries, "inside_share": float(np.mean(inside)) if inside else None,
            "n_answers": len(inside), "rho": float(sum(r.rho for r in results)),
            "delta_approx": float(sum(float(x.get("delta") or 0.0) for r in results
                                      for x in r.releases))}


def _num(v: Any) -> Any:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return v
    return None if np.isnan(f) else f
