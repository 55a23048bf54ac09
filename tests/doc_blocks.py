"""The code blocks of the README and the docs pages, and the files their commands promise.

Imported by the tests as ``doc_blocks`` (``tests/`` is on ``sys.path`` under pytest).
A block runs unless the line above its opening fence is a skip marker with its reason:
``<!-- test: skip (why) -->``. Shell blocks hold ``lookalike`` commands (a trailing
backslash continues a line); Python blocks run as written.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```(\w*)\s*$")
SKIP = re.compile(r"^<!-- test: skip \(.+\) -->$")
LANGUAGES = {"sh": "shell", "bash": "shell", "shell": "shell", "python": "python"}
# options whose value is a file the command writes
OUTPUT_OPTIONS = {"-o", "--output", "--model-out", "--json", "--report"}
# Python calls whose first string argument is a file the block writes
PY_OUTPUT = re.compile(
    r"\.(?:to_csv|to_parquet|save|write_html|write_json)\(\s*[\"']([^\"']+)[\"']"
    r"|open\(\s*[\"']([^\"']+)[\"']\s*,\s*[\"']w"
)


@dataclass(frozen=True)
class Block:
    """One fenced code block: its kind (shell or python), its text and where it starts."""

    kind: str
    code: str
    path: Path
    line: int
    skipped: bool

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """The shell and Python blocks of a Markdown file, in order (other languages are left out)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        start = i
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        kind = LANGUAGES.get(match.group(1))
        if kind is not None:
            above = next((lines[j].strip() for j in range(start - 1, -1, -1) if lines[j].strip()), "")
            found.append(Block(kind, "\n".join(lines[start + 1:end]), path, start + 1,
                               bool(SKIP.match(above))))
        i = end + 1
    return found


def commands(block: Block) -> list[list[str]]:
    """The commands of a shell block as argument lists (continuations joined, comments dropped)."""
    text = re.sub(r"\\\n\s*", " ", block.code)
    return [shlex.split(line, comments=True) for line in text.splitlines()
            if shlex.split(line, comments=True)]


def promised_files(block: Block) -> list[str]:
    """The files a block says it writes: each output option's value, or a Python write call's path.

    A ``--report R.html`` (and ``evaluate -o R.html``) writes its numbers beside it as ``R.json``,
    and for a DP fit the release sheet ``R.release.html`` and ``R.release.json``; ``synth -o
    OUT.csv --holdout-share`` writes the rows it set aside as ``OUT.holdout.csv``.
    """
    if block.kind == "python":
        return [a or b for a, b in PY_OUTPUT.findall(block.code)]
    files = []
    for args in commands(block):
        for option, value in zip(args, args[1:], strict=False):
            if option in OUTPUT_OPTIONS:
                files.append(value)
                if option == "--report" or (option in ("-o", "--output") and args[1] == "evaluate"):
                    files.append(str(Path(value).with_suffix(".json")))
                if option == "--report" and "--epsilon" in args:  # the shareable release sheet
                    files += [str(Path(value).with_suffix(s)) for s in (".release.html", ".release.json")]
                if option in ("-o", "--output") and "--holdout-share" in args:
                    out = Path(value)
                    files.append(str(out.with_name(f"{out.stem}.holdout{out.suffix}")))
    return files
