"""Tables shared by the evaluation tests: samples of the bundled Adult data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lookalike


@pytest.fixture(scope="package")
def demo() -> pd.DataFrame:
    """The bundled Adult table (32,561 rows): copy it before changing it."""
    return lookalike.load_demo()


@pytest.fixture(scope="package")
def real(demo) -> pd.DataFrame:
    """5,000 Adult rows (random_state=0)."""
    return demo.sample(5000, random_state=0).reset_index(drop=True)


@pytest.fixture(scope="package")
def shuffled(real) -> pd.DataFrame:
    """``real`` with each column permuted independently (seed 0): same 1-way marginals, no
    association left between columns."""
    rng = np.random.default_rng(0)
    return pd.DataFrame({c: real[c].to_numpy()[rng.permutation(len(real))] for c in real.columns})
