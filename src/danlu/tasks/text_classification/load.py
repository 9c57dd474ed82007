"""``load_model``: a model file written by ``danlu supervised`` or ``quantize``, either kind,
or an official fastText ``.bin`` / ``.ftz``.

A file that starts with fastText's magic number is read by :func:`fasttext_bin.read_bin`.
Otherwise the ``format`` in the safetensors metadata says which model it holds:
:data:`config.FASTTEXT_FORMAT` (the linear model, numpy: :func:`model.read_fasttext`) or
:data:`config.NEURAL_FORMAT` (a network: :func:`neural_model.load_neural`, which is the
only branch that imports torch). Loading reads arrays and JSON; it executes nothing.

Example:
    >>> model = load_model("m.safetensors")  # doctest: +SKIP
    >>> model.predict_tokens([["体育", "新闻"]], k=2)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from danlu.errors import UsageError
from danlu.io import read_safetensors_metadata
from danlu.tasks.text_classification.config import FASTTEXT_FORMAT, NEURAL_FORMAT
from danlu.tasks.text_classification.fasttext_bin import is_fasttext_file, read_bin
from danlu.tasks.text_classification.model import FastTextModel, read_fasttext

if TYPE_CHECKING:
    from danlu.tasks.text_classification.neural_model import NeuralTextModel

__all__ = ["load_model"]


def load_model(path: str | Path) -> FastTextModel | NeuralTextModel:
    """The model in ``path``: an official fastText file, or the kind its metadata names.

    Raises:
        UsageError: the file is missing, is neither safetensors nor fastText's, or holds
            another format.
    """
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"model file {str(path)!r} does not exist")
    if is_fasttext_file(p):
        return read_bin(p)
    try:
        meta = read_safetensors_metadata(p)
    except ValueError:
        raise UsageError(f"{path} is not a danlu model file (not safetensors) nor a fastText "
                         ".bin/.ftz") from None  # fmt: skip
    if meta.get("format") == NEURAL_FORMAT:  # a -model textcnn/... network
        from danlu.tasks.text_classification.neural_model import load_neural

        return load_neural(p, meta)
    if meta.get("format") != FASTTEXT_FORMAT:
        raise UsageError(
            f"{path} is not a danlu fastText model (format {meta.get('format')!r}, "
            f"expected {FASTTEXT_FORMAT!r}); train one with danlu supervised"
        )
    return read_fasttext(p, meta)
