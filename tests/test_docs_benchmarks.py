"""Every benchmark command the README and the docs name runs as written (issue 21).

What is checked, in README.md and docs/**/*.md:

* Commands: ``[.venv/bin/]python benchmarks/NAME.py ARGS`` in a fenced code block or an inline
  code span (a trailing ``\\`` continues a block's line, a ``# comment`` ends it; a span may run
  over a line break), and an inline span that starts with ``benchmarks/NAME.py`` and goes on
  with arguments. For each: the script exists and its own argparse parser accepts the
  arguments. Usage synopses are not run: a command with a token in square brackets (``[--seed
  0]``, ``[...]``), angle brackets (``<path>``), ``...``, ``|`` or an all-capitals placeholder
  (``NAME``, ``PATH``, ``A B``, ``N``) is reported as skipped, with its text.
* Mentions: every other ``benchmarks/NAME.py`` (in prose or a span without arguments) exists.
* Results files: every ``benchmarks/results/FILE.json`` or ``.md`` named anywhere, and every bare
  ``FILE.json`` span of docs/benchmarks/*.md (``spark_scale_1m.json``), is in benchmarks/results/.

How the arguments are checked without running a benchmark: one child process (``RUNNER``)
patches ``argparse.ArgumentParser.parse_args`` to parse as usual and then stop the script, and
runs each script with ``runpy`` as ``__main__``, with the command's argv and benchmarks/ first on
``sys.path`` (as ``python benchmarks/NAME.py`` has it), from the repository root. A command
passes only if its script reached ``parse_args`` and the parse succeeded. Everything else fails
with the reason: argparse's own error (exit 2), a script that cannot be imported (a module it
imports at the top is missing: nothing is skipped for that), one that exits or raises before it
parses, and one with no ``parse_args`` at all (not run: it would run the benchmark). Checks a
script makes after ``parse_args`` (its own ``parser.error`` calls) are not covered.
``LOOKALIKE_SHARED`` points at a folder that does not exist, so no dataset is needed: every
script parses before it reads data. A deliberately wrong command (``BAD``) runs in the same
batch and must fail, so the check cannot pass vacuously.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
RESULTS = BENCHMARKS / "results"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.M | re.S)
SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
PYTHON_COMMAND = re.compile(r"(?<![\w/.-])(?:\S*/)?python3?\s+(benchmarks/[\w.-]+\.py)\b(.*)", re.S)
SCRIPT = re.compile(r"(?<![\w/.-])benchmarks/[\w.-]+\.py\b")
RESULTS_PATH = re.compile(r"(?<![\w/.-])benchmarks/results/[\w.-]+\.(?:json|md)\b")
BARE_JSON = re.compile(r"^[\w.-]+\.json$")
PLACEHOLDER = re.compile(r"^[A-Z][A-Z0-9_]*$")


@dataclass(frozen=True)
class Command:
    """A benchmark command written in a doc: where, the script (relative path) and its argv."""

    doc: str
    line: int
    script: str
    args: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join([self.script, *self.args])

    @property
    def synopsis(self) -> str | None:
        """Why the command is a usage synopsis rather than a command to check, or None."""
        for arg in self.args:
            if (arg.startswith(("[", "<")) or (arg.endswith("]") and "[" not in arg)
                    or arg.endswith(">") or "..." in arg or "…" in arg or arg == "|"
                    or PLACEHOLDER.match(arg)):
                return f"usage synopsis ({arg!r} is a placeholder): {self.text}"
        return None


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _split(doc: str, line: int, rest: str) -> tuple[str, ...]:
    try:
        return tuple(shlex.split(rest, comments=True))
    except ValueError as err:  # an unbalanced quote: report it as the command's failure
        raise AssertionError(f"{doc}:{line}: cannot split {rest!r}: {err}") from err


def scan(text: str, doc: str) -> tuple[list[Command], list[tuple[str, int, str]]]:
    """The commands of a Markdown text, and every ``benchmarks/...`` file it names (doc, line,
    path relative to the repository root; bare results names already resolved)."""
    commands: list[Command] = []
    files: list[tuple[str, int, str]] = []
    # fenced blocks: logical lines (continuations joined), each may hold a command
    prose = text
    for block in FENCE.finditer(text):
        start = _line_of(text, block.start(2))
        body = block.group(2)
        lines = body.split("\n")
        i = 0
        while i < len(lines):
            first, logical = i, lines[i]
            while logical.rstrip().endswith("\\") and i + 1 < len(lines):
                i += 1
                logical = logical.rstrip()[:-1] + " " + lines[i]
            i += 1
            match = PYTHON_COMMAND.search(logical)
            if match:
                where = start + first
                args = _split(doc, where, match.group(2))
                commands.append(Command(doc, where, match.group(1), args))
        # blank the block out (keeping its line breaks) so that spans are looked for in prose only
        blank = re.sub(r"[^\n]", " ", block.group(0))
        prose = prose[: block.start()] + blank + prose[block.end():]
    for span in SPAN.finditer(prose):
        code = span.group(2)
        if "\n\n" in code:  # not a span: a stray backtick matched across paragraphs
            continue
        code = " ".join(code.split())
        where = _line_of(prose, span.start())
        match = PYTHON_COMMAND.search(code)
        if match:
            commands.append(Command(doc, where, match.group(1), _split(doc, where, match.group(2))))
        elif code.startswith("benchmarks/") and " " in code and SCRIPT.match(code):
            script, rest = code.split(" ", 1)
            commands.append(Command(doc, where, script, _split(doc, where, rest)))
        elif doc.startswith("docs/benchmarks/") and BARE_JSON.match(code):
            files.append((doc, where, f"benchmarks/results/{code}"))
    for pattern in (SCRIPT, RESULTS_PATH):
        for match in pattern.finditer(text):
            files.append((doc, _line_of(text, match.start()), match.group(0)))
    return commands, files


def _scan_docs() -> tuple[list[Command], list[tuple[str, int, str]]]:
    commands, files = [], []
    for path in DOCS:
        found, named = scan(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
        commands += found
        files += named
    return commands, files


COMMANDS, FILES = _scan_docs()
CONCRETE = [c for c in COMMANDS if c.synopsis is None]
# a command every parser must refuse: the negative control of the batch
BAD = Command("(control)", 0, "benchmarks/dp_sample_speed.py", ("--no-such-option", "1"))

RUNNER = r"""
import argparse, contextlib, io, json, os, runpy, sys, traceback

class Parsed(BaseException):
    pass

original = argparse.ArgumentParser.parse_args
parsing = []

def parse_then_stop(self, args=None, namespace=None):
    parsing.append(True)
    original(self, args, namespace)
    raise Parsed

argparse.ArgumentParser.parse_args = parse_then_stop
root, commands, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
path, environ = list(sys.path), dict(os.environ)
results = []
for script, args in commands:
    sys.argv = [script, *args]
    sys.path[:] = [os.path.join(root, os.path.dirname(script)), *path]
    captured = io.StringIO()
    parsing.clear()
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            runpy.run_path(os.path.join(root, script), run_name="__main__")
        results.append([False, "ran to its end without calling ArgumentParser.parse_args"])
    except Parsed:
        results.append([True, ""])
    except SystemExit as exc:
        what = ("its parser refused the arguments" if parsing
                else "it exited before it parsed its arguments")
        results.append([False, f"{what} (exit {exc.code!r}): " + captured.getvalue()[-1500:]])
    except BaseException:
        results.append([False, "raised before its arguments were parsed: "
                               + traceback.format_exc()[-1500:] + captured.getvalue()[-500:]])
    os.environ.clear()
    os.environ.update(environ)
    os.chdir(root)
with open(out, "w") as handle:
    json.dump(results, handle)
"""


def _calls_parse_args(script: Path) -> bool:
    tree = ast.parse(script.read_text(encoding="utf-8"))
    return any(isinstance(node, ast.Attribute) and node.attr == "parse_args"
               for node in ast.walk(tree))


@pytest.fixture(scope="module")
def parsed(tmp_path_factory) -> dict[Command, tuple[bool, str]]:
    """Each concrete command (and BAD) checked against its script's parser, in one process."""
    todo, verdicts = [], {}
    for command in [*dict.fromkeys(CONCRETE), BAD]:
        script = ROOT / command.script
        if not script.is_file():
            verdicts[command] = (False, f"{command.script} does not exist")
        elif not _calls_parse_args(script):
            verdicts[command] = (False, f"{command.script} has no argparse parse_args call: "
                                        "its arguments cannot be checked without running it")
        else:
            todo.append(command)
    tmp = tmp_path_factory.mktemp("docs_benchmarks")
    out = tmp / "results.json"
    env = {**os.environ, "LOOKALIKE_SHARED": str(tmp / "no-shared"),
           "LOOKALIKE_HOME": str(tmp / "home"), "PYTHONDONTWRITEBYTECODE": "1"}
    argv = json.dumps([[c.script, list(c.args)] for c in todo])
    run = subprocess.run([sys.executable, "-c", RUNNER, str(ROOT), argv, str(out)], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and out.exists(), (
        f"the argument checker itself failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
    for command, (ok, why) in zip(todo, json.loads(out.read_text()), strict=True):
        verdicts[command] = (ok, why)
    return verdicts


def test_the_docs_name_benchmark_commands() -> None:
    """The scan finds what it is meant to: without this, a broken pattern would pass silently."""
    docs = {c.doc for c in CONCRETE}
    assert {"docs/benchmarks/index.md", "docs/benchmarks/many_tables.md"} <= docs, docs
    assert len(CONCRETE) >= 20, [c.text for c in CONCRETE]
    assert any(c.script == "benchmarks/spark_scale.py" and "--json" in c.args for c in CONCRETE)


def test_the_checker_refuses_a_wrong_argument(parsed) -> None:
    ok, why = parsed[BAD]
    assert not ok and "unrecognized arguments: --no-such-option" in why, why


@pytest.mark.parametrize(
    "command", COMMANDS, ids=[f"{c.doc}:{c.line}:{c.text[:80]}" for c in COMMANDS])
def test_benchmark_command_parses(command: Command, parsed) -> None:
    if command.synopsis:
        pytest.skip(command.synopsis)
    ok, why = parsed[command]
    assert ok, f"{command.doc}:{command.line}: `{command.text}` cannot run as written: {why}"


@pytest.mark.parametrize("named", FILES, ids=[f"{d}:{n}:{f}" for d, n, f in FILES])
def test_named_benchmark_file_exists(named: tuple[str, int, str]) -> None:
    doc, line, name = named
    assert (ROOT / name).is_file(), f"{doc}:{line}: {name} does not exist"


def test_scan_joins_lines_and_tells_synopses() -> None:
    text = (
        "Run `python benchmarks/a.py --x 1\n--y 2` then `benchmarks/b.py fit --n 3`, see\n"
        "`benchmarks/c.py` and `c_1m.json`.\n\n"
        "```sh\n.venv/bin/python benchmarks/d.py --rows 10 \\\n  --json out.json  # note\n"
        "python benchmarks/e.py [--seed 0] --only NAME\n```\n"
    )
    commands, files = scan(text, "docs/benchmarks/x.md")
    assert [(c.line, c.script, c.args) for c in commands] == [
        (6, "benchmarks/d.py", ("--rows", "10", "--json", "out.json")),
        (8, "benchmarks/e.py", ("[--seed", "0]", "--only", "NAME")),
        (1, "benchmarks/a.py", ("--x", "1", "--y", "2")),
        (2, "benchmarks/b.py", ("fit", "--n", "3")),
    ]
    assert [c.synopsis is None for c in commands] == [True, False, True, True]
    assert Command("x", 1, "benchmarks/s.py", ("--master", "local[2]")).synopsis is None
    assert ("docs/benchmarks/x.md", 3, "benchmarks/results/c_1m.json") in files
    assert ("docs/benchmarks/x.md", 3, "benchmarks/c.py") in files
