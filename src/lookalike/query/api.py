"""``lookalike.query``: aggregate SQL over the real table, answered under DP where it lives.

The rows stay in DuckDB (a CSV or Parquet file, a DuckDB database or connection, a DataFrame
scanned in place): every statement that reads them is an aggregate, and only noisy answers
leave this module. Each query is charged to the dataset's privacy ledger before it runs, in
the units of the fits (zCDP ρ, shown as ε at the dataset's δ); the budget a call cannot pay
for is refused before any data is read. An identical query (same SQL up to spelling, same
budget, same declared keys and bounds) answered before on the same data is answered again
from its released result, at no cost.

Why this and not a library: OpenDP's Polars context and smartnoise-sql both read the rows
into their own process (Polars frames; smartnoise-sql's readers fetch rows for its
post-processing of subqueries) and neither pushes the aggregates into DuckDB; Tumult
Analytics needs Spark. The noise, the threshold mechanism and the accounting here are
OpenDP's; the SQL is parsed by sqlglot.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from lookalike.errors import ConfigError
from lookalike.privacy.accountant import rho_from_epsilon_delta
from lookalike.privacy.budget import UnrecordedSpendWarning, plan_budget, privacy_request
from lookalike.query._keys import KeySpelling
from lookalike.query._measure import Z95, Measured, QueryPlan, measure, plan_query, tree_quantile
from lookalike.query._sources import as_pandas, open_source
from lookalike.query._sql import ParsedQuery, QueryError, parse_query
from lookalike.query.result import QueryResult

__all__ = ["query"]

MECHANISM = "query"


def query(
    data: Any,
    sql: str | Sequence[str],
    *,
    epsilon: float,
    delta: float | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    keys: Mapping[str, Sequence[Any]] | None = None,
    schema: Any = None,
    ledger: Any = None,
    dataset: str | None = None,
    register: bool = False,
    synthetic: Any = None,
    table: str | None = None,
    read_query: str | None = None,
    drop: Sequence[str] = (),
    delimiter: str | None = None,
    decimal: str | None = None,
    engine: str | None = None,
    spark_master: str | None = None,
    spark_conf: Mapping[str, str] | None = None,
) -> QueryResult | list[QueryResult]:
    """Answer aggregate SQL over ``data`` with (``epsilon``, ``delta``)-DP; a list of queries
    is a query set sharing that budget equally (each gets ρ/k of its zCDP ρ).

    ``data``: a CSV/Parquet path, a DuckDB database path or connection (with ``table``), or a
    pandas/polars/Arrow table; ``read_query`` a query that makes the table in a DuckDB
    database (read options as for a fit: ``drop``, ``delimiter``, ``decimal``). ``engine``
    ``"spark"`` (the default for a Spark DataFrame) answers inside Spark instead: Parquet or
    CSV paths, a catalog ``table`` (``db.t``), ``spark_master``/``spark_conf`` for the
    session; the SQL is translated from DuckDB's dialect by sqlglot. The SQL's FROM names the table (any one name). ``bounds``
    declares public bounds of SUM/AVG/quantile arguments, by column or argument as written
    (``{"age": (17, 90)}``), ``keys`` the public groups of GROUP BY keys by output name
    (``{"sex": ["Female", "Male"]}``); the schema's declared bounds and categories count too.
    Undeclared bounds and groups are found under DP from the query's own budget.
    ``ledger``/``dataset`` charge the query as fits are charged (``register``: a dataset the
    ledger does not know gets (ε, δ) as its limit). ``synthetic``: a table to run the same
    query on, exactly, beside the DP answer. Returns a :class:`QueryResult` (a list for a
    list of queries).
    """
    single = isinstance(sql, str)
    texts: list[str] = [sql] if isinstance(sql, str) else list(sql)
    parsed = [parse_query(s) for s in texts]
    if not parsed:
        raise QueryError("no query given")
    request = privacy_request(epsilon, delta, ledger, dataset, register=register, family=MECHANISM)
    if not request.dp:
        raise ConfigError("a private query needs epsilon > 0 (--epsilon): its answer is DP")
    eps, dlt = float(request.epsilon), float(request.delta)  # type: ignore[arg-type]
    declared_bounds = _check_bounds(bounds)
    declared_keys = _check_keys(keys)
    from lookalike.schema import as_schema

    the_schema = as_schema(schema) if schema is not None else None
    if the_schema is not None:
        for col in the_schema:
            if col.bounds is not None and col.source("bounds") == "declared" and col.kind.numeric:
                declared_bounds.setdefault(col.name, col.numeric_bounds())
            if col.categories is not None and col.source("categories") == "declared":
                declared_keys.setdefault(col.name, list(col.categories))
    plans = [_plan(q, declared_keys, declared_bounds) for q in parsed]
    thresholded = [p.thresholded for p in plans]
    if any(thresholded):
        rho, delta_disc = plan_budget(eps, dlt)
    else:
        rho, delta_disc = rho_from_epsilon_delta(eps, dlt), 0.0
    rho_q = rho / len(plans)
    delta_q = delta_disc / max(sum(thresholded), 1)
    budget_of = [(rho_q, delta_q if t else 0.0) for t in thresholded]
    reuse_keys = [_reuse_key(p, *b) for p, b in zip(plans, budget_of, strict=True)]
    led = request.ledger
    name = str(request.dataset)
    earlier = _earlier_answers(led, request.dataset) if led is not None else {}
    new = [i for i, k in enumerate(reuse_keys) if k not in earlier]
    if led is not None and new:  # refused before any data is read
        led.check(name, rho=sum(budget_of[i][0] for i in new),
                  delta_approx=sum(budget_of[i][1] for i in new),
                  register=(eps, dlt) if request.register else None)
    with open_source(data, the_schema, engine=engine, spark_master=spark_master,
                     spark_conf=spark_conf, table=table, query=read_query, drop=drop,
                     delimiter=delimiter, decimal=decimal) as src:
        types = [src.check(p.query) for p in plans]
        # keys are respelled from the input's dtypes (a Parquet footer, a CSV's date spelling)
        spelling = src.key_spelling() if any(p.query.keys for p in plans) \
            else KeySpelling(src.schema, None)
        # the preview before any charge: a synthetic table that cannot answer is refused
        previews = None if synthetic is None else _synthetic_answers(synthetic, plans,
                                                                     src.schema)
        fp = src.fingerprint() if led is not None else None
        if led is not None and earlier and not _same_data(led, request.dataset, fp):
            earlier, new = {}, list(range(len(plans)))
        if led is None:
            warnings.warn(f"this epsilon={eps:g} query is recorded in no privacy ledger: nothing "
                          "stops the same data being asked again. Pass ledger=... and dataset=... "
                          "(the CLI always records queries)", UnrecordedSpendWarning, stacklevel=2)
        results: list[QueryResult] = []
        for i, (plan, arg_types) in enumerate(zip(plans, types, strict=True)):
            if i not in new:
                results.append(_from_record(earlier[reuse_keys[i]], plan.query, spelling))
                continue
            rho_i, delta_i = budget_of[i]
            entry = None
            if led is not None:
                entry = led.reserve(name, rho=rho_i, delta_approx=delta_i,
                                    mechanism=MECHANISM, epsilon=eps, delta=dlt,
                                    detail=plan.query.sql[:500], fingerprint=fp,
                                    register=request.register)
            try:
                measured = measure(_in_view(plan, spelling), fetch=src.fetch, source=src.relation, rho=rho_i,
                                   delta=delta_i, arg_types=arg_types,
                                   bounds_engine=functools.partial(src.bounds_engine, plan.query),
                                   sum_function=src.sum_function)
                result = _result(plan, measured, eps, dlt, rho_i, delta_i, len(plans),
                                 spelling)
            except BaseException as e:
                if led is not None and entry is not None:
                    led.settle(entry.id, steps=[], status=f"failed: {type(e).__name__}: {e}"[:300])
                raise
            if led is not None and entry is not None:
                led.settle(entry.id, rho=sum(r["rho"] for r in result.releases),
                           steps=[*result.releases, {"name": "answer", "reuse": reuse_keys[i],
                                                     "result": result.to_dict()}])
                result = _with_entry(result, (str(led.path), name, entry.id))
            results.append(result)
    if previews is not None:
        results = [_with_synthetic(r, p.query, spelling.spell(got, p.query.keys))
                   for r, p, got in zip(results, plans, previews, strict=True)]
    return results[0] if single else results


# ---------------------------------------------------------------------- options
def _check_bounds(bounds: Mapping[str, Any] | None) -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    for name, pair in (bounds or {}).items():
        try:
            lo, hi = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise ConfigError(f"bounds of {name!r} must be two numbers (lo, hi), got {pair!r} "
                              "(CLI: --bounds age=17:90)") from None
        if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
            raise ConfigError(f"bounds of {name!r} must be finite with lo <= hi, got {pair!r}")
        out[str(name)] = (lo, hi)
    return out


def _check_keys(keys: Mapping[str, Sequence[Any]] | None) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for name, values in (keys or {}).items():
        if isinstance(values, str) or not isinstance(values, Sequence) or not values:
            raise ConfigError(f"keys of {name!r} must be a non-empty list of values, got "
                              f"{values!r} (CLI: --keys sex=Female,Male)")
        out[str(name)] = list(dict.fromkeys(values))
    return out


def _plan(q: ParsedQuery, keys: Mapping[str, list[Any]],
          bounds: Mapping[str, tuple[float, float]]) -> QueryPlan:
    by_output = {k.name: keys[k.name] if k.name in keys else keys.get(k.column or "", None)
                 for k in q.keys}
    return plan_query(q, keys={k: v for k, v in by_output.items() if v is not None},
                      bounds={a.arg: bounds.get(a.arg) or bounds[str(a.column)]
                              for a in q.aggregates if a.arg is not None
                              and (a.arg in bounds or a.column in bounds)})


def _reuse_key(plan: QueryPlan, rho: float, delta: float) -> str:
    """What makes two queries identical: the canonical SQL, the budget and declared facts."""
    facts = {"sql": plan.query.canonical, "rho": f"{rho:.12g}", "delta": f"{delta:.12g}",
             "keys": {k: [str(v) for v in vs] for k, vs in (plan.keys or {}).items()},
             "bounds": {k: list(v) for k, v in plan.bounds.items() if v is not None}}
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:32]


def _earlier_answers(ledger: Any, dataset: str | None) -> dict[str, dict[str, Any]]:
    """Released answers of earlier queries on ``dataset``, by reuse key."""
    found: dict[str, dict[str, Any]] = {}
    for entry in ledger.releases(dataset):
        if entry.mechanism != MECHANISM or entry.status != "done":
            continue
        for step in entry.steps:
            if step.get("name") == "answer" and "reuse" in step:
                found[step["reuse"]] = step["result"]
    return found


def _same_data(ledger: Any, dataset: str | None, fp: Any) -> bool:
    try:
        known = ledger.status(dataset).fingerprint
    except ConfigError:
        return False
    return known is None or fp is None or known.same_data(fp)


def _from_record(record: Mapping[str, Any], q: ParsedQuery, spelling: KeySpelling
                 ) -> QueryResult:
    details = pd.DataFrame(record["answers"]).replace({"inf": np.inf, "-inf": -np.inf})
    for c in ("answer", "noise_sd", "low", "high"):
        details[c] = pd.to_numeric(details[c], errors="coerce")
    details = spelling.spell(details, q.keys)  # JSON kept the keys' values, not their dtypes
    sql = q.sql
    layout = record.get("layout", {})
    return QueryResult(sql, _wide(details, layout), details, 0.0, 0.0, 0.0, reused=True,
                       layout=layout,
                       notes=tuple(record.get("notes", ())) + (
                           "answered before: the released answer, returned again at no cost",),
                       releases=())


def _with_entry(result: QueryResult, entry: tuple[str, str, int]) -> QueryResult:
    import dataclasses

    return dataclasses.replace(result, ledger_entry=entry)


# ---------------------------------------------------------------------- answers
def _in_view(plan: QueryPlan, spelling: KeySpelling) -> QueryPlan:
    """``plan`` with its declared keys as the engine's view holds them (``"yes"`` as true)."""
    if plan.keys is None:
        return plan
    import dataclasses

    by_name = {k.name: k for k in plan.query.keys}
    return dataclasses.replace(plan, keys={n: spelling.to_view(by_name[n], v) if n in by_name
                                           else v for n, v in plan.keys.items()})


def _result(plan: QueryPlan, m: Measured, eps: float, dlt: float, rho: float, delta: float,
            n_queries: int, spelling: KeySpelling) -> QueryResult:
    q = plan.query
    rows = []
    for i, group in enumerate(m.groups):
        for agg in q.aggregates:
            answer, sd, low, high, note = _answer(agg.kind, agg.arg, agg.q, i, m)
            rows.append({**{k.name: v for k, v in zip(q.keys, group, strict=True)},
                         "column": agg.name, "answer": answer, "noise_sd": sd, "low": low,
                         "high": high, "note": note})
    details = pd.DataFrame(rows, columns=[*(k.name for k in q.keys), "column", "answer",
                                          "noise_sd", "low", "high", "note"])
    details = spelling.spell(details, q.keys)
    notes = list(m.notes)
    if n_queries > 1:
        notes.append(f"one of {n_queries} queries planned together: each gets an equal share of "
                     "the budget")
    notes.append(f"{len(plan.measurements)} measurement(s), an equal share of the query's "
                 "budget each: " + ", ".join(f"{k} {x}" if x else k for k, x in plan.measurements))
    releases = tuple(r.to_dict() if hasattr(r, "to_dict") else _release_dict(r)
                     for r in m.releases)
    spent = sum(float(r["rho"]) for r in releases)
    from lookalike.privacy.accountant import epsilon_from_rho

    eps_spent = epsilon_from_rho(spent, dlt - delta) if spent > 0 else 0.0
    record: dict[str, Any] = {"columns": list(q.columns), "order": [list(o) for o in q.order],
              "limit": q.limit, "keys": [k.name for k in q.keys],
              "counts": [a.name for a in q.aggregates if a.kind == "count"]}
    wide = _wide(details, record)
    return QueryResult(q.sql, wide, _in_answer_order(details, wide, [k.name for k in q.keys]), eps_spent,
                       dlt, spent, notes=tuple(notes), releases=releases, layout=record)


def _in_answer_order(details: pd.DataFrame, wide: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The details of the groups ``wide`` kept (LIMIT), in its order (ORDER BY)."""
    if not keys:
        return details
    rank = {tuple(map(str, g)): i for i, g in enumerate(wide[keys].itertuples(index=False))}
    pos = [rank.get(tuple(map(str, g))) for g in details[keys].itertuples(index=False)]
    kept = details.assign(__pos=pos).dropna(subset=["__pos"])
    return kept.sort_values("__pos", kind="stable").drop(columns="__pos").reset_index(drop=True)


def _release_dict(r: Any) -> dict[str, Any]:
    return {"name": r.name, "mechanism": r.mechanism, "rho": r.rho, "detail": r.detail,
            "delta": getattr(r, "delta", 0.0)}


def _wide(details: pd.DataFrame, record: Mapping[str, Any]) -> pd.DataFrame:
    """One row per group, one column per aggregate, ordered and limited as the query asks."""
    keys = list(record.get("keys") or [c for c in details.columns if c not in _DETAIL])
    names = list(dict.fromkeys(details["column"]))
    # the details list each group's aggregates together, groups in one order for every one
    wide = details.loc[details["column"] == names[0], keys].reset_index(drop=True) if names \
        else pd.DataFrame(columns=keys)
    if not keys:
        wide = pd.DataFrame(index=pd.RangeIndex(1 if names else 0))
    for name in names:
        answer = details.loc[details["column"] == name, "answer"]
        if name in record.get("counts", ()) and answer.notna().all():
            answer = answer.round().astype("int64")
        wide[name] = answer.to_numpy()
    for name in record.get("columns", ()):
        if name not in wide.columns:  # no group released: the answer has no row
            wide[name] = pd.Series(dtype=float)
    columns = [c for c in record.get("columns", wide.columns) if c in wide.columns]
    wide = wide[columns]
    order = record.get("order") or []
    if order:
        wide = wide.sort_values([o[0] for o in order], ascending=[not o[1] for o in order],
                                kind="stable")
    if record.get("limit") is not None:
        wide = wide.head(int(record["limit"]))
    return wide.reset_index(drop=True)


_DETAIL = {"column", "answer", "noise_sd", "low", "high", "note", "synthetic", "inside"}


def _answer(kind: str, x: str | None, level: float | None, i: int, m: Measured
            ) -> tuple[float, float, float, float, str]:
    nan = float("nan")
    if kind == "count" and x is None:
        key = ("rows", None) if ("rows", None) in m.values else ("keys", None)
        v, s = float(m.values[key][i]), m.sigma[key]
        note = "rows" if key[0] == "rows" else f"rows (released above the threshold {m.threshold})"
        return max(0, round(v)), s, max(0.0, v - Z95 * s), v + Z95 * s, note
    if kind == "count":
        if ("count", x) in m.values:
            v, s = float(m.values[("count", x)][i]), m.sigma[("count", x)]
        else:
            v, s = float(m.values[("cells", x)][i].sum()), m.sigma[("cells", x)] * math.sqrt(3)
        return max(0, round(v)), s, max(0.0, v - Z95 * s), v + Z95 * s, f"rows with {x}"
    bounds = m.bounds.get(str(x))
    if bounds is None:
        return (nan, nan, nan, nan, f"no range of {x} found under DP: too few rows for this "
                "epsilon; declare its bounds (bounds=..., --bounds)")
    lo, hi = bounds
    clip_note, open_low, open_high = _clipping(x, m, i, lo, hi)
    if kind == "sum":
        v, s = float(m.values[("sum", x)][i]), m.sigma[("sum", x)]
        low, high = v - Z95 * s, v + Z95 * s
        return (v, s, -math.inf if open_low else low, math.inf if open_high else high,
                f"sum of {x} clipped to [{lo:g}, {hi:g}]" + clip_note)
    if kind == "avg":
        centred, s_sum = float(m.values[("centred", x)][i]), m.sigma[("centred", x)]
        mid = (lo + hi) / 2
        if ("count", x) in m.values:
            n, s_n = float(m.values[("count", x)][i]), m.sigma[("count", x)]
        else:
            n, s_n = float(m.values[("cells", x)][i].sum()), m.sigma[("cells", x)] * math.sqrt(3)
        if n < 1.0:  # nothing to divide by: the bounds say all there is
            return (mid, nan, lo, hi, f"too few rows with {x} for an average at this epsilon "
                    f"(noisy count {n:.0f}, noise sd {s_n:.3g}): the bounds' midpoint, the "
                    "interval the whole range")
        v = min(hi, max(lo, mid + centred / n))
        sd = math.sqrt(s_sum**2 + ((v - mid) * s_n) ** 2) / n
        low, high = max(lo, v - Z95 * sd), min(hi, v + Z95 * sd)
        return (v, sd, -math.inf if open_low else low, math.inf if open_high else high,
                f"mean of {x} clipped to [{lo:g}, {hi:g}]" + clip_note)
    return _quantile(x, float(level), i, m, lo, hi, clip_note)  # type: ignore[arg-type]


def _clipping(x: str | None, m: Measured, i: int, lo: float, hi: float) -> tuple[str, bool, bool]:
    """What clipping to discovered bounds did to group ``i``, from the cells' noisy counts."""
    if ("cells", x) not in m.values:
        if ("bounds", x) in m.values or x in m.bounds and not {("sum", x), ("centred", x)} & set(
                m.values):
            return "", False, False
        return "; values outside declared bounds count as the bound", False, False
    below, _, above = (float(v) for v in m.values[("cells", x)][i])
    s = m.sigma[("cells", x)]
    open_low, open_high = below > Z95 * s, above > Z95 * s
    parts = []
    if open_low:
        parts.append(f"about {below:.0f} values below {lo:g} were raised to it")
    if open_high:
        parts.append(f"about {above:.0f} values above {hi:g} were lowered to it")
    if not parts:
        return "; bounds found under DP, no clipping told apart from the noise", False, False
    return ("; bounds found under DP: " + ", ".join(parts)
            + " (the interval is open on that side)"), open_low, open_high


def _quantile(x: str, level: float, i: int, m: Measured, lo: float, hi: float,
              clip_note: str) -> tuple[float, float, float, float, str]:
    from lookalike.query._measure import _grid

    cells, width, start = _grid(lo, hi, m.integer.get(x, False))
    sigma = m.sigma[("tree", x)]
    q, low_edge, high_edge, n = tree_quantile(m.values[("tree", x)][i], cells, sigma, level)
    nan = float("nan")
    if n < max(1.0, 2 * sigma):
        return (nan, nan, nan, nan, f"too few rows with {x} for a quantile at this epsilon "
                f"(noisy count {n:.0f})")
    if m.integer.get(x, False) and width == 1.0:  # unit cells centred on the integers
        value = start + 0.5 + min(max(math.ceil(q), 1), cells) - 1
        low = start + 0.5 + math.floor(low_edge)
        high = start + 0.5 + max(math.ceil(high_edge) - 1, 0)
    else:
        value, low, high = start + width * q, start + width * low_edge, start + width * high_edge
    value = float(min(hi, max(lo, value)))
    low, high = float(min(value, max(lo, low))), float(max(value, min(hi, high)))
    return (value, nan, low, high, f"{level:g} quantile of {x} in [{lo:g}, {hi:g}] "
            f"(consistent noisy cumulative counts, sd {sigma:.3g} per tree node)" + clip_note)


# ---------------------------------------------------------------------- the preview
def _synthetic_answers(synthetic: Any, plans: Sequence[QueryPlan], schema: Any
                       ) -> list[pd.DataFrame]:
    """Each query run exactly on the synthetic rows (public: no budget), ORDER BY and LIMIT
    left to the merge. The rows are typed as the real ones are (``schema``: booleans, numbers,
    dates and their formats; no category list and no missing-value rule, which are read from
    the real rows and would filter the synthetic ones), so that the same SQL binds."""
    import dataclasses

    import duckdb
    import sqlglot
    from sqlglot import exp

    from lookalike.io import read_table
    from lookalike.schema import Kind, Schema

    frame = synthetic if isinstance(synthetic, pd.DataFrame) else (
        read_table(synthetic) if isinstance(synthetic, str | os.PathLike) else as_pandas(synthetic))
    typed = Schema(tuple(dataclasses.replace(
        c, nullable=True, categories=None if c.kind is Kind.CATEGORICAL else c.categories)
        for c in schema if c.name in frame.columns))
    out = []
    with open_source(frame, typed) as syn:
        for plan in plans:
            tree = sqlglot.parse_one(plan.query.sql, read="duckdb")
            source = tree.args.get("from") or tree.args["from_"]
            source.this.replace(exp.to_table(syn.relation))
            for arg in ("order", "limit"):
                tree.set(arg, None)
            try:
                got = syn.engine._con.execute(tree.sql("duckdb")).df()
            except duckdb.Error as e:
                msg = str(e).splitlines()[0]
                raise ConfigError(f"the synthetic table cannot answer {plan.query.sql!r}: {msg} "
                                  "(--synthetic)") from None
            got.columns = list(plan.query.columns)  # DuckDB names unaliased aggregates its way
            out.append(got)
    return out


def _with_synthetic(result: QueryResult, q: ParsedQuery, got: pd.DataFrame) -> QueryResult:
    """``result`` with the synthetic answer ``got`` beside each DP answer."""
    import dataclasses

    keys = [k.name for k in q.keys]
    long = got.melt(id_vars=keys, value_vars=[a.name for a in q.aggregates], var_name="column",
                    value_name="synthetic")
    details = result.details.drop(columns=[c for c in ("synthetic", "inside")
                                           if c in result.details.columns])
    if keys:
        for k in keys:  # match keys as text: the DP side may hold declared spellings
            long[k + "\0"] = long[k].astype(str)
            details[k + "\0"] = details[k].astype(str)
        merged = details.merge(long.drop(columns=keys), on=[k + "\0" for k in keys] + ["column"],
                               how="left").drop(columns=[k + "\0" for k in keys])
    else:
        merged = details.merge(long, on="column", how="left")
    merged["synthetic"] = pd.to_numeric(merged["synthetic"], errors="coerce")
    counts = merged["column"].isin([a.name for a in q.aggregates if a.kind == "count"])
    merged.loc[counts, "synthetic"] = merged.loc[counts, "synthetic"].fillna(0)  # no such rows
    with np.errstate(invalid="ignore"):
        inside = (merged["synthetic"] >= merged["low"]) & (merged["synthetic"] <= merged["high"])
    merged["inside"] = inside.astype(object).where(
        merged["low"].notna() & merged["synthetic"].notna(), None)
    order = [c for c in merged.columns if c != "note"] + ["note"]
    return dataclasses.replace(result, details=merged[order])
