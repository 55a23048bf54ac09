"""The DuckDB engine infers, refuses, warns and writes as the pandas path does, column kind by kind.

The bugs: with ``engine="duckdb"`` (or a file big enough to go to DuckDB by itself) a yes/no or
Y/N column was a category (true/false only were booleans, and came back as ``True``/``False``),
``nullable`` was an assumed default rather than read from the data, a column of numbers
mixed with text was not refused (nor, then, one of one value or none: both are now kept, by
both paths alike), and ``--drop`` still inferred
(and warned about) the dropped column. Now :class:`~lookalike.marginals.duckdb.DuckDBEngine`
applies the rules of :func:`~lookalike.schema.infer_schema` (shared functions of
:mod:`lookalike.schema._infer`) to what its aggregate queries count, and never reads a dropped
column: a user gets the same schema, refusals, warnings and output spelling whichever path runs.
"""

from __future__ import annotations

import warnings

import duckdb
import numpy as np
import pandas as pd
import pytest

import lookalike
from lookalike.errors import LookalikeError
from lookalike.marginals.duckdb import DuckDBEngine, schema_from_duckdb
from lookalike.privacy.fingerprint import fingerprint_frame
from lookalike.report import build_release_sheet
from lookalike.schema import Kind, Schema, infer_schema

N_ROWS = 300
FREE_TEXT = "column 'comment' looks like free text"
WORDS = ("north", "river", "quiet", "orange", "window", "garden", "yellow", "silver", "market")
BOOLEANS = {"answer": ("no", "yes"), "flag": ("N", "Y"), "ok": ("false", "true")}


def make_table(seed: int = 3) -> pd.DataFrame:
    """yes/no (10% missing), Y/N and true/false flags, a 0/1 flag, a float with missing values,
    an integer, a category and free text; flag, answer and age depend on each other."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 90, N_ROWS)
    answer = np.where(rng.random(N_ROWS) < np.where(age > 50, 0.8, 0.2), "yes", "no").astype(object)
    answer[rng.random(N_ROWS) < 0.1] = None
    income = np.round(rng.normal(40_000, 9_000, N_ROWS), 2)
    income[rng.random(N_ROWS) < 0.15] = np.nan
    return pd.DataFrame({
        "answer": answer,
        "flag": np.where(answer == "yes", "Y", "N"),
        "bit": rng.integers(0, 2, N_ROWS),
        "ok": rng.choice(["true", "false"], N_ROWS),
        "income": income,
        "age": age,
        "city": rng.choice(["Auckland", "Nelson", "Napier", "Otago"], N_ROWS),
        "comment": [" ".join(rng.choice(WORDS, 8)) + f" {i}" for i in range(N_ROWS)],
    })


def with_problems(table: pd.DataFrame) -> pd.DataFrame:
    """The table with a column of one value (text and number), one of numbers mixed with text
    and one entirely missing, after the free text (whose warning comes first)."""
    mixed = [str(v) for v in np.random.default_rng(4).integers(0, 100, N_ROWS)]
    for row in (4, 40, 41, 200):
        mixed[row] = ["twelve", "n.a.", "lots", "?"][row % 4]
    return table.assign(country="NZ", version=3, score=mixed,
                        notes=pd.Series([None] * N_ROWS, dtype=object))


def store(frame: pd.DataFrame, folder, form: str):
    path = folder / f"t.{form if form != 'duckdb' else 'duckdb'}"
    if form == "csv":
        frame.to_csv(path, index=False)
    elif form == "parquet":
        frame.to_parquet(path)
    else:
        with duckdb.connect(str(path)) as con:
            con.register("frame", frame)
            con.execute("CREATE TABLE t AS SELECT * FROM frame")
    return path


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return make_table()


@pytest.fixture(scope="module")
def files(table, tmp_path_factory) -> dict[str, object]:
    return {form: store(table, tmp_path_factory.mktemp(form), form)
            for form in ("csv", "parquet", "duckdb")}


def caught(fn, *args, **kw) -> tuple[object, list[str]]:
    """(what ``fn`` returned or the refusal it raised, the warnings it gave, in order)."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            out: object = fn(*args, **kw)
        except LookalikeError as e:
            out = e
    return out, [str(w.message) for w in seen if issubclass(w.category, UserWarning)]


def duck_schema(path, **kw):
    return schema_from_duckdb(path, **({"table": "t"} if str(path).endswith(".duckdb") else {}),
                              **kw)


def facts(schema: Schema) -> dict[str, tuple]:
    """What both paths state of each column: kind, format, unit, nullable, a boolean's two
    words, each with the source it came from."""
    return {c.name: (c.kind, c.format, c.unit, c.nullable,
                     c.categories if c.kind is Kind.BOOLEAN else None,
                     {f: c.source(f) for f in ("kind", "format", "unit", "nullable")}
                     | ({"categories": c.source("categories")} if c.kind is Kind.BOOLEAN else {}))
            for c in schema}


@pytest.mark.parametrize("form", ["csv", "parquet", "duckdb"])
def test_same_schema_and_warnings_as_the_dataframe(table, files, form):
    want, want_warned = caught(infer_schema, table)
    got, got_warned = caught(duck_schema, files[form])
    assert facts(got) == facts(want)
    assert got_warned == want_warned == [w for w in want_warned if w.startswith(FREE_TEXT)] != []
    kinds = {c.name: c.kind for c in got}
    assert {n: kinds[n] for n in BOOLEANS} == dict.fromkeys(BOOLEANS, Kind.BOOLEAN)
    assert {n: got[n].categories for n in BOOLEANS} == BOOLEANS  # false first, as written
    # 0/1 stays an integer column in both (its output is 0/1), whole numbers as integers
    assert (kinds["bit"], kinds["age"], kinds["income"]) == (Kind.INTEGER, Kind.INTEGER, Kind.FLOAT)
    # missing values are read from the data, as facts of it
    assert {c.name for c in got if c.nullable} == {"answer", "income"}
    assert {c.source("nullable") for c in got} == {"data"}
    # dropped: neither inferred nor warned about, in both
    for fn, arg in ((infer_schema, table), (duck_schema, files[form])):
        schema, warned = caught(fn, arg, drop=["comment"])
        assert schema.names == [n for n in table.columns if n != "comment"] and warned == []


@pytest.mark.parametrize("form", ["csv", "parquet", "duckdb"])
def test_same_refusal_and_warnings_as_the_dataframe(table, tmp_path, form):
    """Numbers mixed with text are refused alike: the same error, naming the column and the
    fix, after the same warning of the free text before it."""
    frame = with_problems(table).drop(columns=["country", "version", "notes"])
    path = store(frame, tmp_path, form)
    want, want_warned = caught(infer_schema, frame)
    got, got_warned = caught(duck_schema, path)
    assert isinstance(want, LookalikeError) and type(got) is type(want)
    assert str(got) == str(want)
    assert "column 'score'" in str(got) and ("--drop" in str(got) or "--schema" in str(got))
    assert got_warned == want_warned and len(got_warned) == 1 and got_warned[0].startswith(FREE_TEXT)
    assert ("mixes numbers and text (99% of values are numbers; text values at row 5: 'twelve', "
            "row 41: 'twelve', row 42: 'n.a.')") in str(got)


@pytest.mark.parametrize("form", ["csv", "parquet", "duckdb"])
def test_columns_of_one_value_or_none_are_kept_as_in_the_dataframe(table, tmp_path, form):
    """A column of one value (text or number) and one entirely missing were refused; they are
    inferred alike by both paths: the constants as any column, the empty one as a category
    column with no category (so that every synthesizer writes it back empty)."""
    frame = with_problems(table).drop(columns=["score"])
    path = store(frame, tmp_path, form)
    want, want_warned = caught(infer_schema, frame)
    got, got_warned = caught(duck_schema, path)
    assert isinstance(got, Schema) and facts(got) == facts(want)
    assert got_warned == want_warned and len(got_warned) == 1
    assert (got["country"].kind, got["version"].kind) == (Kind.CATEGORICAL, Kind.INTEGER)
    assert (got["notes"].kind, got["notes"].categories, got["notes"].nullable) == \
        (want["notes"].kind, want["notes"].categories, True) == (Kind.CATEGORICAL, (), True)


@pytest.mark.parametrize("form", ["csv", "parquet"])
def test_a_refused_column_stops_inference_and_dropping_it_is_fine(table, tmp_path, form):
    frame = with_problems(table)
    path = store(frame, tmp_path, form)
    want, want_warned = caught(infer_schema, frame)
    got, got_warned = caught(duck_schema, path)
    assert str(got) == str(want) and "'score'" in str(got) and got_warned == want_warned
    dropped = ["comment", "country", "version", "score", "notes"]
    schema, warned = caught(duck_schema, path, drop=dropped)
    assert warned == [] and facts(schema) == facts(infer_schema(frame, drop=dropped))


def test_dropped_columns_are_not_read(table, tmp_path):
    """A dropped CSV column is never typed (its infinite values would be refused), inferred or
    fingerprinted: the ledger sees the table the fit reads, as read_table then drop gives it."""
    frame = table.assign(speed=[str(v) for v in range(N_ROWS - 1)] + ["inf"])
    path = store(frame, tmp_path, "csv")
    assert isinstance(caught(duck_schema, path)[0], LookalikeError)  # read, it is refused
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the free text is dropped: not a warning
        engine = DuckDBEngine(path, drop=["speed", "comment"])
    with engine:
        assert "speed" not in engine.schema and "comment" not in engine.schema
        (tmp_path / "plain").mkdir()
        read = lookalike.read_table(store(table, tmp_path / "plain", "csv"))
        assert engine.fingerprint() == fingerprint_frame(read.drop(columns=["comment"]))
    with pytest.raises(LookalikeError, match=r"cannot drop \['nope'\]: no such columns"):
        DuckDBEngine(path, drop=["nope"])


def spelled(rows: pd.DataFrame, dp: bool) -> None:
    """Booleans written as the input wrote them. A plain fit also keeps the missing answers
    and the 0/1 flag's two values; at ε = 1 on 300 rows the noise may lose those (in both
    paths), not the spelling."""
    words = {"answer": {"yes", "no"}, "flag": {"Y", "N"}, "ok": {"true", "false"}}
    for name, spelling in words.items():
        seen = set(rows[name].dropna())
        assert seen <= spelling if dp else seen == spelling, name
    if not dp:
        assert rows["answer"].isna().any() and not rows["flag"].isna().any()
        assert set(pd.to_numeric(rows["bit"])) == {0, 1}
    assert "comment" not in rows


def release_facts(sheet: dict) -> tuple[list, dict]:
    domain = sheet["domain"]
    return domain["withheld"], {c["name"]: {f["fact"]: (f["value"], f["source"])
                                            for f in c["facts"] if f["fact"] == "nullable"}
                                for c in domain["columns"]}


@pytest.mark.parametrize("form", ["csv", "parquet"])
def test_python_api_dp_and_plain_fits_spell_and_state_alike(table, files, tmp_path, form):
    sheets, outputs = {}, {}
    for engine in ("numpy", "duckdb"):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            model = lookalike.fit(files[form], "mst", drop=["comment"], engine=engine, seed=0,
                                  epsilon=1.0, ledger=tmp_path / f"{engine}.sqlite",
                                  dataset="t", register=True)
            rows = model.sample(N_ROWS, seed=1)
            plain = lookalike.synthesize(files[form], N_ROWS, synthesizer="privbayes",
                                         drop=["comment"], engine=engine, seed=2)
        assert not [w for w in seen if "comment" in str(w.message)]
        spelled(rows, dp=True)
        spelled(plain, dp=False)
        assert model.schema_["answer"].categories == ("no", "yes")
        sheets[engine] = release_facts(build_release_sheet(model, rows, seed=1).to_dict())
        outputs[engine] = {n: str(rows[n].dtype) for n in rows}
    # the same release sheet facts: the booleans' words named as read from the data; under DP
    # missing values are assumed possible in every column (a default, not read), in both
    assert sheets["duckdb"] == sheets["numpy"]
    withheld, nullable = sheets["duckdb"]
    assert sorted(withheld) == sorted(f"{n}: categories" for n in BOOLEANS)
    assert nullable == dict.fromkeys(table.columns.drop("comment"),
                                     {"nullable": (True, "default")})
    assert outputs["duckdb"] == outputs["numpy"]


def test_cli_synth_with_the_duckdb_engine(table, files, tmp_path, cli):
    common = [files["csv"], "-p", "engine=duckdb", "--drop", "comment", "--seed", "0"]
    result = cli("synth", *common, "-o", tmp_path / "dp.csv", "-s", "mst", "--epsilon", 1,
                 "--ledger", tmp_path / "ledger.sqlite", "--model-out", tmp_path / "dp.lookalike")
    assert result.exit_code == 0, result.output
    assert "comment" not in result.stderr
    plain = cli("synth", *common, "-o", tmp_path / "plain.csv", "-s", "privbayes")
    assert plain.exit_code == 0, plain.output
    assert "warning" not in plain.stderr
    for out, dp in (("dp.csv", True), ("plain.csv", False)):
        spelled(pd.read_csv(tmp_path / out, dtype=str, keep_default_na=False, na_values=[""]), dp)
    # the release sheet of that model and its rows (what --report writes beside the report)
    model = lookalike.load_synthesizer(tmp_path / "dp.lookalike")
    rows = lookalike.read_table(tmp_path / "dp.csv")
    withheld, nullable = release_facts(build_release_sheet(model, rows).to_dict())
    assert sorted(withheld) == sorted(f"{n}: categories" for n in BOOLEANS)
    assert set(nullable) == set(table.columns.drop("comment"))
    refused = cli("synth", files["csv"], "-p", "engine=duckdb", "-o", tmp_path / "x.csv",
                  "-s", "mst", "--drop", "nope")
    assert refused.exit_code == 1 and "cannot drop ['nope']" in refused.stderr


NUMBERS_AS_TEXT = {
    # exact as numbers: refused, whatever the order of problems
    "zip": ([f"{v:04d}" for v in range(1000, 1000 + N_ROWS)], "holds numbers stored as text"),
    # more digits than a float keeps: exact categories (few), with a warning
    "rate": ([f"0.1234567890123456789{i % 7}" for i in range(N_ROWS)],
             "holds decimals with more digits than a float keeps (e.g. row 1: "
             "0.12345678901234567890): it is modelled as categories"),
    # unique integers beyond int64, one width: identifiers, no warning
    "account": ([str(10**20 + 7919 * i) for i in range(N_ROWS)], None),
    # an infinite value among numbers: refused, naming its row
    "temp": ([f"{20 + i % 9}.5" for i in range(N_ROWS - 2)] + [None, "-inf"],
             "holds infinite or NaN values (rows [300])"),
}


@pytest.mark.parametrize("name", list(NUMBERS_AS_TEXT))
def test_numbers_stored_as_text_in_parquet_as_in_the_dataframe(table, tmp_path, name):
    """Typed text (Parquet strings) whose values are all numbers: the same kinds, warnings and
    refusals as infer_schema gives read_table's frame (a CSV never has such a column)."""
    values, said = NUMBERS_AS_TEXT[name]
    frame = table[["age", "city"]].assign(**{name: pd.Series(values, dtype=object)})
    path = store(frame, tmp_path, "parquet")
    want, want_warned = caught(lambda: infer_schema(lookalike.read_table(path)))
    got, got_warned = caught(duck_schema, path)
    assert (str(got), got_warned) == (str(want), want_warned) if isinstance(want, Exception) \
        else (facts(got), got_warned) == (facts(want), want_warned)
    shown = [str(got)] if isinstance(got, Exception) else got_warned
    assert (said is None and shown == []) or said in shown[0]
    if name == "account":
        assert (got["account"].kind, got["account"].format) == (Kind.IDENTIFIER, "[0-9]{21}")


def padded_codes(n: int = 1000) -> pd.DataFrame:
    """Codes written with leading zeros: postal codes (5 values, two of them held by 30-40% of
    the rows), hours 00-23 and unique six-digit account numbers, beside an age."""
    rng = np.random.default_rng(5)
    return pd.DataFrame({
        "postcode": rng.choice(["02134", "02139", "00501", "10001", "94105"], n,
                               p=[0.4, 0.3, 0.1, 0.1, 0.1]),
        "hour": [f"{h:02d}" for h in rng.integers(0, 24, n)],
        "account": [f"{v:06d}" for v in rng.permutation(10_000)[:n]],
        "age": rng.integers(18, 90, n),
    })


@pytest.mark.parametrize("form", ["csv", "parquet", "duckdb"])
def test_codes_with_leading_zeros_keep_their_spelling(tmp_path, form):
    """A column with a whole number written with a leading zero is codes, read as text by
    read_table and by the DuckDB engine alike: postal codes and hours are categories, unique
    account numbers identifiers of their width, and every synthesizer writes them with their
    zeros. Before, a CSV's 02134 was read as the integer 2134 (and written so), and the same
    codes as Parquet text were refused as numbers stored as text."""
    frame = padded_codes()
    path = store(frame, tmp_path, form)
    source = {"table": "t"} if form == "duckdb" else {}
    want, want_warned = caught(lambda: infer_schema(lookalike.read_table(path, **source)))
    got, got_warned = caught(duck_schema, path)
    assert isinstance(want, Schema), want
    assert (facts(got), got_warned) == (facts(want), want_warned) and want_warned == []
    assert (want["postcode"].kind, want["hour"].kind) == (Kind.CATEGORICAL, Kind.CATEGORICAL)
    assert (want["account"].kind, want["account"].format) == (Kind.IDENTIFIER, "[0-9]{6}")
    assert want["postcode"].categories == ("00501", "02134", "02139", "10001", "94105")
    fits = [("duckdb", "mst")] if form != "duckdb" else []  # (the engine reads files only)
    for engine, name in [*fits, ("numpy", "mst"), (None, "cart")]:
        dp = {"epsilon": 1.0, "ledger": tmp_path / f"{engine}.sqlite", "dataset": "t",
              "register": True, "engine": engine} if name == "mst" else {}
        rows = lookalike.fit(path, name, seed=0, read_options=source or None, **dp).sample(
            len(frame), seed=1)
        out = tmp_path / f"{engine}.csv"
        lookalike.write_table(rows, out)
        back = pd.read_csv(out, dtype=str)
        codes = set(back["postcode"][back["postcode"].str.fullmatch("[0-9]+")])
        # under DP the rarer codes may be one 'other' (at ε = 1 a code needs about 85 rows)
        assert {"02134", "02139"} <= codes <= set(frame["postcode"]), (engine, name)
        assert back["account"].str.fullmatch("[0-9]{6}").all(), (engine, name)
        if name == "cart":  # every value of a plain fit, zeros included
            assert set(back["postcode"]) == set(frame["postcode"])
            assert set(back["hour"]) <= set(frame["hour"]) and "00" in set(back["hour"])


def test_placeholders_among_numbers_are_missing_values(tmp_path):
    """A CSV column of numbers with ``?`` (UCI), ``.`` (SAS, Stata) or ``-`` (spreadsheets) for
    its missing values was refused as numbers mixed with text; the placeholders are read as
    missing values, with one warning naming each column, how many and which, by read_table and
    the DuckDB engine alike. In a column of text, or one of placeholders alone, they are values."""
    rng = np.random.default_rng(6)
    n = 400
    frame = pd.DataFrame({
        "nuclei": [("?" if rng.random() < 0.05 else str(v)) for v in rng.integers(1, 11, n)],
        "score": [("." if rng.random() < 0.1 else f"{v:.2f}") for v in rng.normal(50, 9, n)],
        "debt": [("-" if i % 10 == 0 else "--" if i % 10 == 5 else str(v))
                 for i, v in enumerate(rng.integers(0, 500, n))],
        "answer": rng.choice(["yes", "no", "?"], n),
        "blank": ["?"] * n,
    })
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    want, want_warned = caught(lambda: infer_schema(lookalike.read_table(path)))
    got, got_warned = caught(duck_schema, path)
    assert isinstance(want, Schema), want
    assert (facts(got), got_warned) == (facts(want), want_warned)
    read = lookalike.read_table(path)
    assert [read[c].isna().sum() for c in ("nuclei", "score", "debt")] == \
        [(frame[c] == t).sum() + (frame[c] == "--").sum() * (c == "debt")
         for c, t in (("nuclei", "?"), ("score", "."), ("debt", "-"))]
    assert (str(read["nuclei"].dtype), str(read["score"].dtype)) == ("Int64", "float64")
    assert [want[c].kind for c in frame] == [Kind.INTEGER, Kind.FLOAT, Kind.INTEGER,
                                             Kind.CATEGORICAL, Kind.CATEGORICAL]
    assert want_warned == [
        f"{path}: placeholders among numbers read as missing values in columns 'nuclei' "
        f"({(frame.nuclei == '?').sum()} of '?'), 'score' ({(frame.score == '.').sum()} of '.'), "
        "'debt' (80 of '-', '--')"]
    assert set(read["answer"]) == {"yes", "no", "?"} and set(read["blank"]) == {"?"}
    for engine in ("duckdb", "numpy"):
        rows = lookalike.fit(path, "mst", engine=engine, seed=0, epsilon=1.0, dataset="t",
                             ledger=tmp_path / f"{engine}.sqlite", register=True).sample(n, seed=1)
        assert pd.to_numeric(rows["score"]).notna().any(), engine  # numbers, not text
        assert not rows["debt"].isin(["-", "--"]).any(), engine


def test_iso_timestamps_with_offsets_or_fractions_are_timestamps(tmp_path, cli):
    """ISO 8601 timestamps with a UTC offset (``2021-03-01T05:00:00+01:00``, ``...Z``) or a
    fraction of a second (``05:00:00.250``) were no date format lookalike read: unique, they
    became identifiers, regenerated as strings such as ``2535-23-36W43:45:33+08:94``. They are
    read as timestamps, in UTC where an offset is written (time zones become UTC, as for any
    input), by read_table and the DuckDB engine alike; plain ISO timestamps stay dates in their
    own spelling."""
    n = 400
    local = pd.date_range("2021-03-20", periods=n, freq="3h", tz="Europe/Berlin")  # across DST
    frame = pd.DataFrame({
        "t_off": [t.isoformat() for t in local],
        "t_z": local.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
        "t_frac": (local.tz_localize(None) + pd.to_timedelta(np.arange(n) % 4 * 250, "ms"))
        .strftime("%Y-%m-%d %H:%M:%S.%f").str[:-3],
        "t_plain": local.strftime("%Y-%m-%dT%H:%M:%S"),
        "age": np.random.default_rng(7).integers(18, 90, n),
    })
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    read = lookalike.read_table(path)
    utc = local.tz_convert("UTC").tz_localize(None)
    assert (read["t_off"] == utc).all() and (read["t_z"] == utc).all()
    assert (read["t_frac"] == pd.to_datetime(frame["t_frac"])).all()
    assert read["t_plain"].dtype == object  # text dates, kept in their spelling
    want, want_warned = caught(lambda: infer_schema(read))
    got, got_warned = caught(duck_schema, path)
    assert (facts(got), got_warned) == (facts(want), want_warned)
    assert [want[c].kind for c in frame][:4] == [Kind.DATETIME] * 4
    assert want["t_plain"].format == "%Y-%m-%dT%H:%M:%S" and want["t_off"].format is None
    outputs = []
    for engine in ("numpy", "duckdb"):  # a plain mst fit: the same rows from both engines
        out = tmp_path / f"{engine}.csv"
        result = cli("synth", path, "-o", out, "-s", "mst", "-p", f"engine={engine}",
                     "-p", "iters=50", "--seed", "0")
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    out = tmp_path / "cart.csv"
    assert cli("synth", path, "-o", out, "--seed", "0").exit_code == 0
    rows = pd.read_csv(out)
    second = pd.Timedelta("1s")  # (lookalike models datetimes to the second)
    for name in ("t_off", "t_z", "t_frac"):  # timestamps, in the real ones' range (UTC)
        stamps, real = pd.to_datetime(rows[name], format="ISO8601"), read[name]
        assert stamps.notna().all() and real.min() - second <= stamps.min() <= stamps.max() \
            <= real.max() + second, name
    assert rows["t_plain"].str.fullmatch(r"[0-9-]{10}T[0-9:]{8}").all()


def test_yes_no_written_in_several_cases_is_one_boolean(tmp_path, cli):
    """A yes/no column that writes its words in more than one case (Yes, YES, no, No) was a
    boolean of four "tokens": its values were matched against the first two (no and No), every
    yes read as missing, and the fit stopped ("column 'answer' has 150 missing values"). It has
    one spelling of each word (the pair in one style: Yes/No), its values are matched whatever
    their case, alike in memory and in DuckDB, and every output writes that pair."""
    rng = np.random.default_rng(8)
    answer = rng.choice(["Yes", "YES", "no", "No"], N_ROWS, p=[0.4, 0.1, 0.3, 0.2])
    frame = pd.DataFrame({"answer": answer, "age": rng.integers(18, 90, N_ROWS)})
    path = store(frame, tmp_path, "csv")
    want, want_warned = caught(lambda: infer_schema(lookalike.read_table(path)))
    got, got_warned = caught(duck_schema, path)
    assert (facts(got), got_warned) == (facts(want), want_warned)
    assert want["answer"].kind is Kind.BOOLEAN and want["answer"].categories == ("No", "Yes")
    yes = np.isin(answer, ["Yes", "YES"])
    conformed = want.conform(lookalike.read_table(path))["answer"]
    assert (conformed.to_numpy(dtype=bool) == yes).all()
    for options in ([], ["-s", "mst", "-p", "engine=duckdb", "--epsilon", "1",
                         "--ledger", tmp_path / "l.sqlite"]):
        out = tmp_path / "out.csv"
        result = cli("synth", path, "-o", out, "--seed", "0", "--overwrite", *options)
        assert result.exit_code == 0, result.output
        written = pd.read_csv(out, dtype=str)["answer"]
        assert set(written.dropna()) <= {"Yes", "No"} and written.notna().any(), options


def test_durations_are_modelled_as_seconds_and_come_back_as_durations(tmp_path):
    """A duration column (pandas timedelta64, Arrow duration: a length of stay) was read as
    text and refused as "numbers stored as text". It is its seconds, in memory and in DuckDB
    (which reads a Parquet duration as a count of its unit) alike, and comes back a duration
    in the input's own type: pandas, polars, Arrow, Parquet."""
    import polars as pl
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(9)
    frame = pd.DataFrame({"stay": pd.to_timedelta(rng.integers(60, 3 * 86400, N_ROWS), "s"),
                          "ward": rng.choice(["A", "B", "C"], N_ROWS)})
    path = store(frame, tmp_path, "parquet")
    want, want_warned = caught(lambda: infer_schema(lookalike.read_table(path)))
    got, got_warned = caught(duck_schema, path)
    assert isinstance(want, Schema), want
    assert (facts(got), got_warned) == (facts(want), want_warned)
    assert want["stay"].kind is Kind.INTEGER  # whole seconds
    seconds = frame["stay"].dt.total_seconds()
    for data, dtype in ((frame, "timedelta64"), (pl.from_pandas(frame), "Duration"),
                        (pa.Table.from_pandas(frame), "duration")):
        out = lookalike.synthesize(data, 200, synthesizer="cart", seed=0)
        col = out["stay"] if not isinstance(out, pa.Table) else out.column("stay")
        kind = str(col.dtype) if not isinstance(out, pa.Table) else str(col.type)
        assert kind.startswith(dtype), kind
    rows = lookalike.synthesize(frame, 200, synthesizer="cart", seed=0)["stay"].dt.total_seconds()
    assert seconds.min() <= rows.min() <= rows.max() <= seconds.max()
    for engine in ("numpy", "duckdb"):
        model = lookalike.fit(path, "mst", engine=engine, seed=0, epsilon=1.0, dataset="t",
                              ledger=tmp_path / f"{engine}.sqlite", register=True)
        out = tmp_path / f"{engine}.parquet"
        lookalike.write_table(model.sample(200, seed=1), out)
        assert pa.types.is_duration(pq.read_schema(out).field("stay").type), engine
