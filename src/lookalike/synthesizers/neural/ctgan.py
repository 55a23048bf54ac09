"""``ctgan``: conditional tabular GAN (Xu et al., "Modeling Tabular Data using Conditional GAN",
NeurIPS 2019).

* encoding: mode-specific normalisation of numeric columns, one-hot categories, missing slots
  (:mod:`lookalike.synthesizers.neural._encoding`);
* a conditional generator (residual layers) fed noise and a conditional vector that fixes one
  category of one categorical column; trained *by sampling*: the column is drawn uniformly,
  the category by log-frequency, and the real rows shown to the discriminator have it;
* a PacGAN discriminator (``pac`` rows judged together) with the WGAN-GP loss;
* early stopping on a held-out validation signal (one-way fidelity in encoded space); the best
  generator is kept.

Not differentially private (the modes, frequencies and training read the data); see
``dpctgan`` for the DP form.

>>> import lookalike
>>> real = lookalike.load_demo().head(300)
>>> model = CTGAN(epochs=2, batch_size=100).fit(real, seed=0)
>>> rows = model.sample(50, conditions={"income": ">50K"}, seed=1)
>>> set(rows["income"])
{'>50K'}
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lookalike._progress import progress
from lookalike.errors import ConfigError
from lookalike.synthesizers._checks import check_int, widths
from lookalike.synthesizers.base import register
from lookalike.synthesizers.neural._base import NeuralSynthesizer
from lookalike.synthesizers.neural._nets import SpanLayout, nets
from lookalike.synthesizers.neural._torch import require_torch, torch_generator
from lookalike.synthesizers.neural._training import EarlyStopper, FidelitySignal, validation_split

__all__ = ["CTGAN"]


class CondSampler:
    """Conditional vectors and the real rows that match them (training-by-sampling), vectorised."""

    def __init__(self, codes: np.ndarray, sizes: list[int], probs: list[np.ndarray]) -> None:
        self.n_disc = len(sizes)
        self.sizes = np.asarray(sizes, dtype=np.int64)
        self.offsets = np.r_[0, np.cumsum(self.sizes)[:-1]].astype(np.int64)
        self.cond_dim = int(self.sizes.sum())
        self._offsets_t = None  # the offsets as a tensor on the training device (one_hot)
        width = int(self.sizes.max()) if self.n_disc else 1
        cum = np.ones((self.n_disc, width))
        for j, p in enumerate(probs):
            p = np.asarray(p, float)
            p = p / p.sum() if p.sum() > 0 else np.full(len(p), 1 / len(p))
            cum[j, : len(p)] = np.cumsum(p)
        cum[:, -1] = 1.0
        self.cum = cum
        if codes is not None and len(codes):
            n = len(codes)
            self.order = np.stack([np.argsort(codes[:, j], kind="stable") for j in range(self.n_disc)]) \
                if self.n_disc else np.zeros((0, n), dtype=np.int64)
            counts = np.zeros((self.n_disc, width), dtype=np.int64)
            for j in range(self.n_disc):
                counts[j, : self.sizes[j]] = np.bincount(codes[:, j], minlength=self.sizes[j])
            self.counts = counts
            self.starts = np.concatenate([np.zeros((self.n_disc, 1), np.int64), np.cumsum(counts, 1)[:, :-1]], 1)

    def sample_cond(self, b: int, rng: np.random.Generator, fixed: tuple[int, np.ndarray] | None = None):
        """(column index, category) pairs: uniform column, category by the sampler's probabilities."""
        if fixed is not None:
            j = np.full(b, fixed[0], dtype=np.int64)
            c = rng.choice(fixed[1], b)
            return j, c
        j = rng.integers(self.n_disc, size=b)
        u = rng.random(b)
        c = (self.cum[j] < u[:, None]).sum(1)
        return j, np.minimum(c, self.sizes[j] - 1)

    def rows_for(self, j: np.ndarray, c: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A real row having category ``c`` in column ``j``, for each pair."""
        cnt = self.counts[j, c]
        pos = self.starts[j, c] + np.floor(rng.random(len(j)) * np.maximum(cnt, 1)).astype(np.int64)
        return self.order[j, np.minimum(pos, self.order.shape[1] - 1)]

    def one_hot(self, j, c, device):
        """Conditional vectors on ``device``; ``j`` and ``c`` as arrays or as tensors already there
        (the training loop copies a whole epoch's draws at once: no copy, no sync per step)."""
        torch = require_torch()
        out = torch.zeros(len(j), self.cond_dim, device=device)
        if self.n_disc:
            if isinstance(j, np.ndarray):
                hot = torch.from_numpy(self.offsets[j] + c).to(device)
            else:  # the offsets copied to the draws' device once, not at every step
                if self._offsets_t is None or self._offsets_t.device != j.device:
                    self._offsets_t = torch.from_numpy(self.offsets).to(j.device)
                hot = self._offsets_t[j] + c
            out[torch.arange(len(j), device=device), hot] = 1.0
        return out


@register
class CTGAN(NeuralSynthesizer):
    """CTGAN: a conditional GAN for tables (Xu et al. 2019); not differentially private.

    A generator learns to produce rows that a discriminator cannot tell from real ones;
    numeric columns are encoded by Gaussian-mixture modes and the generator is conditioned on
    one category at a time (training-by-sampling), so rare categories are learnt and
    non-linear dependence across many columns can be. It trains on the rows without
    differential privacy: no formal guarantee (use ``dpctgan`` for one). Pick it for wide
    tables with complex dependence when a GPU is at hand; on a CPU it is the slowest family
    (300 epochs on Adult's 26,049 rows: about 6.7 min on 2 cores; seeds 0–2: 2-way TVD 0.051,
    ML AUC 0.885), and on small tables ``tvae`` did better (Adult at 1,000 rows, TSTR AUC
    0.855 against 0.840). Figures and commands: docs/benchmarks/neural.md, many_tables.md.

    Parameters
    ----------
    epochs : int or None, default None
        Passes over the training rows.
        None: 300 at any row count: with the default batch at least 3,000 optimisation steps
        from 200 rows up (below, 300 × rows / 20); ``schedule(n)`` gives what a fit on n rows
        takes.
        Range: integer >= 1, or None.
    batch_size : int or None, default None
        Rows per optimisation step; a multiple of ``pac``.
        None: min(500, max(20, rows / 10)) of the rows trained on (those not held out for
        early stopping), rounded down to a multiple of ``pac``: at least 10 steps an epoch from
        200 rows up, 500-row steps from 5,000.
        Range: integer >= 1 and a multiple of pac, or None.
    embedding_dim : int, default 128
        Size of the random noise vector the generator turns into a row.
        Range: integer >= 1.
    generator_dims : tuple of int, default (256, 256)
        Widths of the generator's hidden layers, one number per layer (``[256, 256]`` on the
        command line).
        Range: tuple of integers >= 1.
    discriminator_dims : tuple of int, default (256, 256)
        Widths of the discriminator's hidden layers, one number per layer.
        Range: tuple of integers >= 1.
    generator_lr : float, default 2e-4
        Adam learning rate of the generator.
        Range: number > 0.
    discriminator_lr : float, default 2e-4
        Adam learning rate of the discriminator.
        Range: number > 0.
    pac : int, default 10
        Rows packed into one discriminator input (PacGAN), which lets the discriminator see
        a lack of diversity and so counters mode collapse; ``batch_size`` must be a multiple.
        Range: integer >= 1.
    max_modes : int, default 10
        Most Gaussian-mixture modes per numeric column in the mode-specific normalisation (a
        value is encoded as its mode and its position within it); modes with under 0.5% of the
        weight are dropped. Under DP the mixture is fitted to draws from the discovered bins
        (post-processing).
        Range: integer >= 1.
    patience : int, str or None, default None
        Epochs without a better held-out signal (1- and 2-way TVD of generated against held-out
        rows) before training stops, the best weights kept; ``validation_share`` of the rows is
        then held out. 'auto': 30 when at least 1,000 rows are held out (from 10,000 rows at the
        default share), else None.
        None: no early stopping, all rows trained on for all epochs; the GAN's dependence
        between columns keeps improving after the marginal signal stops (Adult, seed 0: ML
        AUC 0.877 when stopped at epoch 135, 0.886 after 300).
        Range: integer >= 1, 'auto', or None.
    validation_share : float, default 0.1
        Share of the rows held out for the early-stopping signal (only when ``patience``
        stops early).
        Range: number in (0, 0.5).
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

    Notes
    -----
    The default batch replaces SDV's fixed 500 (one or two steps an epoch below 1,000 rows),
    and 300 epochs the earlier one epoch per 40 rows (the schedule: :mod:`~lookalike.synthesizers.neural._base`).
    ``patience`` stays off by default: on Adult, seed 0, patience 30 stopped at epoch 135 with
    ML AUC 0.877, 2-way TVD 0.060 and detection AUC 0.925, against 0.886, 0.050 and 0.833
    after 300 epochs (``benchmarks/neural.py --only ctgan --set ctgan.patience=30``; the
    commands are in docs/benchmarks/neural.md).
    """

    name = "ctgan"
    conditional = True

    def __init__(
        self,
        *,
        epochs: int | None = None,
        batch_size: int | None = None,
        embedding_dim: int = 128,
        generator_dims: tuple[int, ...] = (256, 256),
        discriminator_dims: tuple[int, ...] = (256, 256),
        generator_lr: float = 2e-4,
        discriminator_lr: float = 2e-4,
        pac: int = 10,
        max_modes: int = 10,
        patience: int | None = None,
        validation_share: float = 0.1,
        calibrate: bool = True,
        device: str = "auto",
    ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.embedding_dim = embedding_dim
        self.generator_dims = widths(generator_dims)  # tuples, as a model file gives them back
        self.discriminator_dims = widths(discriminator_dims)  # tuples, as a model file gives them back
        self.generator_lr = generator_lr
        self.discriminator_lr = discriminator_lr
        self.pac = pac
        self.max_modes = max_modes
        self.patience = patience
        self.validation_share = validation_share
        self.calibrate = calibrate
        self.device = device

    @property
    def batch_multiple(self) -> int:  # PacGAN packs: the batch is a multiple of pac
        return self.pac

    def _check_params(self) -> None:
        self._check_common()
        check_int("pac", self.pac, 1)
        if self.batch_size is not None and self.batch_size % self.pac:
            raise ConfigError(f"batch_size={self.batch_size} must be a multiple of pac={self.pac}")

    # ------------------------------------------------------------------ networks
    def _build(self, device) -> None:
        enc = self.encoder_
        sizes = [s.size for s in enc.discrete_spans]
        self.cond_dim_ = int(sum(sizes))
        self.layout_ = SpanLayout(enc.spans, enc.dim, device)
        N = nets()
        self.generator_ = N["Generator"](self.embedding_dim + self.cond_dim_, tuple(self.generator_dims),
                                         enc.dim).to(device)
        self.discriminator_ = self._make_discriminator(device)

    def _make_discriminator(self, device):
        return nets()["Discriminator"](self.encoder_.dim + self.cond_dim_, tuple(self.discriminator_dims),
                                       self.pac).to(device)

    def _modules(self) -> dict[str, Any]:
        return {"generator": self.generator_}

    def _sampler(self, codes: np.ndarray | None, *, n_rows: int | None = None) -> CondSampler:
        """Training (``n_rows`` given): categories by log-frequency, so rare ones are shown more
        often; sampling: by frequency, so that unconditional rows follow the data."""
        sizes = [s.size for s in self.encoder_.discrete_spans]
        probs = [np.log1p(f * n_rows) for f in self.freqs_] if n_rows else self.freqs_
        return CondSampler(codes, sizes, probs)

    def _fake(self, b: int, j, c, sampler: CondSampler, gen, device, *, gumbel: bool = True):
        torch = require_torch()
        z = torch.randn(b, self.embedding_dim, device=device, generator=gen)
        cond = sampler.one_hot(j, c, device)
        raw = self.generator_(torch.cat([z, cond], dim=1))
        return raw, self.layout_.activate(raw, generator=gen, gumbel=gumbel), cond

    # ------------------------------------------------------------------ training
    def _train(self, x: np.ndarray, codes: np.ndarray, plan, rng, device) -> None:
        torch = require_torch()
        self._n_train = len(x)
        sched = self.schedule(len(x))
        train_rows, val_rows = (validation_split(len(x), self.validation_share, rng)
                                if sched.patience else (np.arange(len(x)), np.arange(0)))
        xt = torch.from_numpy(x[train_rows]).to(device)
        x_val = x[val_rows]
        signal = FidelitySignal(x_val, self.encoder_.spans) if len(x_val) else None
        codes_t = codes[train_rows]
        sampler = self._sampler(codes_t, n_rows=len(x))
        gen = torch_generator(rng, device)
        G, D = self.generator_, self.discriminator_
        opt_g = adam(G.parameters(), lr=self.generator_lr, betas=(0.5, 0.9), weight_decay=1e-6)
        opt_d = adam(D.parameters(), lr=self.discriminator_lr, betas=(0.5, 0.9), weight_decay=1e-6)
        B = sched.batch_size
        if B > len(train_rows):
            raise ConfigError(
                f"batch_size={B} is larger than the {len(train_rows)} training rows; choose a smaller batch_size"
            )
        steps = max(1, len(train_rows) // B)
        g_hist, d_hist, v_hist = [], [], []
        epochs = sched.epochs
        stopper = EarlyStopper(sched.patience, {"generator": G})
        has_cond = sampler.n_disc > 0
        with progress(f"{self.name}: training", epochs) as advance:
            for epoch in range(epochs):
                G.train()
                # an epoch's draws at once, copied to the device once: (column, category, real row)
                if has_cond:
                    j_all, c_all = sampler.sample_cond(steps * B, rng)
                    real_all = sampler.rows_for(j_all, c_all, rng)
                else:
                    j_all = c_all = np.zeros(steps * B, dtype=np.int64)
                    real_all = rng.integers(len(train_rows), size=steps * B)
                j_all, c_all, real_all = (torch.from_numpy(a).to(device) for a in (j_all, c_all, real_all))
                g_sum = d_sum = torch.zeros((), device=device)  # summed on the device: no sync per step
                for s in range(steps):
                    j, c = j_all[s * B : (s + 1) * B], c_all[s * B : (s + 1) * B]
                    raw, fake, cond = self._fake(B, j, c, sampler, gen, device)
                    real = xt[real_all[s * B : (s + 1) * B]]
                    real_in = torch.cat([real, cond], 1)
                    fake_in = torch.cat([fake.detach(), cond], 1)
                    scores = D(torch.cat([fake_in, real_in], 0))  # one pass: packs stay within a half
                    half = scores.shape[0] // 2
                    d_loss = (scores[:half].mean() - scores[half:].mean()
                              + _gradient_penalty(D, real_in, fake_in, self.pac))
                    opt_d.zero_grad(set_to_none=True)
                    d_loss.backward()
                    opt_d.step()

                    # the generator step reuses this step's fakes: one generator pass per step;
                    # the discriminator's weights are constants in it (no gradient to compute)
                    D.requires_grad_(False)
                    g_loss = -D(torch.cat([fake, cond], 1)).mean()
                    if has_cond:
                        g_loss = g_loss + self.layout_.condition_loss(raw, self.layout_.discrete_rows[j], c)
                    opt_g.zero_grad(set_to_none=True)
                    g_loss.backward()
                    D.requires_grad_(True)
                    opt_g.step()
                    g_sum = g_sum + g_loss.detach()
                    d_sum = d_sum + d_loss.detach()
                g_hist.append(float(g_sum) / steps)
                d_hist.append(float(d_sum) / steps)
                stop = False
                if signal is not None:
                    v = signal(self._generate_encoded(min(len(x_val) * 2, 5000), rng))
                    v_hist.append(v)
                    stop = stopper.update(epoch, v)
                advance(description=f"{self.name}: epoch {epoch + 1} G {g_hist[-1]:.3f} D {d_hist[-1]:.3f}")
                if stop:
                    break
        stopper.restore()
        self.training_.update(
            loss={"generator": g_hist, "discriminator": d_hist, **({"validation": v_hist} if v_hist else {})},
            epochs=len(g_hist), stopped_early=len(g_hist) < epochs,
            best_epoch=stopper.best_epoch + 1 if v_hist else len(g_hist),
            steps_per_epoch=steps, batch_size=B, patience=sched.patience,
        )

    # ------------------------------------------------------------------ sampling
    def _generate_encoded(self, n: int, rng, cond=None) -> np.ndarray:
        torch = require_torch()
        sampler = self._sampler(None)
        gen = torch_generator(rng, self.device_)
        self.generator_.eval()
        out = []
        with torch.no_grad():
            for lo in range(0, n, 4096):
                b = min(4096, n - lo)
                if sampler.n_disc:
                    j, c = sampler.sample_cond(b, rng, cond)
                else:
                    j = c = np.zeros(b, dtype=np.int64)
                _, fake, _ = self._fake(b, j, c, sampler, gen, self.device_, gumbel=True)
                out.append(fake.cpu().numpy())
        self.generator_.train()
        return np.concatenate(out)

    def _generate(self, n: int, rng, cond=None):
        return self._generate_encoded(n, rng, cond), None


def adam(params, **kw):
    """Adam with the fused kernel where this torch has one (several times faster on CPU)."""
    torch = require_torch()
    try:
        return torch.optim.Adam(params, fused=True, **kw)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, **kw)


def _gradient_penalty(D, real, fake, pac: int, weight: float = 10.0):
    """WGAN-GP: (‖∇D(x̂)‖ − 1)² on points between real and fake, per pack (Gulrajani et al. 2017)."""
    torch = require_torch()
    b, d = real.shape
    alpha = torch.rand(b // pac, 1, 1, device=real.device).repeat(1, pac, d).reshape(b, d)
    mix = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    out = D(mix)
    grad = torch.autograd.grad(out.sum(), mix, create_graph=True)[0]
    norm = grad.reshape(-1, pac * d).norm(2, dim=1)
    return weight * ((norm - 1) ** 2).mean()
