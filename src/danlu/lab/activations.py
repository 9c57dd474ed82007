"""Claims of the notes about activations: sigmoid's saturation and its non-zero-centred output,
ReLU's speed, dying ReLUs and the leaky variants that should avoid them.

Every network is a :class:`danlu.nn.MLP` whose activation comes from danlu's registry by name
(:data:`danlu.nn.ACTIVATIONS`, the names of :data:`danlu.names.ACTIVATIONS`), initialized with
:func:`danlu.nn.init_weights` (Xavier for sigmoid/tanh, He for the ReLU family) and trained
with :class:`danlu.optim.SGD` on a subset of MNIST's training file (the claims are about how
real networks train).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from danlu.lab.claim import Claim, Result, verdict_of
from danlu.lab.data import mnist_rows
from danlu.lab.plots import panels
from danlu.lab.stats import at_least, mean_sd
from danlu.nn import ACTIVATIONS, MLP, Inspector, init_weights
from danlu.optim import SGD

__all__ = [
    "CLAIMS",
    "never_positive_fraction",
    "path_inefficiency",
    "same_sign_fraction",
    "steps_to_threshold",
]

# ------------------------------------------------------------------------------ shared parts

_INIT = {"sigmoid": "xavier_normal", "tanh": "xavier_normal"}  # the rest: he_normal


def _mlp(activation: str, hidden: Sequence[int], seed: int) -> MLP:
    """784 -> hidden -> 10 with ``activation`` from danlu's registry and its usual init."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; valid: {', '.join(ACTIVATIONS)}")
    model = MLP(784, 10, hidden=tuple(hidden), activation=activation)
    g = torch.Generator().manual_seed(seed)
    return init_weights(model, _INIT.get(activation, "he_normal"), generator=g)


def _batches(n: int, batch: int, steps: int, seed: int) -> Tensor:
    """(steps, batch) random example indices in [0, n), reproducible from ``seed``."""
    g = torch.Generator().manual_seed(10_000 + seed)
    return torch.randint(0, n, (steps, batch), generator=g)


# ------------------------------------------------------------ (17) sigmoid kills gradients

_DEPTH = 10  # hidden layers of the deep stack
_SCALES = (1.0, 2.0, 4.0, 8.0)  # sigmoid's Xavier weights multiplied by these


def _gradient_profile(activation: str, scale: float, x: Tensor, y: Tensor, width: int,
                      seed: int) -> tuple[list[float], float | None]:  # fmt: skip
    """‖∂L/∂W_l‖ for l = 1 .. depth+1 (input to output) at initialization, with the weights
    multiplied by ``scale``, and the mean saturated fraction of the activation layers."""
    model = _mlp(activation, (width,) * _DEPTH, seed)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(scale)
    with Inspector(model) as inspector:  # records the one training-mode forward/backward
        F.cross_entropy(model(x), y).backward()
    norms = list(inspector.grad_norms().values())  # (depth + 1,) input to output
    sat = [r.saturated_fraction for r in inspector.activation_stats().values()]
    known = [s for s in sat if s is not None]
    return norms, statistics.mean(known) if known else None


def _sigmoid_kills(quick: bool) -> Result:
    # ratio r = ‖∂L/∂W_1‖ / ‖∂L/∂W_depth‖: first hidden layer against the last hidden one.
    seeds = range(2 if quick else 5)
    width, n = (64, 256) if quick else (128, 512)
    x, y = mnist_rows(0, n)
    profiles: dict[str, list[list[float]]] = {}
    ratios: dict[str, list[float]] = {}
    saturated: dict[str, list[float]] = {}
    runs = [("sigmoid", 1.0), ("tanh", 1.0), ("relu", 1.0)] + [("sigmoid", s) for s in _SCALES[1:]]
    for activation, scale in runs:
        key = activation if scale == 1.0 else f"sigmoid x{scale:g}"
        for seed in seeds:
            norms, sat = _gradient_profile(activation, scale, x, y, width, seed)
            profiles.setdefault(key, []).append(norms)
            ratios.setdefault(key, []).append(norms[0] / norms[_DEPTH - 1])
            if sat is not None:
                saturated.setdefault(key, []).append(sat)
    sig, relu = ratios["sigmoid"], ratios["relu"]
    sat_x4 = saturated["sigmoid x4"]
    vanishes = [r < 1e-3 for r in sig]
    holds = all(vanishes) and all(r > 0.1 for r in relu) and all(s >= 0.5 for s in sat_x4)
    partly = at_least(vanishes, 0.6)
    # geometric-mean shrink of the gradient per hidden layer, from layer depth down to 1
    shrink = {k: statistics.mean((p[_DEPTH - 1] / p[0]) ** (1 / (_DEPTH - 1)) for p in v)
              for k, v in profiles.items()}  # fmt: skip

    fig, (a, b) = panels(2)
    layers = np.arange(1, _DEPTH + 2)
    for key in ("sigmoid", "tanh", "relu", "sigmoid x4"):
        mean = np.exp(np.log(np.array(profiles[key])).mean(0))  # geometric mean over seeds
        init = "He" if key == "relu" else "Xavier" + (" x4" if key.endswith("x4") else "")
        a.semilogy(layers, mean, "o-", ms=3, label=f"{key.split()[0]} ({init})")
    a.set(title=f"gradient norms at init, {_DEPTH} hidden layers", xlabel="weight matrix "
          "(1 = input side)", ylabel="‖∂L/∂W‖ (geometric mean)")  # fmt: skip
    a.legend(fontsize=8)
    keys = ["sigmoid"] + [f"sigmoid x{s:g}" for s in _SCALES[1:]]
    ratio_label = f"‖∂L/∂W₁‖ / ‖∂L/∂W{_DEPTH}‖"
    b.loglog(_SCALES, [statistics.mean(ratios[k]) for k in keys], "o-", label=ratio_label)
    b.set(title="sigmoid: larger init", xlabel="init scale (x Xavier)", ylabel="gradient ratio")
    b.set_xticks(_SCALES, [f"×{v:g}" for v in _SCALES])
    b.minorticks_off()
    b2 = b.twinx()
    b2.plot(_SCALES, [statistics.mean(saturated[k]) for k in keys], "s--", color="C3",
            label="saturated fraction")  # fmt: skip
    b2.set(ylabel="saturated fraction (σ<0.01 or >0.99)", ylim=(0, 1))
    b.legend(loc="upper left", fontsize=8)
    b2.legend(loc="lower right", fontsize=8)

    numbers: dict[str, Any] = {"seeds": len(seeds), "hidden layers": _DEPTH, "width": width,
                               "batch": n}  # fmt: skip
    for key in ratios:
        numbers[f"{key}: gradient ratio W1/W{_DEPTH} (mean, sd)"] = mean_sd(ratios[key])
        numbers[f"{key}: gradient shrink per layer, input-ward (mean)"] = round(shrink[key], 4)
        if key in saturated:
            numbers[f"{key}: saturated fraction (mean, sd)"] = mean_sd(saturated[key])
    m = {k: statistics.mean(v) for k, v in ratios.items()}
    s = {k: statistics.mean(v) for k, v in saturated.items()}
    bigger = "amplify the backward signal more than saturation removes it" if (
        m["sigmoid x4"] > m["sigmoid"]) else "make it vanish even faster"  # fmt: skip
    cause = ("the loss comes from σ' ≤ ¼ rather than from saturation" if s["sigmoid"] < 0.05
             else "saturation adds to the bound σ' ≤ ¼")  # fmt: skip
    explanation = (
        f"In a {_DEPTH}-hidden-layer MLP at Xavier init the gradient reaching the first sigmoid "
        f"layer is {m['sigmoid']:.1e} times the one at the last hidden layer (ReLU with He init: "
        f"{m['relu']:.2g}, tanh: {m['tanh']:.2g}): it is multiplied by "
        f"{1 / shrink['sigmoid']:.2f} per layer on its way down, and σ'(z) is at most ¼. At that "
        f"init {s['sigmoid']:.2%} of the sigmoid outputs are saturated (σ < 0.01 or > 0.99), so "
        f"{cause}. With the weights four times larger {s['sigmoid x4']:.1%} of the units "
        f"saturate (eight times: {s['sigmoid x8']:.1%}) and the ratio becomes "
        f"{m['sigmoid x4']:.1e} ({m['sigmoid x8']:.1e}): the larger weights {bigger}."
    )
    verdict = verdict_of(holds, partly)
    if verdict == "partly":
        why = []
        if not all(vanishes):
            why.append(f"the ratio is below 1e-3 in only {sum(vanishes)} of {len(sig)} seeds")
        if not all(r > 0.1 for r in relu):
            why.append("ReLU's gradients shrink too")
        if not all(v >= 0.5 for v in sat_x4):
            why.append("a large init does not saturate most units, as the notes say it would")
        explanation += (" Partly: sigmoid's gradients vanish in a deep stack, but "
                        + "; ".join(why) + ".")  # fmt: skip
    return Result(verdict, numbers, explanation, fig)


# ------------------------------------------------------------------ (18) sigmoid zig-zags


def same_sign_fraction(grad: Tensor) -> float:
    """Fraction of the rows of ``grad`` (units, inputs) whose non-zero entries all share one
    sign: units whose incoming weights all move the same way in this step.

    For one example, ∂L/∂w_ij = δ_i a_j; when every input a_j > 0 (sigmoid outputs) each row
    has the sign of δ_i. A row with no non-zero entry does not count as one-signed.

    Example:
        >>> same_sign_fraction(torch.tensor([[1.0, 2.0], [-1.0, 0.0], [1.0, -1.0], [0.0, 0.0]]))
        0.5
    """
    pos, neg = (grad > 0).any(dim=1), (grad < 0).any(dim=1)  # (units,)
    return float((pos ^ neg).float().mean())


def path_inefficiency(path: Tensor) -> Tensor:
    """Path length over displacement of each row's trajectory: Σ_t ‖w_{t+1} − w_t‖ / ‖w_T − w_0‖.

    1 for a straight path; larger when the updates zig-zag.

    Args:
        path: (T+1, units, inputs), the weights before the first step and after each step.

    Returns:
        (units,) the ratio for each unit.

    Example:
        >>> p = torch.tensor([[[0.0, 0.0]], [[1.0, 1.0]], [[2.0, 0.0]]])  # a zig and a zag
        >>> round(float(path_inefficiency(p)[0]), 4)
        1.4142
    """
    length = (path[1:] - path[:-1]).norm(dim=-1).sum(0)  # (units,)
    return length / (path[-1] - path[0]).norm(dim=-1)


def _zigzag_run(activation: str, batch: int, steps: int, x: Tensor, y: Tensor,
                seed: int) -> dict[str, Any]:  # fmt: skip
    """SGD on 784-64-64-10; watch the incoming weights of the second hidden layer, whose
    inputs are the first layer's activations."""
    model = _mlp(activation, (64, 64), seed)
    weight = model.layers[2].weight  # (64 units, 64 inputs): inputs are act(layer 1)
    opt = SGD(model.parameters(), lr=0.1 * math.sqrt(batch / 64))  # lr ∝ √batch
    path, same, losses = [weight.detach().clone()], [], []
    for idx in _batches(len(x), batch, steps, seed):
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        same.append(same_sign_fraction(weight.grad))
        opt.step()
        path.append(weight.detach().clone())
        losses.append(loss.item())
    trajectory = torch.stack(path)  # (steps + 1, 64, 64)
    return {
        "same": statistics.mean(same),
        "inefficiency": float(path_inefficiency(trajectory).mean()),
        "loss": statistics.mean(losses[-50:]),
        "unit_path": trajectory[:200, 0, :2],  # (≤ 200, 2): two weights of unit 0
    }


def _zigzag(quick: bool) -> Result:
    seeds = range(1 if quick else 5)
    steps, n = (40, 1000) if quick else (500, 4000)
    batches = (1, 8, 64)
    x, y = mnist_rows(0, n)
    runs = {(act, b): [_zigzag_run(act, b, steps, x, y, s) for s in seeds]
            for act in ("sigmoid", "tanh") for b in batches}  # fmt: skip
    col = lambda act, b, k: [r[k] for r in runs[act, b]]  # noqa: E731
    mean = lambda act, b, k: statistics.mean(col(act, b, k))  # noqa: E731
    per_seed = list(zip(*(col(a, b, k) for a, b, k in (
        ("sigmoid", 1, "same"), ("tanh", 1, "same"), ("sigmoid", 64, "same"),
        ("tanh", 64, "same"), ("sigmoid", 64, "inefficiency"), ("tanh", 64, "inefficiency"),
    )), strict=True))  # fmt: skip
    bound = [s1 >= 0.9 and t1 <= 0.1 for s1, t1, *_ in per_seed]
    minibatch = [s64 >= 0.5 and s64 >= 5 * t64 and si > 1.1 * ti
                 for _, _, s64, t64, si, ti in per_seed]  # fmt: skip
    holds, partly = at_least(minibatch, 0.8), at_least(bound, 0.8)

    fig, (a, b, c) = panels(3)
    for act in ("sigmoid", "tanh"):
        a.plot(batches, [mean(act, bb, "same") for bb in batches], "o-", label=act)
        b.plot(batches, [mean(act, bb, "inefficiency") for bb in batches], "o-",
                   label=act)  # fmt: skip
        p = runs[act, 1][0]["unit_path"]
        c.plot(p[:, 0] - p[0, 0], p[:, 1] - p[0, 1], ".-", ms=2, lw=0.6, label=act)
    a.set(title="units whose incoming weights\nall move the same way", xlabel="batch size",
          ylabel="fraction of (step, unit)", ylim=(-0.03, 1.03))  # fmt: skip
    b.set(title="path length / displacement\nof a unit's incoming weights", xlabel="batch size",
          ylabel="path inefficiency")  # fmt: skip
    c.set(title=f"two incoming weights of one unit,\nbatch 1, first {min(steps, 199)} steps",
          xlabel="Δw₁", ylabel="Δw₂")  # fmt: skip
    for ax in (a, b):
        ax.set_xscale("log")
        ax.set_xticks(batches, [str(bb) for bb in batches])
        ax.minorticks_off()
    for ax in (a, b, c):
        ax.legend(fontsize=8)

    numbers: dict[str, Any] = {"seeds": len(seeds), "steps": steps, "examples": n}
    for act in ("sigmoid", "tanh"):
        for bb in batches:
            numbers[f"{act}, batch {bb}: one-signed fraction (mean, sd)"] = mean_sd(
                col(act, bb, "same")
            )
            numbers[f"{act}, batch {bb}: path inefficiency (mean, sd)"] = mean_sd(
                col(act, bb, "inefficiency")
            )
            numbers[f"{act}, batch {bb}: final training loss (mean, sd)"] = mean_sd(
                col(act, bb, "loss"))  # fmt: skip
    g = {(act, bb, k): mean(act, bb, k) for act in ("sigmoid", "tanh") for bb in batches
         for k in ("same", "inefficiency", "loss")}  # fmt: skip
    s64, t64 = g["sigmoid", 64, "same"], g["tanh", 64, "same"]
    si, ti = g["sigmoid", 64, "inefficiency"], g["tanh", 64, "inefficiency"]
    sl, tl = g["sigmoid", 64, "loss"], g["tanh", 64, "loss"]
    explanation = (
        f"With one example per step every unit fed by sigmoid outputs moves all its incoming "
        f"weights the same way in {g['sigmoid', 1, 'same']:.0%} of the steps (tanh: "
        f"{g['tanh', 1, 'same']:.0%}), as the notes argue (∂L/∂w_ij = δ_i a_j with a_j > 0). "
        f"Averaged over a minibatch the share is {g['sigmoid', 8, 'same']:.0%} at batch 8 and "
        f"{s64:.0%} at batch 64 (tanh: {t64:.0%}). A unit's weight path is "
        f"{'more' if si > 1.1 * ti else 'not more'} roundabout for sigmoid: path length over "
        f"displacement {si:.2f} against tanh's {ti:.2f} at batch 64 "
        f"({g['sigmoid', 1, 'inefficiency']:.1f} against {g['tanh', 1, 'inefficiency']:.1f} at "
        f"batch 1). After {steps} steps at batch 64 sigmoid's training loss is {sl:.3f} and "
        f"tanh's {tl:.3f}."
    )
    verdict = verdict_of(holds, partly)
    if verdict == "partly":
        explanation += (
            " Partly: the sign binding holds for single-example updates, but in "
            "fewer than 80 % of the seeds does batch 64 keep it (≥ 50 % one-signed, "
            "≥ 5× tanh's) together with a path inefficiency above 1.1× tanh's."
        )
    return Result(verdict, numbers, explanation, fig)


# ------------------------------------------------------------- (19) ReLU converges faster


def steps_to_threshold(losses: Sequence[float], threshold: float, window: int) -> int | None:
    """The first step count t at which the mean of the last ``window`` losses (of steps
    t-window+1 .. t) is at most ``threshold``; None if it never is.

    Example:
        >>> steps_to_threshold([3.0, 2.0, 1.0, 0.5, 0.1], threshold=0.8, window=2)
        4
    """
    total = 0.0
    for t, loss in enumerate(losses, start=1):
        total += loss - (losses[t - 1 - window] if t > window else 0.0)
        if t >= window and total / window <= threshold:
            return t
    return None


def _steps_to(activation: str, lr: float, hidden: Sequence[int], x: Tensor, y: Tensor,
              cap: int, threshold: float, seed: int) -> tuple[int | None, list[float]]:  # fmt: skip
    """SGD with momentum 0.9, batch 64, until the mean of the last 50 batch losses is at most
    ``threshold`` or ``cap`` steps: (the step it got there or None, the batch losses)."""
    model = _mlp(activation, hidden, seed)
    opt = SGD(model.parameters(), lr=lr, momentum=0.9)
    losses: list[float] = []
    for idx in _batches(len(x), 64, cap, seed):
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item() if math.isfinite(loss.item()) else 1e9)
        if losses[-1] >= 1e9:  # diverged: never reaches the threshold
            return None, losses
        if len(losses) >= 50 and sum(losses[-50:]) / 50 <= threshold:
            return len(losses), losses
    return None, losses


def _relu_faster(quick: bool) -> Result:
    acts = ("relu", "tanh", "sigmoid")
    seeds = range(1 if quick else 5)
    lrs = (0.03, 0.1) if quick else (0.01, 0.03, 0.1, 0.3)
    n, hidden, cap, threshold = (1000, (64,) * 3, 150, 0.5) if quick else (5000, (128,) * 3, 3000,
                                                                           0.1)  # fmt: skip
    x, y = mnist_rows(0, n)
    # the learning rate of each activation: the fastest of the grid on seed 0
    grid = {(a, lr): _steps_to(a, lr, hidden, x, y, cap, threshold, 0) for a in acts for lr in lrs}
    best = {a: min(lrs, key=lambda lr: (grid[a, lr][0] or cap + 1, lr)) for a in acts}
    runs = {a: [grid[a, best[a]]] + [_steps_to(a, best[a], hidden, x, y, cap, threshold, s)
                                     for s in seeds if s != 0] for a in acts}  # fmt: skip
    steps = {a: [r[0] if r[0] is not None else cap for r in runs[a]] for a in acts}  # cap: never
    half_sig = [r <= s / 2 for r, s in zip(steps["relu"], steps["sigmoid"], strict=True)]
    half_tanh = [r <= t / 2 for r, t in zip(steps["relu"], steps["tanh"], strict=True)]
    fewer = [r < min(s, t) for r, s, t in zip(steps["relu"], steps["sigmoid"], steps["tanh"],
                                              strict=True)]  # fmt: skip
    both = [p and q for p, q in zip(half_sig, half_tanh, strict=True)]
    holds = at_least(both, 0.8)
    partly = at_least(half_sig, 0.8) or at_least(half_tanh, 0.8) or at_least(fewer, 0.8)

    fig, (a, b, c) = panels(3)
    for k, act in enumerate(acts):
        losses = np.array(runs[act][0][1])
        smooth = np.convolve(losses, np.ones(50) / 50, mode="valid")
        a.semilogy(np.arange(50, len(losses) + 1), smooth, color=f"C{k}",
                   label=f"{act}, lr {best[act]:g}")  # fmt: skip
        b.plot([k] * len(steps[act]), steps[act], "o", color=f"C{k}", alpha=0.6)
        b.errorbar(k + 0.15, statistics.mean(steps[act]), yerr=mean_sd(steps[act])[1], fmt="s",
                   color=f"C{k}", capsize=3)  # fmt: skip
        c.semilogx(lrs, [grid[act, lr][0] or cap for lr in lrs], "o-", color=f"C{k}", label=act)
    a.axhline(threshold, color="grey", ls=":", lw=0.8)
    a.set(title="training loss, seed 0 (mean of 50 batches)", xlabel="step", ylabel="loss")
    a.legend(fontsize=8)
    b.set_xticks(range(len(acts)), acts)
    b.set(title=f"steps to loss ≤ {threshold:g} (cap {cap})", ylabel="steps")
    c.axhline(cap, color="grey", ls=":", lw=0.8)
    c.set(title="learning-rate grid (seed 0)", xlabel="learning rate", ylabel="steps (cap: never)")
    c.legend(fontsize=8)

    numbers: dict[str, Any] = {"seeds": len(seeds), "examples": n, "hidden": list(hidden),
                               "threshold": threshold, "cap": cap}  # fmt: skip
    for act in acts:
        numbers[f"{act}: learning rate (fastest of {list(lrs)})"] = best[act]
        numbers[f"{act}: steps to threshold (mean, sd)"] = mean_sd(steps[act])
        numbers[f"{act}: runs that never reached it"] = sum(r[0] is None for r in runs[act])
    mean = {act: statistics.mean(steps[act]) for act in acts}
    explanation = (
        f"On {n} MNIST images, a {len(hidden)}-hidden-layer MLP with each activation's best "
        f"learning rate from {list(lrs)} (SGD, momentum 0.9, batch 64) needs on average "
        f"{mean['relu']:.0f} steps with ReLU, {mean['tanh']:.0f} with tanh and "
        f"{mean['sigmoid']:.0f} with sigmoid to bring the training loss to {threshold:g}: "
        f"sigmoid needs {mean['sigmoid'] / mean['relu']:.1f}× ReLU's steps and tanh "
        f"{mean['tanh'] / mean['relu']:.1f}×; ReLU took at most half of "
        f"sigmoid's steps in {sum(half_sig)} of {len(half_sig)} seeds and half of tanh's in "
        f"{sum(half_tanh)}, and fewer steps than both in {sum(fewer)}."
    )
    edge = [act for act in acts if best[act] == lrs[-1]]
    if edge:  # the grid may have held it back
        explanation += (f" The fastest rate of {', '.join(edge)} is the largest of the grid, so "
                        "it might be faster still.")  # fmt: skip
    verdict = verdict_of(holds, partly)
    if verdict == "partly":
        explanation += (
            " Partly: ReLU is much faster than "
            + (
                "sigmoid only"
                if at_least(half_sig, 0.8)
                else "tanh only"
                if at_least(half_tanh, 0.8)
                else "neither; it is only somewhat faster than both"
            )
            + " (Krizhevsky et al. report 6× against tanh for a CNN on CIFAR-10)."
        )
    elif verdict == "refuted":
        explanation += (
            " Refuted here: with each activation's own best learning rate, ReLU is neither "
            "twice as fast as sigmoid or tanh nor faster than both in 80 % of the seeds; "
            "Krizhevsky et al.'s 6× was against tanh for a deep CNN on CIFAR-10, not a small "
            "MLP on MNIST."
        )
    return Result(verdict, numbers, explanation, fig)


# ------------------------------------------------------------------- (20) dying ReLUs


def never_positive_fraction(pre: Tensor) -> float:
    """Fraction of units whose pre-activation is ≤ 0 for every example of ``pre`` (N, units).

    For ReLU such a unit outputs 0 and passes no gradient on all of the data: it is dead.
    Leaky ReLU and PReLU units in that state still pass a gradient a·δ (a ≠ 0).

    Example:
        >>> never_positive_fraction(torch.tensor([[-1.0, 2.0, 0.0], [-3.0, -1.0, 0.0]]))
        0.6666666865348816
    """
    return float((pre <= 0).all(dim=0).float().mean())


def _hidden_pre_activations(model: MLP, x: Tensor) -> list[Tensor]:
    """The input of each hidden activation, (N, width) per hidden layer."""
    out, h = [], x
    linear = [m for m in model.layers if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for layer in model.layers:
            h = layer(h)
            if layer in linear[:-1]:
                out.append(h)
    return out


def _dying_run(activation: str, lr: float, x: Tensor, y: Tensor, probe: Tensor, steps: int,
               seed: int) -> tuple[float, list[float]] | None:  # fmt: skip
    """Plain SGD, batch 64; None if the loss stops being finite, else (final mean loss of the
    last 50 batches, never-positive fraction of each hidden layer on ``probe``)."""
    model = _mlp(activation, (128, 128), seed)
    opt = SGD(model.parameters(), lr=lr)
    losses = []
    for idx in _batches(len(x), 64, steps, seed):
        loss = F.cross_entropy(model(x[idx]), y[idx])
        if not torch.isfinite(loss):
            return None
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    pre = _hidden_pre_activations(model, probe)
    if not all(torch.isfinite(p).all() for p in pre):
        return None
    return statistics.mean(losses[-50:]), [never_positive_fraction(p) for p in pre]


def _dying(quick: bool) -> Result:
    acts = ("relu", "leaky_relu", "prelu")
    seeds = range(1 if quick else 5)
    lrs = (0.01, 0.4) if quick else (0.01, 0.1, 0.2, 0.3, 0.4, 0.5)
    n, steps = (2000, 100) if quick else (10_000, 500)
    x, y = mnist_rows(0, n)
    probe = x[:2000]  # the data sample a unit must stay silent on to count as dead
    runs = {(a, lr): [_dying_run(a, lr, x, y, probe, steps, s) for s in seeds]
            for a in acts for lr in lrs}  # fmt: skip

    def dead(act: str, lr: float, layer: int | None = None) -> list[float] | None:
        """Per finished seed: the never-positive fraction of all hidden units (or of one
        layer); None when at least half the seeds diverged."""
        done = [r for r in runs[act, lr] if r is not None]
        if 2 * len(done) < len(runs[act, lr]):
            return None
        return [statistics.mean(r[1]) if layer is None else r[1][layer] for r in done]

    mean = {(a, lr): (statistics.mean(d) if (d := dead(a, lr)) else None)
            for a in acts for lr in lrs}  # fmt: skip
    trained = [lr for lr in lrs if mean["relu", lr] is not None]
    relu_max = max((mean["relu", lr] for lr in trained), default=0.0)
    low = mean["relu", lrs[0]]
    dies = low is not None and low <= 0.05 and relu_max >= 0.20
    # "avoid" at every rate ReLU trains at: a diverged leaky run avoids nothing
    leaky_avoid = all(mean[a, lr] is not None and mean[a, lr] <= 0.05 for a in acts[1:]
                      for lr in trained)  # fmt: skip
    grows = low is not None and bool(trained) and mean["relu", trained[-1]] > low
    holds = dies and leaky_avoid
    partly = (dies and not leaky_avoid) or (grows and relu_max < 0.20)

    fig, (a, b) = panels(2)
    for k, act in enumerate(acts):
        ok = [lr for lr in lrs if mean[act, lr] is not None]
        a.errorbar(ok, [100 * mean[act, lr] for lr in ok],
                   yerr=[100 * mean_sd(dead(act, lr))[1] for lr in ok],
                   fmt="o-", capsize=3, color=f"C{k}", label=act)  # fmt: skip
        b.plot(lrs, [sum(r is None for r in runs[act, lr]) for lr in lrs], "o-", color=f"C{k}",
               label=act)  # fmt: skip
    a.axhline(40, color="grey", ls=":", lw=0.8, label="the notes' 40 %")
    a.set(xscale="log", title="hidden units never positive on 2000 images", xlabel="learning rate",
          ylabel="% of hidden units")  # fmt: skip
    a.legend(fontsize=8)
    b.set(xscale="log", title="runs that diverged", xlabel="learning rate",
          ylabel=f"runs (of {len(seeds)})")  # fmt: skip
    b.legend(fontsize=8)

    numbers: dict[str, Any] = {"seeds": len(seeds), "steps": steps, "examples": n,
                               "hidden": [128, 128], "learning rates": list(lrs)}  # fmt: skip
    for act in acts:
        numbers[f"{act}: never-positive fraction of hidden units by lr (mean)"] = {
            f"{lr:g}": (round(mean[act, lr], 4) if mean[act, lr] is not None else "diverged")
            for lr in lrs}  # fmt: skip
        numbers[f"{act}: never-positive fraction of layer 1 by lr (mean)"] = {
            f"{lr:g}": (round(statistics.mean(d), 4) if (d := dead(act, lr, 0)) else "diverged")
            for lr in lrs}  # fmt: skip
        numbers[f"{act}: diverged runs by lr"] = {
            f"{lr:g}": sum(r is None for r in runs[act, lr]) for lr in lrs
        }
    top = max(trained, key=lambda lr: mean["relu", lr]) if trained else lrs[0]
    layer1 = statistics.mean(dead("relu", top, 0) or [0.0])
    lrs_text = lambda values: ", ".join(f"{v:g}" for v in values) or "none"  # noqa: E731

    def leaky_text(act: str, name: str) -> str:
        ok = [lr for lr in lrs if mean[act, lr] is not None]
        worst = max((mean[act, lr] for lr in ok), default=0.0)
        bad = [lr for lr in lrs if lr not in ok]
        return (f"{name} trains at lr {lrs_text(ok)} with at most {worst:.1%} never-positive "
                f"units" + (f" and diverges at lr {lrs_text(bad)}" if bad else ""))  # fmt: skip

    at_top = {a: f"{mean[a, top]:.1%}" if mean[a, top] is not None else "diverged"
              for a in acts[1:]}  # fmt: skip
    relu_bad = [lr for lr in lrs if lr not in trained]
    explanation = (
        f"After {steps} steps of plain SGD on a 784-128-128-10 MLP, the share of ReLU units "
        f"that are never positive on 2000 training images grows from {(low or 0):.1%} at lr "
        f"{lrs[0]:g} to {relu_max:.1%} at lr {top:g} ({layer1:.0%} of the first layer)"
        + (f"; ReLU diverges at lr {lrs_text(relu_bad)}" if relu_bad else "")
        + f". {leaky_text('leaky_relu', 'Leaky ReLU')}; {leaky_text('prelu', 'PReLU')}; at lr "
        f"{top:g}: Leaky ReLU {at_top['leaky_relu']}, PReLU {at_top['prelu']}. A leaky unit whose "
        "input is negative on every image still passes the gradient a·δ (a ≠ 0), so it is not "
        "dead in the ReLU sense, though its positive part goes unused."
    )
    verdict = verdict_of(holds, partly)
    if verdict == "partly":
        explanation += " Partly: " + (
            "a high learning rate kills a share of ReLUs of the notes' order, but Leaky ReLU and "
            "PReLU do not both train and stay below 5 % never-positive units at every rate "
            "where ReLU trains"
            if dies else "the dead share grows with the learning rate but stays below 20 %, far "
            "from the notes' 40 %") + "."  # fmt: skip
    return Result(verdict, numbers, explanation, fig)


CLAIMS: tuple[Claim, ...] = (
    Claim(
        id="sigmoid_kills_gradients",
        theme="activations",
        sources=("001",),
        quote="Sigmoid容易饱和,并且当输入非常大或者非常小的时候,神经元的梯度就接近于0了……"
        "如果你的初始值很大的话,大部分神经元可能都会处在saturation的状态",
        protocol="A 784-(128×10)-10 MLP from danlu's activation registry, at initialization, on "
        "one batch of 512 MNIST images, 5 seeds: the norm of ∂L/∂W for every weight matrix "
        "(danlu.nn.Inspector) for sigmoid (Xavier init), tanh (Xavier) and ReLU (He), and for "
        'sigmoid with the Xavier weights ×2, ×4, ×8 ("large initial values"), with the '
        "fraction of saturated outputs (σ < 0.01 or > 0.99).",
        criterion="ratio r = ‖∂L/∂W₁‖ / ‖∂L/∂W₁₀‖ (first hidden layer over last hidden layer). "
        "Confirmed if in every seed r < 1e-3 for sigmoid and r > 0.1 for ReLU, and the ×4 init "
        'saturates at least half of the sigmoid outputs (the notes\' "most neurons"); partly if '
        "sigmoid's r < 1e-3 in at least 3 of 5 seeds but the rest fails; refuted otherwise.",
        run=_sigmoid_kills,
    ),
    Claim(
        id="sigmoid_zigzag",
        theme="activations",
        sources=("001",),
        quote="假设后层神经元的输入都为正……那么对w求局部梯度则都为正……"
        "导致有一种捆绑的效果,使得收敛缓慢",
        protocol="A 784-64-64-10 MLP (sigmoid or tanh, Xavier init) trained by danlu's SGD on 4000 "
        "MNIST images for 500 steps at batch 1, 8 and 64 (lr 0.1·√(batch/64)), 5 seeds. For the "
        "second hidden layer, whose inputs are the activations: the fraction of (step, unit) "
        "where all incoming weight gradients share one sign, and the path inefficiency of each "
        "unit's incoming weights (path length / displacement).",
        criterion="Confirmed if in ≥ 4 of 5 seeds, at batch 64, sigmoid's one-signed fraction is "
        "≥ 0.5 and ≥ 5× tanh's and its path inefficiency is > 1.1× tanh's; partly if only the "
        "single-example binding holds (batch 1: sigmoid ≥ 0.9, tanh ≤ 0.1 in ≥ 4 of 5 seeds); "
        "refuted otherwise.",
        run=_zigzag,
    ),
    Claim(
        id="relu_converges_faster",
        theme="activations",
        sources=("001",),
        quote="Krizhevsky et al. 发现使用 ReLU 得到的SGD的收敛速度会比 sigmoid/tanh 快很多",
        protocol="A 784-128-128-128-10 MLP with ReLU (He init), tanh or sigmoid (Xavier), SGD "
        "momentum 0.9, batch 64, on 5000 MNIST images; each activation gets the fastest "
        "learning rate of {0.01, 0.03, 0.1, 0.3} on seed 0; then 5 seeds: steps until the mean "
        "of the last 50 batch losses is ≤ 0.1 (cap 3000).",
        criterion="Confirmed if ReLU needs ≤ ½ the steps of sigmoid and ≤ ½ those of tanh in ≥ 4 "
        "of 5 seeds; partly if it needs ≤ ½ of one of them, or fewer than both, in ≥ 4 of 5 "
        "seeds; refuted otherwise.",
        run=_relu_faster,
    ),
    Claim(
        id="dying_relu",
        theme="activations",
        sources=("001",),
        quote="如果你的learning rate 很大,那么很有可能你网络中的40%的神经元都坏死了……"
        "Leaky ReLUs 就是用来解决ReLU坏死的问题的",
        protocol="A 784-128-128-10 MLP (He init) with ReLU, Leaky ReLU (0.01) or PReLU, 500 steps "
        "of plain SGD, batch 64, on 10000 MNIST images, at lr 0.01, 0.1, 0.2, 0.3, 0.4, 0.5, 5 "
        "seeds. A hidden unit is dead if its pre-activation is ≤ 0 on every one of 2000 "
        "training images; a learning rate counts for an activation if at least half its seeds "
        "stay finite (the mean is over those).",
        criterion="Confirmed if ReLU's dead share (all hidden units) is ≤ 5 % at lr 0.01 and "
        "reaches ≥ 20 % (the order of the notes' 40 %) at some rate that trains, while Leaky "
        "ReLU and PReLU train and stay ≤ 5 % at every rate where ReLU trains; partly if ReLU "
        "dies so but the "
        "leaky variants do not stay ≤ 5 %, or ReLU's share grows with the rate but stays "
        "< 20 %; refuted otherwise.",
        run=_dying,
    ),
)
