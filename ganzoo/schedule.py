"""When training sees what: the budget in steps and epochs, and the order of the training images.

A step is ``train.d_steps`` discriminator updates and one generator update, each D update on its own
batch; an epoch is one pass over the training images. Under torchrun every rank draws the same seeded
permutation and takes its own shard of each global batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch

from ganzoo.config import Recipe
from ganzoo.data import ImageData, to_unit_range
from ganzoo.device import uses_channels_last
from ganzoo.errors import GanzooError


@dataclass(frozen=True)
class Budget:
    total_steps: int
    steps_per_epoch: int
    images_per_step: int  # real images one step trains D on, over all ranks

    @classmethod
    def of(cls, recipe: Recipe, num_train: int, world_size: int = 1) -> Budget:
        cfg = recipe.train
        images_per_step = cfg.batch_size * cfg.d_steps * world_size
        if images_per_step > num_train:
            raise GanzooError(
                f"train.batch_size {cfg.batch_size} (x {cfg.d_steps} D step(s) x {world_size} process(es)) "
                f"is larger than the dataset ({num_train} images)."
            )
        steps_per_epoch = num_train // images_per_step  # the last partial batch is dropped
        return cls(cfg.steps or cfg.epochs * steps_per_epoch, steps_per_epoch, images_per_step)

    def epoch(self, step: int) -> float:
        return round(step / self.steps_per_epoch, 4)

    def learning_rate_factor(self, step: int, decay_start: float) -> float:
        """1 until ``decay_start`` (a fraction of the budget), then falling linearly to 1 / n at the last of the
        n steps left. A function of the step alone, so a resumed run follows the same schedule."""
        start = int(decay_start * self.total_steps)
        return 1.0 if step <= start else (self.total_steps - step + 1) / (self.total_steps - start)


class DataOrder:
    """The training images' order: a seeded permutation per epoch, cut into each rank's batches.

    Its state (the current permutation and the generator that draws the next) is checkpointed, so a
    resumed run sees exactly the batches an uninterrupted one would.
    """

    def __init__(
        self,
        data: ImageData,
        batch_size: int,
        batches_per_step: int,
        steps_per_epoch: int,
        world_size: int,
        rank: int,
        seed: int,
        device: torch.device,
        channels_last: bool = False,
    ):
        self.data, self.num_train, self.channels_last = data, data.train_images.shape[0], channels_last
        self.batch_size, self.batches_per_step = batch_size, batches_per_step
        self.steps_per_epoch, self.world_size, self.rank = steps_per_epoch, world_size, rank
        self.source = torch.Generator(device=device).manual_seed(seed)  # the same order on every rank
        self.order = self._permutation()

    @classmethod
    def for_run(cls, recipe: Recipe, budget: Budget, data: ImageData, distributed, device: torch.device) -> DataOrder:
        cfg = recipe.train
        return cls(
            data,
            cfg.batch_size,
            cfg.d_steps,
            budget.steps_per_epoch,
            distributed.world_size,
            distributed.rank,
            cfg.seed,
            device,
            uses_channels_last(cfg.channels_last, device),
        )

    def _permutation(self) -> torch.Tensor:
        return torch.randperm(self.num_train, device=self.source.device, generator=self.source)

    def indices(self, step: int) -> list[torch.Tensor]:
        """The indices of this rank's batches for ``step`` (counted from 1): one per D update."""
        position = (step - 1) % self.steps_per_epoch
        if position == 0 and step > 1:
            self.order = self._permutation()
        first = position * self.batches_per_step
        size, world, rank = self.batch_size, self.world_size, self.rank
        return [
            self.order[((first + k) * world + rank) * size : ((first + k) * world + rank + 1) * size]
            for k in range(self.batches_per_step)
        ]

    def batches(self, step: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """This rank's (images in [-1, 1], labels) batches for ``step``, one per D update."""
        images, labels = self.data.train_images, self.data.train_labels
        batches = []
        for index in self.indices(step):
            real = to_unit_range(images[index])
            batches.append(
                (real.contiguous(memory_format=torch.channels_last) if self.channels_last else real, labels[index])
            )
        return batches

    def state(self) -> dict[str, torch.Tensor]:
        return {"data.order": self.order, "rng.order": self.source.get_state()}

    def load_state(self, tensors: Mapping[str, torch.Tensor]) -> None:
        order = tensors["data.order"]
        if order.shape != (self.num_train,):
            raise GanzooError(
                f"the dataset changed since this run was checkpointed: it had {order.numel()} training "
                f"images and has {self.num_train} now. Resume with the same data, or start a new run."
            )
        self.source.set_state(tensors["rng.order"])
        self.order = order.to(self.source.device)
