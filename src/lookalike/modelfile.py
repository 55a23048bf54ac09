"""Model files: one zip holding ``model.json`` and one ``.npy`` per array; never pickle.

The JSON part names the format, its version, the synthesizer, its hyper-parameters, the
schema and any small state; arrays are read with ``allow_pickle=False``.

A model file may come from anyone, so reading it cannot exhaust memory or crash: every size
is checked from the zip directory and the ``.npy`` headers before anything is decompressed
(:data:`MAX_ARRAY_BYTES` per array, :data:`MAX_TOTAL_BYTES` in all, :data:`MAX_RATIO` of
decompressed to compressed size, :data:`MAX_JSON_BYTES` and :data:`MAX_JSON_DEPTH` for the
JSON part, :data:`MAX_NDIM` dimensions), a member whose data disagrees with its header is
refused, and arrays are read straight into place. Each violation is a
:class:`~lookalike.errors.ModelFileError` naming the file, the member and the limit.
:func:`model_array` lets loaders check what an array must hold (finite, its length).

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
import math
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from lookalike._files import atomic_output
from lookalike.errors import ModelFileError, SourceNotFoundError

__all__ = [
    "MAX_ARRAY_BYTES",
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_MEMBERS",
    "MAX_NDIM",
    "MAX_RATIO",
    "MAX_TOTAL_BYTES",
    "MODEL_FORMAT",
    "MODEL_VERSION",
    "RATIO_FREE_BYTES",
    "model_array",
    "read_model",
    "write_model",
]

MODEL_FORMAT = "lookalike-model"
MODEL_VERSION = 1
MAX_ARRAY_BYTES = 1 << 30
"""Largest array a model file may hold, decompressed (1 GiB)."""
MAX_TOTAL_BYTES = 2 << 30
"""Largest total of a model file's JSON and arrays, decompressed (2 GiB)."""
MAX_JSON_BYTES = 64 << 20
"""Largest ``model.json`` (64 MiB)."""
MAX_JSON_DEPTH = 64
"""Deepest nesting of lists and objects in ``model.json``."""
MAX_NDIM = 32
"""Most dimensions of one array."""
MAX_RATIO = 200
"""Largest decompressed / compressed size of a member over :data:`RATIO_FREE_BYTES`."""
RATIO_FREE_BYTES = 16 << 20
"""Members up to this size (16 MiB decompressed) may compress as well as they like."""
MAX_MEMBERS = 100_000
"""Most members in the zip."""

_META = "model.json"
_DTYPE_KINDS = "biufcUSMm"  # no objects, no structured or void records
_CHUNK = 8 << 20
_DAMAGED = "the file is damaged or not from lookalike"


def write_model(
    path: str | os.PathLike, meta: dict, arrays: dict[str, np.ndarray], *, overwrite: bool = False
) -> Path:
    """Write a model file atomically; refuses to replace an existing file unless ``overwrite``.

    The limits that :func:`read_model` enforces hold here too, so every file written can be
    read back: a member that would compress better than :data:`MAX_RATIO` is stored as is.
    """
    body = {"format": MODEL_FORMAT, "version": MODEL_VERSION, **meta}
    text = json.dumps(body, ensure_ascii=False, default=_json_default).encode("utf-8")
    payloads = {_META: text}
    for name, arr in arrays.items():
        arr = np.asarray(arr)
        if arr.dtype == object:
            raise TypeError(f"array {name!r} has dtype object; store it in the JSON part")
        if arr.ndim > MAX_NDIM or arr.nbytes > MAX_ARRAY_BYTES:
            raise ModelFileError(
                f"cannot save {path}: array {name!r} of shape {arr.shape} ({_size(arr.nbytes)}) is "
                f"over the limits for model files ({_size(MAX_ARRAY_BYTES)}, {MAX_NDIM} dimensions); "
                "choose smaller hyper-parameters"
            )
        buf = io.BytesIO()
        np.save(buf, arr, allow_pickle=False)
        payloads[f"arrays/{name}.npy"] = buf.getvalue()
    total = sum(len(b) for b in payloads.values())
    if len(text) > MAX_JSON_BYTES or total > MAX_TOTAL_BYTES:
        raise ModelFileError(
            f"cannot save {path}: the model holds {_size(total)} ({_size(len(text))} of JSON), over "
            f"the limits for model files ({_size(MAX_TOTAL_BYTES)}, {_size(MAX_JSON_BYTES)} of "
            "JSON); choose smaller hyper-parameters"
        )
    with atomic_output(path, overwrite=overwrite) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in payloads.items():
                zf.writestr(_entry(name, _too_compressible(data)), data)
    return Path(path)


def read_model(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """Read a model file; a missing, corrupt, foreign or oversized file raises a clear error."""
    p = Path(path)
    if not p.exists():
        raise SourceNotFoundError(f"model file {p} does not exist")
    if p.is_dir():
        raise ModelFileError(f"{p} is a directory, not a lookalike model file")
    try:
        with zipfile.ZipFile(p) as zf:
            members = _members(p, zf)
            meta = _read_meta(p, zf, members[_META])
            arrays = {
                name[len("arrays/") : -len(".npy")]: _read_array(p, zf, info)
                for name, info in members.items()
                if name != _META
            }
    except ModelFileError:
        raise
    except (
        zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, KeyError,
        TypeError, UnicodeDecodeError, RuntimeError, NotImplementedError, MemoryError,
    ) as e:
        raise ModelFileError(
            f"{p} is not a readable lookalike model file ({type(e).__name__}: {e}); "
            "it may be truncated or of another format"
        ) from None
    return meta, arrays


def model_array(
    arrays: dict[str, np.ndarray],
    key: str,
    what: str,
    *,
    ndim: int = 1,
    length: int | None = None,
    finite: bool = True,
) -> np.ndarray:
    """Array ``key`` of a loaded model as float64, checked to be numeric with ``ndim`` dimensions.

    ``length``: the size its first dimension must have; ``finite``: refuse NaN and infinity.
    ``what`` says what the array holds, for the message. Raises ``ValueError`` naming the
    array; the synthesizer's loader turns it into a ``ModelFileError`` naming the file.
    """
    if key not in arrays:
        raise ValueError(f"array {key!r} ({what}) is missing")
    a = arrays[key]
    if a.dtype.kind not in "iuf" or a.ndim != ndim:
        raise ValueError(
            f"array {key!r} ({what}) has dtype {a.dtype} and shape {a.shape}; "
            f"expected {ndim} dimension(s) of numbers"
        )
    if length is not None and a.shape[0] != length:
        raise ValueError(f"array {key!r} ({what}) has {a.shape[0]} entries; expected {length}")
    out = a.astype(np.float64)
    if finite and not np.isfinite(out).all():
        bad = np.flatnonzero(~np.isfinite(out.ravel()))
        raise ValueError(
            f"array {key!r} ({what}) holds {len(bad)} NaN or infinite value(s) (first at flat "
            f"index {int(bad[0])}); these must be finite numbers"
        )
    return out


# ----------------------------------------------------------------------------- reading


def _members(p: Path, zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The members read (``model.json`` and ``arrays/*.npy``), checked against the limits."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ModelFileError(
            f"{p}: holds {len(infos):,} members, over the {MAX_MEMBERS:,} limit for model files; "
            f"{_DAMAGED}"
        )
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        if name != _META and not (name.startswith("arrays/") and name.endswith(".npy")):
            continue
        if name in members:
            raise ModelFileError(f"{p}: member {name!r} appears twice; {_DAMAGED}")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ModelFileError(
                f"{p}: member {name!r} uses zip compression method {info.compress_type}; model "
                f"files use deflate only; {_DAMAGED}"
            )
        if name == _META and info.file_size > MAX_JSON_BYTES:
            raise ModelFileError(
                f"{p}: member {_META!r} declares {_size(info.file_size)}, over the "
                f"{_size(MAX_JSON_BYTES)} limit for model files; {_DAMAGED}"
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FREE_BYTES and ratio > MAX_RATIO:
            raise ModelFileError(
                f"{p}: member {name!r} expands {info.compress_size:,} bytes to "
                f"{_size(info.file_size)} ({ratio:,.0f}:1), over the {MAX_RATIO}:1 limit for "
                f"model files; {_DAMAGED}"
            )
        members[name] = info
    if _META not in members:
        raise ModelFileError(
            f"{p} is a zip archive but not a lookalike model file (no {_META} inside)"
        )
    total = sum(info.file_size for info in members.values())
    if total > MAX_TOTAL_BYTES:
        raise ModelFileError(
            f"{p}: its members declare {_size(total)} in all, over the {_size(MAX_TOTAL_BYTES)} "
            f"limit for model files; {_DAMAGED}"
        )
    return members


def _read_meta(p: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> dict:
    """``model.json`` (its size checked by :func:`_members`), refused when nested too deeply."""
    try:  # the C parser stops at the interpreter's recursion limit, well below a stack overflow
        meta = json.loads(zf.read(info).decode("utf-8"))
        too_deep = _json_depth(meta) > MAX_JSON_DEPTH
    except RecursionError:
        too_deep = True
    if too_deep:
        raise ModelFileError(
            f"{p}: member {_META!r} nests lists or objects more than {MAX_JSON_DEPTH} levels "
            f"deep, over the limit for model files; {_DAMAGED}"
        )
    if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
        raise ModelFileError(f"{p} is not a lookalike model file (format mark missing)")
    version = meta.get("version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise ModelFileError(f"{p}: model format version {version!r} is not a number; {_DAMAGED}")
    if version > MODEL_VERSION:
        raise ModelFileError(
            f"{p} was written by a newer lookalike (model format {version}, "
            f"this one reads {MODEL_VERSION}); upgrade lookalike"
        )
    return meta


def _json_depth(value: object) -> int:
    """Deepest nesting of lists and objects in a parsed JSON value (iterative: no recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = node.values()
        elif not isinstance(node, list):
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            break
        stack.extend((child, depth + 1) for child in node)
    return deepest


def _read_array(p: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One ``.npy`` member, its header checked against the limits before its data is read."""
    name = info.filename[len("arrays/") : -len(".npy")]
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ModelFileError(f"{p}: array {name!r} has .npy format {version}; {_DAMAGED}")
        header = f.tell()
        if dtype.hasobject or dtype.kind not in _DTYPE_KINDS or dtype.fields or dtype.subdtype:
            raise ModelFileError(
                f"{p}: array {name!r} has dtype {dtype}; model files hold plain numbers, "
                f"booleans or text only; {_DAMAGED}"
            )
        if len(shape) > MAX_NDIM or any(d < 0 for d in shape):
            raise ModelFileError(
                f"{p}: array {name!r} declares shape {shape}; model files hold at most "
                f"{MAX_NDIM} non-negative dimensions; {_DAMAGED}"
            )
        nbytes = math.prod(shape) * dtype.itemsize
        if nbytes > MAX_ARRAY_BYTES:
            raise ModelFileError(
                f"{p}: array {name!r} declares shape {shape} = {_size(nbytes)}, over the "
                f"{_size(MAX_ARRAY_BYTES)} limit for model files; {_DAMAGED}"
            )
        if header + nbytes != info.file_size:
            raise ModelFileError(
                f"{p}: array {name!r} declares shape {shape} of {dtype} ({nbytes:,} bytes) but its "
                f"member holds {info.file_size - header:,} bytes of data; {_DAMAGED}"
            )
        out = np.empty(shape[::-1] if fortran else shape, dtype)
        view = memoryview(out.reshape(-1).view(np.uint8)) if nbytes else memoryview(b"")
        pos = 0
        while pos < nbytes:
            chunk = f.read(min(_CHUNK, nbytes - pos))
            if not chunk:
                raise ModelFileError(f"{p}: array {name!r} is truncated; {_DAMAGED}")
            view[pos : pos + len(chunk)] = chunk
            pos += len(chunk)
        f.read(1)  # reaching the end checks the member's CRC
    return out.T if fortran else out


# ----------------------------------------------------------------------------- writing


def _entry(name: str, stored: bool = False) -> zipfile.ZipInfo:
    """A zip entry with a fixed timestamp, so equal models give byte-identical files."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    return info


def _too_compressible(data: bytes) -> bool:
    """Whether deflate would shrink ``data`` beyond :data:`MAX_RATIO` (then it is stored)."""
    if len(data) <= RATIO_FREE_BYTES:
        return False
    z = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    view, size = memoryview(data), 0
    for start in range(0, len(data), _CHUNK):
        size += len(z.compress(view[start : start + _CHUNK]))
    size += len(z.flush())
    return len(data) > MAX_RATIO * max(size, 1)


def _size(n: int) -> str:
    """``n`` bytes for people: ``8 TB``, ``2 GiB``, ``1.4 MiB``."""
    for unit, scale in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


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
