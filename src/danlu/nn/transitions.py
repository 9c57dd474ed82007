"""Allowed tag transitions of the BIO, BIOES and BMES tagging schemes.

Some tag sequences cannot come from any segmentation into spans: ``O → I-PER`` (an inside
tag must follow a begin or inside tag of the same type), ``S → M`` or ``B-LOC → E-PER``.
:func:`allowed_transitions` returns a boolean matrix of what may follow what; the CRF and
MEMM heads take it as ``constraints=`` and give forbidden moves a score of
:data:`FORBIDDEN` in training and decoding, so a decoded path never contains one.

Layout: a (K+2, K+2) bool tensor ``A`` over the K tags followed by two virtual tags,
``START = K`` and ``END = K+1``. ``A[i, j]`` says whether tag ``j`` may follow tag ``i``
(rows are *from*, columns are *to*, as in the CRF's ``transitions``):

- ``A[:K, :K]``: tag-to-tag transitions,
- ``A[K, :K]``: which tags may open a sequence,
- ``A[:K, K+1]``: which tags may close a sequence.

The remaining entries (into START, out of END) are False. :func:`split_constraints` returns
the three parts; the heads also accept a plain (K, K) matrix (no start/end rules).

Rules (``x``, ``y`` are entity types; the type may be empty for plain segmentation tags):

- BIO: ``I-x`` only after ``B-x`` or ``I-x`` (also not first); ``O`` and ``B-y`` anywhere;
  any tag may end a sequence.
- BIOES: after ``B-x`` or ``I-x`` only ``I-x`` or ``E-x``; after ``O``, ``E-x``, ``S-x`` and
  at the start only ``O``, ``B-y`` or ``S-y``; a sequence ends on ``O``, ``E-x`` or ``S-x``.
- BMES: as BIOES with ``M`` in place of ``I``.

Example:
    >>> allowed = allowed_transitions("BIO", ["O", "B-PER", "I-PER"])
    >>> allowed[0, 2].item()  # O -> I-PER
    False
    >>> crf = CRF(3, constraints=allowed)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from danlu.errors import UsageError

__all__ = [
    "FORBIDDEN",
    "SCHEMES",
    "allowed_transitions",
    "refresh_constrained",
    "split_constraints",
]

SCHEMES: tuple[str, ...] = ("BIO", "BIOES", "BMES")
# Score given to a forbidden transition. Finite (not -inf) so that logsumexp and its
# gradient stay finite even for states that only forbidden moves reach.
FORBIDDEN = -1.0e4

# Per scheme: the span prefixes a label may carry ("O" stands alone) and the inside prefix.
_PREFIXES = {"BIO": "BI", "BIOES": "BIES", "BMES": "BMES"}
_INSIDE = {"BIO": "I", "BIOES": "I", "BMES": "M"}


def _parse(scheme: str, label: str) -> tuple[str, str]:
    """Split ``label`` into (prefix, type): "B-PER" -> ("B", "PER"), "O" -> ("O", "")."""
    if label == "O":
        return "O", ""
    prefix, sep, kind = label.partition("-")
    if not sep:
        prefix, sep, kind = label.partition("_")
    if len(prefix) != 1 or prefix not in _PREFIXES[scheme] or (sep and not kind):
        valid = ", ".join(_PREFIXES[scheme])
        raise UsageError(
            f"label {label!r} does not fit the {scheme} scheme; labels must be 'O' or "
            f"PREFIX-TYPE (or a bare PREFIX) with PREFIX in {valid}; "
            "pick the scheme that matches the data"
        )
    return prefix, kind


def allowed_transitions(scheme: str, labels: Sequence[str]) -> Tensor:
    """Boolean (K+2, K+2) matrix of allowed moves between ``labels`` under ``scheme``.

    Args:
        scheme: "BIO", "BIOES" or "BMES" (case-insensitive).
        labels: the K tag names in index order, e.g. ``["O", "B-PER", "I-PER"]``; BMES
            also accepts bare ``"B", "M", "E", "S"`` (word segmentation).

    Returns:
        (K+2, K+2) bool tensor; ``[i, j]`` is True when tag j may follow tag i; row K is
        START, column K+1 is END (see the module docstring).

    Raises:
        UsageError: unknown scheme, or a label the scheme does not allow.
    """
    name = scheme.upper()
    if name not in SCHEMES:
        raise UsageError(f"unknown tagging scheme {scheme!r}; valid: {', '.join(SCHEMES)}")
    parsed = [_parse(name, label) for label in labels]
    k = len(parsed)
    inside = _INSIDE[name]
    closes_span = name == "BIO"  # in BIO any tag may close a span; BIOES/BMES need E or S
    allowed = torch.zeros(k + 2, k + 2, dtype=torch.bool)
    for j, (to_prefix, to_kind) in enumerate(parsed):
        opens = to_prefix in ("O", "B", "S")  # a tag that needs no same-type predecessor
        allowed[k, j] = opens
        allowed[j, k + 1] = closes_span or to_prefix in ("O", "E", "S")
        for i, (from_prefix, from_kind) in enumerate(parsed):
            same = from_kind == to_kind
            if name == "BIO":  # I-x continues B-x or I-x; anything else may open
                ok = opens or (from_prefix in ("B", "I") and same)
            elif from_prefix in ("B", inside):  # the span must go on or close
                ok = to_prefix in (inside, "E") and same
            else:
                ok = opens
            allowed[i, j] = ok
    return allowed


def split_constraints(constraints: Tensor, num_tags: int) -> tuple[Tensor, Tensor, Tensor]:
    """Split a constraint matrix into (start (K,), end (K,), transitions (K, K)) bool masks.

    Args:
        constraints: (K+2, K+2) matrix from :func:`allowed_transitions`, or a (K, K) matrix
            of allowed tag-to-tag moves (every tag may then start and end a sequence).
        num_tags: K.

    Raises:
        UsageError: a shape that is neither (K, K) nor (K+2, K+2).
    """
    k = num_tags
    c = constraints.bool()
    if tuple(c.shape) == (k + 2, k + 2):
        return c[k, :k].clone(), c[:k, k + 1].clone(), c[:k, :k].clone()
    if tuple(c.shape) == (k, k):
        every = torch.ones(k, dtype=torch.bool, device=c.device)
        return every, every.clone(), c.clone()
    raise UsageError(
        f"constraints have shape {tuple(c.shape)}; expected ({k + 2}, {k + 2}) from "
        f"allowed_transitions(scheme, labels) or ({k}, {k}) for num_tags={k}; "
        "pass the matrix built from the same label list"
    )


def refresh_constrained(module: torch.nn.Module, incompatible_keys: object = None) -> None:
    """Set ``module.constrained`` from its ``allowed_*`` buffers (True if any move is banned).

    Registered as a ``load_state_dict`` post-hook by the CRF and MEMM heads, so a head built
    without constraints that loads a constrained state dict applies them (and vice versa).
    """
    masks = (module.allowed_start, module.allowed_end, module.allowed_transitions)
    module.constrained = not all(bool(m.all()) for m in masks)  # type: ignore[arg-type]
