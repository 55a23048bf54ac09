"""Measurements of a synthetic table against the real one: fidelity, utility, detection, queries.

:func:`evaluate` runs them all and returns an :class:`Evaluation` (frozen dataclasses with a
JSON form for the report). Each part is also a function of its own module, working on the
:class:`~lookalike.evaluate.tables.Tables` that :func:`~lookalike.evaluate.tables.prepare`
builds: ``fidelity``, ``associations``, ``utility``, ``detection``, ``queries``;
``validity`` (values outside the real domain, spurious missing values, collapsed columns, lost
categories) reads the tables as given. The k-way
marginal distances of the benchmark protocol live in :mod:`lookalike.evaluate.marginals`.

>>> import dataclasses
>>> from lookalike.evaluate import Evaluation
>>> [f.name for f in dataclasses.fields(Evaluation)]
['meta', 'fidelity', 'utility', 'detection', 'queries', 'verdict_sentences', 'validity']
"""

from lookalike.evaluate.api import evaluate
from lookalike.evaluate.result import Evaluation

__all__ = ["Evaluation", "evaluate"]
