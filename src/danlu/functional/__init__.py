"""Stateless equations from the notes: attention, normalisation, dropout, init, RNN cells.

Each function is the readable reference written from the equations in its docstring;
modules in :mod:`danlu.nn` offer it as ``impl="reference"`` next to a fast path.
"""

from danlu.functional.attention import (
    additive_attention,
    additive_scores,
    band_mask,
    causal_mask,
    dot_product_attention,
    dot_scores,
    masked_softmax,
    padding_mask,
    scaled_dot_product_attention,
    scaled_dot_scores,
    weighted_sum,
)
from danlu.functional.clip import clip_grad_norm, clip_grad_value
from danlu.functional.conv import (
    conv2d_output_shape,
    conv_output_size,
    conv_transpose_output_size,
    pool2d_output_shape,
    pool_output_size,
)
from danlu.functional.dropout import dropout
from danlu.functional.init import (
    fan_in_and_fan_out,
    geometric_normal_,
    he_normal_,
    he_uniform_,
    orthogonal_,
    xavier_normal_,
    xavier_uniform_,
)
from danlu.functional.label_smoothing import label_smoothed_nll
from danlu.functional.multilabel import (
    one_vs_all_loss,
    one_vs_all_predict,
    zlpr_loss,
    zlpr_predict,
)
from danlu.functional.normalization import batch_norm, layer_norm
from danlu.functional.positional import sinusoidal_encoding
from danlu.functional.recurrent import elman_cell, gru_cell, jordan_cell, lstm_cell, scan
from danlu.functional.whitening import pca_whitening_matrix, zca_whitening_matrix

__all__ = [
    "additive_attention",
    "additive_scores",
    "band_mask",
    "batch_norm",
    "causal_mask",
    "clip_grad_norm",
    "clip_grad_value",
    "conv2d_output_shape",
    "conv_output_size",
    "conv_transpose_output_size",
    "dot_product_attention",
    "dot_scores",
    "dropout",
    "elman_cell",
    "fan_in_and_fan_out",
    "geometric_normal_",
    "gru_cell",
    "he_normal_",
    "he_uniform_",
    "jordan_cell",
    "label_smoothed_nll",
    "layer_norm",
    "lstm_cell",
    "masked_softmax",
    "one_vs_all_loss",
    "one_vs_all_predict",
    "orthogonal_",
    "padding_mask",
    "pca_whitening_matrix",
    "pool2d_output_shape",
    "pool_output_size",
    "scaled_dot_product_attention",
    "scaled_dot_scores",
    "scan",
    "sinusoidal_encoding",
    "weighted_sum",
    "xavier_normal_",
    "xavier_uniform_",
    "zca_whitening_matrix",
    "zlpr_loss",
    "zlpr_predict",
]
