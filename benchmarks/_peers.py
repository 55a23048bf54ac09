"""Run peer libraries in their own virtualenvs (benchmarks/.venvs/NAME), same machine, same run.

Each peer gets the training rows as CSV, writes synthetic rows as CSV, and reports its own fit
time. Torch comes from the local CPU wheel first (`pip install torch==2.13.0`), so no CUDA
packages are pulled.
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

VENVS = Path(__file__).resolve().parent / ".venvs"

PEERS = {
    "sdv": {
        "requirements": ["torch==2.13.0", "sdv==1.*"],
        "scripts": {
            "sdv_gaussian_copula": """
from sdv.metadata import Metadata
from sdv.single_table import GaussianCopulaSynthesizer
meta = Metadata.detect_from_dataframe(train)
model = GaussianCopulaSynthesizer(meta)
t = time.perf_counter(); model.fit(train); fit_s = time.perf_counter() - t
t = time.perf_counter(); synth = model.sample(len(train)); sample_s = time.perf_counter() - t
""",
        },
    },
}


def ensure_venv(name: str) -> Path:
    venv = VENVS / name
    py = venv / "bin" / "python"
    stamp = venv / ".installed"
    if not stamp.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        for req in PEERS[name]["requirements"]:  # one at a time: torch first
            subprocess.run([str(py), "-m", "pip", "install", "-q", req], check=True)
        stamp.touch()
    return py


def run_peer(venv: str, label: str, train: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Fit and sample peer ``label`` on ``train``; return its synthetic rows and timings."""
    return run_script(ensure_venv(venv), PEERS[venv]["scripts"][label], train, 0, None, None)


def run_script(
    python: str | Path, body: str, train: pd.DataFrame, seed: int, epsilon: float | None, delta: float | None
) -> tuple[pd.DataFrame, dict]:
    """Run ``body`` in a fresh ``python`` process on ``train``; return its rows and its info.

    ``body`` sees ``train``, ``src`` (the CSV path), ``seed``, ``epsilon``, ``delta``,
    ``numeric`` and ``categorical`` (column names), and a dict ``info`` to add to; it sets
    ``synth``, ``fit_s`` and ``sample_s``."""
    numeric = [c for c in train.columns if pd.api.types.is_numeric_dtype(train[c].dtype)]
    categorical = [c for c in train.columns if c not in numeric]
    with tempfile.TemporaryDirectory() as d:
        src, dst, info = Path(d, "train.csv"), Path(d, "synth.csv"), Path(d, "info.json")
        train.to_csv(src, index=False)
        script = (
            "import json, resource, time, pandas as pd\n"
            f"src = {str(src)!r}\n"
            "train = pd.read_csv(src)\n"
            f"seed, epsilon, delta = {seed!r}, {epsilon!r}, {delta!r}\n"
            f"numeric, categorical = {numeric!r}, {categorical!r}\n"
            "info = {}\n" + body + f"\nsynth.to_csv({str(dst)!r}, index=False)\n"
            "me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)\n"
            "info.update(fit_s=fit_s, sample_s=sample_s, peak_rss_mb=max(me.ru_maxrss, kids.ru_maxrss) / 1024,\n"
            "            cpu_s=me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,\n"
            "            system_s=me.ru_stime + kids.ru_stime)\n"
            f"json.dump(info, open({str(info)!r}, 'w'))\n"
        )
        start = time.perf_counter()
        subprocess.run(
            [str(python), "-c", script],
            check=True,
            cwd=d,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        result = json.loads(info.read_text())
        result["wall_s"] = time.perf_counter() - start
        synth = pd.read_csv(dst)
    return synth, result


