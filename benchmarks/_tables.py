"""The real tables of benchmarks/many_tables.py: where each comes from, its target, its split.

Tables that ship inside PyPI packages (statsmodels 0.14.6, palmerpenguins 0.1.6, vega_datasets
0.9.0) are exported once to CSV by a child process in their own virtualenv,
benchmarks/.venvs/tables (created on first use; these packages are benchmark-only and stay out of
lookalike's dependencies). Adult and compas come from the shared datasets folder
(LOOKALIKE_SHARED, default ../shared): a seeded sample of 1,250 or 3,750 rows, so that the
training part holds 1,000 or 3,000 rows; they are skipped with a note when the folder is absent.

Every table is split 80/20 by a permutation with seed 0, on its rows as written in the CSV (the
training rows keep the input's own spelling: dates as M/D/YY, codes as 3.0). Files live in
benchmarks/data/many_tables/NAME/{table,train,holdout}.csv (ignored by git).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from _peers import PEERS, ensure_venv
from _protocol import SHARED

DATA = Path(__file__).resolve().parent / "data" / "many_tables"

PEERS["tables"] = {
    "requirements": ["statsmodels==0.14.6", "palmerpenguins==0.1.6", "vega_datasets==0.9.0"],
    "scripts": {},
}


@dataclass(frozen=True)
class Table:
    """One benchmark table: its source, the binary target TSTR is scored on, what was dropped.

    ``target`` names the column the label is read from (left out of the classifier's features)
    and ``positive`` the rule that makes a row positive, e.g. ``("affairs", "> 0")``.
    """

    name: str
    source: str
    target: str
    positive: str
    notes: str = ""
    export: str | None = None  # code run in the tables venv; it sets `df`
    shared: tuple[str, int] | None = None  # (file under shared/datasets, rows to sample)
    drop: tuple[str, ...] = field(default=())

    def label(self, values: pd.Series) -> pd.Series:
        """True where a row is positive; missing where the target is missing."""
        op, _, value = self.positive.partition(" ")
        if op == "==":
            out = values.astype(object).map(lambda v: None if _na(v) else _text(v) == value)
        elif op == ">":
            num = pd.to_numeric(values, errors="coerce")
            out = (num > float(value)).astype(object).where(num.notna(), None)
        else:
            raise ValueError(f"table {self.name}: positive rule {self.positive!r} not understood")
        return out

    @property
    def rule(self) -> str:
        return f"{self.target} {self.positive}"


def _na(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA


def _text(v) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


_SM = "import statsmodels.api as sm\ndf = sm.datasets.{}.load_pandas().data\n"

TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "penguins", "palmerpenguins 0.1.6 (344 rows)", "sex", "== female",
            "missing values in 6 columns; rows with a missing sex are left out of TSTR",
            export="import palmerpenguins\ndf = palmerpenguins.load_penguins()\n",
        ),
        Table(
            "cars", "vega_datasets 0.9.0 local 'cars' (406 rows)", "Origin", "== USA",
            "missing values (mpg, horsepower), model year as a date; the car name (311 "
            "distinct strings) is dropped",
            export="from vega_datasets import local_data\ndf = local_data.cars()\n",
            drop=("Name",),
        ),
        Table(
            "modechoice", "statsmodels modechoice (840 rows)", "choice", "== 1",
            "codes stored as floats (mode 1-4, psize); the respondent id is dropped",
            export=_SM.format("modechoice"), drop=("individual",),
        ),
        Table(
            "anes96", "statsmodels anes96 (944 rows)", "vote", "== 1",
            "7-point scales and codes stored as floats, a derived log column",
            export=_SM.format("anes96"),
        ),
        Table(
            "seattle_weather", "vega_datasets 0.9.0 local 'seattle-weather' (1,461 rows)",
            "weather", "== sun", "a daily date column, a 5-class outcome with rare classes",
            export="from vega_datasets import local_data\ndf = local_data.seattle_weather()\n",
        ),
        Table(
            "fair", "statsmodels fair (6,366 rows)", "affairs", "> 0",
            "codes stored as floats (ratings 1-5, occupations 1-6, years married in steps)",
            export=_SM.format("fair"),
        ),
        Table(
            "randhie", "statsmodels randhie (20,190 rows)", "mdvis", "> 0",
            "0/1 flags, a count, heavy point masses at 0",
            export=_SM.format("randhie"),
        ),
        Table(
            "adult_1k", "Adult, 1,250-row sample (seed 0)", "income", "== >50K",
            "missing values (workclass, occupation, native-country), rare categories",
            shared=("adult/adult.csv", 1250),
        ),
        Table(
            "adult_3k", "Adult, 3,750-row sample (seed 0)", "income", "== >50K",
            "as adult_1k", shared=("adult/adult.csv", 3750),
        ),
        Table(
            "compas_1k", "compas (reduced), 1,250-row sample (seed 0)", "score_text", "== Low",
            "dates of birth as M/D/YY, columns derived from others (age_cat, score_text)",
            shared=("compas/compas_reduced.csv", 1250),
        ),
        Table(
            "compas_3k", "compas (reduced), 3,750-row sample (seed 0)", "score_text", "== Low",
            "as compas_1k", shared=("compas/compas_reduced.csv", 3750),
        ),
    ]
}


def _read_raw(path: Path) -> pd.DataFrame:
    """A CSV as written: every cell as text, empty cells missing."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


def _export(table: Table, out: Path) -> None:
    if table.shared is not None:
        rel, n = table.shared
        src = SHARED / "datasets" / rel
        if not src.exists():
            raise FileNotFoundError(f"{src} not found (set LOOKALIKE_SHARED to the shared/ folder)")
        raw = _read_raw(src)
        raw = raw.iloc[np.sort(np.random.default_rng(0).choice(len(raw), n, replace=False))]
        raw.to_csv(out, index=False)
        return
    script = table.export + f"df.drop(columns={list(table.drop)!r}).to_csv({str(out)!r}, index=False)\n"
    subprocess.run([str(ensure_venv("tables")), "-c", script], check=True,
                   env={**os.environ, "PYTHONWARNINGS": "ignore"})


def prepare(name: str) -> dict[str, Path]:
    """Export table ``name`` (once) and split it 80/20 with seed 0; return the CSV paths."""
    table = TABLES[name]
    folder = DATA / name
    paths = {k: folder / f"{k}.csv" for k in ("table", "train", "holdout")}
    if all(p.exists() for p in paths.values()):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    _export(table, paths["table"])
    raw = _read_raw(paths["table"])
    perm = np.random.default_rng(0).permutation(len(raw))
    n_hold = int(0.2 * len(raw))
    raw.iloc[np.sort(perm[n_hold:])].to_csv(paths["train"], index=False)
    raw.iloc[np.sort(perm[:n_hold])].to_csv(paths["holdout"], index=False)
    (folder / "source.json").write_text(json.dumps({"source": table.source, "rows": len(raw)}))
    return paths


def available(names: list[str]) -> tuple[list[str], list[str]]:
    """The tables that can be prepared here, and a note for each one skipped."""
    ok, notes = [], []
    for n in names:
        t = TABLES[n]
        if t.shared is not None and not (SHARED / "datasets" / t.shared[0]).exists():
            notes.append(f"{n}: skipped, {SHARED / 'datasets' / t.shared[0]} is absent")
        else:
            ok.append(n)
    return ok, notes

