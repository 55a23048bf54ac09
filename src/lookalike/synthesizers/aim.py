"""``aim``: adaptive, workload-aware marginal selection (McKenna, Mullins, Sheldon, Miklau 2022).

AIM measures every 1-way marginal (together with domain discovery, at twice a round's budget:
``ONE_WAY_WEIGHT``), then spends the rest of the budget round by round: each
round the exponential mechanism picks the candidate marginal (a subset of a workload marginal)
whose current model answer is worst, corrected by the noise its measurement would carry and
weighted by its overlap with the workload; the pick is measured with Gaussian noise and the
graphical model is refitted (warm start). A candidate holding an ordered column of many bins
also comes with those bins grouped in adjacent pairs of about equal mass: half as many cells to
spread the same noise over, so a pair such as a date of birth and an age is measured on a small
table, where its full marginal would cost more noise than it corrects (graphical-model
estimation fits such a measurement as sums of the model's cells). When a new measurement barely moves the model the
noise is halved and the selection budget doubled (annealing), until the budget is spent.
Candidates that would make the model larger than ``max_model_size`` cells (scaled by the share of
budget spent so far) are skipped, which keeps fitting and sampling fast.

>>> import lookalike
>>> real = lookalike.load_demo().sample(3000, random_state=0)
>>> model = AIMSynthesizer(rounds=10).fit(real, epsilon=1.0, delta=1e-9, seed=0)
>>> model.sample(5, seed=0).shape
(5, 15)
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from lookalike._progress import progress
from lookalike.errors import ConfigError
from lookalike.graphical import Domain, Measurement, coarsen, estimate
from lookalike.graphical.junction_tree import hypothetical_model_size
from lookalike.marginals.engine import Engine
from lookalike.privacy.accountant import Accountant
from lookalike.privacy.mechanisms import noisy_max
from lookalike.synthesizers._checks import check_int
from lookalike.synthesizers._pgm import GraphicalSynthesizer, noisy_measurement
from lookalike.synthesizers.base import register
from lookalike.transform.encoder import TableEncoder

__all__ = ["AIMSynthesizer"]

_SQRT_2_PI = math.sqrt(2 / math.pi)
#: the initial 1-ways cost this many rounds each: they also set the domain (category thresholds,
#: bin shapes; see :func:`~lookalike.privacy.discovery.discover_domain`), so they are worth more
#: than one round (on Adult at ε = 1, 2-way TVD 0.060 with weight 1, 0.057 with 2, 0.058 with 3)
ONE_WAY_WEIGHT = 2
#: a candidate with an ordered column of more bins than this also comes coarse: that column's
#: bins merged into groups of adjacent bins, half as many (see :func:`coarse_groups`). Adding a
#: quarter as many gave no better 2-way TVD (compas, 3,000 rows: 0.185 in 5 fits against 0.171
#: in 3) and larger models (Adult: 3,459-3,761 cells against 2,740-2,908)
COARSE_MIN_BINS = 8
COARSE_FACTORS = (2,)
#: planned rounds per modelled column under DP (``rounds=None``). They set the first round's
#: noise (annealing halves it as measurements stop moving the model). Mean 2-way TVD at ε = 1,
#: 12 fits per table, 4 → 2 rounds per column: penguins 0.811 → 0.798, cars 0.730 → 0.710,
#: modechoice 0.568 → 0.546, anes96 0.526 → 0.502, compas_1k 0.353 → 0.341, compas_3k 0.160 →
#: 0.149, adult_1k 0.482 → 0.475, adult_3k 0.258 → 0.248, fair 0.119 → 0.110, seattle_weather
#: 0.430 → 0.440 (within its spread); Adult's 26,049 rows 0.057 (4 fits) → 0.055 (8 fits), TSTR
#: AUC 0.893 both. One per column helped some tables and hurt others (compas_3k 0.172), and
#: lowered TSTR AUC (fair 0.69 → 0.64, anes96 0.90 → 0.84)
DP_ROUNDS_PER_COLUMN = 2


def coarse_groups(counts: np.ndarray, n_bins: int, factor: int) -> np.ndarray | None:
    """Groups of adjacent bins of about equal mass, ``n_bins / factor`` of them, for a column
    whose first ``n_bins`` cells are ordered bins (any further cell, the missing state, stays a
    group of its own); None when that would not merge anything.

    ``counts`` is the column's released 1-way (noisy under DP: post-processing, no cost), so a
    bin holding a large share (a point mass) keeps a group to itself while sparse tails merge.

    >>> coarse_groups(np.array([50.0, 1, 1, 1, 1, 40, 3, 3, 0]), 8, 2).tolist()
    [0, 1, 1, 1, 1, 2, 3, 3, 4]
    """
    k = max(2, round(n_bins / factor))
    if k >= n_bins:
        return None
    mass = np.clip(np.asarray(counts[:n_bins], dtype=float), 0, None) + 1e-9
    target = mass.sum() / k * (1 + 1e-9)
    groups, g, held = [], 0, 0.0
    for m in mass:  # a new group where this bin would take the current one past its share
        if held > 0 and held + m > target:
            g, held = g + 1, 0.0
        groups.append(g)
        held += m
    if g + 1 >= n_bins:
        return None
    rest = np.arange(1, len(counts) - n_bins + 1) + g
    return np.concatenate([np.asarray(groups, dtype=np.int64), rest])


def workload_candidates(names: list[str], degree: int) -> dict[tuple[str, ...], float]:
    """Every subset of every ``degree``-way workload marginal, weighted by its total overlap."""
    workload = list(itertools.combinations(names, min(degree, len(names))))
    cands: dict[tuple[str, ...], float] = {}
    for k in range(1, min(degree, len(names)) + 1):
        for r in itertools.combinations(names, k):
            cands[r] = float(sum(len(set(r) & set(w)) for w in workload))
    return cands


@register
class AIMSynthesizer(GraphicalSynthesizer):
    """AIM: adaptive, workload-aware choice of noisy marginals, a graphical model fitted to them.

    Models every column's distribution, then round by round measures the marginal (of up to
    ``degree`` columns) that the current model gets most wrong, chosen with the exponential
    mechanism, and refits a graphical model to all noisy measurements; noise is annealed as
    the budget allows. With ``epsilon`` the fit is (ε, δ)-differentially private, domain
    included (declared facts are free); without, it fits exact counts with no guarantee. Pick
    it for the most faithful DP release of the marginal models (on Adult at ε = 1, 2-way TVD
    0.052 against mst's 0.069); it costs a few times mst's time (on Adult's 26,049 rows at
    ε = 1, 5-8 s on 2 cores against 2 s), growing with the rounds and ``max_model_size``.

    Parameters
    ----------
    degree : int, default 2
        Size of the workload's marginals: AIM aims at all 2-way (or 3-way) marginals and
        measures subsets of them.
        Range: 2 or 3.
    rounds : int or None, default None
        Planned measurement rounds after the 1-ways: they set the initial noise (annealing
        may end sooner or later, when the budget is spent).
        None: 2 × the number of modelled columns under DP; without DP, one per column.
        Range: integer >= 1, or None.
    max_model_size : int, default 2000000
        Most cells the graphical model may hold; a candidate that would make it larger (scaled
        by the share of the budget spent so far) is skipped, which keeps fitting and sampling
        fast.
        Range: integer >= 1000.
    n_bins : int, default 32
        Most bins per numeric and datetime column. Under DP, domain discovery cuts them from
        noisy counts (fewer where the data are too thin to support them); without DP, at
        quantiles of the exact values. More bins keep finer shapes but spread the noise of
        each marginal over more cells.
        Range: integer >= 2.
    discovery_share : float or None, default None
        Share of the privacy budget (ρ) spent on DP domain discovery: the categories and bin
        edges of columns the schema does not declare. Ignored without ``epsilon`` and when
        every fact is declared (declared facts are free).
        None: sized to the table from a noisy row count (1% of ρ): enough for noise of at most
        1% of the rows per discovered column, within 0.1 to 0.5 of ρ, so 0.1 on large tables
        (Adult's 26,049 rows) and up to 0.5 on small ones.
        Range: number in (0, 1), or None.
    engine : str, default 'auto'
        Where the marginal counts are computed: 'numpy' in memory, 'duckdb' pushed down into
        DuckDB over the file (rows never enter Python memory), 'auto' DuckDB for files over
        1 GB and numpy otherwise.
        Range: 'auto', 'numpy' or 'duckdb'.
    iters : int, default 1000
        Most mirror-descent iterations of the final model estimation (a quarter for the first
        fit, a tenth, at least 50, after each round, warm-started); post-processing, no privacy
        cost.
        Range: integer >= 1.
    """

    name = "aim"
    structure = "selected"

    def __init__(self, *, degree: int = 2, rounds: int | None = None, max_model_size: int = 2_000_000,
                 n_bins: int = 32, discovery_share: float | None = None, engine: str = "auto",
                 iters: int = 1000) -> None:
        self._base_params(n_bins, discovery_share, engine)
        self.degree = degree
        self.rounds = rounds
        self.max_model_size = max_model_size
        self.iters = iters

    def _check_params(self) -> None:
        super()._check_params()
        if self.degree not in (2, 3):
            raise ConfigError(f"degree must be 2 or 3, got {self.degree!r}")
        check_int("rounds", self.rounds, 1, none=True)
        check_int("max_model_size", self.max_model_size, 1000, what=" (cells)")
        check_int("iters", self.iters, 1)

    def _planned(self, d: int, dp: bool) -> int:
        """Planned measurements: the rounds plus the d initial 1-ways (T = 16d in the paper;
        ``DP_ROUNDS_PER_COLUMN`` here)."""
        return (self.rounds or (DP_ROUNDS_PER_COLUMN * d if dp else d)) + d

    def _units(self, d: int) -> float:
        """The planned measurements in units of one round's budget (0.9 of ρ measures)."""
        return self._planned(d, True) - d + ONE_WAY_WEIGHT * d

    def _one_way_rho(self, rho: float, d: int) -> float:
        return ONE_WAY_WEIGHT * 0.9 * rho / self._units(d)

    def _fit_marginals(self, engine: Engine, encoder: TableEncoder, accountant: Accountant | None,
                       rng: np.random.Generator) -> None:
        names, sizes = encoder.names, encoder.sizes
        domain = Domain(tuple(names), tuple(sizes))
        weights = workload_candidates(names, self.degree)
        exact = {r: c.astype(float) for r, c in engine.marginals(list(weights)).items()}
        dp = accountant is not None
        rho = self._rho_family if dp else None
        planned = self._units(len(names)) if dp else self._planned(len(names), dp)
        sigma = math.sqrt(planned / (2 * 0.9 * rho)) if dp else 1.0
        eps = math.sqrt(8 * 0.1 * rho / planned) if dp else None
        # the 1-ways were measured with domain discovery (``_one_way_rho``), exactly without DP
        measurements: list[Measurement] = list(self._one_ways or [
            noisy_measurement(exact[(a,)], (a,), sigma, None, "1-way") for a in names
        ])
        cands = self._candidates(encoder, weights, {m.attrs[0]: m.values for m in measurements})
        model = estimate(domain, measurements, iters=self.iters // 4)
        selected: list[tuple[str, ...]] = []
        max_w = max(weights.values())
        rounds = self._planned(len(names), dp) - len(names)
        final, t = False, 0
        # progress in hundredths of the budget spent (DP: the rounds are not known ahead), or rounds
        with progress("aim: measuring marginals", 100 if dp else rounds) as advance:
            shown = 0.0
            while not final:
                t += 1
                if dp:
                    remaining = accountant.remaining
                    round_cost = 1 / (2 * sigma**2) + eps**2 / 8
                    if remaining < 2 * round_cost:  # last round: spend everything that is left
                        sigma = math.sqrt(1 / (2 * 0.9 * remaining))
                        eps = math.sqrt(8 * 0.1 * remaining)
                        final = True
                    used = 1 - accountant.remaining / rho
                else:
                    final = t >= rounds
                    used = t / rounds
                limit = self.max_model_size * min(1.0, max(used, 0.05))
                cliques = [m.attrs for m in measurements]
                scores, options, answers, fits = [], [], {}, {}
                for r, groups, w in cands:
                    if r not in fits:  # (the coarse versions of a marginal share its clique)
                        fits[r] = hypothetical_model_size(domain, cliques, r) <= limit
                    if not fits[r]:
                        continue
                    if r not in answers:
                        answers[r] = model.marginal(r)
                    truth, answer = exact[r], answers[r]
                    if groups is not None:
                        truth, answer = coarsen(truth, groups), coarsen(answer, groups)
                    err = np.abs(truth - answer).sum()
                    scores.append(w * (err - _SQRT_2_PI * (sigma if dp else 0.0) * truth.size))
                    options.append((r, groups))
                if not options:
                    break
                if dp:
                    pick, cost = noisy_max(np.array(scores), epsilon=eps, sensitivity=max_w)
                    accountant.spend(f"select {'×'.join(options[pick][0])}", cost, mechanism="exponential",
                                     detail=f"epsilon={eps:.4g} of {len(options)} candidates")
                else:
                    pick = int(np.argmax(scores))
                r, groups = options[pick]
                measurements.append(noisy_measurement(coarsen(exact[r], groups), r, sigma, accountant,
                                                      "measure", groups))
                selected.append(r)
                before = coarsen(answers[r], groups)
                model = estimate(domain, measurements, iters=max(50, self.iters // 10), warm_start=model)
                after = coarsen(model.marginal(r), groups)
                if dp and np.abs(after - before).sum() <= _SQRT_2_PI * sigma * before.size:
                    sigma, eps = sigma / 2, eps * 2  # annealing: measure more precisely
                done = 100 * (1 - accountant.remaining / rho) if dp else t
                advance(done - shown)
                shown = done
        self._measured = measurements
        self.model_ = estimate(domain, measurements, iters=self.iters, warm_start=model)
        self.selected_ = [list(r) for r in selected]

    @staticmethod
    def _candidates(encoder: TableEncoder, weights: dict[tuple[str, ...], float],
                    one_ways: dict[str, np.ndarray]) -> list[tuple]:
        """``(attrs, groups, workload weight)`` of every candidate marginal as it is (groups
        None) and, where it holds an ordered column of more than ``COARSE_MIN_BINS`` bins, with
        those columns' bins grouped (:func:`coarse_groups`, from the released 1-ways). A coarse
        measurement spreads its noise over far fewer cells: on a small table the pair of a date
        of birth and an age (24 x 25 bins, 3,000 rows at ε = 1) costs more noise than its error
        as it is, and pays for itself at 12 x 13."""
        codecs = {c.column.name: c for c in encoder.codecs}
        cands = [(r, None, w) for r, w in weights.items()]
        for factor in COARSE_FACTORS:
            for r, w in weights.items():
                if len(r) < 2:
                    continue
                groups = tuple(
                    coarse_groups(one_ways[a], codecs[a].n_values, factor)
                    if codecs[a].bins is not None and codecs[a].n_values > COARSE_MIN_BINS else None
                    for a in r)
                if any(g is not None for g in groups):
                    cands.append((r, groups, w))
        return cands
