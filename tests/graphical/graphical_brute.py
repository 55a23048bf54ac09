"""Brute force for the graphical-model tests: the full joint table of a small model.

Imported by the tests as ``graphical_brute`` (this folder is on ``sys.path`` under pytest).
"""

from __future__ import annotations

import numpy as np

from lookalike.graphical import Domain, GraphicalModel


def joint_of(model: GraphicalModel) -> np.ndarray:
    """Expected counts over the whole domain (axes in domain order), by enumeration."""
    dom = model.domain
    log_joint = np.zeros(dom.shape)
    for clique, values in zip(model.cliques, model.potentials, strict=True):
        shape = tuple(dom[a] if a in clique else 1 for a in dom.attrs)
        log_joint = log_joint + values.reshape(shape)  # cliques are in domain order
    joint = np.exp(log_joint - log_joint.max())
    return model.total * joint / joint.sum()


def marginal_of(domain: Domain, joint: np.ndarray, attrs: tuple[str, ...]) -> np.ndarray:
    """Marginal of a full joint table over ``attrs``, axes in that order."""
    drop = tuple(i for i, a in enumerate(domain.attrs) if a not in attrs)
    kept = [a for a in domain.attrs if a in attrs]
    return np.transpose(joint.sum(axis=drop), [kept.index(a) for a in attrs])


def random_model(
    domain: Domain, cliques: list[tuple[str, ...]], rng: np.random.Generator, *, scale: float = 1.0,
    total: float = 1000.0,
) -> GraphicalModel:
    """A model with Gaussian log-potentials of standard deviation ``scale`` on ``cliques``."""
    cliques = [domain.canonical(c) for c in cliques]
    potentials = [scale * rng.normal(size=domain.project(c).shape) for c in cliques]
    return GraphicalModel(domain, tuple(cliques), tuple(potentials), total)
