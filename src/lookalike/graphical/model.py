"""``GraphicalModel``: a distribution over a domain as a product of clique potentials.

``p(x) ∝ exp(sum_c potentials_c(x_c))`` for the model's cliques ``c``, scaled to ``total``
records. Inference runs on the junction tree of the cliques (built on first use and cached):
:meth:`GraphicalModel.marginal` answers any attribute set exactly and
:meth:`GraphicalModel.sample` draws rows exactly from the distribution. The model holds only
potentials and a total, and saves as JSON metadata plus arrays (no pickle).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from lookalike._rng import Seed, as_rng
from lookalike.errors import ConfigError, ModelFileError
from lookalike.graphical.domain import Domain
from lookalike.graphical.factor import _frozen, reorder
from lookalike.graphical.inference import BeliefPropagation, marginal
from lookalike.graphical.junction_tree import JunctionTree
from lookalike.graphical.sampling import TreeSampler

__all__ = ["GraphicalModel", "tree_potentials"]

_KIND = "lookalike.graphical.GraphicalModel"


def tree_potentials(
    tree: JunctionTree, cliques: Sequence[tuple[str, ...]], potentials: Sequence[np.ndarray]
) -> list[np.ndarray]:
    """Log-potentials of the tree's maximal cliques: each clique potential added into its home."""
    out = [np.zeros(tree.domain.project(c).shape) for c in tree.cliques]
    for clique, values in zip(cliques, potentials, strict=True):
        ordered = tree.canonical(clique)
        home, shape, _ = tree.embed(ordered)
        out[home] += reorder(values, clique, ordered).reshape(shape)
    return out


@dataclass(frozen=True, eq=False)
class GraphicalModel:
    """Potentials on cliques (attributes in domain order) and the number of records they describe.

    >>> dom = Domain(("a", "b", "c"), (2, 2, 2))
    >>> pot = np.log([[4.0, 1.0], [1.0, 4.0]])                 # a and b agree 80% of the time
    >>> model = GraphicalModel(dom, (("a", "b"), ("b", "c")), (pot, pot), total=1000.0)
    >>> model.marginal(("a", "b")).round(1).tolist()
    [[400.0, 100.0], [100.0, 400.0]]
    >>> model.marginal(("c", "a")).round(1).tolist()           # spans both cliques
    [[340.0, 160.0], [160.0, 340.0]]
    >>> model.sample(5, 0).shape
    (5, 3)
    """

    domain: Domain
    cliques: tuple[tuple[str, ...], ...]
    potentials: tuple[np.ndarray, ...]
    total: float

    def __post_init__(self) -> None:
        cliques = tuple(tuple(c) for c in self.cliques)
        if len(cliques) != len(self.potentials):
            raise ConfigError(
                f"a graphical model needs one potential per clique: {len(cliques)} cliques, "
                f"{len(self.potentials)} potentials"
            )
        arrays = []
        for clique, values in zip(cliques, self.potentials, strict=True):
            if clique != self.domain.canonical(clique) or len(clique) == 0:
                raise ConfigError(f"clique {list(clique)} must be non-empty and in domain order")
            values = np.asarray(values, dtype=np.float64)
            if values.shape != self.domain.project(clique).shape or not np.isfinite(values).all():
                raise ConfigError(
                    f"potential of clique {list(clique)} must be finite with shape "
                    f"{self.domain.project(clique).shape}, got shape {values.shape}"
                )
            arrays.append(_frozen(values))
        if not (np.isfinite(self.total) and self.total > 0):
            raise ConfigError(f"total (number of records) must be positive, got {self.total}")
        object.__setattr__(self, "cliques", cliques)
        object.__setattr__(self, "potentials", tuple(arrays))
        object.__setattr__(self, "total", float(self.total))

    @cached_property
    def tree(self) -> JunctionTree:
        """The junction tree of the cliques (attributes in no clique are independent, uniform)."""
        return JunctionTree.build(self.domain, self.cliques)

    @cached_property
    def _calibrated(self) -> tuple[list[np.ndarray], float]:
        log_potentials = tree_potentials(self.tree, self.cliques, self.potentials)
        return BeliefPropagation(self.tree).calibrate(log_potentials)

    @cached_property
    def _sampler(self) -> TreeSampler:
        return TreeSampler(self.tree, self._calibrated[0])

    @property
    def size(self) -> int:
        """Cells over the junction tree's maximal cliques."""
        return self.tree.size()

    def marginal(self, attrs: Iterable[str]) -> np.ndarray:
        """Expected counts over ``attrs`` (axes in the order given), summing to ``total``."""
        attrs = (attrs,) if isinstance(attrs, str) else tuple(attrs)
        self.domain.axes(attrs)
        if len(set(attrs)) != len(attrs):
            raise ConfigError(f"marginal attributes must be distinct, got {list(attrs)}")
        return self.total * marginal(self.tree, self._calibrated[0], attrs)

    def sample(self, n: int, rng: Seed = None, *, counts_exact: bool = False) -> np.ndarray:
        """``n`` rows of codes (int64, columns in domain order) drawn exactly from the model.

        Walks the junction tree from its root (see :mod:`lookalike.graphical.sampling`). With
        ``counts_exact`` the root cells and each separator group's draws are rounded (largest
        remainder) to their expected counts and randomly ordered, which removes most sampling
        noise from the clique marginals. Equal seeds give equal rows.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ConfigError(f"number of rows to sample must be a non-negative integer, got {n!r}")
        return self._sampler.sample(int(n), as_rng(rng), counts_exact)

    def conditioned(self, weights: Mapping[str, np.ndarray]) -> tuple[TreeSampler | None, float]:
        """A sampler of the model conditioned on evidence, and the evidence's probability.

        ``weights[attr]`` holds one non-negative weight per value of ``attr`` (0/1 for a set of
        allowed values; a share for a value partly allowed); the conditioned distribution is
        ``p(x) * prod_attr weights[attr][x_attr]`` renormalised, which the junction tree
        calibrates exactly (the weights join the log-potential of a clique holding ``attr``),
        so draws need no rejection. The probability is ``E_p[prod weights]`` (0: the sampler
        is None). Post-processing of the model: it reads no data.

        >>> dom = Domain(("a", "b"), (2, 2))
        >>> pot = np.log([[4.0, 1.0], [1.0, 4.0]])
        >>> model = GraphicalModel(dom, (("a", "b"),), (pot,), total=100.0)
        >>> sampler, p = model.conditioned({"a": np.array([0.0, 1.0])})
        >>> round(p, 3), bool((sampler.sample(50, np.random.default_rng(0))[:, 0] == 1).all())
        (0.5, True)
        """
        log_potentials = tree_potentials(self.tree, self.cliques, self.potentials)
        for attr, w in weights.items():
            w = np.asarray(w, dtype=float)
            if w.shape != (self.domain[attr],) or (w < 0).any() or not np.isfinite(w).all():
                raise ConfigError(f"evidence on {attr!r} must hold {self.domain[attr]} non-negative weights")
            home = self.tree.find((attr,))
            assert home is not None  # every attribute has a clique (a singleton if in none)
            clique = self.tree.cliques[home]
            shape = [1] * len(clique)
            shape[clique.index(attr)] = len(w)
            with np.errstate(divide="ignore"):
                log_potentials[home] = log_potentials[home] + np.log(w).reshape(shape)
        if any(not np.isfinite(lp).any() for lp in log_potentials):
            return None, 0.0
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            probs, log_z = BeliefPropagation(self.tree).calibrate(log_potentials)
        if not np.isfinite(log_z):
            return None, 0.0
        p = float(np.exp(log_z - self._calibrated[1]))
        return TreeSampler(self.tree, probs), p

    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """JSON-serialisable metadata and named arrays (``potential.<i>``) for a model file."""
        meta = {
            "kind": _KIND,
            "version": 1,
            "attrs": list(self.domain.attrs),
            "shape": list(self.domain.shape),
            "cliques": [list(c) for c in self.cliques],
            "total": self.total,
        }
        return meta, {f"potential.{i}": np.array(p) for i, p in enumerate(self.potentials)}

    @classmethod
    def from_state(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> GraphicalModel:
        """Rebuild a model written by :meth:`to_state`; a foreign or damaged state raises."""
        if not isinstance(meta, dict) or meta.get("kind") != _KIND:
            raise ModelFileError(f"not a graphical model state (kind {meta.get('kind')!r})")
        if meta.get("version") != 1:
            raise ModelFileError(
                f"graphical model state version {meta.get('version')!r} is not supported (need 1); "
                "refit the model with this version of lookalike"
            )
        try:
            domain = Domain(tuple(meta["attrs"]), tuple(meta["shape"]))
            cliques = tuple(tuple(c) for c in meta["cliques"])
            potentials = tuple(arrays[f"potential.{i}"] for i in range(len(cliques)))
            return cls(domain, cliques, potentials, float(meta["total"]))
        except (KeyError, TypeError, ConfigError) as exc:
            raise ModelFileError(f"damaged graphical model state: {exc}") from exc
