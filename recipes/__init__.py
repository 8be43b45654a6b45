"""Built-in recipes (TOML), installed as the package ``ganzoo_recipes`` so ganzoo finds them anywhere."""
