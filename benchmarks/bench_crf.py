"""CRF benchmarks: danlu.nn.CRF against pytorch-crf (``torchcrf.CRF``), same parameters.

Both libraries get the same emissions, tags, mask and parameters (copied), on CPU in
float32, one torch thread (the machine is shared; one thread keeps the ratios stable), timed
interleaved in the same process. The results are checked equal before timing. Each call is
timed twice: wall clock and the thread's CPU time (``time.thread_time``). On a loaded
machine a long call is more likely to be preempted than a short one, which flatters the
faster library's wall-clock ratio; the CPU-time ratio does not have that bias.

1. ``nll`` forward + backward (mean over sequences; pytorch-crf: ``-crf(...)``) and
   ``decode`` (Viterbi; pytorch-crf returns lists) at batch 64 × length 50 × 20 tags with
   random lengths 10–50 (targets: nll ≤ 0.5×, decode ≤ 0.2× pytorch-crf's time), and at
   batch 256 × length 100 × 9 tags (lengths 10–100).
2. How the times grow with the length (25, 50, 100, 200; 20 tags) and with the number of
   tags (5, 10, 20, 40; length 50), batch 64, lengths uniform in [10, length].
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable

import torch

from _util import markdown_table
from danlu.nn.crf import CRF

TITLE = "## CRF: danlu.nn.CRF vs pytorch-crf (CPU, float32, 1 thread)"


def _problem(batch: int, length: int, tags: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.randint(min(10, length), length + 1, (batch,), generator=gen)
    lengths[0] = length  # pytorch-crf needs the first position valid; keep T = max length
    mask = torch.arange(length)[None, :] < lengths[:, None]
    emissions = torch.randn(batch, length, tags, generator=gen, requires_grad=True)
    gold = torch.randint(tags, (batch, length), generator=gen).masked_fill(~mask, 0)
    return emissions, gold, mask


def _pair(num_tags: int):
    from torchcrf import CRF as TorchCRF

    ours = CRF(num_tags)
    theirs = TorchCRF(num_tags, batch_first=True)
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            p.copy_(getattr(ours, name))
    return ours, theirs


def _interleaved_wall_and_cpu(
    fns: dict[str, Callable[[], object]], warmup: int, repeat: int
) -> dict[str, tuple[float, float]]:
    """Median (wall s, thread CPU s) per function, calling them in turn.

    Python's garbage collector is paused while timing, as ``timeit`` does: pytorch-crf's
    decode builds many Python lists, and the collections they trigger otherwise land in
    whichever call happens to run next (often danlu's).
    """
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    wall: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeat):
            for name, fn in fns.items():
                w0, c0 = time.perf_counter(), time.thread_time()
                fn()
                cpu[name].append(time.thread_time() - c0)
                wall[name].append(time.perf_counter() - w0)
    finally:
        gc.enable()
    return {k: (statistics.median(wall[k]), statistics.median(cpu[k])) for k in fns}


def _measure(
    batch: int, length: int, tags: int, repeat: int, warmup: int
) -> dict[str, tuple[float, float]]:
    emissions, gold, mask = _problem(batch, length, tags)
    ours, theirs = _pair(tags)
    # same results first: the loss, and the decoded paths (up to float32 near-ties)
    torch.testing.assert_close(
        ours.nll(emissions, gold, mask, "sum"), -theirs(emissions, gold, mask), rtol=1e-4, atol=1e-2
    )
    paths, _ = ours.decode(emissions, mask)
    same = sum(
        paths[b, : len(p)].tolist() == p for b, p in enumerate(theirs.decode(emissions, mask))
    )
    assert same >= 0.99 * batch, f"decoded paths differ in {batch - same} of {batch} sequences"

    def nll_ours() -> None:
        emissions.grad = None
        ours.nll(emissions, gold, mask).backward()

    def nll_theirs() -> None:
        emissions.grad = None
        (-theirs(emissions, gold, mask, reduction="mean")).backward()

    nll: dict[str, Callable[[], object]] = {"nll danlu": nll_ours, "nll torchcrf": nll_theirs}
    decode: dict[str, Callable[[], object]] = {
        "decode danlu": lambda: ours.decode(emissions, mask),
        "decode torchcrf": lambda: theirs.decode(emissions, mask),
    }
    # each operation is interleaved with its own reference only: mixing the training step's
    # large allocations into the decode timings measured the allocator, not the decoders
    return {
        **_interleaved_wall_and_cpu(nll, warmup=warmup, repeat=repeat),
        **_interleaved_wall_and_cpu(decode, warmup=warmup, repeat=repeat),
    }


def _row(label: str, times: dict[str, tuple[float, float]]) -> list[object]:
    row: list[object] = [label]
    for op in ("nll", "decode"):
        (ours, ours_cpu), (theirs, theirs_cpu) = times[f"{op} danlu"], times[f"{op} torchcrf"]
        row += [theirs * 1e3, ours * 1e3, ours / theirs, ours_cpu / theirs_cpu]
    return row


HEADERS = [
    "shape",
    "pytorch-crf nll ms",
    "danlu nll ms",
    "ratio nll",
    "ratio nll (CPU time)",
    "pytorch-crf decode ms",
    "danlu decode ms",
    "ratio decode",
    "ratio decode (CPU time)",
]


def run(quick: bool = False) -> str:
    """Markdown section: the two headline shapes, then scaling in length and tag count."""
    try:
        import torchcrf  # noqa: F401
    except ImportError:
        return f"{TITLE}\n\nSkipped: pytorch-crf (torchcrf) is not installed.\n"
    repeat, warmup = (5, 1) if quick else (25, 3)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        headline = []
        targets = {}
        for batch, length, tags in ((64, 50, 20), (256, 100, 9)):
            times = _measure(batch, length, tags, repeat, warmup)
            headline.append(_row(f"B={batch} T={length} K={tags}", times))
            targets[(batch, length, tags)] = headline[-1]
        by_length = [
            _row(f"T={t}", _measure(64, t, 20, repeat, warmup)) for t in (25, 50, 100, 200)
        ]
        by_tags = [_row(f"K={k}", _measure(64, 50, k, repeat, warmup)) for k in (5, 10, 20, 40)]
    finally:
        torch.set_num_threads(before)
    main = targets[(64, 50, 20)]

    def verdict(name: str, wall: float, cpu: float, target: float) -> str:
        met = (
            "met"
            if max(wall, cpu) <= target
            else ("met in wall time only" if wall <= target else "NOT met")
        )
        return f"{name} ratio {wall:.3f} wall / {cpu:.3f} CPU (target ≤ {target}: {met})"

    verdicts = (
        "Targets at B=64 T=50 K=20: "
        + verdict("nll", main[3], main[4], 0.5)  # type: ignore[arg-type]
        + "; "
        + verdict("decode", main[7], main[8], 0.2)  # type: ignore[arg-type]
        + "."
    )
    return "\n\n".join(
        [
            TITLE,
            "Reference: pytorch-crf 0.7 (`torchcrf.CRF`, batch_first) with parameters copied "
            "from danlu; nll = forward + backward of the mean loss, decode = Viterbi incl. "
            "back-tracking. Median wall ms of interleaved runs; ratio = danlu / pytorch-crf "
            "(lower is better), from wall time and from thread CPU time. Outputs are checked "
            "equal before timing.",
            markdown_table(HEADERS, headline),
            verdicts,
            "Growth with length (B=64, K=20, lengths uniform in [10, T]):",
            markdown_table(HEADERS, by_length),
            "Growth with the number of tags (B=64, T=50):",
            markdown_table(HEADERS, by_tags),
        ]
    )


if __name__ == "__main__":
    import sys

    print(run(quick="--quick" in sys.argv))
