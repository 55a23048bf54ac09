"""The DP plan of a fit, stated before anything is spent: which facts are declared (free),
which a DP fit must discover (categories, bins) and at what share of the budget, what that
discovery can find on a table of this size, and what declaring the facts would change.

Every number comes from the functions the fit itself uses: the family's
``_discovery_budget`` (the share of ρ and the 1-way ρ discovery may borrow, sized from the
row count as :func:`~lookalike.privacy.discovery.adaptive_share` sizes it),
:func:`~lookalike.privacy.discovery.column_budget`,
:func:`~lookalike.privacy.discovery.category_threshold`,
:func:`~lookalike.privacy.discovery.range_threshold` and the
:class:`~lookalike.privacy.discovery.SmallTableWarning` text
(:func:`~lookalike.privacy.discovery.small_table_message`). Thresholds are functions of the
budget alone; only their share of the rows, the discovery share and the small-table warning
depend on the row count, which the plan takes as given: ``lookalike inspect`` and the CLI pass
the exact count (the plan stays on the user's screen, a private output), while the fit sizes
discovery from a noisy count it pays for (``COUNT_SHARE`` of ρ), so its numbers may differ a
little.

>>> import lookalike
>>> from lookalike.synthesizers import get_synthesizer
>>> real = lookalike.load_demo().head(2000)
>>> plan = plan_dp_fit(get_synthesizer("mst"), lookalike.infer_schema(real), epsilon=1.0,
...                    n_rows=len(real))
>>> plan.share, plan.column("workclass").discovered
(0.5, ('categories',))
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from lookalike.errors import ConfigError
from lookalike.privacy.accountant import epsilon_from_rho
from lookalike.privacy.advice import delta_warning, epsilon_warning
from lookalike.privacy.budget import privacy_request
from lookalike.privacy.discovery import (
    COUNT_SHARE,
    SHARE_RANGE,
    category_threshold,
    column_budget,
    discovery_columns,
    range_threshold,
    small_table_message,
    surely_found,
)
from lookalike.schema import Column, Kind, Schema

__all__ = ["ColumnPlan", "DPPlan", "check_discoverable", "plan_dp_fit"]

EXACT_COUNT = "the exact count; the fit sizes discovery from a noisy one"


@dataclass(frozen=True)
class ColumnPlan:
    """One column in a DP fit: the facts it gets free, those a DP fit discovers, the rows a
    category or range must hold to be found, and what declaring would change."""

    name: str
    kind: str
    declared: tuple[str, ...]
    """Facts declared public (free): "categories", "bounds", "values" (booleans) ..."""
    discovered: tuple[str, ...]
    """Facts a DP fit must discover from the data: "categories", "bounds", "bins"."""
    rows_needed: float | None
    """A category (or a numeric range) is kept only if it holds about this many rows."""
    declare: str
    """What declaring its facts would change ("" when nothing is left to declare)."""
    rows_sure: float | None = None
    """... and is found in 49 fits of 50 when it holds this many
    (:func:`~lookalike.privacy.discovery.surely_found`)."""


@dataclass(frozen=True)
class DPPlan:
    """What a DP fit of ``synthesizer`` at (``epsilon``, ``delta``) on ``n_rows`` rows will do
    before it learns the model (see the module)."""

    synthesizer: str
    epsilon: float
    delta: float
    n_rows: int | None
    rho: float
    """The fit's zCDP budget."""
    discovery_rho: float
    """ρ of domain discovery (all its columns together)."""
    columns: tuple[ColumnPlan, ...]
    warnings: tuple[str, ...]
    """Small table (the :class:`SmallTableWarning` text), huge ε, δ ≥ 1/n."""
    small_table: str | None
    """The :class:`SmallTableWarning` text, when the table is too small for this ε."""
    if_declared: str
    """What declaring every categorical column's categories would change ("" if none is left)."""
    delta_rho: float

    @property
    def share(self) -> float:
        """Share of the budget (ρ) that discovery takes."""
        return self.discovery_rho / self.rho if self.rho > 0 else 0.0

    @property
    def discovery_epsilon(self) -> float:
        """What discovery alone would cost as ε (at the fit's δ less discovery's)."""
        return epsilon_from_rho(self.discovery_rho, self.delta_rho) if self.discovery_rho > 0 else 0.0

    def column(self, name: str) -> ColumnPlan:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def rows_text(self) -> str:
        if self.n_rows is None:
            return "a table whose row count is not known before the fit"
        return f"{self.n_rows:,} rows ({EXACT_COUNT})"

    def summary(self) -> list[str]:
        """The plan in a few lines: declared, discovered, the share of the budget."""
        declared = _facts_text([(c.name, f) for c in self.columns for f in c.declared])
        lines = [f"DP plan: {self.synthesizer} at epsilon={self.epsilon:g}, delta={self.delta:g} "
                 f"on {self.rows_text}",
                 f"  declared (free): {declared or 'nothing'}"]
        found = []
        for fact, rule in (("categories", "each kept only if it holds"),
                           ("bins", "values found only in ranges holding")):
            cols = [c for c in self.columns if fact in c.discovered]
            if not cols:
                continue
            need = cols[0].rows_needed
            kept = "" if need is None else f" ({rule} about {need:,.0f} rows{self._pct(need)})"
            found.append(f"{fact} of {_names([c.name for c in cols])}{kept}")
        lines.append("  discovered under DP: " + ("; ".join(found) if found else "nothing"))
        if self.discovery_rho > 0:
            upto = "" if self.n_rows else f"up to {SHARE_RANGE[1]:.0%}, at least "
            lines.append(
                f"  discovery takes {upto}{self.share:.0%} of the budget (rho={self.discovery_rho:.3g}; "
                f"epsilon={self.discovery_epsilon:.2g} alone), the row count "
                f"{COUNT_SHARE:.0%}, the model's measurements the rest")
        else:
            lines.append("  discovery takes nothing: every fact it would need is declared")
        if self.if_declared:
            lines.append(f"  {self.if_declared}")
        return lines

    def _pct(self, rows: float) -> str:
        return "" if not self.n_rows else f", {rows / self.n_rows:.0%}"


def plan_dp_fit(model: Any, schema: Schema, *, epsilon: float, delta: float | None = None,
                n_rows: int | None = None) -> DPPlan:
    """The DP plan of fitting ``model`` (a DP synthesizer, not fitted) with ``schema`` at
    (``epsilon``, ``delta``) on ``n_rows`` rows (None: unknown; the discovery share is then
    stated at its largest, the rows needed at their fewest). Reads no data and spends nothing.

    Raises ConfigError for a family without a DP form, or an invalid ε or δ (naming the option).
    """
    request = privacy_request(epsilon, delta, family=model.name, supports_dp=model.supports_dp)
    if not hasattr(model, "_discovery_budget"):
        raise ConfigError(f"synthesizer {model.name!r} has no differentially private form; "
                          "choose a DP synthesizer (mst, aim, privbayes, dpctgan, dptvae, pategan)")
    model._check_params()
    eps, dlt = float(request.epsilon or 0.0), float(request.delta or 0.0)
    bp = model._budget_plan(eps, dlt)
    # without a row count the share is at its cap (the smallest tables): the fewest rows needed
    sizing = float(n_rows) if n_rows else 1.0
    split = model._discovery_budget(schema, sizing, bp, COUNT_SHARE * bp.rho)
    cats, nums = discovery_columns(schema)
    rho_col, delta_col, one = column_budget(len(cats), len(nums), split.rho, split.delta,
                                            split.one_way_rho)
    t_cat = category_threshold(rho_col, delta_col, one) if cats and rho_col > 0 else None
    p_num = range_threshold(rho_col) if nums and rho_col > 0 else None
    sure = {"categories": surely_found(rho_col, delta_col, one, categories=True),
            "bounds": surely_found(rho_col, categories=False)} if rho_col > 0 else {}
    columns = tuple(_surely(_column_plan(c, c.name in cats, t_cat, p_num), sure)
                    for c in schema.columns)
    small = None
    if n_rows and rho_col > 0:
        small = small_table_message(cats, nums, rho_col, delta_col, one, n_rows, EXACT_COUNT)
    warnings = [w for w in (small, epsilon_warning(eps), delta_warning(dlt, n_rows)) if w]
    return DPPlan(model.name, eps, dlt, n_rows, bp.rho, split.rho, columns, tuple(warnings),
                  small, _if_declared(model, schema, bp, sizing, cats, nums, split.rho, p_num,
                                      n_rows), bp.delta_rho)


def check_discoverable(model: Any, schema: Schema, *, epsilon: float, delta: float | None,
                       n_rows: int) -> None:
    """Refuse a DP fit of ``model`` on ``n_rows`` rows (the exact count) when its budget
    cannot surely discover anything about some column whose domain is not declared: even
    the whole table in one category or range would be missed in more than 1 fit of 50
    (:func:`~lookalike.privacy.discovery.surely_found`), so what the fit wrote there would
    often be noise that looks like data (178 rows of scikit-learn's wine at ε = 1 came out
    with colour intensities near -4e14; 20 rows of statsmodels' committee with every staff
    count missing; 120 rows of vega_datasets' barley, whose years 1931-1932 need about 117
    rows, had them written as 1002-1999 in 4 aim fits of 8 and as 0-1 in one). Called before
    anything is reserved or spent; the message, like the plan's, names the exact count and
    stays on the data holder's screen.

    Raises ConfigError naming the columns, the rows needed and the fixes.
    """
    if not getattr(model, "supports_dp", False) or not hasattr(model, "_discovery_budget"):
        return
    plan = plan_dp_fit(model, schema, epsilon=epsilon, delta=delta, n_rows=n_rows)
    hopeless = [c for c in plan.columns if c.rows_sure is not None and c.rows_sure > n_rows]
    if not hopeless:
        return
    needs = []
    for what, test in (("category", lambda c: "categories" in c.discovered),
                       ("range of values", lambda c: "bounds" in c.discovered)):
        cols = [c for c in hopeless if test(c)]
        if cols:
            need, sure = float(cols[0].rows_needed or 0.0), float(cols[0].rows_sure or 0.0)
            needs.append(f"a {what} of {_names([c.name for c in cols])} must hold about "
                         f"{need:,.0f} rows ({need / n_rows:.0%} of the table) to be found in "
                         f"half the fits, {sure:,.0f} ({sure / n_rows:.0%}) in 49 of 50")
    raise ConfigError(
        f"the table has {n_rows:,} rows: too few for epsilon={plan.epsilon:g} "
        f"to discover anything reliably about {len(hopeless)} of its columns: "
        + "; ".join(needs) + ". What a fit wrote there would often be noise. Declare their "
        "categories or bounds in a schema (public facts only; `lookalike inspect DATA -o "
        "schema.json` writes one to edit, then --schema), leave them out (--drop), or raise "
        "epsilon. Nothing was spent.")


def _surely(plan: ColumnPlan, sure: dict[str, float]) -> ColumnPlan:
    """``plan`` with the rows its discovered category or range needs to be found surely."""
    for fact in ("categories", "bounds"):
        if fact in plan.discovered and plan.rows_needed is not None and fact in sure:
            return dataclasses.replace(plan, rows_sure=sure[fact])
    return plan


def _column_plan(col: Column, paid_categories: bool, t_cat: int | None,
                 p_num: float | None) -> ColumnPlan:
    declared = tuple(f for f in ("categories", "bounds") if col.source(f) == "declared")
    kind = col.kind.value
    if not col.kind.modelled:
        note = ("not modelled: fresh keys in its format" if col.kind is Kind.IDENTIFIER
                else "not modelled: free text is left out")
        return ColumnPlan(col.name, kind, (), (), None, note)
    if col.kind is Kind.BOOLEAN:
        return ColumnPlan(col.name, kind, ("values",), (), None, "")
    if col.kind is Kind.CATEGORICAL:
        if not paid_categories:
            return ColumnPlan(col.name, kind, declared, (), None, "")
        return ColumnPlan(col.name, kind, declared, ("categories",), t_cat,
                          "declare categories: all kept, free; its share of discovery goes "
                          "to the other columns")
    codes = "codes: declare it categorical with its categories (free)"
    if "bounds" in declared:
        return ColumnPlan(col.name, kind, declared, ("bins",), p_num, codes)
    return ColumnPlan(col.name, kind, declared, ("bounds", "bins"), p_num,
                      f"declare bounds: the range is known even where too few rows stand out; "
                      f"{codes}")


def _if_declared(model: Any, schema: Schema, bp: Any, sizing: float, cats: list[str],
                 nums: list[str], rho_now: float, p_now: float | None,
                 n_rows: int | None) -> str:
    """What declaring every discovered category would change: the share of the budget
    discovery keeps, and the rows a numeric range then needs (the same functions, on the
    schema with those categories declared)."""
    if not cats:
        return ""
    declared = Schema(tuple(
        c.replace("declared", categories=c.categories or ("?",)) if c.name in cats else c
        for c in schema.columns), schema.n_rows, schema.n_rows_source)
    split = model._discovery_budget(declared, sizing, bp, COUNT_SHARE * bp.rho)
    head = f"declaring the categories of {_names(cats)} would keep every category at no cost"
    before, after = rho_now / bp.rho, split.rho / bp.rho
    if not nums or split.rho <= 0:
        return head + f" and leave discovery's {before:.0%} of the budget to the measurements"
    rho_col, _, _ = column_budget(0, len(nums), split.rho, split.delta, split.one_way_rho)
    p_new = range_threshold(rho_col)
    pct = "" if not n_rows else f" ({p_new / n_rows:.0%})"
    was = "" if p_now is None else f" instead of {p_now:,.0f}"
    share = (f"cut discovery from {before:.0%} to {after:.0%} of the budget"
             if round(after, 2) < round(before, 2)
             else f"leave discovery's {after:.0%} of the budget to the numeric columns")
    return (head + f", {share}, and find numeric values in ranges holding about "
            f"{p_new:,.0f} rows{pct}{was}")


def _facts_text(pairs: list[tuple[str, str]]) -> str:
    by_fact: dict[str, list[str]] = {}
    for name, fact in pairs:
        by_fact.setdefault(fact, []).append(name)
    return "; ".join(f"{fact} of {_names(names)}" for fact, names in by_fact.items())


def _names(cols: list[str], most: int = 6) -> str:
    shown = ", ".join(repr(c) for c in cols[:most])
    return shown + (f" and {len(cols) - most} more" if len(cols) > most else "")

