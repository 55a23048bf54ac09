"""The synthesizer protocol, shared plumbing, and the name registry.

Every synthesizer takes its hyper-parameters as keyword-only constructor arguments and only
stores them; ``fit`` validates them, learns state into ``*_`` attributes and returns ``self``;
``sample`` draws rows; ``save``/``load`` use a model file (JSON + arrays, no pickle). A new
family is one module that subclasses :class:`Synthesizer` and one ``@register`` line.
"""

from __future__ import annotations

import inspect
import os
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from lookalike._progress import progress
from lookalike._rng import Seed, as_rng
from lookalike._storage import Storage, container_of, input_storage, written_inside
from lookalike._version import __version__
from lookalike.errors import (
    ConditionError,
    ConfigError,
    ModelFileError,
    NotFittedError,
)
from lookalike.modelfile import read_model, write_model
from lookalike.privacy.budget import (
    Budget,
    BudgetPlan,
    PrivacyReport,
    PrivacyRequest,
    precheck,
    privacy_request,
    reserve,
)
from lookalike.schema import Kind, Schema
from lookalike.synthesizers._source import Source
from lookalike.synthesizers.conditions import (
    ConditionPlan,
    Conditions,
    describe,
    plan_conditions,
)
from lookalike.transform.encoder import to_numbers
from lookalike.transform.identifiers import fresh_identifiers

__all__ = ["Synthesizer", "register", "get_synthesizer", "available", "load_synthesizer"]

REGISTRY: dict[str, type[Synthesizer]] = {}

#: rows drawn at a time by ``sample`` (one progress step each); a sample of at most this many
#: rows is drawn in one go
SAMPLE_CHUNK = 200_000


def register(cls: type[Synthesizer]) -> type[Synthesizer]:
    """Class decorator: make ``cls`` available under ``cls.name``."""
    REGISTRY[cls.name] = cls
    return cls


def available() -> list[str]:
    """Names of the registered synthesizers."""
    return sorted(REGISTRY)


def get_synthesizer(name: str, **params: Any) -> Synthesizer:
    """A new synthesizer of family ``name`` with hyper-parameters ``params``.

    >>> get_synthesizer("cart", min_samples_leaf=5).get_params()["min_samples_leaf"]
    5
    """
    if name not in REGISTRY:
        raise ConfigError(f"unknown synthesizer {name!r}; choose one of {available()}")
    known = [p for p in inspect.signature(REGISTRY[name].__init__).parameters if p != "self"]
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ConfigError(
            f"synthesizer {name!r} has no hyper-parameter {', '.join(map(repr, unknown))}; "
            f"its hyper-parameters are {known}"
        )
    return REGISTRY[name](**params)


def load_synthesizer(path: str | os.PathLike) -> Synthesizer:
    """Load any fitted synthesizer from its model file."""
    meta, arrays = read_model(path)
    name = meta.get("synthesizer")
    if name not in REGISTRY:
        raise ModelFileError(f"{path} holds a model of unknown family {name!r}; known: {available()}")
    return REGISTRY[name]._from_model(meta, arrays, path)


class Synthesizer:
    """Base class: schema handling, identifiers, conditions, seeds and model files."""

    name: ClassVar[str] = ""
    supports_dp: ClassVar[bool] = False
    native_conditions: ClassVar[bool] = False
    """True when ``_sample`` honours conditions itself (else rejection sampling is used)."""
    exact_conditions: ClassVar[bool] = False
    """True when ``_sample`` draws from the model's exact conditional distribution without
    discarding draws for a condition (a DP model's failure then means the released model gives
    the conditions no probability, not that they are rare)."""

    # ----------------------------------------------------------------- parameters
    def get_params(self) -> dict[str, Any]:
        """Hyper-parameters as given to the constructor."""
        sig = inspect.signature(type(self).__init__)
        return {p: getattr(self, p) for p in sig.parameters if p != "self"}

    def _check_params(self) -> None:
        """Validate hyper-parameters; subclasses raise ConfigError naming the option."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # ----------------------------------------------------------------- fit
    def fit(
        self,
        data: Any,
        schema: Schema | Mapping | str | os.PathLike | None = None,
        *,
        epsilon: float | None = None,
        delta: float | None = None,
        ledger: Any = None,
        dataset: str | None = None,
        seed: Seed = None,
    ) -> Self:
        """Learn a model of ``data`` (a DataFrame or anything :func:`read_table` reads).

        With ``epsilon`` the fit is (ε, δ)-differentially private (``delta`` defaults to
        1e-9) and, with a ``ledger`` (a :class:`~lookalike.privacy.ledger.PrivacyLedger` or its
        path), charged to the budget of ``dataset`` before it learns anything: a fit the budget
        cannot pay for is refused before any data is read. Without ``epsilon`` the fit is not
        differentially private and no formal privacy guarantee holds for its output.

        ``seed`` fixes every random choice of the fit but its DP noise, which OpenDP draws
        from the system's secure randomness: two DP fits of one seed differ as two draws of
        the noise do (a non-DP fit, and sampling from a fitted model, repeat exactly).
        """
        request = privacy_request(epsilon, delta, ledger, dataset, family=self.name,
                                  supports_dp=self.supports_dp)
        return self._fit_request(data, schema, request, seed)

    def _fit_request(self, data: Any, schema: Any, request: PrivacyRequest, seed: Seed, *,
                     container: str | None = None) -> Self:
        """The one fit path: validate, check the budget, read, reserve, learn, settle.

        ``container`` ("pandas", "polars" or "arrow") is what ``sample`` returns; by default
        the kind of table ``data`` is (the API passes the user's own when it read ``data``).
        """
        plan = self._validate(request)  # refused here: nothing read, registered or charged
        rng = as_rng(seed)
        start = time.perf_counter()
        source = self._open(data, schema)
        if request.dp:  # nothing can be learnt about a column: refused before any charge
            from lookalike.synthesizers.dp_plan import check_discoverable

            check_discoverable(self, source.schema, epsilon=float(request.epsilon or 0.0),
                               delta=request.delta, n_rows=source.n_rows())
        for note in source.notes:  # clipped values, unknown categories: never silent
            warnings.warn(note, stacklevel=3)
        storage = input_storage(data, source.raw, container or container_of(data),
                                schema=source.schema, engine=source.engine)
        with reserve(request, plan, mechanism=self.name, fingerprint=source.fingerprint) as budget:
            self.schema_ = source.schema
            self.conform_actions_ = list(source.notes)
            self.n_rows_ = None if request.dp else source.n_rows()
            self.n_estimate_ = self.n_rows_
            accounting = self._learn(source, budget, rng)
            self.privacy_ = (
                budget.report(accounting=accounting, discovery=getattr(self, "discovery_", {}),
                              declared=_declared(self.schema_))
                if budget is not None else PrivacyReport.none(accounting)
            )
        self.ledger_entry_ = getattr(budget, "entry", None)
        self.storage_ = storage.for_model(self.schema_, dp=request.dp)
        self.fit_seconds_ = time.perf_counter() - start
        self.seed_ = seed if isinstance(seed, int) else None
        # Real keys stay in memory only, so that fit-then-sample never reissues one.
        self._real_ids = source.identifiers()
        return self

    def _validate(self, request: PrivacyRequest) -> BudgetPlan | None:
        """Check everything knowable without the data: hyper-parameters, the family's extras,
        the budget plan and whether the dataset's budget can pay for it. Returns the plan."""
        self._check_params()
        self._check_ready(request)
        plan = self._budget_plan(request.epsilon, request.delta) if request.dp else None
        precheck(request, plan)
        return plan

    def _check_ready(self, request: PrivacyRequest) -> None:
        """Raise before reading anything if the family cannot run (a missing extra)."""

    def _budget_plan(self, epsilon: float, delta: float) -> BudgetPlan:
        """The named sub-budgets of a DP fit at (ε, δ); DP families override it."""
        raise ConfigError(f"synthesizer {self.name!r} has no differentially private form")

    def _open(self, data: Any, schema: Any) -> Source:
        """The data as conformed rows in memory, with its schema."""
        return Source.of_frame(_as_frame(data, self.name), schema)

    def _learn(self, source: Source, budget: Budget | None, rng: np.random.Generator) -> str:
        """Learn the model; record every DP release through ``budget``. Returns how the data
        was read, for the privacy report (its accounting under DP)."""
        self._fit(source.frame, rng)
        return "fitted on the data"

    def _fit(self, data: pd.DataFrame, rng: np.random.Generator) -> None:
        raise NotImplementedError

    # ----------------------------------------------------------------- sample
    def sample(
        self, n: int | None = None, *, conditions: Any = None, seed: Seed = None
    ) -> Any:
        """Draw ``n`` synthetic rows, each meeting ``conditions``.

        ``conditions`` (see :mod:`lookalike.synthesizers.conditions`): a mapping ``{column:
        value, list of values, None for missing, or ">=30"}``, expressions
        (``["30<=age<40", "workclass=null", "dob<2000-01-01"]``), or a table (DataFrame) of
        per-row conditions: then one row per table row, in order, with the given values
        exactly (``n`` may be left out). Families that can condition exactly do so from the
        model's conditional distribution (``exact_conditions``); the others draw and keep
        matching rows (rejection), and fail with a clear message when the model gives the
        conditions too little probability. Conditioning is post-processing of the fitted
        model: it reads no data and costs no privacy budget.

        The rows are stored as the fitted input was (see :mod:`lookalike._storage`): a pandas
        DataFrame, or a polars DataFrame or Arrow table when the model was fitted on one; each
        column in the input's dtype (integer widths, categorical dtypes with their order,
        time zones, dates as dates, text dates and booleans spelled as the input wrote them).
        """
        self._require_fitted()
        plan = self._parse_conditions(conditions)
        if plan.per_row:
            if n is not None and n != plan.n_rows:
                raise ConfigError(
                    f"a condition table gives one synthetic row per row: it has {plan.n_rows:,} "
                    f"rows, but {n!r} rows were asked (-n); leave -n out or make them equal"
                )
            n = plan.n_rows
        if n is None or isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ConfigError(f"number of rows to sample must be a positive integer, got {n!r} (-n)")
        n = int(n)
        rng = as_rng(seed)
        groups = plan.groups if plan.groups else (({}, n, None),)
        if not plan.per_row:
            groups = tuple((c, n, None) for c, _, _ in groups)
        try:
            # in chunks of SAMPLE_CHUNK rows, for progress; keys and fakes are drawn once, over
            # all of them (they never repeat within a sample)
            parts, positions = [], []
            with progress(f"{self.name}: sampling rows", n) as advance:
                for conds, count, where in groups:
                    for start in range(0, count, SAMPLE_CHUNK):
                        k = min(SAMPLE_CHUNK, count - start)
                        parts.append(self._draw(k, rng, conds))
                        advance(k)
                    if where is not None:
                        positions.append(where)
            modelled = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
            if positions:  # a table's rows back in the table's order
                order = np.argsort(np.concatenate(positions), kind="stable")
                modelled = modelled.iloc[order]
            rows = self._assemble(modelled.reset_index(drop=True), rng)
            storage = getattr(self, "storage_", None)
            if storage is None:
                return rows
            return storage.restore(self._written_inside(rows, groups, storage), self.schema_)
        except MemoryError:
            raise ConfigError(
                f"not enough memory to sample {n:,} rows at once; sample fewer (-n) and append"
            ) from None

    def _written_inside(self, rows: pd.DataFrame, groups: Any, storage: Storage) -> pd.DataFrame:
        """``rows`` with each range-conditioned value written (decimals, calendar unit) on the
        side of its condition (:func:`~lookalike._storage.written_inside`): rounded to the
        nearest, a mileage drawn under 20 came out as 20.0. Groups are (conditions, count,
        positions) in the order they were drawn."""
        at, copied = 0, False
        for conds, count, where in groups:
            index = np.arange(at, at + count) if where is None else np.asarray(where)
            at += count
            for name, cond in (conds or {}).items():
                col = self.schema_[name]
                if cond.values is not None or not col.kind.numeric or name not in rows.columns:
                    continue
                part = rows[name].iloc[index]
                kept = written_inside(part, col, storage.columns.get(name),
                                      lambda v, c=cond, k=col: c.allows_numbers(to_numbers(v, k)))
                if not kept.equals(part):
                    if not copied:  # (the caller's frame stays as drawn)
                        rows, copied = rows.copy(), True
                    rows.iloc[index, rows.columns.get_loc(name)] = kept.to_numpy()
        return rows

    def _draw(self, n: int, rng: np.random.Generator, conds: Conditions) -> pd.DataFrame:
        """``n`` modelled rows meeting ``conds``: the family's own conditioning, or rejection."""
        if conds and not self.native_conditions:
            return self._rejection_sample(n, rng, conds)
        return self._sample(n, rng, conds or None)

    def _sample(self, n: int, rng: np.random.Generator, conditions: Conditions | None) -> pd.DataFrame:
        raise NotImplementedError

    def _draw_columns(self, n: int, rng: np.random.Generator) -> list[np.ndarray]:
        """``n`` unconditioned modelled rows as one array per column of ``self.encoder_``
        (:meth:`~lookalike.transform.encoder.TableEncoder.decode_values`), drawing what
        ``self._sample(n, rng, None)`` draws: its frame is ``self.encoder_.frame`` of them.
        Families that decode codes define it (sampling to a Parquet file then skips the
        pandas frame); the others raise NotImplementedError."""
        raise NotImplementedError

    def _assemble(self, modelled: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        """The output columns in canonical dtypes: fresh identifiers, booleans as written."""
        out = {}
        n = len(modelled)
        for col in self.schema_.columns:
            if col.kind is Kind.TEXT:
                continue
            if col.kind is Kind.IDENTIFIER:
                ids = fresh_identifiers(
                    col.format or "integer", n, rng, getattr(self, "_real_ids", {}).get(col.name)
                )
                out[col.name] = pd.Series(ids, dtype="Int64" if col.format == "integer" else object)
            elif col.kind is Kind.BOOLEAN:
                out[col.name] = _as_written(modelled[col.name], col.categories)
            else:
                out[col.name] = modelled[col.name]
        return pd.DataFrame(out)

    def _parse_conditions(self, conditions: Any, option: str = "conditions") -> ConditionPlan:
        """``conditions`` checked against the model's schema (see :func:`~lookalike.
        synthesizers.conditions.plan_conditions`)."""
        return plan_conditions(conditions, self.schema_, option)

    def _condition_failure(self, conds: Conditions, detail: str, *, zero: bool = False) -> ConditionError:
        """The error for conditions the model cannot meet (``zero``: it gives them probability
        0; else too little to find them), with advice that keeps the model's guarantee: a DP
        model is never sent to a non-DP family (``cart`` would void the guarantee its release
        was paid for); conditioning itself is post-processing and costs no budget."""
        what = f"conditions {describe(conds, self.schema_)}"
        relax = "condition on a coarser value or a wider range, or drop a condition"
        if getattr(getattr(self, "privacy_", None), "differentially_private", False):
            if zero:
                fix = (f"the released (noisy) model gives them no probability: {relax} "
                       "(refitting with a larger epsilon or more rows spends more budget)")
            elif self.exact_conditions:
                fix = relax
            else:
                fix = (f"{relax}, or use a differentially private family that conditions "
                       "exactly: mst, aim or privbayes")
        elif zero:
            fix = "the model gives them no probability; relax them"
        elif self.exact_conditions:
            fix = "relax them"
        else:
            fix = "relax them or use a synthesizer with native conditioning (cart)"
        return ConditionError(f"{what} {detail}: {fix}")

    def _rejection_sample(self, n: int, rng: np.random.Generator, conds: Conditions,
                          draw: Callable[[int], pd.DataFrame] | None = None) -> pd.DataFrame:
        """Exact conditional sampling by rejection: draw, keep matching rows, repeat.

        ``draw(k)`` gives ``k`` candidate rows (default: unconditional samples); a family that
        can steer its draws toward the conditions passes its own.
        """
        draw = draw or (lambda k: self._sample(k, rng, None))
        kept: list[pd.DataFrame] = []
        got, drawn, batch = 0, 0, max(1000, 2 * n)
        limit = max(2_000_000, 200 * n)
        while got < n:
            rows = draw(batch)
            drawn += batch
            mask = matches(rows, conds, self.schema_)
            kept.append(rows[mask])
            got += int(mask.sum())
            if got < n and drawn >= limit:
                raise self._condition_failure(
                    conds, f"matched only {got:,} of {drawn:,} sampled rows (the model gives "
                    "them too little probability)")
            rate = max(got / drawn, 1e-4)
            batch = int(min(limit, max(1000, 1.2 * (n - got) / rate)))
        return pd.concat(kept, ignore_index=True).iloc[:n]

    # ----------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the fitted model to one file (JSON + arrays, no pickle)."""
        meta, arrays = self._model_content()
        out = write_model(path, meta, arrays, overwrite=overwrite)
        entry = getattr(self, "ledger_entry_", None)
        if entry is not None:
            from lookalike.privacy.ledger import PrivacyLedger

            PrivacyLedger(entry[0]).attach_model(entry[2], str(Path(out).resolve()))
        return out

    def _model_content(self) -> tuple[dict, dict[str, np.ndarray]]:
        """What ``save`` writes (the JSON part and the arrays), without writing it anywhere or
        telling the ledger (the model shipped to Spark executors is this, never the object)."""
        self._require_fitted()
        state, arrays = self._get_state()
        meta = {
            "synthesizer": self.name,
            "params": self.get_params(),
            "schema": self.schema_.to_dict(),
            "lookalike_version": __version__,
            "fit": {"n_rows": self.n_rows_, "seed": self.seed_},
            "differentially_private": self.privacy_.differentially_private,
            "privacy": self.privacy_.to_dict(),
            "storage": None if getattr(self, "storage_", None) is None else self.storage_.to_dict(),
            "state": state,
        }
        return meta, arrays

    @classmethod
    def load(cls, path: str | os.PathLike) -> Self:
        """Load a model file written by ``save``."""
        meta, arrays = read_model(path)
        if cls.name and meta.get("synthesizer") != cls.name:
            raise ModelFileError(
                f"{path} holds a {meta.get('synthesizer')!r} model, not {cls.name!r}; "
                "use lookalike.load_synthesizer to load any family"
            )
        if not cls.name:
            return load_synthesizer(path)
        return cls._from_model(meta, arrays, path)

    @classmethod
    def _from_model(cls, meta: dict, arrays: dict, path: Any) -> Self:
        try:
            obj = cls(**meta.get("params", {}))
            obj.schema_ = Schema.from_dict(meta["schema"])
            fit = meta.get("fit", {})
            obj.n_rows_ = fit.get("n_rows")
            obj.n_estimate_ = obj.n_rows_  # DP families restore their noisy estimate in _set_state
            obj.privacy_ = PrivacyReport.from_dict(meta.get("privacy"))
            obj.fit_seconds_ = None
            obj.seed_ = fit.get("seed")
            obj.conform_actions_ = []
            obj.storage_ = Storage.from_dict(meta.get("storage"))
            obj._set_state(meta["state"], arrays)
        except ModelFileError:
            raise
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise ModelFileError(
                f"{path} is a damaged {cls.name!r} model file ({type(e).__name__}: {e})"
            ) from None
        return obj

    def _get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        raise NotImplementedError

    def _set_state(self, state: dict, arrays: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def _require_fitted(self) -> None:
        if not hasattr(self, "schema_"):
            raise NotFittedError(f"this {self.name!r} synthesizer is not fitted; call fit() first")


def matches(rows: pd.DataFrame, conds: Conditions, schema: Schema) -> np.ndarray:
    """Boolean mask of rows meeting every condition."""
    mask = np.ones(len(rows), dtype=bool)
    for name, cond in conds.items():
        col = schema[name]
        if col.kind.numeric:
            mask &= cond.allows_numbers(to_numbers(rows[name], col))
        else:
            mask &= cond.allows_labels(rows[name])
    return mask


def _as_written(values: pd.Series, tokens: Any) -> pd.Series:
    """A boolean column spelled as the input wrote it: its (false, true) tokens when they were
    text (``no``/``yes``, ``N``/``Y``, ``false``/``true``), booleans when they were booleans."""
    if not tokens or len(tokens) != 2 or not all(isinstance(t, str) for t in tokens):
        return values
    flags = values.astype("boolean")
    return pd.Series(np.where(flags.isna(), None, np.where(flags.fillna(False), tokens[1], tokens[0])),
                     index=values.index, dtype=object)


def _declared(schema: Schema) -> dict[str, tuple[str, ...]]:
    """The facts of each modelled column that the user declared public."""
    return {c.name: tuple(sorted(f for f, src in c.sources.items() if src == "declared"))
            for c in schema.modelled}


def _as_frame(data: Any, family: str = "") -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    from lookalike.marginals.spark import is_spark_frame, not_in_memory

    if is_spark_frame(data):
        raise not_in_memory(family)
    from lookalike.io import read_table

    return read_table(data)
