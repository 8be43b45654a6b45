"""ganzoo: a plugin-based zoo of GAN variants with one training loop.

The public API for plugin authors is re-exported here (``docs/plugins.md`` is the guide).
"""

__version__ = "0.1.0"

from ganzoo.adversarial import AdversarialLoss  # noqa: E402
from ganzoo.errors import GanzooError  # noqa: E402
from ganzoo.hookspecs import hookimpl  # noqa: E402
from ganzoo.losses import (  # noqa: E402
    AdversarialOptions,
    Batch,
    LossStrategy,
    SetupContext,
    StepLosses,
    class_accuracy,
    real_fake_accuracy,
)
from ganzoo.variant import Variant  # noqa: E402

__all__ = [
    "AdversarialLoss", "AdversarialOptions", "Batch", "GanzooError", "LossStrategy", "SetupContext", "StepLosses",
    "Variant", "class_accuracy", "hookimpl", "real_fake_accuracy", "__version__",
]
