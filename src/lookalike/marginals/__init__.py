"""Marginal count queries over a private table, and the engines that run them."""

from lookalike.marginals.engine import Engine, NumpyEngine, marginal_from_codes

__all__ = ["Engine", "NumpyEngine", "marginal_from_codes"]
