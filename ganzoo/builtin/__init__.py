"""ganzoo's own plugins: the hook implementations that register its built-in components.

ganzoo uses its own plugin hooks for everything it ships (dogfooding): each module here is a plugin,
loaded by name from ``ganzoo.plugins.DEFAULT_PLUGINS``, and registers components defined elsewhere
(``ganzoo.models``, ``ganzoo.datasets``, ``ganzoo.adversarial``, ``ganzoo.metrics``, ``ganzoo.sinks``).
``@hookimpl`` appears only here and in ``plugins/`` (the built-in variants), so the components stay plain
code and the plugin loader imports none of them.
"""
