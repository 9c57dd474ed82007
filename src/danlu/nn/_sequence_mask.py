"""Validation of the inputs shared by the sequence-labeling heads (CRF, MEMM, Bi-MEMM).

A *length mask* is a (B, T) tensor that is true on the first ``length_b`` positions of row b
and false after them: left-aligned, no holes, at least one true position per row. Integer
0/1 masks are accepted and converted to bool. Anything else raises :class:`SequenceMaskError`
(a :class:`~danlu.errors.UsageError` and a :class:`ValueError`) whose message gives the bad
value, the rule and the fix.
"""

from __future__ import annotations

import torch
from torch import Tensor

from danlu.errors import UsageError

__all__ = ["SequenceMaskError", "check_emissions", "check_mask", "check_tags"]


class SequenceMaskError(UsageError, ValueError):
    """Emissions, tags or mask do not describe a batch of left-aligned sequences."""


def check_emissions(emissions: Tensor, num_tags: int) -> None:
    """Require ``emissions`` of shape (B, T, num_tags) with B, T >= 1 and a float dtype."""
    if emissions.dim() != 3 or emissions.shape[-1] != num_tags:
        raise SequenceMaskError(
            f"emissions have shape {tuple(emissions.shape)}; expected (batch, length, "
            f"{num_tags}) with num_tags={num_tags}; pass one score per tag per position"
        )
    if emissions.shape[0] < 1 or emissions.shape[1] < 1:
        raise SequenceMaskError(
            f"emissions have shape {tuple(emissions.shape)}; batch and length must be >= 1; "
            "drop empty batches and empty sequences before the layer"
        )
    if not emissions.is_floating_point():
        raise SequenceMaskError(
            f"emissions have dtype {emissions.dtype}; expected a floating dtype; "
            "cast them with .float()"
        )


def check_mask(mask: Tensor | None, batch: int, length: int, device: torch.device) -> Tensor:
    """Return ``mask`` as a bool (B, T) length mask, or raise :class:`SequenceMaskError`.

    Args:
        mask: (B, T) bool or 0/1 integer tensor, true on each sequence's valid positions;
            None means every position is valid.
        batch: B.
        length: T.
        device: where a missing mask is created.

    Returns:
        (B, T) bool tensor.
    """
    if mask is None:
        return torch.ones(batch, length, dtype=torch.bool, device=device)
    if tuple(mask.shape) != (batch, length):
        raise SequenceMaskError(
            f"mask has shape {tuple(mask.shape)}; expected (batch, length) = "
            f"{(batch, length)} like the emissions; build it as "
            "torch.arange(T)[None, :] < lengths[:, None]"
        )
    if mask.dtype != torch.bool:
        if mask.is_floating_point() or mask.is_complex():
            raise SequenceMaskError(
                f"mask has dtype {mask.dtype}; expected bool or integer 0/1; "
                "convert it with mask.bool()"
            )
        bad = (mask != 0) & (mask != 1)
        if bool(bad.any()):
            raise SequenceMaskError(
                f"mask has value {int(mask[bad][0])}; an integer mask may hold only 0 and 1; "
                "convert it with mask != 0"
            )
        mask = mask != 0
    lengths = mask.sum(1)
    empty = lengths == 0
    if bool(empty.any()):
        row = int(empty.nonzero()[0, 0])
        raise SequenceMaskError(
            f"mask row {row} is all false; every sequence needs length >= 1; "
            "drop empty sequences from the batch"
        )
    positions = torch.arange(length, device=mask.device)
    expected = positions[None, :] < lengths[:, None]
    holes = (mask != expected).any(1)
    if bool(holes.any()):
        row = int(holes.nonzero()[0, 0])
        raise SequenceMaskError(
            f"mask row {row} is {mask[row].int().tolist()}; a mask must be true on a prefix "
            "(left-aligned, no holes); pad sequences on the right and build the mask as "
            "torch.arange(T)[None, :] < lengths[:, None]"
        )
    return mask


def check_tags(tags: Tensor, mask: Tensor, num_tags: int) -> None:
    """Require integer ``tags`` of the mask's shape with values in [0, num_tags) where valid."""
    if tuple(tags.shape) != tuple(mask.shape):
        raise SequenceMaskError(
            f"tags have shape {tuple(tags.shape)}; expected (batch, length) = "
            f"{tuple(mask.shape)} like the emissions; pad tags on the right"
        )
    if tags.is_floating_point() or tags.dtype == torch.bool:
        raise SequenceMaskError(
            f"tags have dtype {tags.dtype}; expected integer tag indices; convert them with .long()"
        )
    valid = tags[mask]
    bad = (valid < 0) | (valid >= num_tags)
    if bool(bad.any()):
        raise SequenceMaskError(
            f"tag {int(valid[bad][0])} is out of range; tags at valid positions must lie in "
            f"[0, {num_tags}); check the label vocabulary (padding may be any value)"
        )
