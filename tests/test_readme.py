"""The newcomer's walk: every command and code block of the README, as written, in order.

The blocks run in an empty folder with the repository's ``.venv/bin`` first on ``PATH`` (as
``source .venv/bin/activate`` leaves it; CI makes that ``.venv`` afresh) and a fresh ledger
(``LOOKALIKE_HOME``). Each must exit 0 and leave the files it names. A README command that
breaks fails this test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from doc_blocks import ROOT, blocks, commands, promised_files

README = ROOT / "README.md"
TIMEOUT = 300


def test_readme_leads_with_the_two_commands_and_stays_short() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) < 250
    first = blocks(README)[0]
    assert [args[:2] for args in commands(first)] == [["make", "demo"], ["make", "test"]]


def test_readme_skips_few_blocks() -> None:
    skipped = [b.where for b in blocks(README) if b.skipped]
    assert len(skipped) <= 2, skipped  # make demo/test, and activating the .venv


def test_parsing_finds_promised_files() -> None:
    tour = [b for b in blocks(README) if not b.skipped]
    promised = {f for b in tour for f in promised_files(b)}
    assert {"adult.csv", "adult_holdout.csv", "synthetic.csv", "model.lookalike",
            "report.html", "report.json", "audit.html"} <= promised


@pytest.mark.slow
def test_readme_tour_runs_as_written(tmp_path: Path) -> None:
    venv = ROOT / ".venv" / "bin"  # as after `source .venv/bin/activate`
    bin_dir = venv if venv.is_dir() else Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "LOOKALIKE_HOME": str(tmp_path / "home"), "COLUMNS": "100"}
    env.pop("PYTHONPATH", None)
    work = tmp_path / "tour"
    work.mkdir()
    ran = 0
    for block in blocks(README):
        if block.skipped:
            continue
        if block.kind == "shell":
            argv = ["bash", "-e", "-o", "pipefail", "-c", block.code]
        else:
            argv = [str(bin_dir / "python"), "-c", block.code]
        done = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, (
            f"README block at {block.where} exited {done.returncode}:\n{block.code}\n"
            f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
        )
        missing = [f for f in promised_files(block) if not (work / f).is_file()]
        assert not missing, f"README block at {block.where} did not write {missing}"
        ran += 1
    assert ran >= 6
