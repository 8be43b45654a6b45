"""Registers ganzoo's own optional logging sink: TensorBoard, when the recipe asks for it."""

from ganzoo.hookspecs import hookimpl
from ganzoo.sinks import TensorBoardSink


@hookimpl
def ganzoo_logging_sinks(recipe, run_dir, start_step):
    if recipe.train.tensorboard:
        return [TensorBoardSink(run_dir / "tensorboard", start_step)]
    return []
