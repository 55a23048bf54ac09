"""What MST and AIM share: noisy marginal measurements and a graphical model as their state."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from lookalike.graphical import GraphicalModel, Measurement
from lookalike.privacy.accountant import Accountant
from lookalike.privacy.mechanisms import gaussian_counts
from lookalike.synthesizers._marginal import MarginalSynthesizer
from lookalike.synthesizers.conditions import Conditions

__all__ = ["GraphicalSynthesizer", "noisy_measurement"]


def noisy_measurement(counts: np.ndarray, attrs: tuple[str, ...], sigma: float | None,
                      accountant: Accountant | None, label: str, groups=None) -> Measurement:
    """Discrete Gaussian noise of scale ``sigma`` on one marginal, charged to ``accountant``.

    ``counts`` are of the marginal with its cells grouped by ``groups`` when given (see
    :class:`~lookalike.graphical.Measurement`). Without an accountant (non-DP fits) the counts
    are taken as they are, with weight 1.
    """
    attrs = tuple(attrs)
    if accountant is None:
        return Measurement(attrs, np.asarray(counts, dtype=float), 1.0, groups)
    noisy = gaussian_counts(counts, sigma=sigma)
    coarse = " (grouped cells)" if groups is not None else ""
    accountant.spend(f"{label} {'×'.join(attrs)}{coarse}", noisy.rho, mechanism="discrete_gaussian",
                     detail=f"sigma={sigma:.4g}, {noisy.values.size} cells")
    return Measurement(attrs, noisy.values, sigma, groups)


#: conditions whose cells hold fewer of the model's rows are refused: a graphical model fitted
#: by estimation gives every cell some mass (a value never seen: about 0.05 of 3,000 rows), and
#: exact conditioning would turn that sliver into a whole sample of values the data never had
MIN_EXPECTED_ROWS = 0.5


class GraphicalSynthesizer(MarginalSynthesizer):
    """A marginal synthesizer whose model is a :class:`~lookalike.graphical.GraphicalModel`
    in ``model_`` plus a structure list (the chosen marginals) in the attribute named by
    ``structure``."""

    structure: ClassVar[str] = ""

    def _sample_codes(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.model_.sample(n, rng)

    def _sample_codes_given(self, n: int, rng: np.random.Generator, weights: dict[str, np.ndarray],
                            conds: Conditions) -> np.ndarray:
        """Exact draws from the graphical model given the evidence ``weights``: the junction
        tree is calibrated again with the weights in its potentials
        (:meth:`~lookalike.graphical.GraphicalModel.conditioned`), then sampled as usual, so no
        draw is rejected however rare the conditions."""
        sampler, p = self.model_.conditioned(weights)
        total = self.model_.total
        if sampler is not None and p * total < MIN_EXPECTED_ROWS:
            # a narrow range is fine; codes (cells) the model holds under half a row are not
            _, p_cells = self.model_.conditioned({k: (w > 0).astype(float) for k, w in weights.items()})
            if p_cells * total < MIN_EXPECTED_ROWS:
                raise self._condition_failure(
                    conds, f"hold about {p_cells * total:.2g} of the model's {total:,.0f} rows",
                    zero=True)
        if sampler is None or p <= 0:
            raise self._condition_failure(conds, "have probability 0 under the model", zero=True)
        return sampler.sample(n, rng)

    def _model_state(self):
        meta, arrays = self.model_.to_state()
        return {"graphical": meta, self.structure: getattr(self, f"{self.structure}_")}, arrays

    def _load_model_state(self, state, arrays) -> None:
        self.model_ = GraphicalModel.from_state(state["graphical"], arrays)
        setattr(self, f"{self.structure}_", state[self.structure])
