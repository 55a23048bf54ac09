"""The shared fit, sample and model-file logic of the neural families.

A DP fit (``epsilon`` given) goes the base class's one path: checked against the ledger as a
whole before any data is read, its whole (ε, δ) reserved as one ledger entry, then settled to
what it released. Within it the fit runs in two phases:

1. **discovery**: a noisy row count first (``COUNT_SHARE``, 1% of the zCDP budget: the
   Poisson sampling rate and PATE's partitions need n, which is private), then the domain
   (:func:`~lookalike.privacy.discovery.discover_domain`, ``discovery_share`` of the budget
   plus 10% of δ for thresholded categories; declared categories and bounds are free). With
   ``discovery_share=None`` (the default) the share is sized to the table from the noisy count,
   as in the marginal models (:func:`~lookalike.privacy.discovery.adaptive_share`: 10% on
   large tables, up to 50% on small ones). With ``calibrate`` (the default), every column's
   noisy 1-way marginal over that domain (``ONE_WAY_SHARE`` more of the budget, combined with
   what discovery released about the same cells): the targets of
   :mod:`~lookalike.synthesizers.neural._calibrate` and the conditional GANs' category
   frequencies. Without ``calibrate`` the GANs measure their categorical 1-ways alone. The
   encoder's modes are fitted to draws from the DP bins: post-processing, no further cost.
2. **training**: the family plans its mechanism (DP-SGD's noise multiplier, PATE's vote noise)
   so that discovery and training *composed in Rényi DP* give the requested (ε, δ); DP-SGD is
   recorded as its RDP curve (the reservation settles to it), PATE as ρ-zCDP.

The validity rules of the marginal models hold for the samples of a DP model, all of them
post-processing of what was released (no privacy cost):

* **support**: a missing state or an "other" category whose noisy 1-way count does not reach
  4σ of its noise (:func:`~lookalike.synthesizers._domain.unsupported_codes`) gets no
  calibration mass and its output slot is never chosen (``support_``, saved in the model
  file). The counts are the calibration targets; without ``calibrate`` only a conditional
  GAN's categorical 1-ways are measured, so dptvae's and pategan's missing states, and
  dpctgan's numeric ones, are then left to the network: use ``calibrate=True`` (the default)
  for the rule to hold everywhere;
* **domain**: numbers are decoded inside the discovered or declared domain, each value in its
  bin (a score in steps of 10 stays on its steps, a year on its years; ``domain_``), integer
  columns as integers, categories only among the domain's;

A non-DP fit reads the data freely (modes by a Bayesian Gaussian mixture; calibration targets
are the exact 1-ways over quantile bins, as the non-DP marginal models store) and its model
carries no formal guarantee.

Default training schedule (:meth:`NeuralSynthesizer.schedule`), a function of the row count n
(non-DP: the rows; DP: the noisy count ñ of discovery, never n itself):

* **batch**: min(500, max(20, rows / 10)) of the rows trained on (a multiple of ``pac`` for
  CTGAN): at least 10 optimisation steps an epoch from 200 rows up, 500-row steps from 5,000.
  SDV's fixed batch of 500 gives one or two steps an epoch below 1,000 rows;
* **epochs**: 300 whatever n (non-DP), hence at least 3,000 steps from 200 rows up (below, 300 ×
  rows / 20): on small tables the dependence between columns is learnt late (the earlier rule,
  one epoch per 40 rows, gave Adult at 1,000 rows 250 steps). With these defaults, Adult at
  1,000 rows: TSTR AUC 0.855 (tvae) and 0.840 (ctgan) against SDV's 0.830 and 0.624 at its
  defaults, real rows 0.898 (``benchmarks/many_tables.py``, seed 0, commands in
  docs/benchmarks/many_tables.md). DP-SGD: min(30, max(10, ñ / 40)) (each epoch costs privacy);
* **early stopping** (``patience="auto"``, tvae's default): 30 epochs without a better held-out
  signal, only when the held-out share is at least 1,000 rows (n ≥ 10,000 at the default 10%);
  on fewer held-out rows the signal (1- and 2-way TVD) is mostly sampling noise, and stopping
  on it keeps the weights of an early epoch.
  Never under DP (a signal on private rows would be an uncharged release).
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from lookalike.errors import ConfigError
from lookalike.marginals.engine import NumpyEngine
from lookalike.modelfile import model_array
from lookalike.privacy.accountant import Accountant, Release
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
from lookalike.schema import Kind, Schema
from lookalike.synthesizers._checks import check_device, check_int, check_number, check_widths
from lookalike.synthesizers._domain import doubtful_codes, encode_domain, unsupported_codes
from lookalike.synthesizers._source import Source
from lookalike.synthesizers.base import Synthesizer
from lookalike.synthesizers.conditions import Conditions
from lookalike.synthesizers.neural._calibrate import calibrate_choices, calibrate_values
from lookalike.synthesizers.neural._encoding import NeuralEncoder
from lookalike.synthesizers.neural._torch import (
    load_module_arrays,
    module_arrays,
    require_opacus,
    require_torch,
    select_device,
)
from lookalike.synthesizers.neural._training import validation_size
from lookalike.transform.encoder import ColumnCodec, TableEncoder

__all__ = ["NeuralSynthesizer", "Plan", "Schedule"]

GAN_ONE_WAY_SHARE = 0.2  # of the discovery ρ: an uncalibrated conditional GAN's categorical 1-ways
ONE_WAY_SHARE = 0.1  # of the zCDP budget: the 1-way marginals that calibration matches (calibrate=True)
EPOCHS = 300  # default epochs of the non-DP fits, at any row count
MAX_BATCH, MIN_BATCH = 500, 20  # default batch: rows / STEPS_PER_EPOCH, within these
STEPS_PER_EPOCH = 10
PATIENCE = 30  # patience="auto": epochs without a better held-out signal ...
MIN_VALIDATION_ROWS = 1_000  # ... when at least this many rows are held out; else no early stopping


class Plan(dict):
    """A DP training plan: ``rdp`` (curve on RDP_ORDERS) or ``rho`` (zCDP), and its settings."""


@dataclass(frozen=True)
class Schedule:
    """How a fit trains on ``n_rows`` rows: epochs, rows a step, early stopping, held-out rows.

    ``patience`` None: no early stopping, no held-out rows, every epoch runs. Under DP-SGD the
    batch is the expected size of Poisson batches and ``n_rows`` the noisy count.
    """

    n_rows: int
    epochs: int
    batch_size: int
    patience: int | None
    validation_rows: int

    @property
    def train_rows(self) -> int:
        return self.n_rows - self.validation_rows

    @property
    def steps_per_epoch(self) -> int:
        return max(1, self.train_rows // self.batch_size)

    @property
    def steps(self) -> int:
        """Optimisation steps when every epoch runs."""
        return self.epochs * self.steps_per_epoch


class NeuralSynthesizer(Synthesizer):
    """Base of ctgan, tvae, dpctgan, dptvae and pategan: encoding, DP phases, files, sampling."""

    supports_dp: ClassVar[bool] = False
    dp_sgd: ClassVar[bool] = False
    conditional: ClassVar[bool] = False  # has a conditional vector (GANs)
    native_conditions = True

    # ------------------------------------------------------------------ params
    def _check_common(self) -> None:
        """The checks of the hyper-parameters the neural families share (each only where the
        family's constructor has it): the ranges their docstrings state."""
        params = self.get_params()
        for name in ("epochs", "iterations", "batch_size"):  # None: the default schedule
            if name in params:
                check_int(name, params[name], 1, none=True)
        for name in ("embedding_dim", "latent_dim", "max_modes", "teacher_steps", "teacher_batch"):
            if name in params:
                check_int(name, params[name], 1)
        if "n_bins" in params:
            check_int("n_bins", params["n_bins"], 2)
        for name in ("generator_dims", "discriminator_dims", "compress_dims", "decompress_dims",
                     "teacher_dims", "student_dims"):
            if name in params:
                check_widths(name, params[name])
        for name in ("lr", "generator_lr", "discriminator_lr", "loss_factor"):
            if name in params:
                check_number(name, params[name], 0, low_open=True)
        if "validation_share" in params:
            check_number("validation_share", params["validation_share"], 0, 0.5,
                         low_open=True, high_open=True)
        if not isinstance(getattr(self, "calibrate", True), bool):
            raise ConfigError(f"calibrate must be True or False, got {self.calibrate!r}")
        check_device("device", self.device)
        share = getattr(self, "discovery_share", None)
        if share is not None and (isinstance(share, bool) or not isinstance(share, (int, float))
                                  or not 0 < share < 1):
            raise ConfigError(f"discovery_share must be None (sized to the table) or lie strictly "
                              f"between 0 and 1, got {share!r}")
        fixed = COUNT_SHARE + (ONE_WAY_SHARE if getattr(self, "calibrate", False) else 0.0)
        if share is not None and share + fixed >= 1:
            raise ConfigError(
                f"discovery_share={share!r} leaves no budget for training once the row count and "
                f"the 1-way marginals (calibrate=True) take {fixed:g}: use a discovery_share below "
                f"{1 - fixed:g}, or None (sized to the table)"
            )
        if hasattr(self, "patience") and not _valid_patience(self.patience):
            raise ConfigError(
                f"patience must be None, 'auto' or an integer >= 1, got {self.patience!r}")

    # ------------------------------------------------------------------ fit
    def _check_ready(self, request) -> None:
        require_torch()
        if self.dp_sgd and request.dp:
            require_opacus()

    def _budget_plan(self, epsilon: float, delta: float) -> BudgetPlan:
        """``count`` (the noisy row count, ``COUNT_SHARE`` of ρ), ``discover`` (the domain,
        ``discovery_share`` of ρ; with None, sized during the fit from the noisy row count,
        :func:`~lookalike.privacy.discovery.adaptive_share`: the plan states its largest share,
        the releases the split made), ``one-ways`` (the calibration targets, ``ONE_WAY_SHARE``;
        none without ``calibrate``) and ``train`` (the rest: the training mechanism is planned
        from what phase 1 spent, so that the fit composes to (ε, δ) in Rényi DP)."""
        share = SHARE_RANGE[1] if self.discovery_share is None else self.discovery_share
        ones = ONE_WAY_SHARE if self.calibrate else 0.0
        return BudgetPlan.split(epsilon, delta, count=COUNT_SHARE, discover=share,
                                **{"one-ways": ones}, train=1 - COUNT_SHARE - share - ones)

    def _learn(self, source: Source, budget: Budget | None, rng: np.random.Generator) -> str:
        """Phase 1 (DP domain, row count, 1-ways), the training plan, then training."""
        torch = require_torch()
        device = select_device(self.device)
        torch.manual_seed(int(rng.integers(2**62)))  # dropout and initial weights
        frame, schema_ = source.frame, source.schema
        plan = None
        self.domain_: TableEncoder | None = None
        self.support_: dict[str, np.ndarray] = {}
        if budget is not None:
            bp = budget.plan
            encoder, n_est, freqs, releases, found, targets = self._dp_discovery(frame, schema_, bp, rng)
            budget.add(releases)
            self.n_est_ = n_est  # the noisy row count: DP-SGD's expected batch
            plan = self._plan(n_est, bp.epsilon, bp.delta_rho, budget.spent)
            self.schema_ = found.schema
            self.discovery_ = found.columns
            self.domain_ = found.encoder
        else:
            encoder = NeuralEncoder.fit(frame, schema_, max_modes=self.max_modes, seed=rng)
            n_est = len(frame)
            targets = None
            if self.calibrate:
                bins = TableEncoder.fit(frame, schema_, n_bins=getattr(self, "n_bins", 32))
                codes_all = bins.encode(frame)
                targets = (bins, [np.bincount(codes_all[:, j], minlength=size).astype(float)
                                  for j, size in enumerate(bins.sizes)])
        x, codes = encoder.encode(frame, rng)
        if budget is None:
            freqs = [np.bincount(codes[:, j], minlength=s.size) / len(codes)
                     for j, s in enumerate(encoder.discrete_spans)]
            if self.batch_size is not None and self.batch_size > len(frame):
                raise ConfigError(
                    f"batch_size={self.batch_size} is larger than the data ({len(frame)} rows); "
                    "choose batch_size <= the number of rows"
                )
        self.encoder_ = encoder
        self.calibration_ = targets
        self.freqs_ = [np.asarray(f, float) for f in freqs]
        self.device_ = device
        self._build(device)
        self.training_ = {"loss": {}, "epochs": 0, "stopped_early": False, "device": str(device)}
        t_train = time.perf_counter()
        self._train(x, codes, plan, rng, device)
        self.train_seconds_ = time.perf_counter() - t_train  # not saved: model files stay byte-identical
        self.n_estimate_ = int(n_est)
        if budget is None:
            return "trained on the data"
        settings = {k: v for k, v in plan.items() if k not in ("rdp", "rho", "mechanism", "detail", "accounting")}
        if "rho" in plan:  # zCDP training (PATE's votes)
            budget.spend("training", plan["rho"], mechanism=plan["mechanism"], detail=plan["detail"])
            budget.releases[-1] = dataclasses.replace(budget.releases[-1], params=settings)
        else:  # Rényi DP training (DP-SGD), as many steps as were taken
            budget.record_rdp("training", self._spent_curve(plan), mechanism=plan["mechanism"],
                              detail=plan["detail"], params=settings)
        return (f"discovery in zCDP, training {plan['accounting']}, composed in Renyi DP")

    def _dp_discovery(self, frame: pd.DataFrame, schema: Schema, bp: BudgetPlan, rng):
        """Phase 1: noisy row count, DP domain, noisy one-way marginals (calibration targets;
        the GANs' category frequencies), and the support they establish (``support_``).

        The row count comes first (``COUNT_SHARE`` of ρ, as in the marginal models): DP-SGD's
        sampling rate and PATE's partitions need it, and with ``discovery_share=None`` it sizes
        discovery (:func:`~lookalike.privacy.discovery.adaptive_share`: 10% of ρ on large
        tables, up to 50% on small ones, where a fixed 10% lost Adult's second sex and income
        values on 1,000 rows and left education-num one bin over 0–1). Without ``calibrate`` a
        conditional GAN measures its categorical 1-ways alone, with ``GAN_ONE_WAY_SHARE`` of
        the discovery share (all of it when every fact is declared).
        """
        from lookalike.synthesizers._marginal import measure_one_ways

        rho_ones = bp.rho_of("one-ways")
        noisy_n = gaussian_counts([len(frame)], sigma=math.sqrt(1 / (2 * bp.rho_of("count"))))
        releases = [Release("row count", noisy_n.mechanism, noisy_n.rho, f"sigma={noisy_n.sigma:.3g}")]
        n_est = max(1, int(round(float(noisy_n.values[0]))))
        split = self._discovery_budget(schema, n_est, bp, noisy_n.rho)
        rho_disc, rho_domain = split.share * bp.rho, split.rho
        engine = NumpyEngine(frame, schema)
        found = encode_domain(discover_domain(
            engine, schema, rho=rho_domain, delta=split.delta, n_bins=self.n_bins,
            one_way_rho=split.one_way_rho, n_rows=n_est,
        ))
        releases += found.releases
        encoder = NeuralEncoder.from_domain(found, max_modes=self.max_modes, seed=rng)
        spans = encoder.discrete_spans if self.conditional else []
        names = found.encoder.names
        targets = None
        self.support_ = {}
        if rho_ones:
            engine.bind(found.encoder)
            accountant = Accountant(rho_ones)
            variances: dict[str, np.ndarray] = {}
            ones = measure_one_ways(engine, found, accountant, variances)
            releases += accountant.releases
            counts = [np.clip(m.values, 0, None) for m in ones]
            for codec, c, m in zip(found.encoder.codecs, counts, ones, strict=True):
                self._restrict(codec, c, m.values, np.sqrt(variances[codec.column.name]))
            targets = (found.encoder, counts)
        freqs = []
        if spans and targets:  # the categorical spans are codecs of the same domain, same codes
            for s in spans:
                f = targets[1][names.index(s.column)]
                freqs.append(f / f.sum() if f.sum() > 0 else np.full(s.size, 1 / s.size))
        elif spans:
            rho_span = (rho_disc - rho_domain) / len(spans)
            codes = np.column_stack([encoder.codecs[s.column].encode(frame[s.column]) for s in spans])
            for j, s in enumerate(spans):
                counts_j = np.bincount(codes[:, j], minlength=s.size)
                noisy = gaussian_counts(counts_j, sigma=math.sqrt(1 / (2 * rho_span)))
                releases.append(Release(f"one-way counts of {s.column}", noisy.mechanism, noisy.rho,
                                        f"sigma={noisy.sigma:.3g}"))
                f = np.clip(noisy.values, 0, None).astype(float)
                self._restrict(encoder.codecs[s.column], f, noisy.values, noisy.sigma)
                freqs.append(f / f.sum() if f.sum() > 0 else np.full(s.size, 1 / s.size))
        return encoder, n_est, freqs, releases, found, targets

    def _discovery_budget(self, schema: Schema, n_rows: float, plan: BudgetPlan,
                          spent: float = 0.0) -> DiscoveryBudget:
        """What phase 1 gives discovery on about ``n_rows`` rows: ``discovery_share`` of ρ
        (None: sized to the table, :func:`~lookalike.privacy.discovery.adaptive_share`), of
        which an uncalibrated conditional GAN keeps ``GAN_ONE_WAY_SHARE`` for its categorical
        1-ways; with ``calibrate`` each column may borrow its share of the 1-ways' ρ. The fit
        and the DP plan of ``lookalike inspect`` both ask this (``spent``: unused here, the
        phase-1 parts are planned shares)."""
        cats, nums = discovery_columns(schema)
        n_paid = len(cats) + len(nums)
        rho_ones = plan.rho_of("one-ways")
        share = (self.discovery_share if self.discovery_share is not None
                 else adaptive_share(n_rows, n_paid, plan.rho))
        n_spans = sum(not c.kind.numeric for c in schema.modelled) if self.conditional else 0
        gan_ones = bool(n_spans) and not rho_ones
        rho_domain = share * plan.rho * (1 - GAN_ONE_WAY_SHARE if gan_ones else 1.0) if n_paid else 0.0
        d = len(schema.modelled)
        return DiscoveryBudget(share, rho_domain, plan.delta_discovery if cats else 0.0,
                               rho_ones / d if rho_ones else None)

    def _restrict(self, codec: ColumnCodec, target: np.ndarray, noisy: np.ndarray, sigma) -> None:
        """Zero, in ``target`` (in place), the doubtful codes (missing, "other") whose noisy count
        does not reach 4σ of its noise, and record the column's support in ``support_``.

        The rule of the marginal models (:func:`~lookalike.synthesizers._domain.unsupported_codes`)
        applied to what this model released: post-processing, no privacy cost. Without it, on
        Adult subsampled to 1,000 rows at ε = 1, 5-10 columns with no missing value came out of
        each family with missing values (up to 15-36% of a column) and "other" took up to all of
        a column: calibration gives each code its noisy share, and an empty cell's noise (σ ≈
        100-140 rows) is 10-14% of such a table. When every code the column has is doubtful
        (no category discovered: "other" and missing) and none reaches 4σ, the one whose count
        stands out most stays: the rows are in one of them.
        """
        gone = unsupported_codes(noisy, sigma, doubtful_codes(codec))
        keep = np.ones(codec.size, dtype=bool)
        keep[gone] = False
        if gone and not (target[keep] > 0).any():
            z = np.asarray(noisy, dtype=float) / np.broadcast_to(
                np.asarray(sigma, dtype=float), np.shape(noisy))
            best = max(gone, key=lambda c: z[c])
            gone = [c for c in gone if c != best]
            keep[best] = True
        if gone and (target[keep] > 0).any():
            target[~keep] = 0.0
            self.support_[codec.column.name] = keep

    batch_multiple: ClassVar[int] = 1  # the batch is a multiple of this (CTGAN: pac)

    def schedule(self, n_rows: int) -> Schedule:
        """The training schedule on ``n_rows`` rows: the values given, else the defaults of the
        module docstring (a function of the row count; under DP, of the noisy count).

        >>> from lookalike.synthesizers.neural import TVAE
        >>> [(s.epochs, s.batch_size, s.patience, s.steps)
        ...  for s in map(TVAE().schedule, (1_000, 50_000))]
        [(300, 100, None, 3000), (300, 500, 30, 27000)]
        """
        patience = self._patience(n_rows)
        held_out = validation_size(n_rows, self.validation_share) if patience else 0
        return Schedule(n_rows=n_rows, epochs=self._epochs(n_rows),
                        batch_size=self._batch(n_rows - held_out, self.batch_multiple),
                        patience=patience, validation_rows=held_out)

    def _patience(self, n_rows: int) -> int | None:
        """As given, or with "auto" ``PATIENCE`` epochs when at least ``MIN_VALIDATION_ROWS`` rows
        would be held out, else None (a signal on fewer rows is noise; see the module docstring)."""
        p = getattr(self, "patience", None)
        if isinstance(p, str):  # "auto"
            share = getattr(self, "validation_share", 0.1)
            return PATIENCE if validation_size(n_rows, share) >= MIN_VALIDATION_ROWS else None
        return p

    def _epochs(self, n_rows: int) -> int:
        """Epochs: as given, or the family's default for ``n_rows`` rows."""
        return self.epochs if self.epochs is not None else self._default_epochs(n_rows)

    def _default_epochs(self, n_rows: int) -> int:
        """300 at any row count: with the default batch, at least 3,000 steps from 200 rows up."""
        return EPOCHS

    def _batch(self, n_rows: int, multiple: int = 1) -> int:
        """The batch size: as given, or by default min(500, max(20, rows / 10)) (at least 10
        steps an epoch from 200 rows up), a multiple of ``multiple``."""
        if self.batch_size is not None:
            return self.batch_size
        b = min(MAX_BATCH, n_rows, max(MIN_BATCH, n_rows // STEPS_PER_EPOCH))
        return max(multiple, b - b % multiple)

    def _spent_curve(self, plan) -> list[float]:
        """The RDP curve of the training actually run (≤ the plan's when stopped early)."""
        return plan["rdp"]

    # ------------------------------------------------------------------ subclass API
    def _build(self, device) -> None:
        raise NotImplementedError

    def _train(self, x: np.ndarray, codes: np.ndarray, plan: Plan | None, rng, device) -> None:
        raise NotImplementedError

    def _plan(self, n_est: int, epsilon: float, delta: float, rho_disc: float) -> Plan:
        raise NotImplementedError

    def _generate(self, n: int, rng: np.random.Generator, cond: tuple[int, int] | None):
        """(n, dim) activated outputs as numpy, and per-slot sigmas or None."""
        raise NotImplementedError

    def _modules(self) -> dict[str, Any]:
        raise NotImplementedError

    # ------------------------------------------------------------------ sample
    def _decode(self, n: int, rng, cond=None, *, calibrate: bool = True) -> pd.DataFrame:
        """``n`` decoded rows within the support and the domain (:meth:`_within_support`,
        :meth:`_within_domain`); calibrated to the 1-ways (when the model has them) unless
        ``calibrate`` is False (conditional sampling) or a conditional vector steers the draws."""
        x, sigmas = self._generate(n, rng, cond)
        x = self._within_support(x)
        calibration = getattr(self, "calibration_", None)
        if cond is not None or calibration is None or not calibrate:
            return self._within_domain(self.encoder_.decode(x, rng, sigmas))
        codecs, targets = calibration
        names = codecs.names
        x = np.array(x, copy=True)
        expected = self.encoder_.expected_values(x)  # numbers: order among values that decode equal
        for span in self.encoder_.discrete_spans:  # categories: biased argmax of the outputs
            block = x[:, span.start : span.start + span.size]
            pick = calibrate_choices(block, targets[names.index(span.column)])
            x[:, span.start : span.start + span.size] = np.eye(span.size, dtype=x.dtype)[pick]
        frame = self.encoder_.decode(x, rng, sigmas)
        for j, codec in enumerate(codecs.codecs):  # numbers: monotone map onto the bin shares
            if codec.bins is not None:
                name = codec.column.name
                frame[name] = calibrate_values(frame[name], codec, targets[j], rng, order=expected.get(name))
                if name in self.encoder_.codes:  # onto the codes their bins count them as
                    frame[name] = codec.within(frame[name])
        return self._within_domain(frame)

    def _within_support(self, x: np.ndarray) -> np.ndarray:
        """Network outputs with the slots of unsupported codes (``support_``: a missing state or
        an "other" category whose noisy count did not reach 4σ) put below every other slot, so
        that decoding picks the best supported one instead: for Gumbel-max draws (the GANs,
        TVAE's categories) that is a draw from the model conditioned on the support.

        Post-processing of the model's output and of released counts: no privacy cost. It
        holds in every sampling path, calibrated or not, conditional or not; calibration (whose
        targets give these codes no mass) never brings them back.
        """
        support = getattr(self, "support_", None) or {}
        if not support:
            return x
        x = np.array(x, copy=True)
        for span in self.encoder_.spans:
            keep = support.get(span.column)
            if keep is None or span.activation == "tanh":
                continue
            if span.discrete:  # a category's slots are its codes
                slots = np.flatnonzero(~keep)
            else:  # a number's mode slots, the last one its missing state
                slots = [span.size - 1] if self.encoder_.nullable[span.column] and not keep[-1] else []
            x[:, [span.start + int(k) for k in slots]] = -1.0
        return x

    def _within_domain(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Numbers moved into the discovered (or declared) domain of a DP model: each value
        clipped into the bin its code gives it (:meth:`ColumnCodec.within
        <lookalike.transform.encoder.ColumnCodec.within>`), so a score in steps of 10 stays on
        its steps, a year on its years, and nothing falls in a range discovery found empty.

        The normaliser's Gaussian modes and TVAE's output noise spread a column of codes between
        its values (dptvae, 2 epochs, on 3,000 rows at ε = 1: 11% of a score in steps of 10 fell
        between the steps, 34% with two modes a column), and calibration moves only values whose
        bin is wrong. Post-processing onto released bin
        edges: no privacy cost; the bin of every value, hence calibration's quotas, is kept.
        Non-DP fits (no ``domain_``) keep the range of their data, and the values of an integer
        column of codes (:meth:`NeuralEncoder.on_codes <lookalike.synthesizers.neural._encoding.
        NeuralEncoder.on_codes>`).
        """
        domain = getattr(self, "domain_", None)
        if domain is None:
            return self.encoder_.on_codes(frame)
        for codec in domain.codecs:
            if codec.bins is not None:
                frame[codec.column.name] = codec.within(frame[codec.column.name])
        return frame

    def _sample(self, n: int, rng: np.random.Generator, conditions: Conditions | None) -> pd.DataFrame:
        if not conditions:
            return self._decode(n, rng)
        cond = self._cond_for(conditions) if self.conditional else None
        # draws steered toward the first categorical condition, then kept only where they match
        return self._rejection_sample(n, rng, conditions,
                                      draw=lambda k: self._decode(k, rng, cond, calibrate=False))

    def _cond_for(self, conditions: Conditions) -> tuple[int, np.ndarray] | None:
        """(discrete span index, allowed category codes) of the first categorical condition."""
        spans = self.encoder_.discrete_spans
        for j, s in enumerate(spans):
            if s.column in conditions:
                codec = self.encoder_.codecs[s.column]
                values = list(conditions[s.column].values or ())
                if not values:  # only a missing value asked: no category to steer toward
                    continue
                codes = codec.encode(pd.Series(values, dtype="boolean" if codec.column.kind is Kind.BOOLEAN
                                               else object))
                return j, np.unique(codes)
        return None

    # ------------------------------------------------------------------ state
    def _get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        meta, arrays = self.encoder_.to_state()
        for name, module in self._modules().items():
            arrays.update(module_arrays(module, f"net.{name}"))
        for j, f in enumerate(self.freqs_):
            arrays[f"freq.{j}"] = np.asarray(f, float)
        calibration = getattr(self, "calibration_", None)
        if calibration is not None:
            meta_cal, arr_cal = calibration[0].to_state("calib")
            arrays.update(arr_cal)
            for j, t in enumerate(calibration[1]):
                arrays[f"calib.target.{j}"] = np.asarray(t, float)
        domain = getattr(self, "domain_", None)
        meta_dom: list | str | None = None
        if domain is not None and calibration is not None and calibration[0] is domain:
            meta_dom = "calibration"  # a DP model's calibration codes are its domain: saved once
        elif domain is not None:
            meta_dom, arr_dom = domain.to_state("domain")
            arrays.update(arr_dom)
        support = getattr(self, "support_", None) or {}
        arrays.update({f"support.{i}": keep.astype(float) for i, keep in enumerate(support.values())})
        state = {
            "calibration": meta_cal if calibration is not None else None,
            "domain": meta_dom,
            "encoder": meta,
            "n_estimate": self.n_estimate_,
            "training": self.training_,
            "n_freqs": len(self.freqs_),
            "support": list(support),
        }
        return state, arrays

    def _set_state(self, state: dict, arrays: dict[str, np.ndarray]) -> None:
        self.encoder_ = NeuralEncoder.from_state(state["encoder"], arrays, self.schema_)
        self.n_estimate_ = state.get("n_estimate")
        self.training_ = state.get("training", {})
        self.freqs_ = [np.asarray(arrays[f"freq.{j}"], float) for j in range(int(state.get("n_freqs", 0)))]
        self.calibration_ = None
        if state.get("calibration") is not None:
            codecs = TableEncoder.from_state(state["calibration"], arrays, self.schema_, "calib")
            self.calibration_ = (codecs, [np.asarray(arrays[f"calib.target.{j}"], float)
                                          for j in range(len(codecs.codecs))])
        self.domain_, self.support_ = self._load_support(state, arrays)
        self.device_ = select_device(self.device)
        self._build(self.device_)
        for name, module in self._modules().items():
            load_module_arrays(module, arrays, f"net.{name}")
            module.to(self.device_)


    def _load_support(self, state: dict, arrays: dict[str, np.ndarray]
                      ) -> tuple[TableEncoder | None, dict[str, np.ndarray]]:
        """The domain and support saved by :meth:`_get_state` (none in older files), checked:
        a support names a column of the domain and has one entry per code."""
        meta = state.get("domain")
        if meta == "calibration" and self.calibration_ is not None:
            domain = self.calibration_[0]
        elif isinstance(meta, list):
            domain = TableEncoder.from_state(meta, arrays, self.schema_, "domain")
        elif meta is None:
            domain = None
        else:
            raise ValueError(f"the model's domain {meta!r} is neither saved codes nor 'calibration'")
        names = state.get("support") or []
        if names and domain is None:
            raise ValueError("the model restricts codes of columns but holds no domain for them")
        support = {}
        for i, name in enumerate(names):
            if domain is None or name not in domain.names:
                raise ValueError(f"the model restricts the codes of {name!r}, which is not in its domain")
            size = domain.codecs[domain.names.index(name)].size
            support[name] = model_array(arrays, f"support.{i}", f"codes of {name!r} sampled", length=size) > 0
        return domain, support


def _valid_patience(p: Any) -> bool:
    """None, "auto" or an integer >= 1 (not a bool)."""
    if p is None or (isinstance(p, str) and p == "auto"):
        return True
    return isinstance(p, int) and not isinstance(p, bool) and p >= 1
