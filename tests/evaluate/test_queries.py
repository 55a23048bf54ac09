"""Random counting-query workloads."""

from __future__ import annotations

import numpy as np
import pytest

from lookalike.evaluate.queries import answer, queries, workload
from lookalike.evaluate.tables import prepare


def test_exact_copy_answers_every_query_exactly(real):
    q = queries(prepare(real, real), n_queries=300, seed=0)
    assert q.n == 300 and len(q.errors) == 300
    assert max(q.errors) == 0.0
    assert (q.median_relative_error, q.p90_relative_error, q.mean_relative_error) == (0, 0, 0)
    assert len(q.examples) == 10
    assert q.floor == 50.0  # 1% of 5,000 rows


def test_shifted_column_gives_larger_errors(real):
    fake = real.assign(age=real["age"] + 5)
    exact = queries(prepare(real, real), n_queries=500, seed=0)
    tables = prepare(real, fake)
    shifted = queries(tables, n_queries=500, seed=0)
    assert shifted.mean_relative_error > exact.mean_relative_error == 0.0
    # the workload is drawn from the real table only, so both runs ask the same queries: those
    # that do not involve age are answered exactly, those that do are off
    errors = np.array(shifted.errors)
    on_age = np.array([any(p.column == "age" for p in q) for q in workload(tables, 500, seed=0)])
    assert on_age.sum() > 30 and errors[~on_age].max() == 0.0
    # 5 years is ~0.25 of age's IQR: a random age interval gains or loses ~10-30% of its rows
    assert np.median(errors[on_age]) > 0.1
    worst = shifted.examples[-1]
    assert "age" in worst.predicate and worst.relative_error == errors.max()


def test_synthetic_counts_are_scaled_to_the_real_size(real):
    # the first half of the table (2,500 rows) as the synthetic one: counts are doubled
    tables = prepare(real, real.iloc[:2500])
    q = queries(tables, n_queries=200, seed=0)
    # relative errors are then sampling errors of a half sample, ~sqrt(count)/count
    assert 0 < q.median_relative_error < 0.1


def test_workload_is_seeded_and_predicates_are_well_formed(real):
    tables = prepare(real, real)
    first, again = workload(tables, 100, seed=7), workload(tables, 100, seed=7)
    assert first == again and first != workload(tables, 100, seed=8)
    assert all(1 <= len(q) <= 3 for q in first)
    assert all(len({p.column for p in q}) == len(q) for q in first)
    for q in first:
        assert answer(tables, q, "real") >= 0
    ops = {p.op for q in first for p in q}
    assert ops <= {"range", "equals", "missing"} and {"range", "equals"} <= ops


def test_range_predicates_count_what_pandas_counts(real):
    tables = prepare(real, real)
    for q in workload(tables, 50, seed=1):
        mask = np.ones(len(real), bool)
        for p in q:
            s = real[p.column]
            if p.op == "missing":
                mask &= s.isna().to_numpy()
            elif p.op == "equals":
                mask &= (s == tables[p.column].labels[p.code]).fillna(False).to_numpy(bool)
            else:
                mask &= s.between(p.low, p.high).fillna(False).to_numpy(bool)
        assert answer(tables, q, "real") == mask.sum()


def test_needs_at_least_one_query(real):
    from lookalike.errors import ConfigError

    with pytest.raises(ConfigError, match="n_queries"):
        queries(prepare(real, real), n_queries=0)
