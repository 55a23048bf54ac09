"""One-call entry points shared by the Python API and the CLI.

>>> import lookalike
>>> real = lookalike.load_demo().head(1000)
>>> rows = lookalike.synthesize(real, 10, synthesizer="independent", seed=0)
>>> rows.shape
(10, 15)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from lookalike._rng import Seed, as_rng
from lookalike.errors import ColumnMismatchError
from lookalike.io import read_table
from lookalike.schema import Schema, resolve_schema
from lookalike.synthesizers import Synthesizer, get_synthesizer

__all__ = ["fit", "synthesize", "load_data", "precheck_budget"]


def precheck_budget(
    *,
    epsilon: float | None = None,
    delta: float | None = None,
    ledger: Any = None,
    dataset: str | None = None,
    register: bool = False,
) -> None:
    """Refuse a DP fit that its dataset's budget cannot pay for, before any data is read.

    With ``register`` a dataset the ledger does not know yet gets this fit's (ε, δ) as its limit.
    The fit itself charges the ledger atomically; this check only fails early.
    """
    if epsilon is None or ledger is None:
        return
    from lookalike.errors import BudgetExceededError, ConfigError
    from lookalike.synthesizers._marginal import DEFAULT_DELTA, plan_budget

    delta = DEFAULT_DELTA if delta is None else delta
    rho, delta_disc = plan_budget(epsilon, delta)
    if not dataset:
        raise ConfigError("a ledger needs the dataset's name (dataset=..., --dataset)")
    if register and dataset not in ledger.datasets():
        ledger.set_limit(dataset, epsilon=epsilon, delta=delta)
    try:
        ledger.check(dataset, rho=rho, delta_approx=delta_disc)
    except BudgetExceededError:
        st = ledger.status(dataset)
        raise BudgetExceededError(
            f"privacy budget of dataset {dataset!r} exceeded: spent epsilon={st.epsilon_spent:.4g} "
            f"of the limit epsilon={st.epsilon_limit:g} at delta={st.delta:g}; this fit asks for "
            f"epsilon={epsilon:g}, delta={delta:g}. Raise the limit with `lookalike budget "
            f"{dataset} --set-epsilon ...` or fit with a smaller epsilon"
        ) from None


def load_data(
    source: Any,
    *,
    drop: Iterable[str] = (),
    read_options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Read ``source`` (path, URL, DataFrame, ...) and drop the named columns."""
    df = read_table(source, **dict(read_options or {}))
    drop = list(drop)
    unknown = [c for c in drop if c not in df.columns]
    if unknown:
        raise ColumnMismatchError(f"cannot drop {unknown}: no such columns; columns are {list(df.columns)}")
    return df.drop(columns=drop)


def fit(
    data: Any,
    synthesizer: str = "cart",
    *,
    schema: Schema | Mapping | str | os.PathLike | None = None,
    drop: Iterable[str] = (),
    read_options: Mapping[str, Any] | None = None,
    seed: Seed = None,
    epsilon: float | None = None,
    delta: float | None = None,
    ledger: Any = None,
    dataset: str | None = None,
    register: bool = False,
    **params: Any,
) -> Synthesizer:
    """Read ``data``, infer or apply a schema, and fit synthesizer ``synthesizer``.

    DP fits (``epsilon`` given) with a ``ledger`` are checked against the ``dataset``'s budget
    before the data is read and charged atomically by the fit.
    """
    model = get_synthesizer(synthesizer, **params)
    dp: dict[str, Any] = {}
    if epsilon is not None:
        precheck_budget(epsilon=epsilon, delta=delta, ledger=ledger, dataset=dataset, register=register)
        dp = {"epsilon": epsilon, "delta": delta}
        if ledger is not None:
            dp.update(ledger=ledger, dataset=dataset)
    elif ledger is not None or delta is not None:
        from lookalike.errors import ConfigError

        raise ConfigError("delta and ledger apply to DP fits only: give epsilon as well")
    if getattr(model, "engine", None) == "duckdb" and isinstance(data, (str, os.PathLike)):
        if drop or read_options:
            from lookalike.errors import ConfigError

            raise ConfigError("engine=duckdb reads the file itself: --drop/--table/--query/--encoding "
                              "do not apply; declare the columns in --schema instead")
        return model.fit(data, schema, seed=seed, **dp)  # rows stay inside DuckDB
    df = load_data(data, drop=drop, read_options=read_options)
    return model.fit(df, resolve_schema(df, schema), seed=seed, **dp)


def synthesize(
    data: Any,
    n: int | None = None,
    *,
    synthesizer: str = "cart",
    schema: Schema | Mapping | str | os.PathLike | None = None,
    drop: Iterable[str] = (),
    conditions: Mapping[str, Any] | None = None,
    read_options: Mapping[str, Any] | None = None,
    seed: Seed = None,
    **params: Any,
) -> pd.DataFrame:
    """Fit and sample in one go; ``n`` defaults to the number of input rows."""
    rng = as_rng(seed)
    model = fit(data, synthesizer, schema=schema, drop=drop, read_options=read_options, seed=rng, **params)
    return model.sample(n or model.n_rows_ or model.n_estimate_, conditions=conditions, seed=rng)
