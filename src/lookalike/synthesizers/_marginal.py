"""Shared plumbing of the marginal-based DP synthesizers (MST, AIM, PrivBayes).

The fit path itself (validate, check the budget, read, reserve, settle) is the base class's,
with :mod:`lookalike.privacy.budget`. What a marginal family adds:

1. its budget plan: ``discover`` (``discovery_share`` of ρ; nothing when every fact is declared)
   and ``measure`` (the rest);
2. the data through an engine: in memory, or pushed down to DuckDB over a file (rows never
   enter Python);
3. the domain discovered with DP (:mod:`lookalike.privacy.discovery`), declared facts for free;
4. noisy marginals measured by the family, each release recorded in the fit's budget;
5. a model of noisy statistics and parameters only (no rows).

With ``epsilon=None`` the same steps run on exact counts: a non-DP comparison fit.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lookalike.errors import ConfigError
from lookalike.graphical import Measurement
from lookalike.marginals.engine import Engine
from lookalike.privacy.accountant import Release
from lookalike.privacy.budget import Budget, BudgetPlan
from lookalike.privacy.discovery import discover_domain, discovery_columns
from lookalike.privacy.mechanisms import gaussian_counts
from lookalike.schema import as_schema
from lookalike.synthesizers._domain import encode_domain
from lookalike.synthesizers._source import Source
from lookalike.synthesizers.base import Conditions, Synthesizer
from lookalike.transform.encoder import TableEncoder

__all__ = ["MarginalSynthesizer"]


class MarginalSynthesizer(Synthesizer):
    """Base of MST, AIM and PrivBayes: DP fits from noisy marginals through an engine.

    Subclasses implement ``_fit_marginals(engine, encoder, accountant, rng)`` (``accountant`` is
    the fit's :class:`~lookalike.privacy.budget.Budget`, None in non-DP fits, where counts are exact; families that measure every 1-way first
    override ``_one_way_rho`` and find those measurements in ``self._one_ways``) and ``_sample_codes(n, rng)``, and list their
    state in ``_model_state``/``_load_model_state``.
    """

    supports_dp = True

    # hyper-parameters every family has; subclasses call this from their own __init__
    def _base_params(self, n_bins: int, discovery_share: float, engine: str) -> None:
        self.n_bins = n_bins
        self.discovery_share = discovery_share
        self.engine = engine

    def _check_params(self) -> None:
        if not isinstance(self.n_bins, int) or self.n_bins < 2:
            raise ConfigError(f"n_bins must be an integer >= 2, got {self.n_bins!r}")
        if not (isinstance(self.discovery_share, (int, float)) and 0 < self.discovery_share < 1):
            raise ConfigError(
                f"discovery_share must lie strictly between 0 and 1, got {self.discovery_share!r}"
            )
        if self.engine not in ("auto", "numpy", "duckdb"):
            raise ConfigError(f"engine must be 'auto', 'numpy' or 'duckdb', got {self.engine!r}")

    # ----------------------------------------------------------------- fit
    def _budget_plan(self, epsilon: float, delta: float) -> BudgetPlan:
        """``discover`` (the domain, ``discovery_share`` of ρ; nothing when it is all declared)
        and ``measure`` (the family's selections and noisy marginals: the rest)."""
        return BudgetPlan.split(epsilon, delta, discover=self.discovery_share,
                                measure=1 - self.discovery_share)

    def _open(self, data: Any, schema: Any) -> Source:
        """Rows in memory, or (``engine='duckdb'``, or files over 1 GB) left inside DuckDB."""
        use_duckdb = self.engine == "duckdb" or (
            self.engine == "auto" and not isinstance(data, pd.DataFrame) and _is_big_file(data)
        )
        if not use_duckdb:
            return super()._open(data, schema)
        from lookalike.marginals.duckdb import DuckDBEngine

        declared = None if schema is None else as_schema(schema)
        return Source.of_engine(DuckDBEngine(data, declared))

    def _learn(self, source: Source, budget: Budget | None, rng: np.random.Generator) -> str:
        """Discover the domain (DP or declared), measure 1-ways, let the family fit."""
        engine = source.count_engine()
        schema_ = source.schema
        rho_disc = rho_one = None
        if budget is not None:
            cats, nums = discovery_columns(schema_)
            rho_disc = budget.plan.rho_of("discover") if (cats or nums) else 0.0
            rho_one = self._one_way_rho(budget.plan.rho - rho_disc, len(schema_.modelled))
        found = encode_domain(discover_domain(engine, schema_, rho=rho_disc,
                                delta=budget.plan.delta_discovery if budget is not None else 0.0,
                                n_bins=self.n_bins, one_way_rho=rho_one))
        engine.bind(found.encoder)
        if budget is not None:
            budget.add(found.releases)
        self.schema_ = found.schema
        self.encoder_ = found.encoder
        self.discovery_ = found.columns
        self._rho_family = None if budget is None else budget.plan.rho - rho_disc
        self._one_ways = measure_one_ways(engine, found, budget) if found.one_way_rho else None
        self._fit_marginals(engine, found.encoder, budget, rng)
        # in DP fits the row count is private: the default sample size is the model's noisy total
        self.n_estimate_ = max(1, int(round(self._total())))
        if budget is None:
            return "fitted on exact counts"
        return "rho-zCDP accounting"

    # ----------------------------------------------------------------- sample
    def _sample(self, n: int, rng: np.random.Generator, conditions: Conditions | None) -> pd.DataFrame:
        return self.encoder_.decode(self._sample_codes(n, rng), rng)

    # ----------------------------------------------------------------- to subclass
    def _one_way_rho(self, rho: float, d: int) -> float | None:
        """ρ of each 1-way measurement, for families that measure every 1-way first (MST,
        AIM) out of ``rho``, the budget left after discovery; None: the family does not."""
        return None

    def _fit_marginals(self, engine: Engine, encoder: TableEncoder, accountant: Budget | None,
                       rng: np.random.Generator) -> None:
        raise NotImplementedError

    def _sample_codes(self, n: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def _total(self) -> float:
        """The model's (noisy) number of rows; families without ``model_.total`` override it."""
        return float(self.model_.total)

    def _model_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        raise NotImplementedError

    def _load_model_state(self, state: dict, arrays: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    # ----------------------------------------------------------------- persistence
    def _get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        metas, arrays = self.encoder_.to_state()
        state, model_arrays = self._model_state()
        arrays.update({f"model.{k}": v for k, v in model_arrays.items()})
        meta = {"encoder": metas, "model": state, "n_estimate": self.n_estimate_}
        return meta, arrays

    def _set_state(self, state: dict, arrays: dict[str, np.ndarray]) -> None:
        self.encoder_ = TableEncoder.from_state(state["encoder"], arrays, self.schema_)
        self.n_estimate_ = state.get("n_estimate")
        model_arrays = {k[6:]: v for k, v in arrays.items() if k.startswith("model.")}
        self._load_model_state(state["model"], model_arrays)


def measure_one_ways(engine: Engine, found, accountant: Budget) -> list[Measurement]:
    """Every column's 1-way marginal: a plain noisy count over its codes, combined cell by cell
    (inverse-variance weights) with what discovery already released about the same cells."""
    out = []
    exact = engine.marginals([(name,) for name in found.encoder.names])  # one scan in DuckDB
    for name in found.encoder.names:
        rho = found.one_way_rho[name]
        sigma = math.sqrt(1 / (2 * rho))
        noisy = gaussian_counts(exact[(name,)], sigma=sigma)
        accountant.spend(f"1-way {name}", noisy.rho, mechanism="discrete_gaussian",
                         detail=f"sigma={sigma:.4g}")
        values, var = noisy.values.astype(float), np.full(noisy.values.shape, sigma**2)
        if name in found.estimates:
            est, est_var = found.estimates[name]
            have = np.isfinite(est)
            w = np.where(have, var / np.where(have, var + est_var, 1.0), 0.0)
            values = np.where(have, (1 - w) * values + w * np.nan_to_num(est), values)
            var = np.where(have, var * est_var / np.where(have, var + est_var, 1.0), var)
        out.append(Measurement((name,), values, float(np.sqrt(var.mean()))))
    return out


def _is_big_file(data: Any) -> bool:
    """Files over 1 GB go through DuckDB so that the rows never enter Python memory."""
    try:
        return isinstance(data, (str, os.PathLike)) and Path(data).is_file() and (
            Path(data).stat().st_size > 1 << 30
        )
    except OSError:
        return False


def gaussian_sigma_for(rho: float, n_queries: int) -> float:
    """σ that makes ``n_queries`` Gaussian count releases of sensitivity 1 cost ``rho`` together."""
    return math.sqrt(n_queries / (2 * rho))


__all__ += ["gaussian_sigma_for", "Release"]
