"""The training engine: loop, checkpoints, logging, early stopping and torchrun DDP.

Import from the modules; this package imports nothing, so the modules that need no torch
(``config``, ``early_stopping``, ``run_log``) stay cheap for the fastText path and
``danlu --help``:

- :mod:`danlu.train.config`: :class:`TrainConfig`, the engine's options (no torch).
- :mod:`danlu.train.trainer`: :class:`Trainer`, the loop; ``Trainer.resumable(run_dir)``.
- :mod:`danlu.train.checkpoint`: checkpoints and safetensors weights.
- :mod:`danlu.train.launch`: ``training_run``, the block a task's entry point trains in
  (process group, run folder claimed, ``--resume`` checked) before it reads any data.
- :mod:`danlu.train.distributed`: torchrun; :func:`process_group` joins and leaves it.
- :mod:`danlu.train.resume` (no torch): what ``--resume`` may change, and the check.
- :mod:`danlu.train.progress`: the bar, or progress lines every ~10 s off a terminal.
- :mod:`danlu.train.early_stopping`, :mod:`danlu.train.run_log` (no torch),
  :mod:`danlu.train.optimizers`, :mod:`danlu.train.device` (``use_threads``),
  :mod:`danlu.train.seed`, :mod:`danlu.train.adversarial`.

Example:
    >>> from danlu.train.config import TrainConfig
    >>> from danlu.train.trainer import Trainer
"""
