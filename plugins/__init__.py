"""Built-in variants, installed as the package ``ganzoo_plugins`` and loaded through the ``ganzoo`` entry-point group."""
