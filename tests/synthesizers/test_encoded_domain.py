"""A DP model's encoder, built from discovery's plain values: codes follow the domain found."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lookalike.marginals import NumpyEngine
from lookalike.privacy.discovery import OTHER, discover_domain
from lookalike.schema import infer_schema
from lookalike.synthesizers._domain import encode_domain


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 5_000
    colour = rng.choice(["red", "green", "blue", "rare"], n, p=[0.5, 0.3, 0.1998, 0.0002])
    return pd.DataFrame({"colour": colour, "age": rng.integers(18, 90, n)})


def test_encoder_codes_follow_the_discovered_domain():
    table = _table()
    schema = infer_schema(table)
    found = discover_domain(NumpyEngine(schema.conform(table), schema), schema, rho=0.02,
                            delta=1e-9, n_bins=8, one_way_rho=0.01)
    enc = encode_domain(found)
    assert enc.encoder.names == [c.name for c in found.schema.modelled] == ["colour", "age"]
    assert enc.releases is found.releases and enc.one_way_rho == found.one_way_rho
    colour, age = enc.encoder.codecs
    cats = found.domains[0].categories
    assert colour.categories == cats and cats[-1] == OTHER
    assert colour.column == found.schema["colour"]
    # an unseen value takes the "other" code, a missing one the last code
    codes = colour.encode(pd.Series(["rare", None, "red"], dtype=object))
    assert codes.tolist() == [cats.index(OTHER), len(cats), cats.index("red")]
    for got, want in ((age.bins.lower, found.domains[1].bins.lower),
                      (age.bins.upper, found.domains[1].bins.upper),
                      (age.bins.shape, found.domains[1].bins.shape)):
        np.testing.assert_array_equal(got, want)
    # discovery's released counts sit on their codes; "other" and missing were not released
    for j, (name, codec) in enumerate(zip(enc.encoder.names, enc.encoder.codecs, strict=True)):
        est, var = enc.estimates[name]
        released, variances = found.domains[j].estimate
        k = len(released)
        assert len(est) == len(var) == codec.size
        np.testing.assert_array_equal(est[:k], released)
        np.testing.assert_array_equal(var[:k], variances)
        assert np.isnan(est[k:]).all() and np.isnan(var[k:]).all()


def test_no_estimates_without_borrowed_one_ways():
    table = _table()
    schema = infer_schema(table)
    enc = encode_domain(discover_domain(NumpyEngine(schema.conform(table), schema), schema,
                                        rho=None, n_bins=8))
    assert enc.estimates == {} and enc.one_way_rho == {} and enc.releases == ()
    assert enc.encoder.codecs[0].fallback is None  # exact categories: nothing is "other"
