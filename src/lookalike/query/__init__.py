"""Private answers from the real table: aggregate SQL answered under DP where the rows live.

``lookalike.query(data, sql, epsilon=...)`` (this package, callable) answers COUNT, SUM, AVG,
quantiles and GROUP BY over one table inside DuckDB, charges the dataset's privacy ledger
before it reads, and returns each answer with its noise and 95% interval, beside the same
query on synthetic rows when given (:func:`lookalike.query.api.query` says how).

>>> import lookalike, warnings
>>> real = lookalike.load_demo()
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")  # no ledger in this example
...     r = lookalike.query(real, "SELECT count(*) AS n FROM adult WHERE age >= 65",
...                         epsilon=1.0)
>>> list(r.answers.columns), bool(r.details["noise_sd"].iloc[0] > 0)
(['n'], True)
"""

from __future__ import annotations

import sys
import types
from typing import Any

from lookalike.query._sql import QueryError, parse_query
from lookalike.query.api import query
from lookalike.query.result import QueryResult

__all__ = ["QueryError", "QueryResult", "parse_query", "query"]


class _CallableModule(types.ModuleType):
    """``lookalike.query`` is this package and the function at once: importing the package
    (which Python does on any ``lookalike.query.*`` import) binds the name to the module, so
    the module answers calls as :func:`query` does."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return query(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
