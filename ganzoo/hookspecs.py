"""The plugin author's reference: every hook ganzoo calls.

A plugin is a module (or object) with functions decorated by `ganzoo.hookimpl` whose names match the
specs below. A single file loads with ``ganzoo --plugin FILE.py`` (or from a folder listed in
``$GANZOO_PLUGINS_DIR``); packaged plugins register an entry point in the ``ganzoo`` group::

    [project.entry-points.ganzoo]
    myvariant = "my_package.my_module"

ganzoo's own architectures, loss flavours, datasets, metrics and logging sinks (``ganzoo.builtin``) and
its five built-in variants (``plugins/``) are implemented through these same hooks. The registration
hooks take no arguments and return new entries; a name already taken by another plugin is an error that
names both plugins, and that plugin is left out. ``ganzoo_commands`` and ``ganzoo_logging_sinks`` receive
something to extend. The guide, with a tutorial and this reference, is ``docs/plugins.md``.
"""

from __future__ import annotations

import pluggy

# The annotations below are documentation (strings, never evaluated): this module imports nothing from ganzoo,
# so every module may import it without a cycle. ``scripts/hook_reference.py`` prints them as written.
hookspec = pluggy.HookspecMarker("ganzoo")
hookimpl = pluggy.HookimplMarker("ganzoo")


@hookspec
def ganzoo_generators() -> Mapping[str, Callable[..., nn.Module]]:
    """Return generator constructors by name.

    Each constructor is called with keyword arguments
    ``latent_dim: int, num_classes: int, image_shape: tuple[int, int, int], conditioning: str, width: int``
    and returns an ``nn.Module`` whose ``forward(z, labels=None)`` maps noise ``(B, latent_dim)`` (and,
    when ``conditioning != "none"``, int64 labels ``(B,)``) to images ``(B, C, H, W)`` in ``[-1, 1]``.
    ``conditioning`` is ``"none"``, ``"input"`` (label joined to the noise), ``"hidden"`` (label
    embedded into a hidden layer) or ``"batchnorm"`` (conditional BatchNorm); ``width`` scales the
    layers. Raise ``ganzoo.GanzooError`` for an image size the architecture cannot produce.
    Subclassing ``ganzoo.models.Generator`` (set ``self.body``) gives every conditioning for free.
    The constructor declares ``image_sizes``, a tuple of the square sides it supports (``()``: any),
    at which the registry tests build it; its docstring's first line is its description. (Or return
    ``ganzoo.Component(constructor, image_sizes=..., description=...)`` to state them explicitly.)
    """


@hookspec
def ganzoo_discriminators() -> Mapping[str, Callable[..., nn.Module]]:
    """Return discriminator constructors by name.

    Each constructor is called with keyword arguments
    ``image_shape: tuple[int, int, int], out_features: int, num_classes: int, conditioning: str,
    width: int`` and returns an ``nn.Module`` whose ``forward(x, labels=None)`` returns raw logits
    ``(B, out_features)`` (never probabilities: losses apply the sigmoid/softmax themselves).
    ``out_features`` is chosen by the loss strategy (1 for real/fake, N for SGAN, 1 + N for ACGAN).
    ``conditioning`` is as for generators; ``"hidden"`` and ``"batchnorm"`` mean a projection
    discriminator. Modules built on ``ganzoo.models.Discriminator`` (set ``self.features``, then call
    ``self.build_head(feature_dim)``) get every conditioning for free, and also accept
    ``return_features=True``, returning ``(logits, features)``, which feature matching needs. The
    constructor declares ``image_sizes`` as generators do.
    """


@hookspec
def ganzoo_losses() -> Mapping[str, type[LossStrategy]]:
    """Return loss strategies (subclasses of ``ganzoo.LossStrategy``) by name.

    A loss strategy computes the discriminator's and the generator's losses for one step and the
    numbers to log; the training loop owns backward passes, optimizers, devices and logging. Options
    come from the recipe's ``[loss]`` table and are validated against the strategy's ``Options``
    dataclass (subclass ``ganzoo.AdversarialOptions``, which brings ``adversarial`` and ``gp_weight``).
    Implement ``discriminator_loss(discriminator, batch)`` and ``generator_loss(discriminator, batch)``,
    each returning a ``ganzoo.StepLosses``; build the real/fake terms with ``self.adversarial_d_loss``
    and ``self.adversarial_g_loss`` so that every adversarial flavour works. See
    ``ganzoo.losses.LossStrategy`` for the optional methods (``setup``, ``evaluate``, ...).
    """


@hookspec
def ganzoo_adversarial_losses() -> Mapping[str, type[AdversarialLoss]]:
    """Return adversarial loss flavours (subclasses of ``ganzoo.AdversarialLoss``) by name.

    A flavour turns real/fake logits into losses: ``real(logits)`` and ``fake(logits)`` for D,
    ``generator(logits)`` for G, each a mean over the batch, and optionally ``penalty(critic, real,
    fake)``, an extra D loss computed through D (WGAN-GP's gradient penalty). It is constructed as
    ``Flavour(gp_weight=...)``; ``threshold`` is the logit above which D "says real" in the logged
    accuracy, and ``has_penalty = True`` marks a flavour whose ``penalty`` needs D. Any variant uses the
    one named by the recipe's ``loss.adversarial``.
    """


@hookspec
def ganzoo_datasets() -> Mapping[str, Callable[..., ImageData]]:
    """Return dataset loaders by name.

    Each loader is called as ``loader(root: pathlib.Path, image_size: int, download: bool)``, plus
    ``path=pathlib.Path`` when the recipe sets ``data.path`` (a folder of the dataset's own, as for
    ``imagefolder``), and returns a ``ganzoo.data.ImageData``: uint8 train/test images ``(N, C, H, W)``
    at ``image_size`` and int64 labels. Raise ``ganzoo.GanzooError`` saying where to put the files
    when they are missing and cannot be downloaded. Return ``ganzoo.Component(loader, recipe_defaults=...)``
    to give recipe values by dotted key (``{"data.image_size": 32}``) that apply under any recipe on
    this dataset.
    """


@hookspec
def ganzoo_metrics() -> Mapping[str, Callable[..., float | None]]:
    """Return sample-quality metrics by name.

    Each metric is called with a ``ganzoo.metrics.EvalSet`` (evaluator features and class probabilities
    of the evaluated images, the requested labels for conditional samples, the real test split's
    features, the dataset) and returns a float, or ``None`` where it does not apply (e.g. a metric for
    one kind of dataset). Its docstring's first line is its description in ``ganzoo list metrics``.
    Return ``ganzoo.Component(metric, higher_is_better=..., min_samples=...)`` to give its direction
    (needed for ``train.keep_best``) and the fewest samples it can be computed from.
    """


@hookspec
def ganzoo_variants() -> Iterable[Variant]:
    """Return the GAN variants this plugin adds (``ganzoo.Variant`` objects).

    A variant names its loss strategy (several variants may share one) and may carry ``defaults``,
    recipe values by dotted key for any dataset. ``ganzoo run NAME`` trains it with the recipe
    ``NAME-DATASET.toml`` found in a recipe directory (see ``ganzoo_recipe_dirs``) on top of those
    defaults, or with the defaults alone when there is none.
    """


@hookspec
def ganzoo_recipe_dirs() -> Iterable[Path | Any]:
    """Return directories (``pathlib.Path`` or ``importlib.resources`` traversables) that hold recipes.

    Recipes are TOML files named ``VARIANT-DATASET.toml``; the first directory that has the file wins,
    with ganzoo's own ``recipes/`` searched first.
    """


@hookspec
def ganzoo_commands(cli: click.Group) -> None:
    """Return nothing: add commands to the ``ganzoo`` command line instead.

    ``cli`` is the ``ganzoo`` click group: decorate a function with ``@cli.command()`` or call
    ``cli.add_command(command)``. A plugin command's name must not be a built-in one. Plugin commands
    are loaded when they are run (``ganzoo NAME``), so ``ganzoo --help`` stays fast and lists only the
    built-in commands; ``ganzoo plugins`` lists which plugin added which command.
    """


@hookspec
def ganzoo_logging_sinks(recipe: Recipe, run_dir: Path, start_step: int) -> Iterable[LogSink]:
    """Return logging sinks (``ganzoo.LogSink`` objects) for a run that is about to train, or nothing.

    Called once per run, in the process that writes the run directory (rank 0 under torchrun);
    ``start_step`` is 0, or the checkpoint's step when the run resumes (drop what came after it). A sink
    receives every record the run writes to ``metrics.jsonl`` (``sink.write(record)``: training means at
    each log step, evaluations, the end) and every sample grid (``sink.add_image(tag, step, path)``), and
    is closed when training stops. ``metrics.jsonl`` stays the source of truth; sinks mirror it to a
    dashboard: TensorBoard is ganzoo's own (on with ``train.tensorboard = true``); W&B or MLflow would be
    a plugin's, switched on by the plugin's presence or an environment variable of its own.
    """
