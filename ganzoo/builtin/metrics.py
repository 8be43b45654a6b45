"""Registers ganzoo's sample-quality metrics, with their direction and the fewest samples each needs."""

from ganzoo import metrics
from ganzoo.hookspecs import hookimpl
from ganzoo.registry import Component


@hookimpl
def ganzoo_metrics():
    return {
        "fid": Component(metrics.fid, higher_is_better=False),
        "inception_score": Component(metrics.inception, higher_is_better=True),
        "conditional_accuracy": Component(metrics.conditional_accuracy, higher_is_better=True),
        "precision": Component(metrics.precision, higher_is_better=True, min_samples=metrics.NEIGHBOURS + 1),
        "recall": Component(metrics.recall, higher_is_better=True, min_samples=metrics.NEIGHBOURS + 1),
        "class_coverage": Component(metrics.class_coverage, higher_is_better=True, min_samples=1),
        "class_entropy": Component(metrics.class_entropy, higher_is_better=True, min_samples=1),
        "cas": Component(metrics.cas, higher_is_better=True),
    }
