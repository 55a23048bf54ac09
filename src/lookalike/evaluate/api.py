"""``evaluate``: every measurement of a synthetic table against the real one, in one call.

>>> import lookalike
>>> from lookalike.evaluate import evaluate
>>> real = lookalike.load_demo().sample(1000, random_state=0)
>>> train, test = real.iloc[:800], real.iloc[800:]
>>> ev = evaluate(train, train, holdout=test, target="income", n_queries=100, max_3way=20)
>>> ev.fidelity.marginals.two_way, ev.utility.ratios["gradient_boosting"]
(0.0, 1.0)
>>> ev.verdict()[0]
'Column distributions are close (mean 1-way TVD 0.000).'
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from lookalike._progress import progress
from lookalike._rng import Seed, as_rng
from lookalike.errors import ConfigError
from lookalike.evaluate.detection import detection
from lookalike.evaluate.fidelity import fidelity
from lookalike.evaluate.queries import queries
from lookalike.evaluate.result import Evaluation, Meta
from lookalike.evaluate.tables import prepare, read
from lookalike.evaluate.utility import check_target, precheck_target, utility
from lookalike.evaluate.validity import validity
from lookalike.evaluate.verdict import sentences
from lookalike.schema import Schema

__all__ = ["evaluate"]


def _version() -> str:
    from lookalike._version import __version__

    return __version__


def _check_count(name: str, value: Any, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise ConfigError(f"{name} must be an integer of at least {least}, got {value!r}")
    return int(value)


def evaluate(
    real: Any,
    synthetic: Any,
    holdout: Any = None,
    target: str | None = None,
    schema: Schema | Mapping | str | os.PathLike | None = None,
    *,
    seed: Seed = 0,
    n_queries: int = 1000,
    max_3way: int = 200,
) -> Evaluation:
    """Measure how close ``synthetic`` is to ``real``: fidelity, utility, detection, queries.

    ``real``, ``synthetic`` and ``holdout`` are DataFrames or anything
    :func:`lookalike.read_table` reads, with the same columns. All three are conformed to
    ``schema`` (default: inferred from ``real``); identifier and text columns are left out of
    every metric. Utility is measured only for a ``target`` column, on ``holdout`` (else on a
    seeded 20% of ``real``, said in the result). ``seed`` fixes the 3-way marginal sample,
    the split, the detection folds and the query workload; equal seeds give equal results.
    A Generator (or None) is turned into one integer seed, recorded in ``meta.seed`` so that
    the evaluation can be repeated.
    ``validity`` counts synthetic values outside the real domain, spurious missing values,
    collapsed columns and lost categories, on the tables as given (before conforming).
    Nothing here is a privacy measurement: a close synthetic table can still leak.
    """
    start = time.perf_counter()
    n_queries = _check_count("n_queries", n_queries, 1)
    max_3way = _check_count("max_3way", max_3way, 0)
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        as_rng(seed)  # refuses negative seeds
        seed_int = int(seed)
    else:  # a Generator, or None for fresh entropy: draw the one int every part uses
        seed_int = int(as_rng(seed).integers(2**31))
    if target is not None and not isinstance(target, str):
        raise ConfigError(f"target must be a column name, got {target!r}")
    real = read(real, "real")
    if target is not None:
        precheck_target(real, target)
    synthetic = read(synthetic, "synthetic")
    # staged progress (a bar on a terminal, the listener of lookalike._progress elsewhere)
    with progress("evaluating: reading the tables", 6) as advance:
        tables = prepare(real, synthetic, holdout, schema)
        if target is not None:
            check_target(tables, target)
        advance(description="evaluating: marginals and associations")
        fid = fidelity(tables, max_3way=max_3way, seed=seed_int)
        advance(description=f"evaluating: utility ({target})" if target else None)
        use = None if target is None else utility(tables, target, seed=seed_int)
        advance(description="evaluating: detection")
        det = detection(tables, seed=seed_int)
        advance(description="evaluating: queries")
        work = queries(tables, n_queries=n_queries, seed=seed_int)
        advance(description="evaluating: validity")
        valid = validity(real, synthetic, schema)
        advance()
    notes = list(tables.notes)
    if use is not None and use.holdout == "split":
        notes.append(
            "no holdout given: utility is measured on a seeded 20% of the real table, which "
            "the synthesizer may have seen"
        )
    meta = Meta(
        n_real=tables.n_real,
        n_synthetic=tables.n_synthetic,
        n_holdout=tables.n_holdout,
        target=target,
        seed=seed_int,
        seconds=round(time.perf_counter() - start, 3),
        lookalike_version=_version(),
        excluded_columns=tables.excluded,
        notes=tuple(notes),
    )
    verdict = sentences(fid, use, det, work) + valid.sentences()
    return Evaluation(meta, fid, use, det, work, verdict, valid)
