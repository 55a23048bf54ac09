"""The bundled demo table: UCI Adult census training data (32,561 rows, 15 columns, CC BY 4.0).

Becker, B. and Kohavi, R. (1996), "Adult", UCI Machine Learning Repository. Missing values
('?' in the original) are empty.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

__all__ = ["demo_path", "load_demo"]


def demo_path() -> Path:
    """Path of the compressed demo CSV inside the installed package."""
    return Path(str(resources.files("lookalike") / "data" / "adult.csv.gz"))


def load_demo() -> pd.DataFrame:
    """The Adult table as a DataFrame with canonical dtypes.

    >>> load_demo().shape
    (32561, 15)
    """
    from lookalike.io import read_table

    return read_table(demo_path())
