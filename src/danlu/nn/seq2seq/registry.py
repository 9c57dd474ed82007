"""Sequence-to-sequence models by name: ``create_seq2seq("transformer", V_src, V_tgt)``.

===========  ======================================================  ======================
name         model                                                   reference
===========  ======================================================  ======================
gru          GRU encoder-decoder, the final encoder state only       Cho et al., 2014 (d2l)
gru_attn     GRU encoder-decoder, Luong global attention             Luong et al., 2015
transformer  pre-norm Transformer, tied embeddings, KV cache         Vaswani et al., 2017
===========  ======================================================  ======================

The names come from :data:`danlu.names.SEQ2SEQ_MODELS`; every model has the interface of
:class:`~danlu.nn.seq2seq.base.Seq2Seq`.

Example:
    >>> model = create_seq2seq("gru_attn", 100, 120, attention="dot", hidden_size=32)
    >>> type(model).__name__
    'AttentionGRUSeq2Seq'
"""

from __future__ import annotations

from typing import Any

from danlu import names
from danlu.errors import UsageError
from danlu.nn.seq2seq.attention_decoder import AttentionGRUSeq2Seq
from danlu.nn.seq2seq.base import Seq2Seq, build_checked, keyword_options
from danlu.nn.seq2seq.gru import GRUSeq2Seq
from danlu.nn.seq2seq.transformer import TransformerSeq2Seq

__all__ = ["SEQ2SEQ", "create_seq2seq", "seq2seq_names", "seq2seq_options"]

# name -> class built as cls(src_vocab, tgt_vocab, **options)
SEQ2SEQ: dict[str, type[Seq2Seq]] = names.implement(
    names.SEQ2SEQ_MODELS,
    {"gru": GRUSeq2Seq, "gru_attn": AttentionGRUSeq2Seq, "transformer": TransformerSeq2Seq},
    "seq2seq models",
)


def seq2seq_names() -> list[str]:
    """Names accepted by :func:`create_seq2seq`, in table order."""
    return list(SEQ2SEQ)


def seq2seq_options(name: str) -> dict[str, Any]:
    """The keyword options of model ``name`` with their defaults."""
    return keyword_options(_model_class(name))


def _model_class(name: str) -> type[Seq2Seq]:
    try:
        return SEQ2SEQ[name]
    except KeyError:
        raise UsageError(
            f"unknown seq2seq model {name!r}; valid: {names.describe(names.SEQ2SEQ_MODELS)}"
        ) from None


def create_seq2seq(name: str, src_vocab: int, tgt_vocab: int, **options: Any) -> Seq2Seq:
    """Build the sequence-to-sequence model ``name`` (see :data:`SEQ2SEQ`).

    Args:
        name: one of :func:`seq2seq_names`.
        src_vocab: source vocabulary size (id 0 = padding).
        tgt_vocab: target vocabulary size (id 0 = padding).
        **options: the model's keyword options (:func:`seq2seq_options` lists them with
            their defaults), e.g. ``hidden_size``, ``attention``, ``d_model``, ``key_size``.

    Raises:
        UsageError: unknown name or option (the message lists the valid ones), bad values.
    """
    return build_checked(_model_class(name), f"seq2seq model {name}", src_vocab, tgt_vocab,
                         options)  # fmt: skip
