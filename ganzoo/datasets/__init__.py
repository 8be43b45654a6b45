"""ganzoo's own datasets, one module each, registered through the ``ganzoo_datasets`` hook.

Every loader returns a ``ganzoo.data.ImageData`` (uint8 images, int64 labels) held in memory.
"""
