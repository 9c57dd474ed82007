"""Every claim of the lab, in one table built from the theme modules' ``CLAIMS`` tuples.

:data:`THEMES` names the modules in report order; :data:`CLAIMS` maps each claim id to its
:class:`~danlu.lab.claim.Claim`. Ids are unique and each claim's ``theme`` is the module
that lists it (checked at import).
"""

from __future__ import annotations

from danlu.lab import (
    activations,
    attention,
    cnn,
    critical_points,
    fasttext,
    generative_vs_discriminative,
    initialization,
    multilabel,
    normalization,
    optimizers,
    recurrent,
    regularization,
    schedules,
    seq2seq,
    shift,
    tagging,
)
from danlu.lab.claim import Claim

__all__ = ["CLAIMS", "THEMES"]

#: theme name -> its claims, in report order
THEMES: dict[str, tuple[Claim, ...]] = {
    "optimizers": optimizers.CLAIMS,
    "schedules": schedules.CLAIMS,
    "normalization": normalization.CLAIMS,
    "initialization": initialization.CLAIMS,
    "activations": activations.CLAIMS,
    "regularization": regularization.CLAIMS,
    "critical_points": critical_points.CLAIMS,
    "generative_vs_discriminative": generative_vs_discriminative.CLAIMS,
    "shift": shift.CLAIMS,
    "recurrent": recurrent.CLAIMS,
    "attention": attention.CLAIMS,
    "seq2seq": seq2seq.CLAIMS,
    "tagging": tagging.CLAIMS,
    "multilabel": multilabel.CLAIMS,
    "fasttext": fasttext.CLAIMS,
    "cnn": cnn.CLAIMS,
}


def _table(themes: dict[str, tuple[Claim, ...]]) -> dict[str, Claim]:
    table: dict[str, Claim] = {}
    for theme, claims in themes.items():
        for claim in claims:
            if claim.theme != theme:
                raise ValueError(
                    f"claim {claim.id} says theme {claim.theme!r} but {theme} lists it"
                )
            if claim.id in table:
                raise ValueError(f"claim id {claim.id!r} is listed twice")
            table[claim.id] = claim
    return table


#: claim id -> claim, in report order
CLAIMS: dict[str, Claim] = _table(THEMES)
