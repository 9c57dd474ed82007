"""``danlu lab run``: run claims, write one JSON and one PNG per claim, skip finished ones.

For a claim ``ID`` the run folder gets ``ID.json`` (the claim's text, the criterion, the
verdict, the numbers, the explanation, the seconds taken, whether it was a quick run, the
command that reproduces it) and ``ID.png`` (its figure). A claim whose ``ID.json`` is
already there from a run of the same mode (quick or full) is not run again, so an
interrupted ``--all`` resumes where it stopped. An experiment that raises is recorded as an
error (its message and traceback in ``ID.json``) and the others still run; one whose
dataset is not on the machine is recorded as ``skipped``, naming what is missing.

Every claim starts from the same seeds (:func:`danlu.train.seed.seed_everything` with 0),
so a claim's numbers do not depend on which claims ran before it.

Example:
    >>> records = run_claims(["momentum_damps"], quick=True, out="runs/lab")  # doctest: +SKIP
    >>> records[0]["verdict"]  # doctest: +SKIP
    'confirmed'
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from danlu import __version__
from danlu.errors import UsageError
from danlu.io import write_json
from danlu.lab.claim import VERDICTS, Claim
from danlu.lab.data import DataMissing
from danlu.lab.plots import save_compact
from danlu.lab.registry import CLAIMS
from danlu.train.seed import seed_everything

__all__ = ["command_for", "find_claims", "load_record", "run_claim", "run_claims", "warm_up"]


def find_claims(ids: Sequence[str]) -> list[Claim]:
    """The claims named by ``ids``, in table order; an unknown id lists the valid ones."""
    unknown = [i for i in ids if i not in CLAIMS]
    if unknown:
        raise UsageError(f"unknown claim {', '.join(map(repr, unknown))}; see danlu lab list "
                         f"(valid: {', '.join(CLAIMS)})")  # fmt: skip
    wanted = set(ids)
    return [c for c in CLAIMS.values() if c.id in wanted]


def command_for(claim_id: str, quick: bool, out: str | Path) -> str:
    """The command line that reruns one claim into ``out``."""
    return f"danlu lab run {claim_id}{' --quick' if quick else ''} --out {out}"


def load_record(out: str | Path, claim_id: str) -> dict[str, Any] | None:
    """``out/ID.json`` as a dict, or None when it is missing or unreadable."""
    try:
        return json.loads((Path(out) / f"{claim_id}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _finite(value: Any) -> Any:
    """JSON-safe numbers: NaN and infinities become strings."""
    if (isinstance(value, float) and value != value) or value in (float("inf"), float("-inf")):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def run_claim(claim: Claim, quick: bool, out: str | Path) -> dict[str, Any]:
    """Run one claim and write ``ID.json`` and ``ID.png`` into ``out``; return the record."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {
        "id": claim.id, "theme": claim.theme, "sources": list(claim.source_files),
        "quote": claim.quote, "protocol": claim.protocol, "criterion": claim.criterion,
        "quick": quick, "command": command_for(claim.id, quick, out), "danlu": __version__,
    }  # fmt: skip
    seed_everything(0)
    t0 = time.perf_counter()
    try:
        result = claim.run(quick)
    except DataMissing as exc:  # not a failure: this machine lacks the dataset
        record.update(verdict="skipped", error=str(exc), seconds=time.perf_counter() - t0)
        write_json(out / f"{claim.id}.json", record)
        return record
    except Exception as exc:
        record.update(verdict="error", error=f"{type(exc).__name__}: {exc}",
                      traceback=traceback.format_exc(),
                      seconds=time.perf_counter() - t0)  # fmt: skip
        write_json(out / f"{claim.id}.json", record)
        return record
    record.update(verdict=result.verdict, numbers=_finite(dict(result.numbers)),
                  explanation=result.explanation, seconds=time.perf_counter() - t0)  # fmt: skip
    if result.figure is not None:
        save_compact(result.figure, out / f"{claim.id}.png")
        record["figure"] = f"{claim.id}.png"
    write_json(out / f"{claim.id}.json", record)
    return record


def warm_up() -> None:
    """Pay the one-off costs that would otherwise land on whichever claim runs first: the
    import of matplotlib's figure code and of what torch loads when the first optimizer is
    built (``torch._dynamo``, a few seconds)."""
    import matplotlib.figure  # noqa: F401
    import torch

    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)


def run_claims(ids: Sequence[str], quick: bool, out: str | Path, progress: bool = True
               ) -> list[dict[str, Any]]:  # fmt: skip
    """Run the claims ``ids`` (table order) into ``out``, skipping those already done in the
    same mode; return every record, old and new."""
    from tqdm.auto import tqdm

    warm_up()

    claims = find_claims(ids)
    records = []
    bar = tqdm(claims, unit="claim", disable=not progress, file=sys.stderr, dynamic_ncols=True)
    for claim in bar:
        bar.set_postfix_str(claim.id)
        old = load_record(out, claim.id)
        if old is not None and old.get("quick") == quick and old.get("verdict") in VERDICTS:
            records.append(old)
            continue
        records.append(run_claim(claim, quick, out))
    return records
