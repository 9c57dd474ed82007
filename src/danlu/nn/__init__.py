"""Modules built from :mod:`danlu.functional`, each with a fast path where PyTorch has one."""

from danlu.nn.activations import ACTIVATIONS, activation_names, create_activation
from danlu.nn.attention import AdditiveAttention, DotProductAttention, MultiHeadAttention
from danlu.nn.cnn import create_model, model_names
from danlu.nn.crf import CRF
from danlu.nn.dropout import Dropout
from danlu.nn.heads import HEADS, SoftmaxHead, create_head, head_names
from danlu.nn.impl import IMPLS, check_impl
from danlu.nn.init import INIT_SCHEMES, init_scheme_names, init_weights
from danlu.nn.inspect import Inspector
from danlu.nn.local_attention import LocalSelfAttention, sliding_window_attention
from danlu.nn.memm import MEMM, BiMEMM
from danlu.nn.mlp import MLP
from danlu.nn.multilabel import MultiLabelCategoricalCrossEntropy, OneVsAllLoss
from danlu.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from danlu.nn.positional import LearnedPositionalEncoding, SinusoidalPositionalEncoding
from danlu.nn.recurrent import GRU, LSTM, RNN, Jordan
from danlu.nn.seq2seq import (
    SEQ2SEQ,
    AttentionGRUSeq2Seq,
    BidirectionalTransformerSeq2Seq,
    GRUSeq2Seq,
    Seq2Seq,
    TransformerSeq2Seq,
    create_bidirectional_seq2seq,
    create_seq2seq,
    seq2seq_names,
    seq2seq_options,
)
from danlu.nn.spatial_transformer import SpatialTransformer
from danlu.nn.text_classifiers import create_text_classifier, text_classifier_names
from danlu.nn.transformer import (
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from danlu.nn.transitions import allowed_transitions
from danlu.nn.whitening import PCAWhitening, ZCAWhitening

__all__ = [
    "ACTIVATIONS",
    "CRF",
    "GRU",
    "HEADS",
    "IMPLS",
    "INIT_SCHEMES",
    "LSTM",
    "MEMM",
    "MLP",
    "RNN",
    "SEQ2SEQ",
    "AdditiveAttention",
    "AttentionGRUSeq2Seq",
    "BatchNorm1d",
    "BatchNorm2d",
    "BiMEMM",
    "BidirectionalTransformerSeq2Seq",
    "DotProductAttention",
    "Dropout",
    "GRUSeq2Seq",
    "Inspector",
    "Jordan",
    "LayerNorm",
    "LearnedPositionalEncoding",
    "LocalSelfAttention",
    "MultiHeadAttention",
    "MultiLabelCategoricalCrossEntropy",
    "OneVsAllLoss",
    "PCAWhitening",
    "Seq2Seq",
    "SinusoidalPositionalEncoding",
    "SoftmaxHead",
    "SpatialTransformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "TransformerSeq2Seq",
    "ZCAWhitening",
    "activation_names",
    "allowed_transitions",
    "check_impl",
    "create_activation",
    "create_bidirectional_seq2seq",
    "create_head",
    "create_model",
    "create_seq2seq",
    "create_text_classifier",
    "head_names",
    "init_scheme_names",
    "init_weights",
    "model_names",
    "seq2seq_names",
    "seq2seq_options",
    "sliding_window_attention",
    "text_classifier_names",
]
