"""danlu (丹炉): deep-learning study notes turned into tested PyTorch software.

Subpackages, in the order imports flow:

- ``danlu.functional``: stateless equations (losses, attention, normalisation, ...).
- ``danlu.nn``, ``danlu.optim``: modules and optimizers built on those equations.
- ``danlu.decoding``, ``danlu.metrics``, ``danlu.data``: search, scoring and data loading.
- ``danlu.train``: the training engine (loop, checkpoints, logging, DDP).
- ``danlu.tasks``: task tools used from the CLI (``danlu --help``).

Importing ``danlu`` itself is cheap: subpackages are imported on demand.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
