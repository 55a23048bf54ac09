"""Noise scales hold statistically; costs are OpenDP's; selection favours the best score."""

from __future__ import annotations

import numpy as np
import pytest

from lookalike.errors import ConfigError
from lookalike.privacy.accountant import exponential_rho, gaussian_rho, laplace_rho
from lookalike.privacy.mechanisms import gaussian_counts, laplace_counts, noisy_max

N = 20_000


def _within_4se_of_sigma(noise: np.ndarray, sigma: float, kurtosis_excess: float) -> None:
    # SE of the sample std is sigma * sqrt((2 + excess kurtosis) / (4n)) for large n. OpenDP's
    # noise cannot be seeded, so the bound is 4 SE: a false alarm 6 times in 100,000 runs per
    # check (3 SE failed about one CI run in 400)
    se = sigma * np.sqrt((2 + kurtosis_excess) / (4 * len(noise)))
    assert abs(noise.std() - sigma) < 4 * se, (noise.std(), sigma, se)
    assert abs(noise.mean()) < 4 * sigma / np.sqrt(len(noise))


def test_gaussian_scale_and_cost():
    counts = np.full(N, 100)
    noisy = gaussian_counts(counts, sigma=12.0)
    _within_4se_of_sigma(noisy.values - counts, 12.0, kurtosis_excess=0.0)
    assert noisy.rho == pytest.approx(gaussian_rho(sensitivity=1, sigma=12.0))


def test_laplace_scale_and_cost():
    counts = np.full(N, 50)
    noisy = laplace_counts(counts, scale=4.0)
    # Laplace: std = scale * sqrt(2), excess kurtosis 3
    _within_4se_of_sigma(noisy.values - counts, 4.0 * np.sqrt(2), kurtosis_excess=3.0)
    assert noisy.rho == pytest.approx(laplace_rho(0.25))


def test_noisy_max_cost_and_preference():
    idx, rho = noisy_max([0.0, 100.0, 1.0], epsilon=1.0)
    assert rho == pytest.approx(exponential_rho(1.0))
    assert idx == 1  # a gap of 100 at scale 2: the wrong pick has probability ~e^-50


def test_shape_kept_and_bad_scales():
    assert gaussian_counts(np.ones((3, 4), dtype=int), sigma=1.0).values.shape == (3, 4)
    with pytest.raises(ConfigError, match="sigma"):
        gaussian_counts([1, 2], sigma=0)
    with pytest.raises(ConfigError, match="epsilon"):
        noisy_max([1.0], epsilon=-1)
