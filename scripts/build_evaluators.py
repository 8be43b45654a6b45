"""Builds the evaluators that ship with ganzoo (``ganzoo/evaluators/``), so that every user's FID is the same number.

    python scripts/build_evaluators.py [--data-root DIR] [DATASET ...]     # default: mnist shapes

Each evaluator is ganzoo's small CNN classifier trained on the dataset's training split with
``ganzoo.evaluator.SETTINGS`` (seeded; one CPU thread and deterministic algorithms, so that the same
machine type gives the same bytes). Its file name holds a hash of the training data: ganzoo uses the
shipped file only for exactly that data, and trains and caches its own for anything else.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import torch

from ganzoo.build import load_dataset
from ganzoo.config import DataConfig
from ganzoo.evaluator import EVALUATOR_IMAGE_SIZE, evaluator_name, train_evaluator, write_evaluator
from ganzoo.plugins import get_registries

OUT = Path(__file__).resolve().parents[1] / "ganzoo" / "evaluators"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("datasets", nargs="*", default=["mnist", "shapes"])
    parser.add_argument("--data-root", default="", help="Folder holding the datasets (default: $GANZOO_DATA).")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    OUT.mkdir(exist_ok=True)
    for name in args.datasets:
        data = load_dataset(
            get_registries(),
            DataConfig(name=name, root=args.data_root, download=False),
            image_size=EVALUATOR_IMAGE_SIZE,
        )
        started = time.perf_counter()
        model, test_accuracy = train_evaluator(data)
        path = OUT / f"{evaluator_name(data)}.safetensors"
        write_evaluator(path, model, test_accuracy, data)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        print(f"{path.name}: test accuracy {test_accuracy:.4f}, {time.perf_counter() - started:.0f} s, sha256 {digest}")


if __name__ == "__main__":
    main()
