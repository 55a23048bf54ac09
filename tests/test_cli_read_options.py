"""The same input options on every command that reads a table (issue 18, "what to build").

Listed from the Typer app itself, so that a new command has to be classed here: it either
reads a table (and then takes every input option) or is named as one that reads none.
"""

from __future__ import annotations

import typer

from lookalike.cli import app

#: how a table is read: every command that reads one takes all of these
INPUT_OPTIONS = ("--table", "--query", "--drop", "--encoding", "--delimiter", "--decimal",
                 "--schema")
#: commands that read no user table: a model file, the ledger, the bundled demo, the registry
READS_NO_TABLE = {"sample", "budget", "demo", "synthesizers"}
#: commands that write synthetic rows to a CSV file take its dialect
OUTPUT_OPTIONS = ("--out-delimiter", "--out-decimal", "--out-encoding")
WRITES_ROWS = {"synth", "sample"}


def _commands() -> dict:
    return typer.main.get_command(app).commands


def test_every_command_is_classed():
    assert set(_commands()) >= {"inspect", "fit", "synth", "evaluate", "audit", "report"}
    unclassed = [name for name, cmd in _commands().items() if name not in READS_NO_TABLE
                 and not any(p.param_type_name == "argument" and p.name in ("data", "real")
                             for p in cmd.params)]
    assert not unclassed, (f"commands {unclassed} neither read a table (argument DATA or REAL) "
                           "nor are listed in READS_NO_TABLE")


def test_every_reading_command_takes_every_input_option():
    missing = {}
    for name, cmd in _commands().items():
        if name in READS_NO_TABLE:
            continue
        opts = {o for p in cmd.params for o in p.opts}
        lacking = [o for o in INPUT_OPTIONS if o not in opts]
        if lacking:
            missing[name] = lacking
    assert not missing, f"reading commands lack input options: {missing}"


def test_every_command_writing_rows_takes_the_output_dialect():
    for name in WRITES_ROWS:
        opts = {o for p in _commands()[name].params for o in p.opts}
        assert set(OUTPUT_OPTIONS) <= opts, (name, sorted(set(OUTPUT_OPTIONS) - opts))


def test_the_help_of_decimal_says_what_it_reads(cli):
    for name in ("inspect", "synth", "report"):
        result = cli(name, "--help")
        assert result.exit_code == 0
        assert "--decimal" in result.output and "96,87" in result.output
