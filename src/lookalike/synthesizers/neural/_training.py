"""Helpers the non-DP neural trainings share: a validation split, its fidelity signal, early stopping.

DP fits use none of them: a validation signal on private rows would be an uncharged release.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np

__all__ = ["EarlyStopper", "fidelity_signal", "validation_size", "validation_split"]


def validation_size(n: int, share: float) -> int:
    """Rows held out of ``n`` for a validation ``share``: round(n × share), at least 1 row
    each side."""
    return min(max(int(round(n * share)), 1), n - 1) if n > 1 else 0


def validation_split(n: int, share: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, validation rows): a random ``share`` held out (:func:`validation_size` rows)."""
    order = rng.permutation(n)
    n_val = validation_size(n, share)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def fidelity_signal(fake: np.ndarray, real: np.ndarray, spans) -> float:
    """Mean total variation distance of the one- and two-way distributions in encoded space.

    Softmax spans are compared by their argmax, α slots in 10 bins on [−1, 1]; the signal is the
    mean 1-way TVD plus the mean 2-way TVD over all pairs of spans. Lower is better; the
    early-stopping signal of the non-DP fits (on held-out rows).
    """
    def codes(x: np.ndarray) -> list[tuple[np.ndarray, int]]:
        out = []
        for s in spans:
            if s.activation == "tanh":
                out.append((np.clip(((x[:, s.start] + 1) * 5).astype(np.int64), 0, 9), 10))
            else:
                out.append((x[:, s.start : s.start + s.size].argmax(1), s.size))
        return out

    a, b = codes(fake), codes(real)
    one = [0.5 * np.abs(np.bincount(ca, minlength=k) / len(ca) - np.bincount(cb, minlength=k) / len(cb)).sum()
           for (ca, k), (cb, _) in zip(a, b, strict=True)]
    two = []
    for i in range(len(a)):
        for j in range(i + 1, len(a)):
            (ai, ki), (aj, kj), (bi, _), (bj, _) = a[i], a[j], b[i], b[j]
            pa = np.bincount(ai * kj + aj, minlength=ki * kj) / len(ai)
            pb = np.bincount(bi * kj + bj, minlength=ki * kj) / len(bi)
            two.append(0.5 * np.abs(pa - pb).sum())
    return float(np.mean(one) + (np.mean(two) if two else 0.0))


class EarlyStopper:
    """Keeps the best weights by a validation signal; says stop after ``patience`` epochs without gain."""

    def __init__(self, patience: int | None, modules: dict[str, Any]) -> None:
        self.patience = patience
        self.modules = modules
        self.best = math.inf
        self.best_epoch = -1
        self.best_state: dict | None = None
        self.history: list[float] = []

    def update(self, epoch: int, value: float) -> bool:
        self.history.append(value)
        if value < self.best - 1e-4:
            self.best, self.best_epoch = value, epoch
            self.best_state = {k: copy.deepcopy(m.state_dict()) for k, m in self.modules.items()}
        return self.patience is not None and epoch - self.best_epoch >= self.patience

    def restore(self) -> None:
        if self.best_state is not None:
            for k, m in self.modules.items():
                m.load_state_dict(self.best_state[k])
