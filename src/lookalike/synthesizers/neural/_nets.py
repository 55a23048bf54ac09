"""Network pieces shared by the neural families, built lazily once torch is imported.

:class:`SpanLayout` applies the output activations of an encoded row in a few tensor ops (no
Python loop over columns): ``tanh`` on α slots and a (Gumbel-)softmax on every softmax span,
through one padded gather. The same layout gives the conditional-vector cross entropy.
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
        # contiguous runs of one activation, so that activate() makes few small ops
        self.segments = [(s.start, s.size, s.activation) for s in spans]

    def padded(self, raw):
        """(batch, spans, width) logits with −inf in the padding."""
        block = raw[:, self.index]
        return block if self.all_valid else block.masked_fill(~self.valid, float("-inf"))

    def activate(self, raw, *, tau: float = 0.2, generator=None, gumbel: bool = True):
        """tanh on α slots, (Gumbel-)softmax with temperature ``tau`` on each softmax span."""
        torch = require_torch()
        if gumbel:
            u = torch.rand(raw.shape, device=raw.device, generator=generator).clamp_(1e-10, 1 - 1e-7)
            noisy = (raw - torch.log(-torch.log(u))) / tau
        else:
            noisy = raw
        parts = []
        for start, size, kind in self.segments:
            if kind == "tanh":
                parts.append(torch.tanh(raw[:, start : start + size]))
            else:
                parts.append(torch.softmax(noisy[:, start : start + size], dim=1))
        return torch.cat(parts, dim=1)

    def condition_loss(self, raw, span_row, category):
        """Mean cross entropy of the generator's logits for the conditioned span and category."""
        torch = require_torch()
        logits = self.padded(raw)
        rows = torch.arange(raw.shape[0], device=raw.device)
        chosen = logits[rows, span_row]
        return torch.nn.functional.cross_entropy(chosen, category)


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
