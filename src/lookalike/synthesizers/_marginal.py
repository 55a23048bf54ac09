"""Shared plumbing of the marginal-based DP synthesizers (MST, AIM, PrivBayes).

A fit here follows the privacy contract step by step:

1. validate ε, δ and the hyper-parameters; turn (ε, δ) into a zCDP budget ρ (a share of δ is
   set aside for thresholded category discovery);
2. charge the whole budget to the persistent ledger, if one is given, *before* any data is read:
   an over-spending fit is refused there;
3. open the data through an engine (in memory, or DuckDB pushdown over a file);
4. discover the domain with DP (:mod:`lookalike.privacy.discovery`), declared facts for free;
5. let the family measure noisy marginals through one :class:`~lookalike.privacy.accountant.Accountant`;
6. keep only noisy statistics and model parameters (no rows) and a privacy report listing every
   release, what was declared public and what was discovered.

With ``epsilon=None`` the same steps run on exact counts: a non-DP comparison fit.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd

from lookalike._rng import Seed, as_rng
from lookalike.errors import ColumnError, ConfigError
from lookalike.graphical import Measurement
from lookalike.marginals.engine import Engine, NumpyEngine
from lookalike.privacy.accountant import (
    Accountant,
    Release,
    check_epsilon_delta,
    delta_from_rho,
    epsilon_from_rho,
    rho_from_epsilon_delta,
)
from lookalike.privacy.discovery import discover_domain, discovery_columns
from lookalike.privacy.mechanisms import gaussian_counts
from lookalike.schema import Kind, Schema, as_schema, resolve_schema
from lookalike.synthesizers.base import Conditions, Synthesizer
from lookalike.transform.encoder import TableEncoder

__all__ = ["MarginalSynthesizer", "DEFAULT_DELTA", "plan_budget"]

DEFAULT_DELTA = 1e-9
DISCOVERY_DELTA_SHARE = 0.1  # share of δ set aside for thresholded category discovery


def plan_budget(epsilon: float, delta: float) -> tuple[float, float]:
    """(ρ for the fit, δ reserved for category discovery) that together give (ε, δ)-DP.

    Approximate zCDP composes by adding ρ and adding δ; converting ρ at δ − δ_discovery and
    adding δ_discovery back gives exactly (ε, δ).
    """
    check_epsilon_delta(epsilon, delta)
    delta_disc = delta * DISCOVERY_DELTA_SHARE
    return rho_from_epsilon_delta(epsilon, delta - delta_disc), delta_disc


def _open_ledger(ledger: Any):
    from lookalike.privacy.ledger import PrivacyLedger

    if ledger is None or isinstance(ledger, PrivacyLedger):
        return ledger
    if isinstance(ledger, (str, os.PathLike)):
        return PrivacyLedger(ledger)
    raise ConfigError(f"ledger must be a PrivacyLedger or a path, got {type(ledger).__name__}")


def _fingerprint(data: Any) -> str | None:
    from lookalike.privacy.ledger import fingerprint

    if isinstance(data, pd.DataFrame):
        hashed = pd.util.hash_pandas_object(data, index=False).to_numpy()
        return fingerprint(hashed.tobytes() + ",".join(map(str, data.columns)).encode())
    if isinstance(data, (str, os.PathLike)) and Path(data).is_file():
        return fingerprint(data)
    return None


class MarginalSynthesizer(Synthesizer):
    """Base of MST, AIM and PrivBayes: DP fits from noisy marginals through an engine.

    Subclasses implement ``_fit_marginals(engine, encoder, accountant, rng)`` (``accountant`` is
    None in non-DP fits, where counts are exact; families that measure every 1-way first
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
    def fit(
        self,
        data: Any,
        schema: Schema | Mapping | str | os.PathLike | None = None,
        *,
        epsilon: float | None = None,
        delta: float | None = None,
        ledger: Any = None,
        dataset: str | None = None,
        seed: Seed = None,
    ) -> Self:
        """Fit from noisy marginals of ``data`` at (ε, δ)-DP; ``epsilon=None``: exact, no DP.

        ``ledger`` (a :class:`~lookalike.privacy.ledger.PrivacyLedger` or its path) with
        ``dataset`` (the name the budget is kept under) is charged the whole (ε, δ) before any
        data is read; a fit that would exceed the limit is refused. ``delta`` defaults to 1e-9.
        """
        self._check_params()
        start = time.perf_counter()
        rng = as_rng(seed)
        dp_mode = epsilon is not None
        rho_total = delta_disc = None
        entry, ledger = None, _open_ledger(ledger)
        if dp_mode:
            delta = DEFAULT_DELTA if delta is None else delta
            rho_total, delta_disc = plan_budget(epsilon, delta)
            if ledger is not None:
                if not dataset:
                    raise ConfigError("a ledger needs the dataset's name (dataset=..., --dataset)")
                ledger.status(dataset)  # no limit yet: a clear error, nothing read
                entry = ledger.spend(
                    dataset,
                    rho=rho_total,
                    delta_approx=delta_disc,
                    mechanism=self.name,
                    epsilon=float(epsilon),
                    delta=float(delta),
                    detail=f"{self.name} fit",
                    data_fingerprint=_fingerprint(data),
                )
        elif delta is not None or ledger is not None:
            raise ConfigError("delta and ledger apply to DP fits only: give epsilon as well")

        engine, schema_, frame = self._open(data, schema)
        rho_disc = rho_one = None
        if dp_mode:
            cats, nums = discovery_columns(schema_)
            rho_disc = rho_total * self.discovery_share if (cats or nums) else 0.0
            rho_one = self._one_way_rho(rho_total - rho_disc, len(schema_.modelled))
        found = discover_domain(engine, schema_, rho=rho_disc, delta=delta_disc or 0.0,
                                n_bins=self.n_bins, one_way_rho=rho_one)
        engine.bind(found.encoder)
        accountant = None
        if dp_mode:
            accountant = Accountant(rho_budget=rho_total)
            for r in found.releases:
                accountant.spend(r.name, r.rho, mechanism=r.mechanism, detail=r.detail)
        self.schema_ = found.schema
        self.encoder_ = found.encoder
        self.conform_actions_ = []
        self._rho_family = None if not dp_mode else rho_total - rho_disc
        self._one_ways = measure_one_ways(engine, found, accountant) if found.one_way_rho else None
        self._fit_marginals(engine, found.encoder, accountant, rng)
        self.n_rows_ = None if dp_mode else _exact_rows(engine, found.encoder)
        # in DP fits the row count is private: the default sample size is the model's noisy total
        self.n_estimate_ = max(1, int(round(self._total())))
        self.fit_seconds_ = time.perf_counter() - start
        self.seed_ = seed if isinstance(seed, int) else None
        self.privacy_ = self._privacy_report(epsilon, delta, rho_total, delta_disc, found, accountant)
        if entry is not None:
            ledger.annotate(entry.id, steps=self.privacy_["releases"])
            self.ledger_entry_ = (str(ledger.path), dataset, entry.id)
        self._real_ids = {}
        if frame is not None:
            self._real_ids = {
                c.name: set(frame[c.name].dropna().tolist())
                for c in self.schema_.columns
                if c.kind is Kind.IDENTIFIER
            }
        return self

    def _open(self, data: Any, schema: Any) -> tuple[Engine, Schema, pd.DataFrame | None]:
        """An engine over ``data`` and its schema (kinds from the table's structure)."""
        use_duckdb = self.engine == "duckdb" or (
            self.engine == "auto" and not isinstance(data, pd.DataFrame) and _is_big_file(data)
        )
        if use_duckdb:
            from lookalike.marginals.duckdb import DuckDBEngine

            declared = None if schema is None else as_schema(schema)
            engine = DuckDBEngine(data, declared)
            return engine, engine.schema, None
        from lookalike.synthesizers.base import _as_frame

        frame = _as_frame(data)
        schema_ = resolve_schema(frame, schema)
        actions: list[str] = []
        frame = schema_.conform(frame, actions=actions)
        self.conform_notes_ = actions
        if not schema_.modelled:
            raise ColumnError("no column to model: every column is an identifier or free text")
        return NumpyEngine(frame, schema_), schema_, frame

    def _privacy_report(self, epsilon, delta, rho_total, delta_disc, found, accountant) -> dict:
        declared = {c.name: sorted(f for f, s in c.sources.items() if s == "declared") for c in self.schema_.modelled}
        report: dict = {
            "differentially_private": epsilon is not None,
            "discovery": found.columns,
            "declared_public": {k: v for k, v in declared.items() if v},
        }
        if epsilon is None:
            report["guarantee"] = "none: fitted on exact counts (epsilon=None)"
            report["releases"] = []
            return report
        rho_spent = accountant.spent
        d_used = sum(r.delta for r in found.releases)
        eps_spent = epsilon_from_rho(rho_spent, delta - delta_disc) if rho_spent > 0 else 0.0
        report.update(
            epsilon=float(epsilon),
            delta=float(delta),
            rho_budget=rho_total,
            rho_spent=rho_spent,
            delta_discovery=d_used,
            epsilon_spent=eps_spent,
            delta_total=d_used + (delta_from_rho(rho_spent, epsilon) if rho_spent else 0.0),
            guarantee=f"({epsilon:g}, {delta:g})-differential privacy (rho-zCDP accounting)",
            releases=[
                {"name": r.name, "mechanism": r.mechanism, "rho": r.rho, "delta": r.delta, "detail": r.detail}
                for r in [*found.releases, *accountant.releases[len(found.releases):]]
            ],
        )
        return report

    # ----------------------------------------------------------------- sample
    def _sample(self, n: int, rng: np.random.Generator, conditions: Conditions | None) -> pd.DataFrame:
        return self.encoder_.decode(self._sample_codes(n, rng), rng)

    # ----------------------------------------------------------------- to subclass
    def _one_way_rho(self, rho: float, d: int) -> float | None:
        """ρ of each 1-way measurement, for families that measure every 1-way first (MST,
        AIM) out of ``rho``, the budget left after discovery; None: the family does not."""
        return None

    def _fit_marginals(self, engine: Engine, encoder: TableEncoder, accountant: Accountant | None,
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
        meta = {"encoder": metas, "model": state, "privacy": self.privacy_, "n_estimate": self.n_estimate_}
        return meta, arrays

    def _set_state(self, state: dict, arrays: dict[str, np.ndarray]) -> None:
        self.encoder_ = TableEncoder.from_state(state["encoder"], arrays, self.schema_)
        self.n_estimate_ = state.get("n_estimate")
        self.privacy_ = state.get("privacy", {})
        model_arrays = {k[6:]: v for k, v in arrays.items() if k.startswith("model.")}
        self._load_model_state(state["model"], model_arrays)

    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        out = super().save(path, overwrite=overwrite)
        entry = getattr(self, "ledger_entry_", None)
        if entry is not None:
            from lookalike.privacy.ledger import PrivacyLedger

            PrivacyLedger(entry[0]).attach_model(entry[2], str(Path(out).resolve()))
        return out


def measure_one_ways(engine: Engine, found, accountant: Accountant) -> list[Measurement]:
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


def _exact_rows(engine: Engine, encoder: TableEncoder) -> int:
    return int(engine.marginal((encoder.names[0],)).sum())


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
