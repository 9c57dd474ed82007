"""Output layers of a sequence tagger, by name (``--head``): CRF, MEMM, Bi-MEMM, softmax.

Every head turns emission scores E (B, T, K) into a loss and a best tag path::

    head.nll(E, tags, mask, reduction="mean") -> loss to minimise
    head.decode(E, mask) -> (tags (B, T) with -1 on padding, path scores (B,))

==========  ==================================================================
name        head
==========  ==================================================================
crf         :class:`~danlu.nn.crf.CRF`: one softmax over whole tag paths
memm        :class:`~danlu.nn.memm.MEMM`: a softmax per step over E_t + A[y_{t-1}]
bimemm      :class:`~danlu.nn.memm.BiMEMM`: MEMMs in both directions
softmax     :class:`SoftmaxHead`: an independent softmax per token
==========  ==================================================================

The names come from :data:`danlu.names.TAGGER_HEADS`.

Example:
    >>> head = create_head("crf", num_tags=5)
    >>> emissions, mask = torch.randn(2, 7, 5), torch.ones(2, 7, dtype=torch.bool)
    >>> tags, scores = head.decode(emissions, mask)  # (2, 7), (2,)
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from danlu import names
from danlu.errors import UsageError
from danlu.nn.crf import CRF
from danlu.nn.memm import MEMM, BiMEMM
from danlu.nn.sequence_loss import reduce_loss

__all__ = ["HEADS", "SoftmaxHead", "create_head", "head_names"]


class SoftmaxHead(nn.Module):
    """Independent per-token softmax.

    ``nll = -Σ_t log softmax(E_t)[y_t]`` per sequence (masked positions excluded);
    ``decode`` takes the argmax of each position. ``constraints`` is accepted so that every
    head is built alike; a per-token softmax has no transitions to constrain.
    """

    def __init__(self, num_tags: int, constraints: Tensor | None = None) -> None:
        super().__init__()
        if num_tags < 1:
            raise UsageError(f"num_tags must be >= 1, got {num_tags}; count the tag labels")
        self.num_tags = num_tags

    def nll(self, emissions: Tensor, tags: Tensor, mask: Tensor, reduction: str = "mean") -> Tensor:
        logp = emissions.log_softmax(-1)  # (B, T, K)
        gold = logp.gather(-1, tags.clamp(min=0).unsqueeze(-1)).squeeze(-1)  # (B, T)
        return reduce_loss(-(gold * mask).sum(1), mask, reduction)  # per sequence (B,)

    @torch.no_grad()
    def decode(self, emissions: Tensor, mask: Tensor, top_k: int = 1) -> tuple[Tensor, Tensor]:
        best, idx = emissions.log_softmax(-1).max(-1)  # (B, T)
        return idx.masked_fill(~mask, -1), (best * mask).sum(1)


# name -> class built as cls(num_tags, constraints=...)
HEADS: dict[str, type[nn.Module]] = names.implement(
    names.TAGGER_HEADS,
    {"crf": CRF, "memm": MEMM, "bimemm": BiMEMM, "softmax": SoftmaxHead},
    "tagger heads",
)


def head_names() -> list[str]:
    """Names accepted by :func:`create_head`, in table order."""
    return list(HEADS)


def create_head(name: str, num_tags: int, constraints: Tensor | None = None) -> nn.Module:
    """The head ``name`` over ``num_tags`` tags.

    Args:
        name: one of :func:`head_names`.
        num_tags: K.
        constraints: allowed moves, (K+2, K+2) from
            :func:`~danlu.nn.transitions.allowed_transitions` (None: all allowed).

    Raises:
        UsageError: unknown name; the message lists the valid ones.
    """
    try:
        cls = HEADS[name]
    except KeyError:
        raise UsageError(f"unknown head {name!r}; valid: {', '.join(HEADS)}") from None
    return cls(num_tags, constraints=constraints)
