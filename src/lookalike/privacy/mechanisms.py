"""Noise mechanisms, all drawing from OpenDP's vetted samplers (never numpy floats).

Counts get discrete Gaussian or discrete Laplace noise (exact on integers, immune to the
floating-point attacks on textbook samplers); selection uses report-noisy-max with Gumbel
noise, which is the exponential mechanism. Each function returns its privacy cost in ρ-zCDP
as OpenDP computes it, and the noise scale travels with the noisy values.

OpenDP draws from the operating system's secure randomness: DP noise is not reproducible
from a seed, by design. Seeds still fix every other random choice of a fit.

>>> noisy = gaussian_counts([10, 20, 30], sigma=5.0)
>>> noisy.values.shape, noisy.sigma, noisy.rho
((3,), 5.0, 0.02)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from types import ModuleType

import numpy as np
import numpy.typing as npt

from lookalike.errors import ConfigError

__all__ = ["NoisyMarginal", "gaussian_counts", "gaussian_values", "laplace_counts", "noisy_max"]


@functools.cache
def _dp() -> ModuleType:
    """The parts of OpenDP's prelude used here, with the contrib features on (imported on
    first use). Not ``opendp.prelude`` itself: it also imports OpenDP's scikit-learn extras,
    1.4 s that every CLI command (``lookalike budget`` included) paid."""
    import opendp.domains
    import opendp.measurements
    import opendp.measures
    import opendp.metrics
    import opendp.mod

    opendp.mod.enable_features("contrib")
    parts = (opendp.domains, opendp.metrics, opendp.measures)
    dp = ModuleType("lookalike_opendp")
    for part in parts:
        for name in getattr(part, "__all__", dir(part)):
            if not name.startswith("_"):
                setattr(dp, name, getattr(part, name))
    dp.m = opendp.measurements  # type: ignore[attr-defined]
    return dp


@dataclass(frozen=True, eq=False)
class NoisyMarginal:
    """Noisy counts with their noise scale (standard deviation) and privacy cost."""

    values: npt.NDArray[np.float64]
    sigma: float
    rho: float
    mechanism: str


def _int_counts(counts: npt.ArrayLike) -> list[int]:
    arr = np.asarray(counts)
    if arr.size == 0:
        raise ConfigError("cannot add noise to an empty vector of counts")
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.mod(arr, 1) == 0):
            raise ConfigError("counts must be whole numbers")
    out: list[int] = arr.astype(np.int64).ravel().tolist()
    return out


def gaussian_counts(counts: npt.ArrayLike, *, sigma: float, sensitivity: int = 1) -> NoisyMarginal:
    """Discrete Gaussian noise of scale ``sigma`` on integer counts of L2 sensitivity Δ.

    Cost ρ = Δ²/(2σ²). Adding or removing one row changes one cell of a marginal by 1, so
    Δ = 1 for one marginal.
    """
    if not sigma > 0:
        raise ConfigError(f"sigma must be > 0, got {sigma!r}")
    dp = _dp()
    space = dp.vector_domain(dp.atom_domain(T="i64")), dp.l2_distance(T="i64")
    meas = dp.m.make_gaussian(*space, scale=float(sigma))
    shape = np.shape(counts)
    noisy = np.asarray(meas(_int_counts(counts)), dtype=float).reshape(shape)
    return NoisyMarginal(noisy, float(sigma), float(meas.map(sensitivity)), "discrete_gaussian")


def gaussian_values(values: npt.ArrayLike, *, sigma: float, sensitivity: float) -> NoisyMarginal:
    """Gaussian noise of scale ``sigma`` on real values (clipped sums) of L2 sensitivity Δ,
    from OpenDP's floating-point-safe sampler. Cost ρ = Δ²/(2σ²)."""
    if not sigma > 0:
        raise ConfigError(f"sigma must be > 0, got {sigma!r}")
    dp = _dp()
    space = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.l2_distance(T=float)
    meas = dp.m.make_gaussian(*space, scale=float(sigma))
    arr = np.asarray(values, dtype=float)
    if arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ConfigError("Gaussian noise needs a non-empty vector of finite values")
    noisy = np.asarray(meas(arr.ravel().tolist()), dtype=float).reshape(arr.shape)
    return NoisyMarginal(noisy, float(sigma), float(meas.map(float(sensitivity))), "gaussian")


def laplace_counts(counts: npt.ArrayLike, *, scale: float, sensitivity: int = 1) -> NoisyMarginal:
    """Discrete Laplace noise of ``scale`` on integer counts of L1 sensitivity Δ.

    The release is ε-DP with ε = Δ/scale, i.e. ρ = ε²/2 in zCDP.
    """
    if not scale > 0:
        raise ConfigError(f"scale must be > 0, got {scale!r}")
    dp = _dp()
    space = dp.vector_domain(dp.atom_domain(T="i64")), dp.l1_distance(T="i64")
    meas = dp.m.make_laplace(*space, scale=float(scale))
    shape = np.shape(counts)
    noisy = np.asarray(meas(_int_counts(counts)), dtype=float).reshape(shape)
    eps = float(meas.map(sensitivity))
    return NoisyMarginal(noisy, float(scale) * np.sqrt(2), eps**2 / 2, "discrete_laplace")


def noisy_max(
    scores: npt.ArrayLike, *, epsilon: float, sensitivity: float = 1.0
) -> tuple[int, float]:
    """Index of the (noisily) largest score: the ε-DP exponential mechanism, ρ = ε²/8.

    ``sensitivity`` bounds how much one row changes any score.
    """
    if not epsilon > 0:
        raise ConfigError(f"epsilon must be > 0, got {epsilon!r}")
    dp = _dp()
    scale = 2.0 * sensitivity / epsilon
    meas = dp.m.make_noisy_max(
        dp.vector_domain(dp.atom_domain(T=float, nan=False)),
        dp.linf_distance(T=float),
        dp.zero_concentrated_divergence(),
        scale=scale,
    )
    values = [float(s) for s in np.asarray(scores, dtype=float).ravel()]
    return int(meas(values)), float(meas.map(float(sensitivity)))
