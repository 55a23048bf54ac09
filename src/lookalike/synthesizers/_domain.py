"""A DP model's encoder, built from what domain discovery found (declared facts, paid releases).

:func:`lookalike.privacy.discovery.discover_domain` returns plain values and knows nothing of
encoders; here they become the :class:`~lookalike.transform.encoder.TableEncoder` the model
counts and samples through, so building it reads no data and costs nothing more.

>>> import lookalike
>>> from lookalike.marginals import NumpyEngine
>>> from lookalike.privacy.discovery import discover_domain
>>> real = lookalike.load_demo()
>>> schema = lookalike.infer_schema(real)
>>> found = encode_domain(discover_domain(NumpyEngine(schema.conform(real), schema), schema,
...                                       rho=None, n_bins=8))
>>> found.encoder.names == [c.name for c in found.schema.modelled]
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from lookalike.privacy.accountant import Release
from lookalike.privacy.discovery import ColumnDomain, DiscoveredDomain
from lookalike.schema import Schema
from lookalike.transform.discretize import Bins
from lookalike.transform.encoder import ColumnCodec, TableEncoder

__all__ = ["SUPPORT_Z", "EncodedDomain", "column_codec", "doubtful_codes", "encode_domain",
           "unsupported_codes"]

_Floats = npt.NDArray[np.float64]

SUPPORT_Z = 4.0
"""A doubtful code (:func:`doubtful_codes`) is generated only if its noisy count reaches this
many standard deviations of its noise."""


@dataclass(frozen=True, eq=False)
class EncodedDomain:
    """A discovered domain and the encoder built from it: what a DP fit models its data through.

    ``estimates`` holds, per column that has them, discovery's noisy counts over the column's
    codes with their variances (NaN where a code was not released: "other", missing).
    """

    found: DiscoveredDomain
    encoder: TableEncoder
    estimates: Mapping[str, tuple[_Floats, _Floats]]

    @property
    def schema(self) -> Schema:
        return self.found.schema

    @property
    def releases(self) -> tuple[Release, ...]:
        return self.found.releases

    @property
    def columns(self) -> dict[str, Mapping[str, Any]]:
        """Per column, how its domain was obtained (for the privacy report)."""
        return self.found.columns

    @property
    def one_way_rho(self) -> dict[str, float]:
        """Per column, the ρ left for its plain 1-way (empty when none was borrowed)."""
        return self.found.one_way_rho

    @property
    def rho_spent(self) -> float:
        return self.found.rho_spent

    @property
    def delta_spent(self) -> float:
        return self.found.delta_spent


def column_codec(domain: ColumnDomain) -> ColumnCodec:
    """The codec of one column: its categories or bins, then a missing code when nullable."""
    found = domain.bins
    bins = None if found is None else Bins(found.lower, found.upper, found.shape, found.integer)
    return ColumnCodec(domain.column, domain.categories, bins, domain.nullable,
                       fallback=domain.fallback)


def encode_domain(found: DiscoveredDomain) -> EncodedDomain:
    """The encoder of a discovered domain, with discovery's estimates laid over its codes."""
    codecs = tuple(column_codec(d) for d in found.domains)
    estimates = {}
    for domain, codec in zip(found.domains, codecs, strict=True):
        if domain.estimate is not None:
            counts, variances = domain.estimate
            estimates[codec.column.name] = (_pad(counts, codec.size), _pad(variances, codec.size))
    return EncodedDomain(found, TableEncoder(codecs), estimates)


def doubtful_codes(codec: ColumnCodec) -> list[int]:
    """The codes of a DP domain whose existence no release tested: the missing state and the
    "other" category.

    Discovery gives every column whose facts were not declared both of them, because it cannot
    know, without paying, that a column has no missing value or no category below its
    threshold. A model that samples them from their measured counts then turns the noise of an
    empty cell into missing values or "other" in a column that has none (0.5-8% in the marginal
    models on Adult, up to a third of a column in the neural ones on 1,000 rows).
    Discovered categories (noisy counts above a threshold) and bins (cells that stood out of
    the noise) were tested by discovery itself; declared ones are public.
    """
    codes = [codec.n_values] if codec.has_missing else []
    return codes + ([codec.fallback] if codec.fallback is not None else [])


def unsupported_codes(counts: npt.ArrayLike, sigma: npt.ArrayLike, codes: Sequence[int]) -> list[int]:
    """Those of ``codes`` whose noisy count (``counts[c]``) stays below ``SUPPORT_Z`` standard
    deviations of its noise (``sigma``: one for the column or one per code): a count the noise
    alone would give, which a model must not sample.

    Post-processing of released counts: no data read, no privacy cost. An empty code passes
    with probability about 3·10⁻⁵ (the Gaussian tail beyond 4σ); a real one is lost only when
    it holds fewer than about 4σ rows.

    >>> unsupported_codes([500.0, 130.0, 12.0], 25.0, [1, 2])  # 4σ = 100
    [2]
    """
    c = np.asarray(counts, dtype=float)
    s = np.broadcast_to(np.asarray(sigma, dtype=float), c.shape)
    return [int(k) for k in codes if c[k] < SUPPORT_Z * s[k]]


def _pad(values: _Floats, size: int) -> _Floats:
    out = np.full(size, np.nan)
    out[: len(values)] = values
    return out
