"""Sampling at scale: chunks streamed to one file (sample_to_file), partitions on Spark
(sample_spark), and ``lookalike sample`` on both."""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import lookalike
from lookalike.errors import ConditionError, ConfigError, OutputExistsError
from lookalike.io import TableWriter, arrow_output, write_table
from lookalike.synthesizers import _bulk, load_synthesizer, sample_spark, sample_to_file
from lookalike.synthesizers._arrow_rows import ArrowRows
from lookalike.synthesizers._bulk import partition_rows


@pytest.fixture(scope="module")
def mst():
    """A DP model of 500 Adult rows (fitted in a second)."""
    real = lookalike.load_demo().sample(500, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lookalike.fit(real, "mst", epsilon=1, seed=0)


def typed_frame(n: int = 300) -> pd.DataFrame:
    """Columns whose output types write_table keeps: an int16 with gaps, an ordered
    categorical, time-zone-aware timestamps, days, yes/no text, numbered and patterned keys."""
    rng = np.random.default_rng(1)
    visits = pd.array(rng.integers(0, 9, n), dtype="Int16")
    visits[rng.random(n) < 0.1] = pd.NA
    return pd.DataFrame({
        "id": np.arange(1000, 1000 + n),
        "code": [f"{c}{i:05d}" for c, i in zip(rng.choice(list("ABCDEFGHIJ"), n),
                                                 rng.permutation(n), strict=True)],
        "visits": visits,
        "grade": pd.Categorical(rng.choice(["low", "mid", "high"], n),
                                categories=["low", "mid", "high"], ordered=True),
        "seen": (pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 9000, n), unit="h"))
        .tz_localize("Europe/Paris"),
        "day": pd.Timestamp("2000-01-01") + pd.to_timedelta(rng.integers(0, 3000, n), unit="D"),
        "smoker": rng.choice(["yes", "no"], n),
    })


@pytest.fixture(scope="module")
def typed():
    return lookalike.get_synthesizer("independent").fit(typed_frame(), seed=0)


def expected_seed(seed: int, i: int) -> np.random.Generator:
    """Chunk ``i``'s generator as the docstrings state it."""
    if i == 0:
        return np.random.default_rng(seed)
    return np.random.default_rng(np.random.SeedSequence(seed).spawn(i + 1)[i])


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


# ------------------------------------------------------------------------------ one machine
def wide_frame(n: int = 300) -> pd.DataFrame:
    """typed_frame's columns and more dtypes: narrow and unsigned integers, float32 with
    gaps, pandas strings, text with gaps, mostly missing columns (a short draw then has none
    of their values), booleans, text dates."""
    rng = np.random.default_rng(2)
    frame = typed_frame(n)
    sparse = pd.array(rng.integers(0, 50, n), dtype="Int16")
    sparse[rng.random(n) < 0.9] = pd.NA
    ratio = rng.normal(1, 0.2, n).astype("float32")
    ratio[rng.random(n) < 0.2] = np.nan
    return frame.assign(
        code8=rng.integers(1, 6, n).astype("int8"),
        count=rng.integers(0, 200, n).astype("uint16"),
        ratio=ratio,
        score=rng.normal(50, 10, n),
        city=pd.Series(rng.choice(["Oslo", "Rome", "Lima"], n), dtype="string"),
        town=pd.Series(np.where(rng.random(n) < 0.3, None, rng.choice(["a", "b", "c"], n)),
                       dtype=object),
        rare=pd.Series(np.where(rng.random(n) < 0.9, None, rng.choice(["x", "y"], n)),
                       dtype=object),
        sparse=sparse,
        flag=rng.random(n) < 0.3,
        when=(pd.Timestamp("1990-01-01") + pd.to_timedelta(rng.integers(0, 9000, n), "D"))
        .strftime("%d/%m/%Y"),
    )


def test_arrow_rows_are_the_table_of_sample(mst, tmp_path):
    """ArrowRows.draw gives arrow_output(model.sample(...)) for the same generator: the same
    values, Arrow types and schema metadata (hence the same Parquet bytes), whatever the
    column types, the container (pandas, Arrow), a CSV input's dialect, a DP or non-DP
    family, and draws too short to hold a value of a mostly missing column."""
    frame = wide_frame()
    csv = tmp_path / "wide.csv"
    frame.drop(columns=["seen"]).to_csv(csv, sep=";", decimal=",", index=False)
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    models = [mst, lookalike.get_synthesizer("independent").fit(frame, seed=0),
              lookalike.get_synthesizer("independent").fit(arrow, seed=0),
              lookalike.get_synthesizer("independent").fit(
                  lookalike.read_table(csv, decimal=","), seed=0),
              # ε = 2: at ε = 1 these 300 rows are too few to find the ranges surely (refused)
              quiet(lookalike.get_synthesizer("privbayes").fit, frame, epsilon=2.0, seed=0),
              quiet(lookalike.get_synthesizer("mst").fit, arrow, epsilon=2.0, seed=0)]
    models.append(load_synthesizer(models[3].save(tmp_path / "csv.lookalike")))
    assert models[3].storage_.csv == {"decimal": ",", "delimiter": ";"}
    for model in models:
        rows = ArrowRows.of(model)
        for n, seed in [(700, 3)] + [(1, s) for s in range(6)]:
            ours = quiet(rows.draw, n, np.random.default_rng(seed))
            theirs = arrow_output(quiet(model.sample, n, seed=np.random.default_rng(seed)),
                                  model.schema_)
            assert ours.equals(theirs, check_metadata=True), (model, n, seed)
    # a polars container, and families without decoded columns, are sampled by model.sample
    pl = pytest.importorskip("polars")
    assert ArrowRows.of(lookalike.get_synthesizer("independent").fit(pl.from_pandas(frame))) is None
    assert ArrowRows.of(lookalike.get_synthesizer("cart").fit(frame.head(100), seed=0)) is None


def test_parquet_chunks_skip_the_frame_of_sample(mst, tmp_path, monkeypatch):
    """Parquet chunks of mst come from the decoded columns, never through model.sample's
    frame (its object columns are what cost the time); CSV chunks and conditioned ones do."""
    def refused(*args, **kwargs):
        raise AssertionError("sampled through model.sample")

    reference = sample_to_file(mst, tmp_path / "a.parquet", 2500, seed=3, chunk_rows=1000)
    monkeypatch.setattr(mst, "sample", refused)
    again = sample_to_file(mst, tmp_path / "b.parquet", 2500, seed=3, chunk_rows=1000)
    assert again.read_bytes() == reference.read_bytes()
    for path, options in ((tmp_path / "c.csv", {}),
                          (tmp_path / "d.parquet", {"conditions": {"sex": "Male"}})):
        with pytest.raises(AssertionError, match="through model.sample"):
            sample_to_file(mst, path, 10, seed=0, **options)


@pytest.mark.parametrize("ext", ["parquet", "csv", "csv.gz", "tsv"])
def test_one_chunk_is_the_file_write_table_writes(mst, tmp_path, ext):
    for n, chunk in ((700, 1_000_000), (700, 700)):
        ours = sample_to_file(mst, tmp_path / f"a{chunk}.{ext}", n, seed=3, chunk_rows=chunk)
        theirs = write_table(mst.sample(n, seed=3), tmp_path / f"b{chunk}.{ext}",
                             schema=mst.schema_)
        assert ours.read_bytes() == theirs.read_bytes()


def test_chunks_are_drawn_from_the_documented_seeds(mst, tmp_path):
    path = sample_to_file(mst, tmp_path / "rows.parquet", 2500, seed=3, chunk_rows=1000)
    meta = pq.ParquetFile(path).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [1000, 1000, 500]
    parts = [mst.sample(k, seed=expected_seed(3, i)) for i, k in enumerate((1000, 1000, 500))]
    ref = write_table(pd.concat(parts, ignore_index=True), tmp_path / "ref.parquet",
                      schema=mst.schema_)
    pd.testing.assert_frame_equal(pd.read_parquet(path), pd.read_parquet(ref))


def test_reproducible_from_the_seed_and_chunk_size(mst, tmp_path):
    def draw(name, n=2500, seed=3, chunk=1000):
        return sample_to_file(mst, tmp_path / name, n, seed=seed, chunk_rows=chunk).read_bytes()

    for ext in ("parquet", "csv"):
        assert draw(f"a.{ext}") == draw(f"b.{ext}")
        assert draw(f"c.{ext}") != draw(f"d.{ext}", seed=4)
    draw("e.parquet", chunk=900)
    other_chunks = pd.read_parquet(tmp_path / "e.parquet")
    assert len(other_chunks) == 2500
    assert not other_chunks.equals(pd.read_parquet(tmp_path / "a.parquet"))
    draw("short.parquet", n=2000)  # the same whole chunks
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "short.parquet"),
                                  pd.read_parquet(tmp_path / "a.parquet").head(2000))
    # a SeedSequence or Generator as the seed: reproducible too, and a Generator is consumed
    ss = np.random.SeedSequence(11)
    assert draw("s1.parquet", seed=ss) == draw("s2.parquet", seed=np.random.SeedSequence(11))
    gen = np.random.default_rng(5)
    assert draw("g1.parquet", seed=gen) != draw("g2.parquet", seed=gen)


@pytest.mark.parametrize("container", ["pandas", "arrow", "polars"])
def test_chunked_parquet_has_write_tables_types(container, tmp_path):
    frame = typed_frame()
    data = {"pandas": frame, "arrow": pa.Table.from_pandas(frame, preserve_index=False),
            "polars": None}[container]
    if container == "polars":
        pl = pytest.importorskip("polars")
        data = pl.from_pandas(frame)
    model = lookalike.get_synthesizer("independent").fit(data, seed=0)
    path = quiet(sample_to_file, model, tmp_path / "rows.parquet", 900, seed=2, chunk_rows=250)
    whole = write_table(model.sample(900, seed=2), tmp_path / "whole.parquet", schema=model.schema_)
    assert pq.read_schema(path).equals(pq.read_schema(whole), check_metadata=False)
    assert pq.ParquetFile(path).metadata.num_row_groups == 4
    got, ref = pd.read_parquet(path), pd.read_parquet(whole)
    assert len(got) == 900
    assert got.dtypes.to_dict() == ref.dtypes.to_dict()
    if container != "polars":  # (polars categoricals have no order of their own)
        assert got["grade"].dtype == frame["grade"].dtype  # categories and their order
    assert str(got["seen"].dt.tz) == "Europe/Paris"
    assert set(got["smoker"]) <= {"yes", "no"}
    # numbered keys continue from chunk to chunk: unique over the file
    assert got["id"].tolist() == list(range(1, 901))


def test_patterned_keys_warn_of_repeats_across_chunks(typed, tmp_path):
    # 'code' ([A-Z][0-9]{5}: 2.6 million values): 900 * 650 / 2 / 2.6e6 = 0.11 repeats expected
    with pytest.warns(UserWarning, match=r"column 'code'.*about 0\.11 repeated keys.*900 rows"):
        sample_to_file(typed, tmp_path / "a.parquet", 900, seed=2, chunk_rows=250)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one chunk: unique, no warning
        sample_to_file(typed, tmp_path / "b.parquet", 900, seed=2, chunk_rows=900)


def test_csv_chunks_have_one_header_and_write_tables_text(typed, tmp_path):
    path = quiet(sample_to_file, typed, tmp_path / "rows.csv", 900, seed=2, chunk_rows=250)
    lines = path.read_text().splitlines()
    assert len(lines) == 901 and lines[0].startswith("id,code,visits")
    assert sum(line == lines[0] for line in lines) == 1
    body = []
    for i, k in enumerate((250, 250, 250, 150)):  # each chunk as write_table writes it alone
        part = typed.sample(k, seed=expected_seed(2, i))
        part["id"] = range(250 * i + 1, 250 * i + k + 1)
        text = write_table(part, tmp_path / f"part{i}.csv", schema=typed.schema_).read_text()
        body += text.splitlines()[1:]
    assert lines[1:] == body
    gz = quiet(sample_to_file, typed, tmp_path / "rows.csv.gz", 900, seed=2, chunk_rows=250)
    import gzip

    assert gzip.decompress(gz.read_bytes()).decode() == path.read_text()


def test_conditions_hold_in_every_chunk(mst, tmp_path):
    cond = {"race": "White", "age": ">=40"}
    path = sample_to_file(mst, tmp_path / "rows.parquet", 2500, seed=1, chunk_rows=600,
                          conditions=cond)
    rows = pd.read_parquet(path)
    assert len(rows) == 2500
    assert (rows["race"] == "White").all() and (rows["age"] >= 40).all()
    path = sample_to_file(mst, tmp_path / "rows.csv", 1300, seed=1, chunk_rows=600,
                          conditions=["30<=age<60", "sex=Male"])  # (wide: the DP model's noise
    rows = pd.read_csv(path)                                    # is not seedable)
    assert rows["age"].between(30, 59).all() and (rows["sex"] == "Male").all()
    with pytest.raises(ConditionError, match="per-row conditions.*model.sample"):
        sample_to_file(mst, tmp_path / "t.parquet", 2, conditions=pd.DataFrame({"sex": ["Male"]}))
    with pytest.raises(ConditionError, match="'nope'"):
        sample_to_file(mst, tmp_path / "t.parquet", 2, conditions={"nope": 1})
    assert not (tmp_path / "t.parquet").exists()


@pytest.mark.parametrize("ext", ["parquet", "csv"])
@pytest.mark.parametrize("workers", [1, 3, None])
def test_memory_is_bounded_by_the_chunks(mst, tmp_path, monkeypatch, ext, workers):
    """No draw is of more than chunk_rows rows, and a chunk is drawn only when at most
    workers + 1 chunks exist (one chunk, one at a time, with workers=1): counted when a draw
    starts, against the chunks the file has taken; the draws run in the sampling threads
    (by default one per core for Parquet, and none for CSV, which pandas writes holding the
    GIL)."""
    lock, asked, held, written, threads = threading.Lock(), [], [], [0], set()
    draw, write = _bulk._draw_chunk, TableWriter.write

    def drawing(model, root, plan, arrow, i, k):
        with lock:
            asked.append(k)
            held.append(len(asked) - written[0])  # chunks begun and not yet written, this one too
            threads.add(threading.current_thread().name.split("_")[0])
        return draw(model, root, plan, arrow, i, k)

    def writing(self, part):
        write(self, part)
        with lock:
            written[0] += 1

    monkeypatch.setattr(_bulk, "_draw_chunk", drawing)
    monkeypatch.setattr(TableWriter, "write", writing)
    sample_to_file(mst, tmp_path / f"rows.{ext}", 10_001, seed=0, chunk_rows=1000,
                   workers=workers)
    assert sorted(asked, reverse=True) == [1000] * 10 + [1] and written[0] == 11
    expected = workers or (_bulk.default_workers() if ext == "parquet" else 1)
    if expected == 1:
        assert max(held) == 1 and threads == {threading.main_thread().name}
    else:
        assert max(held) <= expected + 1 and threads == {"lookalike-sample"}


@pytest.mark.parametrize("workers", [1, 2])
def test_output_is_atomic(mst, tmp_path, monkeypatch, workers):
    target = tmp_path / "rows.parquet"
    target.write_bytes(b"precious")
    with pytest.raises(OutputExistsError, match="already exists"):
        sample_to_file(mst, target, 10, seed=0)
    draw, calls = _bulk._draw_chunk, []

    def failing(model, root, plan, arrow, i, k):
        calls.append(i)
        if i == 2:
            raise MemoryError("simulated")
        return draw(model, root, plan, arrow, i, k)

    monkeypatch.setattr(_bulk, "_draw_chunk", failing)
    with pytest.raises(MemoryError):
        sample_to_file(mst, target, 5000, seed=0, chunk_rows=1000, overwrite=True,
                       workers=workers)
    calls.clear()
    with pytest.raises(MemoryError):
        sample_to_file(mst, tmp_path / "new.csv", 5000, seed=0, chunk_rows=1000,
                       workers=workers)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.parquet"]
    assert target.read_bytes() == b"precious"
    monkeypatch.undo()
    sample_to_file(mst, target, 10, seed=0, overwrite=True)
    assert pq.read_metadata(target).num_rows == 10


@pytest.mark.parametrize("ext", ["parquet", "csv", "csv.gz"])
def test_threads_write_the_serial_file(mst, typed, tmp_path, ext):
    """Chunks drawn by several threads give the file one thread writes, byte for byte: for
    Arrow-built chunks (mst to Parquet), sample's frames (CSV), keys numbered on and the
    typed columns of ``typed``, and conditions."""
    cases = [(mst, {}), (typed, {}), (mst, {"conditions": {"sex": "Male"}})]
    for j, (model, options) in enumerate(cases):
        files = [quiet(sample_to_file, model, tmp_path / f"{j}-{w}.{ext}", 2345, seed=5,
                       chunk_rows=500, workers=w, **options).read_bytes() for w in (1, 2, 4)]
        assert files[0] == files[1] == files[2]
    if hasattr(os, "sched_getaffinity"):
        assert _bulk.default_workers() == min(len(os.sched_getaffinity(0)), 4)
    with pytest.raises(ConfigError, match="workers must be a positive whole number"):
        sample_to_file(mst, tmp_path / "w.parquet", 10, workers=0)


def test_options_are_checked_before_sampling(mst, tmp_path):
    with pytest.raises(ConfigError, match=r"no option 'schema'.*\['format', 'delimiter'"):
        sample_to_file(mst, tmp_path / "a.csv", 10, schema=None)
    with pytest.raises(ConfigError, match="chunk_rows must be a positive"):
        sample_to_file(mst, tmp_path / "a.csv", 10, chunk_rows=0)
    with pytest.raises(ConfigError, match="n must be a positive"):
        sample_to_file(mst, tmp_path / "a.csv", 0)
    with pytest.raises(ConfigError, match="unknown output encoding"):
        sample_to_file(mst, tmp_path / "a.csv", 10, encoding="nope")
    assert list(tmp_path.iterdir()) == []
    out = sample_to_file(mst, tmp_path / "a.txt", 10, seed=0, format="csv", delimiter=";")
    assert out.read_text().startswith("age;workclass;")


# ------------------------------------------------------------------------------------ Spark
def by_partition(df) -> list[pd.DataFrame]:
    """A Spark sample's rows, per partition in order (a test may collect them)."""
    from pyspark.sql import functions as F

    rows = df.withColumn("_part", F.spark_partition_id()).toPandas()
    return [g.drop(columns="_part").reset_index(drop=True) for _, g in rows.groupby("_part")]


@pytest.mark.slow  # (90 s on CI's 2 cores)
def test_spark_partitions_are_the_single_machine_streams(spark, mst, tmp_path):
    n, p = 2501, 3
    df = sample_spark(mst, n, spark=spark, partitions=p, seed=7, chunk_rows=400)
    assert df.rdd.getNumPartitions() == p
    parts = by_partition(df)  # (the count through an aggregate: see the next tests)
    assert [len(x) for x in parts] == [partition_rows(n, p, i)[0] for i in range(p)] \
        == [834, 834, 833]
    for i, part in enumerate(parts):
        seed = np.random.SeedSequence(7).spawn(p)[i]
        path = sample_to_file(mst, tmp_path / f"p{i}.parquet", len(part), seed=seed,
                              chunk_rows=400)
        pd.testing.assert_frame_equal(part, pd.read_parquet(path), check_dtype=False)
    again = by_partition(sample_spark(mst, n, spark=spark, partitions=p, seed=7, chunk_rows=400))
    assert all(a.equals(b) for a, b in zip(parts, again, strict=True))
    other = by_partition(sample_spark(mst, n, spark=spark, partitions=p, seed=8, chunk_rows=400))
    assert not any(a.equals(b) for a, b in zip(parts, other, strict=True))
    # another partition count splits and seeds the rows otherwise (per the rule above)
    assert partition_rows(n, 2, 0) == (1251, 0) and partition_rows(n, 2, 1) == (1250, 1251)


def test_spark_types_keys_and_conditions(spark, typed):
    from pyspark.sql import types as T

    df = quiet(sample_spark, typed, 1000, spark=spark, partitions=3, seed=1, chunk_rows=200,
               conditions={"grade": ["low", "high"]})
    kinds = {f.name: type(f.dataType) for f in df.schema.fields}
    assert kinds == {"id": T.LongType, "code": T.StringType, "visits": T.ShortType,
                     "grade": T.StringType, "seen": T.TimestampType, "day": T.TimestampNTZType,
                     "smoker": T.StringType}
    rows = df.toPandas()
    assert sorted(rows["id"]) == list(range(1, 1001))  # numbered on across partitions
    assert set(rows["grade"]) == {"low", "high"} and set(rows["smoker"]) <= {"yes", "no"}


def test_spark_driver_never_collects_generated_rows(spark, mst, tmp_path, monkeypatch):
    from pyspark.sql import functions as F

    from lookalike.marginals.spark import _aggregates, fetch_aggregate

    df = sample_spark(mst, 3000, spark=spark, partitions=2, seed=0, chunk_rows=1000)
    DataFrame = type(df)
    collect = DataFrame.collect

    def aggregates_only(self):
        assert _aggregates(self._jdf.queryExecution().optimizedPlan()), "rows reached the driver"
        return collect(self)

    def refused(self, *args, **kwargs):
        raise AssertionError("rows reached the driver")

    monkeypatch.setattr(DataFrame, "collect", aggregates_only)
    for name in ("toPandas", "toArrow", "toLocalIterator", "take", "head", "first", "tail"):
        monkeypatch.setattr(DataFrame, name, refused)
    df = sample_spark(mst, 3000, spark=spark, partitions=2, seed=0, chunk_rows=1000)
    df.write.parquet(str(tmp_path / "out.parquet"))
    assert fetch_aggregate(df.agg(F.count(F.lit(1))))[0][0] == 3000
    assert ds.dataset(tmp_path / "out.parquet").count_rows() == 3000
    with pytest.raises(AssertionError, match="rows reached the driver"):
        df.collect()


def test_spark_options_are_checked(spark, mst):
    with pytest.raises(ConfigError, match="partitions must be a positive"):
        sample_spark(mst, 10, spark=spark, partitions=0)
    with pytest.raises(ConditionError, match="per-row"):
        sample_spark(mst, 1, spark=spark, conditions=pd.DataFrame({"sex": ["Male"]}))
    assert sample_spark(mst, 2_500_001, spark=spark).rdd.getNumPartitions() == 3  # a chunk each


# --------------------------------------------------------------------------------------- CLI
@pytest.fixture(scope="module")
def model_file(mst, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "adult.lookalike"
    mst.save(path)
    return path


def test_cli_streams_in_chunks(cli, model_file, tmp_path):
    model = load_synthesizer(model_file)
    for ext in ("parquet", "csv"):
        ref = sample_to_file(model, tmp_path / f"ref.{ext}", 2500, seed=3, chunk_rows=1000)
        for jobs in ((), ("--jobs", 1), ("-j", 3)):  # the same file for any number of threads
            out = tmp_path / f"out{''.join(map(str, jobs))}.{ext}"
            result = cli("sample", model_file, "-o", out, "-n", 2500, "--chunk-rows", 1000,
                         "--seed", 3, *jobs)
            assert result.exit_code == 0, result.output
            assert "2,500 synthetic rows written" in result.stdout
            assert out.read_bytes() == ref.read_bytes()
    out = tmp_path / "small.csv"  # up to --chunk-rows rows: one sample, as before
    assert cli("sample", model_file, "-o", out, "-n", 300, "--seed", 3).exit_code == 0
    assert out.read_bytes() == write_table(model.sample(300, seed=3), tmp_path / "s.csv",
                                           schema=model.schema_).read_bytes()


def test_cli_refuses_bad_sampling_options(cli, model_file, tmp_path, one_error_line):
    out = tmp_path / "out.parquet"
    assert "--chunk-rows must be a positive" in one_error_line(
        cli("sample", model_file, "-o", out, "-n", 10, "--chunk-rows", 0))
    assert "--jobs must be a positive number of threads" in one_error_line(
        cli("sample", model_file, "-o", out, "-n", 10, "--jobs", 0))
    assert "--jobs applies to --engine local" in one_error_line(
        cli("sample", model_file, "-o", out, "-n", 10, "--engine", "spark", "-j", 2))
    assert "apply to --engine spark" in one_error_line(
        cli("sample", model_file, "-o", out, "-n", 10, "--partitions", 2))
    assert "choose local" in one_error_line(
        cli("sample", model_file, "-o", out, "-n", 10, "--engine", "duckdb"))
    assert "folder of Parquet parts, not" in one_error_line(
        cli("sample", model_file, "-o", tmp_path / "o.csv", "-n", 10, "--engine", "spark"))
    assert "apply to CSV outputs" in one_error_line(
        cli("sample", model_file, "-o", out, "-n", 10, "--engine", "spark", "--out-decimal", ","))
    assert not out.exists()


def test_cli_spark_writes_a_parquet_folder(spark, cli, model_file, tmp_path, one_error_line):
    out = tmp_path / "synthetic.parquet"
    args = ("sample", model_file, "-o", out, "-n", 2501, "--seed", 7, "--chunk-rows", 400,
            "--engine", "spark", "--partitions", 3, "--spark-master", "local[2]",
            "--spark-conf", "spark.sql.shuffle.partitions=2", "-c", "sex=Male")
    result = cli(*args)
    assert result.exit_code == 0, result.output
    assert "2,501 synthetic rows written" in result.stdout and "3 partitions" in result.stdout
    assert (out / "_SUCCESS").exists() and len(list(out.glob("part-*.parquet"))) == 3
    got = ds.dataset(out).to_table().to_pandas()
    assert len(got) == 2501 and (got["sex"] == "Male").all()
    ref = sample_spark(load_synthesizer(model_file), 2501, spark=spark, partitions=3, seed=7,
                       chunk_rows=400, conditions={"sex": "Male"}).toPandas()
    key = list(ref.columns)
    pd.testing.assert_frame_equal(got.sort_values(key).reset_index(drop=True),
                                  ref.sort_values(key).reset_index(drop=True), check_dtype=False)
    assert "already exists" in one_error_line(cli(*args))
    assert cli(*args, "--overwrite").exit_code == 0
