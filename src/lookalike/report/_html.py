"""Render a report as one self-contained HTML page: jinja2 templates, inline CSS and SVG.

Autoescaping is on for every template, so column names, categories and predicates are shown
as text whatever they contain. The page loads nothing: no scripts, fonts, images or styles
from elsewhere, and a Content-Security-Policy that forbids them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import jinja2

from lookalike import _format
from lookalike._progress import progress
from lookalike.report import _plots, _summary

__all__ = ["render_html", "render_release_html"]

_SOURCE_LABEL = {
    "declared": "declared public",
    "data": "read from the data",
    "default": "default (assumed, not read)",
}
_FACT_ORDER = ("nullable", "categories", "bounds", "format", "unit", "pivot_year")
_SHOWN_CATEGORIES = 8
MAX_COLUMN_PLOTS = 40
"""Column distributions drawn at most: past it, the columns reproduced worst (1-way TVD)."""
N_PAIR_PLOTS = 6
"""Worst pairs of columns drawn as 2-way distributions (all 20 are listed)."""
N_WORST = 20
"""Pairs of columns listed as worst reproduced, by 2-way TVD and by association difference."""


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("lookalike.report", "templates"),
        autoescape=True,
        undefined=jinja2.ChainableUndefined,  # evaluation sections may lack keys
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = _num
    env.filters["pct"] = _pct
    env.filters["count"] = _count
    env.filters["eps"] = _summary.fmt_eps
    env.filters["ci"] = _ci
    env.filters["amount"] = _amount
    env.filters["cell"] = _cell
    env.filters["readable"] = _format.readable
    env.tests["given"] = _given
    return env


_ENV: jinja2.Environment | None = None


def _template(name: str) -> jinja2.Template:
    global _ENV
    if _ENV is None:
        _ENV = _env()
    return _ENV.get_template(name)


def render_release_html(sheet: Mapping[str, Any]) -> str:
    """The HTML page for a release sheet (the dict of :meth:`ReleaseSheet.to_dict`)."""
    synthetic = sheet["synthetic"]
    plots = [
        p
        for i, c in enumerate(synthetic.get("columns") or [])
        if (p := _plots.column_plot(c, i)) is not None
    ]
    domain = sheet["domain"]
    return _template("release.html.j2").render(
        s=sheet,
        g=sheet["guarantee"],
        plots=plots,
        release_columns=_RELEASE_COLUMNS,
        release_params=[
            {k: v for k, v in r.items() if k not in _RELEASE_COLUMNS and k != "rdp"}
            for r in sheet["releases"]
        ],
        domain_rows=[_released_facts(c) for c in domain.get("columns") or []],
        discovery=domain.get("discovery") or {},
        versions=sheet["provenance"]["versions"],
    )


_RELEASE_COLUMNS = ("name", "mechanism", "epsilon", "rho", "delta", "detail")


def _released_facts(col: Mapping) -> dict:
    """One column of the sheet's domain: kind and the facts declared or released under DP."""
    kind_label, kind_css = _source_label(col.get("kind_source"))
    if col.get("kind_source") == "data":  # the model file and the synthetic rows show it too
        kind_label = "inferred from the data's types"
    facts = []
    for f in col.get("facts") or []:
        label, css = _source_label(f.get("source"))
        facts.append({"fact": str(f.get("fact", "")).replace("_", " "),
                      "text": _fact_text(f.get("fact"), f.get("value")), "source": label, "css": css})
    return {"name": col.get("name"), "kind": {"text": col.get("kind"), "source": kind_label,
                                              "css": kind_css}, "facts": facts}


def render_html(report: Mapping[str, Any]) -> str:
    """The HTML page for ``report`` (the dict of :meth:`Report.to_dict`)."""
    evaluation = report["evaluation"]
    fidelity = evaluation.get("fidelity") or {}
    columns = list(fidelity.get("columns") or [])
    drawn = _drawn_columns(columns)
    worst = list(fidelity.get("worst_pairs") or [])
    # drawing takes about half a second a figure (7-10 s for 15 columns): a bar on a terminal
    with progress("report: drawing", len(drawn) + min(len(worst), N_PAIR_PLOTS) + 5) as advance:
        column_plots = []
        for i, c in enumerate(columns):
            if i in drawn:
                if (p := _plots.column_plot(_readable_hist(c), i)) is not None:
                    column_plots.append(p)
                advance()
        not_drawn = [str(c.get("name")) for i, c in enumerate(columns) if i not in drawn]
        associations = fidelity.get("associations")
        heatmaps = _plots.heatmap_plots(associations)
        advance()
        assoc_names = [str(c) for c in (associations or {}).get("columns") or []]
        heat_left_out = [assoc_names[i] for i in _plots.heatmap_order(associations)[1]]
        pair_plots = []
        for i, w in enumerate(worst[:N_PAIR_PLOTS]):
            if (p := _plots.pair_plot(w, i)) is not None:
                pair_plots.append(p)
            advance()
        utility_plot = _plots.utility_plot(evaluation.get("utility"))
        query_plot = _plots.query_error_plot(evaluation.get("queries"))
        advance(2)
        privacy = report["privacy"]
        audit = ((privacy.get("attacks") or {}).get("audit")) or None
        roc_plots = _roc_plots(audit) if audit else []
        dcr_plot = _plots.dcr_plot((audit or {}).get("similarity"))
        advance(2)
    n_plots = (
        len(column_plots) + len(heatmaps) + (utility_plot is not None) + (query_plot is not None)
        + len(roc_plots) + len(pair_plots) + (dcr_plot is not None)
    )
    provenance = report["provenance"]
    schema = provenance.get("schema")
    dp = privacy.get("epsilon") is not None
    context = {
        "r": report,
        "ev": evaluation,
        "meta": evaluation.get("meta") or {},
        "fidelity": fidelity,
        "utility": evaluation.get("utility"),
        "detection": evaluation.get("detection"),
        "queries": evaluation.get("queries"),
        "cards": _summary.cards(report["headline"], privacy),
        "tiles": _summary.tiles(_summary.judgements(report["headline"], privacy), privacy),
        "score_definition": _SCORE_DEFINITION,
        "privacy_statement": _summary.privacy_statement(privacy),
        "no_attacks": _summary.NO_ATTACKS,
        "attacks": _summary.attack_rows(privacy),
        "attack_notes": _attack_notes(privacy),
        "dp": dp,
        "column_plots": column_plots,
        "not_drawn": not_drawn,
        "heatmaps": heatmaps,
        "heat_left_out": heat_left_out,
        "pair_plots": pair_plots,
        "worst_tvd": [_pair_row(w, associations) for w in worst[:N_WORST]],
        "worst_assoc": _worst_associations(associations, N_WORST),
        "dcr_plot": dcr_plot,
        "audit_findings": list(((privacy.get("attacks") or {}).get("verdict") or [])[1:]),
        "provenance_rows": _provenance_rows(report["provenance"], evaluation.get("meta") or {}),
        "utility_plot": utility_plot,
        "query_plot": query_plot,
        "n_plots": n_plots,
        "utility_rows": _utility_rows(evaluation.get("utility")),
        "release_columns": _columns_of(privacy.get("releases") or []),
        "schema_rows": _schema_rows(schema, dp) if schema else [],
        "schema_counts": _source_counts(schema) if schema else {},
        "n_rows_source": _source_label(((schema or {}).get("n_rows") or {}).get("source"))[0],
        "features": _feature_rows(evaluation.get("detection")),
        "audit": audit,
        "roc_plots": roc_plots,
        "attribute_rows": (audit or {}).get("attribute") or [],
        "target_rows": _target_rows(audit),
    }
    return _template("report.html.j2").render(**context)


# ------------------------------------------------------------------------- filters
def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _given(v: Any) -> bool:
    """Neither None nor missing."""
    return v is not None and not isinstance(v, jinja2.Undefined)


def _num(v: Any, digits: int = 3) -> str:
    """Whole numbers as counts, others with ``digits`` decimals (scores on a fixed scale)."""
    if not _finite(v):
        return _format.MISSING
    if isinstance(v, int):
        return _format.count(v)
    return _format.fixed(v, digits)


def _pct(v: Any, digits: int | None = None) -> str:
    return _format.share(v, digits)


def _count(v: Any) -> str:
    return _format.count(v)


def _amount(v: Any) -> str:
    """A count (real, or scaled from the synthetic rows: rounded) or a share below 1."""
    if _finite(v) and abs(v) >= 1:
        return _format.count(v)
    return _format.number(v)


def _ci(v: Any) -> str:
    return _format.interval(v)


def _cell(v: Any) -> str:
    """Any ledger value as short text."""
    if v is None:
        return _format.MISSING
    if isinstance(v, float):
        return _summary.fmt_eps(v) if math.isfinite(v) else _format.MISSING
    if isinstance(v, Mapping):
        return ", ".join(f"{k}={_cell(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(_cell(x) for x in v)
    return str(v)


_SCORE_DEFINITION = (
    "The overall score is 100 × the mean of the parts below that were measured, each on a "
    "0–1 scale where 1 is \"as the real data\": fidelity 1 − mean 2-way TVD; detection "
    "1 − 2 × |AUC − 0.5|; utility the TSTR/TRTR ratio capped at 1; queries 1 − median relative "
    "error. 100 means the synthetic table matched the real one on every measure taken; 0 means "
    "every measure was at its worst (disjoint pairs, a classifier that always separates the "
    "tables, useless models, every query wrong by 100% or more). The parts weigh equally "
    "because no part is known to matter more for a use nobody has named. It says nothing "
    "about privacy: see the privacy risk level."
)


# ------------------------------------------------------------------------- column plots
def _drawn_columns(columns: list[Mapping]) -> set[int]:
    """Indices of the columns whose distributions are drawn: all, or the worst ``MAX_COLUMN_PLOTS``."""
    if len(columns) <= MAX_COLUMN_PLOTS:
        return set(range(len(columns)))

    def badness(c: Mapping) -> float:
        for key in ("marginal_tvd", "tvd", "ks"):
            if _finite(c.get(key)):
                return float(c[key])
        return 0.0

    ranked = sorted(range(len(columns)), key=lambda i: (-badness(columns[i]), i))
    return set(ranked[:MAX_COLUMN_PLOTS])


def _readable_hist(column: Mapping) -> Mapping:
    """``column`` with its histogram labels in the report's number format.

    Numeric bins with edges get ``lo–hi`` labels from :func:`lookalike._format.bin_labels`;
    other labels lose exponent notation (:func:`lookalike._format.readable`).
    """
    hist = column.get("hist")
    if not isinstance(hist, Mapping) or not hist.get("labels"):
        return column
    labels = [str(x) for x in hist["labels"]]
    edges = hist.get("edges")
    points = int(hist.get("points") or 0)
    numeric = column.get("kind") in ("integer", "float")
    if numeric and isinstance(edges, (list, tuple)) and all(_finite(e) for e in edges):
        n_bins = len(edges) - 1
        binned = labels[points : points + n_bins]
        whole = all(re.fullmatch(r"-?[\d,]+", x) for x in binned)  # one bar per whole number
        if n_bins > 0 and not whole and len(binned) == n_bins:
            labels[points : points + n_bins] = _format.bin_labels(edges)
    labels = [_format.readable(x) for x in labels]
    return {**column, "hist": {**hist, "labels": labels}}


# ------------------------------------------------------------------------- worst pairs
def _assoc_lookup(associations: Mapping | None) -> dict[tuple[str, str], tuple[Any, Any, Any]]:
    names = list((associations or {}).get("columns") or [])
    real = (associations or {}).get("real") or []
    synth = (associations or {}).get("synthetic") or []
    diff = (associations or {}).get("difference") or []
    out = {}
    n = len(names)
    if not (len(real) == len(synth) == len(diff) == n):
        return {}
    for i in range(n):
        for j in range(i + 1, n):
            value = (real[i][j], synth[i][j], diff[i][j])
            out[(names[i], names[j])] = out[(names[j], names[i])] = value
    return out


def _pair_row(pair: Mapping, associations: Mapping | None) -> dict:
    a, b = (list(pair.get("columns") or []) + [None, None])[:2]
    real, synth, diff = _assoc_lookup(associations).get((a, b), (None, None, None))
    return {"a": a, "b": b, "tvd": pair.get("tvd"), "real": real, "synthetic": synth, "difference": diff}


def _worst_associations(associations: Mapping | None, n: int) -> list[dict]:
    """The ``n`` pairs whose association differs most between real and synthetic rows."""
    lookup = _assoc_lookup(associations)
    rows = {}
    for (a, b), (real, synth, diff) in lookup.items():
        key = tuple(sorted((a, b)))
        if key not in rows and _finite(diff):
            rows[key] = {"a": a, "b": b, "real": real, "synthetic": synth, "difference": diff}
    return sorted(rows.values(), key=lambda r: (-abs(r["difference"]), r["a"], r["b"]))[:n]


# ------------------------------------------------------------------------- provenance
def _provenance_rows(prov: Mapping, meta: Mapping) -> list[tuple[str, str]]:
    """(label, text) rows of "Evaluation, seeds and versions": unknown facts are left out."""
    rows = []
    counts = [f"{_format.count(meta[k])} {label}" for k, label in
              (("n_real", "real"), ("n_synthetic", "synthetic"), ("n_holdout", "holdout"))
              if _finite(meta.get(k))]
    if counts:
        rows.append(("rows", ", ".join(counts)))
    if meta.get("target"):
        rows.append(("target", str(meta["target"])))
    seeds = prov.get("seeds") or {}
    known = [f"{k} {v}" for k, v in (("fit", seeds.get("fit")), ("evaluation", seeds.get("evaluation")),
                                     ("report", seeds.get("report"))) if v is not None]
    if known:
        rows.append(("seeds", ", ".join(known)))
    stamps = prov.get("timestamps") or {}
    timing = [f"report created {stamps['report_created']}"] if stamps.get("report_created") else []
    for key, label in (("fit_seconds", "fit"), ("evaluation_seconds", "evaluation")):
        if _finite(stamps.get(key)):
            timing.append(f"{label} {_format.fixed(stamps[key], 1)} s")
    if timing:
        rows.append(("timings", "; ".join(timing)))
    versions = prov.get("versions") or {}
    text = " · ".join(f"{k} {v}" for k, v in versions.items() if v)
    evaluated = meta.get("lookalike_version")
    if evaluated and evaluated != versions.get("lookalike"):
        text += f" (evaluated with lookalike {evaluated})"
    if text:
        rows.append(("versions", text))
    return rows


# ------------------------------------------------------------------------- table rows
def _utility_rows(utility: Mapping | None) -> list[dict]:
    if not utility:
        return []
    ratios = utility.get("ratios") or {}
    rows = []
    for m in utility.get("models") or []:
        recall = m.get("per_class_recall")
        rows.append(
            {
                "model": m.get("model"),
                "train_on": m.get("train_on"),
                "roc_auc": m.get("roc_auc"),
                "accuracy": m.get("accuracy"),
                "r2": m.get("r2"),
                "mae": m.get("mae"),
                "recall": ", ".join(f"{k}: {_num(v, 2)}" for k, v in recall.items()) if recall else "",
                "ratio": ratios.get(m.get("model")) if m.get("train_on") == "synthetic" else None,
            }
        )
    return rows


def _columns_of(rows: list[Mapping]) -> list[str]:
    cols: list[str] = []
    for row in rows:
        cols.extend(k for k in row if k not in cols)
    return cols


def _source_label(source: str | None) -> tuple[str, str]:
    """(text, css class) for where a fact came from."""
    if source is None:
        return "source not recorded", "src-none"
    if source in _SOURCE_LABEL:
        return _SOURCE_LABEL[source], f"src-{source}"
    return f"DP estimate: {source}", "src-dp"


def _fact_text(fact: str, value: Any) -> str:
    if fact == "nullable":
        return "may be missing" if value else "never missing"
    if fact == "categories" and isinstance(value, list):
        shown = ", ".join(str(v) for v in value[:_SHOWN_CATEGORIES])
        more = f", … ({len(value)} in all)" if len(value) > _SHOWN_CATEGORIES else ""
        return f"{len(value)}: {shown}{more}"
    if fact == "bounds" and isinstance(value, list) and len(value) == 2:
        lo, hi = (_format.number(v) if _finite(v) else str(v) for v in value)
        return f"{lo} to {hi}"
    return str(value)


def _unpack(entry: Any) -> tuple[Any, str | None]:
    if isinstance(entry, Mapping) and "value" in entry:
        return entry["value"], entry.get("source")
    return entry, "declared"


def _schema_rows(schema: Mapping, dp: bool) -> list[dict]:
    """One row per column: kind, missingness and domain facts, each with its source."""
    rows = []
    for col in schema.get("columns") or []:
        facts = {}
        for fact in ("kind", *_FACT_ORDER):
            if fact not in col:
                continue
            value, source = _unpack(col[fact])
            label, css = _source_label(source)
            facts[fact] = {
                "fact": fact.replace("_", " "),
                "text": _fact_text(fact, value),
                "source": label,
                "css": css,
                # in DP mode a fact read from the private data is outside the guarantee
                "leak": dp and source == "data" and fact != "kind",
            }
        rows.append(
            {
                "name": col.get("name"),
                "kind": facts.get("kind"),
                "nullable": facts.get("nullable"),
                "domain": [facts[f] for f in _FACT_ORDER[1:] if f in facts],
            }
        )
    return rows


def _source_counts(schema: Mapping) -> dict[str, int]:
    counts = {label: 0 for label in _SOURCE_LABEL.values()} | {"DP estimate": 0}
    for col in schema.get("columns") or []:
        for fact in ("kind", *_FACT_ORDER):
            if fact in col:
                label = _source_label(_unpack(col[fact])[1])[0]
                counts["DP estimate" if label.startswith("DP") else label] += 1
    return counts


def _attack_notes(privacy: Mapping) -> list[str]:
    notes = []
    names = " ".join(str(r.get("attack", "")).lower() for r in _summary.attack_rows(privacy))
    if any(k in names for k in ("distance", "dcr", "exact", "similar", "closest")):
        notes.append(
            "Distance-to-closest-record and exact-match rates are similarity measures, not "
            "privacy guarantees: a low rate does not mean a record cannot be inferred."
        )
    return notes


def _roc_plots(audit: Mapping) -> list:
    plots = []
    membership = audit.get("membership") or {}
    curves = []
    for key in ("distance", "density"):
        a = membership.get(key) or {}
        roc = a.get("roc") or {}
        if roc:
            auc = a.get("auc")
            label = f"{key} (AUC {_format.fixed(auc)})" if _finite(auc) else key
            curves.append({"label": label, "fpr": roc.get("fpr"), "tpr": roc.get("tpr")})
    p = _plots.roc_plot(curves, "roc-membership", "Membership inference: training vs holdout rows")
    if p is not None:
        plots.append(p)
    shadow = audit.get("shadow") or {}
    curves = []
    for t in shadow.get("targets") or []:
        roc = t.get("roc") or {}
        fpr, tpr = (roc.get("fpr"), roc.get("tpr")) if isinstance(roc, Mapping) else (roc[0], roc[1]) if len(roc) == 2 else (None, None)
        auc = t.get("auc")
        curves.append({"label": f"row {t.get('row')}" + (f" (AUC {_format.fixed(auc)})" if _finite(auc) else ""), "fpr": fpr, "tpr": tpr})
    p = _plots.roc_plot(curves, "roc-shadow", "Shadow-model attack, per target")
    if p is not None:
        plots.append(p)
    return plots


def _target_rows(audit: Mapping | None) -> list[dict]:
    """Per-target rows for the report: row numbers, reasons (column names) and risks only."""
    rows = []
    for t in (audit or {}).get("targets") or []:
        inferred = t.get("secrets_inferred") or {}
        reference = t.get("secrets_inferred_reference") or {}
        beyond = sorted(k for k, v in inferred.items() if v and not reference.get(k))
        rows.append({**t, "beyond": beyond, "n_secrets": len(inferred)})
    return rows


def _feature_rows(detection: Mapping | None) -> list[dict]:
    """Top features with a bar length in percent of the largest (negative importance: no bar)."""
    feats = [f for f in (detection or {}).get("top_features") or [] if isinstance(f, Mapping)]
    vals = [f.get("importance") for f in feats if _finite(f.get("importance"))]
    top = max(vals) if vals and max(vals) > 0 else 1.0
    return [
        {
            "feature": f.get("feature"),
            "importance": f.get("importance"),
            "bar": max(0.0, 100 * f["importance"] / top) if _finite(f.get("importance")) else 0.0,
        }
        for f in feats
    ]
