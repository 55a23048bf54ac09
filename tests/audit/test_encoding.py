"""The audit's one record encoding and one distance, shared by every attack, targets and shadow features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lookalike.audit._encoding import RecordEncoding, distances, encode, nearest, spread
from lookalike.audit._shadow_features import profile, target_features
from lookalike.audit.targets import exposure_scores
from lookalike.errors import ColumnMismatchError
from lookalike.evaluate.tables import prepare


@pytest.fixture(scope="module")
def mixed() -> pd.DataFrame:
    """40 rows: a float, a category with a missing value, a datetime and a boolean."""
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "x": rng.normal(10, 3, 40),
        "c": (["a", "b", "c", None] * 10),
        "d": pd.date_range("2020-01-01", periods=40, freq="D"),
        "t": [True, False] * 20,
    })  # fmt: skip


def _one_row(df: pd.DataFrame, **values) -> pd.DataFrame:
    row = df.iloc[[0]].copy().reset_index(drop=True)
    for k, v in values.items():
        row[k] = pd.Series([v], dtype=row[k].dtype)
    return row


@pytest.mark.parametrize(
    "change",
    ["category", "boolean", "category to missing", "label never seen", "numeric by one spread",
     "date by one spread", "numeric to missing at the median"],
)  # fmt: skip
def test_one_change_in_one_column_is_distance_one(mixed, change):
    enc = RecordEncoding.fit(mixed)
    base = _one_row(mixed, x=float(np.median(mixed["x"])), c="a")
    s_x, s_d = spread(mixed["x"].to_numpy()), spread(enc.arrays(mixed)[2])
    step = pd.Timedelta(days=s_d) if enc.units[2] == "D" else pd.Timedelta(seconds=s_d)
    other = {
        "category": _one_row(base, c="b"),
        "boolean": _one_row(base, t=not bool(base.loc[0, "t"])),
        "category to missing": _one_row(base, c=None),
        "label never seen": _one_row(base, c="zz"),
        "numeric by one spread": _one_row(base, x=base.loc[0, "x"] + s_x),
        "date by one spread": _one_row(base, d=base.loc[0, "d"] + step),
        "numeric to missing at the median": _one_row(base, x=np.nan),
    }[change]
    a, b = enc.matrix(enc.arrays(base)), enc.matrix(enc.arrays(other))
    assert distances(a[0], b)[0] == pytest.approx(1.0, abs=1e-9)


def test_frames_and_prepared_tables_encode_alike(adult_full):
    """Target selection and shadow fits read frames, the attacks prepared tables: same distances."""
    df = adult_full.sample(1500, random_state=3).reset_index(drop=True)
    enc = RecordEncoding.fit(df)
    from_frame = enc.matrix(enc.arrays(df))
    from_tables = encode(prepare(df, df)).real
    d_frame, i_frame = nearest(from_frame[:300], from_frame, k=6)
    d_tables, _ = nearest(from_tables[:300], from_tables, k=6)
    np.testing.assert_allclose(d_frame, d_tables, atol=1e-9)
    np.testing.assert_allclose(distances(from_frame[0], from_frame)[i_frame[0]], d_frame[0], atol=1e-9)


def test_shadow_features_measure_the_attacks_distance(adult_full):
    """The shadow attack's closest-record feature is the distance to closest record the attacks take."""
    rows = adult_full.sample(1200, random_state=4).reset_index(drop=True)
    real, synth = rows.iloc[:600].reset_index(drop=True), rows.iloc[600:].reset_index(drop=True)
    enc = RecordEncoding.fit(real)
    arrays = enc.arrays(real)
    f = encode(prepare(real, synth))
    for row in (0, 7, 42):
        feats = target_features(enc, enc.arrays(synth), profile(enc, arrays, row))
        dcr = nearest(f.real[row : row + 1], f.synthetic, k=5)[0][0]
        assert feats[0] == pytest.approx(dcr[0], abs=1e-9)
        assert feats[1] == pytest.approx(dcr.mean(), abs=1e-9)


def test_isolation_grows_with_how_far_out_a_value_lies():
    """A value ten times further out is further from every record: more exposed, not equally.

    A rank-based encoding scored both the same (each is the largest value); the shared linear
    distance scores 7.5 against 6.1 here.
    """
    rng = np.random.default_rng(0)
    near = pd.DataFrame({"a": rng.choice(list("xyz"), 201), "b": np.r_[rng.normal(size=200), 4.0]})
    far = near.assign(b=np.r_[near["b"][:200], 40.0])
    assert exposure_scores(far)[200] > exposure_scores(near)[200] + 1.0


def test_a_frame_without_a_column_is_refused(mixed):
    enc = RecordEncoding.fit(mixed)
    with pytest.raises(ColumnMismatchError, match=r"the table lacks the columns \['t'\] of the real table"):
        enc.arrays(mixed.drop(columns="t"))


def test_codes_count_bins_labels_other_and_missing(mixed):
    enc = RecordEncoding.fit(mixed)
    other = pd.DataFrame({"x": [np.nan, 1e9], "c": [None, "zz"], "d": mixed["d"][:2], "t": [True, None]})
    codes, sizes = enc.codes(enc.arrays(other))
    assert sizes[1] == 5  # a, b, c, another label, missing
    assert codes[:, 1].tolist() == [4, 3]
    assert codes[0, 0] == sizes[0] - 1 and codes[1, 0] == sizes[0] - 2  # missing; the top bin
