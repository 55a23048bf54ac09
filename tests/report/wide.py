"""A wide mixed table for report tests: 200 columns in correlated blocks, seeded.

Columns come in blocks of ten that share a latent factor (so associations form blocks a
clustered heatmap can show): numeric columns (one of them zero-inflated like Adult's
capital-gain), and categorical ones cut from the factor. Used by the fast 200-column report
test and by the acceptance run that screenshots the report.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def wide_table(n_rows: int = 3000, n_cols: int = 200, seed: int = 0) -> pd.DataFrame:
    """``n_cols`` columns (about 60% numeric, 40% categorical), ``n_rows`` rows."""
    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {}
    latent = None
    for j in range(n_cols):
        if j % 10 == 0:
            latent = rng.normal(size=n_rows)
        noise = rng.normal(size=n_rows)
        x = 0.8 * latent + 0.6 * noise
        block = j // 10
        if j % 10 == 9:  # zero-inflated amount: 85% zeros, the rest log-normal in thousands
            amount = np.round(np.exp(8 + x) * 10)
            cols[f"b{block:02d}_amount{j:03d}"] = np.where(rng.random(n_rows) < 0.85, 0, amount).astype(int)
        elif j % 5 in (0, 1, 2):
            cols[f"b{block:02d}_num{j:03d}"] = np.round(50_000 + 15_000 * x, 2)
        else:
            k = 3 + j % 7
            edges = np.quantile(x, np.linspace(0, 1, k + 1)[1:-1])
            codes = np.searchsorted(edges, x)
            cols[f"b{block:02d}_cat{j:03d}"] = np.array([f"level-{c}" for c in range(k)])[codes]
    return pd.DataFrame(cols)
