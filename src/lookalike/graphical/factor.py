"""``Factor``: a table of log-values over a :class:`Domain`, and the pure functions on it.

A factor is a non-negative function of a few attributes kept as its logarithm, so products are
sums and summing an attribute out is a log-sum-exp. Operations return new read-only factors;
attribute order follows the domain, and :meth:`Factor.expand` / :meth:`Factor.transpose`
change it. Zero entries are ``-inf`` and are handled without warnings or NaNs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from lookalike.errors import ConfigError
from lookalike.graphical.domain import Domain

__all__ = ["Factor", "logsumexp", "reorder"]


def logsumexp(values: np.ndarray, axis: int | tuple[int, ...] | None = None) -> np.ndarray:
    """``log(sum(exp(values)))`` over ``axis``, exact for large magnitudes; all ``-inf`` gives ``-inf``.

    >>> float(logsumexp(np.log(np.array([1.0, 3.0]))))
    1.3862943611198906
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return np.log(np.sum(np.exp(values), axis=axis))
    top = np.max(values, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(values - top), axis=axis, keepdims=True)) + top
    if axis is None:
        return out.reshape(())
    return np.squeeze(out, axis=axis)


def reorder(values: np.ndarray, attrs: Sequence[str], target: Sequence[str]) -> np.ndarray:
    """``values`` (axes named ``attrs``) with its axes put in the order ``target`` (a view).

    >>> reorder(np.zeros((2, 3)), ("a", "b"), ("b", "a")).shape
    (3, 2)
    """
    return np.transpose(values, [list(attrs).index(a) for a in target])


def _frozen(values: np.ndarray) -> np.ndarray:
    if values.flags.writeable:
        values = values.copy()
        values.flags.writeable = False
    return values


@dataclass(frozen=True, eq=False)
class Factor:
    """Log-values over ``domain`` (``values.shape == domain.shape``); immutable.

    >>> dom = Domain(("a", "b"), (2, 3))
    >>> f = Factor(dom.project("a"), np.log([1.0, 3.0]))
    >>> g = Factor.zeros(dom.project("b"))
    >>> h = f + g                                   # product: f(a) * g(b) over (a, b)
    >>> h.domain.attrs, np.exp(h.sum_out(["b"]).values).round(6).tolist()
    (('a', 'b'), [3.0, 9.0])
    >>> h.transpose(("b", "a")).values.shape
    (3, 2)
    """

    domain: Domain
    values: np.ndarray

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=np.float64)
        if values.shape != self.domain.shape:
            raise ConfigError(
                f"factor values have shape {values.shape} but domain {list(self.domain.attrs)} "
                f"has shape {self.domain.shape}"
            )
        if np.isnan(values).any() or (values == np.inf).any():
            raise ConfigError(f"factor over {list(self.domain.attrs)} holds NaN or +inf log-values")
        object.__setattr__(self, "values", _frozen(values))

    @classmethod
    def zeros(cls, domain: Domain) -> Factor:
        """The constant factor 1 (log-value 0) over ``domain``."""
        return cls(domain, np.zeros(domain.shape))

    @property
    def attrs(self) -> tuple[str, ...]:
        return self.domain.attrs

    def transpose(self, attrs: Iterable[str]) -> Factor:
        """The same factor with its axes in the order ``attrs`` (a permutation of its attributes)."""
        attrs = tuple(attrs)
        if sorted(attrs) != sorted(self.attrs):
            raise ConfigError(f"cannot transpose factor over {list(self.attrs)} to {list(attrs)}")
        return Factor(self.domain.project(attrs), np.transpose(self.values, self.domain.axes(attrs)))

    def expand(self, domain: Domain) -> Factor:
        """Broadcast to a superset ``domain`` (constant along the new attributes, read-only view)."""
        missing = [a for a in self.attrs if a not in domain]
        if missing:
            raise ConfigError(f"cannot expand factor to {list(domain.attrs)}: it lacks {missing}")
        for attr in self.attrs:
            if domain[attr] != self.domain[attr]:
                raise ConfigError(f"attribute {attr!r} has a different size in the target domain")
        order = tuple(a for a in domain.attrs if a in self.domain)
        values = np.transpose(self.values, self.domain.axes(order))
        shape = tuple(domain[a] if a in self.domain else 1 for a in domain.attrs)
        return Factor(domain, np.broadcast_to(values.reshape(shape), domain.shape))

    def sum_out(self, attrs: Iterable[str]) -> Factor:
        """Sum the (exponentiated) factor over ``attrs``: log-sum-exp along their axes."""
        attrs = tuple(attrs)
        axes = self.domain.axes(attrs)
        return Factor(self.domain.marginalize(attrs), logsumexp(self.values, axis=axes))

    def max_out(self, attrs: Iterable[str]) -> Factor:
        """Maximise the factor over ``attrs`` (max-product elimination)."""
        attrs = tuple(attrs)
        axes = self.domain.axes(attrs)
        return Factor(self.domain.marginalize(attrs), np.max(self.values, axis=axes))

    def project(self, attrs: Iterable[str]) -> Factor:
        """The marginal over ``attrs`` (others summed out), axes in the order given."""
        attrs = tuple(attrs)
        return self.sum_out(a for a in self.attrs if a not in attrs).transpose(attrs)

    def logsumexp(self) -> float:
        """Log of the factor's total mass."""
        return float(logsumexp(self.values))

    def normalize(self, log_total: float = 0.0) -> Factor:
        """The factor rescaled so that its mass is ``exp(log_total)``."""
        return Factor(self.domain, self.values - self.logsumexp() + log_total)

    def exp(self) -> np.ndarray:
        """The factor's (linear) values as a new writable array."""
        return np.exp(self.values)

    def __add__(self, other: Factor | float) -> Factor:
        """Product of factors (sum of log-values) over the merged domain."""
        if isinstance(other, Factor):
            domain = self.domain.merge(other.domain)
            return Factor(domain, self.expand(domain).values + other.expand(domain).values)
        return Factor(self.domain, self.values + float(other))

    __radd__ = __add__

    def __sub__(self, other: Factor | float) -> Factor:
        """Quotient of factors; ``0 / 0`` (``-inf - -inf``) is taken as 0 (``-inf``)."""
        if isinstance(other, Factor):
            domain = self.domain.merge(other.domain)
            a, b = self.expand(domain).values, other.expand(domain).values
            with np.errstate(invalid="ignore"):
                out = np.where(np.isneginf(b), -np.inf, a - b)
            return Factor(domain, out)
        return Factor(self.domain, self.values - float(other))
