"""Shrinking a fastText model: keep the input rows with the largest norms, store int8.

1. Pruning: the hidden vector is a mean of rows, so rows with small norms move it least.
   The ``cutoff`` rows of largest L2 norm are kept (words and n-gram buckets alike); a
   pruned word becomes out of vocabulary (its n-grams still count), a pruned bucket
   falls back to the zero row.
2. Quantization: each kept row ``x`` is stored as ``q = round(127 x / max|x|)`` (int8)
   plus its scale ``max|x| / 127`` (float32), so ``x ~ scale * q``.

The output layer is small and stays float32. The result is a normal model file: the
loader dequantizes it.

Example:
    >>> small = quantize_model(model, cutoff=100_000)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import torch

from danlu.tasks.text_classification.dictionary import Dictionary
from danlu.tasks.text_classification.model import FastTextModel, load_model

__all__ = ["dequantize_rows", "quantize_file", "quantize_model", "quantize_rows"]


def quantize_rows(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Row-wise symmetric int8: returns (q int8 (R, d), scale float32 (R,))."""
    scale = x.abs().amax(dim=1).clamp_min(1e-12) / 127.0
    q = torch.round(x / scale[:, None]).clamp_(-127, 127).to(torch.int8)
    return q, scale.to(torch.float32)


def dequantize_rows(q: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`quantize_rows` (up to rounding): ``scale * q``, float32 (R, d)."""
    return q.to(torch.float32) * scale[:, None]


def quantize_model(model: FastTextModel, cutoff: int = 0) -> FastTextModel:
    """A pruned copy of ``model`` (``cutoff`` rows kept; 0: 30% of them), marked int8."""
    n_rows = model.input.shape[0]
    keep_n = cutoff if cutoff > 0 else max(1, int(0.3 * n_rows))
    keep_n = min(keep_n, n_rows)
    norms = model.input.norm(dim=1)
    kept = torch.zeros(n_rows, dtype=torch.bool)
    kept[norms.topk(keep_n).indices] = True
    d = model.dictionary
    nwords = d.nwords
    word_keep = kept[:nwords]
    idx = word_keep.nonzero().flatten().tolist()
    new_dict = Dictionary(
        [d.words[i] for i in idx], [d.word_counts[i] for i in idx], list(d.labels),
        list(d.label_counts), d.word_ngrams, d.bucket, d.minn, d.maxn,
    )  # fmt: skip
    gram_keep = kept[nwords:]
    rows = torch.cat([model.input[:nwords][word_keep], model.input[nwords:][gram_keep]])
    args = dict(model.args, quantized="int8")
    return FastTextModel(
        new_dict, rows, model.ngram_buckets[gram_keep].clone(), model.output.clone(),
        model.loss, args, model.tokenizer,
    )  # fmt: skip


def quantize_file(src: str, dst: str, cutoff: int = 0) -> tuple[Path, Path, int, int]:
    """Quantize ``src`` into ``dst`` (``.safetensors`` appended unless present).

    Returns:
        (src path, written path, size before, size after) in bytes.
    """
    out = Path(dst if dst.endswith(".safetensors") else dst + ".safetensors")
    small = quantize_model(load_model(src), cutoff)
    small.save(out)
    return Path(src), out, Path(src).stat().st_size, out.stat().st_size
