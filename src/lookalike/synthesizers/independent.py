"""``independent``: each column drawn from its own marginal, all associations dropped.

A baseline: it keeps every 1-way distribution (numeric columns through fine quantile bins with
in-bin quantiles) and nothing else. Reads the data without DP: no formal privacy guarantee.

>>> import lookalike
>>> model = IndependentSynthesizer(n_bins=16).fit(lookalike.load_demo().head(500), seed=0)
>>> model.sample(3, seed=1).shape
(3, 15)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lookalike.errors import ConfigError
from lookalike.synthesizers.base import Conditions, Synthesizer, register
from lookalike.transform.encoder import TableEncoder

__all__ = ["IndependentSynthesizer"]


@register
class IndependentSynthesizer(Synthesizer):
    """Each column drawn from its own 1-way distribution; every association is dropped.

    A baseline, not a release: it keeps each column's distribution (categories with their
    frequencies, numbers through fine quantile bins with values drawn inside them) and nothing
    about how columns relate, so a model trained on its rows learns nothing. It reads the data
    without differential privacy (no formal guarantee). Pick it to measure how much a real
    synthesizer adds over independence; it fits and samples in one pass over the data
    (0.7 s on Adult's 26,049 rows on 2 cores).

    Parameters
    ----------
    n_bins : int, default 64
        Quantile bins per numeric and datetime column: more bins follow the distribution's
        shape more closely (values are drawn from the real values' quantiles inside a bin).
        Range: integer >= 2.
    """

    name = "independent"

    def __init__(self, *, n_bins: int = 64) -> None:
        self.n_bins = n_bins

    def _check_params(self) -> None:
        if not isinstance(self.n_bins, int) or self.n_bins < 2:
            raise ConfigError(f"n_bins must be an integer >= 2, got {self.n_bins!r}")

    def _fit(self, data: pd.DataFrame, rng: np.random.Generator) -> None:
        self.encoder_ = TableEncoder.fit(data, self.schema_, n_bins=self.n_bins)
        codes = self.encoder_.encode(data)
        self.probs_ = [
            np.bincount(codes[:, j], minlength=size) / len(codes)
            for j, size in enumerate(self.encoder_.sizes)
        ]

    def _sample(self, n: int, rng: np.random.Generator, conditions: Conditions | None) -> pd.DataFrame:
        return self.encoder_.frame(self._draw_columns(n, rng))

    def _draw_columns(self, n: int, rng: np.random.Generator) -> list[np.ndarray]:
        codes = np.column_stack([rng.choice(len(p), size=n, p=p) for p in self.probs_])
        return self.encoder_.decode_values(codes, rng)

    def _get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        metas, arrays = self.encoder_.to_state()
        arrays.update({f"probs.{j}": p for j, p in enumerate(self.probs_)})
        return {"encoder": metas}, arrays

    def _set_state(self, state: dict, arrays: dict[str, np.ndarray]) -> None:
        self.encoder_ = TableEncoder.from_state(state["encoder"], arrays, self.schema_)
        self.probs_ = [arrays[f"probs.{j}"] for j in range(len(self.encoder_.codecs))]
