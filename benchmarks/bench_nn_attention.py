"""Attention benchmarks: danlu vs nn.MultiheadAttention, reference vs fast, local vs full.

1. danlu's fast ``MultiHeadAttention`` (``F.scaled_dot_product_attention``) against
   ``nn.MultiheadAttention`` with the same weights, B=32, T=128, d=256, 8 heads, forward +
   backward, self-attention. Target ratio <= 1.1.
2. danlu's reference path (the four steps, explicit weights) against its fast path.
3. Sliding-window attention (w=64) against full attention as T doubles from 256 to 4096
   (attention core only, B=1, 4 heads, d_k=32, forward + backward, one thread): full
   attention grows ~4x per doubling, local ~2x.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from _util import interleaved, markdown_table
from danlu.nn.attention import MultiHeadAttention
from danlu.nn.local_attention import sliding_window_attention


def _with_threads(n: int, fn: Callable[[], dict[str, float]]) -> dict[str, float]:
    """Run ``fn`` with ``n`` torch threads, then restore the previous count."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        return fn()
    finally:
        torch.set_num_threads(before)


def _mha_tables(repeat: int, warmup: int) -> tuple[str, str]:
    torch.manual_seed(0)
    b, t, d, h = 32, 128, 256, 8
    fast = MultiHeadAttention(d, h)
    reference = MultiHeadAttention(d, h, impl="reference")
    reference.load_state_dict(fast.state_dict())
    theirs = nn.MultiheadAttention(d, h, batch_first=True)
    theirs.load_state_dict(fast.state_dict())
    x = torch.randn(b, t, d, requires_grad=True)

    def step(forward: Callable[[], torch.Tensor]) -> Callable[[], None]:
        def run() -> None:
            forward().sum().backward()

        return run

    fns = {
        "danlu fast": step(lambda: fast(x)),
        "danlu reference": step(lambda: reference(x)),
        "torch need_weights=False": step(lambda: theirs(x, x, x, need_weights=False)[0]),
        "torch default": step(lambda: theirs(x, x, x)[0]),
    }
    torch_rows: list[list[object]] = []
    path_rows: list[list[object]] = []
    for threads in sorted({1, torch.get_num_threads()}):
        times = _with_threads(threads, lambda: interleaved(fns, warmup=warmup, repeat=repeat))
        base, ref = times["danlu fast"], times["danlu reference"]
        for name in ("torch need_weights=False", "torch default"):
            torch_rows.append([threads, name, times[name] * 1e3, base * 1e3, base / times[name]])
        path_rows.append([threads, base * 1e3, ref * 1e3, ref / base])
    vs_torch = markdown_table(
        ["threads", "reference (torch.nn)", "torch ms", "danlu fast ms", "ratio danlu/torch"],
        torch_rows,
    )
    ref_vs_fast = markdown_table(
        ["threads", "fast ms (F.scaled_dot_product_attention)", "reference ms (four steps)",
         "ratio reference/fast"],
        path_rows,
    )  # fmt: skip
    return vs_torch, ref_vs_fast


def _local_table(repeat: int, warmup: int) -> str:
    torch.manual_seed(0)
    h, d_k, window = 4, 32, 64
    lengths = (256, 512, 1024, 2048, 4096)
    fns: dict[str, Callable[[], None]] = {}
    for t in lengths:
        q, k, v = (torch.randn(1, h, t, d_k, requires_grad=True) for _ in range(3))

        def full(q=q, k=k, v=v) -> None:
            F.scaled_dot_product_attention(q, k, v).sum().backward()

        def local(q=q, k=k, v=v) -> None:
            sliding_window_attention(q, k, v, window).sum().backward()

        fns[f"full {t}"], fns[f"local {t}"] = full, local
    # One interleaved run over every length, so machine noise hits all sizes alike; one
    # thread, so the growth shows the algorithm rather than thread wake-ups on a busy machine.
    times = _with_threads(1, lambda: interleaved(fns, warmup=warmup, repeat=repeat))
    rows: list[list[object]] = []
    for i, t in enumerate(lengths):
        t_full, t_local = times[f"full {t}"], times[f"local {t}"]
        growth = ["", ""]
        if i:
            growth = [
                f"{t_full / times[f'full {lengths[i - 1]}']:.2f}x",
                f"{t_local / times[f'local {lengths[i - 1]}']:.2f}x",
            ]
        rows.append([t, t_full * 1e3, growth[0], t_local * 1e3, growth[1], t_full / t_local])
    return markdown_table(
        ["T", "full ms", "full growth", "local ms", "local growth", "full/local"], rows
    )


def run(quick: bool = False) -> str:
    """Markdown section with the three tables."""
    repeat, warmup = (5, 1) if quick else (30, 3)
    vs_torch, ref_vs_fast = _mha_tables(repeat, warmup)
    local = _local_table(5 if quick else 15, 1 if quick else 2)
    return "\n".join(
        [
            "## nn attention",
            "",
            "### MultiHeadAttention vs torch.nn.MultiheadAttention",
            "",
            "Self-attention, B=32, T=128, d=256, 8 heads, float32, forward + backward, same "
            "weights. Target: ratio <= 1.1. `need_weights=False` is torch's fastest setting "
            "(it also calls `F.scaled_dot_product_attention`); the default also returns "
            "averaged weights. Measured with one thread (stable on a shared machine) and "
            "with the default thread count.",
            "",
            vs_torch,
            "",
            "### MultiHeadAttention reference vs fast path",
            "",
            ref_vs_fast,
            "",
            "### Local (window 64) vs full attention as T doubles",
            "",
            "Attention core only (no projections), B=1, 4 heads, d_k=32, forward + backward, "
            "one torch thread. Full attention (`F.scaled_dot_product_attention`) should grow "
            "~4x per doubling (quadratic), local (`sliding_window_attention`) ~2x (linear).",
            "",
            local,
            "",
        ]
    )


if __name__ == "__main__":
    print(run(quick=True))
