"""``pategan``: PATE-GAN (Jordon, Yoon and van der Schaar, ICLR 2019), with a data-independent
privacy analysis.

The rows are split at random into ``n_teachers`` disjoint partitions. Each teacher is a small
discriminator trained on its own partition against generated rows. A *student* discriminator
never sees real rows: it learns from generated rows labelled by the teachers' **noisy vote** —
the number of teachers calling a row real, plus discrete Gaussian noise (OpenDP). The student
regresses the vote's share of the teachers (clipped to [0, 1], a soft target of its binary
cross-entropy), not the majority label: the margin is what tells one generated row from a more
realistic one once the generator is near the data, and thresholding it at half the teachers
threw it away. The generator learns to fool the student.

Two choices make the training learn the dependence between columns, and neither touches the
privacy analysis (both are post-processing of generated rows or of released votes):

* teachers and student see generated categories as exact one-hot rows, as real rows are,
  with the gradient of the soft outputs (:meth:`SpanLayout.straight_through
  <lookalike.synthesizers.neural._nets.SpanLayout.straight_through>`): with near-one-hot soft
  rows the small teachers can call every generated row fake by its softness alone, and such
  votes say nothing about which rows are realistic;
* the student revisits past batches with their released votes (``replay``), so that it does
  not forget what the teachers said about rows the generator has moved away from.

Privacy analysis (documented choice). Adding or removing one row changes one partition, hence
at most one teacher, hence each vote count by at most 1: a batch of ``b`` votes has L2
sensitivity √b, and releasing it with discrete Gaussian noise σ costs ρ = b/(2σ²) in zCDP,
whatever the teachers did (they may be arbitrary functions of their partitions and of earlier
noisy outputs: adaptive composition). Over ``iterations × batch_size`` votes the training costs
ρ = Q/(2σ²); σ is set from the budget left after discovery. This is the **data-independent**
bound. The original paper's data-dependent moments-accountant analysis is not used: it relies
on the teachers' consensus, so the privacy figure itself depends on the data and would need
smooth-sensitivity / propose-test-release machinery to be released safely (Papernot et al.
2018), and its published form has known errors. Teachers and the student are never saved;
only the generator is, which is post-processing of the noisy votes.

What this bound leaves to learn from. With ``Q`` votes of ``k`` teachers and noise
σ = √(Q/(2ρ)), the Fisher information that all votes together carry about the teachers' mean
vote share T(x) is Q·k²·Var(T)/σ² = 2ρ·k²·Var(T), whatever ``Q``: more, noisier votes or fewer,
cleaner ones hold the same. At ε = 1 on Adult (ρ ≈ 0.009 left for the votes) it is a few
units to a few tens (``benchmarks/pate_information.py``): enough for the student to learn where
generated rows look fake column by column, not the dependence between columns. More
teachers raise k² but give each fewer rows, so they agree less and Var(T) falls. Used directly
as the generator's critic (exact, no privacy) the same teachers do hold the dependence; through
noisy votes at ε = 1 it does not survive (figures in docs/benchmarks/neural.md).

>>> import lookalike
>>> real = lookalike.load_demo().head(500)
>>> model = PATEGAN(iterations=20, n_teachers=5, student_steps=2).fit(real, epsilon=1.0, seed=0)
>>> model.privacy_.epsilon_spent <= 1.0
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lookalike._progress import progress
from lookalike.errors import ConfigError
from lookalike.privacy.accountant import RDP_ORDERS, epsilon_from_rdp
from lookalike.privacy.mechanisms import gaussian_counts
from lookalike.synthesizers._checks import check_int, widths
from lookalike.synthesizers.base import register
from lookalike.synthesizers.neural._base import NeuralSynthesizer, Plan
from lookalike.synthesizers.neural._nets import SpanLayout, nets
from lookalike.synthesizers.neural._torch import require_torch, torch_generator
from lookalike.synthesizers.neural.ctgan import adam

__all__ = ["PATEGAN", "plan_pate"]

EXACT_ITERATIONS = 3000  # default rounds with exact votes (no noise to spread over them)
STUDENT_LR = 1e-3  # the student learns a supervised target: faster than the generator it guides


def plan_pate(*, queries: int, epsilon: float, delta: float, rho_before: float) -> Plan:
    """The largest training ρ (hence smallest vote noise σ) that keeps the fit within (ε, δ)."""
    def eps_of(rho: float) -> float:  # a hair of margin so that re-adding the curves stays within ε
        return epsilon_from_rdp([(rho_before + rho) * a for a in RDP_ORDERS], delta) * (1 + 1e-9)

    if eps_of(0.0) > epsilon:
        raise ConfigError(f"epsilon={epsilon:g} is spent by discovery alone; raise epsilon")
    lo, hi = 0.0, 1.0
    while eps_of(hi) <= epsilon:
        hi *= 2
    for _ in range(100):
        mid = (lo + hi) / 2
        if eps_of(mid) <= epsilon:
            lo = mid
        else:
            hi = mid
    rho = lo
    if rho <= 0:
        raise ConfigError(f"epsilon={epsilon:g} is too small to answer one PATE vote; raise epsilon")
    sigma = math.sqrt(queries / (2 * rho))
    return Plan(
        rho=rho, rdp=[rho * a for a in RDP_ORDERS], vote_sigma=sigma, queries=queries,
        epsilon=epsilon_from_rdp([rho * a for a in RDP_ORDERS], delta), delta=delta,
        mechanism="pate-gaussian-votes",
        accounting="PATE noisy votes (discrete Gaussian, data-independent zCDP bound)",
        detail=f"{queries} noisy teacher votes, sigma={sigma:.4g}",
    )


@register
class PATEGAN(NeuralSynthesizer):
    """PATE-GAN: teachers on disjoint partitions vote, noisily, for a student discriminator.

    Each teacher is a small discriminator trained on its own share of the rows; a student
    discriminator never sees a real row and learns from the teachers' votes on generated
    rows with discrete Gaussian noise added, and the generator learns to fool the student.
    With ``epsilon`` the fit is (ε, δ)-differentially private by a data-independent analysis
    of the noisy votes; with ``epsilon=None`` the votes are exact (no guarantee). Pick it to
    compare with the PATE literature: at ε = 1 the votes carry enough to learn the columns one
    by one but not their dependence (Adult, 5 runs: 2-way TVD 0.122, ML AUC 0.507 ± 0.058, in
    17 s on 2 cores; dptvae 0.114 and 0.831); with exact votes the training learns it (seeds
    0–2: 2-way TVD 0.071, ML AUC 0.868). Figures and commands: docs/benchmarks/neural.md.

    Parameters
    ----------
    iterations : int or None, default None
        Rounds of teacher, student and generator updates; the votes, iterations ×
        student_steps × batch_size, set the vote noise for a given ε.
        None: with ``epsilon``, min(300, max(50, ñ / 4)) with ñ the noisy row count; with exact
        votes (``epsilon=None``), 3,000, since no noise is spread over the votes.
        Range: integer >= 1, or None.
    batch_size : int, default 64
        Generated rows the teachers vote on in each student update.
        Range: integer >= 1.
    student_steps : int, default 5
        Student updates per round, each on a fresh batch of generated rows and their votes, so
        that the student keeps up with teachers and generator that move every round.
        Range: integer >= 1.
    replay : int, default 100
        Past batches of generated rows, with their released votes, kept for the student: each
        student update adds one of them, drawn at random, to its fresh batch, so that the
        student does not forget what the teachers said about rows the generator no longer
        makes. Reusing released votes is post-processing: no privacy cost. 0: fresh batches
        only.
        Range: integer >= 0.
    n_teachers : int or None, default None
        Teachers, one per disjoint random partition of the rows: one row changes one teacher,
        hence each vote by at most 1.
        None: one per 50 rows of the (noisy) row count, at least 2 and at most 1000.
        Range: integer >= 2, or None; more teachers than rows are refused when fitting.
    teacher_steps : int, default 1
        Updates of every teacher per iteration.
        Range: integer >= 1.
    teacher_batch : int, default 32
        Real rows from its own partition per teacher update.
        Range: integer >= 1.
    teacher_dims : tuple of int, default (16,)
        Widths of each teacher's hidden layers (the teachers see few rows each: keep them small).
        Range: tuple of integers >= 1.
    embedding_dim : int, default 64
        Size of the random noise vector the generator turns into a row.
        Range: integer >= 1.
    generator_dims : tuple of int, default (256, 256)
        Widths of the generator's hidden layers, one number per layer (``[256, 256]`` on the
        command line).
        Range: tuple of integers >= 1.
    student_dims : tuple of int, default (256, 256)
        Widths of the student discriminator's hidden layers.
        Range: tuple of integers >= 1.
    lr : float, default 2e-4
        Adam learning rate of the generator (the teachers and the student, which learn
        supervised targets, use 1e-3).
        Range: number > 0.
    discovery_share : float or None, default None
        Share of the privacy budget (ρ) spent on DP domain discovery: the categories and bin
        edges of columns the schema does not declare. Ignored without ``epsilon`` and when
        every fact is declared (declared facts are free).
        None: sized to the table from the noisy row count: enough for noise of at most 1% of
        the rows per discovered column, within 0.1 to 0.5 of ρ.
        Range: number in (0, 0.89), or None; below 0.99 with calibrate=False: the row count
        takes 0.01 of ρ and the calibration targets 0.1, and training needs the rest.
    n_bins : int, default 32
        Most bins per numeric and datetime column: under DP cut by domain discovery (they
        bound the decoded values and are the calibration targets' cells); without DP,
        quantile bins of the calibration targets.
        Range: integer >= 2.
    max_modes : int, default 10
        Most Gaussian-mixture modes per numeric column in the mode-specific normalisation (a
        value is encoded as its mode and its position within it); modes with under 0.5% of the
        weight are dropped. Under DP the mixture is fitted to draws from the discovered bins
        (post-processing).
        Range: integer >= 1.
    calibrate : bool, default True
        Match each column's 1-way distribution when sampling without conditions
        (post-processing of the network's output). Under DP the targets are noisy 1-ways
        that cost 10% of the budget (ρ), and they also decide which missing states and
        "other" categories the data support.
        Range: True or False.
    device : str, default 'auto'
        Where PyTorch trains and samples: 'auto' takes the GPU when PyTorch sees one, else the
        CPU; 'cuda:N' a given GPU (a GPU that is not there is refused when fitting).
        Range: 'auto', 'cpu', 'cuda' or 'cuda:N'.
    """

    name = "pategan"
    supports_dp = True

    def __init__(
        self,
        *,
        iterations: int | None = None,
        batch_size: int = 64,
        student_steps: int = 5,
        replay: int = 100,
        n_teachers: int | None = None,
        teacher_steps: int = 1,
        teacher_batch: int = 32,
        teacher_dims: tuple[int, ...] = (16,),
        embedding_dim: int = 64,
        generator_dims: tuple[int, ...] = (256, 256),
        student_dims: tuple[int, ...] = (256, 256),
        lr: float = 2e-4,
        discovery_share: float | None = None,
        n_bins: int = 32,
        max_modes: int = 10,
        calibrate: bool = True,
        device: str = "auto",
    ) -> None:
        self.iterations = iterations
        self.batch_size = batch_size
        self.student_steps = student_steps
        self.replay = replay
        self.n_teachers = n_teachers
        self.teacher_steps = teacher_steps
        self.teacher_batch = teacher_batch
        self.teacher_dims = widths(teacher_dims)  # tuples, as a model file gives them back
        self.embedding_dim = embedding_dim
        self.generator_dims = widths(generator_dims)  # tuples, as a model file gives them back
        self.student_dims = widths(student_dims)  # tuples, as a model file gives them back
        self.lr = lr
        self.discovery_share = discovery_share
        self.n_bins = n_bins
        self.max_modes = max_modes
        self.calibrate = calibrate
        self.device = device

    @property
    def epochs(self) -> int | None:  # the shared checks speak of epochs; PATE-GAN counts iterations
        return self.iterations

    def _iterations(self, n_rows: int, *, exact: bool = False) -> int:
        """As given, or by default 300 under DP, fewer on small tables (one per 4 rows, at least
        50), and ``EXACT_ITERATIONS`` with exact votes."""
        if exact and self.iterations is None:
            return EXACT_ITERATIONS
        return self._epochs(n_rows)

    def _default_epochs(self, n_rows: int) -> int:  # the shared schedule's "epochs": iterations
        return int(min(300, max(50, n_rows // 4)))

    def _check_params(self) -> None:
        check_int("batch_size", self.batch_size, 1)  # no default schedule: votes per iteration
        check_int("student_steps", self.student_steps, 1)
        check_int("replay", self.replay, 0)
        self._check_common()
        check_int("n_teachers", self.n_teachers, 2, none=True)

    def _teachers(self, n_est: int) -> int:
        k = self.n_teachers if self.n_teachers is not None else int(min(1000, max(2, n_est // 50)))
        if k > n_est:
            raise ConfigError(
                f"n_teachers={k} is more than the data's rows (about {n_est}); choose fewer teachers"
            )
        return k

    def _plan(self, n_est: int, epsilon: float, delta: float, rho_disc: float) -> Plan:
        plan = plan_pate(queries=self._iterations(n_est) * self.student_steps * self.batch_size,
                         epsilon=epsilon, delta=delta, rho_before=rho_disc)
        plan["n_teachers"] = self._teachers(n_est)
        return plan

    def _build(self, device) -> None:
        enc = self.encoder_
        N = nets()
        self.layout_ = SpanLayout(enc.spans, enc.dim, device)
        self.generator_ = N["Generator"](self.embedding_dim, tuple(self.generator_dims), enc.dim).to(device)

    def _modules(self) -> dict[str, Any]:
        return {"generator": self.generator_}

    def _fake(self, b: int, gen, device, *, gumbel: bool = True, hard: bool = False):
        torch = require_torch()
        z = torch.randn(b, self.embedding_dim, device=device, generator=gen)
        out = self.layout_.activate(self.generator_(z), generator=gen, gumbel=gumbel)
        return self.layout_.straight_through(out) if hard else out

    def _train(self, x: np.ndarray, codes: np.ndarray, plan: Plan | None, rng, device) -> None:
        torch = require_torch()
        F = torch.nn.functional
        n, dim = x.shape
        k = plan["n_teachers"] if plan else self._teachers(n)
        B = self.batch_size
        xt = torch.from_numpy(x).to(device)
        gen = torch_generator(rng, device)
        # disjoint partitions: each row to one teacher, uniformly at random
        part = rng.integers(k, size=n)
        order = np.argsort(part, kind="stable")
        counts = np.bincount(part, minlength=k)
        starts = np.r_[0, np.cumsum(counts)[:-1]]
        teachers = _BatchedMLP(k, dim, tuple(self.teacher_dims), device)
        student = nets()["Discriminator"](dim, tuple(self.student_dims), 1, dropout=0.0).to(device)
        opt_t = adam(teachers.parameters(), lr=1e-3)
        opt_s = adam(student.parameters(), lr=STUDENT_LR, betas=(0.5, 0.9))
        opt_g = adam(self.generator_.parameters(), lr=self.lr, betas=(0.5, 0.9))
        has = torch.as_tensor(counts > 0, device=device).float()
        order_t = torch.as_tensor(order, device=device)
        sigma = plan["vote_sigma"] if plan else None
        g_hist, s_hist = [], []
        S = self.student_steps
        iterations = plan["queries"] // (B * S) if plan else self._iterations(n, exact=True)
        m = self.teacher_batch
        replay = _Replay(self.replay, rng)
        with progress(f"{self.name}: training", iterations) as advance:
            for it in range(iterations):
                for _ in range(self.teacher_steps):
                    pos = starts[:, None] + np.floor(rng.random((k, m)) * np.maximum(counts, 1)[:, None]).astype(np.int64)
                    real = xt[order_t[torch.as_tensor(np.minimum(pos, n - 1), device=device)]]  # (k, m, dim)
                    # one batch of generated rows serves every teacher: the generator's forward pass,
                    # not the small teachers, is the cost, and generated rows are public
                    with torch.no_grad():
                        fake = self._fake(m, gen, device, hard=True).unsqueeze(0).expand(k, m, dim)
                    lr_, lf = teachers(real).squeeze(-1), teachers(fake).squeeze(-1)
                    t_loss = ((F.softplus(-lr_).mean(1) + F.softplus(lf).mean(1)) * has).sum() / has.sum()
                    opt_t.zero_grad(set_to_none=True)
                    t_loss.backward()
                    opt_t.step()
                for _ in range(S):  # the student regresses the (noisy) share of teachers voting real
                    fake = self._fake(B, gen, device, hard=True)
                    with torch.no_grad():
                        votes = (teachers(fake.detach().unsqueeze(0).expand(k, B, dim)).squeeze(-1) > 0).sum(0)
                    votes_np = votes.cpu().numpy().astype(np.int64)
                    noisy = (gaussian_counts(votes_np, sigma=sigma).values if sigma is not None
                             else votes_np.astype(float))
                    share = torch.as_tensor(np.clip(noisy / k, 0.0, 1.0).astype(np.float32), device=device)
                    xs, ys = replay.mix(fake.detach(), share)
                    s_loss = F.binary_cross_entropy_with_logits(student(xs).squeeze(1), ys)
                    opt_s.zero_grad(set_to_none=True)
                    s_loss.backward()
                    opt_s.step()
                g_loss = F.softplus(-student(fake).squeeze(1)).mean()
                opt_g.zero_grad(set_to_none=True)
                g_loss.backward()
                opt_g.step()
                g_hist.append(float(g_loss.detach()))
                s_hist.append(float(s_loss.detach()))
                advance(description=f"{self.name}: it {it + 1} G {g_hist[-1]:.3f} S {s_hist[-1]:.3f} "
                                    f"T {float(t_loss.detach()):.3f}")
        self.training_.update(
            # the teachers' loss reads private rows without noise: shown on the progress bar only
            loss={"generator": g_hist, "student": s_hist},
            epochs=iterations, stopped_early=False, n_teachers=k,
        )

    def _generate(self, n: int, rng, cond=None):
        torch = require_torch()
        gen = torch_generator(rng, self.device_)
        self.generator_.eval()
        out = []
        with torch.no_grad():
            for lo in range(0, n, 4096):
                out.append(self._fake(min(4096, n - lo), gen, self.device_).cpu().numpy())
        self.generator_.train()
        return np.concatenate(out), None


class _Replay:
    """Up to ``size`` past batches of generated rows with their released vote shares; once
    full, one batch drawn at random among the stored ones and the new one is dropped, so that
    older batches thin out gradually. Each student update sees its fresh batch and one stored
    batch drawn at random: the student keeps what the teachers said about regions the generator
    has left, instead of chasing the generator's latest batch. Only released votes are reused
    (post-processing): the privacy cost is that of the votes, unchanged."""

    def __init__(self, size: int, rng: np.random.Generator) -> None:
        self.size, self.rng = size, rng
        self.rows: list = []
        self.shares: list = []

    def mix(self, rows, shares):
        """(rows, shares) of the fresh batch, with a stored batch appended; the fresh batch is
        then stored."""
        torch = require_torch()
        if not self.size:
            return rows, shares
        out = rows, shares
        if self.rows:
            j = int(self.rng.integers(len(self.rows)))
            out = torch.cat([rows, self.rows[j]]), torch.cat([shares, self.shares[j]])
        self.rows.append(rows)
        self.shares.append(shares)
        if len(self.rows) > self.size:  # one of the stored batches and the new one is dropped
            j = int(self.rng.integers(len(self.rows)))
            self.rows[j], self.shares[j] = self.rows[-1], self.shares[-1]
            self.rows.pop()
            self.shares.pop()
        return out


class _BatchedMLP:
    """``k`` independent small MLP discriminators evaluated together with batched matmuls."""

    def __init__(self, k: int, dim: int, hidden: tuple[int, ...], device) -> None:
        torch = require_torch()
        sizes = [dim, *hidden, 1]
        self.weights, self.biases = [], []
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            w = torch.empty(k, a, b, device=device)
            torch.nn.init.uniform_(w, -1 / math.sqrt(a), 1 / math.sqrt(a))
            self.weights.append(w.requires_grad_(True))
            self.biases.append(torch.zeros(k, 1, b, device=device, requires_grad=True))

    def parameters(self):
        return self.weights + self.biases

    def __call__(self, x):
        torch = require_torch()
        h = x
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = torch.baddbmm(b, h, w)
            if i < len(self.weights) - 1:
                h = torch.nn.functional.leaky_relu(h, 0.2)
        return h
