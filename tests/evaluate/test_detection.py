"""Detection: a classifier telling real from synthetic rows."""

from __future__ import annotations

import numpy as np

from lookalike.evaluate.detection import detection
from lookalike.evaluate.tables import prepare


def test_disjoint_halves_of_real_cannot_be_told_apart(demo):
    rows = demo.sample(5000, random_state=1).reset_index(drop=True)
    a, b = rows.iloc[:2500], rows.iloc[2500:]
    d = detection(prepare(a, b), seed=0)
    # Both halves come from one distribution, so each held-out fold's AUC is 0.5 in
    # expectation with standard error sqrt((n0 + n1 + 1) / (12 n0 n1)) = 0.018 for folds of
    # 500 + 500 rows; the mean of 5 folds has sd ~0.008. 0.05 is about 6 of those: a
    # failure means a real artefact (e.g. a leak of the row order), not noise.
    assert abs(d.auc - 0.5) < 0.05
    assert d.folds == 5 and len(d.fold_aucs) == 5 and d.n_per_class == 2500
    assert d.auc_std < 0.05
    assert len(d.top_features) == 5


def test_a_shifted_column_is_detected_and_named(real):
    real = real.iloc[:2000]
    fake = real.assign(**{"hours-per-week": real["hours-per-week"] + 7})
    d = detection(prepare(real, fake), seed=0)
    assert d.auc > 0.9
    assert d.top_features[0].feature == "hours-per-week"
    assert d.top_features[0].importance > 0.2
    imps = [f.importance for f in d.top_features]
    assert imps == sorted(imps, reverse=True)


def test_larger_table_is_subsampled_to_the_smaller(real):
    d = detection(prepare(real, real.iloc[:1000]), seed=0)
    assert d.n_per_class == 1000
    assert np.isfinite(d.auc)
