"""What every sequence-to-sequence model in danlu offers, and the checks they share.

A model maps a source sentence to a distribution over target sentences, one token at a
time: ``p(y | x) = Π_t p(y_t | y_<t, x)``. Its entry points serve training, search and
inspection::

    logits = model(src_tokens, src_mask, tgt_in_tokens)             # (B, T, V), training
    state = model.start(src_tokens, src_mask)                       # encode once
    log_probs, state = model.step(state, last_tokens)               # (N, V), one token
    features, state = model.decode(state, tgt_in_tokens)            # (N, T, H), T tokens
    logits = model.logits(features)                                 # (N, T, V)
    weights = model.attention_weights(src_tokens, src_mask, tgt_in_tokens)

A model implements ``start``, ``decode`` and ``logits``; ``forward`` and ``step`` are
``decode`` from the start state over the whole target, and over one token.

- Tokens are int64 ids, right-padded with ``PAD_ID`` (0); masks are bool with True at real
  tokens (``src_mask=None``: ``src_tokens != 0``). ``tgt_in_tokens`` is the target shifted
  right (``BOS y_1 ... y_{T-1}``): the logits at position ``t`` predict ``y_t``. Which ids
  are BOS and EOS is the caller's choice; a model only knows padding.
- ``step`` is the contract of :mod:`danlu.decoding` (see :mod:`danlu.decoding.state`): the
  state is a NamedTuple of row-first tensors, so search expands and reorders rows with
  ``select_rows``; the first call takes BOS. ``step`` is *incremental* (a carried hidden
  state, a key/value cache) and gives, to rounding, the log-softmax of ``forward`` on the
  same prefix. ``decode`` continues from any state (the state after ``T`` more tokens).
- Padding never changes a sentence's output: padded source positions get no attention and
  do not enter the recurrent encoder's final state. The decoders are causal, so right
  padding of the target cannot reach a real position and ``forward`` needs no target
  mask (``tgt_mask`` is accepted and unused).
"""

from __future__ import annotations

import inspect
from typing import Any

import torch
from torch import Tensor, nn

from danlu.decoding.state import State
from danlu.errors import UsageError

__all__ = [
    "PAD_ID",
    "Seq2Seq",
    "build_checked",
    "check_dropout",
    "check_sizes",
    "check_source",
    "keyword_options",
]

PAD_ID = 0  # the padding id of both vocabularies; its embedding row starts at zero


class Seq2Seq(nn.Module):
    """Base class of the encoder-decoder models (the interface of the module docstring).

    Subclasses set ``tgt_embedding`` (the decoder's ``nn.Embedding``, e.g. for adversarial
    training on the decoder inputs) and implement ``start``, ``decode`` and ``logits``.
    """

    tgt_embedding: nn.Embedding

    def start(self, src_tokens: Tensor, src_mask: Tensor | None) -> State:
        """Encode ``src_tokens (N, S)`` once; the decoder state before the first token."""
        raise NotImplementedError

    def decode(self, state: State, tgt_in_tokens: Tensor) -> tuple[Tensor, State]:
        """Feed ``tgt_in_tokens (N, T)`` after the state's prefix: ``(features (N, T, H),
        the state after them)``."""
        raise NotImplementedError

    def logits(self, features: Tensor) -> Tensor:
        """The output layer: ``features (..., H)`` -> ``logits (..., V)``."""
        raise NotImplementedError

    def forward(
        self,
        src_tokens: Tensor,
        src_mask: Tensor | None,
        tgt_in_tokens: Tensor,
        tgt_mask: Tensor | None = None,
    ) -> Tensor:
        """Teacher-forced logits ``(B, T, V)`` for ``tgt_in_tokens (B, T)``."""
        features, _ = self.decode(self.start(src_tokens, src_mask), tgt_in_tokens)
        return self.logits(features)  # (B, T, V)

    def step(self, state: State, last_tokens: Tensor) -> tuple[Tensor, State]:
        """``last_tokens (N,)`` -> ``(log_probs (N, V), state)`` for the next position."""
        features, state = self.decode(state, last_tokens[:, None])  # (N, 1, H)
        return self.logits(features[:, 0]).log_softmax(-1), state  # (N, V)

    def attention_weights(
        self, src_tokens: Tensor, src_mask: Tensor | None, tgt_in_tokens: Tensor
    ) -> Tensor:
        """The decoder's attention over the source while reading ``tgt_in_tokens``: row
        ``t`` is the attention while predicting ``y_t``; zero on padded source tokens."""
        raise UsageError(
            f"{type(self).__name__} has no attention over the source, so there is no "
            "alignment to show; use gru_attn or transformer"
        )


def check_source(src_tokens: Tensor, src_mask: Tensor | None) -> tuple[Tensor, Tensor]:
    """Validate a right-padded source batch; return ``(mask (B, S), lengths (B,))``.

    ``src_mask`` defaults to ``src_tokens != PAD_ID``. A row with no token at all is read
    as one padding token (so every output is defined), as the text classifiers do.

    Raises:
        UsageError: shapes that do not match, a non-bool mask, or left padding.
    """
    if src_tokens.dim() != 2 or src_tokens.size(1) == 0:
        raise UsageError(
            f"src_tokens must have shape (B, S) with S >= 1, got {tuple(src_tokens.shape)}"
        )
    if src_mask is None:
        src_mask = src_tokens != PAD_ID
    if src_mask.shape != src_tokens.shape or src_mask.dtype != torch.bool:
        raise UsageError(
            f"src_mask must be a bool tensor shaped like src_tokens {tuple(src_tokens.shape)}, "
            f"got {src_mask.dtype} {tuple(src_mask.shape)}; True marks real tokens"
        )
    lengths = src_mask.sum(1)  # (B,)
    positions = torch.arange(src_mask.size(1), device=src_mask.device)
    if not bool((src_mask == (positions < lengths[:, None])).all()):
        raise UsageError(
            "src_mask must mark a prefix of each row (right padding); pad sources on the right"
        )
    empty = lengths == 0
    if bool(empty.any()):
        src_mask = src_mask.clone()
        src_mask[empty, 0] = True
        lengths = lengths.clamp(min=1)
    return src_mask, lengths


def check_sizes(**sizes: int) -> None:
    """Raise UsageError unless every size is >= 1."""
    for name, value in sizes.items():
        if value < 1:
            raise UsageError(f"{name} must be >= 1, got {value}")


def check_dropout(dropout: float) -> None:
    """Raise UsageError unless ``0 <= dropout < 1``."""
    if not 0.0 <= dropout < 1.0:
        raise UsageError(f"dropout must be in [0, 1), got {dropout}")


def keyword_options(cls: type) -> dict[str, Any]:
    """The keyword-only options of ``cls.__init__`` with their defaults."""
    params = inspect.signature(cls.__init__).parameters.values()
    return {p.name: p.default for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}


def build_checked(cls: type[Seq2Seq], what: str, src_vocab: int, tgt_vocab: int,
                  options: dict[str, Any]) -> Seq2Seq:  # fmt: skip
    """``cls(src_vocab, tgt_vocab, **options)``; an unknown option is refused in one line
    that lists the valid ones with their defaults (``what`` names the model)."""
    valid = keyword_options(cls)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise UsageError(
            f"{what} has no option {', '.join(map(repr, unknown))}; valid: "
            f"{', '.join(f'{k}={v!r}' for k, v in valid.items())}"
        )
    return cls(src_vocab, tgt_vocab, **options)
