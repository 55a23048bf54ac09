"""Mode-specific normalisation of a numeric column for neural models (CTGAN's encoding).

A numeric column is modelled as a mixture of Gaussian modes. A value ``x`` becomes the mode
``k`` it was drawn from (sampled from its posterior over the modes) and a scalar
``α = (x − μ_k) / (4 σ_k)`` in ``[−1, 1]``; decoding inverts that and clips to the column's
bounds (Xu et al., "Modeling Tabular Data using Conditional GAN", NeurIPS 2019, §4.2).

The modes come from a variational Bayesian Gaussian mixture (a Dirichlet-process prior prunes
unneeded modes). Two ways to fit it:

* :func:`fit_modes` on the column's values: reads private data, for non-DP models only;
* :func:`modes_from_bins` on draws from DP bins (:mod:`lookalike.privacy.discovery`): pure
  post-processing of a charged release, so a DP model may use it at no further cost.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = np.r_[rng.normal(0, 1, 500), rng.normal(50, 2, 500)]
>>> norm = fit_modes(x, seed=0)
>>> sorted(np.round(norm.means[norm.weights > 0.2]).tolist())
[0.0, 50.0]
>>> alpha, mode = norm.transform(x, rng)
>>> bool(np.allclose(norm.inverse(alpha, mode), x))
True
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from lookalike._rng import Seed, as_rng
from lookalike.modelfile import model_array
from lookalike.transform.discretize import Bins

__all__ = ["ModeNormalizer", "fit_modes", "modes_from_bins"]

_SCALE = 4.0  # α = (x − μ) / (4σ): 4 standard deviations map to ±1


@dataclass(frozen=True, eq=False)
class ModeNormalizer:
    """Gaussian modes of one column (means, stds, weights) and the bounds decoded values keep."""

    means: np.ndarray
    stds: np.ndarray
    weights: np.ndarray
    lower: float
    upper: float

    @property
    def n_modes(self) -> int:
        return len(self.means)

    def posterior(self, values: np.ndarray) -> np.ndarray:
        """(n, modes) posterior probability of each mode for each value."""
        z = (values[:, None] - self.means[None, :]) / self.stds[None, :]
        logp = -0.5 * z**2 - np.log(self.stds)[None, :] + np.log(np.maximum(self.weights, 1e-12))[None, :]
        logp -= logp.max(axis=1, keepdims=True)
        p = np.exp(logp)
        return p / p.sum(axis=1, keepdims=True)

    def transform(self, values: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(α in [−1, 1], mode index) per value; the mode is drawn from its posterior.

        Missing values (NaN) get α = 0 and mode −1.
        """
        values = np.asarray(values, dtype=float)
        alpha = np.zeros(len(values))
        mode = np.full(len(values), -1, dtype=np.int64)
        ok = ~np.isnan(values)
        v = values[ok]
        if len(v):
            p = self.posterior(v)
            u = rng.random(len(v))[:, None]
            k = np.minimum((p.cumsum(axis=1) < u).sum(axis=1), self.n_modes - 1)
            a = (v - self.means[k]) / (_SCALE * self.stds[k])
            alpha[ok] = np.clip(a, -0.99, 0.99)
            mode[ok] = k
        return alpha, mode

    def inverse(self, alpha: np.ndarray, mode: np.ndarray) -> np.ndarray:
        """Values back from (α, mode), clipped to the bounds; NaN where mode is −1."""
        mode = np.asarray(mode, dtype=np.int64)
        k = np.clip(mode, 0, self.n_modes - 1)
        x = np.clip(alpha, -1, 1) * _SCALE * self.stds[k] + self.means[k]
        x = np.clip(x, self.lower, self.upper)
        return np.where(mode < 0, np.nan, x)

    def to_state(self, prefix: str) -> tuple[dict, dict[str, np.ndarray]]:
        arrays = {f"{prefix}.means": self.means, f"{prefix}.stds": self.stds, f"{prefix}.weights": self.weights}
        return {"lower": self.lower, "upper": self.upper}, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray], prefix: str) -> ModeNormalizer:
        """Modes saved by :meth:`to_state`, checked: finite, stds > 0, weights >= 0, lower <= upper.

        A damaged state raises ``ValueError`` naming the array (the model loader adds the file).
        """
        means = model_array(arrays, f"{prefix}.means", "mode means")
        stds = model_array(arrays, f"{prefix}.stds", "mode standard deviations", length=len(means))
        weights = model_array(arrays, f"{prefix}.weights", "mode weights", length=len(means))
        if len(means) == 0 or np.any(stds <= 0) or np.any(weights < 0) or weights.sum() <= 0:
            raise ValueError(
                f"arrays {prefix + '.stds'!r}, {prefix + '.weights'!r}: a column needs at least one "
                "mode, every standard deviation > 0 and weights >= 0 that do not sum to 0"
            )
        lower, upper = meta["lower"], meta["upper"]
        if not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in (lower, upper)) or not (
            np.isfinite(lower) and np.isfinite(upper) and lower <= upper
        ):
            raise ValueError(f"modes {prefix!r}: bounds {lower!r}, {upper!r} must be finite with lower <= upper")
        return cls(means, stds, weights, float(lower), float(upper))


def fit_modes(
    values: np.ndarray,
    *,
    max_modes: int = 10,
    weight_threshold: float = 0.005,
    max_rows: int = 20_000,
    bounds: tuple[float, float] | None = None,
    seed: Seed = None,
) -> ModeNormalizer:
    """Fit a variational Bayesian Gaussian mixture to ``values`` (NaN ignored).

    Reads the values themselves: for non-DP models, or on values that are already DP output.
    Modes with weight below ``weight_threshold`` are dropped (as CTGAN does); at most
    ``max_rows`` values (a random subset) are used, which keeps fitting to a second or two.
    """
    rng = as_rng(seed)
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    lo, hi = bounds if bounds is not None else ((float(v.min()), float(v.max())) if len(v) else (0.0, 1.0))
    if len(v) == 0:
        return ModeNormalizer(np.array([0.0]), np.array([1.0]), np.array([1.0]), lo, hi)
    if len(v) > max_rows:
        v = rng.choice(v, max_rows, replace=False)
    spread = float(v.std())
    distinct = np.unique(v)
    if spread == 0 or len(distinct) < 2:
        return ModeNormalizer(np.array([float(v.mean())]), np.array([max(spread, 1e-3)]), np.array([1.0]), lo, hi)
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import BayesianGaussianMixture

    k = int(min(max_modes, len(distinct)))
    gm = BayesianGaussianMixture(
        n_components=k,
        weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=0.001,
        max_iter=100,
        n_init=1,
        random_state=int(rng.integers(2**31 - 1)),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(v.reshape(-1, 1))
    keep = gm.weights_ > weight_threshold
    if not keep.any():
        keep = gm.weights_ == gm.weights_.max()
    means = gm.means_.ravel()[keep]
    stds = np.sqrt(gm.covariances_.ravel()[keep])
    # a mode narrower than the data's resolution would map neighbours to |α| ≫ 1
    stds = np.maximum(stds, 1e-3 * spread)
    weights = gm.weights_[keep] / gm.weights_[keep].sum()
    order = np.argsort(means)
    return ModeNormalizer(means[order], stds[order], weights[order], lo, hi)


def modes_from_bins(
    bins: Bins,
    *,
    mass: np.ndarray | None = None,
    max_modes: int = 10,
    n_draws: int = 4_000,
    seed: Seed = None,
) -> ModeNormalizer:
    """Modes fitted to values drawn from DP bins: post-processing of a DP release, no new cost.

    ``mass`` is each bin's (noisy) share; by default the bins are taken as equal-mass, which is
    how DP discovery cuts them. Decoded values stay within the bins' outer edges. The draws
    only describe the bins (at most a few dozen, with their in-bin shapes), so a few thousand
    do: 20,000 took ~5 s of mixture fitting per column on 2 loaded cores, 4,000 about a fifth.
    """
    rng = as_rng(seed)
    w = np.ones(bins.n_bins) if mass is None else np.clip(np.asarray(mass, float), 0, None)
    w = w / w.sum() if w.sum() > 0 else np.full(bins.n_bins, 1 / bins.n_bins)
    codes = rng.choice(bins.n_bins, n_draws, p=w)
    draws = bins.decode(codes, rng)
    lo, hi = float(np.min(bins.lower)), float(np.max(bins.upper))
    return fit_modes(draws, max_modes=max_modes, bounds=(lo, hi), seed=rng)
