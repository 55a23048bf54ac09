"""Every code block of the how-to guides and concept pages runs, in order, and leaves its files.

Each page runs in an empty folder with a fresh ledger (``LOOKALIKE_HOME``). Python blocks run
in-process, one namespace per block; shell blocks hold ``lookalike`` commands, run in-process
through the real Typer app (the README test runs its commands as processes). A block whose
opening fence follows ``<!-- test: skip (why) -->`` is left out; the list stays short.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from doc_blocks import ROOT, Block, blocks, commands, promised_files
from typer.testing import CliRunner

from lookalike.cli import app

PAGES = sorted((ROOT / "docs").glob("how-to/*.md")) + sorted((ROOT / "docs").glob("concepts/*.md"))
SKIPPED_AT_MOST = 2  # the audit of make demo's outputs; the neural example (minutes of training)


def run_block(block: Block) -> None:
    if block.kind == "python":
        exec(compile(block.code, block.where, "exec"), {"__name__": "__main__"})  # noqa: S102
        return
    for args in commands(block):
        assert args[0] == "lookalike", f"{block.where}: only lookalike commands run here: {args}"
        result = CliRunner().invoke(app, args[1:], prog_name="lookalike")
        assert result.exit_code == 0, (
            f"{block.where}: {' '.join(args)} exited {result.exit_code}\n{result.output[-3000:]}"
        )


def test_guides_exist_and_skip_few_blocks() -> None:
    names = {p.name for p in PAGES}
    assert {"synthesize.md", "dp-release.md", "conditional-sampling.md", "outputs.md"} <= names
    skipped = [b.where for p in PAGES for b in blocks(p) if b.skipped]
    assert len(skipped) <= SKIPPED_AT_MOST, skipped


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in PAGES if any(not b.skipped for b in blocks(p))],
                         ids=lambda p: str(p.relative_to(ROOT / "docs")))
def test_page_blocks_run_in_order(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOOKALIKE_HOME", str(tmp_path / "home"))
    for block in blocks(page):
        if block.skipped:
            continue
        run_block(block)
        missing = [f for f in promised_files(block) if not (tmp_path / f).exists()]  # (a Spark output: a folder)
        assert not missing, f"{block.where} did not write {missing}"
