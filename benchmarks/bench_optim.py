"""danlu.optim step times against torch.optim and pytorch-optimizer, measured in one run.

Three tables (issue 3):

1. Adam / AdamW / SGD-momentum step on a ~10M-parameter MLP (float32, CPU), danlu's
   default foreach path vs ``torch.optim`` with ``foreach=True``. Target ratio <= 1.05.
2. Lookahead(Adam, k=5) overhead over its inner Adam, danlu and ``pytorch_optimizer``
   side by side. Target <= 10 % extra step time. A timed call is k steps, so every call
   includes exactly one synchronisation.
3. ``Lazy(Adam, mode="sparse")`` on a 1,000,000 x 100 embedding with 1 % of rows in the
   (sparse, uncoalesced) gradient, vs dense Adam on the same gradient densified and vs
   ``torch.optim.SparseAdam``. Targets: >= 20x faster than dense, <= 1.0x SparseAdam.

Only ``optimizer.step()`` is timed: gradients are fixed tensors set once, so forward and
backward costs do not dilute the ratios. torch runs on ``THREADS`` intra-op threads (see
below), restored afterwards.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from _util import interleaved, markdown_table
from danlu.optim import SGD, Adam, AdamW, Lazy, Lookahead

MLP_SIZES = (1024, 2048, 2048, 1536, 512)  # 10.2M parameters
VOCAB, DIM, TOUCHED = 1_000_000, 100, 10_000
# One intra-op thread: on a shared machine, a parallel region waiting for a busy core costs
# milliseconds per op, which would measure the scheduler instead of the optimizers. Both
# sides of every ratio run under the same setting.
THREADS = 1


def _mlp() -> nn.Module:
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(MLP_SIZES):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def _with_grads(model: nn.Module) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    params = list(model.parameters())
    for p in params:
        p.grad = torch.randn(p.shape, generator=gen) * 1e-3
    return params


def _mlp_table(repeat: int) -> tuple[str, int]:
    cases = {
        "Adam": (lambda ps: Adam(ps, lr=1e-4), lambda ps: torch.optim.Adam(ps, 1e-4, foreach=True)),
        "AdamW": (
            lambda ps: AdamW(ps, lr=1e-4, weight_decay=0.01),
            lambda ps: torch.optim.AdamW(ps, 1e-4, weight_decay=0.01, foreach=True),
        ),
        "SGD momentum 0.9": (
            lambda ps: SGD(ps, lr=1e-4, momentum=0.9),
            lambda ps: torch.optim.SGD(ps, lr=1e-4, momentum=0.9, foreach=True),
        ),
    }
    rows = []
    n_params = 0
    for name, (make_danlu, make_torch) in cases.items():
        p_danlu, p_torch = _with_grads(_mlp()), _with_grads(_mlp())
        n_params = sum(p.numel() for p in p_danlu)
        danlu, ref = make_danlu(p_danlu), make_torch(p_torch)
        t = interleaved({"danlu": danlu.step, "torch": ref.step}, warmup=3, repeat=repeat)
        ratio = t["danlu"] / t["torch"]
        rows.append(
            [name, t["danlu"] * 1e3, t["torch"] * 1e3, ratio, "yes" if ratio <= 1.05 else "no"]
        )
        del danlu, ref, p_danlu, p_torch
    headers = ["optimizer", "danlu ms/step", "torch.optim foreach ms/step", "danlu/torch", "≤ 1.05"]
    return markdown_table(headers, rows), n_params


def _lookahead_table(repeat: int, k: int = 5) -> str:
    from pytorch_optimizer import Lookahead as POLookahead

    p_inner, p_la = _with_grads(_mlp()), _with_grads(_mlp())
    p_tinner, p_po = _with_grads(_mlp()), _with_grads(_mlp())
    optimizers = {
        "danlu Adam": Adam(p_inner, lr=1e-4),
        "danlu Lookahead(Adam)": Lookahead(Adam(p_la, lr=1e-4), k=k, alpha=0.5),
        "torch Adam": torch.optim.Adam(p_tinner, lr=1e-4, foreach=True),
        "pytorch_optimizer Lookahead(torch Adam)": POLookahead(
            torch.optim.Adam(p_po, lr=1e-4, foreach=True), k=k, alpha=0.5
        ),
    }

    def k_steps(opt: torch.optim.Optimizer):  # one timed call = k steps = one sync
        def run() -> None:
            for _ in range(k):
                opt.step()

        return run

    t = interleaved({n: k_steps(o) for n, o in optimizers.items()}, warmup=2, repeat=repeat)
    per_step = {n: v / k * 1e3 for n, v in t.items()}
    danlu_over = t["danlu Lookahead(Adam)"] / t["danlu Adam"] - 1
    po_over = t["pytorch_optimizer Lookahead(torch Adam)"] / t["torch Adam"] - 1
    rows = [
        [
            "danlu",
            per_step["danlu Adam"],
            per_step["danlu Lookahead(Adam)"],
            f"{danlu_over:+.1%}",
            "yes" if danlu_over <= 0.10 else "no",
        ],
        [
            "pytorch_optimizer (inner torch.optim.Adam foreach)",
            per_step["torch Adam"],
            per_step["pytorch_optimizer Lookahead(torch Adam)"],
            f"{po_over:+.1%}",
            "",
        ],
    ]
    headers = ["implementation", "inner Adam ms/step", "Lookahead ms/step", "overhead", "≤ 10 %"]
    return markdown_table(headers, rows)


def _sparse_grad() -> torch.Tensor:
    """An uncoalesced (VOCAB, DIM) gradient as nn.Embedding(sparse=True) makes it."""
    gen = torch.Generator().manual_seed(2)
    rows = torch.randperm(VOCAB, generator=gen)[:TOUCHED]
    tokens = torch.cat([rows, rows[torch.randint(TOUCHED, (TOUCHED // 5,), generator=gen)]])
    values = torch.randn(tokens.numel(), DIM, generator=gen) * 1e-3
    return torch.sparse_coo_tensor(tokens[None], values, (VOCAB, DIM), check_invariants=True)


def _lazy_table(repeat: int) -> str:
    grad = _sparse_grad()

    def table(seed: int) -> nn.Parameter:
        torch.manual_seed(seed)
        return nn.Parameter(torch.randn(VOCAB, DIM) * 0.01)

    w_lazy, w_sparse_adam, w_dense, w_torch = table(0), table(0), table(0), table(0)
    w_lazy.grad = grad
    w_sparse_adam.grad = grad
    w_dense.grad = grad.to_dense()
    w_torch.grad = w_dense.grad
    optimizers = {
        "lazy": Lazy(Adam([w_lazy], lr=1e-3), mode="sparse"),
        "sparse_adam": torch.optim.SparseAdam([w_sparse_adam], lr=1e-3),
        "dense": Adam([w_dense], lr=1e-3),
        "dense_torch": torch.optim.Adam([w_torch], lr=1e-3, foreach=True),
    }
    t = interleaved(
        {n: o.step for n, o in optimizers.items()}, warmup=2, repeat=max(5, repeat // 2)
    )
    lazy_ms = t["lazy"] * 1e3
    speedup = t["dense"] / t["lazy"]
    speedup_torch = t["dense_torch"] / t["lazy"]
    vs_sparse = t["lazy"] / t["sparse_adam"]
    rows = [
        [
            "dense Adam (danlu, foreach)",
            t["dense"] * 1e3,
            lazy_ms,
            f"{speedup:.1f}x faster",
            "≥ 20x faster",
            "yes" if speedup >= 20 else "no",
        ],
        [
            "dense torch.optim.Adam (foreach), for context",
            t["dense_torch"] * 1e3,
            lazy_ms,
            f"{speedup_torch:.1f}x faster",
            "",
            "",
        ],
        [
            "torch.optim.SparseAdam",
            t["sparse_adam"] * 1e3,
            lazy_ms,
            f"{vs_sparse:.2f}x the time",
            "≤ 1.0x",
            "yes" if vs_sparse <= 1.0 else "no",
        ],
    ]
    headers = ["reference", "reference ms/step", "Lazy sparse ms/step", "ratio", "target", "met"]
    return markdown_table(headers, rows)


def run(quick: bool = False) -> str:
    """Return the Markdown section with the three tables (torch runs on THREADS threads)."""
    repeat = 5 if quick else 30
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    try:
        with torch.no_grad():
            mlp, n_params = _mlp_table(repeat)
            lookahead = _lookahead_table(max(3, repeat // 3))
            lazy = _lazy_table(repeat)
    finally:
        torch.set_num_threads(previous_threads)
    return "\n".join(
        [
            "## danlu.optim: optimizer step time",
            "",
            f"Only `optimizer.step()` is timed (gradients fixed), float32 on CPU, "
            f"torch threads: {THREADS}, medians of interleaved repeats.",
            "",
            f"### Step time on a {n_params / 1e6:.1f}M-parameter MLP "
            f"({' → '.join(map(str, MLP_SIZES))}): danlu vs torch.optim (foreach)",
            "",
            mlp,
            "",
            "### Lookahead (k=5, α=0.5) overhead over its inner Adam",
            "",
            lookahead,
            "",
            f'### Lazy(Adam, mode="sparse") on a {VOCAB:,} × {DIM} embedding, '
            f"{TOUCHED:,} rows (1 %) in the gradient",
            "",
            lazy,
            "",
        ]
    )


if __name__ == "__main__":
    print(run(quick=True))
