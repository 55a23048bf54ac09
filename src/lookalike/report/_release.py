"""The release sheet: the shareable description of a differentially private release.

It holds only what the release itself discloses: the guarantee, every release of the fit with
its mechanism and cost, the synthesizer and its settings, the domain facts that were declared
public or released under DP (they are in the model file too), and statistics of the
synthetic rows. Nothing on it is computed from the real rows: no real row count, no real
histogram, no minimum or maximum read from the data, no comparison. Everything that compares
with the real rows belongs to the private report (:func:`lookalike.report.build_report`).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lookalike._json import plain
from lookalike._rng import Seed
from lookalike.errors import ConfigError
from lookalike.report._document import Document
from lookalike.report._privacy import privacy_dict
from lookalike.report._provenance import versions
from lookalike.report._summary import fmt_eps
from lookalike.schema import Column
from lookalike.schema._datetimes import parse_datetime

__all__ = ["SHAREABLE", "ReleaseSheet", "build_release_sheet", "report_paths"]

SHAREABLE = (
    "Release sheet: it describes a differentially private release and holds only what the "
    "release discloses: the guarantee, the releases and their costs, the synthesizer, the "
    "domain declared public or released under DP, and statistics of the synthetic rows. "
    "Nothing on it was computed from the real rows."
)
NUMERIC_BINS = 12
MAX_CATEGORIES = 40
"""Categories listed per column; the rest are summed into one "other (k)" entry."""
_NUMERIC = ("integer", "float")
_CATEGORICAL = ("categorical", "boolean")
_PUBLIC_SOURCES = ("declared", "default")


@dataclass(frozen=True)
class ReleaseSheet(Document):
    """What a DP release discloses, ready to share; build it with :func:`build_release_sheet`.

    ``guarantee``: the (ε, δ) statement and the accounting; ``releases``: every release of
    the fit (name, mechanism, ε, ρ, δ, detail); ``synthesizer``: family and settings;
    ``domain``: per column the facts declared public or released under DP, how each domain
    was discovered, and the names (never the values) of facts read from the data without DP;
    ``synthetic``: row count and per-column summaries of the synthetic rows;
    ``provenance``: versions, the sampling seed, when the sheet was made.
    """

    title: str
    created: str
    shareable: str
    guarantee: Mapping[str, Any]
    releases: tuple[Mapping[str, Any], ...]
    synthesizer: Mapping[str, Any]
    domain: Mapping[str, Any]
    synthetic: Mapping[str, Any]
    provenance: Mapping[str, Any]
    utility: Mapping[str, Any] = field(default_factory=dict)
    """The DP utility check, when one was run: a workload answered on the real rows under DP
    (its own charged releases) beside the synthetic rows' answers (empty otherwise)."""

    def to_dict(self) -> dict:
        """Plain JSON data, ``shareable`` first; the HTML page shows the same facts."""
        return copy.deepcopy(
            {
                "shareable": self.shareable,
                "title": self.title,
                "created": self.created,
                "guarantee": dict(self.guarantee),
                "releases": [dict(r) for r in self.releases],
                "synthesizer": dict(self.synthesizer),
                "domain": dict(self.domain),
                "synthetic": dict(self.synthetic),
                "provenance": dict(self.provenance),
                "utility": dict(self.utility),
            }
        )

    def _render(self) -> str:
        from lookalike.report._html import render_release_html

        return render_release_html(self.to_dict())


def build_release_sheet(
    model: Any,
    synthetic: pd.DataFrame,
    *,
    title: str = "lookalike release sheet",
    seed: Seed = None,
    dp_utility: Any = (),
) -> ReleaseSheet:
    """The shareable sheet of a DP release: ``model`` (fitted with ``epsilon``) and the
    ``synthetic`` rows sampled from it.

    Reads the model's privacy facts, settings and released domain, and summarises the
    synthetic rows; the real rows are never read (post-processing costs no budget). A model
    fitted without DP is refused: it has no guarantee to state, and its report is private.
    ``seed`` is the seed the rows were sampled with, recorded so they can be drawn again
    from the model file; the fit's own seed is never recorded (DP-SGD draws its training
    noise from it). ``dp_utility``: results of :func:`lookalike.query` run with these
    synthetic rows (a DP workload on the real rows, charged to the same dataset): the sheet
    shows the DP answers beside the synthetic ones, and its guarantee adds their cost.

    >>> import lookalike
    >>> real = lookalike.load_demo().head(600)[["age", "sex", "income"]]
    >>> model = lookalike.get_synthesizer("mst").fit(real, epsilon=1.0, seed=0)
    >>> sheet = build_release_sheet(model, model.sample(300, seed=1), seed=1)
    >>> sheet.guarantee["epsilon"], sheet.synthetic["n_rows"]
    (1.0, 300)
    >>> sheet.shareable.startswith("Release sheet")
    True
    >>> build_release_sheet(lookalike.get_synthesizer("cart").fit(real, seed=0), real)
    Traceback (most recent call last):
    ...
    lookalike.errors.ConfigError: synthesizer 'cart' was fitted without differential privacy: ...
    """
    _check_model(model)
    privacy = privacy_dict(model.privacy_)
    if not privacy.get("differentially_private"):
        raise ConfigError(
            f"synthesizer {model.name!r} was fitted without differential privacy: a release "
            "sheet states a DP guarantee and this model has none; fit with epsilon=..., and "
            "keep its report as private as the data"
        )
    if not isinstance(synthetic, pd.DataFrame):
        raise ConfigError(
            f"synthetic must be a pandas DataFrame of rows sampled from the model, got "
            f"{type(synthetic).__name__}"
        )
    if not isinstance(title, str) or not title.strip():
        raise ConfigError(f"release sheet title must be a non-empty string, got {title!r}")
    schema = model.schema_.to_dict()
    kinds = {c["name"]: _value(c.get("kind")) for c in schema["columns"]}
    extra = [str(c) for c in synthetic.columns if c not in kinds]
    if extra:
        raise ConfigError(
            f"synthetic has columns the model does not produce: {extra}; pass the rows "
            "sampled from this model"
        )
    created = datetime.now(UTC)
    domain = _domain(schema, privacy)
    utility: dict[str, Any] = {}
    if dp_utility:
        from lookalike.query.workload import utility_summary

        utility = plain(utility_summary(list(dp_utility)))
    return ReleaseSheet(
        title=title.strip(),
        created=created.isoformat(timespec="seconds"),
        shareable=SHAREABLE,
        guarantee=_guarantee(privacy, domain["withheld"], utility),
        releases=tuple(plain(r) for r in privacy.get("releases") or []),
        synthesizer={"name": model.name, "params": plain(model.get_params())},
        domain=domain,
        synthetic={
            "n_rows": len(synthetic),
            "columns": [_summary(synthetic[c], kinds[c], model.schema_[str(c)])
                        for c in synthetic.columns],
        },
        provenance={
            "versions": versions(),
            "sample_seed": plain(seed) if not isinstance(seed, np.random.Generator) else "Generator",
            "created": created.isoformat(timespec="seconds"),
        },
        utility=utility,
    )


def report_paths(report: str | os.PathLike, dp: bool) -> list[Path]:
    """Every file a report run writes, to check them all before any work.

    The private report ``report`` and its numbers (``.json`` beside it); for a DP model also
    the shareable release sheet ``<stem>.release.html`` and ``<stem>.release.json``.

    >>> [p.name for p in report_paths("out/r.html", dp=True)]
    ['r.html', 'r.json', 'r.release.html', 'r.release.json']
    """
    report = Path(report)
    if report.suffix.lower() == ".json":
        raise ConfigError(
            f"report path {str(report)!r} ends in .json, where its numbers go; name the "
            "HTML report (e.g. report.html)"
        )
    paths = [report, report.with_suffix(".json")]
    if dp:
        paths += [report.with_name(f"{report.stem}.release{ext}") for ext in (".html", ".json")]
    return paths


# ------------------------------------------------------------------------- parts
def _check_model(model: Any) -> None:
    if not hasattr(model, "get_params") or not hasattr(model, "name"):
        raise ConfigError(f"model must be a lookalike synthesizer, got {type(model).__name__}")
    if getattr(model, "schema_", None) is None or not hasattr(model, "privacy_"):
        raise ConfigError(
            f"synthesizer {model.name!r} is not fitted; a release sheet describes a fitted model"
        )


def _guarantee(privacy: Mapping, withheld: list[str],
               utility: Mapping[str, Any] | None = None) -> dict:
    eps, delta = privacy.get("epsilon"), privacy.get("delta") or 0.0
    statement = (
        f"The synthetic data and the model satisfy (ε = {fmt_eps(eps)}, "
        f"δ = {fmt_eps(delta)})-differential privacy; so does this sheet, which holds "
        "nothing else."
    )
    if utility:
        from lookalike.privacy.accountant import epsilon_from_rho

        rho_fit = float(privacy.get("rho_spent") or 0.0)
        delta_fit = float(privacy.get("delta_discovery") or 0.0)
        curves = any(r.get("rdp") for r in privacy.get("releases") or [])  # DP-SGD: RDP
        total = None if curves or not rho_fit else epsilon_from_rho(
            rho_fit + float(utility["rho"]), float(delta) - delta_fit)
        statement = (
            f"The synthetic data and the model satisfy (ε = {fmt_eps(eps)}, δ = {fmt_eps(delta)})"
            f"-differential privacy. The DP utility check on this sheet answered "
            f"{len(utility['queries'])} queries on the real rows under DP as well"
            + (f"; with them the sheet satisfies (ε = {fmt_eps(total)}, δ = {fmt_eps(delta)})-"
               "differential privacy (zCDP composition), and holds nothing else."
               if total is not None else ", charged to the same budget.")
        )
    if withheld:
        statement += (
            f" Except: the model's schema holds {len(withheld)} fact(s) read from the real "
            "rows without DP (named under Domain, values left out here); the guarantee does "
            "not cover them, nor a model file that holds them."
        )
    return {
        "statement": statement,
        "differentially_private": True,
        "epsilon": eps,
        "delta": delta,
        "epsilon_spent": privacy.get("epsilon_spent"),
        "accounting": privacy.get("guarantee"),
    }


def _value(entry: Any) -> Any:
    return entry.get("value") if isinstance(entry, Mapping) else entry


def _source(entry: Any) -> str:
    return str(entry.get("source") or "declared") if isinstance(entry, Mapping) else "declared"


def _released(source: str) -> bool:
    """Declared public, a stated default, or a DP release: fit to share."""
    return source in _PUBLIC_SOURCES or source.startswith("dp")


def _domain(schema: Mapping, privacy: Mapping) -> dict:
    """Per column: kind and the domain facts declared or released under DP; facts read from
    the data without DP are named in ``withheld``, their values left out."""
    columns, withheld = [], []
    for col in schema.get("columns") or []:
        facts = []
        for fact, entry in col.items():
            if fact in ("name", "kind"):
                continue
            source = _source(entry)
            if _released(source):
                facts.append({"fact": fact, "value": _value(entry), "source": source})
            else:
                withheld.append(f"{col['name']}: {fact}")
        kind = col.get("kind")
        columns.append(
            {"name": col["name"], "kind": _value(kind), "kind_source": _source(kind), "facts": facts}
        )
    n_rows = schema.get("n_rows")
    if n_rows is not None and not _released(_source(n_rows)):
        withheld.append("row count")
        n_rows = None
    return plain(
        {
            "columns": columns,
            "n_rows": n_rows,
            "withheld": withheld,
            "discovery": privacy.get("discovery") or {},
            "declared_public": privacy.get("declared_public") or {},
        }
    )


def _summary(values: pd.Series, kind: str, column: Column) -> dict:
    """One synthetic column: missing share and a kind-wise summary with a histogram; dates
    written as text are read in the column's own format (guessed, 01.02.2021 beside
    16.11.2020 read as January 2 or as nothing, by whichever value came first)."""
    out: dict[str, Any] = {
        "name": str(values.name),
        "kind": kind,
        "missing": float(values.isna().mean()) if len(values) else 0.0,
    }
    present = values.dropna()
    if kind in _NUMERIC:
        out.update(_numeric(pd.to_numeric(present, errors="coerce").dropna().to_numpy(float)))
    elif kind == "datetime":
        out.update(_dates(parse_datetime(present, column.format, column.pivot_year).dropna()))
    elif kind in _CATEGORICAL:
        out.update(_categories(present.astype(str)))
    else:  # identifiers and text are fakes: their values say nothing, show only how many
        out["distinct"] = int(present.nunique())
    return plain(out)


def _numeric(x: np.ndarray) -> dict:
    if x.size == 0:
        return {}
    q = np.quantile(x, [0.0, 0.25, 0.5, 0.75, 1.0])
    counts, edges = np.histogram(x, bins=NUMERIC_BINS if q[0] < q[-1] else 1)
    return {
        "min": q[0], "q25": q[1], "median": q[2], "q75": q[3], "max": q[4], "mean": float(x.mean()),
        "hist": {
            "labels": [f"[{lo:.4g}, {hi:.4g})" for lo, hi in zip(edges[:-1], edges[1:], strict=True)],
            "synthetic": counts / counts.sum(),
            "edges": edges,
        },
    }


def _dates(x: pd.Series) -> dict:
    if x.empty:
        return {}
    ns = x.astype("int64").to_numpy()
    counts, edges = np.histogram(ns, bins=NUMERIC_BINS if ns.min() < ns.max() else 1)
    stamps = [pd.Timestamp(int(e)) for e in edges]
    return {
        "min": x.min().isoformat(), "median": x.quantile(0.5).isoformat(), "max": x.max().isoformat(),
        "hist": {
            "labels": [f"{s:%Y-%m-%d}" for s in stamps[:-1]],
            "synthetic": counts / counts.sum(),
            "edges": [s.isoformat() for s in stamps],
        },
    }


def _categories(x: pd.Series) -> dict:
    counts = x.value_counts()
    if counts.empty:
        return {"distinct": 0}
    shares = counts / counts.sum()
    labels, values = [str(k) for k in shares.index[:MAX_CATEGORIES]], list(shares.iloc[:MAX_CATEGORIES])
    rest = len(shares) - MAX_CATEGORIES
    if rest > 0:
        labels.append(f"other ({rest})")
        values.append(float(shares.iloc[MAX_CATEGORIES:].sum()))
    return {"distinct": len(counts), "hist": {"labels": labels, "synthetic": values, "edges": None}}
