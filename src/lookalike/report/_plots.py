"""Inline SVG plots for the report, drawn with matplotlib's SVG backend.

Figures are built with :class:`matplotlib.figure.Figure` directly, never through pyplot, so
the report neither needs nor changes the user's interactive backend. Text stays text
(``svg.fonttype = "none"``): the SVG is small, searchable, and matplotlib escapes it as XML,
so a column named ``<script>`` is drawn, never run. Each SVG gets ids prefixed with its own
plot id (several SVGs share one HTML document), the class ``plot`` and a ``data-plot`` id.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib
import numpy as np
from markupsafe import Markup, escape
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter, PercentFormatter

from lookalike import _format

__all__ = [
    "Plot",
    "column_plot",
    "dcr_plot",
    "heatmap_order",
    "heatmap_plots",
    "pair_plot",
    "query_error_plot",
    "roc_plot",
    "utility_plot",
]

REAL = "#3b6ea8"
SYNTHETIC = "#e08a3c"
MAX_BARS = 20
"""Categorical columns with more categories show the largest MAX_BARS - 1 and one "other"."""
MAX_HEATMAP = 40
"""Columns drawn in an association heatmap at most: the worst reproduced ones."""
SHARES = PercentFormatter(1.0)
"""Axis ticks of shares of rows, as percentages."""

_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "lookalike",
    "svg.image_inline": True,
    "text.parse_math": False,  # a "$" in a column name is text, not TeX
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial"],
    "font.size": 8,
    "axes.titlesize": 9.5,
    "axes.titlelocation": "left",
    "axes.labelsize": 8,
    "axes.edgecolor": "#9aa3ad",
    "axes.labelcolor": "#2b3440",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": "#4a5563",
    "ytick.color": "#4a5563",
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "text.color": "#1f2933",
    "path.simplify": True,
}


@dataclass(frozen=True)
class Plot:
    """One inline SVG figure: ``svg`` is markup ready to embed, ``title`` plain text."""

    id: str
    title: str
    svg: Markup
    caption: str = ""


# ------------------------------------------------------------------------- SVG plumbing
_HEAD = re.compile(r"^.*?(?=<svg\b)", re.S)
_DROP = re.compile(r"<metadata>.*?</metadata>\s*|<style[^>]*>.*?</style>\s*", re.S)
_SVG_TAG = re.compile(r"<svg\b[^>]*>")
_VIEWBOX = re.compile(r'viewBox="([^"]+)"')
_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(#|href="#)([^")]+)')
_NUM = re.compile(r"(\d+\.\d\d)\d+")
_GEOMETRY = re.compile(r'\b(d|transform|x|y|x1|x2|y1|y2|width|height|points|style)="([^"]*)"')


def to_svg(fig: Figure, plot_id: str, title: str) -> Markup:
    """Render ``fig`` as an inline ``<svg class="plot" data-plot=...>`` element."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = _DROP.sub("", _HEAD.sub("", buf.getvalue(), count=1))
    # ids must be unique across the whole HTML document
    text = _ID.sub(lambda m: f'id="{plot_id}-{m.group(1)}"', text)
    text = _REF.sub(lambda m: f"{m.group(1)}{plot_id}-{m.group(2)}", text)
    # two decimals of a point are ample on screen and shrink the paths by a third
    text = _GEOMETRY.sub(_round_geometry, text)
    box = _VIEWBOX.search(text)
    viewbox = box.group(1) if box else "0 0 400 300"
    width = float(viewbox.split()[2])
    opening = (
        f'<svg class="plot" data-plot="{escape(plot_id)}" viewBox="{viewbox}" '
        f'role="img" aria-label="{escape(title)}" style="max-width:{width * 4 / 3:.0f}px">'
    )
    text = _SVG_TAG.sub(lambda _: opening, text, count=1)
    return Markup(text.strip())


def _round_geometry(match: re.Match) -> str:
    rounded = _NUM.sub(r"\1", match.group(2))
    return f'{match.group(1)}="{rounded}"'


def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def _short(label: Any, limit: int = 22) -> str:
    text = "missing" if label is None else str(label)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _floats(values: Sequence | None) -> np.ndarray:
    if values is None:
        return np.zeros(0)
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def _shares(values: Sequence | None) -> np.ndarray:
    """Counts or shares as shares: missing entries count as zero."""
    arr = np.nan_to_num(_floats(values), nan=0.0)
    total = arr.sum()
    return arr / total if total > 1.0 + 1e-6 else arr


# ------------------------------------------------------------------------- the plots
def column_plot(column: Mapping[str, Any], index: int) -> Plot | None:
    """Real vs synthetic bars for one column's histogram; None when it has none.

    Categorical columns get horizontal bars in their given order (the largest
    ``MAX_BARS - 1`` categories and "other" when there are more); ordered kinds get
    vertical bars per bin, in bin order. A histogram without ``real`` shares (the release
    sheet's) draws the synthetic bars alone.
    """
    hist = column.get("hist") or {}
    labels = [_short(x) for x in hist.get("labels") or []]
    synthetic = _shares(hist.get("synthetic"))
    alone = hist.get("real") is None
    real = np.zeros(len(synthetic)) if alone else _shares(hist.get("real"))
    if not labels or len(real) != len(labels) or len(synthetic) != len(labels):
        return None
    if alone:
        return _synthetic_plot(column, index, labels, synthetic)
    name = str(column.get("name", f"column {index + 1}"))
    kind = str(column.get("kind") or "")
    plot_id = f"col-{index + 1}"
    tvd, ks = column.get("tvd"), column.get("ks")
    title = _short(name, 40)
    subtitle = kind + (
        f" · TVD {_format.fixed(tvd)}" if _finite(tvd) else f" · KS {_format.fixed(ks)}" if _finite(ks) else ""
    )
    ordered = kind in ("integer", "float", "datetime")
    points = int(hist.get("points") or 0) if ordered else 0
    with matplotlib.rc_context(_RC):
        if ordered and 0 < points < len(labels):
            fig = _figure(4.0, 2.5)
            spike, ax = fig.subplots(
                1, 2, gridspec_kw={"width_ratios": [0.8 + 0.55 * points, 4]}
            )
            xs = np.arange(points)
            spike.bar(xs - 0.2, real[:points], 0.4, color=REAL, label="real")
            spike.bar(xs + 0.2, synthetic[:points], 0.4, color=SYNTHETIC, label="synthetic")
            spike.set_xticks(xs, [f"= {x}" for x in labels[:points]], rotation=30, ha="right")
            spike.set_xlim(-0.6, points - 0.4)
            spike.set_ylabel("share of rows")
            spike.yaxis.set_major_formatter(SHARES)
            spike.grid(axis="y", color="#e3e7eb", linewidth=0.6)
            spike.set_axisbelow(True)
            spike.set_title("single values", fontsize=7.5, loc="center")
            rest_labels = labels[points:]
            x = np.arange(len(rest_labels))
            ax.bar(x - 0.2, real[points:], 0.4, color=REAL, label="real")
            ax.bar(x + 0.2, synthetic[points:], 0.4, color=SYNTHETIC, label="synthetic")
            step = max(1, math.ceil(len(rest_labels) / 6))
            ax.set_xticks(x[::step], rest_labels[::step], rotation=30, ha="right")
            ax.yaxis.set_major_formatter(SHARES)
            ax.grid(axis="y", color="#e3e7eb", linewidth=0.6)
            ax.set_axisbelow(True)
            fig.suptitle(f"{title}  ({subtitle})" if subtitle else title, x=0.02, ha="left",
                         fontsize=9.5)
            ax.set_title("other values", fontsize=7.5, loc="center")
            svg = to_svg(fig, plot_id, f"{name}: real vs synthetic distribution, "
                                       "single values drawn apart")
            return Plot(plot_id, name, svg)
        if ordered:
            fig = _figure(4.0, 2.5)
            ax = fig.add_subplot()
            x = np.arange(len(labels))
            ax.bar(x - 0.2, real, 0.4, color=REAL, label="real")
            ax.bar(x + 0.2, synthetic, 0.4, color=SYNTHETIC, label="synthetic")
            step = max(1, math.ceil(len(labels) / 8))
            ax.set_xticks(x[::step], labels[::step], rotation=30, ha="right")
            ax.set_ylabel("share of rows")
            ax.yaxis.set_major_formatter(SHARES)
            ax.grid(axis="y", color="#e3e7eb", linewidth=0.6)
        else:
            if len(labels) > MAX_BARS:
                keep = np.sort(np.argsort(-(real + synthetic), kind="stable")[: MAX_BARS - 1])
                rest = np.setdiff1d(np.arange(len(labels)), keep)
                labels = [labels[i] for i in keep] + [f"other ({len(rest)})"]
                real = np.append(real[keep], real[rest].sum())
                synthetic = np.append(synthetic[keep], synthetic[rest].sum())
            fig = _figure(4.0, 0.9 + 0.2 * len(labels))
            ax = fig.add_subplot()
            y = np.arange(len(labels))
            ax.barh(y - 0.2, real, 0.4, color=REAL, label="real")
            ax.barh(y + 0.2, synthetic, 0.4, color=SYNTHETIC, label="synthetic")
            ax.set_yticks(y, labels)
            ax.invert_yaxis()
            ax.set_xlabel("share of rows")
            ax.xaxis.set_major_formatter(SHARES)
            ax.grid(axis="x", color="#e3e7eb", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_title(f"{title}  ({subtitle})" if subtitle else title)
        svg = to_svg(fig, plot_id, f"{name}: real vs synthetic distribution")
    return Plot(plot_id, name, svg)


def _synthetic_plot(column: Mapping[str, Any], index: int, labels: list[str],
                    synthetic: np.ndarray) -> Plot:
    """Synthetic bars alone: nothing of the real rows is drawn."""
    name = str(column.get("name", f"column {index + 1}"))
    kind = str(column.get("kind") or "")
    plot_id = f"syn-{index + 1}"
    with matplotlib.rc_context(_RC):
        if kind in ("integer", "float", "datetime"):
            fig = _figure(4.0, 2.5)
            ax = fig.add_subplot()
            x = np.arange(len(labels))
            ax.bar(x, synthetic, 0.8, color=SYNTHETIC, label="synthetic")
            step = max(1, math.ceil(len(labels) / 8))
            ax.set_xticks(x[::step], labels[::step], rotation=30, ha="right")
            ax.set_ylabel("share of synthetic rows")
            ax.yaxis.set_major_formatter(SHARES)
            ax.grid(axis="y", color="#e3e7eb", linewidth=0.6)
        else:
            if len(labels) > MAX_BARS:
                rest = len(labels) - (MAX_BARS - 1)
                synthetic = np.append(synthetic[: MAX_BARS - 1], synthetic[MAX_BARS - 1:].sum())
                labels = labels[: MAX_BARS - 1] + [f"other ({rest})"]
            fig = _figure(4.0, 0.9 + 0.2 * len(labels))
            ax = fig.add_subplot()
            y = np.arange(len(labels))
            ax.barh(y, synthetic, 0.8, color=SYNTHETIC, label="synthetic")
            ax.set_yticks(y, labels)
            ax.invert_yaxis()
            ax.set_xlabel("share of synthetic rows")
            ax.xaxis.set_major_formatter(SHARES)
            ax.grid(axis="x", color="#e3e7eb", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_title(f"{_short(name, 40)}  ({kind})" if kind else _short(name, 40))
        svg = to_svg(fig, plot_id, f"{name}: synthetic distribution")
    return Plot(plot_id, name, svg)


def heatmap_order(associations: Mapping[str, Any] | None, limit: int = MAX_HEATMAP) -> tuple[list[int], list[int]]:
    """(columns drawn, in clustered order; columns left out), as indices of the matrices.

    With more than ``limit`` columns, the ``limit`` whose associations are reproduced worst
    (largest |difference| with any other column) are drawn. The drawn ones are ordered by
    average-linkage clustering on 1 − |real association| (with the optimal leaf order), so
    that columns associated with each other sit together and blocks show.
    """
    names = list((associations or {}).get("columns") or [])
    n = len(names)
    if n < 2:
        return list(range(n)), []
    diff = associations.get("difference") if associations else None
    keep = list(range(n))
    if n > limit:
        arr = np.array([_floats(row) for row in diff], dtype=float) if diff is not None else None
        if arr is not None and arr.shape == (n, n):
            worst = np.nan_to_num(np.abs(arr), nan=0.0)
            np.fill_diagonal(worst, 0.0)
            score = worst.max(axis=1)
        else:
            score = np.zeros(n)
        keep = sorted(np.argsort(-score, kind="stable")[:limit].tolist())
    left_out = [i for i in range(n) if i not in set(keep)]
    real = associations.get("real") if associations else None
    try:
        arr = np.array([_floats(row) for row in real], dtype=float)[np.ix_(keep, keep)]
    except (TypeError, ValueError, IndexError):
        return keep, left_out
    if len(keep) < 3 or arr.shape != (len(keep), len(keep)):
        return keep, left_out
    from scipy.cluster.hierarchy import leaves_list, linkage, optimal_leaf_ordering
    from scipy.spatial.distance import squareform

    dist = 1.0 - np.clip(np.abs(np.nan_to_num(arr, nan=0.0)), 0.0, 1.0)
    dist = (dist + dist.T) / 2
    np.fill_diagonal(dist, 0.0)
    condensed = squareform(dist, checks=False)
    tree = optimal_leaf_ordering(linkage(condensed, "average"), condensed)
    return [keep[i] for i in leaves_list(tree)], left_out


def heatmap_plots(associations: Mapping[str, Any] | None) -> list[Plot]:
    """Three heatmaps of pairwise association: real, synthetic and their difference.

    Columns in the order of :func:`heatmap_order` (clustered, at most ``MAX_HEATMAP``).
    """
    if not associations:
        return []
    all_names = list(associations.get("columns") or [])
    n_all = len(all_names)
    if n_all < 2:
        return []
    order, _ = heatmap_order(associations)
    names = [_short(all_names[i], 18) for i in order]
    n = len(names)
    panels = []
    for key in ("real", "synthetic", "difference"):
        matrix = associations.get(key)
        if matrix is None:
            continue
        arr = np.array([_floats(row) for row in matrix], dtype=float)
        if arr.shape != (n_all, n_all):
            continue
        panels.append((key, arr[np.ix_(order, order)]))
    if not panels:
        return []
    values = np.concatenate([a.ravel() for k, a in panels if k != "difference"] or [np.zeros(1)])
    signed = bool(np.nanmin(values) < 0) if np.isfinite(values).any() else False
    plots = []
    width = 4.4 + 0.04 * max(0, n - 15)
    with matplotlib.rc_context(_RC):
        for key, arr in panels:
            if key == "difference":
                limit = max(0.05, float(np.nanmax(np.abs(arr))) if np.isfinite(arr).any() else 0.05)
                cmap, norm = _cmap("RdBu_r", 10), Normalize(-limit, limit)
                label = "synthetic − real"
            elif signed:
                cmap, norm, label = _cmap("RdBu_r", 10), Normalize(-1, 1), "association"
            else:
                cmap, norm, label = _cmap("Blues", 10), Normalize(0, 1), "association"
            fig = _figure(width, width * 0.9)
            ax = fig.add_subplot()
            mesh = ax.pcolormesh(
                np.ma.masked_invalid(arr), cmap=cmap, norm=norm,
                edgecolors="white" if n <= 25 else "none", linewidth=0.3 if n <= 25 else 0,
            )
            ax.set_xticks(np.arange(n) + 0.5, names, rotation=90)
            ax.set_yticks(np.arange(n) + 0.5, names)
            ax.invert_yaxis()
            ax.set_aspect("equal")
            ax.tick_params(length=0, labelsize=7.5 if n <= 25 else 6)
            for spine in ax.spines.values():
                spine.set_visible(False)
            ax.set_title({"real": "Real", "synthetic": "Synthetic", "difference": "Difference"}[key])
            fig.colorbar(mesh, ax=ax, shrink=0.7, label=label)
            plot_id = f"assoc-{key}"
            plots.append(Plot(plot_id, f"associations: {key}", to_svg(fig, plot_id, f"{key} associations")))
    return plots


def pair_plot(pair: Mapping[str, Any], index: int) -> Plot | None:
    """One pair of columns: its real and synthetic 2-way marginals side by side, same colours.

    ``pair`` is an entry of ``fidelity.worst_pairs`` (shares of all rows per cell).
    """
    columns = pair.get("columns") or []
    labels = pair.get("labels") or []
    if len(columns) != 2 or len(labels) != 2:
        return None
    real = np.array([_floats(r) for r in pair.get("real") or []], dtype=float)
    synth = np.array([_floats(r) for r in pair.get("synthetic") or []], dtype=float)
    shape = (len(labels[0]), len(labels[1]))
    if real.shape != shape or synth.shape != shape or 0 in shape:
        return None
    a, b = (str(c) for c in columns)
    rows = [_short(x, 16) for x in labels[0]]
    cols = [_short(x, 16) for x in labels[1]]
    top = float(np.nanmax(np.r_[real.ravel(), synth.ravel()])) or 1.0
    plot_id = f"pair-{index + 1}"
    height = 1.3 + 0.16 * len(rows)
    with matplotlib.rc_context(_RC):
        fig = _figure(6.8, max(2.2, height))
        axes = fig.subplots(1, 2, sharey=True)
        cmap = _cmap("Blues", 10)
        mesh = None
        for ax, arr, title in ((axes[0], real, "real"), (axes[1], synth, "synthetic")):
            mesh = ax.pcolormesh(np.ma.masked_invalid(arr), cmap=cmap, norm=Normalize(0, top),
                                 edgecolors="none")
            ax.set_xticks(np.arange(len(cols)) + 0.5, cols, rotation=60, ha="right", fontsize=6.5)
            ax.set_yticks(np.arange(len(rows)) + 0.5, rows, fontsize=6.5)
            ax.tick_params(length=0)
            ax.set_xlabel(_short(b, 30))
            ax.set_title(title, loc="center", fontsize=8)
            for spine in ax.spines.values():
                spine.set_visible(False)
        axes[0].invert_yaxis()
        axes[0].set_ylabel(_short(a, 30))
        tvd = pair.get("tvd")
        fig.suptitle(f"{_short(a, 28)} × {_short(b, 28)}"
                     + (f"  (2-way TVD {_format.fixed(tvd)})" if _finite(tvd) else ""),
                     fontsize=9.5, x=0.02, ha="left")
        if mesh is not None:
            bar = fig.colorbar(mesh, ax=axes, shrink=0.8, label="share of rows")
            bar.ax.yaxis.set_major_formatter(SHARES)
        svg = to_svg(fig, plot_id, f"{a} by {b}: real and synthetic 2-way distribution")
    return Plot(plot_id, f"{a} × {b}", svg)


def dcr_plot(similarity: Mapping[str, Any] | None) -> Plot | None:
    """Distances to the closest record: synthetic→training beside synthetic→holdout."""
    hist = (similarity or {}).get("dcr_hist") or {}
    edges = _floats(hist.get("edges"))
    train = _floats(hist.get("train"))
    if edges.size < 2 or train.size != edges.size - 1:
        return None
    holdout = hist.get("holdout")
    hold = _floats(holdout) if holdout is not None else None
    with matplotlib.rc_context(_RC):
        fig = _figure(6.4, 2.6)
        ax = fig.add_subplot()
        ax.stairs(train, edges, color=REAL, linewidth=1.4, label="synthetic row → closest training row")
        if hold is not None and hold.size == train.size:
            ax.stairs(hold, edges, color=SYNTHETIC, linewidth=1.4,
                      label="synthetic row → closest holdout row")
        ax.set_xlabel("distance to the closest record (1 = one category changed or one value "
                      "moved by a robust spread)")
        ax.set_ylabel("share of synthetic rows")
        ax.yaxis.set_major_formatter(SHARES)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _format.number(v)))
        ax.set_xlim(edges[0], edges[-1])
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", color="#e3e7eb", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_title("Distance to closest record (the last bin holds the farthest 1%)")
        ax.legend(frameon=False, loc="upper right", fontsize=7)
        svg = to_svg(fig, "dcr", "histograms of distances to the closest record")
    return Plot("dcr", "distance to closest record", svg)


def query_error_plot(queries: Mapping[str, Any] | None) -> Plot | None:
    """Histogram of the relative errors of random counting queries (log x when they span decades)."""
    if not queries:
        return None
    errors = _floats(queries.get("errors"))
    errors = errors[np.isfinite(errors) & (errors >= 0)]
    if errors.size == 0:
        return None
    positive = errors[errors > 0]
    zeros = int(errors.size - positive.size)
    log = positive.size > 1 and positive.max() / positive.min() > 100
    with matplotlib.rc_context(_RC):
        fig = _figure(6.4, 2.6)
        ax = fig.add_subplot()
        if log:
            bins = np.geomspace(positive.min(), positive.max(), 31)
            ax.hist(positive, bins=bins, color=SYNTHETIC, edgecolor="white", linewidth=0.4)
            ax.set_xscale("log")
            # plain numbers: the default log labels are TeX, and text here is never TeX
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _format.share(v)))
            ax.xaxis.set_minor_formatter(NullFormatter())
        else:
            ax.hist(errors, bins=30, color=SYNTHETIC, edgecolor="white", linewidth=0.4)
            ax.xaxis.set_major_formatter(SHARES)
        for key, style, label in (
            ("median_relative_error", "-", "median"),
            ("p90_relative_error", "--", "90th percentile"),
        ):
            value = queries.get(key)
            if _finite(value) and (value > 0 or not log):
                ax.axvline(value, color="#1f2933", linestyle=style, linewidth=1,
                           label=f"{label} {_format.share(value)}")
        ax.set_xlabel("relative error |synthetic − real| / real" + (" (log scale)" if log else ""))
        ax.set_ylabel("queries")
        ax.grid(axis="y", color="#e3e7eb", linewidth=0.6)
        ax.set_axisbelow(True)
        title = f"{_format.count(errors.size)} counting queries"
        if log and zeros:
            title += f" ({_format.count(zeros)} with zero error not shown)"
        ax.set_title(title)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(frameon=False, loc="upper right")
        svg = to_svg(fig, "query-errors", "distribution of query relative errors")
    return Plot("query-errors", "query errors", svg)


def utility_plot(utility: Mapping[str, Any] | None) -> Plot | None:
    """Grouped bars: each model's score trained on real vs on synthetic rows."""
    if not utility:
        return None
    metric = "roc_auc" if utility.get("task") == "classification" else "r2"
    models = utility.get("models") or []
    names: list[str] = []
    scores: dict[str, dict[str, float]] = {}
    for m in models:
        value = m.get(metric)
        if metric == "roc_auc" and not _finite(value):
            value = m.get("accuracy")
        if not _finite(value):
            continue
        name = str(m.get("model"))
        if name not in scores:
            names.append(name)
            scores[name] = {}
        scores[name][str(m.get("train_on"))] = float(value)
    if not names:
        return None
    with matplotlib.rc_context(_RC):
        fig = _figure(6.4, 0.9 + 0.42 * len(names))
        ax = fig.add_subplot()
        y = np.arange(len(names))
        for offset, source, colour in ((-0.2, "real", REAL), (0.2, "synthetic", SYNTHETIC)):
            vals = [scores[n].get(source, np.nan) for n in names]
            ax.barh(y + offset, vals, 0.4, color=colour, label=f"trained on {source}")
        ax.set_yticks(y, [_short(n, 28) for n in names])
        ax.invert_yaxis()
        ax.set_xlabel(
            f"{'ROC AUC' if metric == 'roc_auc' else 'R²'} on real holdout rows"
        )
        ax.grid(axis="x", color="#e3e7eb", linewidth=0.6)
        ax.set_axisbelow(True)
        if metric == "roc_auc":
            ax.set_xlim(0, 1)
        fig.legend(frameon=False, loc="outside upper center", ncols=2)
        svg = to_svg(fig, "utility", "model scores trained on real vs synthetic data")
    return Plot("utility", "utility", svg)


_ROC_COLOURS = ("#3b6ea8", "#e08a3c", "#5a9e6f", "#b5485d", "#7b61a8", "#8c7a4b", "#4a9bb0", "#c76fa8")


def roc_plot(curves: Sequence[Mapping[str, Any]], plot_id: str, title: str) -> Plot | None:
    """ROC curves of attacks, linear axes and a log-FPR panel for the low-FPR end.

    Each curve is ``{"label", "fpr", "tpr"}``; the diagonal is the coin-flip attacker. None
    when no curve has points.
    """
    drawn = []
    for c in curves:
        fpr, tpr = _floats(c.get("fpr")), _floats(c.get("tpr"))
        if fpr.size >= 2 and fpr.size == tpr.size and np.isfinite(fpr).all() and np.isfinite(tpr).all():
            drawn.append((str(c.get("label", "")), fpr, tpr))
    if not drawn:
        return None
    with matplotlib.rc_context(_RC):
        fig = _figure(6.4, 2.9)
        lin, log = fig.subplots(1, 2)
        for i, (label, fpr, tpr) in enumerate(drawn):
            colour = _ROC_COLOURS[i % len(_ROC_COLOURS)]
            lin.plot(fpr, tpr, color=colour, linewidth=1.3, label=_short(label, 40), drawstyle="default")
            keep = fpr > 0
            if keep.any():
                log.plot(fpr[keep], tpr[keep], color=colour, linewidth=1.3)
        grid = np.geomspace(1e-4, 1, 50)
        lin.plot([0, 1], [0, 1], color="#9aa3ad", linestyle="--", linewidth=0.8, label="chance")
        log.plot(grid, grid, color="#9aa3ad", linestyle="--", linewidth=0.8)
        log.set_xscale("log")
        log.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _format.number(v)))
        log.xaxis.set_minor_formatter(NullFormatter())
        for ax, xlabel in ((lin, "false positive rate"), (log, "false positive rate (log scale)")):
            ax.set_xlabel(xlabel)
            ax.set_ylabel("true positive rate")
            ax.set_ylim(0, 1.01)
            ax.grid(color="#e3e7eb", linewidth=0.6)
            ax.set_axisbelow(True)
        lin.set_xlim(0, 1)
        log.set_xlim(1e-4, 1)
        lin.set_title(_short(title, 60))
        lin.legend(frameon=False, loc="lower right", fontsize=7)
        svg = to_svg(fig, plot_id, title)
    return Plot(plot_id, title, svg)


def _cmap(name: str, levels: int) -> ListedColormap:
    cmap = matplotlib.colormaps[name].resampled(levels)
    # few levels: the colour bar stays vector (matplotlib rasterises one with 50 or more)
    return ListedColormap(cmap(np.arange(levels))).with_extremes(bad="#eef0f2")


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and math.isfinite(value)
