"""MST's edge scores: the Gini bound behind the relative score, its sensitivity, and its effect."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from lookalike.marginals.engine import marginal_from_codes
from lookalike.synthesizers.mst import RELATIVE_FLOOR, gini, pair_scores, spanning_tree


class _Codes:
    """Exact marginals of integer-coded columns (the engine interface the scores use)."""

    def __init__(self, codes: dict[str, np.ndarray], sizes: dict[str, int]) -> None:
        self.codes, self.sizes = codes, sizes

    def marginal(self, attrs):
        return marginal_from_codes(np.column_stack([self.codes[a] for a in attrs]), [self.sizes[a] for a in attrs])


def _engine(df: pd.DataFrame) -> tuple[_Codes, dict[str, np.ndarray]]:
    codes = {c: df[c].to_numpy(dtype=np.int64) for c in df.columns}
    sizes = {c: int(v.max()) + 1 for c, v in codes.items()}
    engine = _Codes(codes, sizes)
    ones = {c: np.bincount(codes[c], minlength=sizes[c]).astype(float) for c in df.columns}
    return engine, ones


def _table(rng: np.random.Generator, n: int = 4000) -> pd.DataFrame:
    """y (yes/no, 30% yes) determined by x; a and b (8 values each) related (b = a in 55% of rows)."""
    x = rng.integers(0, 10, n)
    a = rng.integers(0, 8, n)
    b = np.where(rng.random(n) < 0.55, a, rng.integers(0, 8, n))
    return pd.DataFrame({"x": x, "y": (x < 3).astype(int), "a": a, "b": b})


def test_l1_error_never_exceeds_the_gini_bound():
    rng = np.random.default_rng(0)
    df = _table(rng)
    df["z"] = rng.integers(0, 3, len(df))
    engine, ones = _engine(df)
    n = float(len(df))
    pairs = list(itertools.combinations(df.columns, 2))
    l1 = pair_scores(engine, pairs, ones, n, "l1")
    for a, b in pairs:
        assert l1[(a, b)] <= 2 * n * min(gini(ones[a]), gini(ones[b])) + 1e-6
    # a column that determines a yes/no column reaches the bound for the yes/no side
    assert l1[("x", "y")] == pytest.approx(2 * n * gini(ones["y"]), rel=1e-9)


def test_relative_score_has_sensitivity_one():
    rng = np.random.default_rng(1)
    df = _table(rng, 2000)
    engine, ones = _engine(df)
    pairs = list(itertools.combinations(df.columns, 2))
    before = pair_scores(engine, pairs, ones, 2000.0, "relative")
    # the neighbour: one more row; the 1-ways and total are released (fixed) inputs to the score
    engine2, _ = _engine(pd.concat([df, df.iloc[[7]]], ignore_index=True))
    after = pair_scores(engine2, pairs, ones, 2000.0, "relative")
    assert max(abs(after[p] - before[p]) for p in pairs) <= 1.0 + 1e-9
    assert min(before.values()) >= 0


def test_relative_score_links_a_determined_yes_no_column():
    # plain L1 prefers the partial a–b dependence (two 8-value columns) over x→y (y fully
    # determined); relative scoring ranks x–y first, as the share of the attainable dependence
    engine, ones = _engine(_table(np.random.default_rng(2)))
    pairs = [("x", "y"), ("a", "b")]
    l1 = pair_scores(engine, pairs, ones, 4000.0, "l1")
    rel = pair_scores(engine, pairs, ones, 4000.0, "relative")
    assert l1[("a", "b")] > l1[("x", "y")]
    assert rel[("x", "y")] > rel[("a", "b")]
    assert rel[("x", "y")] == pytest.approx(2 * 4000 * RELATIVE_FLOOR, rel=1e-9)
    tree = spanning_tree(engine, ["x", "y", "a", "b"], ones, 4000.0, None, None, np.random.default_rng(0))
    assert ("x", "y") in tree


def test_unknown_score_is_refused():
    import lookalike
    from lookalike.errors import ConfigError

    with pytest.raises(ConfigError, match="score must be"):
        lookalike.get_synthesizer("mst", score="mi").fit(lookalike.load_demo().head(200), seed=0)
