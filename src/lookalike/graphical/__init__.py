"""Graphical models estimated from noisy marginals (Private-PGM's approach, on NumPy).

MST and AIM measure noisy marginals of a table; :func:`estimate` finds the graphical model whose
marginals fit them best (McKenna, Sheldon & Miklau 2019), and the :class:`GraphicalModel` it
returns answers any marginal and samples synthetic rows. Everything here is post-processing of
the noisy measurements and spends no privacy budget.

>>> import numpy as np
>>> dom = Domain(("a", "b"), (2, 2))
>>> model = estimate(dom, [Measurement(("a", "b"), np.array([[40.0, 10.0], [10.0, 40.0]]), 1.0)])
>>> model.marginal(("b",)).round(3).tolist(), model.sample(4, 0).shape
([50.0, 50.0], (4, 2))
"""

from lookalike.graphical.domain import Domain
from lookalike.graphical.estimation import (
    Measurement,
    coarsen,
    estimate,
    estimate_total,
    measurement_loss,
)
from lookalike.graphical.factor import Factor
from lookalike.graphical.junction_tree import JunctionTree, hypothetical_model_size, model_size
from lookalike.graphical.model import GraphicalModel

__all__ = [
    "Domain",
    "Factor",
    "GraphicalModel",
    "JunctionTree",
    "Measurement",
    "coarsen",
    "estimate",
    "estimate_total",
    "hypothetical_model_size",
    "measurement_loss",
    "model_size",
]
