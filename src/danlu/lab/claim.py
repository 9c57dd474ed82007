"""A claim of the notes as an experiment: what is claimed, how it is tested, how it is judged.

A :class:`Claim` holds the quoted claim and its source note, the protocol, and the
**criterion**, written down before the experiment is run, that turns its numbers into a
verdict: ``confirmed``, ``refuted`` or ``partly`` (true under a condition the explanation
names). ``run(quick)`` performs the experiment and returns a :class:`Result`: the numbers
(plain JSON values), one matplotlib figure, the verdict and a one-paragraph explanation.
``quick=True`` runs a small form of the same experiment (seconds) that exercises every line
of it; its verdict is reported but carries no weight.

Example:
    >>> claim = Claim("demo", "optimizers", ("001",), "“…”", "protocol", "criterion",
    ...               lambda quick: Result("confirmed", {"x": 1.0}, "why", None))
    >>> claim.run(True).verdict
    'confirmed'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["NOTES", "VERDICTS", "Claim", "Result", "verdict_of"]

#: verdict -> what it means
VERDICTS: dict[str, str] = {
    "confirmed": "the experiment meets the criterion",
    "refuted": "the experiment contradicts the claim",
    "partly": "true only under a condition, which the explanation names",
}

#: short source id -> the file name of the note in ../shared/notes
NOTES: dict[str, str] = {
    "000": "000_57e361cf3d7bc4cb.txt",
    "001": "001_9925014f558840d3.txt",
    "002": "002_724c3f3babdffbeb.txt",
    "003": "003_98a61fe3e0494e4d.txt",
    "004": "004_b2b7b0336502c6f0.txt",
}


@dataclass(frozen=True)
class Result:
    """What one run of a claim's experiment found."""

    verdict: str  # a key of VERDICTS
    numbers: Mapping[str, Any]  # JSON values: floats, ints, strings, lists, dicts of those
    explanation: str  # one paragraph: what the numbers say about the claim
    figure: Any = None  # a matplotlib Figure (the runner saves and closes it), or None

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, got {self.verdict!r}")


@dataclass(frozen=True)
class Claim:
    """One claim of the notes and the experiment that checks it."""

    id: str  # short snake_case name, unique: the file names of its results
    theme: str  # the danlu.lab module that registers it
    sources: tuple[str, ...]  # keys of NOTES
    quote: str  # the claim, quoted briefly (the notes are Chinese)
    protocol: str  # what is run, on which data, how many seeds
    criterion: str  # how the numbers decide the verdict, fixed before running
    run: Callable[[bool], Result] = field(repr=False)  # run(quick) -> Result

    def __post_init__(self) -> None:
        unknown = [s for s in self.sources if s not in NOTES]
        if not self.sources or unknown:
            raise ValueError(f"claim {self.id}: sources must be among {', '.join(NOTES)}, "
                             f"got {self.sources}")  # fmt: skip

    @property
    def source_files(self) -> tuple[str, ...]:
        return tuple(NOTES[s] for s in self.sources)


def verdict_of(holds: bool, partly: bool = False) -> str:
    """``confirmed`` when the criterion holds, ``partly`` when only its weaker form does,
    else ``refuted``."""
    return "confirmed" if holds else "partly" if partly else "refuted"
