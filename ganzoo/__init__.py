"""ganzoo: a plugin-based zoo of GAN variants with one training loop.

Two public APIs are re-exported here (importing ``ganzoo`` is cheap: each name loads its module, and
torch, on first use):

- for plugin authors (``docs/plugins.md``): ``hookimpl``, ``LossStrategy``, ``StepLosses``, ``Batch``,
  ``SetupContext``, ``Variant``, ``AdversarialLoss``, ``Component``, ``LogSink``, ``GanzooError``, ...;
- for Python users (``docs/python-api.md``): ``train``, ``load_run``, ``Run``, ``evaluate``, ``compare``.
"""

import importlib

from ganzoo.version import __version__

_EXPORTS = {
    "AdversarialLoss": "ganzoo.adversarial",
    "AdversarialOptions": "ganzoo.losses",
    "Batch": "ganzoo.losses",
    "Component": "ganzoo.registry",
    "GanzooError": "ganzoo.errors",
    "LogSink": "ganzoo.sinks",
    "LossStrategy": "ganzoo.losses",
    "SetupContext": "ganzoo.losses",
    "StepLosses": "ganzoo.losses",
    "Variant": "ganzoo.variant",
    "class_accuracy": "ganzoo.losses",
    "hookimpl": "ganzoo.hookspecs",
    "real_fake_accuracy": "ganzoo.losses",
    # The Python API.
    "Evaluation": "ganzoo.api",
    "Overrides": "ganzoo.api",
    "Run": "ganzoo.api",
    "components": "ganzoo.api",
    "evaluate": "ganzoo.api",
    "load_run": "ganzoo.api",
    "train": "ganzoo.api",
    "Comparison": "ganzoo.comparison",
    "compare": "ganzoo.comparison",
}

__all__ = [*sorted(_EXPORTS), "__version__"]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ganzoo' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return __all__
