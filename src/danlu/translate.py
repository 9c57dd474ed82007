"""Machine translation from Python: a run folder of ``danlu translate train``, loaded.

Example::

    from danlu import translate
    model = translate.load("runs/zh-en")
    model.translate(["我们走吧。", "你好。"], beam=5)   # ["Let's go.", "Hello."]
    model.translate(["我们走吧。"], beam=5, length_penalty="gnmt", alpha=0.6)

``translate(lines, **options)`` returns one detokenized string per line (an empty line
gives ``""``); the options are those of ``danlu translate eval``'s search: ``beam``,
``length_penalty`` (``none``, ``average``, ``gnmt``), ``alpha``, ``max_len_a``,
``max_len_b``. Loading reads tensors and JSON (and the SentencePiece models beside them);
it executes nothing. Importing this module does not import torch; :func:`load` does.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from danlu.tasks.translation.translator import Translator

__all__ = ["load"]


def load(run_dir: str | Path, device: str = "auto", threads: int = 0, batch_size: int = 64
         ) -> Translator:  # fmt: skip
    """The translator saved in ``run_dir`` (its ``model.safetensors`` and tokenizers).

    Args:
        run_dir: a run folder written by ``danlu translate train``.
        device: ``auto`` (CUDA if available), ``cpu`` or ``cuda``.
        threads: CPU threads for torch (0: its default).
        batch_size: sentences translated together.

    Raises:
        danlu.errors.UsageError: no model there, or the model of another task (named).
    """
    from danlu.tasks.translation.translator import load_translator

    return load_translator(run_dir, device=device, threads=threads, batch_size=batch_size)
