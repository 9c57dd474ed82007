"""Reference vs fast path for LSTM, GRU, BatchNorm and LayerNorm: forward + backward time.

The reference paths (``impl="reference"``) run the equations from the notes step by step;
the fast paths (``impl="torch"``, the default the tasks use) call PyTorch's fused kernels
(``nn.LSTM``/``nn.GRU``, ``F.batch_norm``, ``F.layer_norm``). The ratio says how much the
readability costs. One more row checks that danlu's fast LSTM adds nothing over a plain
``nn.LSTM`` (ratio ≈ 1).

Usage: ``python benchmarks/run_all.py --only nn_core [--quick]``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from _util import interleaved, markdown_table
from danlu.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from danlu.nn.recurrent import GRU, LSTM


def _step(module: nn.Module, x: torch.Tensor) -> Callable[[], object]:
    """One forward + backward pass of ``module`` on ``x`` (gradients w.r.t. x and weights)."""
    x = x.detach().requires_grad_()

    def run() -> object:
        out = module(x)
        out = out[0] if isinstance(out, tuple) else out
        out.sum().backward()
        module.zero_grad(set_to_none=True)
        x.grad = None
        return out

    return run


def _compare(
    build: Callable[[str], nn.Module], x: torch.Tensor, repeat: int
) -> tuple[float, float]:
    """Median seconds of (reference, fast) with identical weights, measured interleaved."""
    torch.manual_seed(0)
    fast = build("torch")
    reference = build("reference")
    reference.load_state_dict(fast.state_dict())
    times = interleaved(
        {"reference": _step(reference, x), "torch": _step(fast, x)}, warmup=2, repeat=repeat
    )
    return times["reference"], times["torch"]


def run(quick: bool = False) -> str:
    repeat = 3 if quick else 10
    torch.manual_seed(0)
    batch, steps, size = 32, 50, 256
    seq = torch.randn(steps, batch, size)  # (T, B, I)
    rnn = f"T={steps}, B={batch}, I=H={size}"
    bidir: dict[str, object] = {"bidirectional": True}
    # (row name, size, module class, constructor args, constructor kwargs, input)
    cases: list[tuple[str, str, type[nn.Module], tuple[int, ...], dict[str, object], Tensor]] = [
        ("LSTM", f"{rnn}, 1 layer", LSTM, (size, size), {}, seq),
        ("LSTM", f"T={steps}, B={batch}, I=H=128, 2 layers, bidirectional", LSTM, (128, 128, 2),
         bidir, seq[..., :128]),
        ("GRU", f"{rnn}, 1 layer", GRU, (size, size), {}, seq),
        ("BatchNorm1d", "N=256, C=512", BatchNorm1d, (512,), {}, torch.randn(256, 512)),
        ("BatchNorm2d", "N=32, C=64, 32×32", BatchNorm2d, (64,), {}, torch.randn(32, 64, 32, 32)),
        ("LayerNorm", "B=32, T=128, D=512", LayerNorm, (512,), {}, torch.randn(32, 128, 512)),
    ]  # fmt: skip
    rows: list[list[object]] = []
    for name, shape, cls, args, kwargs, x in cases:
        reps = repeat if cls in (LSTM, GRU) else 4 * repeat  # cheap ops: more samples
        ref, fast = _compare(lambda impl: cls(*args, impl=impl, **kwargs), x, reps)  # noqa: B023
        rows.append([name, shape, ref * 1e3, fast * 1e3, ref / fast])

    # danlu's fast path is nn.LSTM itself: its overhead over a plain nn.LSTM should be ~0.
    torch.manual_seed(0)
    plain = nn.LSTM(size, size)
    ours = LSTM(size, size)
    ours.load_state_dict(plain.state_dict())
    times = interleaved({"ours": _step(ours, seq), "plain": _step(plain, seq)}, repeat=repeat)
    rows.append(
        ["LSTM impl=torch vs nn.LSTM", f"T={steps}, B={batch}, I=H={size}, 1 layer",
         times["ours"] * 1e3, times["plain"] * 1e3, times["ours"] / times["plain"]]
    )  # fmt: skip

    table = markdown_table(
        ["module", "size (float32, CPU)", "reference ms", "fast ms", "ratio reference/fast"],
        rows,
    )
    return (
        "## Core layers: reference vs fast path (forward + backward)\n\n"
        "Reference: PyTorch's fused implementations (`nn.LSTM`/`nn.GRU` kernels, "
        '`F.batch_norm`, `F.layer_norm`), which are danlu\'s `impl="torch"` fast paths, '
        'timed interleaved with danlu\'s `impl="reference"` paths (the equations, step by '
        "step) on identical weights. Times are medians of forward + backward. The last row "
        "compares danlu's fast LSTM with a plain `nn.LSTM` (ratio ≈ 1 means no overhead).\n\n"
        f"{table}\n"
    )


if __name__ == "__main__":
    print(run(quick=True))
