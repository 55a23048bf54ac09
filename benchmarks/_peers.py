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
    py = ensure_venv(venv)
    body = PEERS[venv]["scripts"][label]
    with tempfile.TemporaryDirectory() as d:
        src, dst, info = Path(d, "train.csv"), Path(d, "synth.csv"), Path(d, "info.json")
        train.to_csv(src, index=False)
        script = (
            "import json, time, pandas as pd\n"
            f"train = pd.read_csv({str(src)!r})\n"
            + body
            + f"synth.to_csv({str(dst)!r}, index=False)\n"
            + f"json.dump({{'fit_s': fit_s, 'sample_s': sample_s}}, open({str(info)!r}, 'w'))\n"
        )
        start = time.perf_counter()
        subprocess.run([str(py), "-c", script], check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        timings = json.loads(info.read_text())
        timings["wall_s"] = time.perf_counter() - start
        synth = pd.read_csv(dst)
    return synth, timings
