"""Model files that cannot hurt: size, depth and shape limits, and checked model state.

Each crafted file is a real saved model with one member rewritten (or a zip made by hand), and
each must end as one ModelFileError that names the file, the member and the limit, through the
Python API and through the CLI (one ``error:`` line, no traceback, no output written).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lookalike
from lookalike import modelfile
from lookalike.errors import ModelFileError
from lookalike.modelfile import read_model, write_model

N = 40


@pytest.fixture(scope="module")
def small_df() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "age": rng.integers(18, 90, N),
        "income": rng.lognormal(10, 1, N).round(2),
        "city": rng.choice(["Oslo", "Lima", "Pune"], N),
        "member": rng.choice([True, False], N),
    })


@pytest.fixture(scope="module")
def saved(small_df, tmp_path_factory) -> dict[str, Path]:
    """Model files of a few families, fitted once."""
    folder = tmp_path_factory.mktemp("models")
    models = {
        "independent": lookalike.get_synthesizer("independent", n_bins=4),
        "mst": lookalike.get_synthesizer("mst", n_bins=4),
    }
    return {name: m.fit(small_df, seed=0).save(folder / f"{name}.lookalike") for name, m in models.items()}


# ----------------------------------------------------------------------------- crafting helpers


def npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def npy_header(shape: tuple, descr: object = "<f8") -> bytes:
    """A .npy header (magic included) declaring ``shape`` of ``descr``, with no data after it."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def rewrite(src: Path, dst: Path, replace: dict[str, bytes]) -> Path:
    """A copy of the zip ``src`` with members ``replace`` rewritten (or added)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename not in replace:
                zout.writestr(info.filename, zin.read(info))
        for name, data in replace.items():
            zout.writestr(name, data)
    return dst


def meta_of(path: Path) -> dict:
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read("model.json"))


def first_bins_column(meta: dict) -> int:
    return next(j for j, c in enumerate(meta["state"]["encoder"]) if "bins" in c)


def with_nan_edge(path: Path, dst: Path) -> Path:
    j = first_bins_column(meta_of(path))
    upper = read_model(path)[1][f"enc.{j}.upper"].copy()
    upper[1] = np.nan
    return rewrite(path, dst, {f"arrays/enc.{j}.upper.npy": npy(upper)})


def deep_json(path: Path, dst: Path, depth: int = 200_000) -> Path:
    return rewrite(path, dst, {"model.json": "[" * depth + "]" * depth})


def huge_shape(path: Path, dst: Path) -> Path:
    return rewrite(path, dst, {"arrays/probs.0.npy": npy_header((10**12,)) + b"\0" * 8})


def zero_bomb(path: Path, dst: Path) -> Path:
    """A 32 MiB array of zeros, deflated about 1000:1."""
    return rewrite(path, dst, {"arrays/probs.0.npy": npy(np.zeros(4 << 20))})


# ----------------------------------------------------------------------------- limits


def test_huge_declared_shape_refused_before_reading(saved, tmp_path):
    bad = huge_shape(saved["independent"], tmp_path / "bad.lookalike")
    with pytest.raises(
        ModelFileError,
        match=r"bad\.lookalike: array 'probs\.0' declares shape \(1000000000000,\) = 7\.28 TiB, "
        r"over the 1 GiB limit for model files; the file is damaged or not from lookalike",
    ):
        lookalike.load_synthesizer(bad)


def test_decompression_bomb_refused_by_ratio(saved, tmp_path):
    bad = zero_bomb(saved["independent"], tmp_path / "bad.lookalike")
    with pytest.raises(ModelFileError, match=r"member 'arrays/probs\.0\.npy' expands [\d,]+ bytes to "
                       r"32 MiB \([\d,]+:1\), over the 200:1 limit for model files"):
        lookalike.load_synthesizer(bad)


def test_total_size_limit(saved, tmp_path, monkeypatch):
    monkeypatch.setattr(modelfile, "MAX_TOTAL_BYTES", 1000)
    with pytest.raises(ModelFileError, match=r"members declare [\d.]+ KiB in all, over the 1000 bytes limit"):
        lookalike.load_synthesizer(saved["independent"])


def test_array_limit_applies_to_the_header(saved, tmp_path, monkeypatch):
    monkeypatch.setattr(modelfile, "MAX_ARRAY_BYTES", 16)
    with pytest.raises(ModelFileError, match=r"array '[\w.]+' declares shape \(\d+,\) = \d+ bytes, over the 16 bytes"):
        lookalike.load_synthesizer(saved["independent"])


def test_member_disagreeing_with_its_header_refused(saved, tmp_path):
    bad = rewrite(saved["independent"], tmp_path / "bad.lookalike",
                  {"arrays/probs.0.npy": npy_header((10,)) + b"\0" * 40})
    with pytest.raises(ModelFileError, match=r"array 'probs\.0' declares shape \(10,\) of float64 \(80 bytes\) "
                       r"but its member holds 40 bytes of data"):
        lookalike.load_synthesizer(bad)


@pytest.mark.parametrize("descr", ["|O", [("a", "<f8"), ("b", "<i4")]], ids=["object", "structured"])
def test_object_and_record_dtypes_refused(saved, tmp_path, descr):
    bad = rewrite(saved["independent"], tmp_path / "bad.lookalike",
                  {"arrays/probs.0.npy": npy_header((1,), descr) + b"\0" * 12})
    with pytest.raises(ModelFileError, match=r"array 'probs\.0' has dtype .*; model files hold plain numbers"):
        lookalike.load_synthesizer(bad)


def test_too_many_dimensions_refused(saved, tmp_path):
    bad = rewrite(saved["independent"], tmp_path / "bad.lookalike",
                  {"arrays/probs.0.npy": npy_header((1,) * 33)})
    with pytest.raises(ModelFileError, match=r"model files hold at most 32 non-negative dimensions"):
        lookalike.load_synthesizer(bad)


@pytest.mark.parametrize("depth", [65, 200_000])
def test_deep_json_refused_without_traceback(saved, tmp_path, depth):
    bad = deep_json(saved["independent"], tmp_path / "bad.lookalike", depth)
    with pytest.raises(ModelFileError, match=r"member 'model\.json' nests lists or objects more than 64 levels"):
        lookalike.load_synthesizer(bad)


def test_large_json_refused_before_reading(saved, tmp_path, monkeypatch):
    monkeypatch.setattr(modelfile, "MAX_JSON_BYTES", 1000)
    with pytest.raises(ModelFileError, match=r"member 'model\.json' declares [\d.]+ KiB, over the 1000 bytes limit"):
        lookalike.load_synthesizer(saved["independent"])


def test_version_that_is_not_a_number(saved, tmp_path):
    meta = meta_of(saved["independent"]) | {"version": [1]}
    bad = rewrite(saved["independent"], tmp_path / "bad.lookalike", {"model.json": json.dumps(meta)})
    with pytest.raises(ModelFileError, match=r"model format version \[1\] is not a number"):
        lookalike.load_synthesizer(bad)


# ----------------------------------------------------------------------------- model state


@pytest.mark.parametrize("family", ["independent", "mst"])
def test_nan_bin_edge_refused(saved, tmp_path, family):
    bad = with_nan_edge(saved[family], tmp_path / "bad.lookalike")
    with pytest.raises(ModelFileError, match=rf"bad\.lookalike is a damaged '{family}' model file .*array "
                       r"'enc\.\d+\.upper' \(upper bin edges\) holds 1 NaN or infinite value\(s\) "
                       r"\(first at flat index 1\); these must be finite"):
        lookalike.load_synthesizer(bad)


def test_bin_edges_out_of_order_refused(saved, tmp_path):
    path = saved["independent"]
    j = first_bins_column(meta_of(path))
    upper = read_model(path)[1][f"enc.{j}.upper"][::-1].copy()
    bad = rewrite(path, tmp_path / "bad.lookalike", {f"arrays/enc.{j}.upper.npy": npy(upper)})
    with pytest.raises(ModelFileError, match=r"\(bin edges\) are not in increasing order"):
        lookalike.load_synthesizer(bad)


def test_categories_must_match_the_schema(saved, tmp_path):
    path = saved["independent"]
    meta = meta_of(path)
    codec = next(c for c in meta["state"]["encoder"] if c["column"] == "city")
    codec["categories"] = codec["categories"][:2]
    bad = rewrite(path, tmp_path / "bad.lookalike", {"model.json": json.dumps(meta)})
    with pytest.raises(ModelFileError, match=r"column 'city': the model's codes stand for 2 categories, "
                       r"which do not match the 3 categories of the schema"):
        lookalike.load_synthesizer(bad)


def test_encoder_must_cover_the_modelled_columns(saved, tmp_path):
    path = saved["independent"]
    meta = meta_of(path)
    meta["state"]["encoder"] = meta["state"]["encoder"][1:]
    bad = rewrite(path, tmp_path / "bad.lookalike", {"model.json": json.dumps(meta)})
    with pytest.raises(ModelFileError, match=r"encoder 'enc' encodes columns \[.*\], but the schema models"):
        lookalike.load_synthesizer(bad)


def test_neural_modes_checked(small_df, tmp_path):
    pytest.importorskip("torch")
    path = lookalike.get_synthesizer("tvae", epochs=1).fit(small_df, seed=0).save(tmp_path / "t.lookalike")
    arrays = read_model(path)[1]
    key = next(k for k in arrays if k.startswith("nenc.") and k.endswith(".stds"))
    stds = arrays[key].copy()
    stds[0] = -1.0
    bad = rewrite(path, tmp_path / "bad.lookalike", {f"arrays/{key}.npy": npy(stds)})
    with pytest.raises(ModelFileError, match=r"every standard deviation > 0"):
        lookalike.load_synthesizer(bad)


# ----------------------------------------------------------------------------- the CLI


CRAFTED = {
    "huge shape": (huge_shape, r"declares shape \(1000000000000,\)"),
    "zero bomb": (zero_bomb, r"over the 200:1 limit"),
    "deep JSON": (deep_json, r"more than 64 levels deep"),
    "NaN bin edge": (with_nan_edge, r"holds 1 NaN or infinite value"),
}


@pytest.mark.parametrize("craft, match", CRAFTED.values(), ids=CRAFTED.keys())
def test_crafted_files_through_the_cli(saved, tmp_path, cli, craft, match):
    bad = craft(saved["independent"], tmp_path / "bad.lookalike")
    out = tmp_path / "out.csv"
    result = cli("sample", bad, "-n", 10, "-o", out)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "bad.lookalike" in errors[0]
    assert re.search(match, errors[0])
    assert "Traceback" not in result.stderr + result.stdout
    assert not out.exists()


# ----------------------------------------------------------------------------- writing and reading


ROUND_TRIP = {
    "fortran order": np.arange(6, dtype=np.int32).reshape(2, 3).T,
    "0-d": np.array(3.5),
    "empty": np.zeros((0, 4)),
    "bool": np.array([True, False]),
    "text": np.array(["a", "bc"]),
    "big-endian": np.arange(3, dtype=">i4"),
    "datetime": np.array(["2024-01-02"], dtype="datetime64[D]"),
}


@pytest.mark.parametrize("arr", ROUND_TRIP.values(), ids=ROUND_TRIP.keys())
def test_arrays_round_trip(tmp_path, arr):
    path = write_model(tmp_path / "m.lookalike", {"synthesizer": "x"}, {"a": arr})
    back = read_model(path)[1]["a"]
    assert back.dtype == arr.dtype and back.shape == arr.shape and np.array_equal(back, arr)


def test_very_compressible_arrays_are_stored_so_they_read_back(tmp_path):
    zeros = np.zeros(4 << 20)  # 32 MiB, deflates about 1000:1
    path = write_model(tmp_path / "m.lookalike", {"synthesizer": "x"}, {"z": zeros, "w": np.arange(5.0)})
    with zipfile.ZipFile(path) as z:
        assert z.getinfo("arrays/z.npy").compress_type == zipfile.ZIP_STORED
        assert z.getinfo("arrays/w.npy").compress_type == zipfile.ZIP_DEFLATED
    assert np.array_equal(read_model(path)[1]["z"], zeros)


def test_write_refuses_what_read_would_refuse(tmp_path, monkeypatch):
    monkeypatch.setattr(modelfile, "MAX_ARRAY_BYTES", 16)
    with pytest.raises(ModelFileError, match=r"cannot save .*m\.lookalike: array 'w' of shape \(5,\) "
                       r"\(40 bytes\) is over the limits for model files"):
        write_model(tmp_path / "m.lookalike", {"synthesizer": "x"}, {"w": np.arange(5.0)})
    assert not (tmp_path / "m.lookalike").exists()
