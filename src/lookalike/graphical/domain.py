"""``Domain``: the attributes of a table and how many values (codes ``0..k-1``) each one takes.

A domain is the index set of a contingency table: attribute names in a fixed order, each with
its number of values. Every marginal, factor and graphical model carries one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from lookalike.errors import ConfigError

__all__ = ["Domain"]


@dataclass(frozen=True)
class Domain:
    """Attribute names and their numbers of values; projections keep the order they are given.

    >>> dom = Domain(("age", "sex", "income"), (10, 2, 2))
    >>> dom.project(("income", "age"))
    Domain(attrs=('income', 'age'), shape=(2, 10))
    >>> dom.size(), dom.size(("sex", "income")), dom.axes(("income", "age"))
    (40, 4, (2, 0))
    >>> "sex" in dom, len(dom)
    (True, 3)
    """

    attrs: tuple[str, ...]
    shape: tuple[int, ...]

    def __post_init__(self) -> None:
        attrs, shape = tuple(self.attrs), tuple(self.shape)
        if len(attrs) != len(shape):
            raise ConfigError(
                f"a domain needs one size per attribute: got {len(attrs)} attributes "
                f"{list(attrs)} and {len(shape)} sizes {list(shape)}"
            )
        if len(set(attrs)) != len(attrs):
            dup = sorted({a for a in attrs if attrs.count(a) > 1})
            raise ConfigError(f"domain attributes must be unique; repeated: {dup}")
        for attr, size in zip(attrs, shape, strict=True):
            if not isinstance(attr, str):
                raise ConfigError(f"domain attribute names must be strings, got {attr!r}")
            if isinstance(size, bool) or not hasattr(size, "__index__"):
                raise ConfigError(f"size of attribute {attr!r} must be an integer, got {size!r}")
            if int(size) < 1:
                raise ConfigError(f"attribute {attr!r} must take at least 1 value, got {size}")
        object.__setattr__(self, "attrs", attrs)
        object.__setattr__(self, "shape", tuple(int(s) for s in shape))

    @classmethod
    def from_dict(cls, sizes: dict[str, int]) -> Domain:
        """Domain from ``{attribute: number of values}``, in the dict's order.

        >>> Domain.from_dict({"a": 2, "b": 3}).shape
        (2, 3)
        """
        return cls(tuple(sizes), tuple(sizes.values()))

    def __contains__(self, attr: object) -> bool:
        return attr in self.attrs

    def __len__(self) -> int:
        return len(self.attrs)

    def __iter__(self) -> Iterator[str]:
        return iter(self.attrs)

    def __getitem__(self, attr: str) -> int:
        """Number of values of ``attr``."""
        return self.shape[self._index(attr)]

    def _index(self, attr: str) -> int:
        try:
            return self.attrs.index(attr)
        except ValueError:
            raise ConfigError(
                f"attribute {attr!r} is not in the domain; known attributes: {list(self.attrs)}"
            ) from None

    def axes(self, attrs: Iterable[str]) -> tuple[int, ...]:
        """Positions of ``attrs`` in this domain, in the order given."""
        return tuple(self._index(a) for a in attrs)

    def project(self, attrs: Iterable[str] | str) -> Domain:
        """The sub-domain over ``attrs``, in the order given (a single name is allowed)."""
        if isinstance(attrs, str):
            attrs = (attrs,)
        attrs = tuple(attrs)
        return Domain(attrs, tuple(self.shape[i] for i in self.axes(attrs)))

    def marginalize(self, attrs: Iterable[str]) -> Domain:
        """The sub-domain without ``attrs`` (the rest keep this domain's order)."""
        drop = set(attrs)
        self.axes(drop)
        return self.project(a for a in self.attrs if a not in drop)

    def canonical(self, attrs: Iterable[str]) -> tuple[str, ...]:
        """``attrs`` sorted into this domain's order (the order junction-tree cliques use)."""
        return tuple(sorted(set(attrs), key=self._index))

    def size(self, attrs: Iterable[str] | None = None) -> int:
        """Number of cells of the table over ``attrs`` (all attributes when None)."""
        if attrs is None:
            return math.prod(self.shape)
        return math.prod(self.shape[i] for i in self.axes(attrs))

    def merge(self, other: Domain) -> Domain:
        """This domain followed by the attributes of ``other`` it lacks; shared sizes must agree."""
        for attr, size in zip(other.attrs, other.shape, strict=True):
            if attr in self and self[attr] != size:
                raise ConfigError(
                    f"cannot merge domains: attribute {attr!r} has {self[attr]} values in one "
                    f"and {size} in the other"
                )
        extra = [(a, s) for a, s in zip(other.attrs, other.shape, strict=True) if a not in self]
        return Domain(self.attrs + tuple(a for a, _ in extra), self.shape + tuple(s for _, s in extra))
