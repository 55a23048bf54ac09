"""Calibration of neural samples to measured one-way marginals (post-processing).

A GAN or VAE, above all one trained with DP-SGD, gets the dependence between columns roughly
right long before it gets each column's own distribution right: on Adult at ε = 1 the DP models'
1-way distance was 0.18–0.26, ten times that of the marginal models, which measure the 1-ways
directly. So the neural models measure them too (noisy under DP, charged to the budget, exact
without DP) and, when sampling without conditions, move each column's draws onto them with the
least change to the row order:

* a categorical column: each category's log-probability gets a bias, found by a few
  proportional-fitting steps, so that the argmax over the generator's outputs gives each
  category its measured share (:func:`calibrate_choices`); rows move where the generator was
  least sure;
* a numeric column: a rank-preserving (monotone) map onto the measured bin shares, missing values
  last (:func:`calibrate_values`); a value whose bin is already right stays as the model made it,
  the others are drawn inside their new bin by the codec (its DP in-bin shape). Values that decode
  equal (a column of codes, 0/1 or 1-10, puts each value in a bin of its own) are ordered by the
  generator's own expected value (:meth:`NeuralEncoder.expected_values
  <lookalike.synthesizers.neural._encoding.NeuralEncoder.expected_values>`), so that the rows
  moved to the next code are those the generator put nearest to it, not rows at random: random
  ties would relabel a 0/1 target at random, and with it the rows' relation to the other columns.

Both read only the generator's output and the released counts: no privacy cost. Conditional
sampling is left uncalibrated (its condition changes the marginals on purpose).

>>> import numpy as np
>>> probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.6, 0.4], [0.3, 0.7]])
>>> calibrate_choices(probs, np.array([2.0, 2.0])).tolist()
[0, 0, 1, 1]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lookalike.transform.encoder import ColumnCodec, to_numbers

__all__ = ["calibrate_choices", "calibrate_values", "quotas"]


def quotas(target: np.ndarray, n: int) -> np.ndarray:
    """Integer counts summing to ``n`` in the proportions of ``target`` (clipped at 0; largest remainders)."""
    t = np.clip(np.asarray(target, dtype=float), 0, None)
    if t.sum() <= 0:
        t = np.ones_like(t)
    exact = t / t.sum() * n
    out = np.floor(exact).astype(np.int64)
    short = n - int(out.sum())
    if short > 0:
        out[np.argsort(-(exact - out), kind="stable")[:short]] += 1
    return out


def calibrate_choices(probs: np.ndarray, target: np.ndarray, iters: int = 30) -> np.ndarray:
    """Per row the category maximising ``log p + b`` with biases ``b`` fitted to the shares of ``target``.

    Then exact quotas: rows are moved out of over-full categories, those with the smallest
    loss of log-probability first, into the categories still short of their quota.
    """
    n, k = probs.shape
    want = quotas(target, n)
    logp = np.log(np.clip(np.asarray(probs, dtype=float), 1e-12, None))
    b = np.zeros(k)
    for _ in range(iters):
        pick = (logp + b).argmax(axis=1)
        have = np.bincount(pick, minlength=k)
        if (have == want).all():
            return pick
        b += 0.7 * (np.log(want + 0.5) - np.log(have + 0.5))
    score = logp + b
    pick = score.argmax(axis=1)
    have = np.bincount(pick, minlength=k)
    # exact quotas: release the excess of each over-full category (rows with the least to lose),
    # then fill each short category with the released rows that score highest there
    released = []
    for c in np.flatnonzero(have > want):
        rows = np.flatnonzero(pick == c)
        released.append(rows[np.argsort(score[rows, c], kind="stable")[: have[c] - want[c]]])
    if released:
        pool = np.concatenate(released)
        for c in np.flatnonzero(have < want)[np.argsort(-(want - have)[have < want], kind="stable")]:
            take = pool[np.argsort(-score[pool, c], kind="stable")[: want[c] - have[c]]]
            pick[take] = c
            pool = np.setdiff1d(pool, take, assume_unique=True)
    return pick


def calibrate_values(values: pd.Series, codec: ColumnCodec, target: np.ndarray,
                     rng: np.random.Generator, order: np.ndarray | None = None) -> pd.Series:
    """``values`` moved by a monotone map onto the code shares of ``target`` (codec codes, missing last).

    Rows are ranked by code, then value, then ``order`` (one number a row, e.g. the generator's
    expected value before decoding rounded it), then at random: among equal values the rows
    with the largest ``order`` move up first and those with the smallest move down first.
    """
    n = len(values)
    if n == 0:
        return values
    values = values.reset_index(drop=True)
    codes = codec.encode(values)
    x = np.nan_to_num(to_numbers(values, codec.column), nan=0.0)
    keys = [rng.random(n)]  # the last tie-breaker
    if order is not None:
        order = np.asarray(order, dtype=float)
        if order.shape != (n,):
            raise ValueError(f"order has shape {order.shape}, expected ({n},)")
        keys.append(np.nan_to_num(order, nan=0.0))
    order_rows = np.lexsort((*keys, x, codes))  # by bin (missing last), value, order, at random
    want = quotas(target, n)
    new_codes = np.empty(n, dtype=np.int64)
    new_codes[order_rows] = np.repeat(np.arange(len(want)), want)
    moved = new_codes != codes
    if not moved.any():
        return values
    out = values.copy()
    redrawn = codec.decode(new_codes[moved], rng)
    out = out.astype(object) if out.dtype != redrawn.dtype else out
    out.iloc[np.flatnonzero(moved)] = redrawn.to_numpy()
    return out.astype(values.dtype) if _castable(out, values.dtype) else out


def _castable(out: pd.Series, dtype) -> bool:
    try:
        out.astype(dtype)
    except (TypeError, ValueError):
        return False
    return True
