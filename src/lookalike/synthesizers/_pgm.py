"""What MST and AIM share: noisy marginal measurements and a graphical model as their state."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from lookalike.graphical import GraphicalModel, Measurement
from lookalike.privacy.accountant import Accountant
from lookalike.privacy.mechanisms import gaussian_counts
from lookalike.synthesizers._marginal import MarginalSynthesizer

__all__ = ["GraphicalSynthesizer", "noisy_measurement"]


def noisy_measurement(counts: np.ndarray, attrs: tuple[str, ...], sigma: float | None,
                      accountant: Accountant | None, label: str) -> Measurement:
    """Discrete Gaussian noise of scale ``sigma`` on one marginal, charged to ``accountant``.

    Without an accountant (non-DP fits) the counts are taken as they are, with weight 1.
    """
    attrs = tuple(attrs)
    if accountant is None:
        return Measurement(attrs, np.asarray(counts, dtype=float), 1.0)
    noisy = gaussian_counts(counts, sigma=sigma)
    accountant.spend(f"{label} {'×'.join(attrs)}", noisy.rho, mechanism="discrete_gaussian",
                     detail=f"sigma={sigma:.4g}")
    return Measurement(attrs, noisy.values, sigma)


class GraphicalSynthesizer(MarginalSynthesizer):
    """A marginal synthesizer whose model is a :class:`~lookalike.graphical.GraphicalModel`
    in ``model_`` plus a structure list (the chosen marginals) in the attribute named by
    ``structure``."""

    structure: ClassVar[str] = ""

    def _sample_codes(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.model_.sample(n, rng)

    def _model_state(self):
        meta, arrays = self.model_.to_state()
        return {"graphical": meta, self.structure: getattr(self, f"{self.structure}_")}, arrays

    def _load_model_state(self, state, arrays) -> None:
        self.model_ = GraphicalModel.from_state(state["graphical"], arrays)
        setattr(self, f"{self.structure}_", state[self.structure])
