"""DP-SGD forms of the neural families: ``dpctgan`` (DP discriminator) and ``dptvae``.

Training uses Opacus: per-sample gradients (``GradSampleModule``), clipping to
``max_grad_norm`` and Gaussian noise of ``noise_multiplier × max_grad_norm`` (``DPOptimizer``),
on batches drawn by **Poisson sampling** with rate ``q = batch_size / ñ`` where ñ is the noisy
row count of the discovery phase (the true n is private, so it may not set q). Both families
train through one loop, :class:`DPSGD`, and bring only their per-step loss.

Accounting: Opacus' RDP analysis of the Poisson-subsampled Gaussian (Mironov, Talwar and
Zhang 2019; ``opacus.accountants.analysis.rdp.compute_rdp``) gives the training's Rényi curve
on :data:`~lookalike.privacy.accountant.RDP_ORDERS`; the discovery phase (ρ-zCDP, curve ρα) adds
to it and the total converts to (ε, δ) at the best order. The noise multiplier is the smallest
that keeps the planned steps within ε; when ``noise_multiplier`` is given instead, training
stops at the last step that stays within ε. The plan is charged to the ledger as an RDP curve
*before* training reads a row, and the steps run never exceed it.

Notes: DP-SGD's noise is PyTorch's floating-point Gaussian (Opacus), not OpenDP's sampler; the
floating-point caveat of DESIGN.md applies to it. dpctgan uses ``pac=1`` (packing Poisson
batches would let one row move every pack) and the non-saturating GAN loss (WGAN-GP's double
backward does not go through Opacus' per-sample hooks). Early stopping is off in DP fits: a
validation signal on private rows would be an uncharged release; all planned steps run.

>>> import lookalike
>>> real = lookalike.load_demo().head(400)
>>> model = DPTVAE(epochs=2, batch_size=50).fit(real, epsilon=1.0, seed=0)
>>> model.training_["opacus_epsilon"] < 1.0  # training's share; discovery took the rest of ε
True
"""

from __future__ import annotations

import contextlib
import functools
import math
import secrets
import warnings
from collections.abc import Iterator

import numpy as np

from lookalike._progress import progress
from lookalike.errors import ConfigError
from lookalike.privacy.accountant import RDP_ORDERS, epsilon_from_rdp
from lookalike.synthesizers._checks import check_number, widths
from lookalike.synthesizers.base import register
from lookalike.synthesizers.neural._base import Plan
from lookalike.synthesizers.neural._torch import require_opacus, require_torch, torch_generator
from lookalike.synthesizers.neural.ctgan import CTGAN, CondSampler, adam
from lookalike.synthesizers.neural.tvae import TVAE

__all__ = ["DPCTGAN", "DPSGD", "DPTVAE", "plan_dp_sgd", "sgd_rdp"]

MAX_NOISE_MULTIPLIER = 100.0


def sgd_rdp(sample_rate: float, noise_multiplier: float, steps: int) -> list[float]:
    """RDP curve (on RDP_ORDERS) of ``steps`` Poisson-subsampled Gaussian steps (Opacus' analysis).

    Steps compose linearly, so the one-step curve is computed once per (q, σ) and scaled, as
    Opacus' ``compute_rdp`` does itself (the fractional orders make one curve cost ~0.3 s).
    """
    if steps == 0:
        return [0.0] * len(RDP_ORDERS)
    return [float(v) * steps for v in _step_rdp(float(sample_rate), float(noise_multiplier))]


@functools.lru_cache(maxsize=256)
def _step_rdp(sample_rate: float, noise_multiplier: float) -> tuple[float, ...]:
    require_opacus()
    from opacus.accountants.analysis.rdp import compute_rdp

    return tuple(float(v) for v in compute_rdp(q=sample_rate, noise_multiplier=noise_multiplier,
                                               steps=1, orders=list(RDP_ORDERS)))


def plan_dp_sgd(
    *, n_est: int, batch_size: int, epochs: int, epsilon: float, delta: float, rho_before: float,
    max_grad_norm: float, noise_multiplier: float | None = None,
) -> Plan:
    """Sampling rate, steps and noise multiplier so that ρ_before·α + DP-SGD's curve gives (ε, δ).

    ``n_est`` is the noisy row count; ``delta`` the δ left for the RDP part. Raises ConfigError
    when the batch is larger than the data or ε cannot pay for even one step.
    """
    if batch_size > n_est:
        raise ConfigError(
            f"batch_size={batch_size} is larger than the data (about {n_est} rows by the noisy count); "
            "choose a smaller batch_size"
        )
    q = batch_size / n_est
    planned = max(1, int(math.ceil(epochs / q)))
    base = [rho_before * a for a in RDP_ORDERS]

    def total(sigma: float, steps: int) -> float:  # with a hair of margin for float re-additions
        curve = [b + r for b, r in zip(base, sgd_rdp(q, sigma, steps), strict=True)]
        return epsilon_from_rdp(curve, delta) * (1 + 1e-9)

    if total(MAX_NOISE_MULTIPLIER, 1) > epsilon:
        raise ConfigError(
            f"epsilon={epsilon:g} is too small to take one DP-SGD step at batch_size={batch_size}: it "
            f"would need a noise multiplier above {MAX_NOISE_MULTIPLIER:g}; raise epsilon or batch_size"
        )
    if noise_multiplier is None:
        if total(MAX_NOISE_MULTIPLIER, planned) > epsilon:
            raise ConfigError(
                f"epsilon={epsilon:g} is too small for {planned} DP-SGD steps (epochs={epochs}): it would "
                f"need a noise multiplier above {MAX_NOISE_MULTIPLIER:g}; lower epochs or raise epsilon"
            )
        lo, hi = 0.05, MAX_NOISE_MULTIPLIER
        for _ in range(40):
            mid = math.sqrt(lo * hi)
            if total(mid, planned) <= epsilon:
                hi = mid
            else:
                lo = mid
        sigma, steps = hi, planned
    else:
        sigma = float(noise_multiplier)
        if total(sigma, 1) > epsilon:
            raise ConfigError(
                f"epsilon={epsilon:g} is too small to take one DP-SGD step with noise_multiplier={sigma:g}; "
                "raise noise_multiplier or epsilon"
            )
        lo, hi = 1, planned  # the largest step count within ε
        if total(sigma, hi) <= epsilon:
            lo = hi
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if total(sigma, mid) <= epsilon:
                lo = mid
            else:
                hi = mid - 1
        steps = lo
    rdp = sgd_rdp(q, sigma, steps)
    return Plan(
        rdp=rdp, noise_multiplier=sigma, sample_rate=q, steps=steps, planned_steps=planned,
        max_grad_norm=float(max_grad_norm), epsilon=epsilon_from_rdp(rdp, delta), delta=delta,
        mechanism="dp-sgd", accounting="DP-SGD (Opacus RDP analysis of the Poisson-subsampled Gaussian)",
        detail=f"DP-SGD, noise multiplier {sigma:.4g}, sample rate {q:.4g}, {steps} steps",
    )


class DPSGD:
    """One DP-SGD run of ``plan`` over ``n_rows`` rows: the loop dpctgan and dptvae share.

    It wraps ``module`` and ``optimizer`` in Opacus' ghost clipping (Li et al. 2022, "Large
    language models can be strong differentially private learners"): each row's gradient norm
    is computed from the layer's inputs and output gradients, ||a_i|| ||g_i|| for a linear
    layer, without writing out the row's gradient, and a second backward pass sums the
    gradients scaled to ``plan["max_grad_norm"]``. The clipped sum, the noise
    (``plan["noise_multiplier"]`` × that norm, averaged over ``expected_batch`` rows) and so the
    analysis are those of per-sample clipping; what it saves is the batch × weights tensor of
    per-row gradients (about 0.5 GB a step for dpctgan's discriminator on Adult), whose
    allocation and page zeroing cost more time in the kernel than the arithmetic did. It draws
    each batch by Poisson sampling at ``plan["sample_rate"]``, steps Opacus' own RDP
    accountant beside the plan (a cross-check, :meth:`record`'s ``opacus_epsilon``) and counts
    steps, exactly ``plan["steps"]``, in epochs of round(1/q) steps. The family brings its
    per-row losses through :attr:`module` and takes exactly one :meth:`step` on each batch;
    what :meth:`log` gets shows on the progress bar (the epoch's running mean) and, for the
    names :meth:`record` keeps, in the model's per-epoch loss curves.

    The batches and the noise are drawn from generators seeded by the operating system
    (:mod:`secrets`), never from the fit's seed: the analysis assumes that nobody knows which
    rows a batch held or what noise was added, and the seed is written in the model file. DP-SGD
    fits therefore do not reproduce from the seed (like OpenDP's noise); the initial weights do.

    >>> import torch
    >>> plan = plan_dp_sgd(n_est=100, batch_size=10, epochs=2, epsilon=1.0, delta=1e-6,
    ...                    rho_before=0.0, max_grad_norm=1.0)
    >>> x, net = torch.randn(100, 3), torch.nn.Linear(3, 1)
    >>> loop = DPSGD("demo", net, torch.optim.SGD(net.parameters(), lr=0.1), plan, n_rows=100,
    ...              expected_batch=10)
    >>> for rows in loop.batches():
    ...     loop.step((loop.module(x[rows]) ** 2).squeeze(1))
    >>> loop.record()["steps"] == plan["steps"] == 20
    True
    """

    def __init__(self, name: str, module, optimizer, plan: Plan, *, n_rows: int,
                 expected_batch: int) -> None:
        require_opacus()
        from opacus.accountants import RDPAccountant
        from opacus.grad_sample import GradSampleModuleFastGradientClipping
        from opacus.optimizers import DPOptimizerFastGradientClipping

        self.name = name
        self.plan = plan
        self.module = GradSampleModuleFastGradientClipping(
            module, max_grad_norm=plan["max_grad_norm"], use_ghost_clipping=True,
            loss_reduction="mean")
        torch = require_torch()
        device = next(module.parameters()).device
        noise = torch.Generator(device=device).manual_seed(secrets.randbits(63))
        self.optimizer = DPOptimizerFastGradientClipping(
            optimizer, noise_multiplier=plan["noise_multiplier"],
            max_grad_norm=plan["max_grad_norm"], expected_batch_size=expected_batch,
            loss_reduction="mean", generator=noise)
        self.accountant = RDPAccountant()
        self.n_rows = n_rows
        self.rng = np.random.default_rng(secrets.randbits(128))  # the batches: secret
        self.steps_per_epoch = max(1, int(round(1 / plan["sample_rate"])))
        self.done = 0  # private steps taken
        self.epochs = 0  # epochs completed (the last may be short)
        self._epoch: dict[str, list[float]] = {}  # this epoch's logged values
        self._history: dict[str, list[float]] = {}  # their per-epoch means

    def batches(self) -> Iterator[np.ndarray]:
        """The rows of each Poisson batch (each row independently with probability q), one per
        planned step; the caller takes :meth:`step` on each before asking for the next."""
        q, steps = self.plan["sample_rate"], self.plan["steps"]
        with progress(f"{self.name}: DP training", steps) as advance:
            while self.done < steps:
                taken = self.done
                yield np.flatnonzero(self.rng.random(self.n_rows) < q)
                if self.done != taken + 1:
                    raise RuntimeError(f"internal: {self.name} took {self.done - taken} DP-SGD steps on "
                                       "one batch (one is planned)")
                shown = " ".join(f"{k} {np.mean(v):.3f}" for k, v in self._epoch.items())
                advance(description=f"{self.name}: step {self.done} {shown}".rstrip())
                if self.done % self.steps_per_epoch == 0 or self.done == steps:
                    for k, v in self._epoch.items():
                        self._history.setdefault(k, []).append(float(np.mean(v)))
                    self._epoch = {}
                    self.epochs += 1

    def step(self, per_row) -> None:
        """One private step on ``per_row``, the batch's losses one per row (through
        :attr:`module`): each row's gradient clipped, the sum noised, the update made; the
        accountant follows."""
        from opacus.utils.fast_gradient_clipping_utils import DPTensorFastGradientClipping

        self.optimizer.zero_grad(set_to_none=True)
        if per_row.numel() == 0:  # an empty Poisson batch still takes its noisy step
            for m in self.module.modules():  # and its forward pass leaves no pending state
                if hasattr(m, "activations"):
                    m.activations.clear()
            for p in self.optimizer.params:
                p.grad = p.detach().new_zeros(p.shape)
                p._forward_counter = 0  # Opacus counts forwards per backward (no tying)
        else:
            with warnings.catch_warnings():  # Opacus notes inputs without gradients (detached
                warnings.simplefilter("ignore", UserWarning)  # fakes, the sigma layer's input)
                DPTensorFastGradientClipping(self.module, self.optimizer, per_row,
                                             "mean").backward()
        self.optimizer.step()
        self.accountant.step(noise_multiplier=self.plan["noise_multiplier"],
                             sample_rate=self.plan["sample_rate"])
        self.done += 1

    @contextlib.contextmanager
    def public_pass(self) -> Iterator[None]:
        """Forward and backward passes through :attr:`module` that are not private steps (the
        generator's, through the DP discriminator): no per-sample hooks, gradients dropped after."""
        self.module.disable_hooks()
        try:
            yield
        finally:
            self.module.enable_hooks()
            self.optimizer.zero_grad(set_to_none=True)

    def log(self, **values: float) -> None:
        """This step's values (losses) for the progress bar and :meth:`record`."""
        for k, v in values.items():
            self._epoch.setdefault(k, []).append(float(v))

    def record(self, keep: tuple[str, ...] = ()) -> dict:
        """The run for ``training_``: steps, epochs and Opacus' ε; per-epoch means of the logged
        values named in ``keep`` (only what the DP model may release: no loss on private rows)."""
        return {
            "loss": {k: self._history.get(k, []) for k in keep},
            "epochs": self.epochs,
            "stopped_early": False,
            "steps": self.done,
            "steps_per_epoch": self.steps_per_epoch,
            "opacus_epsilon": float(self.accountant.get_epsilon(delta=self.plan["delta"])),
        }


class _DPMixin:
    """DP-SGD training; with ``epsilon=None`` a non-DP comparison fit (plain SGD, no guarantee)."""

    supports_dp = True
    dp_sgd = True
    patience = None  # no early stopping: it would need a private validation signal
    validation_share = 0.1

    def _default_epochs(self, n_rows: int) -> int:
        """min(30, max(10, rows / 40)) on the noisy count: each epoch is paid for in noise, so
        DP-SGD keeps its own, shorter default (a function of ñ only, never of the exact n)."""
        return int(min(30, max(10, n_rows // 40)))

    def _plan(self, n_est: int, epsilon: float, delta: float, rho_disc: float) -> Plan:
        schedule = self.schedule(n_est)  # the noisy count only: patience None, nothing held out
        self._expected_batch = schedule.batch_size  # the DP optimizer's divisor: q × noisy count
        return plan_dp_sgd(n_est=n_est, batch_size=self._expected_batch, epochs=schedule.epochs,
                           epsilon=epsilon, delta=delta, rho_before=rho_disc,
                           max_grad_norm=self.max_grad_norm, noise_multiplier=self.noise_multiplier)

    def _spent_curve(self, plan) -> list[float]:
        return sgd_rdp(plan["sample_rate"], plan["noise_multiplier"], self.training_["steps"])

    def _check_dp(self) -> None:
        check_number("max_grad_norm", self.max_grad_norm, 0, low_open=True)
        check_number("noise_multiplier", self.noise_multiplier, 0, low_open=True, none=True)


@register
class DPCTGAN(_DPMixin, CTGAN):
    """DP-CTGAN: CTGAN whose discriminator is trained with DP-SGD; differentially private.

    The discriminator sees real rows only through DP-SGD (Opacus: each row's gradient clipped
    to ``max_grad_norm``, Gaussian noise added, batches by Poisson sampling), and the generator
    only through the discriminator. With ``epsilon`` the whole fit (noisy row count, domain
    discovery, calibration targets, training) is (ε, δ)-differentially private; without, it
    trains as a plain GAN with no guarantee. Pick it when the release must be DP and a neural
    model is wanted; at ε = 1 on Adult the marginal models are better and far cheaper
    (dpctgan: 2-way TVD 0.162, ML AUC 0.805, 45 s on 2 cores; mst: 0.069, 0.879, 2.1 s;
    commands in docs/benchmarks/neural.md and index.md).

    Parameters
    ----------
    epochs : int or None, default None
        Passes over the rows; under DP, expected passes of Poisson-sampled batches, and the
        more epochs, the more noise each step needs for the same ε.
        None: min(30, max(10, ñ / 40)) with ñ the noisy row count of a DP fit (the exact count
        without DP): every epoch is paid for in noise, so DP-SGD trains far less than the
        non-DP default of 300.
        Range: integer >= 1, or None.
    batch_size : int or None, default None
        Expected rows per step: under DP each row joins a batch with probability
        ``batch_size / ñ`` (Poisson sampling, ñ the noisy row count); a batch larger than the
        data is refused when fitting.
        None: min(500, max(20, ñ / 10)).
        Range: integer >= 1, or None.
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
    max_grad_norm : float, default 1.0
        DP-SGD clips each row's gradient to this L2 norm (its sensitivity); the noise added
        is ``noise_multiplier × max_grad_norm``.
        Range: number > 0.
    noise_multiplier : float or None, default None
        Standard deviation of DP-SGD's Gaussian noise in units of ``max_grad_norm``; when
        given, training stops at the last step that stays within ε (it may run fewer steps
        than the epochs plan).
        None: the smallest multiplier (found by bisection between 0.05 and 100) that keeps
        all planned steps within the ε left after discovery.
        Range: number > 0, or None.
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

    Notes
    -----
    Real rows come by Poisson sampling; each is paired with the conditional vector of its own
    category in a uniformly drawn categorical column, and the generator's conditional vectors
    follow the noisy one-way counts of discovery, so real and fake pairs match in distribution.
    ``pac`` is 1 (packing Poisson batches would let one row move every pack).
    """

    name = "dpctgan"

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
        max_grad_norm: float = 1.0,
        noise_multiplier: float | None = None,
        discovery_share: float | None = None,
        n_bins: int = 32,
        max_modes: int = 10,
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
        self.max_grad_norm = max_grad_norm
        self.noise_multiplier = noise_multiplier
        self.discovery_share = discovery_share
        self.n_bins = n_bins
        self.max_modes = max_modes
        self.calibrate = calibrate
        self.device = device
        self.pac = 1

    def _check_params(self) -> None:
        self._check_common()
        self._check_dp()

    def _make_discriminator(self, device):
        from lookalike.synthesizers.neural._nets import nets

        return nets()["Discriminator"](self.encoder_.dim + self.cond_dim_, tuple(self.discriminator_dims),
                                       1, dropout=0.0).to(device)

    def _train(self, x: np.ndarray, codes: np.ndarray, plan: Plan, rng, device) -> None:
        if plan is None:
            return super()._train(x, codes, plan, rng, device)
        torch = require_torch()
        F = torch.nn.functional
        xt = torch.from_numpy(x).to(device)
        codes_t = torch.from_numpy(codes).to(device)
        sizes = [s.size for s in self.encoder_.discrete_spans]
        sampler = CondSampler(None, sizes, self.freqs_) if sizes else None  # DP frequencies only
        offsets = torch.as_tensor(sampler.offsets if sampler else np.zeros(0, np.int64), device=device)
        gen = torch_generator(rng, device)
        G = self.generator_
        B = self._expected_batch
        opt_g = adam(G.parameters(), lr=self.generator_lr, betas=(0.5, 0.9), weight_decay=1e-6)
        loop = DPSGD(self.name, self.discriminator_, torch.optim.Adam(
            self.discriminator_.parameters(), lr=self.discriminator_lr, betas=(0.5, 0.9)), plan,
            n_rows=len(x), expected_batch=B)
        D = loop.module
        n_disc = len(sizes)
        for batch in loop.batches():
            rows = torch.from_numpy(batch).to(device)
            m = len(rows)
            real = xt[rows]
            if n_disc:  # each real row with its own category in a uniformly drawn column
                jr = torch.randint(n_disc, (m,), device=device, generator=gen)
                cond_r = torch.zeros(m, sampler.cond_dim, device=device)
                cond_r[torch.arange(m, device=device), offsets[jr] + codes_t[rows, jr]] = 1.0
                j, c = sampler.sample_cond(B, rng)
            else:
                cond_r = torch.zeros(m, 0, device=device)
                j = c = np.zeros(B, dtype=np.int64)
            raw, fake, cond = self._fake(B, j, c, sampler or CondSampler(None, [], []), gen, device)
            inputs = torch.cat([torch.cat([real, cond_r], 1), torch.cat([fake.detach(), cond], 1)], 0)
            logits = D(inputs).squeeze(1)
            per = torch.cat([F.softplus(-logits[:m]), F.softplus(logits[m:])])
            d_loss = per.detach().mean()
            loop.step(per)

            with loop.public_pass():  # the generator learns from the DP discriminator only
                g_loss = F.softplus(-D(torch.cat([fake, cond], 1))).mean()
                if n_disc:
                    g_loss = g_loss + self.layout_.condition_loss(
                        raw, self.layout_.discrete_rows[torch.from_numpy(j).to(device)],
                        torch.from_numpy(c).to(device))
                opt_g.zero_grad(set_to_none=True)
                g_loss.backward()
                opt_g.step()
            loop.log(generator=float(g_loss.detach()), discriminator=float(d_loss.detach()))
        self.discriminator_ = D._module
        # the discriminator's loss reads private rows without noise: kept out of the model (it is
        # on the progress bar); the generator's loss only sees the DP discriminator
        self.training_.update(loop.record(keep=("generator",)))


@register
class DPTVAE(_DPMixin, TVAE):
    """DP-TVAE: TVAE trained with DP-SGD (encoder and decoder); differentially private.

    Both networks see real rows only through DP-SGD (Opacus: each row's gradient clipped to
    ``max_grad_norm``, Gaussian noise added, batches by Poisson sampling); the model file keeps
    the decoder. With ``epsilon`` the whole fit (noisy row count, domain discovery, calibration
    targets, training) is (ε, δ)-differentially private; without, it trains as a plain VAE
    with no guarantee. Pick it as the DP neural model to try first (Adult at ε = 1: 2-way TVD
    0.114, ML AUC 0.831 in 14 s on 2 cores, where dpctgan needs 45 s); the marginal models
    (mst, aim) are still better there (mst: 0.069, 0.879, 2.1 s; commands in
    docs/benchmarks/neural.md and index.md).

    Parameters
    ----------
    epochs : int or None, default None
        Passes over the rows; under DP, expected passes of Poisson-sampled batches, and the
        more epochs, the more noise each step needs for the same ε.
        None: min(30, max(10, ñ / 40)) with ñ the noisy row count of a DP fit (the exact count
        without DP): every epoch is paid for in noise, so DP-SGD trains far less than the
        non-DP default of 300.
        Range: integer >= 1, or None.
    batch_size : int or None, default None
        Expected rows per step: under DP each row joins a batch with probability
        ``batch_size / ñ`` (Poisson sampling, ñ the noisy row count); a batch larger than the
        data is refused when fitting.
        None: min(500, max(20, ñ / 10)).
        Range: integer >= 1, or None.
    latent_dim : int, default 16
        Size of the latent code.
        Range: integer >= 1.
    compress_dims : tuple of int, default (64,)
        Widths of the encoder's hidden layers, one number per layer.
        Range: tuple of integers >= 1.
    decompress_dims : tuple of int, default (64,)
        Widths of the decoder's hidden layers, one number per layer.
        Range: tuple of integers >= 1.
    lr : float, default 1e-3
        Adam learning rate.
        Range: number > 0.
    loss_factor : float, default 2.0
        Weight of the reconstruction term against the KL term of the loss.
        Range: number > 0.
    min_sigma : float, default 0.5
        Floor of the decoder's learned noise on numeric slots (in normalised units).
        Range: number in (0, 1].
    max_grad_norm : float, default 1.0
        DP-SGD clips each row's gradient to this L2 norm (its sensitivity); the noise added
        is ``noise_multiplier × max_grad_norm``.
        Range: number > 0.
    noise_multiplier : float or None, default None
        Standard deviation of DP-SGD's Gaussian noise in units of ``max_grad_norm``; when
        given, training stops at the last step that stays within ε (it may run fewer steps
        than the epochs plan).
        None: the smallest multiplier (found by bisection between 0.05 and 100) that keeps
        all planned steps within the ε left after discovery.
        Range: number > 0, or None.
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

    Notes
    -----
    Two defaults differ from ``tvae``, both because DP-SGD clips each row's gradient to
    ``max_grad_norm`` and adds noise of the same size to every weight:

    * smaller networks (latent 16, one hidden layer of 64 each way; TVAE: 128 and two of 128):
      the noise's norm grows with the square root of the number of weights while the clipped
      signal does not. Adult at ε = 1, ``min_sigma`` 0.5: ML AUC 0.476 with TVAE's sizes, 0.831
      with these, in two thirds of the time.
    * ``min_sigma`` 0.5 (TVAE: 0.01), the floor of the decoder's noise on numeric slots: as each
      row's gradient is clipped as a whole, its steepest term sets its direction, and with the
      noise free to shrink towards 0.01 that is the numeric slots' Gaussian likelihood (its
      gradient grows as 1/σ²); the categories' share of each clipped gradient, which carries the
      dependence between columns, then drowns in the DP noise. Adult at ε = 1, these sizes: ML
      AUC 0.544 with the floor at 0.01, 0.423 at 0.1, 0.831 at 0.5 and 0.831 at 1.0 (σ fixed),
      2-way TVD 0.11–0.12 throughout.

    One run each (the DP noise differs between runs), by ``benchmarks/neural.py --only dptvae
    --set ...``: the commands and results are in docs/benchmarks/neural.md.
    """

    name = "dptvae"

    def __init__(
        self,
        *,
        epochs: int | None = None,
        batch_size: int | None = None,
        latent_dim: int = 16,
        compress_dims: tuple[int, ...] = (64,),
        decompress_dims: tuple[int, ...] = (64,),
        lr: float = 1e-3,
        loss_factor: float = 2.0,
        min_sigma: float = 0.5,
        max_grad_norm: float = 1.0,
        noise_multiplier: float | None = None,
        discovery_share: float | None = None,
        n_bins: int = 32,
        max_modes: int = 10,
        calibrate: bool = True,
        device: str = "auto",
    ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.latent_dim = latent_dim
        self.compress_dims = widths(compress_dims)  # tuples, as a model file gives them back
        self.decompress_dims = widths(decompress_dims)  # tuples, as a model file gives them back
        self.lr = lr
        self.loss_factor = loss_factor
        self.min_sigma = min_sigma
        self.max_grad_norm = max_grad_norm
        self.noise_multiplier = noise_multiplier
        self.discovery_share = discovery_share
        self.n_bins = n_bins
        self.max_modes = max_modes
        self.calibrate = calibrate
        self.device = device

    def _check_params(self) -> None:
        self._check_common()
        self._check_min_sigma()
        self._check_dp()

    def _train(self, x: np.ndarray, codes: np.ndarray, plan: Plan, rng, device) -> None:
        if plan is None:
            return super()._train(x, codes, plan, rng, device)
        torch = require_torch()
        xt = torch.from_numpy(x).to(device)
        gen = torch_generator(rng, device)
        vae = torch.nn.ModuleDict({"encoder": self.vae_encoder_, "decoder": self.decoder_})
        loop = DPSGD(self.name, vae, torch.optim.Adam(vae.parameters(), lr=self.lr), plan,
                     n_rows=len(x), expected_batch=self._expected_batch)
        for rows in loop.batches():
            weight = torch.ones(len(rows), device=device)
            if len(rows) == 0:  # an empty batch still takes its noisy step
                rows, weight = np.zeros(1, dtype=np.int64), torch.zeros(1, device=device)
            xb = xt[torch.from_numpy(rows).to(device)]
            eps = torch.randn(len(xb), self.latent_dim, device=device, generator=gen)
            per = self._per_sample_loss(xb, eps) * weight
            loop.step(per)
            self._clamp_sigma()
            loop.log(loss=float(per.sum().detach()) / max(float(weight.sum()), 1.0))
        # the ELBO is computed on private rows without noise: it stays on the progress bar
        self.training_.update(loop.record())
