"""Starting a training run: join torchrun's group, claim the run folder, then train.

Every task's training entry point runs its whole work inside :func:`training_run`, before
reading any data, so that a bad ``--out`` (a file, another run, a folder in use) is one
line and nothing else happens:

1. :func:`~danlu.train.distributed.process_group` joins torchrun's process group (no-op in
   a plain run) and leaves it when the block ends;
2. :func:`~danlu.io.run_folder.claim_run_folder` checks and locks ``out`` on rank 0
   (``--resume`` continues the run there, ``--overwrite`` replaces it);
3. with ``--resume``, the task's options must be the run's: compared with the folder's
   ``config.json`` (:func:`~danlu.train.resume.check_run_folder`) before the task reads data
   or rewrites that file.

Example:
    >>> with training_run(cfg.out, cfg.train, run_config=cfg) as dist:  # doctest: +SKIP
    ...     data = read(...)
    ...     Trainer(model, loss_fn, data, cfg.train, cfg.out).fit()
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from danlu.config import config_to_dict
from danlu.io.run_folder import claim_run_folder
from danlu.train.config import TrainConfig
from danlu.train.distributed import DistInfo, process_group
from danlu.train.resume import check_run_folder

__all__ = ["training_run"]


@contextmanager
def training_run(
    out: str | Path, config: TrainConfig, flag: str = "--out", run_config: Any = None
) -> Iterator[DistInfo]:
    """Join the process group and claim ``out`` for one run; see the module docstring.

    Args:
        out: the run folder.
        config: the engine's options (device, ``--resume``, ``--overwrite``).
        flag: how the user named the folder, for the messages.
        run_config: the task's whole config (a dataclass), which a resumed run must match.
    """
    with (
        process_group(config.device) as dist,
        claim_run_folder(out, resume=config.resume, overwrite=config.overwrite,
                         main=dist.is_main, flag=flag),
    ):  # fmt: skip
        if config.resume and run_config is not None:
            check_run_folder(out, config_to_dict(run_config))
        yield dist
