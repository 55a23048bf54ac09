"""Decimal-comma input and the output's dialect (issue 18, friction 8).

``96,87`` reads as the number 96.87 with ``--decimal ,`` (``decimal=","``) on every command
that reads a table, in memory and when DuckDB reads the file itself; without it the column is
named in a warning that says ``--decimal ,``. CSV outputs look like the input (its decimal
comma and delimiter) unless ``--out-decimal``/``--out-delimiter``/``--out-encoding`` say
otherwise, and they read back as written.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lookalike import read_table
from lookalike.io import write_table

N = 300


def _prices(seed: int = 0, n: int = N) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "price": np.round(rng.normal(100, 10, n), 2),
        "units": rng.integers(0, 5, n),
        "city": rng.choice(["Köln", "Zürich", "Genève"], n),
    })


@pytest.fixture
def comma_csv(tmp_path) -> Path:
    """Prices written as a German spreadsheet exports them: ';' between fields, 96,87."""
    path = tmp_path / "prices.csv"
    _prices().to_csv(path, sep=";", decimal=",", index=False)
    assert path.read_text().splitlines()[1].count(",") == 1  # 101,26;0;Köln
    return path


def test_read_table_reads_a_decimal_comma(comma_csv):
    df = read_table(comma_csv, decimal=",")
    assert df["price"].dtype == "float64"
    expected = _prices()["price"].to_numpy()
    assert np.allclose(df["price"].to_numpy(), expected, rtol=0, atol=1e-9)
    assert str(df["units"].dtype) == "Int64" and df["city"].dtype == object


def test_without_decimal_the_column_is_named_with_the_option(comma_csv):
    with pytest.warns(UserWarning, match=r"'price'.*decimal comma.*--decimal ,"):
        df = read_table(comma_csv)
    assert df["price"].dtype == object  # as text, said so: never silently a category


def test_with_decimal_comma_a_decimal_point_is_not_a_number(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("a;b\n1,5;1.5\n2,5;2.5\n")
    with pytest.warns(UserWarning, match=r"'b'.*decimal point"):
        df = read_table(path, decimal=",")
    assert df["a"].tolist() == [1.5, 2.5] and df["b"].tolist() == ["1.5", "2.5"]


def test_a_bad_decimal_is_refused_by_name(comma_csv):
    from lookalike.errors import ConfigError

    with pytest.raises(ConfigError, match="decimal"):
        read_table(comma_csv, decimal=";")


def test_inspect_reads_the_decimal_comma(tmp_path, cli, comma_csv):
    schema = tmp_path / "schema.json"
    result = cli("inspect", comma_csv, "--decimal", ",", "--delimiter", ";", "-o", schema)
    assert result.exit_code == 0, result.output
    from lookalike.schema import as_schema

    assert as_schema(schema)["price"].kind.value == "float"
    # without it: a warning that names the column and the option
    result = cli("inspect", comma_csv, "-o", tmp_path / "plain.json")
    assert "'price'" in result.stderr and "--decimal ," in result.stderr


@pytest.mark.filterwarnings("ignore:column 'price' has")  # as text: too many values, excluded
def test_duckdb_reads_the_file_as_read_table_does(comma_csv):
    """The engine that leaves the rows in DuckDB types, counts and fingerprints the file as
    read_table with decimal="," does, and warns alike without it."""
    from lookalike.io import CsvFile
    from lookalike.marginals.duckdb import DuckDBEngine
    from lookalike.privacy.fingerprint import fingerprint_frame
    from lookalike.schema import infer_schema

    frame = read_table(comma_csv, decimal=",")
    with DuckDBEngine(CsvFile(comma_csv, decimal=",")) as engine:
        assert [(c.name, c.kind) for c in engine.schema] == \
            [(c.name, c.kind) for c in infer_schema(frame)]
        edges = [90.0, 100.0, 110.0]
        expected = np.bincount(np.searchsorted(edges, frame["price"], side="right"), minlength=4)
        assert engine.histogram("price", edges).tolist() == expected.tolist()
        assert engine.fingerprint() == fingerprint_frame(frame)
        assert engine.delimiter == ";"
    with pytest.warns(UserWarning, match=r"'price'.*decimal comma.*--decimal ,"), \
            DuckDBEngine(comma_csv) as engine:
        assert engine.schema["price"].kind.value != "float"


def test_synth_in_memory_and_in_duckdb_agree(tmp_path, cli, comma_csv):
    """mst on the rows in memory and on the file left in DuckDB: the same rows, written with
    the input's decimal comma and delimiter."""
    outputs = []
    for engine in ("numpy", "duckdb"):
        out = tmp_path / f"{engine}.csv"
        result = cli("synth", comma_csv, "-o", out, "-s", "mst", "-p", f"engine={engine}",
                     "-p", "iters=50", "--decimal", ",", "--seed", "0")
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    text = outputs[0].decode()
    assert text.startswith("price;units;city\n")
    back = read_table(tmp_path / "numpy.csv", decimal=",")
    assert back["price"].dtype == "float64"
    # the synthetic prices lie where the real ones do (mst bins them: within the real range)
    assert 60 < back["price"].mean() < 140


def test_output_keeps_the_decimal_comma_and_reads_back(tmp_path, cli, comma_csv):
    out = tmp_path / "synthetic.csv"
    model = tmp_path / "model.lookalike"
    result = cli("synth", comma_csv, "-o", out, "-s", "independent", "--seed", "0",
                 "--decimal", ",", "--model-out", model)
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert lines[0] == "price;units;city"
    assert "," in lines[1].split(";")[0] and "." not in lines[1]
    back = read_table(out, decimal=",")
    assert back["price"].dtype == "float64" and len(back) == N
    # sample from the saved model: the model file keeps the dialect
    sampled = tmp_path / "sampled.csv"
    result = cli("sample", model, "-n", "20", "-o", sampled, "--seed", "1")
    assert result.exit_code == 0, result.output
    assert sampled.read_text().splitlines()[0] == "price;units;city"
    assert read_table(sampled, decimal=",")["price"].dtype == "float64"


def test_output_options_override_the_input_dialect(tmp_path, cli, comma_csv):
    out = tmp_path / "synthetic.csv"
    result = cli("synth", comma_csv, "-o", out, "-s", "independent", "--seed", "0",
                 "--decimal", ",", "--out-decimal", ".", "--out-delimiter", "|",
                 "--out-encoding", "cp1252")
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # ö, ü, è in cp1252
    text = raw.decode("cp1252")
    assert text.splitlines()[0] == "price|units|city" and "Zürich" in text
    back = read_table(out, encoding="cp1252", delimiter="|")
    assert back["price"].dtype == "float64"
    assert set(back["city"]) <= {"Köln", "Zürich", "Genève"}


def test_an_encoding_that_cannot_write_a_value_names_it(tmp_path, cli, comma_csv, one_error_line):
    out = tmp_path / "synthetic.csv"
    line = one_error_line(cli("synth", comma_csv, "-o", out, "-s", "independent", "--seed", "0",
                              "--decimal", ",", "--out-encoding", "ascii"))
    assert "'city'" in line and "--out-encoding utf-8" in line
    assert not out.exists()
    line = one_error_line(cli("synth", comma_csv, "-o", out, "-s", "independent",
                              "--out-decimal", ";"))
    assert "--out-decimal" in line


def test_write_table_round_trips_every_dialect(tmp_path):
    df = read_table(_prices(n=50))
    for delimiter, decimal, encoding in ((";", ",", "utf-8"), ("\t", ",", "utf-16"),
                                         ("|", ".", "latin-1"), (",", ".", "utf-8-sig")):
        path = write_table(df, tmp_path / "t.csv", overwrite=True, delimiter=delimiter,
                           decimal=decimal, encoding=encoding)
        back = read_table(path, delimiter=delimiter, decimal=decimal,
                          encoding=None if encoding.startswith("utf") else encoding)
        pd.testing.assert_frame_equal(back, df, check_dtype=False, check_exact=False)


def test_evaluate_and_audit_read_every_table_with_the_decimal_comma(tmp_path, cli, comma_csv):
    """REAL, the holdout (written as REAL is) and SYNTHETIC (written by synth as REAL was)
    are all read with --decimal: price is compared as a number, not as text."""
    holdout = tmp_path / "holdout.csv"
    _prices(seed=1, n=100).to_csv(holdout, sep=";", decimal=",", index=False)
    synthetic = tmp_path / "synthetic.csv"
    result = cli("synth", comma_csv, "-o", synthetic, "-s", "independent", "--seed", "0",
                 "--decimal", ",")
    assert result.exit_code == 0, result.output
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = tmp_path / "eval.html"
        result = cli("evaluate", comma_csv, synthetic, "--holdout", holdout, "-o", report,
                     "--decimal", ",", "--delimiter", ";")
    assert result.exit_code == 0, result.output
    assert "decimal comma" not in result.output
    numbers = json.loads(report.with_suffix(".json").read_text())
    kinds = {c["name"]: c["kind"] for c in numbers["evaluation"]["fidelity"]["columns"]}
    assert kinds["price"] == "float"
    assert numbers["provenance"]["evaluation"]["n_holdout"] == 100
    result = cli("audit", comma_csv, synthetic, "--holdout", holdout, "-o", tmp_path / "a.html",
                 "--decimal", ",", "--delimiter", ";")
    assert result.exit_code == 0, result.output
    assert "decimal comma" not in result.output


def _fixed_csv(path: Path, decimal: str = ".", sep: str = ",") -> Path:
    """Prices written with two decimals always ("12.50", as a spreadsheet or a database
    exports money) beside weights written with as few as each needs (12.5, 3.25)."""
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({
        "price": [f"{v:.2f}".replace(".", decimal) for v in rng.uniform(1, 200, N)],
        "weight": [repr(float(v)).replace(".", decimal) for v in np.round(rng.gamma(4, 2, N), 2)],
        "units": rng.integers(0, 5, N),
    })
    frame.to_csv(path, sep=sep, index=False)
    assert frame["price"].str.endswith("0").sum() > N * 0.05  # some written zeros
    return path


@pytest.mark.parametrize("decimal", [".", ","])
def test_fixed_decimals_are_written_as_the_input_wrote_them(tmp_path, cli, decimal):
    """A column written with two decimals always comes back so ("12.50", not "12.5"), with
    the input's decimal mark, from every path that writes a CSV: a plain fit written at once,
    mst with the rows in memory and in DuckDB (the same bytes), and a saved model sampled in
    chunks; a column written with as few decimals as each value needs stays so."""
    sep = ";" if decimal == "," else ","
    path = _fixed_csv(tmp_path / "in.csv", decimal, sep)
    read = ["--decimal", decimal]
    two = rf"-?[0-9]+{re.escape(decimal)}[0-9]{{2}}"
    outputs = {}
    for name, options in (("cart", []), ("numpy", ["-s", "mst", "-p", "engine=numpy"]),
                          ("duckdb", ["-s", "mst", "-p", "engine=duckdb"])):
        out = tmp_path / f"{name}.csv"
        model = tmp_path / f"{name}.lookalike"
        result = cli("synth", path, "-o", out, *options, "--seed", "0", *read,
                     "--model-out", model)
        assert result.exit_code == 0, result.output
        outputs[name] = out.read_bytes()
        sampled = tmp_path / f"{name}_sampled.csv"
        result = cli("sample", model, "-n", "500", "-o", sampled, "--seed", "1",
                     "--chunk-rows", "100")
        assert result.exit_code == 0, result.output
        for written in (out, sampled):
            rows = pd.read_csv(written, sep=sep, dtype=str, keep_default_na=False)
            assert rows["price"].str.fullmatch(two).all(), (name, written.name)
            assert rows["price"].str.endswith("0").any(), (name, written.name)
            fraction = rows["weight"].str.split(re.escape(decimal), regex=True).str[1]
            assert not (fraction.str.len().gt(1) & fraction.str.endswith("0")).any(), name
    assert outputs["numpy"] == outputs["duckdb"]


def _formatted_csv(path: Path, decimal: str) -> Path:
    """Prices with a currency sign and thousands separators, rates with a percent sign, and
    counts with separators only (up to millions: 1,234,567), as spreadsheets export them; with
    a decimal comma, "1.234,50 €"."""
    rng = np.random.default_rng(5)
    group, sep = ("," if decimal == "." else "."), (";" if decimal == "," else ",")

    def spelled(v: float, k: int) -> str:
        return f"{v:,.{k}f}".translate(str.maketrans({",": group, ".": decimal}))

    price = rng.lognormal(6, 1.5, N) * rng.choice([1, -1], N, p=[0.9, 0.1])
    sign, prefix, suffix = ("-", "$", "") if decimal == "." else ("-", "", " €")
    frame = pd.DataFrame({
        "price": [(sign if v < 0 else "") + prefix + spelled(abs(v), 2) + suffix for v in price],
        "rate": [spelled(v, 1) + "%" for v in rng.uniform(0, 100, N)],
        "visits": [spelled(v, 0) for v in rng.lognormal(10, 2, N).round()],
        "units": rng.integers(0, 5, N),
    })
    frame.to_csv(path, sep=sep, index=False)
    return path


@pytest.mark.parametrize("decimal", [".", ","])
def test_formatted_numbers_are_numbers_written_back_in_their_format(tmp_path, cli, decimal):
    """Numbers written with a currency or percent sign or thousands separators ($1,234.50,
    12.5%, 1.234,50 €, 1,234,567) were text, excluded as free text; they are numbers, read
    alike in memory and by DuckDB, and every path that writes a CSV writes them in their
    format. Separators alone where they could be a decimal comma (4,321) stay text."""
    import pyarrow as pa

    from lookalike.io import formatted_numbers

    assert formatted_numbers(pa.array(["4,321", "5,678"]), ".") is None
    sep = ";" if decimal == "," else ","
    path = _formatted_csv(tmp_path / "in.csv", decimal)
    read = read_table(path, decimal=decimal)
    assert [str(read[c].dtype) for c in ("price", "rate", "visits")] == ["float64", "float64",
                                                                         "Int64"]
    assert (read["price"] < 0).any() and read["price"].abs().max() > 1000
    money = (r"-?\$[0-9]{1,3}(,[0-9]{3})*\.[0-9]{2}" if decimal == "."
             else r"-?[0-9]{1,3}(\.[0-9]{3})*,[0-9]{2} €")
    rate = rf"[0-9]+{re.escape(decimal)}[0-9]%"
    visits = rf"[0-9]{{1,3}}({re.escape('.' if decimal == ',' else ',')}[0-9]{{3}})*"
    outputs = {}
    for name, options in (("cart", []), ("numpy", ["-s", "mst", "-p", "engine=numpy"]),
                          ("duckdb", ["-s", "mst", "-p", "engine=duckdb"])):
        out, model = tmp_path / f"{name}.csv", tmp_path / f"{name}.lookalike"
        result = cli("synth", path, "-o", out, *options, "--seed", "0", "--decimal", decimal,
                     "--model-out", model)
        assert result.exit_code == 0, result.output
        outputs[name] = out.read_bytes()
        sampled = tmp_path / f"{name}_sampled.csv"
        assert cli("sample", model, "-n", "300", "-o", sampled, "--seed", "1",
                   "--chunk-rows", "100").exit_code == 0
        for written in (out, sampled):
            rows = pd.read_csv(written, sep=sep, dtype=str, keep_default_na=False)
            assert rows["price"].str.fullmatch(money).all(), (name, rows["price"].head(3))
            assert rows["rate"].str.fullmatch(rate).all(), (name, rows["rate"].head(3))
            assert rows["visits"].str.fullmatch(visits).all(), (name, rows["visits"].head(3))
    assert outputs["numpy"] == outputs["duckdb"]


def test_separators_that_may_be_a_decimal_comma_are_named_both_ways(tmp_path):
    """22,026 is 22026 with a thousands separator or 22.026 with a decimal comma: the column
    stays text in both readers, and their one warning names both readings, so that passing
    decimal=',' is not the only advice (it would read 22.026)."""
    import duckdb  # noqa: F401  (the DuckDB engine)

    from lookalike.marginals.duckdb import schema_from_duckdb

    rng = np.random.default_rng(6)
    path = tmp_path / "t.csv"
    pd.DataFrame({"visits": [f"{v:,}" for v in rng.integers(1000, 99_000, N)],
                  "units": rng.integers(0, 5, N)}).to_csv(path, index=False)
    said = []
    for read in (lambda: read_table(path), lambda: schema_from_duckdb(path)):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            read()
        said.append([str(w.message) for w in seen if "decimal comma" in str(w.message)])
    assert said[0] == said[1] and len(said[0]) == 1
    assert "pass decimal=','" in said[0][0] and "separate thousands, do not pass it" in said[0][0]
    assert read_table(path)["visits"].dtype == object
