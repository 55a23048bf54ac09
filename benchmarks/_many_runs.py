"""How benchmarks/many_tables.py runs each method: one child process per (table, method).

Every child reads the training CSV as written, fits, samples as many rows as it was given,
writes them as CSV and reports its fit and sample seconds, CPU seconds and peak RSS; a child
that fails or runs past the time limit is recorded with its last error line and the benchmark
goes on. lookalike's synthesizers run with their defaults in the project venv (DP ones at the
given epsilon, delta default, charged to a throwaway ledger); the peers run in their own venvs
(benchmarks/_peers.py, benchmarks/_dp_peers.py):

* OpenDP 0.16 MST and AIM (2-way, 48 rounds), as benchmarks/_dp_peers.py runs them on Adult,
  with one difference that no table but Adult needs: there are no documented public bounds
  here, so every numeric or date column with more than 20 distinct values is cut at 16 equal-
  width bins over the *real* training range (and a missing-value bin where the real column has
  missing values): a favour to the peer, which lookalike does not get. Other columns (text,
  booleans, whole-number codes) are keys discovered under DP, as on Adult. Values are decoded
  uniformly within their bin (whole numbers for integer columns).
* DataSynthesizer 0.1.13, correlated attribute mode, k = 2, the same key columns categorical.
* ``aim+bounds`` and ``mst+bounds``: lookalike's aim and mst given the same favour, the real
  range of each of those columns declared as its bounds (a public fact: no discovery budget),
  so that the comparison with OpenDP holds the information equal.
* ``aim+domain``: lookalike's aim given DataSynthesizer's favour. DataSynthesizer reads every
  column's domain from the private rows, without noise (``AbstractAttribute.infer_domain``:
  the categories of the key columns, the minimum and maximum of the others), and spends its ε on
  the conditional distributions alone. Here the same facts are declared: the categories of
  the key columns (codes declared categorical with their values; yes/no columns need none),
  the real range of the cut columns and of dates.
* SDV 1.x GaussianCopula, CTGAN and TVAE with their defaults (300 epochs) on CPU.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from _dp_peers import PEERS as _ALL_PEERS  # noqa: F401  (registers the DP peers' venvs)
from _peers import ensure_venv

_HEAD = """
import json, os, resource, sys, tempfile, time, warnings
warnings.filterwarnings("ignore")
import numpy as np, pandas as pd
src, dst, info_path = {src!r}, {dst!r}, {info!r}
table_name, seed, epsilon, delta = {table!r}, {seed!r}, {epsilon!r}, {delta!r}
spec = json.loads({spec!r})
info = {{}}
"""

_TAIL = """
if not os.path.exists(dst):
    synth.to_csv(dst, index=False)
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
info.update(fit_s=fit_s, sample_s=sample_s, peak_rss_mb=max(me.ru_maxrss, kids.ru_maxrss) / 1024,
            cpu_s=me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime)
json.dump(info, open(info_path, "w"))
"""

OURS = """
import lookalike
from lookalike.io import write_table
from lookalike.privacy.ledger import PrivacyLedger
train = lookalike.read_table(src)
n = len(train)
if spec.get("fit_rows") and spec["fit_rows"] < n:  # neural cap: a seeded subsample
    train = train.sample(spec["fit_rows"], random_state=0).reset_index(drop=True)
    info["fit_rows"] = spec["fit_rows"]
model = lookalike.get_synthesizer({name!r}, **{params!r})
kw = {{}}
if spec.get("declare"):  # a peer's favour, declared: see the module doc
    from lookalike.schema import Kind
    schema = lookalike.infer_schema(train)
    for c in spec["columns"]:
        col = schema[c["name"]]
        if c["role"] == "cut" or (col.kind is Kind.DATETIME and spec["declare"] == "domain"):
            schema = schema.with_column(col.replace("declared", bounds=col.bounds))
        elif spec["declare"] == "domain" and col.kind is not Kind.BOOLEAN:
            values = train[c["name"]].dropna()
            cats = col.categories if col.kind is Kind.CATEGORICAL else tuple(values.unique())
            schema = schema.with_column(col.replace("declared", kind=Kind.CATEGORICAL, categories=cats))
    kw["schema"] = schema
if epsilon is not None:
    ledger = PrivacyLedger(os.path.join(tempfile.mkdtemp(), "ledger.sqlite"))
    ledger.set_limit(table_name, epsilon=epsilon, delta=1e-5)  # throwaway: above any default
    kw.update(epsilon=epsilon, delta=delta, dataset=table_name, ledger=ledger)
t = time.perf_counter(); model.fit(train, seed=seed, **kw); fit_s = time.perf_counter() - t
t = time.perf_counter(); synth = model.sample(n, seed=seed); sample_s = time.perf_counter() - t
write_table(synth, dst)  # as the CLI writes it
privacy = getattr(model, "privacy_", None)
if privacy is not None and privacy.differentially_private:
    info["epsilon_spent"] = privacy.epsilon_spent
tr = getattr(model, "training_", None) or {{}}
if tr.get("epochs") is not None:
    info["epochs"] = tr.get("epochs")
"""

SDV = """
from sdv.metadata import Metadata
from sdv.single_table import {cls}
train = pd.read_csv(src)
n = len(train)
if spec.get("fit_rows") and spec["fit_rows"] < n:
    train = train.sample(spec["fit_rows"], random_state=0).reset_index(drop=True)
    info["fit_rows"] = spec["fit_rows"]
meta = Metadata.detect_from_dataframe(train)
model = {cls}(meta{extra})
t = time.perf_counter(); model.fit(train); fit_s = time.perf_counter() - t
t = time.perf_counter(); synth = model.sample(n); sample_s = time.perf_counter() - t
"""

OPENDP = """
import polars as pl
import opendp.prelude as dp
import opendp.extras.mbi._mst as _mst
from opendp.context import _translate_measure_distance

dp.enable_features("contrib")
# OpenDP 0.16's MST budget split rounds up by a few ulps (see benchmarks/_dp_peers.py)
_mst.prior = lambda x: float(np.nextafter(x, -np.inf)) * (1 - 1e-12)
raw = pd.read_csv(src, dtype=str, keep_default_na=False, na_values=[""])
frame, cuts, layout = {{}}, {{}}, {{}}
for c in spec["columns"]:
    s = raw[c["name"]]
    if c["role"] == "key":
        frame[c["name"]] = s.astype(object).where(s.notna(), None)
        continue
    if c["date"]:
        d = pd.to_datetime(s, format=c["format"]).astype("datetime64[ns]")
        if c.get("pivot"):  # two-digit years: the window ends at the pivot year
            d = d.where(d.dt.year <= c["pivot"], d - pd.DateOffset(years=100))
        v = (d - pd.Timestamp(0)).dt.total_seconds() / 86400
    else:
        v = pd.to_numeric(s)
    v = v.astype(float)
    lo, hi = c["lo"], c["hi"]
    edges = list(np.linspace(lo, hi, 17))
    width = edges[1] - edges[0]
    inner = edges[1:-1]
    if c["missing"]:
        v = v.fillna(lo - width)
        inner = [lo - width / 2] + inner
    frame[c["name"]] = v.to_numpy()
    cuts[c["name"]] = [float(x) for x in inner]
    layout[c["name"]] = (edges, c["missing"])
measure, (eps, dlt) = dp.loss_of(epsilon=epsilon, delta=delta)
azcdp = dp.approximate(dp.zero_concentrated_divergence())
loss = _translate_measure_distance((eps, dlt), measure, azcdp, alpha=0.5)
t = time.perf_counter()
ctx = dp.Context.compositor(
    data=pl.DataFrame(frame).lazy(), privacy_unit=dp.unit_of(contributions=1),
    privacy_loss=(azcdp, loss), split_evenly_over=1,
)
table = ctx.query().contingency_table(cuts=cuts, algorithm={algorithm}).release()
fit_s = time.perf_counter() - t
t = time.perf_counter()
np.random.seed(seed)
idx = table.model.synthetic_data(len(raw), method="sample").df
rng = np.random.default_rng(seed)
out = {{}}
for c in spec["columns"]:
    name = c["name"]
    i = idx[name].to_numpy().astype(int)
    if c["role"] == "key":
        out[name] = table.keys[name].to_numpy()[i]
        continue
    edges, missing = layout[name]
    j = i - 1 if missing else i
    a, b = np.asarray(edges)[np.clip(j, 0, 15)], np.asarray(edges)[np.clip(j, 0, 15) + 1]
    x = rng.uniform(a, b)
    if c["integer"] or c["date"]:
        x = np.clip(np.floor(x), np.ceil(a), np.floor(b))
    x = x.astype(object)
    if missing:
        x[j < 0] = None
    if c["date"]:
        x = [None if v is None else str((pd.Timestamp(0) + pd.Timedelta(days=int(v))).date()) for v in x]
    elif c["integer"]:
        x = [None if v is None else int(v) for v in x]
    out[name] = x
synth = pd.DataFrame(out)[list(raw.columns)]
sample_s = time.perf_counter() - t
"""

DATASYNTHESIZER = """
from DataSynthesizer.DataDescriber import DataDescriber
from DataSynthesizer.DataGenerator import DataGenerator
keys = {{c["name"] for c in spec["columns"] if c["role"] == "key"}}
names = [c["name"] for c in spec["columns"]]
desc = os.path.join(tempfile.mkdtemp(), "description.json")
t = time.perf_counter()
describer = DataDescriber()
describer.describe_dataset_in_correlated_attribute_mode(
    src, k=2, epsilon=epsilon, attribute_to_is_categorical={{c: c in keys for c in names}}, seed=seed,
)
describer.save_dataset_description_to_file(desc)
fit_s = time.perf_counter() - t
t = time.perf_counter()
generator = DataGenerator()
n = len(pd.read_csv(src))
generator.generate_dataset_in_correlated_attribute_mode(n, desc, seed=seed)
synth = generator.synthetic_dataset
sample_s = time.perf_counter() - t
"""


def ours(name: str, params: dict) -> tuple[str, str]:
    return sys.executable, OURS.format(name=name, params=params)


def sdv(cls: str, epochs: int | None) -> tuple[str, str]:
    extra = "" if epochs is None else f", epochs={epochs}, enable_gpu=False"
    return str(ensure_venv("sdv")), SDV.format(cls=cls, extra=extra)


def opendp(algorithm: str) -> tuple[str, str]:
    return str(ensure_venv("opendp")), OPENDP.format(algorithm=algorithm)


def datasynthesizer() -> tuple[str, str]:
    return str(ensure_venv("datasynthesizer")), DATASYNTHESIZER.format()


def run_child(
    python: str, body: str, train_csv: Path, *, table: str, seed: int, epsilon: float | None,
    delta: float | None, spec: dict, timeout: float, threads: int,
) -> tuple[pd.DataFrame | None, dict]:
    """Run ``body`` in a fresh ``python`` on ``train_csv``: its synthetic rows and its info.

    On failure the rows are None and ``info["error"]`` holds the child's last error line (or
    the time limit it ran past)."""
    with tempfile.TemporaryDirectory() as d:
        dst, info = Path(d, "synth.csv"), Path(d, "info.json")
        script = _HEAD.format(
            src=str(train_csv), dst=str(dst), info=str(info), table=table, seed=seed,
            epsilon=epsilon, delta=delta, spec=json.dumps(spec),
        ) + body + _TAIL
        env = {**os.environ, "PYTHONWARNINGS": "ignore", "LOOKALIKE_HOME": d,
               "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
        start = time.perf_counter()
        try:
            proc = subprocess.run([python, "-c", script], cwd=d, env=env, capture_output=True,
                                  text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, {"error": f"ran past the {timeout:.0f} s limit", "wall_s": timeout}
        wall = time.perf_counter() - start
        if proc.returncode != 0 or not info.exists():
            lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
            return None, {"error": (lines[-1] if lines else f"exit {proc.returncode}")[:500],
                          "wall_s": wall}
        result = json.loads(info.read_text())
        result["wall_s"] = wall
        from lookalike import read_table

        synth = read_table(dst)
    return synth, result
