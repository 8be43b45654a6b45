"""torch.distributed for multi-GPU and multi-node runs: launched by torchrun, nothing home-made.

``torchrun --nproc-per-node N -m ganzoo run VARIANT ...`` starts N processes; each trains on its own
shard of every global batch with DistributedDataParallel (gloo on CPU, NCCL on CUDA). Rank 0 alone
writes metrics, samples and checkpoints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistributedContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    owns_process_group: bool = False

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def any_rank(self, flag: bool, device: torch.device) -> bool:
        """True on every rank when ``flag`` is true on at least one (a collective: call on all ranks)."""
        if not self.enabled:
            return flag
        value = torch.tensor([1.0 if flag else 0.0], device=device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def close(self) -> None:
        if self.owns_process_group and dist.is_initialized():
            dist.destroy_process_group()


def is_main_process() -> bool:
    """Whether this process is rank 0 (or the only one), from torchrun's environment, before any process group."""
    return int(os.environ.get("RANK", "0")) == 0


def init_distributed(device_type: str) -> DistributedContext:
    """Join the process group torchrun describes in the environment (WORLD_SIZE, RANK, LOCAL_RANK)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistributedContext()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    owns = not dist.is_initialized()
    if owns:
        if device_type == "cuda":
            torch.cuda.set_device(local_rank)
        dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo")
    return DistributedContext(dist.get_rank(), dist.get_world_size(), local_rank, owns)
