"""Vulnerable-record selection: rank real records by how exposed they are, and pick targets.

Averages hide risk: an untargeted attack over all records scores near chance while a few
records with rare attributes, or values that stretch a numeric range, stay exposed (Stadler,
Oprisanu and Troncoso, "Synthetic Data – Anonymisation Groundhog Day", USENIX Security 2022).
Those are the records a shadow-model attack should target.

**Exposure score.** Three components, each computed for every record:

1. *value rarity*: the record's surprisal under independent columns, the sum over columns of
   ``−log`` of the share of records that have its value (categorical, boolean, missing) or lie
   at least as far out in the same tail (numeric: ``−log min(1, 2·min(#≤x, #≥x)/n)``, a
   two-sided rank extremity), so a record extreme in several columns scores more than one
   extreme in one;
2. *combination rarity*: the largest, over pairs of columns, of how much rarer the record's
   pair of values is than its two values suggest, ``log(p(a)·p(b)/p(a, b))`` (numeric columns
   in 10 quantile bins): a rare combination of common values;
3. *isolation*: the log of the mean distance to the record's 5 nearest other records, in the
   distance every attack measures (:mod:`lookalike.audit._encoding`: one category changed, or
   one numeric value moved by a robust spread, is 1), against a seeded sample of 10,000
   records when the table is larger. The log makes it a surprisal like the other two (a
   k-nearest-neighbour density is proportional to ``r^−d``) and keeps a far numeric outlier
   from outweighing them.

Each component is turned into a robust z-score over the records, ``(x − median)/(1.4826·MAD)``,
and the exposure score is their mean: higher is more exposed. The score reads the private
table without DP (audits are not releases).

>>> import pandas as pd
>>> df = pd.DataFrame({"a": ["x", "y"] * 20 + ["z"], "b": list(range(40)) + [1000]})
>>> t = select_targets(df, n=1)
>>> t.rows, t.reasons
((40,), ('far from its 5 nearest records; rare value of a; extreme value of b',))
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lookalike._rng import Seed, as_rng
from lookalike.audit._encoding import RecordEncoding, nearest
from lookalike.errors import ConfigError, DataError, TargetError

__all__ = ["Targets", "exposure_scores", "select_targets"]

K_NEIGHBOURS = 5
MAX_NEIGHBOUR_POOL = 10_000
FLOOR = 1e-3
"""Smallest isolation taken (its log is the score): records with 5 exact copies are not exposed."""
COMPONENTS = ("rarest value", "value rarity", "combination rarity", "isolation")


@dataclass(frozen=True)
class Targets:
    """Records chosen for a targeted attack: positional rows, exposure scores and why.

    ``reasons`` name columns, never values, so they are safe to print in a report.

    >>> Targets((3,), (2.5,), ("rare value of a",)).to_dict()["rows"]
    [3]
    """

    rows: tuple[int, ...]
    scores: tuple[float, ...]
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"rows": list(self.rows), "scores": list(self.scores), "reasons": list(self.reasons)}


@dataclass(frozen=True, eq=False)
class _Exposure:
    score: np.ndarray
    z: np.ndarray  # (rows, 4) robust z of each component
    rarity: np.ndarray  # (rows, columns) −log share of each value
    pair: np.ndarray  # (rows, 2) column indices of the most surprising pair
    columns: tuple[str, ...]
    numeric: frozenset[str]


def _robust_z(x: np.ndarray) -> np.ndarray:
    med = np.median(x)
    scale = 1.4826 * np.median(np.abs(x - med))
    if not scale > 0:
        scale = float(np.std(x))
    return (x - med) / scale if scale > 0 else np.zeros_like(x)


def _value_rarity(enc: RecordEncoding, arrays: list[np.ndarray], codes: np.ndarray) -> np.ndarray:
    """``−log`` share of each record's value (or tail), shape (rows, columns)."""
    n = len(codes)
    out = []
    for j, v in enumerate(arrays):
        if enc.kinds[j].numeric:
            ok = np.isfinite(v)
            sv = np.sort(v[ok])
            share = np.full(n, np.nan)
            le = np.searchsorted(sv, v[ok], side="right")
            ge = len(sv) - np.searchsorted(sv, v[ok], side="left")
            share[ok] = np.minimum(1.0, 2.0 * np.minimum(le, ge) / n)
            share[~ok] = (~ok).sum() / n
        else:
            share = np.bincount(codes[:, j])[codes[:, j]] / n
        out.append(-np.log(share))
    return np.column_stack(out)


def _pair_rarity(codes: np.ndarray, sizes: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Largest ``log(p(a)p(b)/p(a,b))`` over column pairs (0 at least), and which pair."""
    n, d = codes.shape
    best = np.zeros(n)
    which = np.zeros((n, 2), dtype=np.int64)
    single = [np.log(np.bincount(codes[:, j], minlength=sizes[j])[codes[:, j]] / n) for j in range(d)]
    for a, b in itertools.combinations(range(d), 2):
        cell = codes[:, a] * sizes[b] + codes[:, b]
        counts = np.bincount(cell, minlength=sizes[a] * sizes[b])
        r = single[a] + single[b] - np.log(counts[cell] / n)
        better = r > best + 1e-12
        best[better] = r[better]
        which[better] = (a, b)
    return best, which


def _isolation(matrix: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mean distance to the ``K_NEIGHBOURS`` nearest other records."""
    n = len(matrix)
    k = min(K_NEIGHBOURS, n - 1)
    if n > MAX_NEIGHBOUR_POOL:
        pool = np.sort(rng.choice(n, MAX_NEIGHBOUR_POOL, replace=False))
    else:
        pool = np.arange(n)
    dist, idx = nearest(matrix, matrix[pool], k=k + 1)
    in_pool = np.zeros(n, dtype=bool)
    in_pool[pool] = True
    # A record in the pool finds itself: drop that neighbour, else drop the (k+1)-th.
    is_self = pool[idx] == np.arange(n)[:, None]
    drop = np.where(in_pool & is_self.any(axis=1), np.argmax(is_self, axis=1), k)
    keep = np.ones_like(dist, dtype=bool)
    keep[np.arange(n), drop] = False
    return dist[keep].reshape(n, k).mean(axis=1)


def _exposure(real: pd.DataFrame, schema: Any, seed: Seed) -> _Exposure:
    if not isinstance(real, pd.DataFrame):
        raise DataError(f"the real table must be a pandas DataFrame, got {type(real).__name__}")
    rng = as_rng(seed)
    enc = RecordEncoding.fit(real, schema)
    if not enc.names:
        raise DataError("no column to score: every column is an identifier or free text")
    arrays = enc.arrays(real)
    codes, sizes = enc.codes(arrays)
    rarity = _value_rarity(enc, arrays, codes)
    if codes.shape[1] > 1:
        pair, which = _pair_rarity(codes, sizes)
    else:
        pair, which = np.zeros(len(real)), np.zeros((len(real), 2), dtype=np.int64)
    iso = _isolation(enc.matrix(arrays), rng)
    z = np.column_stack(
        [_robust_z(rarity.max(axis=1)), _robust_z(rarity.sum(axis=1)), _robust_z(pair), _robust_z(np.log(np.maximum(iso, FLOOR)))]
    )
    return _Exposure(
        score=z.mean(axis=1),
        z=z,
        rarity=rarity,
        pair=which,
        columns=enc.names,
        numeric=frozenset(n for n, k in zip(enc.names, enc.kinds, strict=True) if k.numeric),
    )


def exposure_scores(real: pd.DataFrame, schema: Any = None, *, seed: Seed = 0) -> np.ndarray:
    """Exposure score of every record of ``real`` (higher: more exposed), as the module describes.

    ``seed`` picks the neighbour sample on tables over 10,000 rows; equal seeds, equal scores.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": ["x", "y"] * 20 + ["z"], "b": list(range(40)) + [1000]})
    >>> int(exposure_scores(df).argmax())
    40
    """
    return _exposure(real, schema, seed).score


def _reason(e: _Exposure, row: int) -> str:
    parts = []
    order = np.argsort(-e.z[row], kind="stable")
    for c in order[:2]:
        if e.z[row, c] <= 1.0 and parts:
            break
        if c in (0, 1):
            if c == 1 and 0 in order[:2]:
                continue
            parts.append(_value_reason(e, row))
        elif c == 2:
            a, b = e.pair[row]
            parts.append(f"rare combination of {e.columns[a]}, {e.columns[b]}")
        else:
            parts.append(f"far from its {K_NEIGHBOURS} nearest records")
    return "; ".join(parts)


def _value_reason(e: _Exposure, row: int) -> str:
    """Columns whose value is held by at most 5% of records (up to 3), else the rarest one."""
    r = e.rarity[row]
    order = [j for j in np.argsort(-r, kind="stable") if r[j] >= np.log(20)][:3] or [int(np.argmax(r))]
    rare = [e.columns[j] for j in order if e.columns[j] not in e.numeric]
    extreme = [e.columns[j] for j in order if e.columns[j] in e.numeric]
    parts = []
    if rare:
        parts.append(f"rare value{'s' if len(rare) > 1 else ''} of {', '.join(rare)}")
    if extreme:
        parts.append(f"extreme value{'s' if len(extreme) > 1 else ''} of {', '.join(extreme)}")
    return "; ".join(parts)


def _check_rows(rows: Any, n_rows: int) -> list[int]:
    if isinstance(rows, (int, np.integer)) and not isinstance(rows, bool):
        rows = [rows]
    out = []
    for r in rows:
        if isinstance(r, bool) or not isinstance(r, (int, np.integer)):
            raise TargetError(f"target row {r!r} is not a row number; give positional row numbers 0 to {n_rows - 1}")
        if not 0 <= r < n_rows:
            raise TargetError(
                f"target row {int(r)} is out of range: the table has {n_rows:,} rows, numbered 0 to {n_rows - 1}"
            )
        out.append(int(r))
    if not out:
        raise TargetError("no target rows given; name at least one row, or leave rows out to select them")
    dupes = sorted({r for r in out if out.count(r) > 1})
    if dupes:
        raise TargetError(f"target rows {dupes} are named more than once; name each row once")
    return out


def select_targets(
    real: pd.DataFrame, schema: Any = None, *, n: int = 5, rows: Sequence[int] | None = None, seed: Seed = 0
) -> Targets:
    """The ``n`` most exposed records of ``real``, or the records named in ``rows``.

    ``rows`` are positional row numbers (0 to len(real) − 1), kept in the order given; a row out
    of range raises :class:`~lookalike.errors.TargetError`. Chosen rows are ordered from most
    exposed down, ties by row number.

    >>> import lookalike
    >>> adult = lookalike.load_demo().head(2000)
    >>> t = select_targets(adult, n=3)
    >>> len(t.rows), t.scores[0] >= t.scores[1] >= t.scores[2]
    (3, True)
    """
    if not isinstance(real, pd.DataFrame):
        raise DataError(f"the real table must be a pandas DataFrame, got {type(real).__name__}")
    if rows is not None:
        chosen = _check_rows(rows, len(real))
        e = _exposure(real, schema, seed)
    else:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= len(real):
            raise ConfigError(f"n (number of targets) must be a whole number from 1 to {len(real)}, got {n!r}")
        e = _exposure(real, schema, seed)
        chosen = np.lexsort((np.arange(len(real)), -e.score))[:n].tolist()
    return Targets(
        rows=tuple(int(r) for r in chosen),
        scores=tuple(float(e.score[r]) for r in chosen),
        reasons=tuple(_reason(e, r) for r in chosen),
    )
