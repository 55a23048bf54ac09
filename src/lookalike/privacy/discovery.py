"""Differentially private domain discovery: categories and bin edges paid for with budget.

A DP model may depend on the private table only through charged mechanisms. Facts the user
declared public in the schema (categories, bounds) are free; everything else is discovered here
with a stated share of the budget:

* **categories** not declared: the count of every category present gets discrete Gaussian noise
  and only those whose noisy count clears a threshold are kept (OpenDP's
  ``make_gaussian_threshold``: approximate zCDP, the δ is the chance that a category held by one
  row survives). The rest become one "other" category.
* **numeric and datetime bins**: a hierarchical noisy histogram over a data-independent tree of
  round-number intervals (sign and decade; then leading digit; then two more decimal digits,
  down to single integers for integer columns). Every node a row falls in gets discrete
  Gaussian noise, so one row changes one count per level: L2 sensitivity √levels. A node is
  split further only where its noisy count stands clear of the noise. Bins of about equal noisy
  mass are cut from the finest nodes, and each bin keeps the noisy shape inside it so that
  decoded values follow the data, not a uniform spread. Declared bounds clip values and bound
  the tree; the clipped share is reported as a noisy count.
* **1-ways borrowed** (``one_way_rho``, for MST and AIM, which measure every 1-way marginal
  anyway): a category's threshold release is a 1-way count, so it takes most of its column's
  1-way budget too and the threshold drops; a numeric column's leaves are counted once more,
  one level finer, at half its 1-way budget, and the bins and their in-bin shapes are cut from
  those counts (siblings shrunk toward their mean by the share of their spread that noise
  explains). The plain 1-way that follows is combined with these counts cell by cell. On
  Adult at ε = 1 this halves the loss of decoding the true rows through the DP domain (mean
  2-way TVD 0.048 → 0.034).

With ``rho=None`` (non-DP fits, for comparison) the same procedure runs on exact counts.

Discovery reads the table only through a :class:`Counts` (value counts of a column, a
histogram of a column over given edges), which every marginal engine provides, and asks them of
many columns at once where the engine can (:class:`BatchCounts`): every categorical column's
counts in one engine call, and each level of the numeric columns' trees in one call for all of
them (each column's walk down its tree is a generator stepped in lockstep with the others), so
that discovery makes one pass over the table per tree level, not one per column per level (on
Adult through Spark or DuckDB: 6 passes instead of 34-36). It returns plain values: per
column a :class:`ColumnDomain` (categories or :class:`DiscoveredBins`, the noisy counts
released on the way), the schema the model keeps, and the releases that paid for it.
The model's encoder is built from them by the synthesizers
(:func:`lookalike.synthesizers._domain.encode_domain`).

>>> import lookalike
>>> from lookalike.marginals import NumpyEngine
>>> real = lookalike.load_demo()
>>> schema = lookalike.infer_schema(real)
>>> found = discover_domain(NumpyEngine(schema.conform(real), schema), schema, rho=0.002,
...                         delta=1e-10, n_bins=16)
>>> age = found.domains[0]
>>> age.bins is not None and age.bins.n_bins <= 16, age.column.source("bounds")[:3]
(True, 'dp(')
>>> found.rho_spent <= 0.002 + 1e-12
True
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from lookalike.errors import ConfigError
from lookalike.privacy.accountant import Release
from lookalike.privacy.mechanisms import gaussian_counts
from lookalike.schema import Column, Kind, Schema

__all__ = ["OTHER", "BatchCounts", "ColumnDomain", "Counts", "DiscoveredBins", "DiscoveredDomain",
           "DiscoveryBudget", "SmallTableWarning", "adaptive_share", "category_threshold",
           "column_budget", "discover_domain", "discovery_columns", "range_threshold",
           "small_table_message", "surely_found", "threshold_release"]

OTHER = "other"
_LEVELS = 4  # sign × decade, leading digit, 2nd digit, 3rd digit
#: a fit without DP (exact counts, nothing spent) goes this many levels further down the tree,
#: into the cells holding more than a quarter of a bin's share of the rows: dates of 50 days
#: (18,700 days since 1970) were one bin of 100 days, timestamps in seconds one of 116 days
_EXACT_LEVELS = 4
_LEVEL_SHARE = (0.4, 0.2, 0.2, 0.2)  # the top level decides which ranges exist: it gets most
_DECADES = range(-6, 16)  # 1e-6 … 1e16; beyond sits in the outermost cells
_PRUNE = 4.5  # a top-level cell counts only above this many σ (45 cells: ~1e-4 false alarms)
_KEEP = 3.0  # finer cells below this many σ are dropped as noise, their mass to their siblings
_SHAPE_POINTS = 9
SPIKE_SHARE = 0.5  # siblings whose strong counts hold this share of their mass are spikes
SPIKE_Z = 4 / 3  # a spike among single-integer siblings clears 4σ (_KEEP is 3σ)
#: a weak leaf of a code column up to this many integers wide is counted one integer at a
#: time (see ``_fine_cells``): a code alone in a weak [300, 400) stands out as itself
_CODE_CELLS = 100
#: a declared range's end is cut only if its count, this many σ up, is under SMALL_SHARE of the
#: rows (see _declared_ends_kept)
DECLARED_Z = 2.0
#: share of a column's 1-way budget that discovery borrows (see ``discover_domain``): most of
#: it for category thresholds (every kept category's count is a 1-way cell anyway), half for
#: the fine histogram of a numeric column (its sums over a bin are noisier than one count)
THRESHOLD_SHARE = 0.75
FINE_SHARE = 0.5

#: the share of ρ that ``discovery_share=None`` gives discovery lies in this range (see
#: :func:`adaptive_share`), and the noisy row count that sizes it costs COUNT_SHARE of ρ
SHARE_RANGE = (0.1, 0.5)
COUNT_SHARE = 0.01
NOISE_TARGET = 0.01  # discovery noise σ per column, as a share of the rows
SMALL_SHARE = 0.05  # warn when discovery cannot keep what holds this share of the rows
SURE_Z = 2.0  # a count this many σ past its threshold is found in 49 fits of 50 (surely_found)

_Floats = npt.NDArray[np.float64]
_Cell = tuple[float, float]
_Leaf = tuple[float, float, float, bool, int]  # (lo, hi, mass, strong, parent)
_Hist = npt.NDArray[np.int64]
#: a numeric column's discovery as a generator: it yields the edges of each histogram it needs
#: (one per tree level, and the fine one), is sent that histogram's exact counts, and returns
#: its result; :func:`discover_domain` steps every column's walk in lockstep, so that one
#: engine call (one pass over the table) answers a level of all of them
_Walk = Generator[list[float], _Hist, Any]


class SmallTableWarning(UserWarning):
    """The table is too small for the ε asked to discover some columns' values: they are
    named, with what declaring them would change."""


def adaptive_share(n_rows: float, n_paid: int, rho: float) -> float:
    """The share of ``rho`` that domain discovery takes when none is set (``discovery_share=
    None``): enough that each of the ``n_paid`` columns needing discovery gets noise σ of at
    most ``NOISE_TARGET`` (1%) of the noisy row count ``n_rows``, within ``SHARE_RANGE``.

    Why: on a small table the noise is large next to every count, and a domain that misses a
    column's values (a 0/1 flag collapsed to one value, a category merged into "other") ruins
    every marginal measured after it, while the measurements lose little from a smaller share.
    On a large table the floor (10%) holds: Adult's 26,049 rows need only 0.9% of ρ = 0.0118
    (ε = 1) for σ ≤ 260 over 14 columns; 921 rows and 8 columns would need 4× the whole
    budget, so the cap (50%) holds.
    """
    if n_paid == 0 or not rho > 0:
        return SHARE_RANGE[0]
    sigma = NOISE_TARGET * max(n_rows, 1.0)
    needed = n_paid / (2 * sigma**2) / rho
    return float(min(max(needed, SHARE_RANGE[0]), SHARE_RANGE[1]))


class Counts(Protocol):
    """The counts discovery reads from the private table; both marginal engines provide them.

    Exact counts: privacy comes from the noise discovery adds to them, and the cost it charges.
    """

    def value_counts(self, column: str) -> Mapping[Any, int]:
        """Count of each distinct non-missing value of a categorical column (any value type:
        discovery names categories by ``str(value)``)."""
        ...

    def histogram(self, column: str, edges: Sequence[float]) -> npt.NDArray[np.int64]:
        """Counts of a numeric/datetime column's non-missing values in ``len(edges) + 1`` cells:
        below ``edges[0]``, in each ``[edges[i-1], edges[i])``, at or above ``edges[-1]``
        (datetimes in the column's unit since 1970-01-01)."""
        ...


class BatchCounts(Counts, Protocol):
    """Counts that also answer many columns' queries at once, in one pass over the table
    where the engine can (the NumPy, DuckDB and Spark engines all have them). Discovery asks
    these when a ``Counts`` has them, and asks column by column otherwise: the answers are the
    same, only the number of passes over the data differs."""

    def histograms(self, requests: Mapping[str, Sequence[float]]
                   ) -> Mapping[str, npt.NDArray[np.int64]]:
        """``{column: histogram(column, edges)}`` for every ``{column: edges}`` asked."""
        ...

    def value_counts_many(self, columns: Sequence[str]) -> Mapping[str, Mapping[Any, int]]:
        """``{column: value_counts(column)}`` for every column asked."""
        ...


@dataclass(frozen=True, eq=False)
class DiscoveredBins:
    """Bins cut by discovery: bin ``i`` spans ``[lower[i], upper[i]]`` (a point bin when equal;
    datetimes in the column's unit), ``shape[i]`` holds noisy quantiles of the values inside it
    (so decoded values follow the data), ``integer`` bins hold whole numbers."""

    lower: _Floats
    upper: _Floats
    shape: _Floats
    integer: bool

    @property
    def n_bins(self) -> int:
        return len(self.lower)


@dataclass(frozen=True, eq=False)
class ColumnDomain:
    """What a model may know of one modelled column: declared facts or DP releases, and how.

    Its codes are ``categories`` (categorical, boolean) or ``bins`` (numeric, datetime), then
    one "missing" code when ``nullable``. Values outside ``categories`` take code ``fallback``
    (the "other" category of discovered categories), or count as missing when it is None.
    """

    column: Column
    """The column as the model records it: discovered categories or bounds, with their source."""
    categories: tuple[Any, ...] | None
    bins: DiscoveredBins | None
    nullable: bool
    fallback: int | None = None
    report: Mapping[str, Any] = field(default_factory=dict)
    """How the domain was obtained (declared, or which release with which noise)."""
    estimate: tuple[_Floats, _Floats] | None = None
    """Noisy counts of the first codes that discovery released, and their variances (only
    when it borrowed the column's 1-way budget): the 1-way stage combines them with its own."""
    one_way_rho: float | None = None
    """The ρ left for the column's plain 1-way measurement (None: no 1-way budget borrowed)."""


@dataclass(frozen=True, eq=False)
class DiscoveredDomain:
    """Every modelled column's domain, the schema the model keeps, and the releases that paid."""

    schema: Schema
    domains: tuple[ColumnDomain, ...]
    releases: tuple[Release, ...]

    @property
    def columns(self) -> dict[str, Mapping[str, Any]]:
        """Per column, how its domain was obtained (for the privacy report)."""
        return {d.column.name: d.report for d in self.domains}

    @property
    def one_way_rho(self) -> dict[str, float]:
        """Per column, the ρ left for its plain 1-way (empty when no 1-way budget was borrowed)."""
        return {d.column.name: d.one_way_rho for d in self.domains if d.one_way_rho is not None}

    @property
    def rho_spent(self) -> float:
        return sum(r.rho for r in self.releases)

    @property
    def delta_spent(self) -> float:
        return sum(r.delta for r in self.releases)


def _needs_categories(col: Column) -> bool:
    return col.kind is Kind.CATEGORICAL and col.source("categories") != "declared"


def discovery_columns(schema: Schema) -> tuple[list[str], list[str]]:
    """(categorical columns whose categories must be discovered, numeric columns to bin)."""
    cats = [c.name for c in schema.modelled if _needs_categories(c)]
    nums = [c.name for c in schema.modelled if c.kind.numeric]
    return cats, nums


@dataclass(frozen=True)
class DiscoveryBudget:
    """What a DP fit gives domain discovery: the family decides it
    (``Synthesizer._discovery_budget``) from the row count and its budget plan, and the fit
    and ``lookalike inspect``'s DP plan both use that one decision.

    ``rho`` and ``delta`` go to :func:`discover_domain` (shared by the columns that need
    discovery), ``one_way_rho`` is the per-column 1-way ρ discovery may borrow (None: none),
    ``share`` the share of the fit's ρ set aside for discovery.
    """

    share: float
    rho: float
    delta: float
    one_way_rho: float | None = None


def column_budget(n_cats: int, n_nums: int, rho: float, delta: float,
                  one_way_rho: float | None) -> tuple[float, float, float]:
    """(ρ, δ, borrowed 1-way ρ) of each column discovery pays for: ``rho`` shared equally by
    the ``n_cats + n_nums`` columns, ``delta`` by the categorical ones (threshold releases)."""
    n_paid = n_cats + n_nums
    return (rho / n_paid if n_paid else 0.0, delta / n_cats if n_cats else 0.0,
            one_way_rho or 0.0)


def category_threshold(rho_col: float, delta_col: float, one: float = 0.0) -> int:
    """The noisy count a category must reach to be kept, for a column given ``rho_col`` (and
    ``THRESHOLD_SHARE`` of ``one``, its borrowed 1-way ρ) and ``delta_col``: a function of the
    budget only (no data), so it can be stated before any release."""
    return _threshold(1.0 / math.sqrt(2 * (rho_col + THRESHOLD_SHARE * one)), delta_col)


def range_threshold(rho_col: float) -> float:
    """About how many rows a top-level range of a numeric column must hold for discovery to
    find it (``_PRUNE`` σ of the top level's noise) with ``rho_col``: budget only, no data."""
    return _PRUNE / math.sqrt(2 * rho_col * _LEVEL_SHARE[0])


def surely_found(rho_col: float, delta_col: float = 0.0, one: float = 0.0, *,
                 categories: bool) -> float:
    """About how many rows a category (``categories``: with ``delta_col`` and the borrowed
    ``one``) or a top-level range must hold for discovery to find it in 49 fits of 50: its
    threshold (:func:`category_threshold`, :func:`range_threshold`) and 2σ of the noise on its
    count. At the threshold itself it is found in about half the fits. Budget only, no data.

    >>> round(surely_found(0.001, categories=False) / range_threshold(0.001), 2)  # 1 + 2/4.5
    1.44
    """
    if categories:
        sigma = 1.0 / math.sqrt(2 * (rho_col + THRESHOLD_SHARE * one))
        return category_threshold(rho_col, delta_col, one) + SURE_Z * sigma
    return range_threshold(rho_col) + SURE_Z / math.sqrt(2 * rho_col * _LEVEL_SHARE[0])


def small_table_message(cats: Sequence[str], nums: Sequence[str], rho_col: float,
                        delta_col: float, one: float, n_rows: float,
                        count: str = "noisy count") -> str | None:
    """The :class:`SmallTableWarning` text for the columns whose values this budget cannot
    discover on about ``n_rows`` rows (``count`` says how that number was found), or None.

    One text for the fit (from its noisy row count) and for the DP plans of ``lookalike
    inspect`` and ``synth``/``fit`` (from the exact count, which stays on the user's screen).
    """
    floor = SMALL_SHARE * max(n_rows, 1.0)
    parts = []
    if cats:
        t = category_threshold(rho_col, delta_col, one)
        if t > floor:
            parts.append(
                f"categories of {_names(list(cats))} are kept only if they hold about {t} rows "
                f"({t / n_rows:.0%}) or more, rarer ones become one 'other' category; declaring "
                "their categories in the schema (\"categories\": [...], public facts) keeps them "
                "all and leaves this share of the budget to the measurements")
    if nums:
        p = range_threshold(rho_col)
        if p > floor:
            parts.append(
                f"values of {_names(list(nums))} are found only in ranges holding about {p:.0f} rows "
                f"({p / n_rows:.0%}) or more; declaring their bounds (\"bounds\": [lo, hi]) "
                "or, for codes, declaring the column categorical with its categories, avoids it")
    if not parts:
        return None
    return (f"the table has about {n_rows:.0f} rows ({count}): too few for this epsilon to "
            "discover every value. " + "; ".join(parts) + ". Or raise epsilon.")


def discover_domain(
    counts: Counts,
    schema: Schema,
    *,
    rho: float | None,
    delta: float = 0.0,
    n_bins: int = 32,
    one_way_rho: float | None = None,
    n_rows: float | None = None,
) -> DiscoveredDomain:
    """Every modelled column's domain from declared facts and DP releases costing ``rho`` (and
    ``delta``), reading the table only through ``counts``.

    ``rho`` is shared equally by the columns that need discovery; ``delta`` by the categorical
    ones (threshold releases). ``rho=None``: exact counts, no privacy (non-DP comparison fits).

    ``one_way_rho``: the ρ each column's 1-way marginal will cost in the model that follows
    (MST and AIM measure every 1-way). Discovery then borrows part of it, because its releases
    are 1-way counts too: a categorical column's threshold release gets ``THRESHOLD_SHARE`` of
    it on top of the discovery share (a lower threshold keeps rarer categories), a numeric
    column's bin shapes come from a finer histogram costing ``FINE_SHARE`` of it (plus the
    column's share of the tree levels its walk did not reach: see ``_bins_walk``). What was
    released is each column's ``estimate``, the ρ left for the plain 1-way its ``one_way_rho``.
    """
    cats, nums = discovery_columns(schema)
    n_paid = len(cats) + len(nums)
    if rho is not None and n_paid and not rho > 0:
        raise ConfigError("DP domain discovery needs a share of the budget > 0 (discovery_share)")
    if rho is not None and cats and not 0 < delta < 1:
        raise ConfigError(f"discovering categories under DP needs 0 < delta < 1, got {delta!r}")
    rho_paid, delta_col, one = column_budget(len(cats), len(nums), rho or 0.0, delta,
                                             one_way_rho if rho is not None else None)
    rho_col = rho_paid if (rho is not None and n_paid) else None
    left = one if one else None
    if rho_col is not None and n_rows is not None:
        _warn_small(cats, nums, rho_col, delta_col, one, n_rows)
    values = _value_counts_many(counts, cats)
    walks = {name: _bin_domain(schema[name], _nullable(schema[name]), rho_col, n_bins, one)
             for name in nums}
    binned = _lockstep(counts, walks)
    domains: list[ColumnDomain] = []
    releases: list[Release] = []
    new_cols: list[Column] = []
    for col in schema.columns:
        if not col.kind.modelled:
            new_cols.append(col)
            continue
        nullable = _nullable(col)
        if col.kind is Kind.BOOLEAN:
            found = ColumnDomain(col, (False, True), None, nullable,
                                 report={"domain": "public (boolean)"}, one_way_rho=left)
        elif col.kind is Kind.CATEGORICAL and col.name not in cats:
            found = ColumnDomain(col, tuple(col.categories or ()), None, nullable,
                                 report={"domain": "declared categories (public)"},
                                 one_way_rho=left)
        elif col.kind is Kind.CATEGORICAL:
            found, rel = _category_domain(values[col.name], col, nullable, rho_col, delta_col,
                                          one)
            releases += rel
        else:
            found, rel = binned[col.name]
            releases += rel
        if found.column.source("nullable") != "declared":
            found = dataclasses.replace(
                found, column=found.column.replace("default", nullable=nullable))
        domains.append(found)
        new_cols.append(found.column)
    return DiscoveredDomain(Schema(tuple(new_cols)), tuple(domains), tuple(releases))


def _nullable(col: Column) -> bool:
    """Whether the model gives ``col`` a missing code: unless declared, it may hold missing
    values (public fact: the schema, not the data, decides)."""
    return True if col.source("nullable") != "declared" else col.nullable


def _value_counts_many(counts: Counts, names: Sequence[str]) -> dict[str, Mapping[Any, int]]:
    """Exact value counts of the columns ``names``: one engine call where ``counts`` answers
    many columns at once (``value_counts_many``), else one per column."""
    if not names:
        return {}
    many = getattr(counts, "value_counts_many", None)
    if many is None:
        return {name: counts.value_counts(name) for name in names}
    found = many(list(names))
    return {name: found[name] for name in names}


def _histograms(counts: Counts, requests: Mapping[str, Sequence[float]]
                ) -> Mapping[str, _Hist]:
    """Exact histograms of many columns (``{column: edges}``): one engine call where
    ``counts`` answers them at once (``histograms``), else one per column."""
    many = getattr(counts, "histograms", None)
    if many is None:
        return {name: counts.histogram(name, edges) for name, edges in requests.items()}
    found: Mapping[str, _Hist] = many(dict(requests))
    return found


def _lockstep(counts: Counts, walks: Mapping[str, _Walk]) -> dict[str, Any]:
    """Run the columns' discovery walks together: each round, every walk still running has
    asked for one histogram, and one engine call (:func:`_histograms`) answers them all.

    Which cells a walk counts next depends only on its own column's released counts, so the
    order in which the queries go to the engine changes nothing that is released or what it
    costs (each column's ρ per level and noise scale are its own); the rounds are the tree's
    levels plus the fine histogram: at most ``_LEVELS + 1`` engine calls however many columns
    (``_LEVELS + _EXACT_LEVELS`` without DP).
    """
    results: dict[str, Any] = {}
    asked: dict[str, list[float]] = {}

    def step(name: str, walk: _Walk, hist: _Hist | None) -> None:
        try:
            asked[name] = next(walk) if hist is None else walk.send(hist)
        except StopIteration as done:
            asked.pop(name, None)
            results[name] = done.value

    for name, walk in walks.items():
        step(name, walk, None)
    while asked:
        answers = _histograms(counts, asked)
        for name in list(asked):
            step(name, walks[name], answers[name])
    return {name: results[name] for name in walks}


def _warn_small(cats: list[str], nums: list[str], rho_col: float, delta_col: float, one: float,
                n_rows: float) -> None:
    """Warn, before any release, of the columns whose values this budget cannot discover."""
    import warnings

    message = small_table_message(cats, nums, rho_col, delta_col, one, n_rows)
    if message is not None:
        warnings.warn(message, SmallTableWarning, stacklevel=4)


def _names(cols: list[str], most: int = 6) -> str:
    shown = ", ".join(repr(c) for c in cols[:most])
    return shown + (f" and {len(cols) - most} more" if len(cols) > most else "")


def _category_domain(values: Mapping[Any, int], col: Column, nullable: bool,
                     rho_col: float | None, delta: float, one: float
                     ) -> tuple[ColumnDomain, list[Release]]:
    """Categories kept by the threshold release of the column's exact ``values`` counts, plus
    "other" under DP (exact ones without)."""
    rho_c = None if rho_col is None else rho_col + THRESHOLD_SHARE * one
    kept, noisy, rel, info = _discover_categories(values, col.name, rho_c, delta)
    labels, fallback = list(kept), None
    if rho_c is not None:
        label, fallback = _other_label(kept)
        if fallback is None:
            labels.append(label)
            fallback = len(labels) - 1
    source = "data (exact, no DP)" if rho_c is None else f"dp(rho={rho_c:.3g})"
    estimate = None
    if one and noisy is not None:
        noisy, var = np.asarray(noisy, dtype=float), np.full(len(kept), info["sigma"] ** 2)
        if fallback is not None and fallback < len(kept):  # the column's own "Other" takes the
            noisy, var = noisy.copy(), var.copy()        # rest too: its count no longer holds it
            noisy[fallback] = var[fallback] = np.nan
        estimate = (noisy, var)
    return ColumnDomain(
        col.replace(source, categories=tuple(labels)), tuple(labels), None, nullable, fallback,
        info, estimate, (1 - THRESHOLD_SHARE) * one if one else None,
    ), rel


def _bin_domain(col: Column, nullable: bool, rho_col: float | None, n_bins: int,
                one: float) -> _Walk:
    """Bins from the hierarchical histogram (and, borrowing 1-way budget, the fine one): a
    walk (see ``_Walk``) returning ``(ColumnDomain, releases)``."""
    rho_fine = FINE_SHARE * one if one else None
    bins, rel, info, fine = yield from _bins_walk(col, rho_col, n_bins, rho_fine)
    source = "data (exact, no DP)" if rho_col is None else f"dp(rho={rho_col:.3g})"
    declared = col.source("bounds") == "declared"
    column = col if declared else col.replace(source, bounds=_bounds_of(bins, col))
    left = None if not one else (1 - FINE_SHARE) * one if fine is not None else one
    return ColumnDomain(column, None, bins, nullable, None, info, fine, left), rel


# ---------------------------------------------------------------------- categories
def _other_label(kept: Sequence[str]) -> tuple[str, int | None]:
    """The label of the category that takes the values discovery did not keep, and its index
    when it is one of ``kept``.

    A kept category that reads "other" (any case, or "others") takes them: compas's race has
    an 'Other', and a second category 'other' beside it would be a value the column never
    had. Otherwise the label is spelled as the kept categories are (post-processing of the
    released names): 'OTHER' beside 'NY' and 'CA', 'Other' beside 'White' and 'Black',
    'other' otherwise.

    >>> _other_label(["White", "Black"]), _other_label(["NY", "CA"]), _other_label(["<=50K"])
    (('Other', None), ('OTHER', None), ('other', None))
    >>> _other_label(["Caucasian", "Other"])
    ('Other', 1)
    """
    for i, k in enumerate(kept):
        if str(k).strip().casefold() in ("other", "others"):
            return str(k), i
    words = [str(k) for k in kept if sum(ch.isalpha() for ch in str(k)) >= 2]
    if words and all(w.isupper() for w in words):
        label = OTHER.upper()
    elif words and all(next(ch for ch in w if ch.isalpha()).isupper() for w in words):
        label = OTHER.capitalize()
    else:
        label = OTHER
    while label in kept:
        label = f"{label}_"
    return label, None


def _discover_categories(
    values: Mapping[Any, int], name: str, rho: float | None, delta: float
) -> tuple[list[str], _Floats | None, list[Release], dict[str, Any]]:
    exact = {str(k): int(v) for k, v in values.items()}
    if rho is None:
        kept = sorted(exact, key=lambda k: (-exact[k], k))
        return kept, None, [], {"domain": f"{len(kept)} categories read from the data (no DP)"}
    sigma = 1.0 / math.sqrt(2 * rho)
    noisy, threshold, rho_used, delta_used = threshold_release(exact, sigma, delta)
    kept = sorted(noisy, key=lambda k: (-noisy[k], k))
    rel = Release(
        f"categories of {name}",
        "gaussian_threshold",
        rho_used,
        f"sigma={sigma:.4g}, threshold={threshold}",
        delta=delta_used,
    )
    info = {
        "domain": "categories discovered with DP (noisy counts above a threshold)",
        "kept": len(kept),
        "sigma": sigma,
        "threshold": threshold,
        "rho": rho_used,
        "delta": delta_used,
        "other": "categories below the threshold are merged into one 'other' category",
    }
    return kept, np.array([noisy[k] for k in kept], dtype=float), [rel], info


def threshold_release(
    counts: dict[str, int], sigma: float, delta: float
) -> tuple[dict[str, int], int, float, float]:
    """OpenDP's Gaussian threshold mechanism with the smallest threshold meeting ``delta``:
    (noisy counts of the keys kept, threshold, ρ, δ). A key held by one row survives with
    probability at most ``delta``."""
    lo = _threshold(sigma, delta)
    meas = _threshold_measurement(sigma, lo)
    rho_used, delta_used = meas.map((1, 1, 1))
    noisy = meas({k: v for k, v in counts.items()}) if counts else {}
    return {k: int(v) for k, v in noisy.items()}, lo, float(rho_used), float(delta_used)


def _threshold_measurement(sigma: float, threshold: int) -> Any:
    """OpenDP's Gaussian threshold measurement over string-keyed counts (an opendp Measurement)."""
    from lookalike.privacy.mechanisms import _dp

    dp = _dp()
    domain = dp.map_domain(dp.atom_domain(T=str), dp.atom_domain(T="i64"))
    metric = dp.l02inf_distance(dp.absolute_distance(T="i64"))
    return dp.m.make_gaussian_threshold(domain, metric, scale=sigma, threshold=threshold)


def _threshold(sigma: float, delta: float) -> int:
    """The smallest integer threshold whose δ (one row's category surviving) is within ``delta``:
    a function of the noise and δ only, so it can be stated before any release."""
    lo, hi = 1, max(2, int(sigma * 40) + 2)
    while lo < hi:
        mid = (lo + hi) // 2
        if _threshold_measurement(sigma, mid).map((1, 1, 1))[1] <= delta:
            hi = mid
        else:
            lo = mid + 1
    return lo


# ---------------------------------------------------------------------- numeric bins
def _children(lo: float, hi: float, integer: bool) -> list[tuple[float, float]]:
    """Split a cell of the round-number tree: a decade into its 9 leading digits, any other
    cell into 10 equal parts; [] for a leaf (an integer-wide cell, or the cell around zero)."""
    if (integer and hi - lo <= 1) or (lo < 0 < hi):
        return []
    a, b = sorted((abs(lo), abs(hi)))
    if a > 0 and math.isclose(b, 10 * a, rel_tol=1e-9):
        edges = [a * k for k in range(1, 11)]
        if lo < 0:
            edges = sorted(-e for e in edges)
    else:
        edges = list(np.linspace(lo, hi, 11))
    if any(b <= a for a, b in zip(edges[:-1], edges[1:], strict=True)):
        return []  # a cell a few floats wide (the top of declared bounds): no finer cells exist
    return [(float(x), float(y)) for x, y in zip(edges[:-1], edges[1:], strict=True)]


def _level0(bounds: tuple[float, float] | None) -> list[tuple[float, float]]:
    """Sign × decade cells (and one around zero), cut to declared bounds when given."""
    tiny = 10.0 ** _DECADES[0]
    pos = [(10.0**d, 10.0 ** (d + 1)) for d in _DECADES]
    neg = [(-b, -a) for a, b in reversed(pos)]
    cells = neg + [(-tiny, tiny)] + pos
    if bounds is not None:
        lo, hi = bounds[0], math.nextafter(bounds[1], math.inf)
        cells = [(max(a, lo), min(b, hi)) for a, b in cells if b > lo and a < hi]
        cells = [(a, b) for a, b in cells if b > a] or [(lo, hi)]
    return cells


def _measure(cells: Sequence[_Cell], rho_level: float | None) -> _Walk:
    """Counts of disjoint half-open ``cells`` [a, b) (a may be -inf, b inf); noisy with ρ: a
    walk step (see ``_Walk``) that asks for the histogram over the cells' edges and returns
    ``(counts, sigma)``."""
    edges = sorted({e for c in cells for e in c if math.isfinite(e)})
    hist = yield edges
    index = {e: i for i, e in enumerate(edges)}
    exact = np.array(
        [
            hist[(0 if a == -math.inf else index[a] + 1) : (len(hist) if b == math.inf else index[b] + 1)].sum()
            for a, b in cells
        ],
        dtype=np.int64,
    )
    if rho_level is None:
        return exact.astype(float), 0.0
    sigma = 1.0 / math.sqrt(2 * rho_level)
    return gaussian_counts(exact, sigma=sigma).values, sigma


def _discover_bins(
    counts: Counts, col: Column, rho: float | None, n_bins: int, rho_fine: float | None = None
) -> tuple[DiscoveredBins, list[Release], dict[str, Any], tuple[_Floats, _Floats] | None]:
    """(bins, releases, report, fine) of one numeric/datetime column alone: its walk
    (:func:`_bins_walk`) answered by ``counts``."""
    found: tuple[DiscoveredBins, list[Release], dict[str, Any],
                 tuple[_Floats, _Floats] | None] = _lockstep(
        counts, {col.name: _bins_walk(col, rho, n_bins, rho_fine)})[col.name]
    return found


def _bins_walk(
    col: Column, rho: float | None, n_bins: int, rho_fine: float | None = None
) -> _Walk:
    """(bins, releases, report, fine) of one numeric/datetime column, returned by a walk (see
    ``_Walk``): it yields each histogram's edges and is sent the exact counts.

    ``fine``: with ``rho_fine``, the leaves of the tree (split once more where they can be) are
    counted again at that cost; bins and their in-bin shapes are cut from these counts, and
    ``fine`` holds each bin's sum of them with its variance. Otherwise None.
    """
    integer = col.kind is not Kind.FLOAT
    bounds = col.numeric_bounds() if col.source("bounds") == "declared" else None
    shares = iter(_LEVEL_SHARE)
    rho_level = None if rho is None else rho * next(shares)
    # levels the tree does not reach (it stops where cells are single integers) cost nothing
    # here: with a fine histogram, their share goes to it (see below)
    spent, levels = (rho_level or 0.0), 1
    info: dict[str, Any] = {
        "domain": "bin edges from a hierarchical histogram over round-number cells"}
    cells = _level0(bounds)
    # the outer cells take what lies beyond: past ±1e16, or outside declared bounds (clipped)
    outer = [(-math.inf, cells[0][0])] + cells + [(cells[-1][1], math.inf)]
    top, sigma = yield from _measure(outer, rho_level)
    n_top = float(top.sum())  # the rows, as the top level counted them
    below, above, top = top[0], top[-1], top[1:-1].copy()
    if bounds is not None:
        info["clipped_to_declared_bounds"] = round(float(max(below, 0) + max(above, 0)), 1)
        if rho_level is not None:
            info["clipped_note"] = f"noisy count, sigma={sigma:.3g}"
    cut = _PRUNE * sigma
    # what lies beyond joins the edge cells only where it stands out itself: added as noise,
    # it doubled their variance under a prune sized for one draw, and about one fit in 600
    # kept [1e15, 1e16) for a 0/1 column (anes96's vote came out with values near -4e15)
    top[0] += below if below > cut else 0.0
    top[-1] += above if above > cut else 0.0
    # cells carry the id of their parent: siblings are shrunk together in the fine histogram;
    # and the σ of their mass as the tree estimated it (see _empty)
    kept = top > cut
    if not kept.any() and top.max() >= _KEEP * sigma:
        # no range clears the prune, yet one of them holds rows: the likeliest (report noisy
        # max, post-processing). A small table's rows split over two decades left both under
        # it (cars' horsepowers 46-230: about one fit in five), and the column was decoded
        # over the unit range, as 0 and 1
        kept[int(np.argmax(top))] = True
    frontier = [(a + 0.0, b, float(m), -1 - i, sigma)
                for i, ((a, b), m) in enumerate(zip(cells, top, strict=True)) if kept[i]]
    probes = _probes(cells, kept, integer)
    # (lo, hi, mass, strong, parent) and, per leaf, the σ of its mass in the tree
    leaves: list[tuple[float, float, float, bool, int]] = []
    leaf_sd: list[float] = []
    parents = 0
    unlocated: list[int] = []  # nodes none of whose children stood out: see _empty
    heavy = n_top / (4 * n_bins)  # (exact counts only: see _EXACT_LEVELS)
    for _level in range(1, _LEVELS if rho is not None else _LEVELS + _EXACT_LEVELS):
        split = []
        for lo, hi, m, g, sd in frontier:
            kids = _children(lo, hi, integer)
            if kids and (_level < _LEVELS or m > heavy):
                split.append((kids, m, sd))
            else:
                leaves.append((lo, hi, m, True, g))
                leaf_sd.append(sd)
        if not split:
            frontier = []
            break
        rho_l = None if rho is None else rho * next(shares)
        spent, levels = spent + (rho_l or 0.0), levels + 1
        kid_cells = [k for kids, _, _ in split for k in kids]
        kid_counts, sigma_l = yield from _measure(kid_cells, rho_l)
        frontier, pos = [], 0
        for kids, m, sd in split:
            parents += 1
            c = kid_counts[pos : pos + len(kids)].astype(float)
            pos += len(kids)
            keep = _KEEP * sigma_l
            c = _share_out(m, c, keep)
            strong = kid_counts[pos - len(kids) : pos] >= keep if rho_l is not None else c > 0
            # weak children share what the strong ones leave of the parent's mass: σ of that
            # remainder (parent's σ and each strong child's), split evenly like the mass
            n_weak = int((~strong).sum())
            if (rho_l is not None and integer and not strong.any()
                    and kids[-1][1] - kids[0][0] <= _CODE_CELLS):
                unlocated.append(parents)
            rest_sd = math.sqrt(sd**2 + int(strong.sum()) * sigma_l**2) / max(n_weak, 1)
            if not integer and strong.any() and c[~strong].sum() < _KEEP * rest_sd * n_weak:
                # a float cell's strong children hold all the mass the counts can see: the
                # rest of its range stays empty (22.1–23.0 beside an age class of 22.0). Integer
                # cells keep the even share (ages 21 and 23 beside a strong 22); their gaps
                # between codes are cut from the fine counts (_empty)
                c = np.where(strong, c, 0.0)
            # children that do not stand out of the noise are not split further (their
            # children would be noise); the fine histogram may still count them one by one
            for (a, b), w, st in zip(kids, c, strong, strict=True):
                if st:
                    frontier.append((a, b, float(w), parents, sigma_l))
                elif w > 0:
                    leaves.append((a, b, float(w), False, parents))
                    leaf_sd.append(rest_sd)
    leaves += [(a, b, m, True, g) for a, b, m, g, _sd in frontier]
    leaf_sd += [sd for *_, sd in frontier]
    if not leaves:  # nothing stood out of the noise: one bin over the declared or unit range
        lo, hi = bounds if bounds is not None else (0.0, 1.0)
        leaves = [(lo, math.nextafter(hi, math.inf), 1.0, False, 0)]
        leaf_sd = [0.0]
    order = sorted(range(len(leaves)), key=lambda i: leaves[i])
    leaves, leaf_sd = [leaves[i] for i in order], [leaf_sd[i] for i in order]
    releases = []
    if rho is not None:
        releases.append(
            Release(f"bins of {col.name}", "discrete_gaussian", spent,
                    f"tree histogram, {levels} of {_LEVELS} levels, top sigma={sigma:.4g}")
        )
        info.update(sigma=sigma, rho=spent, levels=levels)
    fine = None
    if rho_fine:
        # weak integer leaves are counted one integer at a time where the tree found codes:
        # single integers standing out of the noise with one that does not between them
        spiky = integer and _codes_with_gaps(leaves)
        cells3, groups, from_strong, tree, share_of = _fine_cells(leaves, leaf_sd, spiky, integer,
                                                                  parents + 1, probes, unlocated)
        probe = ~from_strong & np.isnan(tree[1]) & (groups > parents)  # (weak leaves have a σ)
        # the share of the levels the tree did not reach counts the fine cells instead (the
        # choice of cells and of ρ depends only on released counts: adaptive composition, the
        # column's discovery ρ as planned). A code column stops after 1 or 2 of 4 levels: at
        # ε = 1 on modechoice's 672 rows, a 0/1 choice's 165 ones stood at 3.3σ of the fine
        # noise, under a probe's 4σ, and 2 aim fits of 6 wrote the column all 0
        if rho is not None:
            rho_fine += max(rho - spent, 0.0)
        fine_counts, sigma_f = yield from _measure(cells3, rho_fine)
        releases.append(
            Release(f"shape of {col.name}", "discrete_gaussian", rho_fine,
                    f"{len(cells3)} cells below the tree's leaves, sigma={sigma_f:.4g}")
        )
        info.update(fine_cells=len(cells3), fine_sigma=sigma_f, fine_rho=rho_fine)
        merged = _with_tree(fine_counts, share_of, from_strong, sigma_f, tree)
        shaped = np.clip(_shrink(merged, groups, sigma_f), 0.0, None)
        # spikes are looked for among single integers, or among the children of a float leaf
        unit = np.array([b - a <= 1 if integer else bool(st)
                         for (a, b), st in zip(cells3, from_strong, strict=True)], dtype=bool)
        # stretches between codes: any, between sparse ones; of 2 cells or more, between codes
        # with gaps (a single weak value between two strong ones may be a smooth column's)
        inner = (1 if _codes_with_gaps(leaves, sparse=True) else 2) if spiky else 0
        # a positive probe's lowest integer right above a kept integer that clears 3σ (a
        # score's top code 10 beside its 9) is one cell a probe, not ~18: it stands at 3σ,
        # and counts as solid there (a 0/1 flag's empty 9 leaves its 10 at 4σ)
        edge = np.zeros(len(cells3), dtype=bool)
        if integer:
            at = {cell: i for i, cell in enumerate(cells3)}
            # ... and so does the lowest integer of a node none of whose children stood out,
            # cut into single integers (see _empty): the same 10 when noise lifted its decade
            # over the top level's prune
            found = [at.get((lo, lo + 1)) for lo, _hi, below, _above in probes if below]
            starts = [i for i in found if i is not None and probe[i]]
            starts += [int(np.flatnonzero(share_of == u)[0]) for u in unlocated
                       if (share_of == u).any()]
            for i in starts:
                lo = cells3[i][0]
                j = at.get((lo - 1, lo))
                if lo > 0 and cells3[i][1] == lo + 1 and j is not None:
                    edge[i] = fine_counts[j] >= _KEEP * sigma_f
        # integer cells that end where the next begins (cells cut by the tree are not counted)
        joined = np.array([b == c for (_, b), (c, _) in zip(cells3[:-1], cells3[1:], strict=True)]
                          + [False]) if integer else None
        empty = _empty(fine_counts, groups, from_strong, _KEEP * sigma_f, unit, tree, share_of,
                       inner=inner, edge=edge, joined=joined, loose=np.isin(share_of, unlocated))
        # a probe's child stands only on its own fine count, at 4σ (see _probes); the single
        # integer at its border with a kept cell at 3σ
        empty |= probe & (fine_counts < np.where(edge, _KEEP, SPIKE_Z * _KEEP) * sigma_f)
        if bounds is not None and rho is not None:  # a declared range's ends: see there
            _declared_ends_kept(empty, shaped, fine_counts, sigma_f, tree, share_of, n_top)
        shaped[empty] = 0.0
        counted = cells3  # the cells the fine histogram counted
        if not integer:
            cells3 = _points(cells3, groups, from_strong, fine_counts, _KEEP * sigma_f)
        leaves3 = [(a, b, float(w)) for (a, b), w in zip(cells3, shaped, strict=True)]
        bins, _ = _bins_from_leaves(leaves3, n_bins, integer)
        fine = _bin_sums(counted, fine_counts, sigma_f, bins)
    else:
        bins, _ = _bins_from_leaves([(a, b, m) for a, b, m, _s, _g in leaves], n_bins, integer)
    info["bins"] = bins.n_bins
    return bins, releases, info, fine


def _codes_with_gaps(leaves: Sequence[_Leaf], sparse: bool = False) -> bool:
    """Whether the tree's single-integer leaves show codes: two that stand out of the noise
    with a weak one between them (education 12, 14, 16 without 13 and 15), not a smooth run
    of strong values (every age from 17 to 75 on 26,000 rows). With ``sparse``, codes that
    hold fewer than half the integers between the first and the last (101, 205, 309; 70, 80,
    90, 100), not a smooth column some of whose values the noise hides (ages of 5σ each)."""
    strong = sorted(a for a, b, _m, st, _g in leaves if st and b - a <= 1)
    span = strong[-1] - strong[0] + 1 if strong else 0
    return len(strong) > 1 and span > (2 if sparse else 1) * len(strong)


def _probes(cells: Sequence[_Cell], kept: npt.NDArray[np.bool_], integer: bool
            ) -> list[tuple[float, float, bool, bool]]:
    """Top-level cells the tree pruned that border a kept one (skipping, for an integer column,
    the cells below 1 in magnitude that hold no integer): the fine histogram counts their
    children too.

    The top level prunes at 4.5σ because it tests 45 cells; a column's rare values next to its
    bulk (the 1s of a 0/1 flag held by 1.5% of 16,000 rows, 2.2σ of the top level's noise on
    statsmodels' randhie at ε = 1) fall below it and the column came out all 0. The fine
    histogram is paid for already (its cells are disjoint: more of them cost nothing); a
    probe's child survives only as a fine count that clears 4σ, and the probe's other children
    are cut as the column's empty ends are (:func:`_empty`). Post-processing of released
    counts choosing which cells the next release counts: adaptive, no extra cost.

    Each probe comes as ``(lo, hi, kept below, kept above)``: which of its sides borders a
    kept cell (:func:`_probe_cells` counts an integer probe in single integers there).

    The cell around zero is probed too wherever a range is kept: zero is a value of its own
    in counts, waiting times and amounts, often apart from the rest (modechoice's terminal
    times: 172 zeros of 672 rows, 3 rows in 1-9, the rest 10-99, at ε = 1 the zeros read 4.7σ
    of the top level, and 2 aim fits of 4 wrote no zero). One cell more, one more 4σ test."""
    holds = [not integer or math.ceil(a) < b for a, b in cells]
    order = [i for i, h in enumerate(holds) if h]
    out = []
    for pos, i in enumerate(order):
        if kept[i]:
            continue
        below = pos > 0 and bool(kept[order[pos - 1]])
        above = pos + 1 < len(order) and bool(kept[order[pos + 1]])
        if below or above:
            out.append((float(cells[i][0]), float(cells[i][1]), below, above))
    zero = next((i for i, (a, b) in enumerate(cells) if a < 0 < b), None)
    if zero is not None and kept.any() and not kept[zero] and all(
            lo != cells[zero][0] for lo, *_ in out):
        out.append((float(cells[zero][0]), float(cells[zero][1]), False, False))
    return out


def _probe_cells(lo: float, hi: float, below: bool, above: bool, integer: bool) -> list[list[_Cell]]:
    """The fine cells of a probe, as sibling groups in order of value: its children, and for an
    integer column the child on each side that borders a kept cell split again, down to single
    integers at the border.

    A score of 1-10 has its top code in the decade [10, 100) beside the kept [1, 10): counted
    as [10, 20) it decoded as values spread over 10-19 (a fifth of one compas column at 3,000
    rows came out 11-19). Counted as 10, 11, ..., 19, 20-29, ... the 10s stand alone and the
    rest is cut as the column's empty end (:func:`_empty`). The cells are disjoint: more of them
    cost nothing.

    >>> [len(g) for g in _probe_cells(10.0, 100.0, True, False, True)]
    [10, 8]
    >>> _probe_cells(100.0, 1000.0, False, True, True)[-1][-1]
    (999.0, 1000.0)
    """
    kids = _children(lo, hi, integer) or [(lo, hi)]
    if not integer or len(kids) < 2 or not _children(*kids[0], integer):
        return [kids]
    head = _edge_first(kids[0], True) if below else []
    tail = _edge_first(kids[-1], False) if above else []
    rest = kids[int(below) : len(kids) - int(above)]
    return [*head, *([rest] if rest else []), *tail]


def _edge_first(cell: _Cell, low: bool) -> list[list[_Cell]]:
    """An integer cell split again and again at one edge (``low``: its lower one) down to
    single integers there, as sibling groups in order of value."""
    kids = _children(*cell, True)
    if not kids:
        return [[cell]]
    if not _children(*kids[0], True):  # single integers: one group
        return [kids]
    if low:
        return [*_edge_first(kids[0], True), kids[1:]]
    return [kids[:-1], *_edge_first(kids[-1], False)]


def _fine_cells(
    leaves: Sequence[_Leaf], leaf_sd: Sequence[float], spiky: bool, integer: bool,
    next_group: int,
    probes: Sequence[tuple[float, float, bool, bool]] = (), unlocated: Sequence[int] = (),
) -> tuple[list[_Cell], npt.NDArray[np.int_], npt.NDArray[np.bool_], tuple[_Floats, _Floats],
           npt.NDArray[np.int_]]:
    """The cells of the fine histogram, their sibling groups, whether each comes from a
    strong leaf, (mass, σ) of each cell as the tree estimated it (NaN for the children of
    a strong leaf, which the tree did not count), and the group whose remainder of the tree
    each cell's mass is a share of (its sibling group, but for the single integers of a weak
    leaf split here: the leaf's parent): each strong leaf's children (a group of their own;
    the leaf itself where it has none), each weak leaf as it is, and the children of each
    probe (:func:`_probes`; a group of their own, weak: nothing vouches for them). Cells come
    in order of value.

    With ``spiky`` (the tree found codes: single integers standing out of the noise with a
    gap between them, :func:`_codes_with_gaps`), a weak leaf ten integers wide is counted one
    integer at a time (a group of its own). Counted whole, it decoded as values spread over its ten integers: an
    education code whose top value 20 (5% of 5,000 rows) left the decade's cell [20, 30)
    under the tree's 3σ came out with values past 20 in 32 of 40 seeded discoveries at the
    noise of an mst fit on statsmodels' fair table at ε = 1; one by one, 20 stands alone as a
    spike and 21-29 go as an empty run (:func:`_empty`): 0 of 40. The cells are disjoint, so
    more of them cost nothing; but the sum of ten noisy counts is √10 times noisier than one,
    which lost real tails of smooth columns (anes96's ages, 756 rows, at that noise: 8% of the
    rows outside every bin on average with leaves whole, 14% split; Adult's ages, 26,049 rows,
    0.009 more 1-way TVD): those keep them whole."""
    cells: list[tuple[float, float]] = []
    groups: list[int] = []
    strong_of: list[bool] = []
    mass: list[float] = []
    sds: list[float] = []
    shares: list[int] = []
    items: list[tuple[_Leaf, float]] = list(zip(leaves, leaf_sd, strict=True))
    sides = {(a, b): (lo_kept, hi_kept) for a, b, lo_kept, hi_kept in probes}
    items += [((a, b, math.nan, False, -1), math.nan) for a, b in sides]
    items.sort(key=lambda item: item[0][:2])

    def siblings(kids: list[_Cell], strong: bool) -> None:  # a group the tree did not count
        nonlocal next_group
        cells.extend(kids)
        groups.extend([next_group] * len(kids))
        strong_of.extend([strong] * len(kids))
        mass.extend([math.nan] * len(kids))
        sds.extend([math.nan] * len(kids))
        next_group += 1

    for (lo, hi, m, strong, parent), sd in items:
        if math.isnan(m):  # a probe: its children (see _probe_cells), or itself where it has none
            for kids in _probe_cells(lo, hi, *sides[(lo, hi)], integer):
                siblings(kids, False)
            shares.extend(groups[len(shares):])
            continue
        kids = (_children(lo, hi, integer)
                if strong or spiky or (integer and parent in unlocated) else [])
        if kids and strong:
            siblings(kids, True)
        elif kids and hi - lo <= _CODE_CELLS:
            # a weak integer leaf of a code column: counted one integer at a time (see above),
            # ten by ten as sibling groups, the tree's mass and σ spread evenly over them
            # (their sums stay the leaf's)
            units = _unit_groups(lo, hi)
            width = sum(len(g) for g in units)
            for kids in units:
                cells.extend(kids)
                groups.extend([next_group] * len(kids))
                strong_of.extend([False] * len(kids))
                mass.extend([m / width] * len(kids))
                sds.extend([sd / width] * len(kids))
                shares.extend([parent] * len(kids))
                next_group += 1
            continue
        else:
            cells.append((lo, hi))
            groups.append(parent)
            strong_of.append(strong)
            mass.append(m)
            sds.append(sd)
        shares.extend(groups[len(shares):])
    return (cells, np.asarray(groups), np.asarray(strong_of, dtype=bool),
            (np.asarray(mass, dtype=float), np.asarray(sds, dtype=float)),
            np.asarray(shares))


def _unit_groups(lo: float, hi: float) -> list[list[_Cell]]:
    """An integer cell's single integers as sibling groups of the round-number tree (ten by
    ten), in order of value.

    >>> [len(g) for g in _unit_groups(300.0, 400.0)], _unit_groups(20.0, 30.0)[0][:2]
    ([10, 10, 10, 10, 10, 10, 10, 10, 10, 10], [(20.0, 21.0), (21.0, 22.0)])
    """
    kids = _children(lo, hi, True)
    if not kids:
        return [[(lo, hi)]]
    if not _children(*kids[0], True):
        return [kids]
    return [g for kid in kids for g in _unit_groups(*kid)]


def _with_tree(counts: _Floats, groups: npt.NDArray[np.int_], strong: npt.NDArray[np.bool_],
               sigma: float, tree: tuple[_Floats, _Floats]) -> _Floats:
    """Fine counts corrected by what the tree released about the same cells (post-processing).

    A strong leaf kept whole is counted by both: the two estimates are combined with
    inverse-variance weights. The weak leaves of one parent share the tree's remainder (what
    the parent's count leaves after its strong children): their fine counts are shifted
    equally so that their sum is the inverse-variance combination of their fine sum and that
    remainder, which keeps their fine shape (an even split of the remainder would be a guess,
    not a measurement). On a small table the fine σ is large next to each cell and the tree's
    remainder carries most of what is known; on a large one the fine counts do.
    """
    mass, sd = tree
    out = counts.astype(float).copy()
    known = np.isfinite(mass) & np.isfinite(sd) & (sd > 0)
    whole = known & strong
    w = sigma**2 / (sigma**2 + sd[whole] ** 2)  # weight of the tree's count
    out[whole] = (1 - w) * out[whole] + w * mass[whole]
    weak = known & ~strong
    for g in np.unique(groups[weak]):
        idx = np.flatnonzero(weak & (groups == g))
        var_f = len(idx) * sigma**2
        var_t = sd[idx].sum() ** 2  # the leaves' shares of one remainder
        fine = out[idx].sum()
        both, _ = _pooled(fine, var_f, mass[idx].sum(), var_t)
        out[idx] += (both - fine) / len(idx)
    return out


def _shrink(counts: _Floats, groups: npt.NDArray[np.int_], sigma: float) -> _Floats:
    """Noisy sibling counts pulled toward their group's mean by the share of their spread that
    noise explains (James–Stein): spikes stand, noise over a flat stretch is smoothed away."""
    out = counts.astype(float).copy()
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        if len(idx) < 3:
            continue
        c = out[idx]
        spread = c.var(ddof=1)
        keep = max(0.0, 1.0 - sigma**2 / spread) if spread > 0 else 0.0
        out[idx] = c.mean() + keep * (c - c.mean())
    return out


def _share_out(mass: float, counts: _Floats, keep: float) -> _Floats:
    """Split a node's ``mass`` over its children: those whose noisy count clears ``keep`` get
    it (scaled down if they claim more than the node holds), the rest share the remainder
    evenly, so no part of the node's range is left without mass (empty ends are cut later,
    from the fine histogram: :func:`_empty`)."""
    strong = counts >= keep
    out = np.zeros(len(counts))
    claimed = counts[strong].sum()
    if claimed >= mass:
        if claimed > 0:
            out[strong] = mass * counts[strong] / claimed
        return out
    out[strong] = counts[strong]
    if (~strong).any():
        out[~strong] = (mass - claimed) / (~strong).sum()
    elif claimed > 0:
        out *= mass / claimed
    return out


def _empty(counts: _Floats, groups: npt.NDArray[np.int_], strong: npt.NDArray[np.bool_],
           keep: float, unit: npt.NDArray[np.bool_],
           tree: tuple[_Floats, _Floats] | None = None,
           shares: npt.NDArray[np.int_] | None = None, inner: int = 0,
           edge: npt.NDArray[np.bool_] | None = None,
           joined: npt.NDArray[np.bool_] | None = None,
           loose: npt.NDArray[np.bool_] | None = None) -> npt.NDArray[np.bool_]:
    """Cells of the fine histogram taken as empty. Post-processing of released counts: spreading
    noise over the empty ends of a range is how a year column of 1995–2003 used to gain
    2050–2099, a 0–5,215 day count values up to 9,958, and a race code 1–5 the values 6–9.

    Candidates are: the tree's weak leaves beyond the first (or the last) cell that stands out
    of the noise (a strong leaf's cell, or a count of 4σ: the column's ends); and, among
    sibling cells that are single integers (or the children of one float leaf, ``unit``)
    dominated by counts that clear 4σ (``SPIKE_Z`` × ``keep``; holding ``SPIKE_SHARE`` of their
    positive mass), those before the first, between two, or after the last such count: the
    values 11–19 next to a score that stops at 10, the years 1990–1994 of a column starting in
    1995, 13 and 15 between education codes 12, 14 and 16, 4.616–4.62 next to a rate of 4.615.
    Siblings of about equal counts (a smooth stretch of a
    continuous column) are never candidates.

    A candidate run is emptied only when neither release can tell it from zero: its fine
    counts total less than ``keep`` × √their number, and the mass the tree gave it (what the
    strong siblings left of their parent's count; ``tree`` = per cell mass and σ) is under
    ``_KEEP`` of its σ. The tree test matters on small tables, where the fine σ is large next
    to every cell: on Adult at 1,000 rows (ε = 1, fine σ ≈ 83) the fine counts alone could not
    tell the 28% of hours-per-week above 40 from zero, and the column came out as the value 40
    alone, while the tree's remainder (≈ 440 rows, σ ≈ 95) says those rows exist.

    Neither alone, yet both together can: a run at an end is also kept where its fine counts
    pooled with the tree's unbiased count of it (its remainder less the fine counts of the
    remainder's other cells) clear 3σ. And an end is never cut whole while the group next to
    the solid cells shows rows on its own evidence (fine counts, alone or so pooled): the whole
    end's sum carries the noise of every empty cell beyond it. A cylinders column like cars'
    (325 rows at ε = 1: 6s and 8s beside a strong 4, each test alone at about 2.5σ) lost its
    8s in 30 of 100 seeded discoveries and kept 4 alone in 26; now 16 and 11, at the price of
    a 9 beside the 8 in 10 (4 before). Over 40 real columns of six small tables (40 seeded
    discoveries each at their aim fit's noise) the share of rows outside every bin fell or
    stayed (penguins' body mass 15% to 8%, anes96's age 17% to 11%).

    The tree's mass of a run is what the weak leaves of one parent share (``shares``: the
    group of that remainder, :func:`_fine_cells`) less what the solid cells of that group
    outside the run claim of it: a top code 20 alone in a weak leaf [20, 30) holds the
    remainder its parent left, and 21-99 do not. (Testing the fine counts and the tree's
    mass together, by their inverse-variance combination, also cut 21-99 where noise lifted
    the remainder, but cut real tails too: Adult's age and hours-per-week at ε = 1 lost
    0.006 of privbayes's 2-way TVD.) A run of a weak leaf's single integers
    (counted one by one) that the tree vouches for stays whole, as the leaf did, unless one of
    them clears 3σ on its own count. Where the tree vouches for a group, its cells beyond
    the last that clears 3σ are cut from the outside as far as the best explanation of the
    releases says (:func:`_outer_empty`: the outer cells empty, the inner ones sharing one
    level, fitted to the fine counts and the tree's count together). A score 1-10 on 1,000
    rows (fine σ 52, values of 50-100 rows) lost 3.4 of its values 1-9 a fit when every cell
    under 3σ went, 1.2 with a midpoint rule; ages 50-59 of 3,000 rows (35 rows each, fine
    σ 42, the tree's share of a cell under σ) were cut to the age 50 by it, and a smooth
    tail of that kind left 13.0% of the rows outside every bin, 8.6% now (40 seeded
    discoveries); on Adult at ε = 1 no value past the real range.

    A node none of whose children stood out of the tree's noise (``loose``: its cells, an
    integer node up to ``_CODE_CELLS`` wide, counted one integer at a time) vouches for its
    own count, not for each child's even share of it: a run of its cells holds what the
    node's count leaves after its other cells not yet cut read. A score's top code 10 whose
    decade [10, 100) passed the top level's prune kept 11-99 (about one fit in twenty on
    compas_3k at ε = 1; 11 of 300 seeded discoveries), now mostly 10 alone (6 of 300 with a
    value past 10, most up to 12-15).

    With ``inner`` > 0 (an integer column whose tree found codes, :func:`_codes_with_gaps`),
    the weak cells between two solid ones are candidates too, where at least ``inner`` of them
    lie between the two: the whole stretch, else each weak leaf of it on its own, tested on
    the tree's remainder as the tree released it (a solid cell elsewhere does not claim it).
    A code column of 101, 205 and 309 (1,000 or 3,000 rows, ε = 1, an mst fit's noise) used to
    keep the noise of [100, 200)'s remainder spread over 110-199, and about 70 of 100 seeded
    discoveries decoded rows as codes such as 131 or 223 (now 0-1); codes 1-5 and 9 gained 6
    and 7 in 13-18 of 100 (now 1-8). ``inner`` is 1 for sparse codes (fewer than half the
    integers of their span) and 2 otherwise: a smooth column (ages of 5σ each, some read weak)
    keeps a single weak value between two strong ones unless the tree's own share says
    nothing (300 seeded runs with a hole: 28 before, 31 after).

    ``edge`` marks a probe's lowest integer right above a kept one that clears 3σ, solid
    at 3σ (a score's top code 10 alone in the decade [10, 100), beside its 9); ``joined``
    (integer columns) whether each cell ends where the next begins. A run after the last
    spike of a group (or before the first) is the column's end only if the cell joined to it
    is not a solid single integer, else it lies between codes: the 9 between the spikes 1-8
    and a solid 10. A compas-like score 1-10 at 3,000 rows (ε = 1, an mst fit's noise: tree
    σ 48, fine σ 42) kept its 10 in 16 and 11 of 40 seeded discoveries (two noise seeds) and
    lost 11 and 22 of the values 1-9; now 26 and 23, and 6 and 17. A 0/1 flag at this noise
    gains a phantom value as often as before (7 and 3 of 1,500 seeded discoveries at 50%
    and 13.5% ones).
    """
    out = np.zeros(len(counts), dtype=bool)
    sigma = keep / _KEEP
    shares = groups if shares is None else shares
    split = shares != groups

    def nothing(ends: npt.NDArray[np.intp], claims: bool = True) -> bool:
        if counts[ends].sum() >= keep * math.sqrt(len(ends)):
            return False
        if tree is None:
            return True
        if claims and is_loose(ends):
            rest, var = loose_rest(ends)
            return bool(rest < _KEEP * math.sqrt(var)) and not read_together(ends)
        known = np.isfinite(tree[0][ends]) & np.isfinite(tree[1][ends])
        if not known.any():
            return True
        total, var = tree_mass(ends, claims)
        return bool(total < _KEEP * math.sqrt(var)) and not (claims and read_together(ends))

    def read_together(run: npt.NDArray[np.intp]) -> bool:
        # the run's fine counts and the tree's count of it, pooled: each read alone may stay
        # under 3σ where together they clear it (a cars-like cylinders column, 325 rows at
        # ε = 1: its 6s and 8s, 155 rows beyond the strong 4, read 2.4σ in the fine counts
        # and 2.5σ in the tree's remainder, and the column came out all 4s in 3 aim fits of
        # 6). The tree's count of the run is its remainder less the fine counts of the
        # remainder's other cells not yet cut: unbiased wherever the mass lies (each cell's
        # even share of it is not: mass in the other cells would vouch for an empty run)
        assert tree is not None
        est = var = 0.0
        for g in np.unique(shares[run]):
            share = np.flatnonzero((shares == g) & ~strong & np.isfinite(tree[0])
                                   & np.isfinite(tree[1]))
            if not np.isin(run[shares[run] == g], share).all():
                return False  # cells the tree did not count: the tests above decide
            others = np.setdiff1d(share[~out[share]], run)
            est += float(tree[0][share].sum() - counts[others].sum())
            var += float(tree[1][share].sum()) ** 2 + len(others) * sigma**2
        both, var_both = _pooled(float(counts[run].sum()), len(run) * sigma**2, est, var)
        return bool(both >= _KEEP * math.sqrt(var_both))

    def tree_mass(ends: npt.NDArray[np.intp], claims: bool = False) -> tuple[float, float]:
        # the tree's count of a run's cells that it counted, and its variance: leaves of one
        # parent share one remainder (their σ add up), parents are independent; with
        # ``claims``, less what solid cells outside the run claim of each remainder
        assert tree is not None
        total = var = 0.0
        for g, m_g, s_g in _tree_shares(tree, shares, ends):
            # what the group's solid cells outside the run claim of its remainder is not the run's
            share = np.flatnonzero((shares == g) & ~strong & np.isfinite(tree[0]))
            others = np.setdiff1d(share, ends)
            spikes = others[counts[others] >= SPIKE_Z * keep]
            rest = float(tree[0][share].sum() - counts[spikes].sum())
            if claims and len(spikes) and rest < m_g:
                m_g = rest
                s_g = math.sqrt(float(tree[1][share].sum()) ** 2 + len(spikes) * sigma**2)
            total += m_g
            var += s_g**2
        return total, var

    def is_loose(run: npt.NDArray[np.intp]) -> bool:
        return (loose is not None and tree is not None and bool(loose[run].all())
                and len(set(shares[run])) == 1)

    def loose_rest(run: npt.NDArray[np.intp]) -> tuple[float, float]:
        # the tree found mass in a node and none of it in any child: it vouches for the
        # node's mass, not for a part of it. A run of its cells holds what the node's count
        # leaves after its other cells not yet cut (their fine counts): (mass, variance)
        assert tree is not None
        share = np.flatnonzero((shares == shares[run[0]]) & np.isfinite(tree[0]))
        others = np.setdiff1d(share[~out[share]], run)
        rest = float(tree[0][share].sum() - counts[others].sum())
        return rest, float(tree[1][share].sum()) ** 2 + len(others) * sigma**2

    def innermost(ends: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
        # the group of an end (outermost first) next to the solid cells: tested alone too, as
        # the whole end dilutes its evidence with the noise of every cell beyond it
        at = len(ends) - 1
        while at > 0 and groups[ends[at - 1]] == groups[ends[-1]]:
            at -= 1
        return ends[at:]

    def located(run: npt.NDArray[np.intp]) -> bool:
        # a run's own evidence: its fine counts, alone or pooled with the tree's unbiased
        # count of it (not its even share of a remainder, which a solid cell beside it fills:
        # a top code 20 would vouch for 21-29)
        return bool(counts[run].sum() >= keep * math.sqrt(len(run))) or (
            tree is not None and read_together(run))

    is_solid = strong | (counts >= SPIKE_Z * keep)
    if edge is not None:  # a probe's border integer (see _bins_walk) stands at 3σ
        is_solid |= edge & (counts >= keep)
    solid = np.flatnonzero(is_solid)
    if len(solid):  # the column's empty ends: weak leaves beyond its first and last solid cell
        for ends in (np.arange(solid[0]), np.arange(solid[-1] + 1, len(counts))[::-1]):
            ends = ends[~strong[ends]]  # outermost first
            if len(ends) and nothing(ends) and not located(innermost(ends)):
                out[ends] = True
                continue
            # else peel the end group by group from the outside while each shows nothing: the
            # tree's evidence that Adult's education-num 16-19 hold rows (16 does) kept the
            # decades 20-99 beyond them, and a third of the fits on 5,000 rows made up values
            apart = np.diff(groups[ends]) != 0
            if loose is not None:  # an unlocated node's leaves are tested one by one
                alone = loose[ends] & ~unit[ends]
                apart |= alone[1:] | alone[:-1]
            for run in np.split(ends, np.flatnonzero(apart) + 1):
                if not nothing(run):
                    # the tree vouches for the group, not for each of its single integers: the
                    # outer ones that the counts explain best as empty go (16 stays, 17-19 go);
                    # a split weak leaf's integers only where one clears 3σ (a code 20 at 3.8σ
                    # beside 21-29) or its node located nothing, else the run stays whole as
                    # the leaf did (a smooth tail)
                    loose_run = is_loose(run)
                    if unit[run].all() and (not split[run].any() or (counts[run] >= keep).any()
                                            or loose_run):
                        mass = var = math.nan  # (the tree's count where it counted every cell)
                        if loose_run:
                            mass, var = loose_rest(run)
                        elif tree is not None and np.isfinite([tree[0][run], tree[1][run]]).all():
                            mass, var = tree_mass(run)
                        out[run[:_outer_empty(counts[run], sigma, keep, mass, var)]] = True
                    break
                out[run] = True
    if inner and len(solid) > 1:  # the stretches between codes (see above)
        for a, b in zip(solid[:-1], solid[1:], strict=True):
            gap = np.arange(a + 1, b)
            gap = gap[~strong[gap] & ~out[gap]]
            if len(gap) < inner:
                continue
            if nothing(gap, claims=False):
                out[gap] = True
                continue
            for run in np.split(gap, np.flatnonzero(np.diff(groups[gap]) != 0) + 1):
                if nothing(run, claims=False):
                    out[run] = True
    for g in np.unique(groups[unit]):
        idx = np.flatnonzero(groups == g)
        if not unit[idx].all():
            continue
        high = counts[idx] >= SPIKE_Z * keep  # one of ~10 empty siblings passes 4σ: 3·10⁻⁴
        if not high.any() or high.all():
            continue
        if counts[idx][high].sum() < SPIKE_SHARE * np.clip(counts[idx], 0, None).sum():
            continue
        # the runs before the first spike, between two spikes and after the last: codes
        # 12, 14, 16 do not gain 13 and 15 from the noise shrinkage spreads over their gaps
        # A gap is cut only between two counts of 8σ or more: a smooth column's cell between
        # two such counts reads under 3σ only by a 5σ draw, while between two 4σ counts (a
        # small table's tail) it would, one time in six, and the column would gain holes
        cuts = np.flatnonzero(high)
        tall = counts[idx] >= 2 * SPIKE_Z * keep
        # the runs before the first and after the last; where the cell joined to one past the
        # group is a solid single integer, the run lies between codes, and is cut only between
        # two tall counts, as below (a score's 9 after the spikes 1-8 of [1, 10), with its top
        # code 10 solid in the next decade, is not the column's end)
        head, tail = idx[:cuts[0]], idx[cuts[-1] + 1:]
        runs = []
        for run, nxt, at, spike in ((head, idx[0] - 1, idx[0] - 1, cuts[0]),
                                    (tail, idx[-1] + 1, idx[-1], cuts[-1])):
            inside = (joined is not None and 0 <= nxt < len(counts) and bool(joined[at])
                      and bool(unit[nxt]) and nxt in solid)
            if not inside or (tall[spike] and counts[nxt] >= 2 * SPIKE_Z * keep):
                runs.append(run)
        runs += [idx[a + 1:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True)
                 if b > a + 1 and tall[a] and tall[b]]
        for run in runs:
            if len(run) and nothing(run):
                out[run] = True
    return out


def _outer_empty(counts: _Floats, sigma: float, keep: float, mass: float = math.nan,
                 mass_var: float = math.nan) -> int:
    """How many of a run's cells, ordered outermost first, are empty: the ``n`` whose model
    best explains what was released, where the model is "the first ``n`` cells hold nothing,
    the others share one level evenly" and the releases are the cells' fine counts (σ
    ``sigma`` each) and the tree's count of the whole run (``mass``, variance ``mass_var``,
    which vouches for it): the Gaussian likelihood, the level fitted to both, the same one free
    parameter for every ``n``. The cells up to the outermost one whose count clears ``keep``
    (3σ) stay; without the tree's count every cell inside that one goes but the innermost.

    A smooth tail of weak cells fits the even spread (ages 50-59 of 3,000 rows, 35 rows each
    under a fine σ of 42: all kept, where cutting to the innermost moved 12% of the rows to
    the age 50); a code alone at the run's inner end fits a single cell (a score's 10 in a
    decade whose other cells read noise).

    >>> _outer_empty(np.array([2.0, -30.0, 20.0, 140.0]), 42.0, 126.0, 250.0, 45.0**2)
    3
    >>> _outer_empty(np.array([40.0, 10.0, 50.0, 35.0]), 42.0, 126.0, 140.0, 45.0**2)
    0
    """
    n = len(counts)
    strong = np.flatnonzero(counts >= keep)
    most = int(strong[0]) if len(strong) else max(n - 1, 0)  # cut no further in than this
    if not (n and math.isfinite(mass) and math.isfinite(mass_var)):
        return most
    v, s2 = max(mass_var, 1e-9), sigma**2
    fits = []
    for k in range(most + 1):
        inner, m = counts[k:], n - k
        level = (inner.sum() / s2 + m * mass / v) / (m / s2 + m * m / v)
        fits.append(float(np.sum(counts[:k] ** 2) / s2 + np.sum((inner - level) ** 2) / s2
                          + (mass - m * level) ** 2 / v))
    return int(np.argmin(fits))


def _points(cells: list[tuple[float, float]], groups: npt.NDArray[np.int_],
            strong: npt.NDArray[np.bool_], counts: _Floats, keep: float) -> list[tuple[float, float]]:
    """The fine cells of a float column that hold a point mass, as the point at their lower
    edge (post-processing): among the children of one strong leaf, a cell whose count clears
    4σ (``SPIKE_Z`` × ``keep``) and holds ``SPIKE_SHARE`` of their positive mass. A score of
    42.0 (the top code of an age in classes), a rate of exactly 1.0 or a log of 4.61512 (one
    of five plan levels) then decodes as 42.0, 1.0 and 4.615, not as values spread over
    [42.0, 42.01), which pass the real maximum. Values of a smooth density share their
    siblings' mass and stay spread; a point moves by less than its cell's width (a part in
    10⁴ of its decade), never above the largest real value in its cell.
    """
    out = list(cells)
    for g in np.unique(groups[strong]):
        idx = np.flatnonzero(strong & (groups == g))
        if len(idx) < 2:
            continue
        c = counts[idx]
        top = int(np.argmax(c))
        if c[top] >= SPIKE_Z * keep and c[top] >= SPIKE_SHARE * np.clip(c, 0, None).sum():
            a = cells[idx[top]][0]
            out[idx[top]] = (a, a)
    return out


def _bins_from_leaves(
    leaves: Sequence[tuple[float, float, float]], n_bins: int, integer: bool
) -> tuple[DiscoveredBins, list[tuple[int, int]]]:
    """Bins of about equal mass cut at leaf boundaries, each with its in-bin quantiles, and the
    ``(start, stop)`` range of ``leaves`` that each bin holds."""
    lo = np.array([a for a, _, _ in leaves])
    hi = np.array([b for _, b, _ in leaves])
    w = np.array([m for _, _, m in leaves])
    index = np.arange(len(leaves))
    keep = np.ones(len(leaves), dtype=bool)
    if integer:  # integer cells [a, b) hold the integers ceil(a) … ceil(b) - 1
        lo, hi = np.ceil(lo) + 0.0, np.ceil(hi) - 1
        keep = hi >= lo
    else:  # the cell around zero (±1e-6, a leaf of the tree) holds a float column's zeros (no
        # claim, nothing spent, an amount of 0.0): a point at 0, not values drawn in ±1e-6
        zero = (lo <= 0) & (hi >= 0) & (hi - lo <= 2 * 10.0 ** _DECADES[0] * (1 + 1e-9))
        lo, hi = np.where(zero, 0.0, lo), np.where(zero, 0.0, hi)
    if (w[keep] > 0).any():  # cells given no mass hold no value: they bound no bin
        keep &= w > 0
    lo, hi, w, index = lo[keep], hi[keep], w[keep], index[keep]
    total = w.sum()
    target = total / n_bins
    groups, start, acc = [], 0, 0.0
    for i in range(len(w)):
        heavy = lo[i] == hi[i] and w[i] >= target
        if heavy and i > start:
            groups.append((start, i))
            start, acc = i, 0.0
        acc += w[i]
        if heavy or acc >= target * 0.999 or i == len(w) - 1:
            groups.append((start, i + 1))
            start, acc = i + 1, 0.0
    lower = np.array([lo[a] for a, _ in groups])
    upper = np.array([hi[z - 1] for _, z in groups])
    if not integer:  # make half-open float cells closed: upper just below the next lower
        upper = np.array([np.nextafter(u, -np.inf) if u > low else u for u, low in zip(upper, lower, strict=True)])
    shape = np.empty((len(groups), _SHAPE_POINTS))
    qs = np.linspace(0, 1, _SHAPE_POINTS)
    for g, (a, z) in enumerate(groups):
        shape[g] = _piecewise_quantiles(lo[a:z], hi[a:z], w[a:z], qs, integer)
    bins = DiscoveredBins(lower.astype(float), upper.astype(float), shape, integer)
    # leaves dropped above (integer cells holding no integer) sit inside no bin's range
    bounds = np.r_[index, len(leaves)]
    return bins, [(int(bounds[a]), int(bounds[z])) for a, z in groups]


def _bin_sums(cells: Sequence[_Cell], counts: _Floats, sigma: float, bins: DiscoveredBins
              ) -> tuple[_Floats, _Floats]:
    """Each bin's sum of the fine counts of the cells whose values the encoder gives it, and
    its variance; NaN (no estimate) for a bin that is also given values no counted cell holds.

    The encoder gives a value to the first bin whose upper end is at or above it (below the
    first bin, to the first; above the last, to the last: ``Bins.assign``). Counted by the
    bins' own ranges instead, the cells cut before the first bin counted nowhere, those of a
    gap in the bin below, and values between counted cells (siblings the tree's remainder gave
    no mass, never counted) nowhere, while the fresh 1-way measurement counts all of them in
    the bin the encoder gives them: the 1-way counts that combine both, and the evidence of a
    missing state that sums them (the support rule), were biased. randhie's log deductible
    (16,152 rows, ε = 1): 1,232 rows short on average (30 seeded discoveries); the evidence of
    its missing state averaged +1.5σ and that of the coinsurance rate −2.3σ where each should
    average 0 (10 aim fits), and 2 of 6 aim fits wrote 0.3% missing values into a column that
    has none.
    The range beyond the outermost counted cells counts as empty (discovery's top level pruned
    it). Integer cells that hold no integer count nowhere. A float cell that discovery made a
    point (a spike) is split between the point's bin and the next: its bins go without (its
    rows need not all sit at the point: taken whole, randhie's log deductible came out 1,459
    rows over)."""
    lo = np.array([a for a, _ in cells], dtype=float)
    hi = np.array([b for _, b in cells], dtype=float)
    if bins.integer:  # the integers ceil(lo) ... ceil(hi) - 1
        first, last = np.ceil(lo), np.ceil(hi) - 1
        holds = first <= last
    else:
        first, last = lo, np.array([np.nextafter(b, -np.inf) if b > a else b
                                    for a, b in zip(lo, hi, strict=True)])
        holds = np.ones(len(cells), dtype=bool)
    first, last, lo, hi = first[holds], last[holds], lo[holds], hi[holds]
    def assign(values: _Floats) -> npt.NDArray[np.intp]:
        # the encoder's rule (``Bins.assign``; discovery imports no encoder)
        return np.minimum(np.searchsorted(bins.upper, values, side="left"), bins.n_bins - 1)

    at = assign(first)
    sums = np.bincount(at, weights=counts[holds], minlength=bins.n_bins).astype(float)
    var = (np.bincount(at, minlength=bins.n_bins) * sigma**2).astype(float)
    split = assign(last) != at  # a cell whose values go to more than one bin
    # values between two counted cells: the bins the encoder gives them
    if bins.integer:
        gap = last[:-1] + 1 < first[1:]
        below, above = last[:-1][gap] + 1, first[1:][gap] - 1
    else:
        gap = hi[:-1] < lo[1:]
        below, above = hi[:-1][gap], np.nextafter(lo[1:][gap], -np.inf)
    # the bins of split cells and of those values have no estimate
    marks = np.zeros(bins.n_bins + 1, dtype=int)
    np.add.at(marks, np.r_[at[split], assign(below)], 1)
    np.add.at(marks, np.r_[assign(last)[split], assign(above)] + 1, -1)
    unknown = np.cumsum(marks)[:-1] > 0
    return np.where(unknown, np.nan, sums), np.where(unknown, np.nan, var)


def _piecewise_quantiles(
    lo: _Floats, hi: _Floats, w: _Floats, qs: _Floats, integer: bool
) -> _Floats:
    """Quantiles of a distribution uniform inside each cell [lo, hi] with weights w."""
    if integer:  # integers a … b spread over [a - ½, b + ½): decoding rounds to the nearest
        lo, hi = lo - 0.5, hi + 0.5
    cw: _Floats = np.r_[0.0, np.cumsum(w)]
    if cw[-1] <= 0:
        return np.linspace(lo[0], hi[-1], len(qs))
    targets = qs * cw[-1]
    i: npt.NDArray[np.intp] = np.clip(np.searchsorted(cw, targets, side="right") - 1, 0, len(w) - 1)
    frac: _Floats = np.where(w[i] > 0, (targets - cw[i]) / np.where(w[i] > 0, w[i], 1), 0.0)
    return lo[i] + np.clip(frac, 0, 1) * (hi[i] - lo[i])


def _bounds_of(bins: DiscoveredBins, col: Column) -> tuple[Any, Any]:
    lo, hi = float(bins.lower[0]), float(bins.upper[-1])
    if col.kind is Kind.DATETIME:
        from lookalike.schema import number_to_datetime

        ts = number_to_datetime(np.array([lo, hi]), col.unit)
        return tuple(t.isoformat() for t in ts)
    if col.kind is Kind.INTEGER:
        return int(lo), int(hi)
    return lo, hi


def _declared_ends_kept(empty: npt.NDArray[np.bool_], shaped: _Floats, fine: _Floats,
                        sigma_f: float, tree: tuple[_Floats, _Floats],
                        shares: npt.NDArray[np.int_], n_rows: float) -> None:
    """Inside declared bounds, the fine cells cut at either end of the range (by
    :func:`_empty`, or as a probe's children under 4σ) are given back, in place, unless the
    releases rule out that they hold ``SMALL_SHARE`` of the ``n_rows`` rows: their count (the
    fine counts, combined with the tree's where it counted them) stays under it even
    ``DECLARED_Z`` σ up. Given back, they share evenly the mean of that count known to be
    non-negative (the normal truncated at 0): the releases cannot tell their shape.

    Why: the range was declared (a public fact), yet a small table's noise is larger than
    whole parts of it. Cut as a discovered range's ends are, a cars-like displacement of 325
    rows declared [68, 455] lost its values under 100 (79 rows; the top level's σ 37, the fine
    one 60): 30% and 28% of the rows outside every bin, two noise seeds of 40 discoveries
    each; 6.4% and 3.6% now. On a large table nothing changes: 5% of 26,000 rows is 29 fine σ,
    and ages declared [0, 120] gain no value outside 17-90. Post-processing of released counts.
    """
    for side in (np.arange(len(empty)), np.arange(len(empty))[::-1]):
        run = side[: int(np.argmin(empty[side])) if not empty[side].all() else len(side)]
        if not len(run):
            continue
        value, var = float(fine[run].sum()), len(run) * sigma_f**2
        shares_of_run = _tree_shares(tree, shares, run)
        t_var = sum(s_g**2 for _g, _m, s_g in shares_of_run)
        if t_var > 0:
            value, var = _pooled(value, var, sum(m for _g, m, _s in shares_of_run), t_var)
        sd = math.sqrt(var)
        if value + DECLARED_Z * sd < SMALL_SHARE * n_rows:
            continue
        from scipy.stats import truncnorm  # (only declared bounds under DP get here)

        empty[run] = False
        shaped[run] = truncnorm(-value / sd, math.inf, loc=value, scale=sd).mean() / len(run)


def _tree_shares(tree: tuple[_Floats, _Floats], shares: npt.NDArray[np.int_],
                 cells: npt.NDArray[np.intp]) -> list[tuple[int, float, float]]:
    """(group, mass, σ) of the tree's count of ``cells``, per remainder they share (the weak
    leaves of one parent share one: their masses and their σ add up); cells the tree did not
    count are left out."""
    mass, sd = tree[0][cells], tree[1][cells]
    known = np.isfinite(mass) & np.isfinite(sd)
    out = []
    for g in np.unique(shares[cells][known]):
        in_g = known & (shares[cells] == g)
        out.append((int(g), float(mass[in_g].sum()), float(sd[in_g].sum())))
    return out


def _pooled(a: float, var_a: float, b: float, var_b: float) -> tuple[float, float]:
    """Inverse-variance combination of two independent estimates: (estimate, variance)."""
    w = var_a / (var_a + var_b)  # the weight of ``b``
    return (1 - w) * a + w * b, var_a * var_b / (var_a + var_b)
