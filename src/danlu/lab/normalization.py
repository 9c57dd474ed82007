"""Claims of the notes about normalization: batch normalization and whitening.

(10)-(13) train small MLPs on MNIST / Fashion-MNIST subsets with danlu's
:class:`~danlu.nn.BatchNorm1d` and measure what the notes say BN does: internal covariate
shift (Santurkar et al. 2018's two definitions), the smoothness of the loss along the
gradient (with and without BN, and with "noisy BN"), the learning rates at which sigmoid
and tanh nets train, and its overlap with dropout. (14) fits danlu's PCA and ZCA whitening
on MNIST patches.

Reference: Santurkar, Tsipras, Ilyas, Madry, "How Does Batch Normalization Help
Optimization?", NeurIPS 2018.
"""

from __future__ import annotations

import functools
import itertools
import statistics
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from danlu.functional import orthogonal_
from danlu.lab.claim import Claim, Result, verdict_of
from danlu.lab.data import idx_images
from danlu.lab.plots import panels
from danlu.lab.stats import mean_sd, pm
from danlu.nn import (
    BatchNorm1d,
    Dropout,
    PCAWhitening,
    ZCAWhitening,
    create_activation,
    init_weights,
)
from danlu.optim import SGD, Adam

__all__ = [
    "CLAIMS",
    "Net",
    "StepNoise",
    "distribution_shift",
    "ics_probe",
    "landscape_probe",
    "patches",
    "rotated_distances",
    "steps_to",
    "whitening_distance",
]

# ------------------------------------------------------------------------------ shared parts


def _split(name: str, n_train: int, n_dev: int, seed: int, pool: int = 1
           ) -> tuple[Tensor, ...]:  # fmt: skip
    """A seeded random train/dev split of the training file, average-pooled by ``pool``,
    flattened and standardized with the train part's mean and sd: x_train (n_train, D),
    y_train, x_dev (n_dev, D), y_dev, with D = (28 / pool)²."""
    images, labels = idx_images(name)
    order = np.random.default_rng(seed).permutation(len(labels))[: n_train + n_dev]
    x = torch.from_numpy(images[order]).float().unsqueeze(1) / 255.0  # (N, 1, 28, 28)
    x = F.avg_pool2d(x, pool).flatten(1)  # (N, D)
    y = torch.from_numpy(labels[order].astype(np.int64))
    mean, sd = x[:n_train].mean(), x[:n_train].std()
    x = (x - mean) / sd
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


class StepNoise(nn.Module):
    """Santurkar et al.'s "noisy BN": y = s ⊙ x + m after a BN layer, in training only.

    The per-unit scale s ~ U(1 - scale, 1 + scale) and shift m ~ U(-shift, shift) are
    redrawn by :meth:`resample` once per training step, so that the distribution of every
    unit's input to the next layer moves at every step: internal covariate shift injected
    on purpose. In evaluation the module is the identity.

    Args:
        features: number of units C of the (N, C) input.
        shift: half-width of the shift's range.  scale: half-width of the scale's range.
    """

    s: Tensor
    m: Tensor

    def __init__(self, features: int, shift: float = 1.0, scale: float = 0.5) -> None:
        super().__init__()
        self.shift, self.scale = shift, scale
        self.register_buffer("s", torch.ones(features))
        self.register_buffer("m", torch.zeros(features))

    def resample(self, generator: torch.Generator | None = None) -> None:
        u = torch.rand(2, self.s.numel(), generator=generator) * 2 - 1  # U(-1, 1)
        self.s.copy_(1 + self.scale * u[0])
        self.m.copy_(self.shift * u[1])

    def forward(self, x: Tensor) -> Tensor:
        return x * self.s + self.m if self.training else x


class Net(nn.Module):
    """An MLP as a list of layers: ``Linear → [BatchNorm1d → [StepNoise]] → act → [Dropout]``
    for each hidden width, then a ``Linear`` head; layer i's input is layer i-1's output.

    Args:
        sizes: (in, hidden..., out).
        activation: a name of :func:`danlu.nn.create_activation`.
        norm: "none", "bn" (danlu's BatchNorm1d) or "noisy" (BatchNorm1d + StepNoise).
        dropout: drop probability after each hidden activation (danlu's Dropout).
        init: a scheme of :func:`danlu.nn.init_weights`.
    """

    def __init__(self, sizes: Sequence[int], activation: str, norm: str = "none",
                 dropout: float = 0.0, init: str = "he_normal") -> None:  # fmt: skip
        super().__init__()
        if norm not in ("none", "bn", "noisy"):
            raise ValueError(f"norm must be 'none', 'bn' or 'noisy', got {norm!r}")
        layers: list[nn.Module] = []
        for fan_in, fan_out in itertools.pairwise(sizes[:-1]):  # the hidden layers
            parts: list[nn.Module] = [nn.Linear(fan_in, fan_out)]
            parts += [BatchNorm1d(fan_out)] if norm != "none" else []
            parts += [StepNoise(fan_out)] if norm == "noisy" else []
            parts += [create_activation(activation)]
            parts += [Dropout(dropout)] if dropout > 0 else []
            layers.append(nn.Sequential(*parts))
        layers.append(nn.Sequential(nn.Linear(sizes[-2], sizes[-1])))
        self.layers = nn.ModuleList(layers)
        init_weights(self, init)

    def trace(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        """The logits (N, out) and every layer's input, [(N, sizes[i]) for each layer i]."""
        inputs = []
        for layer in self.layers:
            inputs.append(x)
            x = layer(x)
        return x, inputs

    def forward(self, x: Tensor) -> Tensor:
        return self.trace(x)[0]

    def weight(self, i: int) -> Tensor:
        """Layer i's weight matrix W_i."""
        return self.layers[i][0].weight

    def resample_noise(self, generator: torch.Generator | None = None) -> None:
        for module in self.modules():
            if isinstance(module, StepNoise):
                module.resample(generator)


def distribution_shift(before: Tensor, after: Tensor) -> float:
    """How far a layer's input distribution moved, relative to its spread.

    With per-unit batch means μ_j, μ'_j and sds σ_j, σ'_j of ``before`` and ``after``
    (N, C): sqrt(mean_j[(μ'_j - μ_j)² + (σ'_j - σ_j)²] / mean_j σ_j²), the 2-Wasserstein
    distance between the units' Gaussian fits in units of their typical sd.
    """
    mu, mu2 = before.mean(0), after.mean(0)
    sd, sd2 = before.std(0), after.std(0)
    moved = ((mu2 - mu) ** 2 + (sd2 - sd) ** 2).mean()
    return float((moved / (sd**2).mean().clamp_min(1e-12)).sqrt())


def _snapshot(net: nn.Module) -> list[tuple[Tensor, Tensor]]:
    """(tensor, copy) for every parameter and buffer: what :func:`_restore` puts back."""
    return [(t, t.detach().clone()) for t in (*net.parameters(), *net.buffers())]


def _restore(snapshot: list[tuple[Tensor, Tensor]]) -> None:
    with torch.no_grad():
        for tensor, saved in snapshot:
            tensor.copy_(saved)


def _loss_and_grads(net: Net, x: Tensor, y: Tensor) -> tuple[Tensor, list[Tensor]]:
    net.zero_grad()
    logits, inputs = net.trace(x)
    F.cross_entropy(logits, y).backward()
    return logits, inputs


def ics_probe(net: Net, x: Tensor, y: Tensor, lr: float) -> list[dict[str, float]]:
    """Internal covariate shift of every layer i ≥ 1 on the batch (x, y), after Santurkar et
    al.: how layer i's world changes when the layers before it take their SGD step.

    With θ the parameters, G_i = ∇_{W_i} L(θ) and θ' = θ with layers < i moved by -lr·∇L(θ)
    (layer i and later unchanged), G'_i = ∇_{W_i} L(θ'). Returns per layer i:
    ``grad`` = ‖G_i - G'_i‖ / ‖G_i‖ (the gradient definition, relative),
    ``cos`` = cos(G_i, G'_i), and ``dist`` = :func:`distribution_shift` of layer i's input
    (the distribution definition). The net's parameters and buffers are restored.
    """
    saved = _snapshot(net)
    _, inputs = _loss_and_grads(net, x, y)
    steps = [[-lr * p.grad for p in layer.parameters()] for layer in net.layers]
    grads = [net.weight(i).grad.clone() for i in range(len(net.layers))]
    rows = []
    for i in range(1, len(net.layers)):
        with torch.no_grad():
            for layer, step in zip(net.layers[:i], steps[:i], strict=True):
                for p, d in zip(layer.parameters(), step, strict=True):
                    p.add_(d)
        _, moved = _loss_and_grads(net, x, y)
        g, g2 = grads[i], net.weight(i).grad
        rows.append({
            "grad": float((g2 - g).norm() / g.norm().clamp_min(1e-30)),
            "cos": float(F.cosine_similarity(g.flatten(), g2.flatten(), dim=0)),
            "dist": distribution_shift(inputs[i].detach(), moved[i].detach()),
        })  # fmt: skip
        _restore(saved)
    net.zero_grad()
    return rows


def landscape_probe(net: nn.Module, x: Tensor, y: Tensor, etas: Sequence[float]
                    ) -> dict[str, float]:  # fmt: skip
    """The loss and gradient along the gradient direction, after Santurkar et al. (Fig. 4).

    With g = ∇L(θ) on the batch (x, y) and θ_η = θ - η g for η in ``etas``:
    ``loss_range`` = max_η L(θ_η) - min_η L(θ_η) (η = 0 included): how much the loss varies
    along the step; ``grad_change`` = max_η ‖∇L(θ_η) - g‖ / ‖g‖: how poorly the gradient
    predicts the gradient a step away; ``beta`` = max_η ‖∇L(θ_η) - g‖ / (η ‖g‖): the
    effective β-smoothness. The net's parameters and buffers are restored.
    """
    params = [p for p in net.parameters() if p.requires_grad]
    saved = _snapshot(net)
    theta = nn.utils.parameters_to_vector(params).detach()  # (P,)

    def at(vec: Tensor) -> tuple[float, Tensor]:
        nn.utils.vector_to_parameters(vec, params)
        net.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        return float(loss.detach()), torch.cat([p.grad.flatten() for p in params])

    loss0, g = at(theta)
    losses, change, beta = [loss0], 0.0, 0.0
    gnorm = float(g.norm().clamp_min(1e-30))
    for eta in etas:
        loss, g2 = at(theta - eta * g)
        losses.append(loss)
        dg = float((g2 - g).norm())
        change, beta = max(change, dg / gnorm), max(beta, dg / (eta * gnorm))
    _restore(saved)
    net.zero_grad()
    return {"loss_range": max(losses) - min(losses), "grad_change": change, "beta": beta}


def _train(net: Net, x: Tensor, y: Tensor, opt: torch.optim.Optimizer, steps: int, batch: int,
           seed: int, probe: Callable[[Net, Tensor, Tensor], Any] | None = None,
           every: int = 0) -> tuple[list[float], list[Any]]:  # fmt: skip
    """Train on random minibatches; return the minibatch losses and, every ``every`` steps
    (step 0 first), ``probe(net, xb, yb)`` on that step's batch before its update."""
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    losses, probes = [], []
    net.train()
    for step in range(steps):
        idx = torch.from_numpy(rng.integers(0, len(y), batch))
        xb, yb = x[idx], y[idx]  # (B, 784), (B,)
        net.resample_noise(gen)
        if probe is not None and every and step % every == 0:
            probes.append(probe(net, xb, yb))
        opt.zero_grad()
        loss = F.cross_entropy(net(xb), yb)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()) if torch.isfinite(loss) else float("inf"))
        if not torch.isfinite(loss):
            break
    return losses, probes


# ------------------------------------------------- (10) BN and internal covariate shift

_ICS_SIZES = (196, *[64] * 8, 10)  # 14x14 MNIST, 8 hidden ReLU layers of 64
_NORMS = {"none": "no BN", "bn": "BN", "noisy": "noisy BN"}


def _ics(quick: bool) -> Result:
    seeds = range(1 if quick else 5)
    lrs = (0.005, 0.05) if quick else (0.005, 0.02, 0.05)
    steps, every, n = (24, 12, 1000) if quick else (300, 30, 10000)
    keys = ("dist", "grad", "cos")
    # (norm, lr) -> per seed: {key: mean over probes and layers}
    found: dict[tuple[str, float], list[dict[str, float]]] = {}
    for seed in seeds:
        x, y, _, _ = _split("mnist", n, 0, seed, pool=2)
        for lr in lrs:
            for norm in ("none", "bn"):
                torch.manual_seed(seed)
                net = Net(_ICS_SIZES, "relu", norm)
                probe = functools.partial(ics_probe, lr=lr)
                _, probes = _train(net, x, y, SGD(net.parameters(), lr=lr), steps, 128, seed,
                                   probe, every)  # fmt: skip
                rows = [r for p in probes for r in p]  # every probe, every layer i ≥ 1
                found.setdefault((norm, lr), []).append(
                    {k: statistics.mean(r[k] for r in rows) for k in keys}
                )

    def values(norm: str, lr: float, key: str) -> list[float]:
        return [s[key] for s in found[norm, lr]]

    need = 4 if len(seeds) >= 5 else len(seeds)
    # lower[key][lr]: seeds in which BN's measure is lower than the plain net's
    lower = {key: {lr: sum(b < a for a, b in zip(values("none", lr, key), values("bn", lr, key),
                                                 strict=True)) for lr in lrs}
             for key in ("dist", "grad")}  # fmt: skip
    at = {key: [lr for lr in lrs if lower[key][lr] >= need] for key in lower}
    every_lr = {key: len(at[key]) == len(lrs) for key in at}
    verdict = verdict_of(all(every_lr.values()), partly=any(at.values()))
    fig, axes = panels(3)
    titles = {"dist": "layer-input distribution shift", "grad": "relative gradient change",
              "cos": "cosine of G and G′"}  # fmt: skip
    for ax, key in zip(axes, keys, strict=True):
        for norm in ("none", "bn"):
            stats = [mean_sd(values(norm, lr, key)) for lr in lrs]
            ax.errorbar(lrs, [m for m, _ in stats], [s for _, s in stats], fmt="o-",
                        capsize=3, label=_NORMS[norm])  # fmt: skip
        ax.set_xscale("log")
        ax.set_xticks(lrs, [f"{lr:g}" for lr in lrs])
        ax.set_xticks([], minor=True)
        ax.set(title=titles[key], xlabel="SGD learning rate", ylabel=key)
        ax.legend(fontsize=8)
    axes[0].set_yscale("log")
    numbers: dict[str, Any] = {"seeds": len(seeds), "steps": steps, "train examples": n,
                               "probes per run": steps // every}  # fmt: skip
    for lr in lrs:
        for norm in ("none", "bn"):
            for key in keys:
                numbers[f"lr {lr}, {_NORMS[norm]}: {key} (mean, sd)"] = list(
                    mean_sd(values(norm, lr, key))
                )
        for key in lower:
            numbers[f"lr {lr}: seeds where BN lowers {key}"] = lower[key][lr]
    numbers["learning rates where BN lowers the distribution shift"] = at["dist"]
    numbers["learning rates where BN lowers the gradient change"] = at["grad"]

    def line(lr: float) -> str:
        d0, d1 = (pm(values(nm, lr, "dist")) for nm in ("none", "bn"))
        g0, g1 = (pm(values(nm, lr, "grad")) for nm in ("none", "bn"))
        c0, c1 = (pm(values(nm, lr, "cos"), ".2f") for nm in ("none", "bn"))
        return (f"at lr {lr} the input shift is {d0} without BN vs {d1} with it, the gradient "
                f"change {g0} vs {g1} (cosine {c0} vs {c1})")  # fmt: skip

    if verdict == "partly" and every_lr["dist"]:
        missed = [lr for lr in lrs if lr not in at["grad"]]
        what = (
            "BN lowers the distribution shift at every learning rate (each layer's inputs keep "
            "their first two moments), but not the gradient change at lr "
            + ", ".join(f"{lr} (BN lower in {lower['grad'][lr]} of {len(seeds)} seeds)"
                        for lr in missed)
            + ": there the gradient a layer has to follow does not change less with BN than "
            "without when the layers before it update"
            + (f"; BN lowers it only at lr {', '.join(map(str, at['grad']))}, where the plain "
               "net's gradients swing (low cosine)" if at["grad"] else "")
        )  # fmt: skip
    elif verdict == "partly":
        what = (
            f"BN lowers the distribution shift only at lr {at['dist'] or 'none'} and the "
            f"gradient change only at lr {at['grad'] or 'none'}"
        )
    elif verdict == "confirmed":
        what = "BN lowers both measures at every learning rate"
    else:
        what = "BN lowers neither measure at any learning rate"
    explanation = (
        f"An 8-hidden-layer ReLU MLP (He init, width 64) trained with SGD on {n} MNIST images "
        f"(14×14) for {steps} steps, {len(seeds)} seed(s), with internal covariate shift "
        f"measured every {every} steps as Santurkar et al. define it (the layers before i take "
        "their SGD step on the same batch; how much layer i's input distribution and weight "
        "gradient change): "
        + "; ".join(line(lr) for lr in lrs)
        + f". Verdict {verdict}: {what}."
    )  # fmt: skip
    return Result(verdict, numbers, explanation, fig)


# ------------------------------------------- (11) BN smooths the loss landscape, noisy BN too

_ETAS = (0.01, 0.02, 0.05, 0.1, 0.2)  # step sizes along -g at which the landscape is probed


def _smooth(quick: bool) -> Result:
    seeds = range(1 if quick else 5)
    steps, every, n, lr = (24, 12, 1000, 0.02) if quick else (300, 30, 10000, 0.02)
    keys = ("loss_range", "grad_change", "beta")
    curves: dict[str, list[list[float]]] = {norm: [] for norm in _NORMS}
    probes: dict[str, list[list[dict[str, float]]]] = {norm: [] for norm in _NORMS}
    for seed in seeds:
        x, y, _, _ = _split("mnist", n, 0, seed, pool=2)
        for norm in _NORMS:
            torch.manual_seed(seed)
            net = Net(_ICS_SIZES, "relu", norm)
            probe = functools.partial(landscape_probe, etas=_ETAS)
            losses, found = _train(net, x, y, SGD(net.parameters(), lr=lr), steps, 128, seed,
                                   probe, every)  # fmt: skip
            curves[norm].append(losses)
            probes[norm].append(found)

    def per_seed(norm: str, key: str) -> list[float]:  # mean over the probes of a run
        return [statistics.mean(p[key] for p in run) for run in probes[norm]]

    need = 4 if len(seeds) >= 5 else len(seeds)
    smoother = {  # (norm, key) -> seeds in which the net is smoother than the plain one
        (norm, key): sum(b < a for a, b in zip(per_seed("none", key), per_seed(norm, key),
                                               strict=True))
        for norm in ("bn", "noisy") for key in ("loss_range", "grad_change")
    }  # fmt: skip
    bn_both = all(smoother["bn", k] >= need for k in ("loss_range", "grad_change"))
    bn_one = any(smoother["bn", k] >= need for k in ("loss_range", "grad_change"))
    noisy_both = all(smoother["noisy", k] >= need for k in ("loss_range", "grad_change"))
    verdict = verdict_of(bn_both and noisy_both, partly=bn_one)
    final = {norm: [statistics.mean(c[-every:]) for c in curves[norm]] for norm in _NORMS}
    fig, axes = panels(3)
    at = [every * i for i in range(steps // every)]
    for norm, label in _NORMS.items():
        curve = np.mean([c[:steps] for c in curves[norm] if len(c) >= steps] or [[np.nan]], 0)
        window = max(1, steps // 30)
        axes[0].plot(np.convolve(curve, np.ones(window) / window, "valid"), label=label)
        for ax, key in zip(axes[1:], ("loss_range", "grad_change"), strict=True):
            ax.plot(at, np.mean([[p[key] for p in run] for run in probes[norm]], 0), "o-",
                    ms=3, label=label)  # fmt: skip
    axes[0].set(title=f"training loss (SGD, lr {lr})", xlabel="step", ylabel="cross-entropy")
    axes[1].set(title="loss variation along the gradient", xlabel="step",
                ylabel="max − min of L(θ − ηg)")  # fmt: skip
    axes[2].set(title="gradient predictiveness", xlabel="step",
                ylabel="max ‖∇L(θ − ηg) − g‖ / ‖g‖")  # fmt: skip
    for ax in axes:
        ax.legend(fontsize=8)
    axes[1].set_yscale("log")
    numbers: dict[str, Any] = {"seeds": len(seeds), "steps": steps, "lr": lr,
                               "train examples": n, "probe step sizes η": list(_ETAS)}  # fmt: skip
    for norm, label in _NORMS.items():
        for key in keys:
            numbers[f"{label}: {key} (mean, sd)"] = list(mean_sd(per_seed(norm, key)))
        numbers[f"{label}: final training loss (mean, sd)"] = list(mean_sd(final[norm]))
    for (norm, key), count in smoother.items():
        numbers[f"seeds where {_NORMS[norm]} has the lower {key}"] = count

    def measured(norm: str) -> str:
        return (f"loss range {pm(per_seed(norm, 'loss_range'))}, gradient change "
                f"{pm(per_seed(norm, 'grad_change'))}, β {pm(per_seed(norm, 'beta'))}, "
                f"final loss {pm(final[norm])}")  # fmt: skip

    condition = {
        "confirmed": "BN and noisy BN are both smoother than the plain net on both measures, "
        "although noisy BN's layer inputs shift at every step",
        "partly": "BN is smoother on "
        + (" and ".join(k for k in ("loss_range", "grad_change") if smoother["bn", k] >= need))
        + (", but noisy BN is not smoother on both measures" if bn_both else " only"),
        "refuted": "BN is not smoother than the plain net on either measure",
    }[verdict]  # fmt: skip
    explanation = (
        f"The same 8-hidden-layer ReLU MLP on {n} MNIST images (14×14), SGD at lr {lr} for "
        f"{steps} steps, {len(seeds)} seed(s), without BN, with danlu's BatchNorm1d, and with "
        "noisy BN (a random per-unit scale in [0.5, 1.5] and shift in [-1, 1], redrawn at every "
        f"step, after each BN); every {every} steps the loss and gradient are probed at "
        f"θ − ηg for η in {list(_ETAS)}. No BN: {measured('none')}. BN: {measured('bn')}. "
        f"Noisy BN: {measured('noisy')}. Verdict {verdict}: {condition}."
    )  # fmt: skip
    plain, bn, noisy = (statistics.mean(final[norm]) for norm in ("none", "bn", "noisy"))
    if plain < bn:
        explanation += (
            f" At this shared learning rate the smoother BN net does not train faster (final "
            f"loss {bn:.3g} vs {plain:.3g} without BN): what the smoothness buys is tolerance "
            "of larger steps (see bn_larger_lr_saturating)."
        )
    if noisy > 1.5 * bn:
        explanation += (
            f" Noisy BN stays smooth but trains slower than BN ({noisy:.3g} vs {bn:.3g}): with "
            "this much injected shift the moving inputs do cost progress here, more than "
            "Santurkar et al. report for theirs."
        )
    return Result(verdict, numbers, explanation, fig)


# ------------------------------------- (12) BN permits larger learning rates, sigmoid/tanh nets

_LR_SIZES = (196, *[64] * 8, 10)  # 14x14 MNIST, 8 hidden sigmoid/tanh layers of 64
_LOSS_TARGET, _WINDOW = 0.5, 20  # "trains": the 20-step mean minibatch loss reaches 0.5


def steps_to(losses: Sequence[float], target: float, window: int) -> int | None:
    """First step at which the mean of the last ``window`` losses is ≤ ``target`` (None when
    never, or when the loss became infinite)."""
    if not losses or not np.isfinite(losses[-1]):
        return None
    means = np.convolve(np.asarray(losses), np.ones(window) / window, "valid")  # (T - w + 1,)
    hits = np.nonzero(means <= target)[0]
    return int(hits[0]) + window - 1 if len(hits) else None


def _learning_rates(quick: bool) -> Result:
    seeds = range(1 if quick else 3)
    lrs = (0.1, 1.0) if quick else (0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
    steps, n = (30, 500) if quick else (200, 5000)
    acts, norms = ("sigmoid", "tanh"), ("none", "bn")
    # (act, norm, lr) -> per seed: steps to the target (None: never), minibatch losses
    reached: dict[tuple[str, str, float], list[int | None]] = {}
    curves: dict[tuple[str, str, float], list[list[float]]] = {}
    for seed in seeds:
        x, y, _, _ = _split("mnist", n, 0, seed, pool=2)
        for act in acts:
            for norm in norms:
                for lr in lrs:
                    torch.manual_seed(seed)
                    net = Net(_LR_SIZES, act, norm, init="xavier_normal")
                    losses, _ = _train(net, x, y, SGD(net.parameters(), lr=lr), steps, 64, seed)
                    reached.setdefault((act, norm, lr), []).append(
                        steps_to(losses, _LOSS_TARGET, _WINDOW)
                    )
                    curves.setdefault((act, norm, lr), []).append(losses)

    def lr_max(act: str, norm: str, s: int) -> float:  # largest lr that trains, 0 if none
        return max([lr for lr in lrs if reached[act, norm, lr][s] is not None], default=0.0)

    def fastest(act: str, norm: str, s: int) -> float:  # fewest steps to the target
        return min([float(reached[act, norm, lr][s] or np.inf) for lr in lrs])

    need = 2 if len(seeds) >= 3 else len(seeds)
    larger = {a: sum(lr_max(a, "bn", s) > lr_max(a, "none", s) for s in seeds) for a in acts}
    faster = {a: sum(fastest(a, "bn", s) < fastest(a, "none", s) for s in seeds) for a in acts}
    holds = all(larger[a] >= need and faster[a] >= need for a in acts)
    some = any(larger[a] >= need or faster[a] >= need for a in acts)
    verdict = verdict_of(holds, partly=some)
    fig, axes = panels(3)
    for ax, act in zip(axes[:2], acts, strict=True):
        for norm in norms:
            final = [statistics.mean(_final_loss(c) for c in curves[act, norm, lr])
                     for lr in lrs]  # fmt: skip
            ax.plot(lrs, final, "o-", label=_NORMS[norm])
        ax.axhline(_LOSS_TARGET, color="grey", ls=":", lw=0.8)
        ax.set_xscale("log")
        ax.set_xticks(lrs, [f"{lr:g}" for lr in lrs])
        ax.set_xticks([], minor=True)
        ax.set(yscale="log", title=f"{act}, 8 hidden layers",
               xlabel="SGD learning rate", ylabel="final training loss (capped at 10)")  # fmt: skip
        ax.legend(fontsize=8)
    for act in acts:
        for norm in norms:
            # the lr that reaches the target soonest; when none does, the lowest final loss
            best = min(lrs, key=lambda lr: (_fastest_at(reached[act, norm, lr]),
                                            _final_loss(curves[act, norm, lr][0])))  # fmt: skip
            never = " (never 0.5)" if reached[act, norm, best][0] is None else ""
            axes[2].plot(np.convolve(curves[act, norm, best][0], np.ones(5) / 5, "valid"),
                         label=f"{act}, {_NORMS[norm]}, lr {best:g}{never}")  # fmt: skip
    axes[2].set(title="loss at each net's best lr (seed 0)", xlabel="step",
                ylabel="minibatch loss (5-step mean)")  # fmt: skip
    axes[2].legend(fontsize=7)
    numbers: dict[str, Any] = {"seeds": len(seeds), "steps": steps, "train examples": n,
                               "learning rates": list(lrs),
                               "target loss": _LOSS_TARGET}  # fmt: skip
    for act in acts:
        for norm in norms:
            numbers[f"{act}, {_NORMS[norm]}: largest lr that trains, per seed"] = [
                lr_max(act, norm, s) for s in seeds
            ]
            numbers[f"{act}, {_NORMS[norm]}: fewest steps to loss 0.5, per seed"] = [
                fastest(act, norm, s) for s in seeds
            ]
        numbers[f"{act}: seeds where BN trains at a larger lr"] = larger[act]
        numbers[f"{act}: seeds where BN reaches the target sooner"] = faster[act]

    def said(act: str) -> str:
        lm = [(lr_max(act, "none", s), lr_max(act, "bn", s)) for s in seeds]
        fs = [(fastest(act, "none", s), fastest(act, "bn", s)) for s in seeds]
        return (f"{act}: largest learning rate that reaches loss {_LOSS_TARGET} "
                f"{', '.join(f'{a:g} vs {b:g}' for a, b in lm)} (no BN vs BN, per seed), fewest "
                f"steps {', '.join(f'{a:g} vs {b:g}' for a, b in fs)}")  # fmt: skip

    condition = "; ".join(
        f"for {a}, BN " + ("permits a larger learning rate" if larger[a] >= need else
                           "does not permit a larger learning rate")
        + (" and trains faster" if faster[a] >= need else " but does not train faster")
        for a in acts)  # fmt: skip
    explanation = (
        f"8-hidden-layer MLPs (width 64, Xavier init) on {n} MNIST images (14×14), SGD with "
        f"batch 64 for {steps} steps at learning rates {list(lrs)}, {len(seeds)} seed(s); a net "
        f"trains when its 20-step mean minibatch loss reaches {_LOSS_TARGET} (largest lr 0 and "
        "inf steps: never). "
        f"{said('sigmoid')}. {said('tanh')}. Verdict {verdict}: {condition}."
    )  # fmt: skip
    return Result(verdict, numbers, explanation, fig)


def _final_loss(losses: Sequence[float], cap: float = 10.0) -> float:
    """Mean of the last 20 minibatch losses, capped (a diverged run counts as ``cap``)."""
    if not np.isfinite(losses[-1]):
        return cap
    return min(statistics.mean(losses[-_WINDOW:]), cap)


def _fastest_at(reached: Sequence[int | None]) -> float:
    """Mean steps to the target over seeds, ∞ when a seed never reaches it."""
    return statistics.mean(float(r) if r is not None else np.inf for r in reached)


# --------------------------------------------------------- (13) BN replaces part of dropout

_DROP_SIZES = (196, 256, 256, 10)  # 14x14 Fashion-MNIST, 2 hidden ReLU layers
_DROP_CONFIGS = {"neither": ("none", 0.0), "dropout": ("none", 0.5), "BN": ("bn", 0.0),
                 "both": ("bn", 0.5)}  # fmt: skip


@torch.no_grad()
def _accuracy(net: nn.Module, x: Tensor, y: Tensor) -> float:
    net.eval()
    acc = float((net(x).argmax(-1) == y).float().mean())
    net.train()
    return acc


def _dropout(quick: bool) -> Result:
    seeds = range(1 if quick else 5)
    n_train, n_dev, epochs, batch = (300, 1000, 3, 50) if quick else (1000, 5000, 40, 50)
    steps = epochs * n_train // batch
    # config -> per seed: (train accuracy, dev accuracy)
    acc: dict[str, list[tuple[float, float]]] = {c: [] for c in _DROP_CONFIGS}
    for seed in seeds:
        x, y, xd, yd = _split("fashion-mnist", n_train, n_dev, seed, pool=2)
        for config, (norm, p) in _DROP_CONFIGS.items():
            torch.manual_seed(seed)
            net = Net(_DROP_SIZES, "relu", norm, dropout=p)
            _train(net, x, y, Adam(net.parameters(), lr=1e-3), steps, batch, seed)
            acc[config].append((_accuracy(net, x, y), _accuracy(net, xd, yd)))

    def dev(config: str) -> list[float]:
        return [d for _, d in acc[config]]

    def gap(config: str) -> list[float]:
        return [t - d for t, d in acc[config]]

    def delta(values: Callable[[str], list[float]], config: str) -> float:
        """Mean of ``values(config)`` minus the mean for the plain net."""
        return statistics.mean(values(config)) - statistics.mean(values("neither"))

    need = 4 if len(seeds) >= 5 else len(seeds)
    bn_beats = sum(b > a for a, b in zip(dev("neither"), dev("BN"), strict=True))
    gain_alone = statistics.mean(dev("dropout")) - statistics.mean(dev("neither"))
    gain_on_bn = statistics.mean(dev("both")) - statistics.mean(dev("BN"))
    helps_bn = bn_beats >= need
    overlap = gain_alone > 0 and gain_on_bn < gain_alone
    verdict = verdict_of(helps_bn and overlap, partly=helps_bn or overlap)
    fig, (a, b) = panels(2)
    names = list(_DROP_CONFIGS)
    for ax, values, label in ((a, dev, "dev accuracy"), (b, gap, "train − dev accuracy")):
        stats = [mean_sd(values(c)) for c in names]
        ax.bar(names, [m for m, _ in stats], yerr=[s for _, s in stats], capsize=4,
               color=["grey", "tab:blue", "tab:orange", "tab:green"])  # fmt: skip
        ax.set(title=f"{label} ({len(seeds)} seeds)", ylabel=label)
    lo = min(min(dev(c)) for c in names)
    a.set_ylim(max(0.0, lo - 0.03), min(1.0, max(max(dev(c)) for c in names) + 0.02))
    numbers: dict[str, Any] = {"seeds": len(seeds), "train examples": n_train,
                               "dev examples": n_dev, "epochs": epochs,
                               "dropout p": 0.5}  # fmt: skip
    for c in names:
        numbers[f"{c}: dev accuracy (mean, sd)"] = list(mean_sd(dev(c)))
        numbers[f"{c}: train − dev gap (mean, sd)"] = list(mean_sd(gap(c)))
    numbers["seeds where BN alone beats neither"] = bn_beats
    numbers["dropout's gain alone (dev acc)"] = gain_alone
    numbers["dropout's gain on top of BN (dev acc)"] = gain_on_bn
    condition = (
        "BN alone improves dev accuracy and dropout adds less on top of it than on its own"
        if verdict == "confirmed" else
        (f"BN alone beats the plain net in {bn_beats} of {len(seeds)} seeds, but only by "
         f"{delta(dev, 'BN'):+.4f}, changing the train − dev gap by {delta(gap, 'BN'):+.3f} "
         f"(dropout: {delta(gap, 'dropout'):+.3f}), and dropout's gain does not shrink on top "
         "of BN"
         if helps_bn else
         "dropout's gain shrinks on top of BN, but BN alone does not beat the plain net")
        if verdict == "partly" else
        "BN alone does not beat the plain net, and dropout's gain does not shrink on top of it"
    )  # fmt: skip
    explanation = (
        f"A 2-hidden-layer ReLU MLP (256 units) trained with Adam (lr 1e-3) for {epochs} epochs "
        f"on {n_train} Fashion-MNIST images (14×14), dev set of {n_dev}, {len(seeds)} seed(s). "
        + "; ".join(f"{c}: dev accuracy {pm(dev(c), '.4f')}, gap {pm(gap(c), '.3f')}"
                    for c in names)
        + f". BN alone beats neither in {bn_beats} of {len(seeds)} seeds; dropout adds "
        f"{gain_alone:+.4f} alone and {gain_on_bn:+.4f} on top of BN; BN alone changes the "
        f"mean dev accuracy by {delta(dev, 'BN'):+.4f} and the train − dev gap by "
        f"{delta(gap, 'BN'):+.3f}, dropout alone the gap by {delta(gap, 'dropout'):+.3f}. "
        f"Verdict {verdict}: {condition}."
    )  # fmt: skip
    return Result(verdict, numbers, explanation, fig)


# --------------------------------------------------------- (14) PCA and ZCA whitening

_PATCH = 8  # 8x8 patches: d = 64


def patches(images: np.ndarray, n: int, size: int, seed: int) -> Tensor:
    """``n`` random ``size``×``size`` patches (float64, pixels in [0, 1]) from the central
    region of (N, 28, 28) images, flattened: (n, size²)."""
    rng = np.random.default_rng(seed)
    which = rng.integers(0, len(images), n)
    top, left = rng.integers(4, 24 - size + 1, (2, n))
    rows = top[:, None] + np.arange(size)  # (n, size)
    cols = left[:, None] + np.arange(size)
    cut = images[which[:, None, None], rows[:, :, None], cols[:, None, :]]  # (n, size, size)
    return torch.from_numpy(cut.reshape(n, -1)).double() / 255.0


def whitening_distance(x: Tensor, mean: Tensor, w: Tensor) -> float:
    """Mean squared distance E‖W(x - μ) - (x - μ)‖² / d between whitened and centred data."""
    centred = x - mean  # (n, d)
    return float(((centred @ w.T - centred) ** 2).sum(-1).mean() / x.shape[1])


def rotated_distances(x: Tensor, mean: Tensor, w: Tensor, qs: Sequence[Tensor]) -> list[float]:
    """:func:`whitening_distance` of every whitening Q·W for Q in ``qs``, in one pass.

    With C = x - μ (n, d) and Z = C Wᵀ: ‖Z Qᵀ - C‖²_F = ‖Z‖²_F + ‖C‖²_F - 2 tr(Q ZᵀC), since
    Q is orthogonal; ZᵀC (d, d) is computed once.
    """
    centred = x - mean  # (n, d)
    z = centred @ w.T  # (n, d)
    cross = z.T @ centred  # (d, d)
    base = float((z**2).sum() + (centred**2).sum())
    n, d = x.shape
    return [(base - 2 * float((q * cross.T).sum())) / (n * d) for q in qs]


def _whitening(quick: bool) -> Result:
    seeds = range(1 if quick else 5)
    n, rotations, d = (2000, 20, _PATCH**2) if quick else (20000, 200, _PATCH**2)
    images, _ = idx_images("mnist")
    eye = torch.eye(d, dtype=torch.float64)
    rows = []
    for seed in seeds:
        x = patches(images, n, _PATCH, seed)  # (n, 64) float64
        held_out = patches(images, n, _PATCH, seed + 1000)
        pca, zca = (
            PCAWhitening(d, eps=1e-8).double().fit(x),
            ZCAWhitening(d, eps=1e-8).double().fit(x),
        )
        cov = {name: torch.cov(t.transform(x).T) for name, t in (("PCA", pca), ("ZCA", zca))}
        cov_held = {name: torch.cov(t.transform(held_out).T) for name, t in
                    (("PCA", pca), ("ZCA", zca))}  # fmt: skip
        # every whitening matrix is Q·W_pca with Q orthogonal; draw random Q (Haar) with danlu
        gen = torch.Generator().manual_seed(seed)
        qs = [
            orthogonal_(torch.empty(d, d, dtype=torch.float64), generator=gen)
            for _ in range(rotations)
        ]  # (d, d) each
        others = rotated_distances(x, pca.mean, pca.matrix, qs)
        rows.append({
            "cov_err": {k: float((c - eye).abs().max()) for k, c in cov.items()},
            "held_err": {k: float((c - eye).abs().max()) for k, c in cov_held.items()},
            "dist": {"PCA": whitening_distance(x, pca.mean, pca.matrix),
                     "ZCA": whitening_distance(x, zca.mean, zca.matrix)},
            "others": others, "x": x, "pca": pca, "zca": zca,
            "eigen": torch.linalg.eigvalsh(torch.cov(x.T)).flip(0),
        })  # fmt: skip
    identity = all(max(r["cov_err"].values()) <= 0.05 for r in rows)
    closest = all(r["dist"]["ZCA"] < min(r["dist"]["PCA"], *r["others"]) for r in rows)
    verdict = verdict_of(identity and closest, partly=identity or closest)
    fig, axes = panels(3)
    first = rows[0]
    axes[0].semilogy(first["eigen"], "o-", ms=2, label="patch covariance")
    for name in ("PCA", "ZCA"):
        t = first[name.lower()]
        axes[0].semilogy(torch.linalg.eigvalsh(torch.cov(t.transform(first["x"]).T)).flip(0),
                         ".", ms=3, label=f"after {name}")  # fmt: skip
    axes[0].set(title=f"covariance eigenvalues ({_PATCH}×{_PATCH} MNIST patches)",
                xlabel="index", ylabel="eigenvalue")  # fmt: skip
    axes[0].legend(fontsize=8)
    axes[1].hist(first["others"], bins=30, color="grey", label="random whitenings Q·W_pca")
    for name, color in (("PCA", "tab:blue"), ("ZCA", "tab:orange")):
        axes[1].axvline(first["dist"][name], color=color, lw=2, label=name)
    axes[1].set(title="distance to the input, seed 0", xlabel="E‖z − (x − μ)‖² / d",
                ylabel="count")  # fmt: skip
    axes[1].legend(fontsize=8)
    inked = first["x"].sum(-1).argsort(descending=True)[:: n // 6][:6]  # varied patches
    shown = first["x"][inked]  # (6, 64)
    tiles = [shown - first["pca"].mean, first["pca"].transform(shown),
             first["zca"].transform(shown)]  # fmt: skip
    grid = torch.cat(
        [
            (t / t.abs().amax(-1, keepdim=True))
            .reshape(6, _PATCH, _PATCH)
            .permute(1, 0, 2)
            .reshape(_PATCH, -1)
            for t in tiles
        ]
    )  # (3·8, 6·8)
    axes[2].imshow(grid.numpy(), cmap="gray", vmin=-1, vmax=1)
    axes[2].set(title="centred input / PCA / ZCA (rows)", xticks=[], yticks=[])
    numbers: dict[str, Any] = {"seeds": len(seeds), "patches": n, "dimension": d,
                               "random whitenings per seed": rotations}  # fmt: skip
    for name in ("PCA", "ZCA"):
        numbers[f"{name}: max |cov − I| on the fitted patches, per seed"] = [
            r["cov_err"][name] for r in rows
        ]
        numbers[f"{name}: max |cov − I| on held-out patches, per seed"] = [
            r["held_err"][name] for r in rows
        ]
        numbers[f"{name}: distance to the input, per seed"] = [r["dist"][name] for r in rows]
    numbers["random whitenings: smallest distance, per seed"] = [min(r["others"]) for r in rows]
    numbers["condition number of the patch covariance (seed 0)"] = float(
        first["eigen"][0] / first["eigen"][-1]
    )
    worst = max(max(r["cov_err"].values()) for r in rows)
    condition = (
        ("both whitenings give identity covariance" if identity else
         f"the whitened covariance is off identity by up to {worst:.3g}")
        + (" and ZCA is the closest to the input" if closest else
           ", but ZCA is not always the closest to the input")
    )  # fmt: skip
    explanation = (
        f"danlu's PCAWhitening and ZCAWhitening fitted on {n} random {_PATCH}×{_PATCH} MNIST "
        f"patches (d = {d}, covariance condition number "
        f"{numbers['condition number of the patch covariance (seed 0)']:.3g}), {len(seeds)} "
        f"seed(s). On the fitted patches the whitened covariance is within "
        f"{max(r['cov_err']['PCA'] for r in rows):.2g} (PCA) and "
        f"{max(r['cov_err']['ZCA'] for r in rows):.2g} (ZCA) of the identity entrywise (held-out "
        f"patches: {max(r['held_err']['PCA'] for r in rows):.2g}, sampling error): both give unit "
        f"variance and no correlation, so the notes' 'ZCA: equal variance' is the same identity. "
        f"The mean squared distance to the centred input is "
        f"{pm([r['dist']['ZCA'] for r in rows])} for ZCA, {pm([r['dist']['PCA'] for r in rows])} "
        f"for PCA and at least {min(min(r['others']) for r in rows):.3g} for {rotations} random "
        f"whitenings Q·W_pca per seed. Verdict {verdict}: {condition}."
    )  # fmt: skip
    return Result(verdict, numbers, explanation, fig)


CLAIMS: tuple[Claim, ...] = (
    Claim(
        id="bn_reduces_covariate_shift",
        theme="normalization",
        sources=("000", "001"),
        quote="由于网络是 deep 的,每一层的输出变化会导致下一层输入数据的偏移……"
        "BN可以解决数据分布的问题,使后面的网络不用根据前面的数据大幅度调整",
        protocol="An MLP with 8 hidden ReLU layers of 64 (He init) on 10,000 MNIST images "
        "(14×14), trained with danlu's SGD (batch 128, 300 steps) at lr 0.005, 0.02 and 0.05, "
        "without and with danlu's BatchNorm1d after every hidden Linear, 5 seeds. Every 30 "
        "steps, for each layer i ≥ 2: the layers before i take their SGD step on the current "
        "batch (Santurkar et al. 2018), and we measure (a) the shift of layer i's input "
        "distribution (2-Wasserstein distance of the per-unit Gaussian fits, in units of the "
        "units' sd) and (b) the relative change ‖G_i − G′_i‖/‖G_i‖ of layer i's weight "
        "gradient (cosine reported); averaged over layers and probes.",
        criterion="A measure is lowered at a learning rate if BN's value is below the plain "
        "net's in ≥ 4 of 5 seeds. Confirmed if BN lowers both (a) and (b) at every learning "
        "rate; partly if it lowers either at some learning rate; refuted if it lowers neither "
        "anywhere.",
        run=_ics,
    ),
    Claim(
        id="bn_smooths_landscape",
        theme="normalization",
        sources=("004",),
        quote="他们认为BN主要作用是使得整个损失函数的landscape更为平滑,从而使得我们可以更平稳地进行训练",
        protocol="The MLP of bn_reduces_covariate_shift (10,000 MNIST images, 14×14) trained "
        "with danlu's SGD at lr 0.02 for 300 steps, 5 seeds, three ways: no BN, danlu's "
        "BatchNorm1d, and noisy BN (BatchNorm1d followed by a per-unit scale ~ U(0.5, 1.5) and "
        "shift ~ U(−1, 1) redrawn every step). Every 30 steps, along the gradient g of the "
        "current batch at η ∈ {0.01, 0.02, 0.05, 0.1, 0.2}: the loss range max−min L(θ−ηg) "
        "and the gradient predictiveness max ‖∇L(θ−ηg) − g‖/‖g‖ (effective β-smoothness "
        "reported), averaged over the probes of a run.",
        criterion="Confirmed if BN has a smaller loss range and a smaller gradient change than "
        "the plain net in ≥ 4 of 5 seeds each, and so has noisy BN (smoothness without stable "
        "layer inputs); partly if BN is smoother on only one measure, or on both while noisy "
        "BN is not; refuted if BN is smoother on neither.",
        run=_smooth,
    ),
    Claim(
        id="bn_larger_lr_saturating",
        theme="normalization",
        sources=("000", "001", "004"),
        quote="此外,BN可以用 sigmoid,tanh 并且缓解梯度消失(000)……还允许我们用更大的学习率(004)",
        protocol="MLPs with 8 hidden sigmoid or tanh layers of 64 (Xavier init), without and "
        "with danlu's BatchNorm1d, on 5,000 MNIST images (14×14); danlu's SGD, batch 64, 200 "
        "steps, at lr 0.03, 0.1, 0.3, 1, 3, 10; 3 seeds. A run trains if its 20-step mean "
        "minibatch loss reaches 0.5 (and stays finite); per seed we take the largest lr that "
        "trains and the fewest steps to 0.5 over the grid.",
        criterion="Confirmed if, for both sigmoid and tanh, in ≥ 2 of 3 seeds BN's largest "
        "training lr is larger than the plain net's and BN reaches loss 0.5 in fewer steps "
        "(at its best lr); partly if either holds for at least one activation; refuted "
        "otherwise.",
        run=_learning_rates,
    ),
    Claim(
        id="bn_replaces_dropout",
        theme="normalization",
        sources=("000",),
        quote="BN也可以取代一部分 dropout 的功能",
        protocol="A 2-hidden-layer ReLU MLP (256 units) on 1,000 Fashion-MNIST images (14×14), "
        "dev set of 5,000, trained with danlu's Adam (lr 1e-3, batch 50, 40 epochs): neither, "
        "danlu's Dropout(0.5) only, danlu's BatchNorm1d only, both; 5 seeds; final dev "
        "accuracy and train−dev accuracy gap.",
        criterion="Confirmed if (i) BN alone beats neither on dev accuracy in ≥ 4 of 5 seeds "
        "and (ii) dropout helps alone (mean gain > 0) but its mean gain on top of BN is "
        "smaller; partly if only one of (i), (ii) holds; refuted if neither.",
        run=_dropout,
    ),
    Claim(
        id="pca_zca_whitening",
        theme="normalization",
        sources=("000",),
        quote="其中PCA白化保证了所有特征分布均值为0,方差为1;而ZCA白化则保证了所有特征分布均值为0,方差相同",
        protocol="danlu's PCAWhitening and ZCAWhitening (ε = 1e-8) fitted on 20,000 random "
        "8×8 patches of MNIST (d = 64), 5 seeds: the whitened covariance against the identity "
        "(on the fitted and on held-out patches), and the mean squared distance "
        "E‖z − (x − μ)‖²/d to the centred input for ZCA, PCA and 200 random whitenings "
        "Q·W_pca (Q Haar-orthogonal from danlu.functional.orthogonal_).",
        criterion="Confirmed if in every seed both whitened covariances are within 0.05 of the "
        "identity entrywise on the fitted patches and ZCA's distance to the input is smaller "
        "than PCA's and than every random whitening's; partly if only one of the two holds; "
        "refuted otherwise.",
        run=_whitening,
    ),
)
