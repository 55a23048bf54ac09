"""DP discovery's noise made repeatable for tests: OpenDP's sampler is not seedable."""

from __future__ import annotations

import numpy as np


def seeded_noise(monkeypatch, seed: int):
    """OpenDP's sampler replaced by a seeded numpy Gaussian of the same scale (tests only);
    returns the discovery module."""
    import lookalike.privacy.discovery as discovery
    from lookalike.privacy.mechanisms import NoisyMarginal

    rng = np.random.default_rng(seed)

    def seeded(counts, *, sigma, sensitivity=1):
        counts = np.asarray(counts, dtype=float)
        noisy = np.round(counts + rng.normal(0, sigma, counts.shape))
        return NoisyMarginal(noisy, float(sigma), sensitivity**2 / (2 * sigma**2), "gaussian")

    monkeypatch.setattr(discovery, "gaussian_counts", seeded)
    return discovery
