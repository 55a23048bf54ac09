"""PyTorch plumbing for the neural synthesizers: lazy import, device choice, weights as arrays.

torch and opacus are optional (``pip install "lookalike[neural]"``); nothing here imports them
at module load, so ``import lookalike`` works and ``lookalike synthesizers`` lists the neural
families without them. Weights travel in the model file as plain arrays (no pickle, no
``torch.save``).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from lookalike.errors import ConfigError

__all__ = ["require_torch", "require_opacus", "select_device", "module_arrays", "load_module_arrays",
           "torch_generator"]

_INSTALL = 'pip install "lookalike[neural]"'


def require_torch():
    """The ``torch`` module, or a ConfigError naming the install command."""
    try:
        import torch
    except ImportError:
        raise ConfigError(f"the neural synthesizers need PyTorch: {_INSTALL}") from None
    threads = os.environ.get("LOOKALIKE_TORCH_THREADS")
    if threads:
        torch.set_num_threads(int(threads))
    return torch


def require_opacus():
    """The ``opacus`` module (DP-SGD), or a ConfigError naming the install command."""
    require_torch()
    try:
        import opacus
    except ImportError:
        raise ConfigError(f"DP-SGD (dpctgan, dptvae) needs Opacus: {_INSTALL}") from None
    return opacus


def select_device(device: str) -> Any:
    """``"auto"``: the GPU when one is available, else the CPU; ``"cpu"``, ``"cuda"``, ``"cuda:1"``…"""
    torch = require_torch()
    if not isinstance(device, str):
        raise ConfigError(f"device must be 'auto', 'cpu' or 'cuda[:i]', got {device!r}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu":
        return torch.device("cpu")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(
                f"device={device!r} asks for a GPU but PyTorch sees none (torch.cuda.is_available() "
                f"is False, torch {torch.__version__}); use device='cpu' or 'auto', or install a "
                "CUDA build of PyTorch"
            )
        try:
            dev = torch.device(device)
        except RuntimeError:
            raise ConfigError(f"device {device!r} is not a valid device name; use 'cuda' or 'cuda:0'") from None
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ConfigError(f"device={device!r}: only {torch.cuda.device_count()} GPU(s) present")
        return dev
    raise ConfigError(f"device must be 'auto', 'cpu' or 'cuda[:i]', got {device!r}")


def module_arrays(module: Any, prefix: str) -> dict[str, np.ndarray]:
    """A module's parameters and buffers (its state dict) as numpy arrays keyed ``prefix.name``."""
    return {f"{prefix}.{k}": v.detach().cpu().numpy().copy() for k, v in module.state_dict().items()}


def load_module_arrays(module: Any, arrays: dict[str, np.ndarray], prefix: str) -> None:
    """Load arrays written by :func:`module_arrays` into ``module`` (same architecture)."""
    torch = require_torch()
    state = {}
    for k, ref in module.state_dict().items():
        key = f"{prefix}.{k}"
        if key not in arrays:
            raise ValueError(f"weights {key!r} missing from the model file")
        arr = np.asarray(arrays[key])
        if tuple(arr.shape) != tuple(ref.shape):
            raise ValueError(f"weights {key!r} have shape {arr.shape}, the model expects {tuple(ref.shape)}")
        state[k] = torch.from_numpy(arr.copy()).to(ref.dtype)
    module.load_state_dict(state)


def torch_generator(rng: np.random.Generator, device: Any) -> Any:
    """A torch Generator on ``device`` seeded from ``rng`` (so equal seeds give equal draws)."""
    torch = require_torch()
    g = torch.Generator(device=device)
    g.manual_seed(int(rng.integers(2**62)))
    return g
