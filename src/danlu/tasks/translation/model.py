"""The translator's model and its file: ``model.safetensors`` with a :class:`TranslationSpec`.

The network is one of :mod:`danlu.nn.seq2seq`'s models (``create_seq2seq``), built from the
spec alone: the model name and its keyword options, both vocabularies, the tokenizers and
languages, the longest sentence. The spec is stored as the file's metadata
(:func:`danlu.io.to_metadata`, plus ``danlu_task: translation``); a SentencePiece side keeps
its model beside it as ``spm.src.model`` / ``spm.tgt.model``. Loading reads tensors and
JSON and executes nothing; a model file of another danlu task is refused, naming it.

Example:
    >>> model, spec = load_model("runs/zh-en")  # doctest: +SKIP
    >>> spec.model, spec.src_lang, spec.tgt_lang  # doctest: +SKIP
    ('transformer', 'zh', 'en')
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from danlu.errors import UsageError
from danlu.io import to_metadata
from danlu.nn.seq2seq import Seq2Seq, create_bidirectional_seq2seq, create_seq2seq
from danlu.tasks.model_file import find_model_file, read_spec
from danlu.tasks.translation.config import ModelOptions
from danlu.train.checkpoint import load_safetensors

__all__ = ["TASK", "TranslationSpec", "build_model", "direction_of", "load_model",
           "seq2seq_kwargs", "spec_metadata"]  # fmt: skip

TASK = "translation"  # the danlu_task of the file's metadata
WRITER = "danlu translate train"


@dataclass(frozen=True)
class TranslationSpec:
    """What rebuilds a trained translator (stored as safetensors metadata)."""

    model: str  # a name of danlu.nn.seq2seq.SEQ2SEQ
    options: str  # JSON object: the keyword options of create_seq2seq
    src_lang: str
    tgt_lang: str
    src_tokenizer: str  # a name of config.TOKENIZERS
    tgt_tokenizer: str
    src_vocab: tuple[str, ...]  # id -> token; ids 0..3 are <pad> <unk> <s> </s>
    tgt_vocab: tuple[str, ...]  # the same tuple as src_vocab with shared embeddings
    max_len: int  # longest source (and training target) in tokens
    label_smoothing: float = 0.0  # of the training loss; kept for the record
    direction: str = "l2r"  # l2r, r2l (trained on reversed targets) or both (bidirectional)


def direction_of(opts: ModelOptions) -> str:
    """The spec's ``direction`` for the flags: ``both`` (--bidirectional), ``r2l``
    (--right-to-left) or ``l2r``."""
    return "both" if opts.bidirectional else "r2l" if opts.right_to_left else "l2r"


def spec_metadata(spec: TranslationSpec) -> dict[str, str]:
    """The metadata of ``model.safetensors``: every field of ``spec``, and ``danlu_task``."""
    return to_metadata(spec) | {"danlu_task": TASK}


def seq2seq_kwargs(opts: ModelOptions) -> dict[str, Any]:
    """``create_seq2seq``'s keyword options for the flags of ``opts`` (``None``: the model's
    own default, left out)."""
    if opts.model == "transformer":
        kwargs: dict[str, Any] = {
            "d_model": opts.d_model, "heads": opts.heads, "dim_feedforward": opts.ff,
            "num_encoder_layers": opts.layers, "num_decoder_layers": opts.layers,
            "dropout": opts.dropout, "key_size": opts.key_size,
            "talking_heads": opts.talking_heads, "shared_embeddings": opts.shared_embeddings,
        }  # fmt: skip
    elif opts.model in ("gru", "gru_attn"):  # one size for embeddings and states
        kwargs = {"embed_dim": opts.d_model, "hidden_size": opts.d_model,
                  "num_layers": opts.layers, "dropout": opts.dropout}  # fmt: skip
        if opts.model == "gru_attn":
            kwargs["attention"] = opts.attention
    else:
        raise ValueError(f"no flag mapping for seq2seq model {opts.model!r}; add it here")
    return {k: v for k, v in kwargs.items() if v is not None}


def build_model(spec: TranslationSpec) -> Seq2Seq:
    """A fresh (untrained) network for ``spec``."""
    options = json.loads(spec.options)
    if spec.direction == "both":
        if spec.model != "transformer":
            raise UsageError(f"a bidirectional {spec.model} model does not exist; the model "
                             "file is damaged")  # fmt: skip
        return create_bidirectional_seq2seq(len(spec.src_vocab), len(spec.tgt_vocab), **options)
    return create_seq2seq(spec.model, len(spec.src_vocab), len(spec.tgt_vocab), **options)


def load_model(run_dir: str | Path) -> tuple[Seq2Seq, TranslationSpec]:
    """The trained network of ``RUN_DIR/model.safetensors`` (eval mode) and its spec.

    Raises:
        UsageError: no such file, a file of another danlu task (named), bad metadata.
    """
    path = find_model_file(run_dir, WRITER)
    spec = read_spec(path, TranslationSpec, TASK, WRITER)
    network = build_model(spec)
    network.load_state_dict(load_safetensors(path))
    return network.eval(), spec
