"""Claims of the notes about regularization: L1 against L2, dropout, early stopping, and how
more data or a less flexible model closes the gap between training and validation error.

The penalties are danlu's (:class:`danlu.optim.SGD`'s ``l1`` and ``weight_decay``), dropout is
:class:`danlu.nn.MLP`'s, early stopping is :class:`danlu.train.trainer.Trainer`'s
(``--early-stop-metric val_loss --patience N``). The networks train on subsets of MNIST's
training file; the data-size and flexibility claim fits polynomials to the course's COVID
table (``covid-hw1``), read with :func:`danlu.data.read_csv`.
"""

from __future__ import annotations

import itertools
import math
import statistics
import tempfile
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from danlu.data import Standardizer, TensorData, read_csv
from danlu.lab.claim import Claim, Result, verdict_of
from danlu.lab.data import mnist_rows, shared_data
from danlu.lab.plots import panels
from danlu.lab.stats import at_least, mean_sd
from danlu.nn import MLP, init_weights
from danlu.optim import SGD
from danlu.train.checkpoint import load_safetensors
from danlu.train.config import TrainConfig
from danlu.train.early_stopping import EarlyStopping
from danlu.train.trainer import Trainer

__all__ = ["CLAIMS", "near_zero_fraction", "polynomial_features", "spearman"]

# ------------------------------------------------------------------------------ shared parts


def _relu_mlp(hidden: Sequence[int], seed: int, dropout: float = 0.0) -> MLP:
    """784 -> hidden -> 10, ReLU, He init from ``seed``."""
    model = MLP(784, 10, hidden=tuple(hidden), activation="relu", dropout=dropout)
    return init_weights(model, "he_normal", generator=torch.Generator().manual_seed(seed))


def _batches(n: int, batch: int, steps: int, seed: int) -> Tensor:
    """(steps, batch) random example indices in [0, n), reproducible from ``seed``."""
    g = torch.Generator().manual_seed(10_000 + seed)
    return torch.randint(0, n, (steps, batch), generator=g)


def _accuracy(model: torch.nn.Module, x: Tensor, y: Tensor) -> float:
    """Accuracy in eval mode (dropout off)."""
    was = model.training
    model.eval()
    with torch.no_grad():
        acc = float((model(x).argmax(-1) == y).float().mean())
    model.train(was)
    return acc


# ------------------------------------------------------------ (21) L1 sparse, L2 small


def near_zero_fraction(weights: Tensor, tol: float = 1e-3) -> float:
    """Fraction of the entries of ``weights`` with ``|w| < tol``.

    Example:
        >>> near_zero_fraction(torch.tensor([0.0, 1e-4, -2e-3, 0.5]))
        0.5
    """
    return float((weights.abs() < tol).float().mean())


def _penalized(l1: float, weight_decay: float, x: Tensor, y: Tensor, xd: Tensor, yd: Tensor,
               steps: int, seed: int) -> dict[str, Any]:  # fmt: skip
    """784-100-10 trained by SGD (lr 0.1, momentum 0.9, batch 64) with danlu's coupled L1
    (``l1``: g ← g + λ₁ sign θ) and L2 (``weight_decay``: g ← g + λ θ); the first layer's
    weights and the dev accuracy."""
    model = _relu_mlp((100,), seed)
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9, l1=l1, weight_decay=weight_decay)
    for idx in _batches(len(x), 64, steps, seed):
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    w = model.layers[0].weight.detach().flatten()  # (100 * 784,)
    return {"w": w, "near_zero": near_zero_fraction(w), "rms": float(w.pow(2).mean().sqrt()),
            "max": float(w.abs().max()), "dev": _accuracy(model, xd, yd)}  # fmt: skip


def _l1_l2(quick: bool) -> Result:
    seeds = range(1 if quick else 5)
    n, steps = (1000, 120) if quick else (5000, 1500)
    x, y = mnist_rows(0, n)
    xd, yd = mnist_rows(n, 2000)
    lam2 = 1e-3  # a usual weight decay
    runs: dict[str, list[dict[str, Any]]] = {"none": [], "L1": [], "L2": []}
    lam1s = []
    for seed in seeds:
        runs["none"].append(_penalized(0.0, 0.0, x, y, xd, yd, steps, seed))
        # L1 pulls with λ₁, L2 with λ₂|w|: equal pull on a weight of the unpenalized RMS
        lam1s.append(lam2 * runs["none"][-1]["rms"])
        runs["L1"].append(_penalized(lam1s[-1], 0.0, x, y, xd, yd, steps, seed))
        runs["L2"].append(_penalized(0.0, lam2, x, y, xd, yd, steps, seed))
    col = lambda k, key: [r[key] for r in runs[k]]  # noqa: E731
    mean = lambda k, key: statistics.mean(col(k, key))  # noqa: E731
    sparse = [a["near_zero"] >= 3 * b["near_zero"] and a["near_zero"] >= 3 * c["near_zero"]
              for a, b, c in zip(runs["L1"], runs["L2"], runs["none"], strict=True)]  # fmt: skip
    small = [b["rms"] < c["rms"] and b["max"] < c["max"]
             for b, c in zip(runs["L2"], runs["none"], strict=True)]  # fmt: skip
    holds = all(sparse) and all(small)
    partly = all(sparse) or all(small)

    fig, (a, b, c) = panels(3)
    bins = np.linspace(-8, 0.5, 60)
    names = ("none", "L1", "L2")
    for k, name in enumerate(names):
        w = runs[name][0]["w"].abs().clamp_min(1e-8).log10().numpy()
        a.hist(w, bins=bins, histtype="step", color=f"C{k}", label=name)
    a.axvline(-3, color="grey", ls=":", lw=0.8)
    a.set(title="first-layer weights (seed 0)", xlabel="log10 |w|", ylabel="count")
    a.legend(fontsize=8)
    for k, name in enumerate(names):
        m, s = mean_sd(col(name, "near_zero"))
        b.bar(k, m, yerr=s, color=f"C{k}", capsize=3)
        for j, key in enumerate(("rms", "max")):
            m, s = mean_sd(col(name, key))
            c.bar(j * 4 + k, m, yerr=s, color=f"C{k}", capsize=3, label=name if j == 0 else None)
    b.set_xticks(range(3), names)
    b.set(title="weights with |w| < 1e-3", ylabel="fraction")
    c.set_xticks([1, 5], ["RMS |w|", "max |w|"])
    c.set(title="size of the weights", yscale="log")
    c.legend(fontsize=8)

    numbers: dict[str, Any] = {
        "seeds": len(seeds), "steps": steps, "examples": n, "weight_decay (L2)": lam2,
        "l1 (mean over seeds)": float(f"{statistics.mean(lam1s):.3g}"),
    }  # fmt: skip
    for name in names:
        for key, what in (("near_zero", "fraction |w| < 1e-3"), ("rms", "RMS of w"),
                          ("max", "max |w|"), ("dev", "dev accuracy")):  # fmt: skip
            numbers[f"{name}: {what} (mean, sd)"] = mean_sd(col(name, key))
    explanation = (
        f"With the same pull on a weight of typical size (L2 λ = {lam2:g}, L1 λ₁ = "
        f"{statistics.mean(lam1s):.2g}), L1 leaves {mean('L1', 'near_zero'):.0%} of the first "
        f"layer's weights below 1e-3 in absolute value, against {mean('L2', 'near_zero'):.1%} "
        f"with L2 and {mean('none', 'near_zero'):.1%} without a penalty: the constant pull "
        f"λ₁·sign(w) parks every weight the data does not defend at zero (SGD leaves it "
        f"jittering within about lr·λ₁/(1 − momentum) of it). L2 shrinks all weights instead: RMS "
        f"{mean('L2', 'rms'):.3f} against {mean('none', 'rms'):.3f} without a penalty, and the "
        f"largest weight {mean('L2', 'max'):.2f} against {mean('none', 'max'):.2f} (L1: "
        f"{mean('L1', 'max'):.2f}). Dev accuracy: none {mean('none', 'dev'):.3f}, L1 "
        f"{mean('L1', 'dev'):.3f}, L2 {mean('L2', 'dev'):.3f}."
    )
    verdict = verdict_of(holds, partly)
    if verdict == "partly":
        explanation += (" Partly: " + ("L1 is sparse in every seed but L2 does not shrink both "
                        "the RMS and the largest weight in every seed" if all(sparse) else
                        "L2 shrinks the weights but L1 is not ≥ 3× sparser in every seed")
                        + ".")  # fmt: skip
    return Result(verdict, numbers, explanation, fig)


# ------------------------------------------------------------------- (22) dropout


def _dropout_run(p: float, x: Tensor, y: Tensor, xd: Tensor, yd: Tensor, hidden: Sequence[int],
                 steps: int, seed: int) -> dict[str, Any]:  # fmt: skip
    """784-hidden-10 with dropout ``p`` after each hidden layer, SGD lr 0.01 momentum 0.9,
    batch 64; accuracies on the training and dev sets every 100 steps and at the end."""
    torch.manual_seed(seed)  # the dropout masks
    model = _relu_mlp(hidden, seed, dropout=p)
    opt = SGD(model.parameters(), lr=0.01, momentum=0.9)
    curve = []
    for t, idx in enumerate(_batches(len(x), 64, steps, seed), start=1):
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if t % 100 == 0 or t == steps:
            curve.append((t, _accuracy(model, x, y), _accuracy(model, xd, yd)))
    _, train, dev = curve[-1]
    return {"train": train, "dev": dev, "gap": train - dev, "curve": curve}


def _dropout(quick: bool) -> Result:
    seeds = range(1 if quick else 5)
    n, hidden, steps = (300, (64, 64), 150) if quick else (1000, (256, 256), 1500)
    x, y = mnist_rows(0, n)
    xd, yd = mnist_rows(n, 2000)
    runs = {p: [_dropout_run(p, x, y, xd, yd, hidden, steps, s) for s in seeds] for p in (0.0, 0.5)}
    col = lambda p, key: [r[key] for r in runs[p]]  # noqa: E731
    mean = lambda p, key: statistics.mean(col(p, key))  # noqa: E731
    narrower = [d["gap"] < o["gap"] for o, d in zip(runs[0.0], runs[0.5], strict=True)]
    better = [d["gap"] < o["gap"] and d["dev"] >= o["dev"]
              for o, d in zip(runs[0.0], runs[0.5], strict=True)]  # fmt: skip
    holds, partly = at_least(better, 0.8), at_least(narrower, 0.8)

    fig, (a, b) = panels(2)
    for k, p in enumerate((0.0, 0.5)):
        t, train, dev = zip(*runs[p][0]["curve"], strict=True)
        label = "no dropout" if p == 0 else f"dropout {p:g}"
        a.plot(t, train, "--", color=f"C{k}", label=f"{label}, train")
        a.plot(t, dev, "-", color=f"C{k}", label=f"{label}, dev")
    a.set(title="accuracy (seed 0)", xlabel="step", ylabel="accuracy")
    a.legend(fontsize=8)
    for o, d in zip(runs[0.0], runs[0.5], strict=True):
        b.plot([0, 1], [o["gap"], d["gap"]], "o-", color="grey", alpha=0.6)
    b.set_xticks([0, 1], ["no dropout", "dropout 0.5"])
    b.set(title="train − dev accuracy, per seed", ylabel="gap", xlim=(-0.4, 1.4))

    numbers: dict[str, Any] = {"seeds": len(seeds), "training examples": n, "dev examples": 2000,
                               "hidden": list(hidden), "steps": steps}  # fmt: skip
    for p in (0.0, 0.5):
        label = "no dropout" if p == 0 else f"dropout {p:g}"
        for key, what in (("train", "train accuracy"), ("dev", "dev accuracy"),
                          ("gap", "train − dev gap")):  # fmt: skip
            numbers[f"{label}: {what} (mean, sd)"] = mean_sd(col(p, key))
    explanation = (
        f"Trained on {n} MNIST images for {steps} steps, the {'-'.join(map(str, hidden))} ReLU "
        f"MLP without dropout reaches {mean(0.0, 'train'):.1%} training and "
        f"{mean(0.0, 'dev'):.1%} dev accuracy (gap {mean(0.0, 'gap'):.3f}); with dropout 0.5 "
        f"after each hidden layer it reaches {mean(0.5, 'train'):.1%} and {mean(0.5, 'dev'):.1%} "
        f"(gap {mean(0.5, 'gap'):.3f}). The gap is narrower with dropout in {sum(narrower)} of "
        f"{len(narrower)} seeds, and narrower with a dev accuracy at least as high in "
        f"{sum(better)}."
    )
    verdict = verdict_of(holds, partly)
    if verdict == "partly":
        explanation += (" Partly: dropout narrows the gap, but in fewer than 80 % of the seeds "
                        "does it also keep the dev accuracy at least as high.")  # fmt: skip
    return Result(verdict, numbers, explanation, fig)


# ------------------------------------------------------------- (23) early stopping


def _early_fit(patience: int, x: Tensor, y: Tensor, xd: Tensor, yd: Tensor,
               hidden: Sequence[int], epochs: int, seed: int) -> dict[str, Any]:  # fmt: skip
    """Train with danlu's Trainer watching ``val_loss`` every epoch (``patience`` 0: never
    stop); the history, the final metrics and the dev loss of the saved model file."""

    def loss_fn(model: torch.nn.Module, batch: tuple[Tensor, Tensor]) -> Tensor:
        return F.cross_entropy(model(batch[0]), batch[1])

    def evaluate(model: torch.nn.Module) -> dict[str, float]:
        return {"val_loss": float(F.cross_entropy(model(xd), yd))}

    config = TrainConfig(
        epochs=epochs, batch_size=64, lr=0.01, optimizer="momentum", seed=seed,
        early_stop_metric="val_loss", patience=patience, quiet=True, log_every=1000,
        threads=torch.get_num_threads(),  # keep the lab's thread count
    )  # fmt: skip
    model = _relu_mlp(hidden, seed)
    with tempfile.TemporaryDirectory() as out:
        trainer = Trainer(model, loss_fn, TensorData(x, y), config, out, evaluate=evaluate)
        final = trainer.fit()
        saved = _relu_mlp(hidden, seed)
        saved.load_state_dict(load_safetensors(f"{out}/model.safetensors"))
    saved.eval()
    with torch.no_grad():
        saved_loss = evaluate(saved)["val_loss"]
    epoch_of = {h["step"]: h["epoch"] for h in trainer.history}
    return {"curve": [h["val_loss"] for h in trainer.history],  # epochs 1, 2, ...
            "picked": epoch_of[final["best_step"]], "best": final["val_loss"],
            "saved": saved_loss, "stopped": final["stopped_early"],
            "epochs": final["epochs"]}  # fmt: skip


def _replay(curve: Sequence[float], patience: int) -> tuple[int, int]:
    """danlu's EarlyStopping fed a validation curve: (picked epoch, epochs run), 1-based."""
    stopper = EarlyStopping("val_loss", patience=patience)
    for epoch, value in enumerate(curve, start=1):
        stopper.update({"val_loss": value}, step=epoch)
        if stopper.should_stop:
            return stopper.best_step, epoch
    return stopper.best_step, len(curve)


def _early_stopping(quick: bool) -> Result:
    seeds = range(1 if quick else 5)
    n, hidden, epochs, patience = (300, (64, 64), 6, 2) if quick else (1000, (256, 256), 30, 3)
    x, y = mnist_rows(0, n)
    xd, yd = mnist_rows(n, 2000)
    rows = []
    for seed in seeds:
        stopped = _early_fit(patience, x, y, xd, yd, hidden, epochs, seed)
        full = _early_fit(0, x, y, xd, yd, hidden, epochs, seed)["curve"]
        k = len(stopped["curve"])
        rows.append({**stopped, "full": full, "argmin": int(np.argmin(full)) + 1,
                     "minimum": min(full), "same_path": max(abs(a - b) for a, b in zip(
                         stopped["curve"], full[:k], strict=True))})  # fmt: skip
    saved_ok = [abs(r["saved"] - r["best"]) <= 1e-5 * abs(r["best"]) for r in rows]
    close = [r["best"] <= 1.01 * r["minimum"] for r in rows]
    holds = all(saved_ok) and all(close)
    partly = all(saved_ok)
    patiences = list(range(1, 11)) if not quick else [1, 2, 3]
    excess = {p: [] for p in patiences}  # relative excess of the picked over the minimum
    ran = {p: [] for p in patiences}
    for r in rows:
        for p in patiences:
            picked, epochs_run = _replay(r["full"], p)
            excess[p].append(r["full"][picked - 1] / r["minimum"] - 1)
            ran[p].append(epochs_run)
    replay_agrees = all(_replay(r["full"], patience)[0] == r["picked"] for r in rows)

    fig, (a, b) = panels(2)
    r0 = rows[0]
    a.plot(range(1, len(r0["full"]) + 1), r0["full"], ".-", color="C0", label="validation loss")
    a.axvline(len(r0["curve"]), color="grey", ls=":", label=f"stopped (patience {patience})")
    a.plot(r0["picked"], r0["best"], "*", ms=12, color="C3", label="saved model")
    a.plot(r0["argmin"], r0["minimum"], "o", ms=9, mfc="none", color="k", label="true minimum")
    a.set(title="validation loss (seed 0)", xlabel="epoch", ylabel="cross-entropy")
    a.legend(fontsize=8)
    b.plot(patiences, [100 * statistics.mean(excess[p]) for p in patiences], "o-", color="C0")
    b.set(title="EarlyStopping replayed on full curves", xlabel="patience",
          ylabel="picked loss above the minimum (%)")  # fmt: skip
    b2 = b.twinx()
    b2.plot(patiences, [statistics.mean(ran[p]) for p in patiences], "s--", color="C1")
    b2.set_ylabel("epochs trained", color="C1")

    numbers: dict[str, Any] = {
        "seeds": len(seeds), "epochs": epochs, "patience": patience, "training examples": n,
        "picked epoch per seed": [r["picked"] for r in rows],
        "true argmin epoch per seed": [r["argmin"] for r in rows],
        "epochs trained per seed": [r["epochs"] for r in rows],
        "picked val loss above the minimum, % (mean, sd)":
            mean_sd([100 * (r["best"] / r["minimum"] - 1) for r in rows]),
        "last-epoch val loss above the minimum, % (mean, sd)":
            mean_sd([100 * (r["full"][-1] / r["minimum"] - 1) for r in rows]),
        "saved model's val loss minus the recorded best (max abs)":
            max(abs(r["saved"] - r["best"]) for r in rows),
        "stopped and full runs identical up to the stop (max abs diff)":
            max(r["same_path"] for r in rows),
        "replay of EarlyStopping picks the Trainer's epoch": replay_agrees,
        "replay: picked loss above the minimum by patience, % (mean)":
            {str(p): round(100 * statistics.mean(excess[p]), 3) for p in patiences},
    }  # fmt: skip
    exact = sum(r["picked"] == r["argmin"] for r in rows)
    saved_diff = max(abs(r["saved"] - r["best"]) for r in rows)
    explanation = (
        f"With patience {patience}, danlu's Trainer stopped after "
        f"{statistics.mean(r['epochs'] for r in rows):.1f} of {epochs} epochs on average and "
        f"kept the weights of the epoch with the lowest validation loss it had seen: the saved "
        f"model file's validation loss differs from that recorded best by at most "
        f"{saved_diff:.1e} ({sum(saved_ok)} of {len(rows)} seeds within 1e-5 relative). "
        f"That epoch is the true minimum of the {epochs}-epoch curve in {exact} of {len(rows)} "
        f"seeds, and its loss is within 1 % of the minimum in {sum(close)}; training to the "
        f"end instead would have cost "
        f"{statistics.mean(100 * (r['full'][-1] / r['minimum'] - 1) for r in rows):.1f} % more "
        f"validation loss. Replayed on the full curves, a patience of 1 picks a loss "
        f"{100 * statistics.mean(excess[patiences[0]]):.2f} % above the minimum and a patience "
        f"of {patiences[-1]} {100 * statistics.mean(excess[patiences[-1]]):.2f} %: early "
        f"stopping finds the lowest point of the curve it has seen, which is the global one "
        f"only if the curve does not dip again after the patience runs out."
    )
    verdict = verdict_of(holds, partly)
    if verdict == "partly":
        explanation += (
            " Partly: the saved model is the best seen, but in some seed "
            f"patience {patience} stopped before a point more than 1 % lower."
        )
    return Result(verdict, numbers, explanation, fig)


# ------------------------------------------- (24) more data, less flexibility: smaller gap


def polynomial_features(z: np.ndarray, degree: int) -> np.ndarray:
    """Every monomial of the columns of ``z`` (n, k) of total degree 0 .. ``degree``:
    (n, C(degree + k, k)), the constant first.

    Example:
        >>> polynomial_features(np.array([[2.0, 3.0]]), 2).tolist()
        [[1.0, 2.0, 3.0, 4.0, 6.0, 9.0]]
    """
    cols = [np.ones(len(z))]
    for d in range(1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(z.shape[1]), d):
            cols.append(np.prod(z[:, list(combo)], axis=1))
    return np.stack(cols, axis=1)


def _ranks(values: Sequence[float]) -> np.ndarray:
    """1-based ranks, ties sharing their average rank."""
    v = np.asarray(values, dtype=np.float64)
    order = np.argsort(v, kind="stable")
    ranks = np.empty(len(v))
    ranks[order] = np.arange(1, len(v) + 1)
    for value in np.unique(v):
        tied = v == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation: Pearson's correlation of the ranks (ties averaged).

    Example:
        >>> spearman([1, 2, 3, 4], [10, 20, 30, 25])
        0.8
    """
    ra, rb = _ranks(a), _ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    return float((ra * rb).sum() / math.sqrt((ra * ra).sum() * (rb * rb).sum()))


_COVID_FEATURES = ("cli.4", "hh_cmnty_cli.4")  # last day's survey rates: % with COVID-like
# illness, % knowing someone in their community with it; target: last day's tested_positive


def _covid() -> tuple[np.ndarray, np.ndarray]:
    """The two survey features (rows, 2) and the target (rows,) of covid.train.csv."""
    table = read_csv(shared_data("covid-hw1", "covid.train.csv"))
    x = table.numeric([table.columns.index(c) for c in _COVID_FEATURES])
    return x, table.numeric([len(table.columns) - 1])[:, 0]


def _poly_fit(x: np.ndarray, y: np.ndarray, train: np.ndarray, val: np.ndarray,
              degree: int) -> tuple[float, float]:  # fmt: skip
    """Least-squares polynomial of ``degree`` on standardized features: (train, val) MSE."""
    scaler = Standardizer.fit(x[train])  # statistics of the training rows only
    a = torch.from_numpy(polynomial_features(scaler.transform(x[train]), degree))
    b = torch.from_numpy(polynomial_features(scaler.transform(x[val]), degree))
    target = torch.from_numpy(y[train])[:, None]
    w = torch.linalg.lstsq(a, target, driver="gelsd").solution  # (terms, 1), minimum norm
    train_mse = float(((a @ w)[:, 0] - target[:, 0]).pow(2).mean())
    return train_mse, float(((b @ w)[:, 0] - torch.from_numpy(y[val])).pow(2).mean())


def _gap(quick: bool) -> Result:
    seeds = range(2 if quick else 5)
    x, y = _covid()
    n_val = len(y) - 2000  # the rest is the pool the training sets are drawn from
    sizes, size_degree = (30, 60, 100, 200, 500, 1000, 2000), 3
    degrees, degree_n = (1, 2, 3, 4, 5, 6), 100
    by_size = {n: [] for n in sizes}  # n -> [(train mse, val mse) per seed]
    by_degree = {d: [] for d in degrees}
    for seed in seeds:
        order = np.random.default_rng(seed).permutation(len(y))
        val, pool = order[:n_val], order[n_val:]
        for n in sizes:
            by_size[n].append(_poly_fit(x, y, pool[:n], val, size_degree))
        for d in degrees:
            by_degree[d].append(_poly_fit(x, y, pool[:degree_n], val, d))
    gap = lambda runs: statistics.mean(v - t for t, v in runs)  # noqa: E731
    mse = lambda runs, k: statistics.mean(r[k] for r in runs)  # noqa: E731  k: 0 train, 1 val
    gap_n = [gap(by_size[n]) for n in sizes]
    gap_d = [gap(by_degree[d]) for d in degrees]
    rho_n, rho_d = spearman(sizes, gap_n), spearman(degrees, gap_d)
    data_closes = gap_n[-1] < gap_n[0] / 4 and rho_n <= -0.8
    simpler_closes = gap_d[0] < gap_d[-1] / 4 and rho_d >= 0.8
    holds, partly = data_closes and simpler_closes, data_closes or simpler_closes

    fig, (a, b) = panels(2)
    for ax, grid, runs, xlabel in ((a, sizes, by_size, "training rows"),
                                   (b, degrees, by_degree, "polynomial degree")):  # fmt: skip
        for k, what in ((0, "train"), (1, "validation")):
            ax.plot(grid, [statistics.mean(r[k] for r in runs[g]) for g in grid], "o-",
                    color=f"C{k}", label=f"{what} MSE")  # fmt: skip
        ax.set(yscale="log", xlabel=xlabel, ylabel="MSE (mean over splits)")
        ax.legend(fontsize=8)
    a.set(xscale="log", title=f"degree {size_degree}, more data")
    b.set(title=f"{degree_n} training rows, more flexible")

    numbers: dict[str, Any] = {
        "splits": len(seeds), "validation rows": n_val, "features": list(_COVID_FEATURES),
        f"gap by training rows at degree {size_degree} (mean)":
            {str(n): float(f"{g:.4g}") for n, g in zip(sizes, gap_n, strict=True)},
        f"gap by degree at {degree_n} rows (mean)":
            {str(d): float(f"{g:.4g}") for d, g in zip(degrees, gap_d, strict=True)},
        "Spearman(rows, gap)": round(rho_n, 3), "Spearman(degree, gap)": round(rho_d, 3),
    }  # fmt: skip
    explanation = (
        f"Least-squares polynomials of two survey rates predict the share of positive tests "
        f"in the course's COVID table ({len(seeds)} random splits, {n_val} validation rows). "
        f"At degree {size_degree} the validation-minus-training MSE falls from {gap_n[0]:.3g} "
        f"with {sizes[0]} training rows to {gap_n[-1]:.3g} with {sizes[-1]} (Spearman "
        f"{rho_n:.2f}); with {degree_n} rows it rises from {gap_d[0]:.3g} at degree "
        f"{degrees[0]} to {gap_d[-1]:.3g} at degree {degrees[-1]} (Spearman {rho_d:.2f}). "
        f"With more rows the training MSE goes from {mse(by_size[sizes[0]], 0):.3g} to "
        f"{mse(by_size[sizes[-1]], 0):.3g} and the validation MSE from "
        f"{mse(by_size[sizes[0]], 1):.3g} to {mse(by_size[sizes[-1]], 1):.3g}; with the degree "
        f"the training MSE goes from {mse(by_degree[degrees[0]], 0):.3g} to "
        f"{mse(by_degree[degrees[-1]], 0):.3g} and the validation MSE from "
        f"{mse(by_degree[degrees[0]], 1):.3g} to {mse(by_degree[degrees[-1]], 1):.3g}."
    )
    verdict = verdict_of(holds, partly)
    if verdict == "partly":
        explanation += (" Partly: only " + ("more data" if data_closes else "a less flexible "
                        "model") + " closes the gap by the criterion.")  # fmt: skip
    return Result(verdict, numbers, explanation, fig)


CLAIMS: tuple[Claim, ...] = (
    Claim(
        id="l1_sparse_l2_small",
        theme="regularization",
        sources=("001", "003"),
        quote="“L1 正则化中的很多参数向量是稀疏向量……常用于特征选择”(001);"
        "“正则化通过为模型损失函数添加惩罚项使学出的模型参数值较小”(003)",
        protocol="A 784-100-10 ReLU MLP on 5000 MNIST images, danlu's SGD (lr 0.1, momentum "
        "0.9, batch 64, 1500 steps), 5 seeds: no penalty, L2 (weight_decay 1e-3), and L1 "
        "(l1 = 1e-3 × the RMS of the unpenalized weights, the same pull on a weight of typical "
        "size). First-layer weights: the fraction with |w| < 1e-3, their RMS and largest |w|.",
        criterion="Confirmed if in every seed L1's fraction |w| < 1e-3 is ≥ 3× L2's and ≥ 3× "
        "the unpenalized one's, and L2's RMS and largest |w| are below the unpenalized ones; "
        "partly if only one of the two parts holds in every seed; refuted otherwise. (Revised "
        "after a pilot, before the full run: a first version also asked L2's near-zero fraction "
        "to stay < 2× the unpenalized one, which any uniform shrinking breaks.)",
        run=_l1_l2,
    ),
    Claim(
        id="dropout_reduces_overfitting",
        theme="regularization",
        sources=("001", "003"),
        quote="Dropout 显著降低了过拟合(001);丢弃法除了可以防止过拟合……(003)",
        protocol="A 784-256-256-10 ReLU MLP (danlu.nn.MLP) on 1000 MNIST images, dev set 2000 "
        "other images, danlu's SGD (lr 0.01, momentum 0.9, batch 64, 1500 steps ≈ 96 epochs), "
        "dropout 0 against 0.5 after each hidden layer, 5 seeds; accuracies in eval mode.",
        criterion="Confirmed if in ≥ 4 of 5 seeds dropout's train − dev accuracy gap is smaller "
        "and its dev accuracy at least as high; partly if only the gap is smaller in ≥ 4 of 5 "
        "seeds; refuted otherwise.",
        run=_dropout,
    ),
    Claim(
        id="early_stopping_best_epoch",
        theme="regularization",
        sources=("001", "002"),
        quote="如果迭代次数太少,算法容易欠拟合……迭代次数太多,算法容易过拟合……"
        "早停法通过确定迭代次数解决这个问题",
        protocol="danlu's Trainer (momentum SGD, lr 0.01, batch 64) on a 784-256-256-10 MLP, "
        "1000 MNIST images, val_loss on 2000 others every epoch, --patience 3, 30 epochs at "
        "most, 5 seeds; the same run without patience gives the full curve. The saved "
        "model.safetensors is reloaded and evaluated; danlu's EarlyStopping is replayed on the "
        "full curves for patience 1-10.",
        criterion="Confirmed if in every seed the saved model's validation loss equals the best "
        "recorded one (relative 1e-5) and is within 1 % of the minimum of the full curve; "
        "partly if the saved model is right but some seed's pick is more than 1 % above the "
        "minimum; refuted if the saved model is not the best seen.",
        run=_early_stopping,
    ),
    Claim(
        id="more_data_closes_gap",
        theme="regularization",
        sources=("002", "003"),
        quote="testing loss过大 overfitting过拟合 解决方法: 增加训练资料……减小模型弹性(002);"
        "导致原因:训练数据不足,模型太过于复杂(003)",
        protocol="Least-squares polynomials of two survey rates (cli, hh_cmnty_cli of the last "
        "day) for tested_positive in covid-hw1's covid.train.csv, 5 random splits with 699 "
        "validation rows: degree 3 with 30-2000 training rows, and 100 training rows with "
        "degree 1-6; gap = validation MSE − training MSE, averaged over splits.",
        criterion="Confirmed if the gap at 2000 rows is < ¼ of the gap at 30 rows with "
        "Spearman(rows, gap) ≤ −0.8, and the gap at degree 1 is < ¼ of the gap at degree 6 "
        "with Spearman(degree, gap) ≥ 0.8; partly if one of the two holds; refuted otherwise.",
        run=_gap,
    ),
)
