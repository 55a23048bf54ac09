"""Network pieces shared by the neural families, built lazily once torch is imported.

:class:`SpanLayout` applies the output activations of an encoded row in a few tensor ops (no
Python loop over columns): ``tanh`` on α slots and a (Gumbel-)softmax on every softmax span,
each span's sum a matrix product with the slots' span membership. The same layout gives the conditional-vector cross entropy and the
reconstruction cross entropy of every softmax span (:meth:`SpanLayout.cross_entropy`: dense ops,
a span's log-normaliser as one matrix product with the slots' span membership).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from lookalike.synthesizers.neural._encoding import Span
from lookalike.synthesizers.neural._torch import require_torch

__all__ = ["SpanLayout", "nets"]


class SpanLayout:
    """Index tensors that put each softmax span of a row into a padded (spans, width) block."""

    def __init__(self, spans: list[Span], dim: int, device: Any) -> None:
        torch = require_torch()
        soft = [s for s in spans if s.activation == "softmax"]
        width = max((s.size for s in soft), default=1)
        index = np.zeros((len(soft), width), dtype=np.int64)
        valid = np.zeros((len(soft), width), dtype=bool)
        for i, s in enumerate(soft):
            index[i, : s.size] = np.arange(s.start, s.start + s.size)
            valid[i, : s.size] = True
        self.dim = dim
        self.width = width
        self.index = torch.as_tensor(index, device=device)
        self.valid = torch.as_tensor(valid, device=device)
        self.flat_index = self.index[self.valid]
        self.all_valid = bool(valid.all())
        tanh = [s.start for s in spans if s.activation == "tanh"]
        self.tanh_index = torch.as_tensor(tanh, dtype=torch.long, device=device)
        disc = [i for i, s in enumerate(soft) if s.discrete]
        self.discrete_rows = torch.as_tensor(disc, dtype=torch.long, device=device)
        self.sizes = [s.size for s in soft]
        # each slot's softmax span (tanh slots: a spare one), and the (dim, spans) membership
        span_of = np.full(dim, len(soft), dtype=np.int64)
        for i, s in enumerate(soft):
            span_of[s.start : s.start + s.size] = i
        member = np.zeros((dim, len(soft)), dtype=np.float32)
        kept = span_of < len(soft)
        member[np.flatnonzero(kept), span_of[kept]] = 1.0
        self.n_soft = len(soft)
        self.span_of = torch.as_tensor(span_of, device=device)
        self.member = torch.as_tensor(member, device=device)
        self.soft_starts = torch.as_tensor([s.start for s in soft], dtype=torch.long, device=device)
        self.is_tanh = torch.as_tensor((~kept).astype(np.float32), device=device)

    def padded(self, raw):
        """(batch, spans, width) logits with −inf in the padding."""
        block = raw[:, self.index]
        return block if self.all_valid else block.masked_fill(~self.valid, float("-inf"))

    def hot_columns(self, x, chunk: int = 8192):
        """The column of the hot slot in each softmax span of encoded rows ``x``, (rows, spans)."""
        torch = require_torch()
        parts = [self.padded(x[lo : lo + chunk]).argmax(dim=-1) + self.soft_starts
                 for lo in range(0, len(x), chunk)]
        return torch.cat(parts) if parts else torch.zeros(0, self.n_soft, dtype=torch.long)

    def cross_entropy(self, raw, hot):
        """Σ over softmax spans of −log softmax(span's logits)[hot slot], per row: (batch,);
        dense ops, no padded block (:meth:`_log_normalisers`)."""
        return (self._log_normalisers(raw) - raw.gather(1, hot)).sum(1)

    def activate(self, raw, *, tau: float = 0.2, generator=None, gumbel: bool = True):
        """tanh on α slots, (Gumbel-)softmax with temperature ``tau`` on each softmax span."""
        torch = require_torch()
        noisy = self.gumbel(raw, generator) / tau if gumbel else raw
        if not self.n_soft:
            return torch.tanh(raw)
        # every span's softmax at once: exp(x − m) over its sum, spread back to the span's slots
        # by the membership matrix (tanh slots get 1 there, and their tanh below)
        e = torch.exp(noisy - self._span_max(noisy)[1])
        soft = e / ((e @ self.member) @ self.member.T + self.is_tanh)
        return torch.where(self.is_tanh.bool(), torch.tanh(raw), soft)

    def gumbel(self, raw, generator=None):
        """``raw`` plus standard Gumbel noise in every slot: the argmax of a softmax span's
        noisy logits is a draw from its softmax (the Gumbel-max trick)."""
        torch = require_torch()
        u = torch.rand(raw.shape, device=raw.device, generator=generator).clamp_(1e-10, 1 - 1e-7)
        return raw - torch.log(-torch.log(u))

    def straight_through(self, soft):
        """``soft`` (activated outputs) with each softmax span replaced by its one-hot argmax in
        the forward pass while gradients flow through the soft values (straight-through
        Gumbel-softmax, Jang et al. 2017); α slots unchanged. A critic then sees generated
        categories exactly as it sees real ones, not as near-one-hot vectors it can tell apart
        by their softness alone."""
        torch = require_torch()
        if not self.n_soft:
            return soft
        _, spread = self._span_max(soft)
        hard = torch.where(self.is_tanh.bool(), soft, (soft >= spread).to(soft.dtype))
        return soft + (hard - soft).detach()

    def condition_loss(self, raw, span_row, category):
        """Mean cross entropy of the generator's logits for the conditioned span and category
        (``span_row``: each row's softmax span, ``category``: the slot within it)."""
        norm = self._log_normalisers(raw)
        hot = (self.soft_starts[span_row] + category).unsqueeze(1)
        return (norm.gather(1, span_row.unsqueeze(1)) - raw.gather(1, hot)).mean()

    def _log_normalisers(self, raw):
        """log Σ exp over each softmax span's logits, (batch, spans): log Σ exp(logit − m) + m
        with m the span's largest logit (held constant: neither the value nor its gradient
        depends on it), the sums as one matrix product with the slots' span membership."""
        torch = require_torch()
        top, shift = self._span_max(raw)
        return torch.log(torch.exp(raw - shift) @ self.member) + top[:, : self.n_soft]

    def _span_max(self, x):
        """Each span's largest value, (batch, spans + 1; the last: the tanh slots'), and the same
        spread to every slot, (batch, dim); constants for autograd (a softmax's shift)."""
        torch = require_torch()
        idx = self.span_of.expand(x.shape[0], -1)
        with torch.no_grad():
            top = x.new_full((x.shape[0], self.n_soft + 1), float("-inf"))
            top = top.scatter_reduce(1, idx, x, reduce="amax")
            return top, top.gather(1, idx)


@functools.cache
def nets():
    """The torch modules (defined on first use, so that importing lookalike needs no torch)."""
    torch = require_torch()
    nn = torch.nn

    class Residual(nn.Module):
        """Linear → BatchNorm → ReLU, its output concatenated to its input (CTGAN)."""

        def __init__(self, i: int, o: int) -> None:
            super().__init__()
            self.fc = nn.Linear(i, o)
            self.bn = nn.BatchNorm1d(o)

        def forward(self, x):
            return torch.cat([torch.relu(self.bn(self.fc(x))), x], dim=1)

    class Generator(nn.Module):
        def __init__(self, in_dim: int, hidden: tuple[int, ...], out_dim: int) -> None:
            super().__init__()
            layers, d = [], in_dim
            for h in hidden:
                layers.append(Residual(d, h))
                d += h
            layers.append(nn.Linear(d, out_dim))
            self.seq = nn.Sequential(*layers)

        def forward(self, x):
            return self.seq(x)

    class Discriminator(nn.Module):
        """``pac`` rows judged together (PacGAN, Lin et al. 2018); LeakyReLU + dropout as CTGAN."""

        def __init__(self, in_dim: int, hidden: tuple[int, ...], pac: int, dropout: float = 0.5) -> None:
            super().__init__()
            self.pac = pac
            layers, d = [], in_dim * pac
            for h in hidden:
                layers += [nn.Linear(d, h), nn.LeakyReLU(0.2), nn.Dropout(dropout)]
                d = h
            layers.append(nn.Linear(d, 1))
            self.seq = nn.Sequential(*layers)

        def forward(self, x):
            return self.seq(x.reshape(-1, x.shape[1] * self.pac))

    class Encoder(nn.Module):
        def __init__(self, dim: int, hidden: tuple[int, ...], latent: int) -> None:
            super().__init__()
            layers, d = [], dim
            for h in hidden:
                layers += [nn.Linear(d, h), nn.ReLU()]
                d = h
            self.seq = nn.Sequential(*layers)
            self.mu = nn.Linear(d, latent)
            self.logvar = nn.Linear(d, latent)

        def forward(self, x):
            h = self.seq(x)
            return self.mu(h), self.logvar(h)

    class Decoder(nn.Module):
        """Decoder with a learned output noise per slot (TVAE); ``sigma`` is a bias-only layer
        so that Opacus computes its per-sample gradients like any other layer's."""

        def __init__(self, latent: int, hidden: tuple[int, ...], dim: int) -> None:
            super().__init__()
            layers, d = [], latent
            for h in hidden:
                layers += [nn.Linear(d, h), nn.ReLU()]
                d = h
            layers.append(nn.Linear(d, dim))
            self.seq = nn.Sequential(*layers)
            self.sigma = nn.Linear(1, dim, bias=False)
            nn.init.constant_(self.sigma.weight, 0.1)

        def forward(self, z):
            ones = torch.ones(z.shape[0], 1, device=z.device, dtype=z.dtype)
            return self.seq(z), self.sigma(ones)

    return {
        "Generator": Generator,
        "Discriminator": Discriminator,
        "Encoder": Encoder,
        "Decoder": Decoder,
    }
