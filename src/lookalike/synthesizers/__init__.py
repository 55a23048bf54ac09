"""Synthesizers behind one protocol and a name registry.

>>> from lookalike.synthesizers import available
>>> {"independent", "gaussian_copula", "cart"} <= set(available())
True
"""

from lookalike.synthesizers.base import (
    Synthesizer,
    available,
    get_synthesizer,
    load_synthesizer,
    register,
)
from lookalike.synthesizers import cart, copula, independent  # noqa: F401  (registers them)

__all__ = ["Synthesizer", "available", "get_synthesizer", "load_synthesizer", "register"]
