"""Measurements of a synthetic table against the real one: fidelity, utility, detection, queries.

:func:`evaluate` runs them all and returns an :class:`Evaluation` (frozen dataclasses with a
JSON form for the report). Each part is also a function of its own module, working on the
:class:`~lookalike.evaluate.tables.Tables` that :func:`~lookalike.evaluate.tables.prepare`
builds: ``fidelity``, ``associations``, ``utility``, ``detection``, ``queries``;
``validity`` (values outside the real domain, spurious missing values, collapsed columns, lost
categories) reads the tables as given. The k-way
marginal distances of the benchmark protocol live in :mod:`lookalike.evaluate.marginals`.
:func:`evaluate_at_scale` measures against a real table left in Spark or DuckDB: marginal
distances over every real row from the engine's counts, the rest on a stated sample.

>>> import dataclasses
>>> from lookalike.evaluate import Evaluation
>>> [f.name for f in dataclasses.fields(Evaluation)]
['meta', 'fidelity', 'utility', 'detection', 'queries', 'verdict_sentences', 'validity']
"""

from lookalike.evaluate.api import evaluate
from lookalike.evaluate.result import Evaluation
from lookalike.evaluate.scale import ScaleEvaluation, evaluate_at_scale

__all__ = ["Evaluation", "ScaleEvaluation", "evaluate", "evaluate_at_scale"]
