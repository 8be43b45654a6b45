"""Base classes that give every architecture the same label conditioning.

A generator is ``project`` (a Linear from noise to the first hidden layer) followed by ``body``.
A discriminator is ``features`` (image to a flat feature vector) followed by a Linear ``head``.
Conditioning then lives in one place instead of in every architecture:

- ``"input"``: G sees ``[z, embed(y)]``; D sees the image plus one extra channel ``embed(y)`` as a map.
- ``"hidden"``: G adds ``embed(y)`` to its first hidden layer; D takes the inner product of ``embed(y)``
  with its last hidden layer and adds it to the logits (projection, Miyato & Koyama 2018). Joining the
  embedding to D's features right before a linear head would not do: it only adds a per-class bias,
  which cannot tell whether image and label match.
- ``"batchnorm"``: every BatchNorm layer of G's body becomes a conditional BatchNorm whose gain and bias
  are looked up per class (de Vries et al. 2017); D uses projection, as with ``"hidden"``. This is the
  pairing of Miyato & Koyama's projection cGAN and of BigGAN.

Each architecture declares ``image_sizes``, the square sides it supports (the registry tests build it
at each of them); an empty tuple means any size.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ganzoo.errors import GanzooError

CONDITIONINGS = ("none", "input", "hidden", "batchnorm")


def check_conditioning(conditioning: str, num_classes: int) -> None:
    if conditioning not in CONDITIONINGS:
        raise GanzooError(f"unknown conditioning {conditioning!r}; use one of {', '.join(CONDITIONINGS)}.")
    if conditioning != "none" and num_classes < 2:
        raise GanzooError(f"conditioning {conditioning!r} needs a labelled dataset with at least 2 classes.")


def check_divisible(architecture: str, image_shape: tuple[int, int, int], factor: int) -> None:
    _, height, width = image_shape
    if height != width or height % factor:
        raise GanzooError(
            f"architecture {architecture!r} needs square images whose side is a multiple of {factor}, "
            f"got {height}x{width}. Set data.image_size "
            f"(e.g. --set data.image_size={factor * math.ceil(height / factor)})."
        )


class ConditionalBatchNorm(nn.Module):
    """BatchNorm (1d or 2d) whose gain and bias are looked up per class; ``labels`` are set before each call."""

    def __init__(self, norm: nn.modules.batchnorm._BatchNorm, num_classes: int):
        super().__init__()
        self.norm = type(norm)(norm.num_features, eps=norm.eps, momentum=norm.momentum, affine=False)
        self.gain = nn.Embedding(num_classes, norm.num_features)
        self.bias = nn.Embedding(num_classes, norm.num_features)
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)
        self.labels: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.labels is None:
            raise ValueError("conditional BatchNorm called without labels")
        shape = (x.shape[0], -1) + (1,) * (x.dim() - 2)
        return self.norm(x) * self.gain(self.labels).view(shape).to(x.dtype) + self.bias(self.labels).view(shape).to(
            x.dtype
        )


def conditional_batchnorm(module: nn.Module, num_classes: int) -> tuple[nn.Module, int]:
    """``module`` with every BatchNorm layer replaced by a ``ConditionalBatchNorm``; returns it and the count."""
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        return ConditionalBatchNorm(module, num_classes), 1
    replaced = 0
    for name, child in module.named_children():
        new_child, count = conditional_batchnorm(child, num_classes)
        if new_child is not child:
            setattr(module, name, new_child)
        replaced += count
    return module, replaced


class Generator(nn.Module):
    """Noise (and optionally labels) to images; subclasses set ``self.body``."""

    image_sizes: tuple[int, ...] = ()

    def __init__(self, latent_dim: int, num_classes: int, conditioning: str, hidden_features: int):
        super().__init__()
        check_conditioning(conditioning, num_classes)
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.conditioning = conditioning
        in_features = latent_dim
        self.embed: nn.Embedding | None = None
        if conditioning == "input":
            self.embed = nn.Embedding(num_classes, num_classes)
            in_features += num_classes
        elif conditioning == "hidden":
            self.embed = nn.Embedding(num_classes, hidden_features)
        self.project = nn.Linear(in_features, hidden_features)
        self.body: nn.Module = nn.Identity()

    def __setattr__(self, name: str, value) -> None:
        # Subclasses only assign ``self.body``; batchnorm conditioning rewrites it here, so that no
        # architecture has to know about it.
        if name == "body" and getattr(self, "conditioning", None) == "batchnorm" and not isinstance(value, nn.Identity):
            value, count = conditional_batchnorm(value, self.num_classes)
            if count == 0:
                raise GanzooError(
                    f"conditioning 'batchnorm' needs a generator with BatchNorm layers, and "
                    f'{type(self).__name__} has none. Use model.conditioning = "input" or "hidden".'
                )
        super().__setattr__(name, value)
        if name == "body":  # found once here, not at every forward pass
            self.conditional_norms = [m for m in value.modules() if isinstance(m, ConditionalBatchNorm)]

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.conditioning == "none":
            return self.body(self.project(z))
        if labels is None:
            raise ValueError("this generator is conditional: pass labels")
        if self.conditioning == "input":
            return self.body(self.project(torch.cat([z, self.embed(labels)], dim=1)))
        if self.conditioning == "hidden":
            return self.body(self.project(z) + self.embed(labels))
        for norm in self.conditional_norms:
            norm.labels = labels
        try:
            return self.body(self.project(z))
        finally:
            for norm in self.conditional_norms:
                norm.labels = None


class Discriminator(nn.Module):
    """Images (and optionally labels) to logits; subclasses set ``self.features`` and call ``build_head``."""

    image_sizes: tuple[int, ...] = ()

    def __init__(self, image_shape: tuple[int, int, int], out_features: int, num_classes: int, conditioning: str):
        super().__init__()
        check_conditioning(conditioning, num_classes)
        self.image_shape = tuple(image_shape)
        self.out_features = out_features
        self.num_classes = num_classes
        self.conditioning = conditioning
        channels, height, width = image_shape
        self.label_map: nn.Embedding | None = None
        self.label_projection: nn.Embedding | None = None
        if conditioning == "input":
            self.label_map = nn.Embedding(num_classes, height * width)
        self.features: nn.Module = nn.Identity()
        self.head: nn.Module = nn.Identity()

    @property
    def in_channels(self) -> int:
        """Channels that ``features`` receives: the image's, plus one label map for input conditioning."""
        return self.image_shape[0] + (1 if self.conditioning == "input" else 0)

    def build_head(self, feature_dim: int) -> None:
        self.head = nn.Linear(feature_dim, self.out_features)
        if self.conditioning in ("hidden", "batchnorm"):
            self.label_projection = nn.Embedding(self.num_classes, feature_dim)
            nn.init.normal_(self.label_projection.weight, std=feature_dim**-0.5)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None, return_features: bool = False):
        if self.conditioning != "none" and labels is None:
            raise ValueError("this discriminator is conditional: pass labels")
        if self.label_map is not None:
            label_plane = self.label_map(labels).view(x.shape[0], 1, *x.shape[2:]).to(x.dtype)
            x = torch.cat([x, label_plane], dim=1)
        features = self.features(x)
        logits = self.head(features)
        if self.label_projection is not None:
            logits = logits + (self.label_projection(labels) * features).sum(dim=1, keepdim=True)
        return (logits, features) if return_features else logits
