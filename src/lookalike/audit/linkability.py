"""Linkability: can the synthetic table join two halves of a real person's record?

Anonymeter's linkability attack (Giomi et al. 2023, after the EU Article 29 Working Party's
Opinion 05/2014): the attacker holds two real tables that share no column, ``columns[0]`` and
``columns[1]`` of the same people. For each target, it finds the closest synthetic row on the
first columns and the closest on the second (distances of :mod:`lookalike.audit._encoding`);
when one synthetic row is closest on both, the two halves are linked. Synthetic rows tied at
the closest distance all count as closest (up to ``MAX_TIES`` of them, drawn at random): in a
table of categories many rows tie, and taking the first of them, as Anonymeter does, would
leave a copy of the training data linking a third of its rows on Adult instead of all.

* **attack**: targets are training rows;
* **control**: targets are holdout rows (the synthetic table could link them only by chance
  or by what holds for everyone);
* **baseline**: two synthetic rows drawn at random coincide.

Risk ``(attack − control) / (1 − control)`` with a 95% interval, clipped to [0, 1]. Attack and
control search the same synthetic table, so no size correction is needed.

>>> import lookalike
>>> from lookalike.evaluate.tables import prepare
>>> adult = lookalike.load_demo().sample(3000, random_state=0)
>>> train, holdout = adult.iloc[:2000], adult.iloc[2000:]
>>> link = linkability(prepare(train, train, holdout), seed=0)
>>> link.attack.value > 0.9, link.risk.value > 0.8
(True, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lookalike._json import JsonMixin as _Json
from lookalike._rng import Seed, as_rng
from lookalike.audit._encoding import Features, encode, nearest
from lookalike.audit._stats import Rate, Risk, residual, wilson
from lookalike.audit.attribute import check_columns
from lookalike.errors import ConfigError
from lookalike.evaluate.tables import Tables

__all__ = ["Linkability", "linkability"]

N_ATTACKS = 500
MAX_TIES = 50


@dataclass(frozen=True)
class Linkability(_Json):
    """Shares of training (attack) and holdout (control) rows whose two halves were linked."""

    columns: tuple[tuple[str, ...], tuple[str, ...]]
    attack: Rate
    control: Rate
    baseline: Rate
    risk: Risk
    n_neighbors: int = 1


def _links(f: Features, side: str, rows: np.ndarray, blocks: list[np.ndarray],
           order: np.ndarray, n_neighbors: int) -> np.ndarray:
    syn = f.synthetic[order]  # a random order: ties between synthetic rows are broken at random
    found = []
    for cols in blocks:
        dist, idx = nearest(f.side(side)[np.ix_(rows, cols)], syn[:, cols], k=n_neighbors + MAX_TIES)
        # the n_neighbors closest, and every row tied with the last of them
        keep = dist <= dist[:, n_neighbors - 1 : n_neighbors] + 1e-9
        found.append([set(order[i[m]]) for i, m in zip(idx, keep, strict=True)])
    a, b = found
    return np.array([bool(x & y) for x, y in zip(a, b, strict=True)])


def linkability(
    tables: Tables,
    features: Features | None = None,
    *,
    columns: tuple[Sequence[str], Sequence[str]] | None = None,
    n_attacks: int = N_ATTACKS,
    n_neighbors: int = 1,
    seed: Seed = 0,
) -> Linkability:
    """Anonymeter's linkability risk: the share of targets whose halves link through one synthetic row.

    ``columns`` are the two disjoint column sets the attacker holds; by default the modelled
    columns are split in two at random (seeded). Needs a holdout.
    """
    if tables.n_holdout is None or tables.n_holdout < 4:
        raise ConfigError(
            "linkability needs a holdout of at least 4 real rows the synthesizer never saw "
            "(holdout=..., or --holdout in the CLI)"
        )
    if len(tables.names) < 2:
        raise ConfigError("linkability needs at least two columns, one for each half")
    if n_neighbors < 1:
        raise ConfigError(f"n_neighbors must be a positive number, got {n_neighbors}")
    rng = as_rng(seed)
    if columns is None:
        names = [str(n) for n in rng.permutation(tables.names)]
        half = len(names) // 2
        columns = (sorted(names[:half], key=tables.names.index), sorted(names[half:], key=tables.names.index))
    else:
        if len(columns) != 2:
            raise ConfigError(f"linkability columns must be two lists of column names, got {columns!r}")
        columns = (check_columns(tables, columns[0], "linkability columns"),
                   check_columns(tables, columns[1], "linkability columns"))
        shared = set(columns[0]) & set(columns[1])
        if not columns[0] or not columns[1] or shared:
            raise ConfigError(
                f"linkability columns must be two non-empty sets with no column in both, got {columns!r}"
            )
    f = features if features is not None else encode(tables)
    blocks = [f.columns(c) for c in columns]
    order = rng.permutation(tables.n_synthetic)
    train_rows = np.sort(rng.choice(tables.n_real, min(n_attacks, tables.n_real), replace=False))
    hold_rows = np.sort(rng.choice(tables.n_holdout, min(n_attacks, tables.n_holdout), replace=False))
    attack = _links(f, "real", train_rows, blocks, order, n_neighbors)
    control = _links(f, "holdout", hold_rows, blocks, order, n_neighbors)
    k = min(n_neighbors, tables.n_synthetic)
    random_pairs = [
        bool(set(rng.choice(tables.n_synthetic, k, replace=False)) & set(rng.choice(tables.n_synthetic, k, replace=False)))
        for _ in range(len(train_rows))
    ]
    a, c = wilson(int(attack.sum()), len(attack)), wilson(int(control.sum()), len(control))
    return Linkability(
        columns=(tuple(columns[0]), tuple(columns[1])),
        attack=a,
        control=c,
        baseline=wilson(int(sum(random_pairs)), len(random_pairs)),
        risk=residual(a, c),
        n_neighbors=n_neighbors,
    )
