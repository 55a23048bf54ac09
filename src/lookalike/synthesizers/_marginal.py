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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lookalike.errors import ConfigError
from lookalike.graphical import Measurement
from lookalike.marginals.engine import Engine
from lookalike.privacy.accountant import Release
from lookalike.privacy.budget import Budget, BudgetPlan
from lookalike.privacy.discovery import (
    COUNT_SHARE,
    SHARE_RANGE,
    DiscoveryBudget,
    adaptive_share,
    discover_domain,
    discovery_columns,
)
from lookalike.privacy.mechanisms import gaussian_counts
from lookalike.schema import Schema, as_schema
from lookalike.synthesizers._domain import (
    SUPPORT_Z,
    doubtful_codes,
    encode_domain,
    unsupported_codes,
)
from lookalike.synthesizers._source import Source
from lookalike.synthesizers.base import Synthesizer
from lookalike.synthesizers.conditions import Conditions, code_weights, decode_conditioned
from lookalike.transform.encoder import ColumnCodec, TableEncoder

__all__ = ["MarginalSynthesizer"]

SUPPORT_DRAWS = 20_000  # model draws that estimate each column's code shares


class MarginalSynthesizer(Synthesizer):
    """Base of MST, AIM and PrivBayes: DP fits from noisy marginals through an engine.

    Subclasses implement ``_fit_marginals(engine, encoder, accountant, rng)`` (``accountant`` is
    the fit's :class:`~lookalike.privacy.budget.Budget`, None in non-DP fits, where counts are exact; families that measure every 1-way first
    override ``_one_way_rho`` and find those measurements in ``self._one_ways``) and ``_sample_codes(n, rng)``, and list their
    state in ``_model_state``/``_load_model_state``.
    """

    supports_dp = True
    native_conditions = True
    exact_conditions = True
    #: the family measures every 1-way after discovery (MST, AIM); without (PrivBayes) a
    #: positive ``_one_way_rho`` only buys discovery's finer histograms and lower thresholds
    measures_one_ways = True

    # hyper-parameters every family has; subclasses call this from their own __init__
    def _base_params(self, n_bins: int, discovery_share: float, engine: str) -> None:
        self.n_bins = n_bins
        self.discovery_share = discovery_share
        self.engine = engine

    def _check_params(self) -> None:
        if not isinstance(self.n_bins, int) or self.n_bins < 2:
            raise ConfigError(f"n_bins must be an integer >= 2, got {self.n_bins!r}")
        if self.discovery_share is not None and not (
                isinstance(self.discovery_share, (int, float)) and 0 < self.discovery_share < 1):
            raise ConfigError(
                f"discovery_share must lie strictly between 0 and 1 (or None: sized to the "
                f"table), got {self.discovery_share!r}"
            )
        if self.engine not in ("auto", "numpy", "duckdb", "spark"):
            raise ConfigError(f"engine must be 'auto', 'numpy', 'duckdb' or 'spark', got "
                              f"{self.engine!r}")

    # ----------------------------------------------------------------- fit
    def _budget_plan(self, epsilon: float, delta: float) -> BudgetPlan:
        """``discover`` (the domain, ``discovery_share`` of ρ; nothing when it is all declared)
        and ``measure`` (the family's selections and noisy marginals: the rest). With
        ``discovery_share=None`` the split is made during the fit from a noisy row count
        (:func:`~lookalike.privacy.discovery.adaptive_share`): the plan states its largest
        discovery share; the releases record the split made."""
        share = SHARE_RANGE[1] if self.discovery_share is None else self.discovery_share
        return BudgetPlan.split(epsilon, delta, discover=share, measure=1 - share)

    def _open(self, data: Any, schema: Any) -> Source:
        """Rows in memory, or left where they are: inside DuckDB (``engine='duckdb'``, or files
        over 1 GB), or inside Spark (``engine='spark'``, or a Spark DataFrame)."""
        from lookalike.marginals.spark import is_spark_frame

        if self.engine == "spark" or is_spark_frame(data):
            if self.engine not in ("spark", "auto"):
                raise ConfigError(f"a Spark DataFrame stays in Spark: engine='spark' (or 'auto') "
                                  f"counts it there, engine={self.engine!r} cannot read it")
            from lookalike.marginals.spark import SparkEngine, spark_frame

            frame, label = spark_frame(data)
            declared = None if schema is None else as_schema(schema)
            return Source.of_engine(SparkEngine(frame, declared, label=label))
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
        self._n_noisy = None
        delta_disc = 0.0
        if budget is not None:
            self._n_noisy = self._noisy_rows(engine, budget)
            split = self._discovery_budget(schema_, self._n_noisy, budget.plan, budget.spent)
            rho_disc, delta_disc, rho_one = split.rho, split.delta, split.one_way_rho
        found = encode_domain(discover_domain(engine, schema_, rho=rho_disc, delta=delta_disc,
                                n_bins=self.n_bins, one_way_rho=rho_one, n_rows=self._n_noisy))
        engine.bind(found.encoder)
        if budget is not None:
            budget.add(found.releases)
        self.schema_ = found.schema
        self.encoder_ = found.encoder
        self.discovery_ = found.columns
        self._rho_family = None if budget is None else budget.plan.rho - rho_disc
        self._one_way_var: dict[str, np.ndarray] = {}
        self._measured: list[Measurement] = []  # what the family measured (mst, aim set it)
        self._one_ways = (measure_one_ways(engine, found, budget, self._one_way_var)
                          if found.one_way_rho and self.measures_one_ways else None)
        self._fit_marginals(engine, found.encoder, budget, rng)
        # in DP fits the row count is private: the default sample size is the model's noisy total
        self.n_estimate_ = max(1, int(round(self._total())))
        if budget is None:
            self.support_ = self._exact_support(engine, rng)
            return "fitted on exact counts"
        self.support_ = self._support(rng)
        return "rho-zCDP accounting"

    def _discovery_budget(self, schema: Schema, n_rows: float, plan: BudgetPlan,
                          spent: float) -> DiscoveryBudget:
        """What discovery gets on about ``n_rows`` rows once ``spent`` of ``plan``'s ρ is spent
        (the noisy row count): ``discovery_share`` of ρ (None: sized to the table,
        :func:`~lookalike.privacy.discovery.adaptive_share`; nothing when every fact is
        declared), and the 1-way ρ it may borrow. The fit and the DP plan of ``lookalike
        inspect`` both ask this."""
        cats, nums = discovery_columns(schema)
        n_paid = len(cats) + len(nums)
        share = (self.discovery_share if self.discovery_share is not None
                 else adaptive_share(n_rows, n_paid, plan.rho))
        rho_disc = share * plan.rho if n_paid else 0.0
        rho_one = self._one_way_rho(max(0.0, plan.rho - spent) - rho_disc, len(schema.modelled))
        return DiscoveryBudget(share if n_paid else 0.0, rho_disc, plan.delta_discovery, rho_one)

    def _noisy_rows(self, engine: Engine, budget: Budget) -> float:
        """The row count with discrete Gaussian noise (``COUNT_SHARE`` of ρ): it sizes the
        discovery share (``discovery_share=None``) and the warning of columns too small to
        discover."""
        rho_n = COUNT_SHARE * budget.plan.rho
        sigma = 1 / math.sqrt(2 * rho_n)
        noisy = gaussian_counts([engine.n_rows()], sigma=sigma)
        budget.spend("row count", noisy.rho, mechanism="discrete_gaussian",
                     detail=f"sizes domain discovery; sigma={sigma:.4g}")
        return max(float(noisy.values[0]), 1.0)

    def _support(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Per column whose missing or "other" code the released counts cannot tell from zero:
        the probabilities of its codes with those codes at 0 (sampling never draws them).

        Post-processing of the model (no data read, no cost). A missing state or an "other"
        category exists in every DP domain whose facts were not declared, because discovery
        cannot know they are empty; the model then gives them the noise of their measurements,
        and a column with no missing value came out with 0.5–8% missing values (and integers
        turned to floats). A code is kept when its model count reaches ``SUPPORT_Z`` (4)
        standard deviations of the noise on that count (:meth:`_code_sd`; the rule of
        :func:`~lookalike.synthesizers._domain.unsupported_codes`, which the neural families
        apply to their calibration counts): a code no row holds
        passes with probability about 3·10⁻⁵, while a real missing state is lost only below 4σ
        (at ε = 1, about 0.8% of Adult's 26,049 rows).
        """
        return self._support_where(self._unsupported, rng)

    def _unsupported(self, name: str, codec: ColumnCodec, p: np.ndarray) -> list[int]:
        """The doubtful codes of one column (model code shares ``p``) the released counts
        cannot tell from zero: the measurements' own unbiased estimate where there is one,
        else the model's count, against 4σ of the noise on it."""
        doubtful = doubtful_codes(codec)
        sds = {c: self._code_sd(name, c) for c in doubtful}
        doubtful = [c for c in doubtful if sds[c] is not None]
        if not doubtful:
            return []
        sd = np.zeros(codec.size)
        sd[doubtful] = [sds[c] for c in doubtful]
        counts = p * self.n_estimate_
        for c in doubtful:
            evidence = self._code_evidence(name, c)
            if evidence is not None:
                counts[c], sd[c] = evidence
                sd[c] *= self._tail_factor(name, c)
        gone = unsupported_codes(counts, sd, doubtful)
        if len(gone) == len(doubtful) == codec.size:
            # no category was discovered: the column's rows are in "other" or missing, and the
            # sampler cannot drop both (it kept both, and vd_barley's variety, 120 rows with no
            # missing value, came out 3.4% missing in an mst fit): the stronger one stays
            best = _strongest(gone, counts, sd)
            return [c for c in gone if c != best]
        if codec.fallback in gone and len(gone) == len(doubtful) > 1:
            return self._other_kept(name, codec.fallback, gone, counts, sd)
        return gone

    def _other_kept(self, name: str, other: int, gone: list[int], counts: np.ndarray,
                    sd: np.ndarray) -> list[int]:
        """``gone`` (a column's "other" and missing state, each under 4σ alone) less "other"
        when their sum clears 4σ of the noise on the sum and "other" holds the stronger
        evidence of the two.

        The released counts know the sum far better than either part: the table's total less
        the column's kept categories, which discovery's threshold release counted with most of
        the column's 1-way budget, while the two cells apart rest on what is left of it (σ ≈ 70
        on a 1,000-row Adult sample at ε = 1, against ≈ 36 on their sum). Tested apart, an
        "other" holding 16% of those rows (race) fell under 4σ in 11 fits of 12 and the column
        came out 'White' alone, though the sum stood 4-5σ clear of zero: the categories below
        discovery's threshold hold rows, and "other" is where the model puts them. The missing
        state is never brought back this way: when its evidence leads, both stay dropped as
        before, since writing missing values into a column that has none is the artefact the
        support rule exists to prevent (a wrong pick between the two, about one fit in three on
        Adult's native-country, would do it). Post-processing of released counts, no cost."""
        evidence = self._code_evidence(name, gone)
        if evidence is None:
            return gone
        total, total_sd = evidence
        factor = max(self._tail_factor(name, c) for c in gone)
        if total < SUPPORT_Z * total_sd * factor:
            return gone
        if _strongest(gone, counts, sd) != other:
            return gone
        return [c for c in gone if c != other]

    def _tail_factor(self, name: str, code: int) -> float:
        """How much further than 4σ a code's evidence must reach for the same false alarm as
        Gaussian noise gives at 4σ: 1 for the Gaussian measurements of mst and aim."""
        return 1.0

    def _exact_support(self, engine: Engine, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """The support rule of a non-DP fit: a doubtful code (missing state, "other") that no
        row holds (exact 1-way count 0) is not sampled.

        The model is fitted on exact counts, yet its estimate keeps every cell positive (the
        mirror descent of the graphical model never reaches 0), so a column with no missing
        value still wrote one now and then (0-2 values of 1,000 in mst fits of a 1,000-row
        table). No privacy question here: the fit reads the table exactly.
        """
        doubtful = {name: doubtful_codes(codec)
                    for name, codec in zip(self.encoder_.names, self.encoder_.codecs, strict=True)}
        exact = engine.marginals([(name,) for name, codes in doubtful.items() if codes])
        empty = {name: [c for c in codes if exact[(name,)][c] == 0]
                 for name, codes in doubtful.items() if codes}
        if not any(empty.values()):
            return {}
        return self._support_where(lambda name, codec, p: empty.get(name, []), rng)

    def _support_where(self, gone_codes: Callable[[str, ColumnCodec, np.ndarray], list[int]],
                       rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Per column with doubtful codes: the model's code shares (from ``SUPPORT_DRAWS``
        draws) with the codes ``gone_codes(name, codec, shares)`` names at 0, for columns
        where it names some and the rest keeps mass."""
        names = self.encoder_.names
        draws = self._sample_codes(SUPPORT_DRAWS, np.random.default_rng(rng.integers(2**63)))
        out = {}
        for j, (name, codec) in enumerate(zip(names, self.encoder_.codecs, strict=True)):
            if not doubtful_codes(codec):
                continue
            p = np.bincount(draws[:, j], minlength=codec.size) / len(draws)
            gone = gone_codes(name, codec, p)
            if gone and p.sum() - p[gone].sum() > 0:
                p[gone] = 0.0
                out[name] = p / p.sum()
        return out

    def _code_evidence(self, name: str, code: int | Sequence[int]) -> tuple[float, float] | None:
        """(count, σ) of one code (or the sum of several) from the released measurements alone:
        the inverse-variance
        combination of the pieces :meth:`_code_sd` weighs (its 1-way cell, each measured
        2-way or 3-way summed over the other attributes, the table's total less the column's
        other cells). A family that keeps no 1-way of the column (privbayes) has only the
        measurements that hold it; None where there are none.

        Linear in the noisy counts, so unbiased: the fitted model's count of an empty code is
        not (it keeps every cell non-negative, and a code no row holds gathers the positive
        part of the noise of each cell it shares with another column: the never-used "other"
        of a two-valued sex came out with 5.5% of 3,000 rows in one mst fit at ε = 1, above
        4σ of the combined noise; privbayes' conditionals, 8% missing values in a 0/1 flag
        that has none in 1 of 40 fits of a 3,000-row table).
        """
        var1 = getattr(self, "_one_way_var", {}).get(name)
        ones = {m.attrs[0]: m for m in (self._one_ways or ()) if len(m.attrs) == 1}
        measured = getattr(self, "_measured", ())
        if var1 is None or name not in ones:
            pieces = _summed(measured, name, code)
            if not pieces:
                return None
            value, var = _combine(pieces)
            return value, math.sqrt(var)
        measured = [m for m in measured if len(m.attrs) > 1]
        cells = _as_codes(code)
        held = float(ones[name].values[cells].sum())
        pieces = [(held, float(var1[cells].sum())), *_summed(measured, name, code)]
        totals = [(float(ones[k].values.sum()), float(v.sum()))
                  for k, v in self._one_way_var.items() if k != name and k in ones]
        totals += [(float(m.values.sum()), m.values.size * m.sigma**2)
                   for m in measured if name not in m.attrs]
        if totals:
            total, total_var = _combine(totals)
            rest = float(ones[name].values.sum()) - held
            pieces.append((total - rest, total_var + float(var1.sum() - var1[cells].sum())))
        value, var = _combine(pieces)
        return value, math.sqrt(var)

    def _code_sd(self, name: str, code: int) -> float | None:
        """σ of the released information on one code's count (None: unknown, no support rule).

        Every measurement that holds the column says something about the code: its 1-way cell
        (per-cell variance: a thresholded column's kept categories are known better than its
        "other" and missing cells), each measured 2-way or 3-way summed over the other
        attributes (variance: their number of cells × σ²), and the complement: the table's
        total (the sum of every measurement without the column estimates it) less the column's
        other cells. Their precisions add (inverse-variance combination, treating them as
        independent). With only
        the 1-way cell, an "other" holding 26% of 1,000 rows (workclass on Adult at ε = 1,
        σ ≈ 97) fell under 4σ and the column came out as 'Private' alone.
        """
        var1 = getattr(self, "_one_way_var", {}).get(name)
        if var1 is None:
            sigma = self._code_sigma(name)
            return None if sigma is None else sigma
        precision = 1.0 / float(var1[code])
        measured = [m for m in getattr(self, "_measured", ()) if len(m.attrs) > 1]
        for m in measured:
            if name in m.attrs and m.cell(name, code) is not None:
                precision += 1.0 / (m.values.size / m.values.shape[m.attrs.index(name)] * m.sigma**2)
        # the total from measurements without the column (those with it are counted above)
        total_precision = sum(1.0 / float(v.sum()) for k, v in self._one_way_var.items()
                              if k != name) + sum(
            1.0 / (m.values.size * m.sigma**2) for m in measured if name not in m.attrs)
        if total_precision <= 0:
            return 1.0 / math.sqrt(precision)
        rest = float(var1.sum() - var1[code])
        precision += 1.0 / (1.0 / total_precision + rest)
        return 1.0 / math.sqrt(precision)

    def _code_sigma(self, name: str) -> float | None:
        """σ of the noise on the column's 1-way counts, for families whose 1-way cells have
        no per-cell variance (None: unknown, no support rule)."""
        for m in self._one_ways or ():
            if m.attrs == (name,):
                return float(m.sigma)
        return None

    # ----------------------------------------------------------------- sample
    def _sample(self, n: int, rng: np.random.Generator, conditions: Conditions | None) -> pd.DataFrame:
        if conditions:
            return self._sample_conditioned(n, rng, conditions)
        return self.encoder_.frame(self._draw_columns(n, rng))

    def _draw_columns(self, n: int, rng: np.random.Generator) -> list[np.ndarray]:
        """Codes drawn from the model within its support, decoded column by column."""
        return self.encoder_.decode_values(self._within_support(self._sample_codes(n, rng), rng), rng)

    def _sample_conditioned(self, n: int, rng: np.random.Generator, conds: Conditions) -> pd.DataFrame:
        """``n`` rows from the model's exact conditional distribution given ``conds``.

        Each condition becomes a weight per code (1 or 0 for categories and the missing state,
        the share of a bin's in-bin distribution inside a range: :func:`~lookalike.
        synthesizers.conditions.code_weights`), the support rule's dropped codes weight 0 (so
        the draws are the model conditioned on its support, as without conditions); the
        family draws codes from the model times those weights (:meth:`_sample_codes_given`),
        and each conditioned number is drawn inside its condition from its bin (or set to the
        value asked). No row is drawn and thrown away for a condition: a failure means the
        model gives the conditions probability 0. Post-processing of the released model: it
        reads no data, so it costs no privacy budget.
        """
        names = self.encoder_.names
        weights: dict[str, np.ndarray] = {}
        for name, cond in conds.items():
            codec = self.encoder_.codecs[names.index(name)]
            w = code_weights(codec, cond)
            if not w.any():
                raise self._condition_failure(
                    conds, f"fall outside every value the model can give {name!r}"
                    f"{_nearest_bins(codec, cond)}", zero=True)
            weights[name] = w
        for name, p in (getattr(self, "support_", None) or {}).items():
            if name in names:
                w = weights.get(name, np.ones(len(p))) * (p > 0)
                if not w.any():
                    why = ("the released counts cannot tell from zero (its support rule drops "
                           "them)" if self.n_rows_ is None else "no row of the training data holds")
                    raise self._condition_failure(
                        conds, f"ask only for values of {name!r} that {why}", zero=True)
                weights[name] = w
        codes = self._sample_codes_given(n, rng, weights, conds)
        frame = self.encoder_.decode(codes, rng)
        return decode_conditioned(self.encoder_.codecs, codes, conds, frame, rng)

    def _sample_codes_given(self, n: int, rng: np.random.Generator, weights: dict[str, np.ndarray],
                            conds: Conditions) -> np.ndarray:
        """``n`` rows of codes drawn from the model times ``weights`` (per column, per code)."""
        raise NotImplementedError

    def _within_support(self, codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Rows drawing a code outside the support redrawn from the model (the model
        conditioned on the support); after a few rounds, what is left takes a code from the
        column's support alone."""
        support = getattr(self, "support_", None) or {}
        if not support:
            return codes
        names = self.encoder_.names
        cols = [(names.index(k), p) for k, p in support.items() if k in names]
        dropped = [(j, p == 0) for j, p in cols if not p.all()]

        def bad(c: np.ndarray) -> np.ndarray:
            if not dropped:
                return np.zeros(len(c), dtype=bool)
            out = dropped[0][1].take(c[:, dropped[0][0]])
            for j, zero in dropped[1:]:
                out |= zero.take(c[:, j])
            return out

        rows = np.flatnonzero(bad(codes))
        for _ in range(8):
            if not len(rows):
                return codes
            fresh = self._sample_codes(2 * len(rows) + 16, rng)
            fresh = fresh[~bad(fresh)][: len(rows)]
            codes[rows[: len(fresh)]] = fresh
            rows = rows[len(fresh):]
        for j, p in cols:
            off = rows[p[codes[rows, j]] == 0]
            codes[off, j] = rng.choice(len(p), size=len(off), p=p)
        return codes

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
        support = getattr(self, "support_", None) or {}
        arrays.update({f"support.{i}": p for i, p in enumerate(support.values())})
        meta = {"encoder": metas, "model": state, "n_estimate": self.n_estimate_,
                "support": list(support)}
        return meta, arrays

    def _set_state(self, state: dict, arrays: dict[str, np.ndarray]) -> None:
        self.encoder_ = TableEncoder.from_state(state["encoder"], arrays, self.schema_)
        self.n_estimate_ = state.get("n_estimate")
        self.support_ = {name: np.asarray(arrays[f"support.{i}"], dtype=float)
                         for i, name in enumerate(state.get("support") or [])}
        model_arrays = {k[6:]: v for k, v in arrays.items() if k.startswith("model.")}
        self._load_model_state(state["model"], model_arrays)


def _nearest_bins(codec, cond) -> str:
    """The model's value ranges nearest to what a condition asked (a DP domain can leave gaps
    between its bins, and in-bin shapes that skip values), as text for an error."""
    if codec.bins is None:
        return ""
    target = (min(cond.values) if cond.values else None) if cond.values is not None else (
        cond.low if math.isfinite(cond.low) else cond.high)
    if target is None or not math.isfinite(target):
        return ""
    bins = codec.bins
    gap = np.maximum(bins.lower - target, target - bins.upper).clip(0)
    near = sorted(np.argsort(gap, kind="stable")[:2])
    shown = ", ".join(f"{bins.lower[i]:g}..{bins.upper[i]:g}" for i in near)
    return f" (its nearest value ranges: {shown})"


def holding(measured, name: str, code: int) -> list[tuple[Measurement, int, int, int]]:
    """(measurement, the column's axis, the code's cell on it, the cells summed to read it) of
    each measurement that holds the column with the code in a cell of its own (a coarse one
    that groups the code with others gives none)."""
    out = []
    for m in measured:
        cell = m.cell(name, code) if name in m.attrs else None
        if cell is not None:
            axis = m.attrs.index(name)
            out.append((m, axis, cell, m.values.size // m.values.shape[axis]))
    return out


def _summed(measured, name: str, code: int | Sequence[int]) -> list[tuple[float, float]]:
    """(count, variance) of one code (or the sum of several) from each measurement that holds
    the column with each of them in a cell of its own: their cells summed over the other
    attributes (variance: their number × σ²)."""
    codes = _as_codes(code)
    out = []
    for m in measured:
        cells = [m.cell(name, c) for c in codes] if name in m.attrs else [None]
        if None in cells or len(set(cells)) < len(cells):
            continue
        axis = m.attrs.index(name)
        n = m.values.size // m.values.shape[axis]
        out.append((float(np.take(m.values, cells, axis=axis).sum()), len(cells) * n * m.sigma**2))
    return out


def _as_codes(code: int | Sequence[int]) -> list[int]:
    return [int(code)] if isinstance(code, (int, np.integer)) else [int(c) for c in code]


def _strongest(codes: Sequence[int], counts: np.ndarray, sd: np.ndarray) -> int:
    """The code whose count stands out most from its noise (its z-score)."""
    return max(codes, key=lambda c: counts[c] / sd[c])


def _combine(pieces: list[tuple[float, float]]) -> tuple[float, float]:
    """Inverse-variance combination of independent (estimate, variance) pairs."""
    w = np.array([1.0 / v for _, v in pieces])
    x = np.array([e for e, _ in pieces])
    return float((w * x).sum() / w.sum()), float(1.0 / w.sum())


def measure_one_ways(engine: Engine, found, accountant: Budget,
                     variances: dict[str, np.ndarray] | None = None) -> list[Measurement]:
    """Every column's 1-way marginal: a plain noisy count over its codes, combined cell by cell
    (inverse-variance weights) with what discovery already released about the same cells.
    ``variances``, when given, receives each column's per-cell noise variance (the kept
    categories of a thresholded column are known better than its "other" and missing cells)."""
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
        if variances is not None:
            variances[name] = var
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
