"""Minimise the marginal loss over the potentials: entropic mirror descent, accelerated.

Mirror descent on the marginal polytope with the entropy mirror map updates the log-potentials
by ``-alpha * dL/dmu`` (McKenna, Sheldon & Miklau 2019, Algorithm 1). Alone it is slow when
cell counts span orders of magnitude, so this module accelerates it in two phases:

1. Anderson acceleration (Walker & Ni 2011) of the mirror-descent map ``phi -> phi - alpha *
   g(phi)`` with ``m`` past steps, accepting an extrapolated point only if it lowers the loss
   and otherwise taking a plain step with Armijo backtracking. It makes most of the progress.
2. Once it stalls, FISTA momentum (Beck & Teboulle 2009) with function-value restarts
   (O'Donoghue & Candès 2015) and Armijo backtracking, which handles the slow tail (cells
   driven towards zero) better.

Both stop when the best loss fell by no more than ``threshold`` over the last 10 steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

__all__ = ["minimise"]

_WINDOW = 10
_RAMP = 30  # FISTA steps before its first stall test: momentum needs time to build


class _Loss(Protocol):
    total: float
    weight: list[float]

    def evaluate(self, phi: np.ndarray) -> tuple[list[np.ndarray], float]: ...

    def gradient(self, mus: list[np.ndarray]) -> np.ndarray: ...

    def decrease(self, mus: list[np.ndarray], new: list[np.ndarray]) -> float: ...


class _State:
    """The best point so far, the step size and the loss history shared by the phases."""

    def __init__(self, problem: _Loss, phi: np.ndarray, iters: int, threshold: float,
                 on_step: Callable[[], None] | None = None) -> None:
        self.problem, self.iters, self.threshold = problem, iters, threshold
        self.phi = phi
        self.mus, self.loss = problem.evaluate(phi)
        self.history = [self.loss]  # best loss after each step of the current phase
        self.steps = 0
        self.on_step = on_step
        self.alpha = 1.0 / (2.0 * problem.total * sum(problem.weight))  # safe for any model

    def record(self, phi: np.ndarray, mus: list[np.ndarray], loss: float) -> None:
        if loss <= self.loss:
            self.phi, self.mus, self.loss = phi, mus, loss
        self.history.append(self.loss)
        self.steps += 1
        if self.on_step is not None:
            self.on_step()

    def stalled(self) -> bool:
        h = self.history
        return self.steps >= self.iters or (len(h) > _WINDOW and h[-1 - _WINDOW] - h[-1] <= self.threshold)

    def armijo_step(self, point, mus, loss, grad, grow: float = 1.0):
        """Mirror step from ``point``, halving ``alpha`` until the Armijo condition holds."""
        for _ in range(64):
            trial = point - self.alpha * grad
            new_mus, new_loss = self.problem.evaluate(trial)
            if loss - new_loss >= 0.5 * max(self.problem.decrease(mus, new_mus), 0.0):
                self.alpha *= grow
                return trial, new_mus, new_loss
            self.alpha *= 0.5
        return None  # no step lowers the loss: optimal to machine precision


def _warm_up(state: _State) -> None:
    """Plain mirror steps, doubling ``alpha`` until the first backtrack (at most 60 steps)."""
    for _ in range(60):
        if state.stalled():
            return
        start = state.alpha
        step = state.armijo_step(state.phi, state.mus, state.loss, state.problem.gradient(state.mus), 2.0)
        if step is None:
            state.steps = state.iters
            return
        state.record(*step)
        if state.alpha < 2.0 * start:
            return


def _anderson(state: _State, memory: int = 8) -> None:
    problem = state.problem
    xs: list[np.ndarray] = []
    fs: list[np.ndarray] = []
    while not state.stalled():
        x, grad = state.phi, problem.gradient(state.mus)
        f = -state.alpha * grad
        if xs:
            dx = np.stack([b - a for a, b in zip(xs, [*xs[1:], x], strict=True)], axis=1)
            df = np.stack([b - a for a, b in zip(fs, [*fs[1:], f], strict=True)], axis=1)
            gram = df.T @ df
            gram += (1e-10 * np.trace(gram) + 1e-300) * np.eye(len(xs))
            gamma = np.linalg.solve(gram, df.T @ f)
            candidate = x + f - (dx + df) @ gamma
        else:
            candidate = x + f
        mus, loss = problem.evaluate(candidate)
        if loss <= state.loss:
            xs, fs = [*xs, x][-memory:], [*fs, f][-memory:]
            state.record(candidate, mus, loss)
            continue
        xs, fs = [], []
        step = state.armijo_step(x, state.mus, state.loss, grad)
        if step is None:
            state.steps = state.iters
            return
        state.record(*step)


def _fista(state: _State) -> None:
    problem = state.problem
    previous, momentum = state.phi, 1.0
    phi, mus, loss = state.phi, state.mus, state.loss
    state.history = [state.loss]  # a fresh window for this phase
    while len(state.history) <= _RAMP or not state.stalled():
        if state.steps >= state.iters:
            return
        next_momentum = (1.0 + np.sqrt(1.0 + 4.0 * momentum**2)) / 2.0
        beta = (momentum - 1.0) / next_momentum
        if beta > 0:
            point = phi + beta * (phi - previous)
            mus_at, loss_at = problem.evaluate(point)
        else:
            point, mus_at, loss_at = phi, mus, loss
        step = state.armijo_step(point, mus_at, loss_at, problem.gradient(mus_at), 1.1)
        if step is None:
            state.steps = state.iters
            return
        trial, new_mus, new_loss = step
        restart = new_loss > loss
        previous, phi, mus, loss = (trial if restart else phi), trial, new_mus, new_loss
        momentum = 1.0 if restart else next_momentum
        state.record(trial, new_mus, new_loss)


def minimise(problem: _Loss, phi: np.ndarray, iters: int, threshold: float,
             on_step: Callable[[], None] | None = None) -> np.ndarray:
    """Potentials minimising ``problem``'s loss, from ``phi``; at most ``iters`` steps in all
    (``on_step`` is called after each, for progress)."""
    state = _State(problem, phi, iters, threshold, on_step)
    _warm_up(state)
    _anderson(state)
    _fista(state)
    return state.phi
