"""ganzoo: a plugin-based zoo of GAN variants with one training loop.

The public API for plugin authors is re-exported here.
"""

__version__ = "0.1.0"

from ganzoo.errors import GanzooError  # noqa: E402
from ganzoo.hookspecs import hookimpl  # noqa: E402
from ganzoo.losses import (  # noqa: E402
    Batch,
    LossStrategy,
    SetupContext,
    StepLosses,
    bce_logits,
    class_accuracy,
    real_fake_accuracy,
    real_fake_loss,
)
from ganzoo.variant import Variant  # noqa: E402

__all__ = [
    "Batch", "GanzooError", "LossStrategy", "SetupContext", "StepLosses", "Variant",
    "bce_logits", "class_accuracy", "hookimpl", "real_fake_accuracy", "real_fake_loss", "__version__",
]
