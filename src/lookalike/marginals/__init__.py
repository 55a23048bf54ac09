"""Marginal count queries over a private table, and the engines that run them."""

from lookalike.marginals.duckdb import DuckDBEngine, schema_from_duckdb
from lookalike.marginals.engine import Engine, NumpyEngine, marginal_from_codes

__all__ = ["DuckDBEngine", "Engine", "NumpyEngine", "marginal_from_codes", "schema_from_duckdb"]
