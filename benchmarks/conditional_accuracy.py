"""How recognisable are a conditional run's samples? Classify N samples per class with an MNIST classifier.

    python benchmarks/conditional_accuracy.py RUN_DIR [--per-class 1000] [--checkpoint last|best] [--data-root DIR]

Trains a small CNN on the real MNIST training split (a judge independent of ganzoo's evaluator; it prints its
test accuracy), then reports the share of the run's samples (from G's moving average when the run kept one,
as ``ganzoo sample`` draws them) it assigns to their requested class.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import torch.nn.functional as F

import ganzoo
from ganzoo.classifier import accuracy, predict, train_classifier
from ganzoo.data import resolve_data_root
from ganzoo.datasets.mnist import load_mnist


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--per-class", type=int, default=1000)
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--classifier-steps", type=int, default=2000)
    parser.add_argument("--checkpoint", default="last", choices=["last", "best"])
    args = parser.parse_args()

    started = time.perf_counter()
    data = load_mnist(resolve_data_root(args.data_root), image_size=28, download=False)
    judge = train_classifier(
        data.train_images, data.train_labels, 10, steps=args.classifier_steps, batch_size=128, lr=2e-3, width=32
    )
    judge_accuracy = accuracy(judge, data.test_images, data.test_labels)
    print(f"classifier: test accuracy {judge_accuracy:.4f} ({time.perf_counter() - started:.0f} s)")

    run = ganzoo.load_run(args.run_dir, checkpoint=args.checkpoint, device="cpu")
    labels = run.class_rows(args.per_class)
    images = run.sample(labels=labels, seed=1)
    if images.shape[-1] != 28:  # the classifier reads MNIST's 28x28
        images = F.interpolate(images, size=(28, 28), mode="bilinear", antialias=True, align_corners=False)
    predicted = torch.cat([predict(judge, images[i : i + 1000]) for i in range(0, images.shape[0], 1000)])
    correct = predicted == labels
    per_class = [correct[labels == c].float().mean().item() for c in range(run.num_classes)]
    print(
        f"run {args.run_dir} ({args.checkpoint} checkpoint, step {run.step}): {labels.numel()} samples, "
        f"conditional accuracy {correct.float().mean().item():.4f}"
    )
    print("per class: " + " ".join(f"{c}:{a:.3f}" for c, a in enumerate(per_class)))


if __name__ == "__main__":
    main()
