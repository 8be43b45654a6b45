"""Built-in variants, installed as the package ``ganzoo_plugins``, loaded through the ``ganzoo`` entry-point group."""
