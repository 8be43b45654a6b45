"""DistributedDataParallel with gloo on CPU: two processes stay in lockstep and only rank 0 writes."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file

WORLD = 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker(rank: int, port: int, runs: str, data_root: str) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(WORLD)
    )
    torch.set_num_threads(1)
    from ganzoo.build import resolve_recipe
    from ganzoo.loop import train
    from ganzoo.plugins import get_registries

    registries = get_registries()
    settings = {
        "train.steps": 5,
        "train.batch_size": 8,
        "train.device": "cpu",
        "train.log_every": 1,
        "train.eval_metrics": [],
        "train.keep_best": "",
        "model.generator_width": 16,
        "model.discriminator_width": 8,
        "data.root": data_root,
    }
    recipe, _ = resolve_recipe(
        registries, "acgan", "mnist", None, [(key.split("."), value) for key, value in settings.items()]
    )
    # Each rank is given its own folder: anything a rank other than 0 wrote would show up there.
    result = train(recipe, Path(runs) / f"rank{rank}", registries, show_progress=False)
    # Parameters, not BatchNorm running statistics: those follow each rank's local batches (rank 0's are saved).
    state = {
        f"{name}.{key}": value.detach().contiguous()
        for name in ("G", "D")
        for key, value in result.modules[name].named_parameters()
    }
    save_file(state, str(Path(runs) / f"weights{rank}.safetensors"))


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed is not available")
def test_two_ranks_keep_identical_parameters_and_only_rank_0_writes(data_root, tmp_path):
    mp.spawn(worker, args=(free_port(), str(tmp_path), str(data_root)), nprocs=WORLD, join=True)
    rank0, rank1 = (load_file(str(tmp_path / f"weights{r}.safetensors")) for r in range(WORLD))
    assert rank0.keys() == rank1.keys()
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0), [
        k for k in rank0 if not torch.equal(rank0[k], rank1[k])
    ][:5]

    initial = load_file(str(tmp_path / "rank0" / "checkpoints" / "last.safetensors"))
    assert not torch.equal(initial["G.project.weight"], torch.zeros_like(initial["G.project.weight"]))
    assert (tmp_path / "rank0" / "metrics.jsonl").exists() and (tmp_path / "rank0" / "recipe.toml").exists()
    assert not (tmp_path / "rank1").exists(), "rank 1 wrote files"
    steps = [
        line for line in (tmp_path / "rank0" / "metrics.jsonl").read_text().splitlines() if '"kind": "train"' in line
    ]
    assert len(steps) == 5
