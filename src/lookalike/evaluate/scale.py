"""Evaluation of synthetic rows against a real table too large for memory.

The real rows stay where they live (Spark, or a file DuckDB reads): the 1-way and 2-way
marginal distances are computed from counts the engine returns over every real row, coded with
a domain read exactly from the real table (categories, and bins cut by the exact discovery
tree, ``n_bins`` per numeric column; every column with a missing state); the synthetic rows
are coded with the same domain in memory. Synthetic values outside the real categories count
as missing (they are no real category); numbers outside the real range fall in its edge bins.
Detection and utility need rows: they run on a seeded sample of ``sample_rows`` real rows
(drawn inside the engine) against as many synthetic rows, and the result says so.

Like every evaluation this is a private report: it compares with the real rows (privacy
contract, rule 8), and nothing here is a privacy measurement.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lookalike._json import plain
from lookalike._rng import Seed, as_rng
from lookalike.errors import ConfigError
from lookalike.marginals.engine import NumpyEngine
from lookalike.schema import Schema

__all__ = ["ScaleEvaluation", "evaluate_at_scale"]


@dataclass
class ScaleEvaluation:
    """Marginal distances over every real row, and an in-memory evaluation of a sample."""

    n_real: int
    n_synthetic: int
    engine: str
    marginals: pd.DataFrame
    """One row per marginal: ``columns`` (a tuple), ``k`` (1 or 2) and ``tvd``."""
    sample_rows: int
    sample: Any = None
    """The :class:`~lookalike.evaluate.result.Evaluation` of the sample (detection, utility,
    queries), or None when ``sample_rows=0``."""
    notes: list[str] = field(default_factory=list)

    def mean_tvd(self, k: int) -> float:
        """Mean total variation distance of the k-way marginals (k = 1 or 2)."""
        tvds = self.marginals.loc[self.marginals["k"] == k, "tvd"]
        return float(tvds.mean()) if len(tvds) else math.nan

    def report_dict(self) -> dict[str, Any]:
        """The evaluation as :func:`lookalike.report.build_report` takes it (the shape of
        ``Evaluation.to_dict()``): the sample's measures, with the 1-way and 2-way marginal
        distances (their means, and each column's 1-way TVD) replaced by those over every real
        row, the sizes of the whole tables, and the notes that say which number comes from
        what. Without a sample: the marginal distances alone."""
        one = self.marginals[self.marginals["k"] == 1]
        tvd = {c[0]: float(t) for c, t in zip(one["columns"], one["tvd"], strict=True)}
        out = self.sample.to_dict() if self.sample is not None else {
            "fidelity": {"columns": [], "marginals": {}}, "meta": {}}
        marginals = out["fidelity"].setdefault("marginals", {})
        marginals.update({"1way": self.mean_tvd(1), "2way": self.mean_tvd(2),
                          "n_2way": int((self.marginals["k"] == 2).sum())})
        for col in out["fidelity"].get("columns") or []:
            if col["name"] in tvd:
                col["marginal_tvd"] = tvd[col["name"]]
        meta = out.setdefault("meta", {})
        notes = list(meta.get("notes") or [])
        if self.sample is None:
            notes.append("marginal distances only (no sample of rows was drawn for detection, "
                         "utility and queries)")
        meta.update(n_real=self.n_real, n_synthetic=self.n_synthetic,
                    notes=notes + [f"the real rows stay in {self.engine}", *self.notes])
        return plain(out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_real": self.n_real, "n_synthetic": self.n_synthetic, "engine": self.engine,
            "one_way_tvd": self.mean_tvd(1), "two_way_tvd": self.mean_tvd(2),
            "marginals": [{"columns": list(c), "k": int(k), "tvd": float(t)} for c, k, t
                          in self.marginals[["columns", "k", "tvd"]].itertuples(index=False)],
            "sample_rows": self.sample_rows,
            "sample": None if self.sample is None else self.sample.to_dict(),
            "notes": list(self.notes),
        }


def evaluate_at_scale(real: Any, synthetic: Any, *, engine: str = "auto",
                      target: str | None = None, n_bins: int = 20, sample_rows: int = 50_000,
                      drop: Any = (), seed: Seed = 0, schema: Any = None,
                      holdout: Any = None) -> ScaleEvaluation:
    """Measure ``synthetic`` against ``real`` where ``real`` stays in its engine (see the
    module): ``real`` a Spark DataFrame, or a Parquet/CSV path (``engine``: "spark",
    "duckdb", or "auto": Spark for a Spark DataFrame, else DuckDB); ``synthetic`` rows in
    memory (pandas, polars, Arrow). ``sample_rows`` real rows (0: none) are drawn with
    ``seed`` inside the engine for the in-memory metrics, with ``target`` for utility, which
    is scored on ``holdout`` (real rows the synthesizer never saw, in memory) when given, else
    on a split of the sample. ``schema`` (a Schema, dict or JSON file) fixes the columns and
    their kinds instead of inferring them in the engine."""
    from lookalike.evaluate.api import evaluate
    from lookalike.io import read_table
    from lookalike.privacy.discovery import discover_domain
    from lookalike.synthesizers._domain import encode_domain

    if not isinstance(sample_rows, int) or isinstance(sample_rows, bool) or sample_rows < 0:
        raise ConfigError(f"sample_rows must be a whole number >= 0, got {sample_rows!r}")
    seed_int = int(seed) if isinstance(seed, int) else int(as_rng(seed).integers(2**31))
    from lookalike.schema import as_schema

    given = None if schema is None else as_schema(schema)
    counts, sample_of, name = _real_engine(real, engine, list(drop), given)
    try:
        schema = counts.schema
        if target is not None and target not in schema.names:
            raise ConfigError(f"target {target!r} is not a column of the real table; columns: "
                              f"{schema.names}")
        synth = read_table(synthetic) if not isinstance(synthetic, pd.DataFrame) else synthetic
        extra = [c for c in synth.columns if c not in schema.names]
        if extra:
            raise ConfigError(f"the synthetic rows have columns {extra} that the real table "
                              f"lacks; columns of the real table: {schema.names}")
        notes: list[str] = []
        missing = [c for c in schema.names if c not in synth.columns]
        if missing:  # free text or identifiers a synthesizer left out
            if target in missing:
                raise ConfigError(f"target {target!r} is not in the synthetic rows")
            notes.append(f"columns {missing} of the real table are not in the synthetic rows "
                         "(a synthesizer leaves out free text): left out of the comparison")
            schema = Schema(tuple(c for c in schema if c.name not in missing))
            if not len(schema.names):
                raise ConfigError("the synthetic rows share no column with the real table")
        found = encode_domain(discover_domain(counts, schema, rho=None, n_bins=n_bins))
        counts.bind(found.encoder)
        names = found.encoder.names
        wanted = [(a,) for a in names] + list(itertools.combinations(names, 2))
        real_counts = counts.marginals(wanted)
        n_real = int(real_counts[(names[0],)].sum()) if names else counts.n_rows()
        actions: list[str] = []
        conformed = _nullable(found.schema).conform(synth[found.schema.names], actions=actions)
        if actions:
            notes.append("synthetic values outside the real domain, counted as missing or in "
                         "the edge bins: " + "; ".join(actions))
        local = NumpyEngine(conformed, found.schema)
        local.bind(found.encoder)
        synth_counts = local.marginals(wanted)
        rows = []
        for attrs in wanted:
            p, q = real_counts[attrs].astype(float), synth_counts[attrs].astype(float)
            tvd = 0.5 * float(np.abs(p / max(p.sum(), 1) - q / max(q.sum(), 1)).sum())
            rows.append((attrs, len(attrs), tvd))
        table = pd.DataFrame(rows, columns=["columns", "k", "tvd"])
        sample = None
        if sample_rows:
            real_sample = sample_of(sample_rows, seed_int)[schema.names]
            synth_sample = synth[schema.names].sample(min(len(synth), len(real_sample)),
                                                      random_state=seed_int)
            hold = None if holdout is None else (
                holdout if isinstance(holdout, pd.DataFrame) else read_table(holdout))
            if hold is not None:
                hold = hold.drop(columns=[c for c in hold.columns if c not in schema.names])
                notes.append(f"utility is scored on the {len(hold):,} holdout rows given; they "
                             f"were not checked against the real rows, which stay in {name}")
            sample = evaluate(real_sample, synth_sample.reset_index(drop=True), hold,
                              target=target, schema=schema, seed=seed_int)
            notes.append(f"detection, utility and queries are measured on a seeded sample of "
                         f"{len(real_sample):,} of the {n_real:,} real rows (drawn in {name}) "
                         f"against {len(synth_sample):,} synthetic rows; the marginal distances "
                         "on every row")
        return ScaleEvaluation(n_real, len(synth), name, table, sample_rows, sample, notes)
    finally:
        counts.close()


def _nullable(schema: Schema) -> Schema:
    """The schema with every column nullable: synthetic values that are no real category
    become missing, and are counted, rather than refused."""
    return Schema(tuple(dataclasses.replace(c, nullable=True) for c in schema.columns))


def _real_engine(real: Any, engine: str, drop: list[str],
                 schema: Schema | None = None) -> tuple[Any, Any, str]:
    """(count engine over the real rows, a function drawing a seeded sample of them into
    memory, the engine's name)."""
    from lookalike.marginals.spark import is_spark_frame

    if engine not in ("auto", "spark", "duckdb"):
        raise ConfigError(f"engine must be 'auto', 'spark' or 'duckdb', got {engine!r}")
    if engine == "spark" or is_spark_frame(real):
        from lookalike.marginals.spark import SparkEngine, spark_frame

        frame, _ = spark_frame(real)
        spark = SparkEngine(frame, schema, drop=drop)

        def spark_sample(k: int, seed: int) -> pd.DataFrame:
            n = spark.n_rows()
            fraction = min(1.0, 1.2 * k / max(n, 1))  # a little over, then cut to k
            rows = frame.select(*spark.schema.names).sample(False, fraction, seed).limit(k)
            return rows.toPandas()  # real rows for a private report (module docstring)

        return spark, spark_sample, "Spark"
    from lookalike.marginals.duckdb import DuckDBEngine

    duck = DuckDBEngine(real, schema, drop=drop)

    def duck_sample(k: int, seed: int) -> pd.DataFrame:
        cols = ", ".join('"' + n.replace('"', '""') + '"' for n in duck.schema.names)
        return duck._con.execute(f"SELECT {cols} FROM {duck._from} USING SAMPLE "
                                 f"reservoir({int(k)} ROWS) REPEATABLE ({seed})").df()

    return duck, duck_sample, "DuckDB"
