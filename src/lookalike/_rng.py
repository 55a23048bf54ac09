"""Seeds: every public entry point takes ``seed`` (int, Generator or None) and converts it once."""

from __future__ import annotations

import numpy as np

from lookalike.errors import ConfigError

Seed = int | np.random.Generator | None


def as_rng(seed: Seed) -> np.random.Generator:
    """Return a NumPy Generator for ``seed``; a Generator is passed through unchanged.

    >>> bool(as_rng(0).integers(10) == as_rng(0).integers(10))
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
        if seed is not None and seed < 0:
            raise ConfigError(f"seed must be a non-negative integer, got {seed}")
        return np.random.default_rng(seed)
    raise ConfigError(f"seed must be an int or numpy.random.Generator, got {type(seed).__name__}")
