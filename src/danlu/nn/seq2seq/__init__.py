"""Sequence-to-sequence models: GRU, GRU with attention, Transformer (see ``registry``),
and the bidirectional (L2R + R2L) Transformer of :mod:`~danlu.nn.seq2seq.bidirectional`.

Every model offers the teacher-forced ``forward`` for training and ``start``/``step`` for
:mod:`danlu.decoding`'s search; :mod:`danlu.nn.seq2seq.base` describes the interface.
"""

from danlu.nn.seq2seq.attention_decoder import AttentionGRUSeq2Seq, AttentionGRUState
from danlu.nn.seq2seq.base import PAD_ID, Seq2Seq, check_source
from danlu.nn.seq2seq.bidirectional import (
    BidirectionalState,
    BidirectionalTransformerSeq2Seq,
    create_bidirectional_seq2seq,
)
from danlu.nn.seq2seq.gru import GRUEncoder, GRUSeq2Seq, GRUState
from danlu.nn.seq2seq.registry import SEQ2SEQ, create_seq2seq, seq2seq_names, seq2seq_options
from danlu.nn.seq2seq.source_attention import SourceAttention
from danlu.nn.seq2seq.synchronous_decoder import SynchronousDecoder, SynchronousDecoderLayer
from danlu.nn.seq2seq.transformer import TransformerSeq2Seq, TransformerState

__all__ = [
    "PAD_ID",
    "SEQ2SEQ",
    "AttentionGRUSeq2Seq",
    "AttentionGRUState",
    "BidirectionalState",
    "BidirectionalTransformerSeq2Seq",
    "GRUEncoder",
    "GRUSeq2Seq",
    "GRUState",
    "Seq2Seq",
    "SourceAttention",
    "SynchronousDecoder",
    "SynchronousDecoderLayer",
    "TransformerSeq2Seq",
    "TransformerState",
    "check_source",
    "create_bidirectional_seq2seq",
    "create_seq2seq",
    "seq2seq_names",
    "seq2seq_options",
]
