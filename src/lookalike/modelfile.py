"""Model files: one zip holding ``model.json`` and one ``.npy`` per array; never pickle.

The JSON part names the format, its version, the synthesizer, its hyper-parameters, the
schema and any small state; arrays are read with ``allow_pickle=False``.

>>> import tempfile, pathlib, numpy as np
>>> path = pathlib.Path(tempfile.mkdtemp()) / "m.lookalike"
>>> _ = write_model(path, {"synthesizer": "x"}, {"w": np.arange(3)})
>>> meta, arrays = read_model(path)
>>> meta["synthesizer"], arrays["w"].tolist()
('x', [0, 1, 2])
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from lookalike._files import atomic_output
from lookalike.errors import ModelFileError, SourceNotFoundError

__all__ = ["MODEL_FORMAT", "MODEL_VERSION", "read_model", "write_model"]

MODEL_FORMAT = "lookalike-model"
MODEL_VERSION = 1
_META = "model.json"


def write_model(
    path: str | os.PathLike, meta: dict, arrays: dict[str, np.ndarray], *, overwrite: bool = False
) -> Path:
    """Write a model file atomically; refuses to replace an existing file unless ``overwrite``."""
    body = {"format": MODEL_FORMAT, "version": MODEL_VERSION, **meta}
    with atomic_output(path, overwrite=overwrite) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(_entry(_META), json.dumps(body, ensure_ascii=False, default=_json_default))
            for name, arr in arrays.items():
                arr = np.asarray(arr)
                if arr.dtype == object:
                    raise TypeError(f"array {name!r} has dtype object; store it in the JSON part")
                buf = io.BytesIO()
                np.save(buf, arr, allow_pickle=False)
                zf.writestr(_entry(f"arrays/{name}.npy"), buf.getvalue())
    return Path(path)


def read_model(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """Read a model file; a missing, corrupt or foreign file raises a clear error."""
    p = Path(path)
    if not p.exists():
        raise SourceNotFoundError(f"model file {p} does not exist")
    if p.is_dir():
        raise ModelFileError(f"{p} is a directory, not a lookalike model file")
    try:
        with zipfile.ZipFile(p) as zf:
            names = set(zf.namelist())
            if _META not in names:
                raise ModelFileError(
                    f"{p} is a zip archive but not a lookalike model file (no {_META} inside)"
                )
            meta = json.loads(zf.read(_META).decode("utf-8"))
            if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
                raise ModelFileError(f"{p} is not a lookalike model file (format mark missing)")
            if int(meta.get("version", 0)) > MODEL_VERSION:
                raise ModelFileError(
                    f"{p} was written by a newer lookalike (model format {meta['version']}, "
                    f"this one reads {MODEL_VERSION}); upgrade lookalike"
                )
            arrays = {}
            for name in names:
                if name.startswith("arrays/") and name.endswith(".npy"):
                    key = name[len("arrays/") : -len(".npy")]
                    arrays[key] = np.load(io.BytesIO(zf.read(name)), allow_pickle=False)
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, UnicodeDecodeError) as e:
        raise ModelFileError(
            f"{p} is not a readable lookalike model file ({type(e).__name__}: {e}); "
            "it may be truncated or of another format"
        ) from None
    return meta, arrays


def _entry(name: str) -> zipfile.ZipInfo:
    """A zip entry with a fixed timestamp, so equal models give byte-identical files."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"cannot store {type(o).__name__} in a model file")
