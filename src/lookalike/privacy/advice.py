"""Warnings about a privacy setting itself, given before anything is spent.

An (ε, δ) guarantee holds for any ε and δ, but some settings guarantee little: an ε above
:data:`HUGE_EPSILON` lets the odds of telling whether a row is in the table grow by e^ε (over
22,000 at ε = 10), and a δ of 1/n or more allows a mechanism that publishes one whole row in
n outright. These functions say so, with the numbers and the fix; they read no data (``n_rows``
is the caller's: the CLI's exact count, a ledger's fingerprint), and ``lookalike synth``,
``fit``, ``inspect`` and ``budget`` print them.

>>> epsilon_warning(20.0) is not None, epsilon_warning(1.0)
(True, None)
>>> delta_warning(1e-9, 1000), delta_warning(0.05, 50) is not None
(None, True)
"""

from __future__ import annotations

import math

__all__ = ["HUGE_EPSILON", "delta_warning", "epsilon_warning"]

HUGE_EPSILON = 10.0
"""Above this ε a DP guarantee provides little protection (the odds bound e^ε passes 22,000)."""


def epsilon_warning(epsilon: float, option: str = "--epsilon") -> str | None:
    """The warning for an ε above :data:`HUGE_EPSILON`, or None."""
    if not epsilon > HUGE_EPSILON:
        return None
    odds = f"{math.exp(epsilon):.2g}" if epsilon < 700 else "an astronomical factor"
    return (f"epsilon={epsilon:g} provides little protection: it lets an attacker's odds of "
            f"telling whether a row is in the table grow by e^{epsilon:g} = {odds}; choose "
            f"epsilon <= {HUGE_EPSILON:g} (usual values lie between 0.1 and 5) ({option})")


def delta_warning(delta: float, n_rows: int | None, option: str = "--delta") -> str | None:
    """The warning for δ ≥ 1/n on a table of ``n_rows`` rows (None when n is unknown or δ is
    below 1/n): such a δ allows a mechanism that publishes a whole row now and then."""
    if n_rows is None or n_rows < 1 or delta < 1.0 / n_rows:
        return None
    return (f"delta={delta:g} is not below 1/n = 1/{n_rows:,} ({1.0 / n_rows:.2g}): a guarantee "
            f"with such a delta allows publishing a whole row of the table outright with "
            f"probability delta; choose delta well below 1/n, e.g. 1e-9 ({option})")
