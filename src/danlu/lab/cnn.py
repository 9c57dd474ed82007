"""Claims of the notes about convolutional networks: invariance and the spatial transformer,
and why depth saves parameters.

The image claim runs on MNIST (``shared_data("mnist", ...)``, the training file only: a
training subset from its start, test images from its end) with danlu's CNN zoo
(:func:`danlu.nn.cnn.create_model`), :class:`danlu.nn.SpatialTransformer` and the
distortions of ``danlu vision distort`` (:func:`danlu.tasks.vision.distort.distort`). The
depth claim is about representation, so it fits a fixed smooth function of two variables.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from danlu.data.idx import read_idx_images_labels
from danlu.lab.claim import Claim, Result, verdict_of
from danlu.lab.data import shared_data
from danlu.lab.plots import panels, seed_bars
from danlu.lab.stats import pm
from danlu.nn import SpatialTransformer
from danlu.nn.activations import create_activation
from danlu.nn.cnn import create_model
from danlu.optim import Adam, as_lr_scheduler, create_schedule
from danlu.tasks.vision.distort import distort

__all__ = ["CLAIMS", "mlp", "params_to_reach"]

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


_mean_sd = partial(pm, sd_fmt=".2g")  # "mean ± sd": three significant digits, sd two


# ---------------------------------------------------------------- (45) invariance and the STN


def _mnist(train: int, test: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """``train`` images from the start of MNIST's training file and ``test`` from its end:
    uint8 ``(N, 1, 28, 28)`` and int64 labels."""
    images, labels = read_idx_images_labels(
        shared_data("mnist", "train-images-idx3-ubyte.gz"),
        shared_data("mnist", "train-labels-idx1-ubyte.gz"),
    )
    x = torch.from_numpy(np.ascontiguousarray(images))[:, None]  # (60000, 1, 28, 28)
    y = torch.from_numpy(labels.astype(np.int64))
    return x[:train], y[:train], x[-test:], y[-test:]


def _normalize(pixels: Tensor) -> Tensor:
    """uint8 pixels -> float, standardized with MNIST's mean and standard deviation."""
    return (pixels.float() / 255 - MNIST_MEAN) / MNIST_STD


def _fit_classifier(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    epochs: int,
    seed: int,
    lr: float = 3e-3,
    batch: int = 128,
) -> nn.Module:
    """Adam, 5 % warm-up then cosine decay, cross-entropy, shuffled mini-batches."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    steps = epochs * math.ceil(len(x) / batch)
    opt = Adam(model.parameters(), lr=lr)
    schedule = as_lr_scheduler(
        opt, create_schedule("cosine", total_steps=steps, warmup=max(1, steps // 20))
    )
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), batch):
            idx = order[i : i + batch]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            schedule.step()
    return model.eval()


def _accuracy(model: nn.Module, x: Tensor, y: Tensor) -> float:
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


# name -> (rotate degrees, (scale min, max), shift fraction): danlu vision distort's
# defaults (the spatial transformer paper's RTS MNIST), one kind of change at a time
DISTORTIONS: dict[str, tuple[float, tuple[float, float], float]] = {
    "upright": (0.0, (1.0, 1.0), 0.0),
    "shifted ±10 %": (0.0, (1.0, 1.0), 0.1),
    "rotated ±45°": (45.0, (1.0, 1.0), 0.0),
    "scaled 0.7–1.2": (0.0, (0.7, 1.2), 0.0),
    "all three": (45.0, (0.7, 1.2), 0.1),
}


def _mlp_classifier(hidden: int) -> nn.Module:
    """784 -> hidden -> 10 with ReLU: no convolution, no pooling."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def _invariance(quick: bool) -> Result:
    n_train, n_test, epochs, seeds = (512, 200, 1, 1) if quick else (8000, 2000, 5, 3)
    x_train, y_train, x_test, y_test = _mnist(n_train, n_test)
    tests = {
        name: _normalize(distort(x_test, r, s, t, seed=1))
        for name, (r, s, t) in DISTORTIONS.items()
    }
    rts_train = _normalize(distort(x_train, *DISTORTIONS["all three"], seed=2))
    upright_train = _normalize(x_train)
    rows = []
    for seed in range(seeds):
        cnn = _fit_classifier(create_model("lenet5_modern"), upright_train, y_train, epochs, seed)
        mlp_ = _fit_classifier(_mlp_classifier(78), upright_train, y_train, epochs, seed)
        plain = _fit_classifier(create_model("lenet5_modern"), rts_train, y_train, epochs, seed)
        stn = _fit_classifier(
            nn.Sequential(SpatialTransformer(1), create_model("lenet5_modern")),
            rts_train,
            y_train,
            epochs,
            seed,
        )
        rows.append(
            {
                "cnn": {k: _accuracy(cnn, x, y_test) for k, x in tests.items()},
                "mlp": {k: _accuracy(mlp_, x, y_test) for k, x in tests.items()},
                "cnn on rts": _accuracy(plain, tests["all three"], y_test),
                "stn on rts": _accuracy(stn, tests["all three"], y_test),
            }
        )

    def drop(row: dict, model: str, kind: str) -> float:
        return row[model]["upright"] - row[model][kind]

    shift, rot, scale = "shifted ±10 %", "rotated ±45°", "scaled 0.7–1.2"
    invariant = [drop(r, "cnn", shift) < drop(r, "mlp", shift) for r in rows]
    fails = [
        all(drop(r, "cnn", k) >= max(2 * drop(r, "cnn", shift), 0.05) for k in (rot, scale))
        for r in rows
    ]
    gains = [r["stn on rts"] - r["cnn on rts"] for r in rows]
    repairs = all(g > 0 for g in gains) and statistics.mean(gains) >= 0.01
    parts = [all(invariant), all(fails), repairs]
    holds = all(parts)

    fig, (a, b) = panels(2, width=4.8)
    kinds = list(DISTORTIONS)
    models = {"LeNet-5 (conv + max pool)": "cnn", "MLP 784-78-10": "mlp"}
    seed_bars(a, {lab: [[r[m][kind] for r in rows] for kind in kinds] for lab, m in models.items()})
    a.set_xticks(range(len(kinds)), [k.replace(" ", "\n", 1) for k in kinds], fontsize=8)
    a.set(ylabel="test accuracy", ylim=(0, 1), title="trained on upright digits")
    a.legend(fontsize=8, loc="lower left")
    pairs = [[r["cnn on rts"] for r in rows], [r["stn on rts"] for r in rows]]
    b.bar([0, 1], [statistics.mean(v) for v in pairs], color=["C0", "C2"], alpha=0.7)
    for i, v in enumerate(pairs):
        b.plot([i] * len(v), v, "k.", ms=5)
    low = min(min(v) for v in pairs)
    b.set_xticks([0, 1], ["LeNet-5", "spatial transformer\n+ LeNet-5"])
    b.set(
        ylabel="test accuracy (distorted test digits)",
        ylim=(max(0.0, low - 0.1), 1),
        title="trained on rotated, scaled, shifted digits",
    )

    def acc(model: str, kind: str) -> str:
        return _mean_sd([r[model][kind] for r in rows])

    numbers = {
        "seeds": seeds,
        "training images": n_train,
        "test images": n_test,
        "epochs": epochs,
        **{f"LeNet-5 trained upright, {k}": acc("cnn", k) for k in kinds},
        **{f"MLP trained upright, {k}": acc("mlp", k) for k in kinds},
        "trained on all three, LeNet-5": _mean_sd([r["cnn on rts"] for r in rows]),
        "trained on all three, STN + LeNet-5": _mean_sd([r["stn on rts"] for r in rows]),
        "seeds: CNN loses less than the MLP under shifts": sum(invariant),
        "seeds: rotation and scale each cost >= 2x the shift and >= 5 points": sum(fails),
        "STN gain in points (per seed)": [round(100 * g, 2) for g in gains],
    }
    failed = [
        name
        for name, ok in zip(
            (
                "some translation invariance (CNN vs MLP)",
                "failure on rotation and scale",
                "the STN's repair",
            ),
            parts,
            strict=True,
        )
        if not ok
    ]

    def lost(model: str, kind: str) -> str:  # mean accuracy lost, in points
        return f"{100 * statistics.mean(drop(r, model, kind) for r in rows):.1f}"

    explanation = (
        f"LeNet-5 (ReLU, max pooling) trained {epochs} epochs on {n_train} upright MNIST "
        f"digits scores {acc('cnn', 'upright')} on upright test digits, {acc('cnn', shift)} "
        f"on digits shifted by up to 10 % of the side (−{lost('cnn', shift)} points), "
        f"{acc('cnn', rot)} rotated by up to 45° (−{lost('cnn', rot)}) and "
        f"{acc('cnn', scale)} scaled by 0.7–1.2 (−{lost('cnn', scale)}); an MLP of the same "
        f"size (no convolution or pooling) scores {acc('mlp', 'upright')} upright and "
        f"{acc('mlp', shift)} shifted (−{lost('mlp', shift)}). Trained on digits distorted "
        f"all three ways (danlu vision distort's defaults), LeNet-5 reaches "
        f"{_mean_sd([r['cnn on rts'] for r in rows])} on distorted test digits and a spatial "
        f"transformer in front of it {_mean_sd([r['stn on rts'] for r in rows])} (gain "
        f"{100 * statistics.mean(gains):.1f} points)."
        + ("" if holds else f" What does not hold here: {'; '.join(failed)}.")
    )
    return Result(verdict_of(holds, any(parts)), numbers, explanation, fig)


# ---------------------------------------------------------------- (46) depth and parameters


def mlp(depth: int, width: int, inputs: int = 2, activation: str = "relu") -> nn.Sequential:
    """``inputs -> width -> ... -> width -> 1`` with ``depth`` hidden layers; it has
    ``(inputs + 1)·w + (depth - 1)·(w + 1)·w + w + 1`` parameters.

    Example:
        >>> sum(p.numel() for p in mlp(2, 10).parameters())  # 30 + 110 + 11
        151
    """
    layers: list[nn.Module] = []
    size = inputs
    for _ in range(depth):
        layers += [nn.Linear(size, width), create_activation(activation)]
        size = width
    return nn.Sequential(*layers, nn.Linear(size, 1))


def params_to_reach(params: Sequence[int], losses: Sequence[float], target: float) -> float:
    """The parameter count at which a family of nets first reaches ``target`` loss.

    ``params`` ascending; ``losses[i]`` is net i's loss. The curve is first made monotone
    (the best loss of any net with at most that many parameters), then the crossing of
    ``target`` is interpolated linearly in ``(log params, log loss)``. ``inf`` if no net
    reaches it, ``params[0]`` if the smallest does.

    Example:
        >>> params_to_reach([100, 1000], [0.1, 0.001], 0.01)
        316.22776601683796
        >>> params_to_reach([100, 1000], [0.1, 0.05], 0.01)
        inf
    """
    best = np.minimum.accumulate(np.asarray(losses, dtype=float))
    if best[0] <= target:
        return float(params[0])
    for i in range(1, len(best)):
        if best[i] <= target:
            lo, hi = math.log(best[i - 1]), math.log(best[i])
            frac = (lo - math.log(target)) / (lo - hi)
            return math.exp(math.log(params[i - 1]) + frac * math.log(params[i] / params[i - 1]))
    return math.inf


def _target_function(points: Tensor) -> Tensor:
    """A fixed smooth function on ``[-1, 1]²``, a random sum of 16 plane waves:
    ``f(x) = Σ_k a_k sin(w_k·x + b_k)``, ``w_k ~ N(0, 3² I)``, ``a_k ~ N(0, 1/16)``,
    ``b_k ~ U[0, 2π)`` (seed 0). ``points (N, 2)`` -> ``(N, 1)``."""
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(16, 2, generator=gen) * 3.0
    b = torch.rand(16, generator=gen) * 2 * math.pi
    a = torch.randn(16, generator=gen) / 4.0
    return (torch.sin(points @ w.T + b) * a).sum(1, keepdim=True)


# hidden layers -> widths, chosen so that each depth spans about 65 to 1,500 parameters
WIDTHS: dict[int, tuple[int, ...]] = {
    1: (16, 32, 64, 128, 256),
    2: (6, 10, 16, 24, 36),
    4: (4, 6, 10, 14, 20),
}
TARGET = 0.01  # relative test MSE, MSE / Var f


def _fit_function(depth: int, width: int, x: Tensor, y: Tensor, steps: int, seed: int) -> nn.Module:
    """Full-batch Adam (lr 3e-3, 5 % warm-up, cosine decay) on the mean squared error."""
    torch.manual_seed(seed)
    net = mlp(depth, width)
    opt = Adam(net.parameters(), lr=3e-3)
    schedule = as_lr_scheduler(
        opt, create_schedule("cosine", total_steps=steps, warmup=max(1, steps // 20))
    )
    for _ in range(steps):
        loss = F.mse_loss(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
    return net


def _depth(quick: bool) -> Result:
    seeds, steps, n_train = (1, 60, 256) if quick else (3, 1500, 1024)
    gen = torch.Generator().manual_seed(1)
    x_train = torch.rand(n_train, 2, generator=gen) * 2 - 1
    x_test = torch.rand(4096, 2, generator=gen) * 2 - 1
    y_train, y_test = _target_function(x_train), _target_function(x_test)
    variance = float(y_test.var())
    widths = {d: w[:3] for d, w in WIDTHS.items()} if quick else WIDTHS
    curves: dict[int, list[list[float]]] = {d: [] for d in widths}  # depth -> seed -> losses
    sizes = {
        d: [sum(p.numel() for p in mlp(d, w).parameters()) for w in ws] for d, ws in widths.items()
    }
    for seed in range(seeds):
        for depth, ws in widths.items():
            losses = []
            for width in ws:
                net = _fit_function(depth, width, x_train, y_train, steps, seed)
                with torch.no_grad():
                    losses.append(float(F.mse_loss(net(x_test), y_test)) / variance)
            curves[depth].append(losses)
    needed = {d: [params_to_reach(sizes[d], c, TARGET) for c in curves[d]] for d in curves}
    deepest, middle = max(widths), sorted(widths)[1]
    half = [
        math.isfinite(n_deep) and n_deep <= n_shallow / 2
        for n_deep, n_shallow in zip(needed[deepest], needed[1], strict=True)
    ]
    fewer = [n_mid < n_shallow for n_mid, n_shallow in zip(needed[middle], needed[1], strict=True)]
    holds = all(half) and all(fewer)
    mean_deep = statistics.mean(min(n, 1e9) for n in needed[deepest])
    partly = not holds and (
        mean_deep < statistics.mean(min(n, 1e9) for n in needed[1]) or any(half)
    )

    fig, (a, b) = panels(2)
    for k, depth in enumerate(widths):
        mean = [statistics.mean(v) for v in zip(*curves[depth], strict=True)]
        a.loglog(
            sizes[depth],
            mean,
            "o-",
            color=f"C{k}",
            label=f"{depth} hidden layer" + ("s" if depth > 1 else ""),
        )
        for c in curves[depth]:
            a.loglog(sizes[depth], c, ".", color=f"C{k}", alpha=0.4)
    a.axhline(TARGET, color="grey", ls=":", lw=0.8)
    a.set(xlabel="parameters", ylabel="test MSE / Var f", title="fitting a smooth 2-D function")
    a.legend(fontsize=8)
    finite = {d: [n for n in needed[d] if math.isfinite(n)] for d in needed}
    labels = [f"{d} hidden" for d in widths]
    b.bar(
        labels,
        [statistics.mean(finite[d]) if finite[d] else 0 for d in widths],
        color=[f"C{k}" for k in range(len(widths))],
        alpha=0.7,
    )
    for i, d in enumerate(widths):
        b.plot([i] * len(finite[d]), finite[d], "k.", ms=5)
    b.set(
        ylabel=f"parameters to reach {TARGET:g} relative MSE",
        title="parameters needed (mean, dots: seeds)",
    )

    def show(values: list[float]) -> list[float | str]:
        return [round(v) if math.isfinite(v) else "not reached" for v in values]

    numbers = {
        "seeds": seeds,
        "training points": n_train,
        "steps": steps,
        "target": TARGET,
        **{f"parameters, {d} hidden": sizes[d] for d in widths},
        **{
            f"relative test MSE, {d} hidden": [_mean_sd(v) for v in zip(*curves[d], strict=True)]
            for d in widths
        },
        **{
            f"parameters to reach the target, {d} hidden (per seed)": show(needed[d])
            for d in widths
        },
        f"seeds: {deepest} hidden needs <= half of 1 hidden": sum(half),
        f"seeds: {middle} hidden needs fewer than 1 hidden": sum(fewer),
    }

    def need(d: int) -> str:
        values = needed[d]
        if not all(math.isfinite(v) for v in values):
            return f"{sum(math.isfinite(v) for v in values)} of {len(values)} seeds reach it"
        each = ", ".join(f"{v:.0f}" for v in values)
        return f"{statistics.mean(values):.0f} parameters (seeds: {each})"

    def share(d: int) -> str:  # mean parameters needed, relative to one hidden layer
        return f"{statistics.mean(needed[d]) / statistics.mean(needed[1]):.0%}"

    smallest = _mean_sd([c[0] for c in curves[deepest]])
    condition = (
        f" So depth saves parameters here, but not half of them: on average {middle} hidden "
        f"layers need {share(middle)} and {deepest} hidden layers {share(deepest)} of the "
        f"shallow net's parameters, and the narrowest {deepest}-layer net "
        f"({sizes[deepest][0]} parameters) ends at relative MSE {smallest} over seeds."
    )
    explanation = (
        f"Fitting a fixed random sum of 16 plane waves on [−1, 1]² from {n_train} points "
        f"({steps} full-batch Adam steps, ReLU MLPs), a relative test error of {TARGET:g} "
        f"takes {need(1)} with one hidden layer, {need(middle)} with {middle} and "
        f"{need(deepest)} with {deepest}. The deepest net needs at most half the shallow "
        f"one's parameters in {sum(half)} of {seeds} seeds, the {middle}-layer one fewer in "
        f"{sum(fewer)}." + ("" if holds or not partly else condition)
    )
    return Result(verdict_of(holds, partly), numbers, explanation, fig)


CLAIMS: tuple[Claim, ...] = (
    Claim(
        id="cnn_invariance_and_spatial_transformer",
        theme="cnn",
        sources=("002",),
        quote="pooling 在横纵轴拿掉一些像素, 识别出的物体不变……问题:无法处理缩放、旋转图片 "
        "spatial transformer",
        protocol="MNIST: 8,000 training digits from the start of the training file, 2,000 test "
        "digits from its end, 3 seeds, 5 epochs of Adam. (1) LeNet-5 with max pooling "
        "(create_model('lenet5_modern')) and an MLP 784-78-10 of the same size, trained on "
        "upright digits, tested upright, shifted by up to ±10 % of the side, rotated by up to "
        "±45° and scaled by 0.7–1.2 (danlu.tasks.vision.distort, one change at a time). "
        "(2) LeNet-5 with and without danlu.nn.SpatialTransformer in front, trained and "
        "tested on digits distorted all three ways (danlu vision distort's defaults).",
        criterion="confirmed if in every seed (a) the CNN loses less accuracy than the MLP "
        "under shifts, (b) the CNN's loss under rotation and under scaling is each ≥ 2× its "
        "loss under shifts and ≥ 5 points, and (c) the spatial transformer raises the "
        "accuracy on distorted digits, by ≥ 1 point on average; partly if one or two of "
        "(a)–(c) hold; refuted if none.",
        run=_invariance,
    ),
    Claim(
        id="depth_saves_parameters",
        theme="cnn",
        sources=("002",),
        quote="为什么deep learning能减少参数量与运算速度",
        protocol="Fit f(x) = Σ_k a_k sin(w_k·x + b_k) (16 random plane waves, w_k ~ N(0, 9 I)) "
        "on 1,024 random points of [−1, 1]² with ReLU MLPs of 1, 2 and 4 hidden layers, five "
        "widths each (about 65 to 1,500 parameters), 1,500 full-batch Adam steps, 3 seeds; "
        "relative MSE on 4,096 test points; the parameters needed to reach 1 %, interpolated "
        "on the best-so-far curve in log-log.",
        criterion="confirmed if in every seed the 4-hidden-layer MLP reaches relative MSE 0.01 "
        "with at most half the parameters the 1-hidden-layer MLP needs, and the 2-layer one "
        "with fewer; partly if the 4-layer nets need fewer on average, or half as many in "
        "some seed; refuted otherwise.",
        run=_depth,
    ),
)
