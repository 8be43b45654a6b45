"""ganzoo's version, in a module that imports nothing (``ganzoo --version`` reads it without importing torch)."""

__version__ = "0.2.0"
