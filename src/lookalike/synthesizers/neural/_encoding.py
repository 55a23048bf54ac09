"""The neural encoding of a table: mode-specific normalised numbers, one-hot categories, missing flags.

Each modelled column becomes one or two *spans* of the network's row vector:

* categorical or boolean: one softmax span, one slot per category (plus one for missing);
* numeric or datetime: a ``tanh`` span holding α, then a softmax span over its modes (plus a
  last slot meaning "missing") — see :mod:`lookalike.transform.normalizer`.

Where the categories and modes come from decides whether the encoding is private:
:meth:`NeuralEncoder.fit` reads the data (non-DP fits); :meth:`NeuralEncoder.from_domain`
uses only an :class:`~lookalike.synthesizers._domain.EncodedDomain` (declared facts and charged
DP releases), so a DP model's encoding costs nothing beyond discovery.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lookalike.schema import Kind, Schema
from lookalike.synthesizers._domain import EncodedDomain
from lookalike.transform.codes import column_codes, nearest_code
from lookalike.transform.encoder import ColumnCodec, from_numbers, to_numbers
from lookalike.transform.normalizer import ModeNormalizer, fit_modes, modes_from_bins

__all__ = ["Span", "NeuralEncoder"]


@dataclass(frozen=True)
class Span:
    """A slice of the encoded row: ``size`` slots from ``start``, with its output activation."""

    column: str
    start: int
    size: int
    activation: str  # "tanh" or "softmax"
    discrete: bool  # a categorical column's span (the ones a conditional vector can fix)


@dataclass(frozen=True, eq=False)
class NeuralEncoder:
    """Per modelled column a category codec or a mode normaliser, and the spans they fill;
    ``codes``: the values a non-DP model keeps a numeric column of codes on
    (:func:`~lookalike.transform.codes.column_codes`, read from the data by :meth:`fit` only)."""

    codecs: dict[str, ColumnCodec]
    normalizers: dict[str, ModeNormalizer]
    nullable: dict[str, bool]
    schema: Schema
    codes: dict[str, np.ndarray] = field(default_factory=dict)

    # ---------------------------------------------------------------- construction
    @classmethod
    def fit(cls, data: pd.DataFrame, schema: Schema, *, max_modes: int = 10, seed=None) -> NeuralEncoder:
        """Categories from the schema, modes (and integer codes) fitted to the data: reads
        private values (non-DP)."""
        rng = np.random.default_rng(seed)
        codecs, norms, nullable, codes = {}, {}, {}, {}
        for col in schema.modelled:
            if col.kind is Kind.BOOLEAN:
                codecs[col.name] = ColumnCodec(col, (False, True), None, col.nullable)
            elif col.kind is Kind.CATEGORICAL:
                codecs[col.name] = ColumnCodec(col, tuple(col.categories), None, col.nullable)
            else:
                values = to_numbers(data[col.name], col)
                norms[col.name] = fit_modes(values, max_modes=max_modes, seed=rng)
                nullable[col.name] = bool(col.nullable)
                held = column_codes(values, col)
                if held is not None:
                    codes[col.name] = held
        return cls(codecs, norms, nullable, schema, codes)

    @classmethod
    def from_domain(cls, found: EncodedDomain, *, max_modes: int = 10, seed=None) -> NeuralEncoder:
        """Categories and modes from declared facts and DP discovery only: no further privacy cost."""
        rng = np.random.default_rng(seed)
        codecs, norms, nullable = {}, {}, {}
        for codec in found.encoder.codecs:
            name = codec.column.name
            if codec.categories is not None:
                codecs[name] = codec
            else:
                norms[name] = modes_from_bins(codec.bins, max_modes=max_modes, seed=rng)
                nullable[name] = codec.has_missing
        return cls(codecs, norms, nullable, found.schema)

    # ---------------------------------------------------------------- layout
    @property
    def names(self) -> list[str]:
        return [c.name for c in self.schema.modelled]

    @property
    def spans(self) -> list[Span]:
        out, pos = [], 0
        for name in self.names:
            if name in self.codecs:
                size = self.codecs[name].size
                out.append(Span(name, pos, size, "softmax", True))
                pos += size
            else:
                n = self.normalizers[name].n_modes + int(self.nullable[name])
                out.append(Span(name, pos, 1, "tanh", False))
                out.append(Span(name, pos + 1, n, "softmax", False))
                pos += 1 + n
        return out

    @property
    def dim(self) -> int:
        last = self.spans[-1]
        return last.start + last.size

    @property
    def discrete_spans(self) -> list[Span]:
        return [s for s in self.spans if s.discrete]

    # ---------------------------------------------------------------- encode / decode
    def encode(self, data: pd.DataFrame, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(rows as float32 vectors, codes of the discrete columns as an (n, d) int array)."""
        n = len(data)
        out = np.zeros((n, self.dim), dtype=np.float32)
        codes = []
        rows = np.arange(n)
        for span in self.spans:
            if span.activation == "tanh":
                continue
            if span.discrete:
                c = self.codecs[span.column].encode(data[span.column])
                codes.append(c)
                out[rows, span.start + c] = 1.0
            else:
                norm = self.normalizers[span.column]
                values = to_numbers(data[span.column], self.schema[span.column])
                alpha, mode = norm.transform(values, rng)
                if (mode < 0).any() and not self.nullable[span.column]:
                    raise ValueError(f"column {span.column!r} has missing values but no missing state")
                mode = np.where(mode < 0, norm.n_modes, mode)
                out[:, span.start - 1] = alpha
                out[rows, span.start + mode] = 1.0
        discrete = np.column_stack(codes) if codes else np.zeros((n, 0), dtype=np.int64)
        return out, discrete

    def decode(self, x: np.ndarray, rng: np.random.Generator, sigmas: np.ndarray | None = None) -> pd.DataFrame:
        """Network outputs (α already in [−1, 1]) back to a typed frame: argmax per softmax span.

        ``sigmas`` (TVAE's learned output noise per slot) adds Gaussian noise to α before decoding.
        """
        cols: dict[str, pd.Series] = {}
        for span in self.spans:
            if span.activation == "tanh":
                continue
            block = x[:, span.start : span.start + span.size]
            pick = block.argmax(axis=1)
            if span.discrete:
                cols[span.column] = self.codecs[span.column].decode(pick, rng).reset_index(drop=True)
            else:
                norm = self.normalizers[span.column]
                alpha = x[:, span.start - 1].astype(float)
                if sigmas is not None:
                    alpha = alpha + rng.normal(0.0, 1.0, len(alpha)) * float(sigmas[span.start - 1])
                mode = np.where(pick >= norm.n_modes, -1, pick)
                values = norm.inverse(alpha, mode)
                cols[span.column] = from_numbers(values, self.schema[span.column]).reset_index(drop=True)
        return pd.DataFrame({name: cols[name] for name in self.names})

    def expected_values(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Per numeric column, the value the outputs ``x`` give on average over its modes:
        Σ_k p_k · inverse(α, k), with p the output's mode weights (the missing slot left out).

        Unlike :meth:`decode`, which takes the most likely mode and rounds integers, this keeps
        how near each row was to the neighbouring values: calibration's order among values that
        decode equal (:func:`~lookalike.synthesizers.neural._calibrate.calibrate_values`). It
        reads the generator's output only (no privacy cost).
        """
        out: dict[str, np.ndarray] = {}
        for span in self.spans:
            if span.activation != "softmax" or span.discrete:
                continue
            norm = self.normalizers[span.column]
            p = np.clip(np.asarray(x[:, span.start : span.start + norm.n_modes], dtype=float), 0, None)
            total = p.sum(axis=1, keepdims=True)
            p = np.where(total > 0, p / np.where(total > 0, total, 1.0), 1.0 / norm.n_modes)
            alpha = np.asarray(x[:, span.start - 1], dtype=float)
            each = np.column_stack([norm.inverse(alpha, np.full(len(alpha), k)) for k in range(norm.n_modes)])
            out[span.column] = (p * each).sum(axis=1)
        return out

    def on_codes(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` (decoded rows) with each numeric column of codes moved to its nearest code:
        the modes' spread and TVAE's output noise wrote the integers between them (ctgan on a
        race coded 1, 2, 3, 5, 9 wrote 4, 6, 7 and 8; cars' cylinders gained a 7)."""
        for name, held in self.codes.items():
            values = nearest_code(to_numbers(frame[name], self.schema[name]), held)
            frame[name] = from_numbers(values, self.schema[name]).set_axis(frame.index)
        return frame

    # ---------------------------------------------------------------- state
    def to_state(self, prefix: str = "nenc") -> tuple[dict, dict[str, np.ndarray]]:
        meta: dict = {"columns": []}
        arrays: dict[str, np.ndarray] = {}
        for j, name in enumerate(self.names):
            p = f"{prefix}.{j}"
            if name in self.codecs:
                m, a = self.codecs[name].to_state(p)
                meta["columns"].append({"kind": "codec", "codec": m})
            else:
                m, a = self.normalizers[name].to_state(p)
                meta["columns"].append({"kind": "modes", "column": name, "modes": m,
                                        "nullable": self.nullable[name],
                                        "codes": name in self.codes})
                if name in self.codes:
                    a = {**a, f"{p}.codes": self.codes[name]}
            arrays.update(a)
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: dict, schema: Schema, prefix: str = "nenc") -> NeuralEncoder:
        """An encoding saved by :meth:`to_state`, checked: every modelled column of ``schema``
        once, in order, categories as codecs and numbers as modes.

        A damaged state raises ``ValueError`` naming the column (the model loader adds the file).
        """
        codecs, norms, nullable, codes = {}, {}, {}, {}
        names = []
        for j, entry in enumerate(meta["columns"]):
            p = f"{prefix}.{j}"
            if entry["kind"] == "codec":
                codec = ColumnCodec.from_state(entry["codec"], arrays, p, schema)
                if codec.column.kind.numeric:
                    raise ValueError(f"column {codec.column.name!r} is numeric but encoded as categories")
                codecs[codec.column.name] = codec
                names.append(codec.column.name)
            elif entry["kind"] == "modes":
                column = schema[entry["column"]]
                if not column.kind.numeric:
                    raise ValueError(f"column {column.name!r} is {column.kind} but encoded as modes")
                if not isinstance(entry["nullable"], bool):
                    raise ValueError(f"column {column.name!r}: nullable must be true or false")
                norms[column.name] = ModeNormalizer.from_state(entry["modes"], arrays, p)
                nullable[column.name] = entry["nullable"]
                if entry.get("codes"):  # (absent from files saved before codes were kept)
                    held = np.asarray(arrays.get(f"{p}.codes", ()), dtype=float)
                    if held.ndim != 1 or len(held) < 2 or not (np.diff(held) > 0).all():
                        raise ValueError(f"column {column.name!r}: its codes must be two or more "
                                         "increasing numbers")
                    codes[column.name] = held
                names.append(column.name)
            else:
                raise ValueError(f"encoding {p!r} has unknown kind {entry['kind']!r}")
        expected = [c.name for c in schema.modelled]
        if names != expected:
            raise ValueError(f"the neural encoding covers columns {names}, but the schema models {expected}")
        return cls(codecs, norms, nullable, schema, codes)
