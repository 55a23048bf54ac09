"""Shadow-model membership attack on chosen targets (Stadler, Oprisanu and Troncoso 2022).

For each target record, the attacker knows everything but whether the target was in the
training data. It fits the same synthesizer, with the same settings, on many *reference*
datasets with and without the target, featurises each synthetic output (naive statistics,
and the target's closest synthetic records; see ``_shadow_features`` for the features kept), trains a
random forest to tell "with" from "without" on half the fits, and scores the other half. An
AUC near 0.5 means the outputs do not reveal the target's presence; the empirical ε turns the
held-out scores into a lower bound on the privacy loss (:mod:`lookalike.audit.epsilon`).

**Design.** Reference datasets are ``reference_size``-row samples, drawn without replacement
from the real records other than the targets; a "with" dataset replaces one random row by the
target. ``n_fits`` is the number of fits *per target per class*: each target gets ``n_fits``
fits with it, and all targets share one batch of ``n_fits`` fits without any target (a fit
without any target is a valid "without" example for every target; a fit with target B is not
used as one for target A, since it would make A's background more outlying than a random
sample). Total fits: ``n_fits × (targets + 1)``. The first half (rounded down) of each class
trains the attack, the rest tests it. Confidence intervals (95%) come from a joint bootstrap
over the test fits (the shared "without" fits resampled once for all targets), so the mean
AUC's interval accounts for that sharing.

**Privacy.** Audit fits are not releases: they never touch a ledger, and everything this
module reports is computed from the private table without differential privacy.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_curve

from lookalike._progress import progress as progress_bar
from lookalike._rng import Seed, as_rng
from lookalike.audit._encoding import RecordEncoding
from lookalike.audit._shadow_features import profile, target_features
from lookalike.audit.epsilon import EpsilonBound, empirical_epsilon
from lookalike.audit.targets import Targets, _check_rows, select_targets
from lookalike.errors import ConfigError, DataError
from lookalike.schema import MIN_ROWS
from lookalike.synthesizers import Synthesizer, get_synthesizer

try:
    from lookalike.privacy.budget import unrecorded
except ImportError:  # until the budget module lands
    from contextlib import nullcontext as unrecorded

__all__ = ["ShadowResult", "TargetRisk", "shadow_attack"]

N_BOOTSTRAP = 1000
MIN_FITS = 4
CONFIDENCE = 0.95


@dataclass(frozen=True)
class TargetRisk:
    """Membership risk of one target: held-out AUC, advantage and empirical ε, with 95% CIs.

    ``advantage`` is the largest TPR − FPR over thresholds; ``roc`` is (fpr, tpr) on the test fits.
    """

    row: int
    auc: float
    auc_ci: tuple[float, float]
    advantage: float
    advantage_ci: tuple[float, float]
    epsilon: EpsilonBound
    roc: tuple[tuple[float, ...], tuple[float, ...]] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "row": self.row,
            "auc": self.auc,
            "auc_ci": list(self.auc_ci),
            "advantage": self.advantage,
            "advantage_ci": list(self.advantage_ci),
            "epsilon": self.epsilon.to_dict(),
            "roc": {"fpr": list(self.roc[0]), "tpr": list(self.roc[1])},
        }


@dataclass(frozen=True)
class ShadowResult:
    """Outcome of a shadow-model attack: one :class:`TargetRisk` per target and their mean AUC.

    ``n_fits`` counts fits per target per class (total ``n_fits × (targets + 1)``).
    """

    synthesizer: str
    params: dict
    epsilon_claimed: float | None
    n_fits: int
    reference_size: int
    targets: tuple[TargetRisk, ...]
    mean_auc: float
    mean_auc_ci: tuple[float, float]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "attack": "shadow-model membership inference (Stadler et al. 2022)",
            "synthesizer": self.synthesizer,
            "params": dict(self.params),
            "epsilon_claimed": self.epsilon_claimed,
            "n_fits": self.n_fits,
            "n_fits_meaning": "fits per target per class; fits without any target are shared by all targets",
            "total_fits": self.n_fits * (len(self.targets) + 1),
            "reference_size": self.reference_size,
            "mean_auc": self.mean_auc,
            "mean_auc_ci": list(self.mean_auc_ci),
            "seconds": self.seconds,
            "targets": [t.to_dict() for t in self.targets],
            "note": "computed from the private data without differential privacy; not a release",
        }


# --------------------------------------------------------------------------- statistics
def _auc_matrix(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """1 where a member outscores a non-member, 0.5 for ties: AUC is its mean."""
    return (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])


def _advantage(pos: np.ndarray, neg: np.ndarray, wp: np.ndarray, wn: np.ndarray) -> np.ndarray:
    """max over thresholds of TPR − FPR, for each row of bootstrap weights (counts)."""
    thresholds = np.unique(np.r_[pos, neg])
    ge_p = (pos[None, :] >= thresholds[:, None]).astype(float)  # (T, n_pos)
    ge_n = (neg[None, :] >= thresholds[:, None]).astype(float)
    tpr = wp @ ge_p.T / wp.sum(axis=1, keepdims=True)
    fpr = wn @ ge_n.T / wn.sum(axis=1, keepdims=True)
    return np.maximum((tpr - fpr).max(axis=1), 0.0)


def _weights(rng: np.random.Generator, n: int, b: int) -> np.ndarray:
    """Bootstrap resamples as counts, the first row the original sample."""
    w = np.empty((b + 1, n))
    w[0] = 1
    w[1:] = rng.multinomial(n, np.full(n, 1.0 / n), size=b)
    return w


def _ci(draws: np.ndarray) -> tuple[float, float]:
    lo, hi = np.quantile(draws, [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2])
    return float(lo), float(hi)


# --------------------------------------------------------------------------- inputs
def _resolve_synthesizer(synthesizer: Any, params: dict | None) -> tuple[str, dict]:
    if isinstance(synthesizer, Synthesizer):
        name, merged = synthesizer.name, {**synthesizer.get_params(), **(params or {})}
    elif isinstance(synthesizer, str):
        name, merged = synthesizer, dict(params or {})
    else:
        raise ConfigError(
            f"synthesizer must be a registry name or a Synthesizer, got {type(synthesizer).__name__}"
        )
    get_synthesizer(name, **merged)  # unknown names and hyper-parameters fail here, before any fit
    return name, merged


def _resolve_targets(real: pd.DataFrame, targets: Any, n_targets: int, schema: Any, seed: int) -> Targets:
    if isinstance(targets, Targets):
        _check_rows(list(targets.rows), len(real))
        return targets
    if targets is None:
        return select_targets(real, schema, n=n_targets, seed=seed)
    if isinstance(targets, (int, np.integer)):
        targets = [targets]
    return select_targets(real, schema, rows=list(targets), seed=seed)


def _check_sizes(n_rows: int, n_targets: int, n_fits: Any, reference_size: Any, synthetic_size: Any) -> None:
    if isinstance(n_fits, bool) or not isinstance(n_fits, (int, np.integer)) or n_fits < MIN_FITS:
        raise ConfigError(
            f"n_fits={n_fits!r} is too few: each target needs at least {MIN_FITS} fits per class "
            "(half train the attack, half test it); raise n_fits (tens give useful intervals)"
        )
    if isinstance(reference_size, bool) or not isinstance(reference_size, (int, np.integer)) or reference_size < MIN_ROWS:
        raise ConfigError(f"reference_size must be a whole number of rows, at least {MIN_ROWS}; got {reference_size!r}")
    if reference_size + n_targets > n_rows:
        raise ConfigError(
            f"reference_size={reference_size} plus {n_targets} target(s) needs {reference_size + n_targets} "
            f"records, but the table has {n_rows}: lower reference_size to at most {n_rows - n_targets} "
            "(reference datasets are drawn from the records other than the targets)"
        )
    if synthetic_size is not None and (
        isinstance(synthetic_size, bool) or not isinstance(synthetic_size, (int, np.integer)) or synthetic_size < 1
    ):
        raise ConfigError(f"synthetic_size must be a positive whole number of rows, got {synthetic_size!r}")


# --------------------------------------------------------------------------- the attack
def _fit_sample(name, params, data, schema, epsilon, delta, fit_seed, n_out) -> pd.DataFrame:
    """One audit fit and its sample: internal (never released), so recorded in no ledger."""
    with warnings.catch_warnings(), unrecorded():
        warnings.simplefilter("ignore")  # conform notes repeat for every fit; the audit is not a release
        model = get_synthesizer(name, **params).fit(data, schema, epsilon=epsilon, delta=delta, seed=fit_seed)
        return model.sample(n_out, seed=fit_seed + 1)


def shadow_attack(
    real: pd.DataFrame,
    synthesizer: Any,
    *,
    params: dict | None = None,
    targets: Targets | Sequence[int] | None = None,
    n_targets: int = 5,
    n_fits: int = 100,
    reference_size: int = 1000,
    epsilon: float | None = None,
    delta: float | None = None,
    schema: Any = None,
    seed: Seed = 0,
    progress: bool = True,
    synthetic_size: int | None = None,
) -> ShadowResult:
    """Run the shadow-model membership attack of Stadler et al. on the most exposed records.

    ``synthesizer`` is a registry name (with ``params``) or a Synthesizer instance (its name and
    ``get_params()``); each fit uses ``schema``, ``epsilon`` and ``delta`` exactly as a release
    would. ``targets``: a :class:`Targets`, positional row numbers, or None for the
    ``n_targets`` most exposed records. ``n_fits`` is fits per target per class; total fits are
    ``n_fits × (targets + 1)``, shown with time remaining on a terminal. Synthetic outputs have
    ``synthetic_size`` rows (default ``reference_size``). Equal seeds give equal results for
    non-DP synthesizers (DP noise comes from OpenDP and is not seedable).

    Audit fits never touch a privacy ledger, and the result is computed from the private data
    without DP: treat it as sensitive.

    >>> import lookalike
    >>> from lookalike.schema import infer_schema
    >>> adult = lookalike.load_demo()[["age", "workclass", "sex", "income"]].head(400)
    >>> r = shadow_attack(adult, "independent", n_targets=1, n_fits=4, reference_size=100,
    ...                   schema=infer_schema(adult), progress=False)
    >>> r.n_fits, len(r.targets), 0.0 <= r.mean_auc <= 1.0
    (4, 1, True)
    """
    start = time.perf_counter()
    if not isinstance(real, pd.DataFrame):
        raise DataError(f"the real table must be a pandas DataFrame, got {type(real).__name__}")
    name, params = _resolve_synthesizer(synthesizer, params)
    rng = as_rng(seed)
    target_seed = int(rng.integers(2**31))
    chosen = _resolve_targets(real, targets, n_targets, schema, target_seed)
    k = len(chosen.rows)
    _check_sizes(len(real), k, n_fits, reference_size, synthetic_size)
    n_fits, reference_size = int(n_fits), int(reference_size)
    n_out = int(synthetic_size or reference_size)

    enc = RecordEncoding.fit(real, schema)
    real_arrays = enc.arrays(real)
    profiles = [profile(enc, real_arrays, r) for r in chosen.rows]
    pool = np.setdiff1d(np.arange(len(real)), np.asarray(chosen.rows))

    # Plan every fit up front, so results do not depend on the order they run in.
    plans = []  # (target index or -1, reference rows, fit seed)
    for who in [-1, *range(k)]:
        for _ in range(n_fits):
            rows = rng.choice(pool, reference_size, replace=False)
            if who >= 0:
                rows[rng.integers(reference_size)] = chosen.rows[who]
            plans.append((who, rows, int(rng.integers(2**31 - 2))))

    specific: list[list[np.ndarray]] = []  # per fit: features for each target (clean) or its own
    bar = progress_bar(f"shadow attack on {name}", len(plans)) if progress else contextlib.nullcontext(None)
    with bar as advance:
        for who, rows, fit_seed in plans:
            synth = _fit_sample(name, params, real.iloc[rows], schema, epsilon, delta, fit_seed, n_out)
            arrays = enc.arrays(synth)
            matrix, codes = enc.matrix(arrays), enc.codes(arrays)[0]
            who_list = range(k) if who < 0 else [who]
            specific.append(
                [target_features(enc, arrays, profiles[t], matrix=matrix, codes=codes) for t in who_list]
            )
            if advance is not None:
                advance()

    n_train = n_fits // 2
    clean = list(range(n_fits))
    clean_train, clean_test = clean[:n_train], clean[n_train:]
    n_test = n_fits - n_train
    boot = np.random.default_rng(int(rng.integers(2**31)))
    w_neg = _weights(boot, n_test, N_BOOTSTRAP)  # shared by every target
    risks, auc_draws = [], []
    for t in range(k):
        mine = list(range(n_fits * (t + 1), n_fits * (t + 2)))
        pos_train, pos_test = mine[:n_train], mine[n_train:]

        def X(fits, t=t, own=False):
            return np.array([specific[f][0 if own else t] for f in fits])

        x_train = np.r_[X(pos_train, own=True), X(clean_train)]
        y_train = np.r_[np.ones(n_train), np.zeros(n_train)]
        forest = RandomForestClassifier(
            n_estimators=100, min_samples_leaf=1, max_features=0.3, random_state=int(rng.integers(2**31)), n_jobs=1
        ).fit(x_train, y_train)
        pos = forest.predict_proba(X(pos_test, own=True))[:, 1]
        neg = forest.predict_proba(X(clean_test))[:, 1]

        w_pos = _weights(boot, n_test, N_BOOTSTRAP)
        aucs = np.einsum("bi,ij,bj->b", w_pos, _auc_matrix(pos, neg), w_neg) / (n_test * n_test)
        advs = _advantage(pos, neg, w_pos, w_neg)
        auc_draws.append(aucs)
        fpr, tpr, _ = roc_curve(np.r_[np.ones(n_test), np.zeros(n_test)], np.r_[pos, neg])
        bound = empirical_epsilon(pos, neg, delta=float(delta or 0.0), confidence=CONFIDENCE, seed=int(rng.integers(2**31)))
        risks.append(
            TargetRisk(
                row=int(chosen.rows[t]),
                auc=float(aucs[0]),
                auc_ci=_ci(aucs[1:]),
                advantage=float(advs[0]),
                advantage_ci=_ci(advs[1:]),
                epsilon=bound,
                roc=(tuple(map(float, fpr)), tuple(map(float, tpr))),
            )
        )
    means = np.mean(auc_draws, axis=0)
    return ShadowResult(
        synthesizer=name,
        params=params,
        epsilon_claimed=None if epsilon is None else float(epsilon),
        n_fits=n_fits,
        reference_size=reference_size,
        targets=tuple(risks),
        mean_auc=float(means[0]),
        mean_auc_ci=_ci(means[1:]),
        seconds=time.perf_counter() - start,
    )
