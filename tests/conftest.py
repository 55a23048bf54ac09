"""Shared fixtures: small demo tables, the optional shared datasets, and a CLI runner."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

import lookalike
from lookalike.cli import app


@pytest.fixture(autouse=True)
def _private_ledger(tmp_path_factory, monkeypatch):
    """Every test charges a ledger of its own ($LOOKALIKE_HOME in a temporary folder), never
    the user's ~/.lookalike: a test that forgets --ledger cannot spend a real budget."""
    monkeypatch.setenv("LOOKALIKE_HOME", str(tmp_path_factory.mktemp("lookalike_home")))


@pytest.fixture(scope="session")
def spark():
    """One local Spark session (2 threads, UTC, no UI) for every Spark test of a worker; skips
    where PySpark or Java 17 is missing (install the test extra: pip install -e '.[test]')."""
    import shutil

    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java 17")
    from pyspark.sql import SparkSession

    from lookalike.marginals.spark import spark_session

    # a session an earlier test of this worker started (a CLI run) is reused as it is
    session = SparkSession.getActiveSession() or spark_session(
        "local[2]", {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "2"})
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def adult_full() -> pd.DataFrame:
    """The bundled Adult table (32,561 rows), read once per session: copy it before changing it."""
    return lookalike.load_demo()


@pytest.fixture
def adult_small(adult_full) -> pd.DataFrame:
    """2,000 rows of the demo table (random_state=0), a fresh copy for each test."""
    return adult_full.sample(2000, random_state=0).reset_index(drop=True)


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """``shared/datasets``: beside the repository, or under ``$LOOKALIKE_SHARED``; else skip."""
    root = os.environ.get("LOOKALIKE_SHARED")
    path = (
        Path(root) / "datasets" if root else Path(__file__).resolve().parents[2] / "shared" / "datasets"
    )
    if not path.is_dir():
        pytest.skip(
            f"shared datasets not found at {path}; set LOOKALIKE_SHARED to the shared/ folder "
            "to run this test"
        )
    return path


@pytest.fixture(scope="session")
def cli() -> Callable[..., Result]:
    """Run the real ``lookalike`` app in-process: ``cli("fit", "data.csv", "-o", "m")``."""
    runner = CliRunner()

    def invoke(*args: object) -> Result:
        return runner.invoke(app, [str(a) for a in args], prog_name="lookalike")

    return invoke


@pytest.fixture(scope="session")
def one_error_line() -> Callable[[Result], str]:
    """Check a CLI result ended in exactly one 'error:' line (exit code 1, no traceback); return it."""

    def check(result: Result) -> str:
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        return lines[0]

    return check
