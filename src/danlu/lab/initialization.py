"""Claims of the notes about initialization: Xavier's variance argument, the geometric view.

Both claims are mathematical and run on synthetic data: a deep stack of square layers
initialized with :mod:`danlu.functional.init` fed with standard normal inputs, and random
Gaussian vectors and matrices.

References: Glorot & Bengio, "Understanding the difficulty of training deep feedforward
neural networks", 2010; He et al., "Delving Deep into Rectifiers", 2015; Su Jianlin,
"从几何视角来理解模型参数的初始化策略", 2020 (note 004).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from danlu.functional import geometric_normal_, he_normal_, xavier_normal_
from danlu.lab.claim import Claim, Result, verdict_of
from danlu.lab.plots import panels
from danlu.lab.stats import mean_sd, pm

__all__ = ["CLAIMS", "cosine_sample", "layer_variances"]

# ------------------------------------------ (15) Xavier keeps variance for tanh, not for ReLU

_INITS: dict[str, Callable[..., Tensor]] = {"Xavier": xavier_normal_, "He": he_normal_}
_ACTS: dict[str, Callable[[Tensor], Tensor]] = {"tanh": torch.tanh, "ReLU": torch.relu}
_BAND = 10.0  # "keeps": the last layer's variance within a factor 10 of the first layer's


def layer_variances(act: Callable[[Tensor], Tensor], init: Callable[..., Tensor], depth: int,
                    width: int, batch: int, generator: torch.Generator
                    ) -> tuple[list[float], list[float]]:  # fmt: skip
    """Per-layer variance of the pre-activations and of their gradients in a deep square stack.

    a_0 = x ~ N(0, I), h_l = W_l a_{l-1}, a_l = act(h_l) for l = 1..depth (no biases), each
    W_l (width, width) filled by ``init``; the loss L = Σ r ⊙ a_depth with r ~ N(0, 1) gives
    the top a unit-variance gradient. Returns ([Var h_l], [Var ∂L/∂h_l]) for l = 1..depth,
    each the variance over the batch and the units.
    """
    a = torch.randn(batch, width, generator=generator).requires_grad_(True)  # (B, n)
    hs = []
    for _ in range(depth):
        w = init(torch.empty(width, width), generator=generator)  # (n, n)
        h = a @ w.T  # (B, n)
        h.retain_grad()
        hs.append(h)
        a = act(h)
    r = torch.randn(batch, width, generator=generator)
    (a * r).sum().backward()
    return [float(h.detach().var()) for h in hs], [float(h.grad.var()) for h in hs]


def _xavier(quick: bool) -> Result:
    seeds = range(2 if quick else 5)
    depth, width, batch = (20, 64, 128) if quick else (20, 256, 1024)
    # (act, init) -> per seed: (activation variances, gradient variances), each per layer
    runs: dict[tuple[str, str], list[tuple[list[float], list[float]]]] = {}
    for seed in seeds:
        for act in _ACTS:
            for init in _INITS:
                gen = torch.Generator().manual_seed(seed)
                runs.setdefault((act, init), []).append(
                    layer_variances(_ACTS[act], _INITS[init], depth, width, batch, gen)
                )

    def ratios(act: str, init: str, which: int) -> list[float]:
        """Per seed: variance at layer ``depth`` over layer 1 (forward), or layer 1 over layer
        ``depth`` (gradients, which flow from the top)."""
        out = []
        for run in runs[act, init]:
            v = run[which]
            out.append(v[-1] / v[0] if which == 0 else v[0] / v[-1])
        return out

    def kept(values: Sequence[float]) -> bool:
        return all(1 / _BAND <= v <= _BAND for v in values)

    tanh_act, tanh_grad = kept(ratios("tanh", "Xavier", 0)), kept(ratios("tanh", "Xavier", 1))
    relu_lost = not (kept(ratios("ReLU", "Xavier", 0)) and kept(ratios("ReLU", "Xavier", 1)))
    verdict = verdict_of(tanh_act and tanh_grad and relu_lost,
                         partly=relu_lost and (tanh_act or tanh_grad))  # fmt: skip
    fig, axes = panels(2)
    layers = np.arange(1, depth + 1)
    styles = {"Xavier": "-", "He": "--"}
    colors = {"tanh": "tab:blue", "ReLU": "tab:red"}
    for which, ax in enumerate(axes):
        for (act, init), found in runs.items():
            mean = np.exp(np.mean([np.log(run[which]) for run in found], 0))  # geometric mean
            ax.semilogy(layers, mean, styles[init], color=colors[act], marker="o", ms=3,
                        label=f"{act}, {init}")  # fmt: skip
        ax.axhspan(1 / _BAND, _BAND, color="grey", alpha=0.12, lw=0)
        ax.set(xlabel="layer l", xticks=layers[::2])
        ax.legend(fontsize=8)
    axes[0].set(title=f"forward: Var(h_l), width {width}", ylabel="variance")
    axes[1].set(title="backward: Var(∂L/∂h_l), from the top", ylabel="variance")
    numbers: dict[str, Any] = {"seeds": len(seeds), "depth": depth, "width": width,
                               "batch": batch, "band": _BAND}  # fmt: skip
    for act, init in runs:
        numbers[f"{act}, {init}: Var(h_{depth}) / Var(h_1) (mean, sd)"] = list(
            mean_sd(ratios(act, init, 0))
        )
        numbers[f"{act}, {init}: Var(g_1) / Var(g_{depth}) (mean, sd)"] = list(
            mean_sd(ratios(act, init, 1))
        )

    def said(act: str, init: str) -> str:
        return (f"{act} with {init}: activations ×{pm(ratios(act, init, 0))}, "
                f"gradients ×{pm(ratios(act, init, 1))}")  # fmt: skip

    condition = {
        "confirmed": "Xavier keeps both variances of the tanh net within a factor "
        f"{_BAND:g} and loses the ReLU net's",
        "partly": "Xavier loses the ReLU net's variance, but keeps only the tanh net's "
        + ("activation" if tanh_act else "gradient")
        + f" variance within a factor {_BAND:g}",
        "refuted": (
            f"Xavier keeps neither variance of the tanh stack within a factor {_BAND:g}: "
            "tanh contracts, and at weight variance 1/n the mean-field recursion "
            "q_{l+1} = E tanh²(√q_l z) ≈ q_l − 2q_l² lets the variance fall like 1/(2l), "
            "polynomially, where ReLU's falls like 2^-l"
            if relu_lost
            else "Xavier keeps the ReLU stack's variance as well"
        ),
    }[verdict]
    explanation = (
        f"A {depth}-layer square stack (width {width}, no biases) fed with N(0, 1) inputs, "
        f"{len(seeds)} seed(s); the ratio of the variance at layer {depth} to layer 1 "
        f"(forward, pre-activations) and at layer 1 to layer {depth} (backward, gradients "
        f"w.r.t. the pre-activations): {said('tanh', 'Xavier')}; {said('ReLU', 'Xavier')}; "
        f"{said('ReLU', 'He')}; {said('tanh', 'He')}. For a square layer Xavier's variance "
        "2/(fan_in + fan_out) is 1/n, which holds a linear (or tanh near 0) signal steady; "
        "ReLU passes half the signal's second moment, so it halves per layer unless the "
        f"variance is doubled (He). Verdict {verdict}: {condition}."
    )  # fmt: skip
    return Result(verdict, numbers, explanation, fig)


# ------------------------------------ (16) random high-dimensional vectors are nearly orthogonal

_MATRIX_MAX = 2048  # largest d×d matrix drawn (float32: 16 MB)


def cosine_sample(dim: int, pairs: int, generator: torch.Generator) -> Tensor:
    """Cosines of ``pairs`` pairs of independent N(0, I_dim) vectors: (pairs,).

    The direction of a Gaussian vector is uniform on the sphere, and for uniform directions
    E[cos²] = 1/d exactly (by symmetry the d squared coordinates of a unit vector share 1),
    so the cosine has mean 0 and sd 1/√d: in high dimension it concentrates at 0 (90°).
    """
    rows = max(1, 2**20 // dim)  # pairs per chunk: two (rows, dim) blocks of ≤ 2**20 numbers
    out = []
    for start in range(0, pairs, rows):
        k = min(rows, pairs - start)
        # drawn in float32 (several times faster), the cosine summed in float64
        u = torch.randn(k, dim, generator=generator).double()  # (k, d)
        v = torch.randn(k, dim, generator=generator).double()
        out.append(torch.nn.functional.cosine_similarity(u, v, dim=-1))
    return torch.cat(out)


def _orthogonal(quick: bool) -> Result:
    seeds = range(2 if quick else 5)
    dims = (2, 8, 32, 128, 512) if quick else (2, 8, 32, 128, 512, 2048, 8192)
    pairs, probes = (500, 100) if quick else (4000, 1000)
    near = 0.1  # |cos| < 0.1: the angle is within 90° ± 5.7°
    sd_ratio: dict[int, list[float]] = {d: [] for d in dims}  # sd(cos)·√d per seed
    within: dict[int, list[float]] = {d: [] for d in dims}  # P(|cos| < 0.1) per seed
    norm_ratio: dict[int, list[float]] = {d: [] for d in dims}  # sd(‖Wx‖/‖x‖)·√(2d) per seed
    cos_seed0: dict[int, Tensor] = {}
    for seed in seeds:
        gen = torch.Generator().manual_seed(seed)
        for d in dims:
            cos = cosine_sample(d, pairs, gen)
            cos_seed0.setdefault(d, cos)
            sd_ratio[d].append(float(cos.std() * math.sqrt(d)))
            within[d].append(float((cos.abs() < near).double().mean()))
            if d > _MATRIX_MAX:
                continue
            # the geometric initialization: W ~ N(0, 1/d) is nearly an isometry
            w = geometric_normal_(torch.empty(d, d), generator=gen)  # (d, d)
            x = torch.randn(probes, d, generator=gen)  # (k, d)
            stretch = (x @ w.T).norm(dim=-1) / x.norm(dim=-1)  # (k,)
            norm_ratio[d].append(float(stretch.std() * math.sqrt(2 * d)))
    top = dims[-1]
    spread_ok = all(0.9 <= r <= 1.1 for d in dims for r in sd_ratio[d])
    orthogonal_ok = all(p >= 0.99 for p in within[top])
    isometry_ok = all(0.9 <= r <= 1.1 for d in dims if d >= 32 for r in norm_ratio[d])
    mats = [d for d in dims if d <= _MATRIX_MAX]
    verdict = verdict_of(spread_ok and orthogonal_ok and isometry_ok,
                         partly=orthogonal_ok)  # fmt: skip
    fig, axes = panels(3)
    for d in [d for d in (2, 32, 512, 8192) if d in dims]:
        axes[0].hist(cos_seed0[d].numpy(), bins=60, range=(-1, 1), density=True,
                     histtype="step", label=f"d = {d}")  # fmt: skip
    axes[0].set(title="cosine of two random vectors", xlabel="cos θ", ylabel="density")
    axes[0].legend(fontsize=8)
    sds = [statistics.mean(sd_ratio[d]) / math.sqrt(d) for d in dims]
    axes[1].loglog(dims, sds, "o", label="measured sd(cos)")
    axes[1].loglog(dims, [1 / math.sqrt(d) for d in dims], "-", lw=0.8, label="1/√d")
    axes[1].set(title="spread of the cosine", xlabel="dimension d", ylabel="sd of cos θ")
    axes[1].legend(fontsize=8)
    stretch_sd = [statistics.mean(norm_ratio[d]) / math.sqrt(2 * d) for d in mats]
    axes[2].loglog(mats, stretch_sd, "o", label="measured sd(‖Wx‖/‖x‖)")
    axes[2].loglog(mats, [1 / math.sqrt(2 * d) for d in mats], "-", lw=0.8, label="1/√(2d)")
    axes[2].set(title="W ~ N(0, 1/d) (geometric init)", xlabel="dimension d",
                ylabel="sd of the norm ratio")  # fmt: skip
    axes[2].legend(fontsize=8)
    numbers: dict[str, Any] = {"seeds": len(seeds), "pairs per dimension": pairs,
                               "vectors per matrix": probes, "dimensions": list(dims)}  # fmt: skip
    numbers["sd(cos)·√d per dimension (mean over seeds)"] = {
        str(d): statistics.mean(sd_ratio[d]) for d in dims
    }
    numbers["P(|cos| < 0.1) per dimension (mean over seeds)"] = {
        str(d): statistics.mean(within[d]) for d in dims
    }
    numbers["sd(‖Wx‖/‖x‖)·√(2d) per dimension (mean over seeds)"] = {
        str(d): statistics.mean(norm_ratio[d]) for d in mats
    }
    worst = max(abs(r - 1) for d in dims for r in sd_ratio[d])
    condition = (
        "random directions concentrate at 90° as 1/√d predicts and a N(0, 1/d) matrix keeps "
        "norms to within 1/√(2d)" if verdict == "confirmed" else
        "random vectors are nearly orthogonal in high dimension, but "
        + ("the 1/√d law" if not spread_ok else "the isometry of the geometric init")
        + " is off by more than 10 %" if verdict == "partly" else
        f"fewer than 99 % of pairs are within 90° ± 5.7° at d = {top}"
    )  # fmt: skip
    explanation = (
        f"{pairs} pairs of N(0, I) vectors per dimension d in {list(dims)}, {len(seeds)} "
        f"seed(s). The sd of their cosine times √d is "
        + ", ".join(f"{statistics.mean(sd_ratio[d]):.3f} (d={d})" for d in dims)
        + f" (largest deviation from 1: {worst:.3f}); the share of pairs within 90° ± 5.7° "
        f"(|cos| < {near}) grows from {statistics.mean(within[dims[0]]):.3f} at d={dims[0]} to "
        f"{statistics.mean(within[top]):.4f} at d={top}. danlu's geometric_normal_ matrix "
        f"W ~ N(0, 1/d) maps random x to ‖Wx‖/‖x‖ with sd ×√(2d) = "
        + ", ".join(f"{statistics.mean(norm_ratio[d]):.3f} (d={d})" for d in mats)
        + f": it is nearly orthogonal for large d. Verdict {verdict}: {condition}."
    )  # fmt: skip
    return Result(verdict, numbers, explanation, fig)


CLAIMS: tuple[Claim, ...] = (
    Claim(
        id="xavier_keeps_variance_tanh",
        theme="initialization",
        sources=("000", "004"),
        quote="常见的自适应初始化策略是Xavier初始化……假设输入数据的均值为0、方差为1,"
        "然后期望输出数据也保持均值为0、方差为1",
        protocol="A 20-layer square stack (width 256, no biases, batch 1024 of N(0, 1) "
        "inputs), weights from danlu.functional.xavier_normal_ or he_normal_, activation tanh "
        "or ReLU; 5 seeds. Per layer: the variance of the pre-activations h_l and of the "
        "gradients ∂L/∂h_l for L = Σ r ⊙ a_20, r ~ N(0, 1); ratios Var(h_20)/Var(h_1) and "
        "Var(g_1)/Var(g_20).",
        criterion="A variance is kept when the ratio lies in [1/10, 10] in every seed. "
        "Confirmed if Xavier keeps both the activation and the gradient variance of the tanh "
        "stack and fails to keep at least one of the ReLU stack's; partly if the ReLU stack "
        "loses one while the tanh stack keeps only one of its two; refuted otherwise.",
        run=_xavier,
    ),
    Claim(
        id="random_vectors_orthogonal",
        theme="initialization",
        sources=("004",),
        quote="推论1: 高维空间中的任意两个随机向量几乎都是垂直的。",
        protocol="4,000 pairs of N(0, I_d) vectors for d in 2, 8, 32, 128, 512, 2048, 8192, 5 "
        "seeds: the sd of their cosine against the prediction 1/√d, and the share within "
        "90° ± 5.7° (|cos| < 0.1). The geometric view of initialization: a d×d matrix from "
        "danlu.functional.geometric_normal_ (N(0, 1/d)) applied to 1,000 random x; the sd of "
        "‖Wx‖/‖x‖ against 1/√(2d), for d ≤ 2048.",
        criterion="Confirmed if in every seed sd(cos)·√d lies in [0.9, 1.1] for every d, at "
        "least 99 % of pairs have |cos| < 0.1 at d = 8192, and sd(‖Wx‖/‖x‖)·√(2d) lies in "
        "[0.9, 1.1] for every matrix size d from 32 to 2048; partly if only the 99 % holds; "
        "refuted otherwise.",
        run=_orthogonal,
    ),
)
