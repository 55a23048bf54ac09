"""The ``lookalike`` command: a thin shell over the Python API.

Each command parses its options, calls one library function and prints the result. Library
errors become one red line on stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lookalike._files import check_writable
from lookalike._progress import set_quiet
from lookalike._version import __version__
from lookalike.api import load_data
from lookalike.errors import ColumnMismatchError, ConditionError, ConfigError, LookalikeError
from lookalike.io import read_table, write_table
from lookalike.schema import resolve_schema
from lookalike.synthesizers import available, get_synthesizer, load_synthesizer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="lookalike: privacy-preserving synthetic tabular data. "
    "Fit a model of a table, sample synthetic rows, and measure them.",
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

# ---------------------------------------------------------------- shared options
Table_ = Annotated[str | None, typer.Option(
    "--table", help="Table to read from a DuckDB/SQL source, or (--engine spark) a table of the "
    "Spark catalog (db.table; then leave DATA out).")]
DataArg = Annotated[str | None, typer.Argument(
    help="Input: CSV/Parquet/DuckDB file or SQLAlchemy URL (left out with --engine spark "
    "--table db.t).", show_default=False)]
EngineOpt = Annotated[str | None, typer.Option(
    "--engine", help="Where mst, aim and privbayes count the rows: numpy (in memory), duckdb (the "
    "file stays in DuckDB), spark (the rows stay in Spark: Parquet/CSV paths or --table), or "
    "auto (default: DuckDB for files over 1 GB).")]
SparkMaster = Annotated[str | None, typer.Option(
    "--spark-master", help="Spark master for --engine spark (default local[*]; e.g. "
    "spark://host:7077, yarn, k8s://...).")]
SparkConf = Annotated[list[str] | None, typer.Option(
    "--spark-conf", help="A Spark setting KEY=VALUE for --engine spark "
    "(e.g. spark.executor.memory=8g); repeat for several.")]
Query = Annotated[str | None, typer.Option("--query", help="SQL query to read from a DuckDB/SQL source.")]
Encoding = Annotated[
    str | None,
    typer.Option("--encoding", help="Text encoding of a CSV file (default: UTF-8; 'detect' to guess)."),
]
Delimiter = Annotated[
    str | None, typer.Option("--delimiter", help="CSV field delimiter (default: detected).")
]
Decimal = Annotated[
    str | None,
    typer.Option("--decimal", metavar="SEP",
                 help="Decimal separator of numbers in a CSV file: '.' (default) or ',' (96,87 is "
                 "96.87; usually with --delimiter ';'). Also applies to --holdout and SYNTHETIC."),
]
OutDelimiter = Annotated[
    str | None,
    typer.Option("--out-delimiter", metavar="SEP",
                 help="Field delimiter of a CSV output (default ',', a tab for .tsv; the input's "
                 "when it had a decimal comma)."),
]
OutDecimal = Annotated[
    str | None,
    typer.Option("--out-decimal", metavar="SEP",
                 help="Decimal separator of a CSV output: '.' or ',' (default: the input's)."),
]
OutEncoding = Annotated[
    str | None,
    typer.Option("--out-encoding",
                 help="Text encoding of a CSV output (default UTF-8; 'utf-8-sig' for Excel, or "
                 "e.g. cp1252)."),
]
Drop = Annotated[
    list[str] | None,
    typer.Option("--drop", help="Column to leave out before modelling; repeat for several."),
]
SchemaOpt = Annotated[
    Path | None,
    typer.Option(
        "--schema",
        help="Schema JSON (from 'lookalike inspect', edited); its facts count as declared.",
    ),
]
Seed = Annotated[int | None, typer.Option(
    "--seed", help="Random seed; equal seeds give equal output, but for the noise of a DP fit "
                   "(drawn from the system's secure randomness, never from a seed).")]
Overwrite = Annotated[
    bool, typer.Option("--overwrite", help="Replace output files that already exist.")
]
Epsilon = Annotated[
    float | None,
    typer.Option(
        "--epsilon",
        help="Fit with (epsilon, delta)-differential privacy (DP synthesizers: mst, aim, privbayes); "
        "the spend is charged to the dataset's budget in the privacy ledger.",
    ),
]
Delta = Annotated[float | None, typer.Option("--delta", help="Delta of a DP fit (default 1e-9).")]
Dataset = Annotated[
    str | None,
    typer.Option(
        "--dataset",
        help="Name the privacy budget is kept under in the ledger (default: the input file's name). "
        "A new name is registered with this fit's (epsilon, delta) as its limit.",
    ),
]
LedgerOpt = Annotated[
    Path | None,
    typer.Option("--ledger", help="Ledger file (default: $LOOKALIKE_HOME or ~/.lookalike/ledger.sqlite)."),
]
Synth = Annotated[
    str,
    typer.Option("--synthesizer", "-s", help=f"Synthesizer family: one of {', '.join(available())}."),
]
Params = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        "-p",
        metavar="NAME=VALUE",
        help="Hyper-parameter as NAME=VALUE (VALUE read as JSON, else text); repeat for several.",
    ),
]
ReportOpt = Annotated[
    Path | None,
    typer.Option("--report", help="Also evaluate the output and write an HTML report here (JSON beside it)."),
]
ScaleEngine = Annotated[str | None, typer.Option(
    "--engine", help="Measure where the real rows live: duckdb (REAL a CSV/Parquet file) or spark "
    "(a Parquet/CSV path, or - with --table db.t): marginal distances over every real row, the "
    "rest on --sample-rows of them (default: REAL read into memory).")]
SampleRows = Annotated[int, typer.Option(
    "--sample-rows", help="With --engine: real rows drawn (seeded) where they live, for "
    "detection, utility and queries (0: marginal distances only).")]
TargetOpt = Annotated[
    str | None,
    typer.Option("--target", help="Column to measure machine-learning utility on (train on synthetic, test on real)."),
]
HoldoutOpt = Annotated[
    str | None,
    typer.Option("--holdout", help="Real rows the synthesizer never saw, for the utility test."),
]
AuditOpt = Annotated[
    bool,
    typer.Option(
        "--audit",
        help="Also attack the synthetic rows (as 'audit') and put the attacks in the --report: one "
        "report with one verdict (needs real rows the fit never saw: --holdout or --holdout-share).",
    ),
]
HoldoutShare = Annotated[
    float | None,
    typer.Option(
        "--holdout-share", metavar="SHARE",
        help="Set this share of the input's rows aside before fitting (seeded), write them beside "
        "the output as OUTPUT.holdout (real rows: keep them private) and score --report on them.",
    ),
]
Conditions = Annotated[
    list[str] | None,
    typer.Option(
        "--condition",
        "-c",
        metavar="COLUMN=VALUE",
        help="Sample only rows meeting it: COLUMN=VALUE (VALUE may be a JSON list: any of them), "
        "COLUMN=null (a missing value), COLUMN>=VALUE (also >, <=, <) or LOW<=COLUMN<HIGH on "
        "numbers and dates (dob<2000-01-01); repeat for several (all hold). Post-processing "
        "of the model: no privacy cost.",
    ),
]
ConditionTable = Annotated[
    Path | None,
    typer.Option(
        "--conditions",
        metavar="FILE",
        help="CSV of per-row conditions: one synthetic row per row, in order, with the values "
        "it gives (columns: conditioned columns; an empty cell leaves that column free, null "
        "asks for a missing value, >=30 for a range); -n defaults to its row count.",
    ),
]


def _condition_input(items: list[str] | None, table: Path | None) -> tuple[Any, str]:
    """The conditions given on the command line (expressions, or a table read from --conditions)
    and the option to name in errors."""
    from lookalike.synthesizers.conditions import read_condition_table

    if items and table is not None:
        raise ConditionError("give --condition (the same for every row) or --conditions FILE "
                             "(per row), not both; add a column to FILE for a condition on every row")
    if table is not None:
        return read_condition_table(table, f"--conditions {table}"), f"--conditions {table}"
    return (list(items) if items else None), "--condition"


def _read_options(table: str | None, query: str | None, encoding: str | None,
                  delimiter: str | None, decimal: str | None = None) -> dict:
    opts = {"table": table, "query": query, "encoding": encoding, "delimiter": delimiter,
            "decimal": decimal}
    return {k: v for k, v in opts.items() if v is not None}


def _write_options(delimiter: str | None, decimal: str | None, encoding: str | None) -> dict:
    """write_table's CSV options from --out-delimiter, --out-decimal, --out-encoding (checked
    before any work; unset ones follow the input, see write_table)."""
    if decimal not in (None, ".", ","):
        raise ConfigError(f"--out-decimal must be '.' or ',', got {decimal!r}")
    if encoding is not None:
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ConfigError(f"--out-encoding {encoding!r} is not a known encoding; give a Python "
                              "codec name such as utf-8, utf-8-sig (Excel) or cp1252") from None
    if delimiter is not None:
        d = {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)
        if len(d) != 1 or d in "\"\r\n":
            raise ConfigError(f"--out-delimiter {delimiter!r} must be one character such as ',' "
                              "';' '|' or tab")
    opts = {"delimiter": delimiter, "decimal": decimal, "encoding": encoding}
    return {k: v for k, v in opts.items() if v is not None}


def _parse_pairs(items: list[str] | None, option: str) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"{option} expects NAME=VALUE, got {item!r}")
        key, raw = item.split("=", 1)
        try:
            parsed[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            parsed[key.strip()] = raw
    return parsed


def _run(action: Callable[[], None]) -> None:
    """Run a command body; library errors become one line and exit code 1, never a traceback.

    Ctrl-C ends with exit code 130 and one line; anything else unexpected is reported as an
    internal error in one line (exit code 2; set LOOKALIKE_DEBUG=1 for the traceback).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            action()
        except LookalikeError as e:
            _print_warnings(caught)
            _error(str(e))
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            _print_warnings(caught)
            _error("interrupted; no output was written or replaced by the interrupted step")
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as e:
            if os.environ.get("LOOKALIKE_DEBUG"):
                raise
            _print_warnings(caught)
            _error(f"internal error ({type(e).__name__}: {e}); please report it with the command "
                   "that caused it (LOOKALIKE_DEBUG=1 shows the traceback)")
            raise typer.Exit(2) from None
    _print_warnings(caught)


def _error(message: str) -> None:
    err.print("[bold red]error:[/] " + escape(message), highlight=False, soft_wrap=True)


def _q(value: Any) -> str:
    """User text (paths, names) safe inside a rich markup string."""
    return escape(str(value))


def _print_warnings(caught: list) -> None:
    seen = set()
    for w in caught:
        if issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning, FutureWarning,
                                   ResourceWarning)):  # ResourceWarning: py4j's sockets (Spark)
            continue
        msg = str(w.message)
        if msg not in seen:
            seen.add(msg)
            err.print("[yellow]warning:[/] " + escape(msg), highlight=False, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        out.print(f"lookalike {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bars (they also hide when not on a terminal).")
    ] = False,
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = None,
) -> None:
    set_quiet(quiet)


# ---------------------------------------------------------------- inspect
@app.command()
def inspect(
    data: Annotated[str, typer.Argument(help="Input: CSV/Parquet/DuckDB file or SQLAlchemy URL.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where to write the schema JSON (default: DATA_STEM.schema.json here)."),
    ] = None,
    schema: Annotated[
        Path | None,
        typer.Option(
            "--schema",
            help="Schema JSON to refine (an edited 'lookalike inspect' output, or a partial one): "
            "its facts are kept as declared, the rest is inferred, as 'synth --schema' does.",
        ),
    ] = None,
    epsilon: Annotated[
        float, typer.Option("--epsilon", help="Epsilon of the DP plan printed (nothing is spent).")
    ] = 1.0,
    delta: Delta = None,
    synthesizer: Annotated[
        str,
        typer.Option("--synthesizer", "-s",
                     help="DP synthesizer the plan is for (mst, aim, privbayes, dpctgan, dptvae, pategan)."),
    ] = "mst",
    param: Params = None,
    drop: Drop = None,
    table: Table_ = None,
    query: Query = None,
    encoding: Encoding = None,
    delimiter: Delimiter = None,
    decimal: Decimal = None,
    engine: Annotated[str | None, typer.Option(
        "--engine", help="Infer where the rows live: duckdb (DATA a CSV/Parquet file) or spark (a "
        "Parquet/CSV path, or - with --table db.t); only counts come back (default: DATA read "
        "into memory).")] = None,
    spark_master: SparkMaster = None,
    spark_conf: SparkConf = None,
    overwrite: Overwrite = False,
) -> None:
    """Infer the schema of DATA (or refine --schema), print it with the plan of a DP fit, and
    write it as editable JSON.

    The DP plan says, per column, which facts are declared (free) and which a DP fit must
    discover (categories, bins), what share of the budget that takes at --epsilon, which
    categories and value ranges it can find on a table this size, and what declaring them
    would change. It uses the exact row count (inspect is a local tool that spends nothing);
    a DP fit sizes discovery from a noisy count. With --engine duckdb or spark the schema is
    inferred where the rows live, as a fit with that engine infers it (kinds and formats; no
    categories or bounds, which a DP fit discovers)."""

    def body() -> None:
        from lookalike.privacy.budget import privacy_request
        from lookalike.synthesizers.dp_plan import check_discoverable, plan_dp_fit

        model = get_synthesizer(synthesizer, **_parse_pairs(param, "--param"))
        if not model.supports_dp:
            raise ConfigError(f"the DP plan is for a DP synthesizer; {synthesizer!r} has no DP "
                              "form: choose one of mst, aim, privbayes, dpctgan, dptvae, pategan (-s)")
        privacy_request(epsilon, delta, family=model.name, supports_dp=True)
        target = output or Path(f"{_stem(table or data)}.schema.json")
        check_writable(target, overwrite=overwrite)
        options = _read_options(table, query, encoding, delimiter, decimal)
        if engine is not None:
            refined, n_rows, missing = _inspect_at_source(
                data, engine, schema, drop or [], options, spark_master, spark_conf)
        else:
            if spark_master is not None or spark_conf:
                raise ConfigError("--spark-master and --spark-conf apply to --engine spark")
            df = load_data(data, drop=drop or (), read_options=options)
            refined = _refine(df, schema, drop or [])
            n_rows, missing = len(df), {c.name: int(df[c.name].isna().sum()) for c in refined}
        grid = Table(title=f"{table or data}: {n_rows:,} rows × {len(refined.names)} columns")
        for head in ("column", "kind", "missing", "domain", "source"):
            grid.add_column(head)
        for col in refined:
            n_missing = missing[col.name]
            grid.add_row(
                col.name,
                col.kind.value,
                f"{n_missing:,}" if n_missing else "",
                _domain_text(col),
                _source_text(col),
            )
        out.print(grid)
        plan = plan_dp_fit(model, refined, epsilon=epsilon, delta=delta, n_rows=n_rows)
        _print_plan_table(plan)
        given = f"--schema {schema}" if schema is not None else "no --schema"
        out.print(f"  this plan is for a DP fit given {_q(given)}; given the file written here, "
                  "every fact it states counts as declared", highlight=False)
        for message in plan.warnings:
            _warn_now(message)
        try:  # what synth and fit would say before spending anything
            check_discoverable(model, refined, epsilon=plan.epsilon, delta=delta, n_rows=n_rows)
        except ConfigError as refusal:
            _warn_now(f"a DP fit as planned would be refused: {refusal}")
        refined.save(target, overwrite=overwrite)
        out.print(f"schema written to [bold]{_q(target)}[/] (edit it, then pass it with --schema)")

    _run(body)


def _inspect_at_source(data: str, engine: str, schema: Path | None, drop: list[str],
                      options: dict, master: str | None, conf: list[str] | None
                      ) -> tuple[Any, int, dict[str, int]]:
    """(schema, rows, missing values per column) of DATA left where it lives (``inspect
    --engine``): the schema a fit with that engine infers, refined by --schema as
    :func:`_refine` does (declared facts kept; a column whose kind is declared other than
    inferred is taken as declared); only aggregates come back."""
    from lookalike.schema import as_schema, with_declared

    source, _ = _scale_source(data, engine, 0, None, drop, master, conf, options)
    if engine == "duckdb":
        from lookalike.marginals.duckdb import DuckDBEngine

        counts: Any = DuckDBEngine(source, drop=drop)
    else:
        from lookalike.marginals.spark import SparkEngine

        counts = SparkEngine(source, drop=drop)
    with counts:
        inferred, missing = counts.schema, counts.missing_counts()
        n_rows = inferred.n_rows if inferred.n_rows is not None else counts.n_rows()
    if schema is None:
        return inferred, n_rows, missing
    given = as_schema(schema)
    unknown = [c for c in given.names if c not in inferred.names and c not in drop]
    if unknown:
        raise ColumnMismatchError(f"--schema {schema} names columns that the data lacks: "
                                  f"{unknown}; columns: {inferred.names}")
    return with_declared(inferred, given), n_rows, missing


def _refine(df: pd.DataFrame, schema: Path | None, drop: list[str]):
    """The schema ``synth --schema`` would model ``df`` with: the given facts kept as declared,
    the rest inferred from the data (marked "data"). Columns of the given schema that --drop
    left out are left out of it; a column the data lacks is an error."""
    from lookalike.schema import Schema, as_schema, infer_schema

    if schema is None:
        return infer_schema(df)
    given = as_schema(schema)
    unknown = [c for c in given.names if c not in df.columns and c not in drop]
    if unknown:
        raise ColumnMismatchError(f"--schema {schema} names columns that the data lacks: {unknown}; "
                                  f"columns: {list(df.columns)}")
    kept = Schema(tuple(c for c in given.columns if c.name in df.columns), given.n_rows,
                  given.n_rows_source)
    return resolve_schema(df, kept)


def _source_text(col) -> str:
    """Where a column's facts come from: "declared", "data", or which facts are which."""
    facts = {f: s for f, s in col.sources.items() if getattr(col, f, None) is not None}
    declared = [f for f, s in facts.items() if s == "declared"]
    other = [f for f, s in facts.items() if s != "declared"]
    if not other:
        return "declared"
    if not declared:
        return "data"
    return f"declared: {', '.join(declared)}; data: {', '.join(other)}"


def _print_plan_table(plan) -> None:
    """The DP plan, column by column, then its summary (inspect)."""
    grid = Table(title=f"DP plan: {plan.synthesizer} at epsilon={plan.epsilon:g}, "
               f"delta={plan.delta:g} on {plan.rows_text}")
    for head in ("column", "declared (free)", "a DP fit discovers", "found if it holds",
                 "declaring would"):
        grid.add_column(head)
    for c in plan.columns:
        rows = "" if c.rows_needed is None else f"~{c.rows_needed:,.0f} rows"
        if c.rows_needed is not None and plan.n_rows:
            rows += f" ({c.rows_needed / plan.n_rows:.0%})"
        grid.add_row(c.name, ", ".join(c.declared), ", ".join(c.discovered), rows, c.declare)
    out.print(grid)
    for line in plan.summary()[1:]:
        out.print(line, markup=False, highlight=False)


def _warn_now(message: str) -> None:
    """A warning printed at once (before a fit), not at the end of the command."""
    err.print("[yellow]warning:[/] " + escape(message), highlight=False, soft_wrap=True)


def _stem(data: str) -> str:
    name = Path(data.split("://")[-1]).name or "table"
    for suffix in (".gz", ".csv", ".tsv", ".txt", ".parquet", ".pq", ".duckdb", ".ddb", ".db"):
        name = name.removesuffix(suffix)
    return name or "table"


def _domain_text(col) -> str:
    if col.categories is not None:
        cats = [str(c) for c in col.categories]
        return f"{len(cats)} categories: " + ", ".join(cats[:4]) + (", …" if len(cats) > 4 else "")
    if col.bounds is not None:
        return f"[{col.bounds[0]}, {col.bounds[1]}]" + (f" ({col.format})" if col.format else "")
    if col.format is not None:
        return f"format {col.format}"
    return ""


# ---------------------------------------------------------------- fit / sample / synth
@app.command()
def fit(
    data: DataArg = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Model file to write.")] = ...,
    synthesizer: Synth = "cart",
    schema: SchemaOpt = None,
    param: Params = None,
    drop: Drop = None,
    seed: Seed = None,
    table: Table_ = None,
    query: Query = None,
    encoding: Encoding = None,
    delimiter: Delimiter = None,
    decimal: Decimal = None,
    epsilon: Epsilon = None,
    delta: Delta = None,
    dataset: Dataset = None,
    ledger: LedgerOpt = None,
    overwrite: Overwrite = False,
    engine: EngineOpt = None,
    spark_master: SparkMaster = None,
    spark_conf: SparkConf = None,
) -> None:
    """Fit a synthesizer to DATA and save the model to one file (no raw rows for DP models)."""

    def body() -> None:
        from lookalike.api import open_input, prepare_fit

        params = _engine_params(synthesizer, engine, spark_master, spark_conf, param, data, table, query,
                                decimal)
        model, request = prepare_fit(synthesizer, **_dp_options(data or table, epsilon, delta,
                                                                dataset, ledger), **params)
        _check_outputs([output], overwrite)
        _start_spark(model, spark_master, spark_conf)
        data_in, schema_in = open_input(model, data, schema=schema, drop=drop or (),
                                        read_options=_read_options(table, query, encoding, delimiter, decimal))
        schema_in, said = _print_dp_plan(model, request, data_in, schema_in)
        with _small_table_said(said):
            model._fit_request(data_in, schema_in, request, seed)
        model.save(output, overwrite=overwrite)
        out.print(
            f"fitted [bold]{_q(synthesizer)}[/] on {_rows_text(model)} in {model.fit_seconds_:.1f} s; "
            f"model written to [bold]{_q(output)}[/]"
        )
        _print_guarantee(model)

    _run(body)


@app.command()
def sample(
    model: Annotated[Path, typer.Argument(help="Model file written by 'lookalike fit'.")],
    output: Annotated[str, typer.Option(
        "--output", "-o", help="Output file (.csv, .csv.gz or .parquet); with --engine spark a "
        "folder of Parquet parts (a local path or a URL Spark writes, e.g. s3a://...).")],
    n: Annotated[int | None, typer.Option(
        "-n", "--rows", help="Number of rows to sample (a positive integer; with --conditions, "
        "its row count).")] = None,
    condition: Conditions = None,
    conditions_file: ConditionTable = None,
    seed: Seed = None,
    chunk_rows: Annotated[int, typer.Option(
        "--chunk-rows", metavar="ROWS",
        help="Rows drawn and written at a time: memory holds one chunk whatever -n is. Chunk "
        "i has a seed of its own derived from --seed, so the output depends on --seed and "
        "--chunk-rows (up to ROWS rows: the same as one sample).")] = 1_000_000,
    jobs: Annotated[int | None, typer.Option(
        "--jobs", "-j", metavar="THREADS",
        help="Threads drawing chunks while the output is written (default: for Parquet one "
        "per CPU core, up to 4; for CSV 1, as pandas writes the text under Python's global "
        "lock). The output is the same for any number; memory holds up to THREADS + 1 "
        "chunks.")] = None,
    engine: Annotated[str, typer.Option(
        "--engine", help="local (default: this process writes the file) or spark (the rows are "
        "generated on Spark's executors, --partitions of them in parallel, and written by Spark "
        "as a folder of Parquet parts).")] = "local",
    partitions: Annotated[int | None, typer.Option(
        "--partitions", help="Spark partitions for --engine spark, each drawing its share of "
        "the rows from a seed of its own (default: one per --chunk-rows rows); the output "
        "depends on --seed, --partitions and --chunk-rows, not on the cluster.")] = None,
    spark_master: SparkMaster = None,
    spark_conf: SparkConf = None,
    out_delimiter: OutDelimiter = None,
    out_decimal: OutDecimal = None,
    out_encoding: OutEncoding = None,
    overwrite: Overwrite = False,
) -> None:
    """Sample N synthetic rows from a saved model, streamed to the output in chunks (a CSV
    output is written as the model's input was: with its decimal comma and delimiter, unless
    --out-decimal/--out-delimiter). Sampling reads no data and spends no privacy budget."""

    def body() -> None:
        if n is not None and n < 1:
            raise ConfigError(f"-n must be a positive number of rows, got {n}")
        if n is None and conditions_file is None:
            raise ConfigError("give the number of rows to sample (-n), or a table of per-row "
                              "conditions (--conditions FILE)")
        if chunk_rows < 1:
            raise ConfigError(f"--chunk-rows must be a positive number of rows, got {chunk_rows}")
        if jobs is not None and jobs < 1:
            raise ConfigError(f"--jobs must be a positive number of threads, got {jobs}")
        written = _write_options(out_delimiter, out_decimal, out_encoding)
        if engine == "spark":
            if jobs is not None:
                raise ConfigError("--jobs applies to --engine local; with --engine spark the "
                                  "executors draw in parallel (--partitions)")
            _sample_on_spark(model, output, n, condition, conditions_file, seed, chunk_rows,
                             partitions, spark_master, spark_conf, written, overwrite)
            return
        if engine != "local":
            raise ConfigError(f"--engine {engine!r} is not a sampling engine: choose local (this "
                              "process writes the file) or spark (a folder of Parquet parts)")
        if partitions is not None or spark_master is not None or spark_conf:
            raise ConfigError("--partitions, --spark-master and --spark-conf apply to "
                              "--engine spark")
        from lookalike.synthesizers import sample_to_file

        target = Path(output)
        check_writable(target, overwrite=overwrite)
        synth = load_synthesizer(model)
        given, option = _condition_input(condition, conditions_file)
        plan = synth._parse_conditions(given, option)
        if plan.per_row:  # one row per table row: a sample of the table's size
            rows = synth.sample(n, conditions=plan, seed=seed)
            write_table(rows, target, overwrite=overwrite, schema=synth.schema_, **written)
            count = len(rows)
        else:
            sample_to_file(synth, target, n, seed=seed, conditions=plan, chunk_rows=chunk_rows,
                           workers=jobs, overwrite=overwrite, **written)
            count = n
        out.print(f"{count:,} synthetic rows written to [bold]{_q(target)}[/]")

    _run(body)


def _sample_on_spark(model: Path, output: str, n: int | None, condition: list[str] | None,
                     conditions_file: Path | None, seed: int | None, chunk_rows: int,
                     partitions: int | None, master: str | None, conf: list[str] | None,
                     written: dict, overwrite: bool) -> None:
    """``lookalike sample --engine spark``: every option checked, then the model loaded, the
    session started and the rows written by Spark as a folder of Parquet parts."""
    from lookalike.errors import OutputExistsError
    from lookalike.marginals.spark import spark_session

    if conditions_file is not None:
        raise ConfigError("--conditions FILE gives one row per table row in one sample; with "
                          "--engine spark give conditions for every row (--condition), or leave "
                          "--engine spark out")
    if written:
        raise ConfigError("--out-delimiter, --out-decimal and --out-encoding apply to CSV "
                          "outputs; --engine spark writes Parquet")
    if partitions is not None and partitions < 1:
        raise ConfigError(f"--partitions must be a positive number, got {partitions}")
    if output.lower().rstrip("/").endswith((".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt")):
        raise ConfigError(f"--engine spark writes a folder of Parquet parts, not {output}: give "
                          "a folder path (e.g. synthetic.parquet), or leave --engine spark out "
                          "for one CSV file")
    remote = "://" in output
    if not remote and Path(output).exists() and not overwrite:
        raise OutputExistsError(f"{output} already exists; choose another output folder or pass "
                                "--overwrite to replace it")
    settings = {k: str(v) for k, v in _parse_pairs(conf, "--spark-conf").items()}
    synth = load_synthesizer(model)
    plan = synth._parse_conditions(list(condition) if condition else None, "--condition")
    session = spark_session(master, settings)
    session.sparkContext.setLogLevel("ERROR")
    _write_on_spark(synth, output, n, plan, seed, chunk_rows, partitions, overwrite, session)


def _write_on_spark(synth: Any, output: str, n: int, plan: Any, seed: Any, chunk_rows: int,
                    partitions: int | None, overwrite: bool, session: Any = None) -> None:
    """Generate ``n`` rows on Spark's executors and let Spark write them as a folder of
    Parquet parts at ``output`` (a path or a URL); no row comes to the driver."""
    from lookalike.errors import OutputExistsError
    from lookalike.synthesizers import sample_spark

    remote = "://" in output
    df = sample_spark(synth, n, spark=session, partitions=partitions, seed=seed,
                      conditions=plan, chunk_rows=chunk_rows)
    path = output if remote else str(Path(output).resolve())
    try:
        df.write.mode("overwrite" if overwrite else "errorifexists").parquet(path)
    except Exception as e:
        if "PATH_ALREADY_EXISTS" in str(e):
            raise OutputExistsError(f"{output} already exists; choose another output folder or "
                                    "pass --overwrite to replace it") from None
        raise
    parts = df.rdd.getNumPartitions()
    out.print(f"{n:,} synthetic rows written to [bold]{_q(output)}[/] by Spark "
              f"({parts} partition{'s' if parts != 1 else ''})")


@app.command()
def synth(
    data: DataArg = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Output file (.csv, .csv.gz or .parquet).")] = ...,
    n: Annotated[
        int | None, typer.Option("-n", "--rows", help="Rows to sample (default: as many as the input).")
    ] = None,
    synthesizer: Synth = "cart",
    schema: SchemaOpt = None,
    param: Params = None,
    condition: Conditions = None,
    conditions_file: ConditionTable = None,
    drop: Drop = None,
    model_out: Annotated[
        Path | None, typer.Option("--model-out", help="Also save the fitted model to this file.")
    ] = None,
    report: ReportOpt = None,
    target: TargetOpt = None,
    holdout: HoldoutOpt = None,
    holdout_share: HoldoutShare = None,
    audit: AuditOpt = False,
    seed: Seed = None,
    table: Table_ = None,
    query: Query = None,
    encoding: Encoding = None,
    delimiter: Delimiter = None,
    decimal: Decimal = None,
    out_delimiter: OutDelimiter = None,
    out_decimal: OutDecimal = None,
    out_encoding: OutEncoding = None,
    epsilon: Epsilon = None,
    delta: Delta = None,
    dataset: Dataset = None,
    ledger: LedgerOpt = None,
    overwrite: Overwrite = False,
    engine: EngineOpt = None,
    spark_master: SparkMaster = None,
    spark_conf: SparkConf = None,
    dp_utility: Annotated[float | None, typer.Option(
        "--dp-utility-epsilon", help="With --epsilon and --report: also answer each column's "
        "1-way distribution on the real rows under DP at this epsilon (charged to the same "
        "budget) and show it beside the synthetic rows' answers on the release sheet.")] = None,
    dp_utility_query: Annotated[list[str] | None, typer.Option(
        "--dp-utility-query", help="An aggregate SQL query (as 'lookalike query' takes) to add "
        "to the DP utility check; repeat for several. Its groups and bounds come from the "
        "model's released domain where it names a column.")] = None,
) -> None:
    """Fit a synthesizer to DATA and write synthetic rows in one go (optionally a report).

    A CSV output is written as DATA was (its decimal comma and delimiter) unless
    --out-decimal/--out-delimiter say otherwise."""

    def body() -> None:
        _synth(
            data, output, n, synthesizer, schema,
            _engine_params(synthesizer, engine, spark_master, spark_conf, param, data, table, query,
                                decimal),
            _condition_input(condition, conditions_file), drop or (), model_out, seed,
            _read_options(table, query, encoding, delimiter, decimal), overwrite,
            report=report, target=target, holdout=holdout, holdout_share=holdout_share,
            audit=audit, dp=_dp_options(data or table, epsilon, delta, dataset, ledger),
            spark=(spark_master, spark_conf),
            written=_write_options(out_delimiter, out_decimal, out_encoding),
            dp_utility=(dp_utility, list(dp_utility_query or ())),
        )

    _run(body)


def _synth(data, output, n, synthesizer, schema, params, conditions, drop, model_out, seed,
           read_options, overwrite, *, report=None, target=None, holdout=None,
           holdout_share=None, audit=False, dp=None, written=None, spark=(None, None),
           dp_utility=None) -> None:
    """validate → check the budget → read → check columns → reserve and fit → sample → write.

    Everything checkable before the DP charge is checked before it: options, hyper-parameters,
    the budget, every output path, then (from the data read) the target, holdout and condition
    columns. Outputs are written only once everything is computed; if one fails, those already
    written by this run are removed.
    """
    from lookalike._rng import as_rng
    from lookalike.api import open_input, prepare_fit

    if n is not None and n < 1:
        raise ConfigError(f"-n must be a positive number of rows, got {n}")
    held = _holdout_path(output) if holdout_share is not None else None
    if holdout_share is not None:
        if not 0 < holdout_share <= 0.5:
            raise ConfigError(f"--holdout-share must be above 0 and at most 0.5, got {holdout_share}")
        if holdout is not None:
            raise ConfigError("give --holdout (rows you set aside) or --holdout-share (set aside "
                              "now), not both")
    model, request = prepare_fit(synthesizer, **(dp or {}), **params)
    on_spark = getattr(model, "engine", None) == "spark"
    spark_parts = (on_spark and not str(output).lower().endswith(_CSV_OUT)  # a Parquet folder
                   and not isinstance(conditions[0] if isinstance(conditions, tuple) else
                                      conditions, pd.DataFrame))  # (a condition table: one file)
    if on_spark and audit:
        raise ConfigError("--audit attacks with every real row in memory, and --engine spark "
                          "keeps them in Spark: leave --audit out (the report measures in Spark), "
                          "or audit a sample with 'lookalike audit'")
    dp_utility, user_queries = dp_utility if isinstance(dp_utility, tuple) else (dp_utility, [])
    if user_queries and dp_utility is None:
        raise ConfigError("--dp-utility-query adds to the DP utility check: give "
                          "--dp-utility-epsilon as well")
    if dp_utility is not None:
        from lookalike.query import parse_query

        for text in user_queries:  # refused before anything is read or charged
            parse_query(text)
        _check_dp_utility(dp_utility, request, report, on_spark)
    outputs = [None if spark_parts else output, held, model_out,
               *_report_paths(report, request.dp)]
    _check_outputs(outputs, overwrite)
    if spark_parts and Path(output).exists() and not overwrite and "://" not in str(output):
        from lookalike.errors import OutputExistsError

        raise OutputExistsError(f"{output} already exists; choose another output folder or pass "
                                "--overwrite to replace it")
    _start_spark(model, *spark)
    rng = as_rng(seed)
    data_in, schema_in = open_input(model, data, schema=schema, drop=drop, read_options=read_options)
    columns = _columns_of(data_in, schema_in)
    set_aside = None
    if holdout_share is not None:
        if not isinstance(data_in, pd.DataFrame):
            raise ConfigError(f"--holdout-share needs the rows in memory, and engine="
                              f"{model.engine} keeps them in {model.engine.replace('db', 'DB')}"
                              ": split the data first and give --holdout, or use the default "
                              "engine")
        data_in, set_aside = _split(data_in, holdout_share, seed)
    hold = set_aside
    if report is not None:
        if target is not None and target not in columns:
            raise ColumnMismatchError(f"--target {target!r} is not a column of {data}; columns: {columns}")
        if holdout is not None:
            hold = load_data(holdout, drop=drop, read_options=_text_options(read_options))
            if sorted(hold.columns) != sorted(columns):
                raise ColumnMismatchError(
                    f"--holdout {holdout} has other columns than {data}: missing "
                    f"{sorted(set(columns) - set(hold.columns))}, extra {sorted(set(hold.columns) - set(columns))}"
                )
    elif target is not None or holdout is not None or audit:
        raise ConfigError("--target, --holdout and --audit apply to the report: give --report as well")
    if audit and holdout is None and holdout_share is None:
        raise ConfigError("--audit needs real rows the fit never saw: give --holdout FILE, or "
                          "--holdout-share 0.2 to set them aside now")
    if hold is not None and report is not None and isinstance(data_in, pd.DataFrame):
        from lookalike.evaluate.tables import check_held_out

        check_held_out(data_in, hold)  # before the fit (and any DP charge)
    from lookalike.schema import Schema
    from lookalike.synthesizers.conditions import precheck

    given, option = conditions if isinstance(conditions, tuple) else (conditions, "--condition")
    per_row = isinstance(given, pd.DataFrame)
    if per_row and n is not None and n != len(given):
        raise ConfigError(f"{option} gives one synthetic row per row ({len(given):,} rows), but "
                          f"-n asks for {n:,}; leave -n out or make them equal")
    precheck(given, columns, None, option)

    schema_in, said = _print_dp_plan(model, request, data_in, schema_in)
    if isinstance(schema_in, Schema):  # kinds and declared facts, before any DP charge
        precheck(given, columns, schema_in, option)
    with _small_table_said(said):
        model._fit_request(data_in, schema_in, request, rng)
    plan = model._parse_conditions(given, option)
    if spark_parts:  # generated and written by Spark: a folder of Parquet parts
        with _all_or_nothing([model_out]):
            _write_on_spark(model, str(output), n or model.n_rows_ or model.n_estimate_, plan,
                            rng, 1_000_000, None, overwrite)
            if model_out is not None:
                model.save(model_out, overwrite=overwrite)
                out.print(f"model written to [bold]{_q(model_out)}[/]")
            out.print(f"fitted [bold]{_q(synthesizer)}[/] on {_rows_text(model)} in "
                      f"{model.fit_seconds_:.1f} s")
            _print_guarantee(model)
        if report is not None:  # the written rows stay in Spark: a sample of the model's own
            total = n or model.n_rows_ or model.n_estimate_
            drawn = model.sample(min(total, _REPORT_SYNTHETIC_ROWS), conditions=plan, seed=rng)
            out.print(f"the report compares {len(drawn):,} synthetic rows drawn from the model "
                      f"in memory (of the {total:,} written) with the real rows in Spark",
                      highlight=False)
            _write_report(data_in, drawn, hold, target, report, overwrite, model=model,
                          seed=seed, at_scale=_spark_report(schema_in))
        return
    rows = model.sample(None if per_row else n or model.n_rows_ or model.n_estimate_,
                        conditions=plan, seed=rng)
    at_scale = _spark_report(schema_in) if on_spark else None
    with _all_or_nothing(outputs):
        write_table(rows, output, overwrite=overwrite, schema=model.schema_, **(written or {}))
        if set_aside is not None:  # real rows, written as the input was (its CSV dialect)
            write_table(set_aside, held, overwrite=overwrite, **_text_options(read_options))
            out.print(f"{len(set_aside):,} real rows set aside before fitting, written to "
                      f"[bold]{_q(held)}[/] (real rows: keep them as private as the input)")
        if model_out is not None:
            model.save(model_out, overwrite=overwrite)
            out.print(f"model written to [bold]{_q(model_out)}[/]")
        out.print(
            f"fitted [bold]{_q(synthesizer)}[/] on {_rows_text(model)} in {model.fit_seconds_:.1f} s; "
            f"{len(rows):,} synthetic rows written to [bold]{_q(output)}[/]"
        )
        _print_guarantee(model)
        if report is not None and at_scale is not None:  # the real rows stay in Spark
            _write_report(data_in, rows, hold, target, report, overwrite, model=model, seed=seed,
                          at_scale=at_scale)
        elif report is not None:
            real = data_in if isinstance(data_in, pd.DataFrame) else load_data(
                data, drop=drop, read_options=read_options)
            compared = None
            excluded = [c for c in real.columns if c not in rows.columns]
            if excluded:  # free text the model leaves out: not compared, never an error after a charge
                warnings.warn(f"columns {excluded} are not modelled (free text), so the report "
                              "leaves them out of its comparisons", stacklevel=2)
                real = real.drop(columns=excluded)
                hold = None if hold is None else hold.drop(columns=excluded, errors="ignore")
                from lookalike.schema import Schema

                compared = Schema(tuple(c for c in model.schema_.columns if c.name not in excluded))
            attacks = None
            if audit:
                from lookalike.audit import audit as run_audit

                attacks = run_audit(real, rows, hold, schema=compared or model.schema_,
                                    model=model, seed=seed if seed is not None else 0)
            checked = () if dp_utility is None else _dp_utility_check(
                model, data_in if isinstance(data_in, pd.DataFrame) else data, rows, dp_utility,
                request, read_options, drop, user_queries)
            _write_report(real, rows, hold, target, report, overwrite, model=model, seed=seed,
                          schema=compared, audit=attacks, dp_utility=checked)


def _check_dp_utility(epsilon: float, request, report, on_spark: bool) -> None:
    """--dp-utility-epsilon: a DP fit with a report, not on Spark, and a budget that pays for
    the fit and the check together (refused before anything is read)."""
    from lookalike.privacy.accountant import rho_from_epsilon_delta
    from lookalike.privacy.budget import plan_budget

    if not request.dp or report is None:
        raise ConfigError("--dp-utility-epsilon checks a DP release on its release sheet: give "
                          "--epsilon and --report as well")
    if on_spark:
        raise ConfigError("--dp-utility-epsilon queries the real rows in DuckDB; with --engine "
                          "spark leave it out")
    if not epsilon > 0:
        raise ConfigError(f"--dp-utility-epsilon must be > 0, got {epsilon}")
    rho_fit, delta_disc = plan_budget(request.epsilon, request.delta)
    request.ledger.check(request.dataset, rho=rho_fit + rho_from_epsilon_delta(epsilon, request.delta),
                         delta_approx=delta_disc,
                         register=(request.epsilon, request.delta) if request.register else None)


def _dp_utility_check(model, data, rows, epsilon: float, request, read_options: dict, drop,
                      user_queries: list[str]):
    """The release's DP utility check: each column's 1-way answered on the real rows under DP
    (the model's public or DP-released domain as keys and bounds), the synthetic rows beside."""
    from lookalike.query import query as private_query
    from lookalike.query.workload import release_workload

    work = release_workload(model, list(rows.columns))
    opts = {} if isinstance(data, pd.DataFrame) else {
        "table": read_options.get("table"), "read_query": read_options.get("query"),
        "delimiter": read_options.get("delimiter"), "decimal": read_options.get("decimal"),
        "drop": list(drop or ())}
    results = private_query(data, [*work.sql, *user_queries], epsilon=epsilon, delta=request.delta,
                            keys=work.keys, bounds=work.bounds, ledger=request.ledger,
                            dataset=request.dataset, synthetic=rows, **opts)
    out.print(f"DP utility check: {len(results)} queries on the real rows at epsilon={epsilon:g}, "
              f"charged to dataset {_q(request.dataset)}", highlight=False)
    return results


_REPORT_SYNTHETIC_ROWS = 1_000_000  # synth --engine spark --report: synthetic rows compared


def _spark_report(schema: Any) -> dict:
    """How ``synth --engine spark --report`` measures: in Spark, with the schema the fit read
    the real rows with (no second inference), on a sample of 50,000 real rows for the rest."""
    from lookalike.schema import Schema

    return {"engine": "spark", "sample_rows": 50_000, "schema": schema if isinstance(
        schema, Schema) else None}


def _print_dp_plan(model, request, data: Any, schema: Any) -> tuple[Any, bool]:
    """Before a DP fit: print its plan (declared and discovered facts, the share of ε
    discovery takes) and its warnings (a table too small for this ε, a huge ε, δ ≥ 1/n), and
    return the schema to fit with and whether the small-table warning was given.

    Rows in memory: the schema is resolved here, once, as the fit would (the fit is handed
    the result), and the plan uses their exact count; the plan is printed on the user's
    screen only. Rows left in DuckDB: the schema as opened, and its row count if it has one.
    Nothing here is charged: the data was read by the CLI, not by a DP mechanism, and nothing
    printed enters the model or the release.
    """
    if not request.dp:
        return schema, False
    from lookalike.schema import as_schema
    from lookalike.synthesizers.dp_plan import check_discoverable, plan_dp_fit

    if isinstance(data, pd.DataFrame):
        schema = resolve_schema(data, schema)
        n_rows: int | None = len(data)
    else:
        n_rows = as_schema(schema).n_rows if schema is not None else None
    plan = plan_dp_fit(model, as_schema(schema), epsilon=request.epsilon, delta=request.delta,
                       n_rows=n_rows)
    if n_rows:  # a table too small to discover anything: the refusal alone, before the plan
        check_discoverable(model, as_schema(schema), epsilon=float(request.epsilon or 0.0),
                           delta=request.delta, n_rows=n_rows)
    for line in plan.summary():
        out.print(line, markup=False, highlight=False)
    for message in plan.warnings:
        _warn_now(message)
    return schema, plan.small_table is not None


@contextlib.contextmanager
def _small_table_said(said: bool) -> Iterator[None]:
    """Leave out the fit's own SmallTableWarning when the DP plan has given it (from the exact
    row count) before the fit: the same advice twice, the second from a noisy count."""
    if not said:
        yield
        return
    from lookalike.privacy.discovery import SmallTableWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=SmallTableWarning)
        yield


def _text_options(read_options: dict) -> dict:
    """The options that say how a CSV file is written (encoding, delimiter, decimal): those
    of REAL apply to its holdout too; --table and --query name a part of REAL's source."""
    return {k: v for k, v in read_options.items() if k in ("encoding", "delimiter", "decimal")}


def _holdout_path(output: Path) -> Path:
    """OUTPUT.holdout beside the output, in its format: synthetic.csv.gz -> synthetic.holdout.csv.gz."""
    name = output.name
    for ext in (".csv.gz", ".tsv.gz", ".csv", ".tsv", ".parquet", ".pq"):
        if name.lower().endswith(ext):
            return output.with_name(name[: -len(ext)] + ".holdout" + name[-len(ext):])
    return output.with_name(name + ".holdout.csv")


def _split(df: pd.DataFrame, share: float, seed: int | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows to fit, rows set aside): a seeded shuffle, ``share`` of the rows (at least one)
    aside; a stream of its own, so the split does not move with the synthesizer's draws."""
    import numpy as np

    rng = np.random.default_rng(None if seed is None else [seed, 0x484F4C44])  # "HOLD"
    order = rng.permutation(len(df))
    k = max(1, int(round(share * len(df))))
    aside, fit = np.sort(order[:k]), np.sort(order[k:])
    return df.iloc[fit].reset_index(drop=True), df.iloc[aside].reset_index(drop=True)


def _columns_of(data: Any, schema: Any) -> list[str]:
    """The columns a fit will see: the frame's, or (rows left in DuckDB) the schema's."""
    if isinstance(data, pd.DataFrame):
        return [str(c) for c in data.columns]
    if schema is not None:
        from lookalike.schema import as_schema

        return as_schema(schema).names
    from lookalike.marginals.duckdb import schema_from_duckdb

    return schema_from_duckdb(data).names


def _report_paths(report: Path | None, dp: bool) -> list[Path]:
    """Every file ``--report`` writes (the private report, its JSON and, for a DP release, the
    shareable release sheet and its JSON)."""
    from lookalike.report import report_paths

    return [] if report is None else report_paths(report, dp)


def _check_outputs(paths: list[Path | None], overwrite: bool) -> None:
    """Refuse, before any work, an output that exists (without --overwrite), that cannot be
    created, or that two options name at once."""
    given = [Path(p) for p in paths if p is not None]
    seen: dict[Path, Path] = {}
    for p in given:
        key = p.expanduser().resolve()
        if key in seen:
            raise ConfigError(f"{p} is named twice as an output; give each output its own path")
        seen[key] = p
        check_writable(p, overwrite=overwrite)


@contextlib.contextmanager
def _all_or_nothing(paths: list[Path | None]) -> Iterator[None]:
    """Remove the outputs this block created if it fails (files it replaced are gone)."""
    fresh = [Path(p) for p in paths if p is not None and not Path(p).exists()]
    try:
        yield
    except BaseException:
        for p in fresh:
            with contextlib.suppress(OSError):
                p.unlink(missing_ok=True)
        raise


def _json_beside(report: Path | None) -> Path | None:
    """Where a report's numbers go: ``.json`` beside the HTML page."""
    from lookalike.report import report_paths

    return None if report is None else report_paths(report, dp=False)[1]


def _write_report(real, synthetic, holdout, target, report: Path, overwrite: bool, *,
                  model=None, seed=None, schema=None, audit=None, at_scale=None,
                  dp_utility=()) -> None:
    """Evaluate, then write the private report (HTML, numbers as JSON beside it) and, for a
    DP model, the shareable release sheet beside them; every path is checked first. With
    ``audit`` (an AuditResult of the same tables), the report holds the attacks too, and its
    one verdict weighs both. With ``at_scale`` (the keyword arguments of
    :func:`lookalike.evaluate_at_scale` but the rows), ``real`` stays in its engine and is
    measured there (marginal distances over every row, the rest on a sample)."""
    from lookalike.evaluate import evaluate as run_evaluation
    from lookalike.report import (
        build_release_sheet,
        build_report,
        is_differentially_private,
        report_paths,
    )

    dp = is_differentially_private(model)
    page, numbers, *sheet_paths = report_paths(report, dp)
    for path in (page, numbers, *sheet_paths):
        check_writable(path, overwrite=overwrite)
    if at_scale is not None:
        from lookalike.evaluate import evaluate_at_scale

        err.print("measuring: the marginals where the real rows live, the rest on a sample",
                  highlight=False)
        scaled = evaluate_at_scale(real, synthetic, holdout=holdout, target=target,
                                   seed=seed if seed is not None else 0, **at_scale)
        ev: Any = scaled.report_dict()
    else:
        ev = run_evaluation(  # shows its own staged progress
            real, synthetic, holdout, target,
            schema if schema is not None else (model.schema_ if model is not None else None),
            seed=seed if seed is not None else 0,
        )
    rep = build_report(ev, model=model, schema=schema, seed=seed, audit=audit)
    # the CLI's seed also seeded the fit: it stays off the shareable sheet
    sheet = build_release_sheet(model, synthetic, dp_utility=dp_utility) if dp else None
    rep.write_html(page, overwrite=overwrite)
    rep.write_json(numbers, overwrite=overwrite)
    if sheet is not None:
        sheet.write_html(sheet_paths[0], overwrite=overwrite)
        sheet.write_json(sheet_paths[1], overwrite=overwrite)
    for sentence in rep.verdict:
        out.print(f"  {sentence}", highlight=False)
    out.print(
        f"[yellow]private report[/] (keep as private as the data): [bold]{_q(page)}[/] "
        f"(numbers in {_q(numbers)})"
    )
    if sheet is not None:
        out.print(
            f"[green]release sheet[/] (shareable): [bold]{_q(sheet_paths[0])}[/] "
            f"(facts in {_q(sheet_paths[1])})"
        )


def _rows_text(model) -> str:
    if model.n_rows_ is not None:
        return f"{model.n_rows_:,} rows"
    return "a table whose size stays private"


_CSV_OUT = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".txt.gz")


def _engine_params(family: str, engine: str | None, master: str | None,
                   conf: list[str] | None, param: list[str] | None, data: str | None,
                   table: str | None, query: str | None, decimal: str | None = None
                   ) -> dict[str, Any]:
    """The family's parameters (--param), with --engine as its ``engine``; the Spark options
    and a DATA left out (a catalog --table) checked to go with --engine spark."""
    params = _parse_pairs(param, "--param")
    if engine is not None and family in available() and not hasattr(get_synthesizer(family),
                                                                     "engine"):
        if engine == "spark":
            from lookalike.marginals.spark import not_in_memory

            raise not_in_memory(family)
        raise ConfigError(f"--engine applies to mst, aim and privbayes (they count the rows "
                          f"where they live); {family!r} reads them into memory: leave it out")
    if engine is not None:
        if "engine" in params and params["engine"] != engine:
            raise ConfigError(f"--engine {engine} and --param engine={params['engine']} disagree: "
                              "give one")
        params["engine"] = engine
    spark = params.get("engine") == "spark"
    if spark and decimal not in (None, "."):  # checked here: before Spark starts
        raise ConfigError("engine=spark reads the data itself: --decimal does not apply (Spark "
                          "reads numbers with a decimal point); convert the file, or use "
                          "--engine duckdb")
    if (master is not None or conf) and not spark:
        raise ConfigError("--spark-master and --spark-conf apply to --engine spark")
    _parse_pairs(conf, "--spark-conf")  # KEY=VALUE, checked before any work
    if data is None and not (spark and (table or query)):
        raise ConfigError("give DATA (a CSV/Parquet/DuckDB file or SQLAlchemy URL), or with "
                          "--engine spark a Spark catalog table (--table db.t) instead")
    return params


def _start_spark(model: Any, master: str | None, conf: list[str] | None) -> None:
    """Start (or join) the Spark session of --engine spark with --spark-master and
    --spark-conf, once the options, the family and the budget have been checked."""
    if getattr(model, "engine", None) != "spark":
        return
    from lookalike.marginals.spark import spark_session

    settings = {k: str(v) for k, v in _parse_pairs(conf, "--spark-conf").items()}
    spark_session(master, settings).sparkContext.setLogLevel("ERROR")


def _dp_options(data, epsilon, delta, dataset, ledger) -> dict:
    """DP keyword arguments of a fit: a DP fit from the CLI is always charged to a ledger."""
    if epsilon is None:
        if delta is not None or dataset is not None or ledger is not None:
            raise ConfigError("--delta, --dataset and --ledger apply to DP fits: give --epsilon too")
        return {}
    from lookalike.privacy.ledger import PrivacyLedger

    return {
        "epsilon": epsilon,
        "delta": delta,
        "ledger": PrivacyLedger(ledger),
        "dataset": dataset or _stem(str(data)),
        "register": True,
    }


def _print_guarantee(model) -> None:
    privacy = model.privacy_
    if privacy.differentially_private:
        out.print(
            f"[green]differential privacy:[/] {_q(privacy.guarantee)}; spent epsilon="
            f"{privacy.epsilon_spent:.4g} of {privacy.epsilon:g} in {len(privacy.releases)} releases",
            highlight=False,
        )
        entry = getattr(model, "ledger_entry_", None)
        if entry is not None:
            out.print(f"charged to dataset [bold]{_q(entry[1])}[/] in the ledger {_q(entry[0])}",
                      highlight=False)
        return
    out.print(
        "[yellow]no formal privacy guarantee:[/] this model was fitted without differential "
        "privacy and may reproduce rare records of the input.",
        highlight=False,
    )


@app.command()
def evaluate(
    real: Annotated[str, typer.Argument(help="The real table (file or SQLAlchemy URL).")],
    synthetic: Annotated[str, typer.Argument(help="The synthetic table to measure.")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="HTML report to write (JSON numbers beside it).")
    ] = Path("report.html"),
    holdout: HoldoutOpt = None,
    target: TargetOpt = None,
    schema: SchemaOpt = None,
    drop: Drop = None,
    table: Table_ = None,
    query: Query = None,
    encoding: Encoding = None,
    delimiter: Delimiter = None,
    decimal: Decimal = None,
    engine: ScaleEngine = None,
    sample_rows: SampleRows = 50_000,
    spark_master: SparkMaster = None,
    spark_conf: SparkConf = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the metric samples and folds.")] = 0,
    overwrite: Overwrite = False,
) -> None:
    """Measure SYNTHETIC against REAL (fidelity, utility, detection, queries) and write a report.

    REAL is read as ``synth`` reads it (--table, --query, --encoding, --delimiter, --drop);
    columns of REAL that SYNTHETIC lacks (free text a synthesizer left out) are left out of the
    comparisons with a note. With --engine duckdb or spark, REAL stays where it lives (a table
    larger than memory): the 1- and 2-way marginal distances are counted there over every real
    row, detection, utility and queries on --sample-rows real rows drawn there, and the report
    says which number comes from what."""

    def body() -> None:
        for path in (output, _json_beside(output)):
            check_writable(path, overwrite=overwrite)
        if engine is not None:
            source, at_scale = _scale_source(
                real, engine, sample_rows, schema, drop, spark_master, spark_conf,
                _read_options(table, query, encoding, delimiter, decimal))
            synth_df = read_table(synthetic, decimal=decimal)
            hold_df = None if holdout is None else read_table(
                holdout, **_text_options(_read_options(None, None, encoding, delimiter, decimal)))
            _write_report(source, synth_df, hold_df, target, output, overwrite, seed=seed,
                          at_scale=at_scale)
            return
        if spark_master is not None or spark_conf:
            raise ConfigError("--spark-master and --spark-conf apply to --engine spark")
        real_df, synth_df, hold_df, declared = _read_pair(
            real, synthetic, holdout, schema, drop, _read_options(table, query, encoding, delimiter, decimal))
        if target is not None and target not in real_df.columns:
            raise ColumnMismatchError(
                f"--target {target!r} is not a compared column; columns: {list(real_df.columns)}")
        _write_report(real_df, synth_df, hold_df, target, output, overwrite, seed=seed, schema=declared)

    _run(body)


@app.command()
def audit(
    real: Annotated[str, typer.Argument(help="The real table the synthesizer was fitted on (file or SQLAlchemy URL).")],
    synthetic: Annotated[str, typer.Argument(help="The synthetic table to attack.")],
    holdout: Annotated[
        str | None,
        typer.Option("--holdout", help="Real rows of the same population the synthesizer never saw "
                     "(needed by every attack but the similarity metrics)."),
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option("--secret", "--target-col",
                     help="Column attribute inference guesses (default: each column in turn, up to 20)."),
    ] = None,
    quasi_identifiers: Annotated[
        str | None,
        typer.Option("--quasi-identifiers", metavar="A,B,C",
                     help="Columns the attacker knows, comma-separated (default: all but the secret)."),
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option("--model", help="Model file that made SYNTHETIC: its schema, provenance and, for "
                     "--shadow, its synthesizer and settings."),
    ] = None,
    shadow: Annotated[
        int,
        typer.Option("--shadow", metavar="N", help="Also run the shadow-model attack with N fits per target "
                     "and class of the model's synthesizer (slow; needs --model; 0: off)."),
    ] = 0,
    claimed_epsilon: Annotated[
        float | None,
        typer.Option("--claimed-epsilon", metavar="EPS",
                     help="The ε the release claims (default: the --model's DP fit); an attack "
                     "proving more is flagged as a violation."),
    ] = None,
    targets: Annotated[
        str | None,
        typer.Option("--targets", metavar="12,345",
                     help="Row numbers of REAL (from 0) to report one by one (default: the 5 most exposed)."),
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="HTML report to write.")
    ] = Path("audit.html"),
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the audit's numbers as JSON here.")
    ] = None,
    schema: SchemaOpt = None,
    drop: Drop = None,
    table: Table_ = None,
    query: Query = None,
    encoding: Encoding = None,
    delimiter: Delimiter = None,
    decimal: Decimal = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every sample the attacks draw.")] = 0,
    overwrite: Overwrite = False,
) -> None:
    """Attack SYNTHETIC to measure what it reveals about the rows of REAL, and write a report.

    REAL is read as ``synth`` reads it (--table, --query, --encoding, --delimiter, --drop);
    columns of REAL that SYNTHETIC lacks are left out of the attacks with a note."""

    def body() -> None:
        from lookalike.audit import audit as run_audit
        from lookalike.report import build_report

        for path in (output, json_out):
            if path is not None:
                check_writable(path, overwrite=overwrite)
        rows = _parse_rows(targets)
        qis = None if quasi_identifiers is None else [q.strip() for q in quasi_identifiers.split(",") if q.strip()]
        fitted = load_synthesizer(model) if model is not None else None
        real_df, synth_df, hold_df, declared = _read_pair(
            real, synthetic, holdout, schema, drop, _read_options(table, query, encoding, delimiter, decimal))
        result = run_audit(  # shows its own progress on a terminal
            real_df, synth_df, hold_df, schema=declared, secret=secret, quasi_identifiers=qis,
            targets=rows, model=fitted, shadow=shadow, claimed_epsilon=claimed_epsilon, seed=seed,
        )
        rep = build_report(audit=result, model=fitted, schema=declared, title="lookalike privacy audit", seed=seed)
        rep.write_html(output, overwrite=overwrite)
        if json_out is not None:
            from lookalike._files import atomic_output

            with atomic_output(json_out, overwrite=overwrite) as tmp:
                tmp.write_text(result.to_json() + "\n", encoding="utf-8")
        for sentence in result.verdict():
            out.print(f"  {sentence}", highlight=False)
        timings = ", ".join(f"{k} {v:.1f} s" for k, v in result.meta.timings.items())
        out.print(f"audit took {result.meta.seconds:.1f} s ({timings})", highlight=False)
        out.print(f"report written to [bold]{output}[/]" + (f" (numbers in {json_out})" if json_out else ""))

    _run(body)


@app.command("report")
def report_command(
    real: Annotated[str, typer.Argument(help="The real table the synthesizer was fitted on (file or SQLAlchemy URL).")],
    synthetic: Annotated[str, typer.Argument(help="The synthetic table to measure and attack.")],
    holdout: Annotated[
        str | None,
        typer.Option("--holdout", help="Real rows the synthesizer never saw: the utility test is "
                     "scored on them and the attacks compare with them (without it: a split of "
                     "REAL, which flatters utility, and only the similarity metrics)."),
    ] = None,
    target: TargetOpt = None,
    model: Annotated[
        Path | None,
        typer.Option("--model", help="Model file that made SYNTHETIC: its schema, provenance, DP "
                     "guarantee (a DP model also gets the shareable release sheet) and claimed epsilon."),
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option("--secret", help="Column attribute inference guesses (default: each column "
                     "in turn, up to 20)."),
    ] = None,
    quasi_identifiers: Annotated[
        str | None,
        typer.Option("--quasi-identifiers", metavar="A,B,C",
                     help="Columns the attacker knows, comma-separated (default: all but the secret)."),
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="HTML report to write (JSON numbers beside it).")
    ] = Path("report.html"),
    schema: SchemaOpt = None,
    drop: Drop = None,
    table: Table_ = None,
    query: Query = None,
    encoding: Encoding = None,
    delimiter: Delimiter = None,
    decimal: Decimal = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the metric samples, folds and attacks.")] = 0,
    overwrite: Overwrite = False,
) -> None:
    """Evaluate and audit SYNTHETIC against REAL in one report (HTML, JSON beside it).

    Fidelity, utility and detection (as 'evaluate') and the privacy attacks (as 'audit') in
    one private report with one verdict; REAL is read as 'synth' reads it. A --holdout that
    shares rows with REAL (beyond chance) is refused before any work."""

    def body() -> None:
        from lookalike.audit import audit as run_audit
        from lookalike.evaluate.tables import check_held_out
        from lookalike.report import is_differentially_private, report_paths

        fitted = load_synthesizer(model) if model is not None else None
        _check_outputs(list(report_paths(output, is_differentially_private(fitted))), overwrite)
        qis = None if quasi_identifiers is None else [
            q.strip() for q in quasi_identifiers.split(",") if q.strip()]
        real_df, synth_df, hold_df, declared = _read_pair(
            real, synthetic, holdout, schema, drop, _read_options(table, query, encoding, delimiter, decimal))
        if target is not None and target not in real_df.columns:
            raise ColumnMismatchError(
                f"--target {target!r} is not a compared column; columns: {list(real_df.columns)}")
        if hold_df is not None:
            check_held_out(real_df, hold_df)  # before any work
        else:
            _warn_now("no --holdout: the utility test is scored on a split of REAL (rows the "
                      "synthesizer saw, which flatters it) and the attacks that need real rows "
                      "the synthesizer never saw are skipped; give --holdout (lookalike synth "
                      "--holdout-share 0.2 sets them aside)")
        result = run_audit(  # shows its own progress on a terminal
            real_df, synth_df, hold_df, schema=declared, secret=secret, quasi_identifiers=qis,
            model=fitted, seed=seed,
        )
        _write_report(real_df, synth_df, hold_df, target, output, overwrite, model=fitted,
                      seed=seed, schema=declared, audit=result)

    _run(body)


def _scale_source(real: str, engine: str, sample_rows: int, schema: Path | None,
                  drop: list[str] | None, master: str | None, conf: list[str] | None,
                  read_options: dict) -> tuple[Any, dict]:
    """(REAL as the engine reads it, the settings of :func:`lookalike.evaluate_at_scale`) for
    ``evaluate --engine``: a DuckDB file (a CSV with its decimal and delimiter), or a Spark
    DataFrame of a Parquet/CSV path or of ``--table``/``--query`` (REAL given as ``-``), on
    the session --spark-master and --spark-conf make; every option checked first."""
    if engine not in ("duckdb", "spark"):
        raise ConfigError(f"--engine {engine!r}: evaluate counts the real rows in duckdb or "
                          "spark; leave --engine out to read them into memory")
    if sample_rows < 0:
        raise ConfigError(f"--sample-rows must be 0 or more, got {sample_rows}")
    if (master is not None or conf) and engine != "spark":
        raise ConfigError("--spark-master and --spark-conf apply to --engine spark")
    settings = {"engine": engine, "sample_rows": sample_rows, "drop": list(drop or ()),
                "schema": schema}
    opts = {k: v for k, v in read_options.items() if v is not None}
    if engine == "duckdb":
        if real == "-" or opts.keys() - {"decimal", "delimiter"}:
            raise ConfigError("evaluate --engine duckdb reads a CSV or Parquet file (REAL); "
                              "--table, --query and --encoding do not apply: convert the file, "
                              "or leave --engine out")
        from lookalike.io import CsvFile

        source: Any = CsvFile(real, **opts) if opts else real
        return source, settings
    from lookalike.marginals.spark import spark_frame, spark_session

    if "decimal" in opts and opts["decimal"] != ".":
        raise ConfigError("engine=spark reads numbers with a decimal point: --decimal does not "
                          "apply; convert the file, or use --engine duckdb")
    opts.pop("decimal", None)
    if (real == "-") != bool(opts.keys() & {"table", "query"}):
        raise ConfigError("with --engine spark give REAL as a Parquet/CSV path, or as - with "
                          "--table db.t (a Spark catalog table) or --query")
    spark = spark_session(master, {k: str(v) for k, v in _parse_pairs(conf, "--spark-conf").items()})
    spark.sparkContext.setLogLevel("ERROR")
    frame, _ = spark_frame(None if real == "-" else real, opts, spark=spark)
    return frame, settings


def _read_pair(real: str, synthetic: str, holdout: str | None, schema: Path | None,
               drop: list[str] | None, read_options: dict) -> tuple:
    """(real, synthetic, holdout, declared schema) as ``evaluate`` and ``audit`` compare them.

    REAL is read with the options ``synth`` takes; the holdout with the same text options
    (encoding, delimiter, decimal) but not --table/--query, which name a part of REAL's
    source; the synthetic table as ``synth`` writes it: REAL's decimal, UTF-8. --drop leaves the columns out of all three (where present).
    Columns of REAL that SYNTHETIC lacks (free text or an identifier a synthesizer left out)
    are left out of the comparison with a warning, not an error; a column only SYNTHETIC has
    is an error, since it cannot come from REAL.
    """
    drop = list(drop or ())
    text_options = _text_options(read_options)
    real_df = load_data(real, drop=drop, read_options=read_options)
    # as synth writes it: REAL's decimal comma (its delimiter is sniffed), UTF-8
    synth_df = read_table(synthetic, decimal=text_options.get("decimal"))
    hold_df = read_table(holdout, **text_options) if holdout is not None else None
    synth_df = synth_df.drop(columns=[c for c in drop if c in synth_df.columns])
    if hold_df is not None:
        hold_df = hold_df.drop(columns=[c for c in drop if c in hold_df.columns])
    extra = [c for c in synth_df.columns if c not in real_df.columns]
    if extra:
        raise ColumnMismatchError(
            f"{synthetic} has columns that {real} lacks: {extra}; compare tables of the same "
            "columns (--drop leaves columns out of both)")
    lacking = [c for c in real_df.columns if c not in synth_df.columns]
    if lacking:
        warnings.warn(
            f"columns {lacking} of {real} are not in {synthetic} (a synthesizer leaves out free "
            "text, and --drop'ed columns); they are left out of the comparisons", stacklevel=2)
        real_df = real_df.drop(columns=lacking)
        if hold_df is not None:
            hold_df = hold_df.drop(columns=[c for c in lacking if c in hold_df.columns])
    synth_df = synth_df[list(real_df.columns)]
    declared = None
    if schema is not None:  # its columns left out above are left out of it too
        from lookalike.schema import Schema, as_schema

        given = as_schema(schema)
        unknown = [c for c in given.names if c not in real_df.columns and c not in lacking + drop]
        if unknown:
            raise ColumnMismatchError(f"--schema names columns that {real} lacks: {unknown}")
        declared = resolve_schema(
            real_df, Schema(tuple(c for c in given.columns if c.name in real_df.columns)))
    return real_df, synth_df, hold_df, declared


def _parse_rows(text: str | None) -> list[int] | None:
    if text is None:
        return None
    rows = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            rows.append(int(item))
        except ValueError:
            raise ConfigError(
                f"--targets expects row numbers separated by commas (e.g. 12,345), got {item!r}"
            ) from None
    if not rows:
        raise ConfigError("--targets names no row; give row numbers like 12,345 or leave it out")
    return rows


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Folder for the demo's outputs.")] = Path("out"),
    synthesizer: Synth = "cart",
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
) -> None:
    """Synthesise the bundled Adult census table (32,561 rows) into OUT_DIR, with a report."""

    def body() -> None:
        import numpy as np

        from lookalike.demo import demo_path

        out_dir.mkdir(parents=True, exist_ok=True)
        adult = load_data(demo_path())
        order = np.random.default_rng(seed).permutation(len(adult))
        n_hold = len(adult) // 5
        holdout_path = out_dir / "adult_holdout.csv"
        train_path = out_dir / "adult_train.csv"
        write_table(adult.iloc[order[n_hold:]], train_path, overwrite=True)
        write_table(adult.iloc[order[:n_hold]], holdout_path, overwrite=True)
        out.print(
            f"bundled Adult table: {len(adult):,} rows; fitting on {len(adult) - n_hold:,} "
            f"({train_path}), holding out {n_hold:,} for the utility test ({holdout_path})"
        )
        _synth(
            str(train_path), out_dir / "adult_synthetic.csv", len(adult), synthesizer, None, {}, None,
            (), out_dir / "adult_model.lookalike", seed, {}, True,
            report=out_dir / "report.html", target="income", holdout=str(holdout_path),
        )

    _run(body)


@app.command()
def budget(
    dataset: Annotated[str | None, typer.Argument(help="Dataset name (omit to list all datasets).")] = None,
    set_epsilon: Annotated[
        float | None, typer.Option("--set-epsilon", help="Set the dataset's total epsilon limit.")
    ] = None,
    delta: Annotated[
        float, typer.Option("--delta", help="Delta of the limit (with --set-epsilon).")
    ] = 1e-9,
    ledger_path: Annotated[
        Path | None,
        typer.Option("--ledger", help="Ledger file (default: $LOOKALIKE_HOME or ~/.lookalike/ledger.sqlite)."),
    ] = None,
    plan_epsilon: Annotated[
        float | None,
        typer.Option("--epsilon", help="Plan a next fit at this epsilon (at the limit's delta): "
                     "whether the budget pays for it, and whether the table is large enough for it "
                     "(default: the largest epsilon a next fit can spend)."),
    ] = None,
) -> None:
    """Show or set the privacy budget of a dataset, and list its releases.

    Also: the largest epsilon a next fit can still spend, and warnings for a limit that
    protects little (epsilon > 10, delta >= 1/n) and for a table too small for the epsilon
    asked (the small-table rule of DP discovery, for the columns the last fit discovered).
    The row count n is the one in the data's fingerprint, recorded by the first fit."""

    def body() -> None:
        from datetime import datetime

        from lookalike.privacy.budget import plan_budget
        from lookalike.privacy.ledger import PrivacyLedger

        def say(text: str) -> None:  # plain text: names and details may hold "[...]"
            out.print(text, markup=False, highlight=False)

        ledger = PrivacyLedger(ledger_path)
        if dataset is None:
            names = ledger.datasets()
            say(f"ledger {ledger.path}: " + (", ".join(names) if names else "no datasets"))
            for name in names:
                st = ledger.status(name)
                say(f"  {name}: limit epsilon={st.epsilon_limit:g} at delta={st.delta:g}, spent "
                    f"{st.epsilon_spent:.4g}, largest next fit epsilon="
                    f"{_round_down(st.epsilon_next(plan=plan_budget)):g}")
            return
        if set_epsilon is not None:
            ledger.set_limit(dataset, epsilon=set_epsilon, delta=delta)
        st = ledger.status(dataset)
        at = f"at delta={st.delta:g}"
        rdp = ", Renyi-DP curves included" if st.rdp_spent is not None else ""
        say(f"dataset {dataset} in the ledger {ledger.path}")
        say(f"limit: epsilon={st.epsilon_limit:g}, delta={st.delta:g} (rho={st.rho_limit:.6g})")
        say(f"spent: epsilon={st.epsilon_spent:.4g} {at} (rho={st.rho_spent:.6g}{rdp})")
        say(f"delta used at epsilon={st.epsilon_limit:g}: {st.delta_spent:.3g} of {st.delta:g} "
            f"(thresholded discovery: {st.delta_approx_spent:.3g})")
        room = _round_down(st.epsilon_next(plan=plan_budget))
        say(f"largest epsilon a next fit can spend ({at}): {room:g}")
        entries = ledger.releases(dataset)
        for message in _budget_advice(st, entries, room, plan_epsilon, say):
            warnings.warn(message, UserWarning, stacklevel=2)
        if not entries:
            say("releases: none")
            return
        say(f"releases (epsilon: each alone {at}; together they compose to the spent epsilon):")
        rows = [("#", "time", "mechanism", "epsilon", "cost", "status", "model file", "detail")]
        for e in entries:
            cost = [f"rho={e.rho:.6g}"] if e.rho > 0 or e.rdp is None else []
            cost += ["RDP curve"] if e.rdp is not None else []
            cost += [f"delta={e.delta_approx:.3g}"] if e.delta_approx > 0 else []
            when = datetime.fromtimestamp(e.time).isoformat(timespec="seconds")
            rows.append((f"{e.id}", when, e.mechanism, f"{e.epsilon_cost:.4g}", " + ".join(cost),
                         e.status, e.model_file or "-", e.detail))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
        for r in rows:
            say("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=False)) + "  " + r[-1])

    _run(body)


def _round_down(epsilon: float, digits: int = 4) -> float:
    """``epsilon`` cut (never rounded up) to ``digits`` significant digits: a largest ε shown
    rounded up (2.786 for 2.78586) would be refused when asked for."""
    import math

    if not epsilon > 0 or not math.isfinite(epsilon):
        return epsilon
    scale = 10.0 ** (digits - 1 - math.floor(math.log10(epsilon)))
    return math.floor(epsilon * scale) / scale


def _budget_advice(st, entries: list, room: float, asked: float | None,
                   say: Callable[[str], None]) -> list[str]:
    """Print what ``lookalike budget`` knows of the table (its row count, from the
    fingerprint) and of a next fit at ``asked`` (default: ``room``, the largest ε left), and
    return the warnings: a limit with ε > 10 or δ ≥ 1/n, an ε asked that the budget cannot
    pay for or that protects little, and a table too small for it (the small-table rule of DP
    discovery, for the columns the latest fit discovered; its family's default settings).

    The ledger is a private, local file: its row count is the exact one, shown to its owner."""
    from lookalike.privacy.advice import delta_warning, epsilon_warning
    from lookalike.privacy.budget import plan_budget

    notes = [epsilon_warning(st.epsilon_limit, option="--set-epsilon"),
             delta_warning(st.delta, st.fingerprint.n_rows if st.fingerprint else None,
                           option="--delta with --set-epsilon")]
    n_rows = st.fingerprint.n_rows if st.fingerprint is not None else None
    if n_rows is None:
        say("rows: unknown until a fit records the data's fingerprint; the checks of delta "
            "against 1/n and of the table's size wait for it")
    else:
        say(f"rows: {n_rows:,} (from the data's fingerprint, recorded by the first fit)")
    eps = room if asked is None else asked
    if asked is not None:
        notes.append(epsilon_warning(asked))
        try:
            rho, d_approx = plan_budget(asked, st.delta)
        except ConfigError as e:
            raise ConfigError(f"--epsilon: {e}") from None
        pays = st.fits(rho=rho, delta_approx=d_approx)
        say(f"a next fit at epsilon={asked:g} (delta={st.delta:g}): "
            + ("the budget pays for it" if pays else
               f"refused, over the budget (at most {room:g}): fit with a smaller epsilon or "
               "raise the limit (--set-epsilon)"))
    if n_rows is not None and eps > 0:
        small = _small_table_for(entries, st, eps, n_rows)
        if small is not None:
            what = "asked" if asked is not None else "the largest a next fit can spend"
            notes.append(f"at epsilon={eps:.4g} ({what}), {small}")
    return [n for n in notes if n]


def _small_table_for(entries: list, st, epsilon: float, n_rows: int) -> str | None:
    """The small-table warning of a fit at ``epsilon`` like the latest one that discovered
    columns (its family with default settings, its discovered columns, ``n_rows`` rows), or
    None when no fit discovered any or the table is large enough."""
    from lookalike.schema import Column, Kind, Schema
    from lookalike.synthesizers.dp_plan import plan_dp_fit

    for entry in reversed(entries):
        names = [str(step.get("name", "")) for step in entry.steps]
        cats = [n.removeprefix("categories of ") for n in names if n.startswith("categories of ")]
        nums = [n.removeprefix("bins of ") for n in names if n.startswith("bins of ")]
        if not cats and not nums or entry.mechanism not in available():
            continue
        model = get_synthesizer(entry.mechanism)
        if not model.supports_dp:
            continue
        others = [c for c in (st.fingerprint.columns if st.fingerprint else ())
                  if c not in cats and c not in nums]
        columns = ([Column(c, Kind.CATEGORICAL, sources={"kind": "data"}) for c in cats]
                   + [Column(c, Kind.FLOAT, sources={"kind": "data"}) for c in nums]
                   + [Column(c, Kind.CATEGORICAL, categories=("?",)) for c in others])
        plan = plan_dp_fit(model, Schema(tuple(columns)), epsilon=epsilon, delta=st.delta,
                           n_rows=n_rows)
        if plan.small_table is None:
            return None
        return (f"a {entry.mechanism} fit discovering what release #{entry.id} discovered: "
                + plan.small_table)
    return None


@app.command("query")
def query_command(
    data: Annotated[str, typer.Argument(help="The real table: CSV/Parquet/DuckDB file ('-' with "
                                              "--engine spark --table db.t).")],
    sql: Annotated[list[str], typer.Argument(
        help="Aggregate SQL over the table (its FROM names any one table); several queries are "
        "planned together and share the budget equally.", show_default=False)],
    epsilon: Annotated[float, typer.Option(
        "--epsilon", help="Privacy budget of the query (or of all of them together); charged "
        "to the dataset's budget in the privacy ledger before any row is read.")],
    delta: Delta = None,
    dataset: Dataset = None,
    ledger: LedgerOpt = None,
    synthetic: Annotated[str | None, typer.Option(
        "--synthetic", help="Synthetic rows (a file) to run the same query on, beside the DP "
        "answer: how far the preview was from the truth.")] = None,
    bounds: Annotated[list[str] | None, typer.Option(
        "--bounds", help="Public bounds of a SUM/AVG/quantile argument, NAME=LO:HI (e.g. "
        "age=17:90); repeat for several. Undeclared bounds are found under DP.")] = None,
    keys: Annotated[list[str] | None, typer.Option(
        "--keys", help="Public groups of a GROUP BY key, NAME=V1,V2,... (e.g. sex=Female,Male); "
        "repeat for several. Undeclared groups are found under DP (rare ones are not "
        "released).")] = None,
    json_out: Annotated[Path | None, typer.Option(
        "--json", help="Also write the answers, intervals and costs as JSON.")] = None,
    report: Annotated[Path | None, typer.Option(
        "--report", help="Also write the answers as one HTML page (shareable: DP answers and "
        "synthetic ones only).")] = None,
    overwrite: Overwrite = False,
    schema: SchemaOpt = None,
    table: Table_ = None,
    query: Query = None,
    drop: Drop = None,
    encoding: Encoding = None,
    delimiter: Delimiter = None,
    decimal: Decimal = None,
    engine: Annotated[str | None, typer.Option(
        "--engine", help="Where the query runs: duckdb (default: files, DuckDB databases) or "
        "spark (Parquet/CSV paths, or DATA '-' with --table db.t of the Spark catalog).")] = None,
    spark_master: SparkMaster = None,
    spark_conf: SparkConf = None,
) -> None:
    """Answer aggregate SQL over the real table with differential privacy, where it lives.

    COUNT, SUM, AVG, MEDIAN/QUANTILE_CONT, GROUP BY and WHERE over one table run inside DuckDB
    (only aggregates leave it); each answer comes with its noise and a 95% interval, and with
    --synthetic the same query on the synthetic rows beside it. The query is charged to the
    dataset's budget (the ledger lists it with the fits); an identical query asked again is
    answered from its released result at no cost.
    """

    def body() -> None:
        from lookalike.query import query as private_query

        if encoding not in (None, "utf-8", "utf8", "UTF-8"):
            raise ConfigError(f"--encoding {encoding}: queries read CSV as UTF-8 in DuckDB; "
                              "convert the file (iconv -f ENC -t utf-8) or query a Parquet copy")
        _check_outputs([json_out, report], overwrite)
        source = table if data == "-" and engine == "spark" and table else data
        opts = _dp_options(source, epsilon, delta, dataset, ledger)
        results = private_query(
            None if data == "-" else data, list(sql), epsilon=opts["epsilon"], delta=opts["delta"],
            ledger=opts["ledger"], dataset=opts["dataset"], register=True,
            bounds={k: _bounds_pair(k, v) for k, v in _raw_pairs(bounds, "--bounds").items()},
            keys={k: [x.strip() for x in v.split(",")]
                  for k, v in _raw_pairs(keys, "--keys").items()},
            schema=schema, synthetic=synthetic, table=table, read_query=query,
            drop=list(drop or ()), delimiter=delimiter, decimal=decimal, engine=engine,
            spark_master=spark_master,
            spark_conf={k: str(v) for k, v in _parse_pairs(spark_conf, "--spark-conf").items()})
        for r in results:
            _print_query_result(r)
        if json_out is not None:
            from lookalike._files import atomic_output

            with atomic_output(json_out) as tmp:
                Path(tmp).write_text(json.dumps([r.to_dict() for r in results], indent=2))
            out.print(f"wrote {_q(json_out)}", highlight=False)
        if report is not None:
            from lookalike.report._queries import build_query_page

            build_query_page(results, dataset=opts["dataset"]).write_html(report,
                                                                          overwrite=overwrite)
            out.print(f"[green]answers page[/] (shareable): [bold]{_q(report)}[/]")

    _run(body)


def _raw_pairs(items: list[str] | None, option: str) -> dict[str, str]:
    pairs = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"{option} expects NAME=VALUE, got {item!r}")
        key, raw = item.split("=", 1)
        pairs[key.strip()] = raw.strip()
    return pairs


def _bounds_pair(name: str, text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.split(":"))
    except ValueError:
        raise ConfigError(f"--bounds {name}={text}: give LO:HI, e.g. {name}=0:100") from None
    return lo, hi


def _print_query_result(r) -> None:
    import math

    def say(text: str) -> None:
        out.print(text, markup=False, highlight=False)

    say(r.sql)
    if r.reused:
        say("answered before: the released answer, returned again at no cost")
    else:
        say(f"differentially private answer: epsilon={r.epsilon:.4g} (delta={r.delta:.3g}) "
            + (f"charged to dataset {r.ledger_entry[1]} (release #{r.ledger_entry[2]})"
               if r.ledger_entry else "recorded in no ledger"))
    d = r.details
    keys = [c for c in d.columns if c not in ("column", "answer", "noise_sd", "low", "high",
                                              "note", "synthetic", "inside")]

    def num(v) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "-"
        if isinstance(v, float) and math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return f"{v:,.6g}" if isinstance(v, float) else str(v)

    head = [*keys, "answer", "95% interval", "noise sd"] + (
        ["synthetic", "inside"] if "synthetic" in d.columns else [])
    rows = [head]
    for rec in d.to_dict("records"):
        line = [str(rec[k]) for k in keys] + [
            f"{rec['column']} = {num(rec['answer'])}", f"[{num(rec['low'])}, {num(rec['high'])}]",
            num(rec["noise_sd"])]
        if "synthetic" in d.columns:
            line += [num(rec["synthetic"]), {True: "yes", False: "no"}.get(rec["inside"], "-")]
        rows.append(line)
    widths = [max(len(r_[i]) for r_ in rows) for i in range(len(head))]
    for row in rows:
        say("  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    for n in r.notes:
        say(f"  note: {n}")
    for column, part in d.groupby("column", sort=False):  # a note once per column, unless
        texts = part["note"].fillna("")  # groups differ (clipping): then per group
        if texts.nunique() == 1:
            say(f"  {column}: {texts.iloc[0]}")
            continue
        for rec in part.to_dict("records"):
            say(f"  {column} ({', '.join(str(rec[k]) for k in keys)}): {rec['note']}")


@app.command("synthesizers")
def list_synthesizers(
    name: Annotated[str | None, typer.Argument(
        help="Describe this synthesizer: what it models, whether it is DP, when to pick it, its "
        "cost, and each hyper-parameter's meaning, default and valid range.")] = None,
) -> None:
    """List the synthesizer families, or describe one with 'lookalike synthesizers NAME'.

    The text comes from the synthesizer classes' docstrings (the API reference shows the same;
    lookalike.describe_synthesizer(NAME) returns it as an object).
    """

    def body() -> None:
        from lookalike.synthesizers.describe import describe_synthesizer

        width = max(60, min(out.width, 100))
        if name is not None:
            out.print(describe_synthesizer(name).text(width), markup=False, highlight=False)
            return
        grid = Table(title="synthesizers")
        for head in ("name", "DP", "what it is"):
            grid.add_column(head)
        for family in available():
            doc = describe_synthesizer(family)
            grid.add_row(family, "yes" if doc.supports_dp else "no", escape(doc.summary))
        out.print(grid)
        out.print("Run 'lookalike synthesizers NAME' for what NAME models and each hyper-parameter's "
                  "meaning, default and valid range; set one with --param NAME=VALUE.",
                  markup=False, highlight=False)

    _run(body)


def main() -> None:
    """Console-script entry point: temporary files are removed on SIGINT/SIGTERM, and an
    interrupt outside a command's body ends with one line and exit code 130."""
    from lookalike._files import install_signal_cleanup

    install_signal_cleanup()
    try:
        app(prog_name="lookalike", standalone_mode=True)
    except KeyboardInterrupt:
        _error("interrupted")
        raise SystemExit(130) from None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
