"""Claims of the notes about learning-rate schedules: where cosine warm restarts peak, and
whether warm-up steadies Adam at the start of Transformer training.

The first is arithmetic about :func:`danlu.optim.cosine_restarts` (checked against
``torch.optim.lr_scheduler.CosineAnnealingWarmRestarts``); the second trains a small
post-norm :class:`danlu.nn.TransformerEncoder` with :class:`danlu.optim.Adam`.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from danlu.lab.claim import Claim, Result, verdict_of
from danlu.lab.plots import panels
from danlu.lab.stats import mean_sd, pm
from danlu.nn import SinusoidalPositionalEncoding, TransformerEncoder, TransformerEncoderLayer
from danlu.optim import Adam, as_lr_scheduler, constant, cosine_restarts, linear_warmup

__all__ = ["CLAIMS"]


# ---------------------------------------------------------------- (7) warm-restart peaks


def restart_peaks(values: Sequence[float]) -> list[int]:
    """Steps t > 0 where a schedule jumps back up (``values[t] > values[t-1]``): the restarts,
    where the multiplier is at its maximum again."""
    return [t for t in range(1, len(values)) if values[t] > values[t - 1] + 1e-12]


def notes_peaks(T_0: int, T_mult: int, horizon: int) -> list[int]:
    """Where note 000 says the maxima are, below ``horizon``: ``T_0, 2T_0, …, NT_0`` when
    ``T_mult = 1``, otherwise ``T_0 + n·T_mult`` for n = 0, 1, …, N."""
    step = T_0 if T_mult == 1 else T_mult
    return list(range(T_0, horizon, step))


def true_peaks(T_0: int, T_mult: int, horizon: int) -> list[int]:
    """The restarts of SGDR below ``horizon``: cycle i lasts T_0·T_multⁱ steps, so restart n
    is at ``T_0·(1 + T_mult + … + T_multⁿ⁻¹)`` = ``T_0·(T_multⁿ - 1)/(T_mult - 1)`` (n·T_0
    when T_mult = 1)."""
    peaks, t, length = [], T_0, T_0
    while t < horizon:
        peaks.append(t)
        length *= T_mult
        t += length
    return peaks


def _torch_multipliers(T_0: int, T_mult: int, horizon: int) -> list[float]:
    """``CosineAnnealingWarmRestarts``'s learning rate (base 1), stepped once per step."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=T_0, T_mult=T_mult)
    values = []
    for _ in range(horizon):
        values.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return values


def _restarts(quick: bool) -> Result:
    """Find the maxima of cosine_restarts(T_0, T_mult) and compare them with note 000's."""
    configs = ((2, 1), (10, 1), (2, 2), (5, 2), (2, 3), (10, 2))
    horizon = 60 if quick else 400
    rows = {}
    for T_0, T_mult in configs:
        schedule = cosine_restarts(T_0, T_mult)
        values = [schedule(t) for t in range(horizon)]
        reference = _torch_multipliers(T_0, T_mult, horizon)
        actual, said = restart_peaks(values), notes_peaks(T_0, T_mult, horizon)
        hits = sorted(set(actual) & set(said))
        rows[T_0, T_mult] = {
            "actual": actual, "notes": said, "values": values,
            "precision": len(hits) / len(said) if said else 1.0,
            "recall": len(hits) / len(actual) if actual else 1.0,
            "closed form agrees": actual == true_peaks(T_0, T_mult, horizon),
            "max |danlu - torch|": max(abs(a - b) for a, b in zip(values, reference,
                                                                  strict=True)),
        }  # fmt: skip
    match = {c: r["actual"] == r["notes"] for c, r in rows.items()}
    plain = all(match[c] for c in configs if c[1] == 1)
    grown = all(match[c] for c in configs if c[1] > 1)
    fig, axes = panels(2)
    for ax, (T_0, T_mult), span in zip(axes, ((2, 2), (5, 2)), (64, 160), strict=True):
        r = rows[T_0, T_mult]
        span = min(span, horizon)
        ax.plot(range(span), r["values"][:span], lw=0.9, label="danlu cosine_restarts")
        for i, t in enumerate(p for p in r["notes"] if p < span):
            ax.axvline(t, color="tab:red", ls=":", lw=0.8,
                       label="maxima per note 000" if i == 0 else None)  # fmt: skip
        peaks = [p for p in r["actual"] if p < span]
        ax.plot(peaks, [r["values"][p] for p in peaks], "ko", ms=4, label="actual restarts")
        ax.set(title=f"T_0 = {T_0}, T_mult = {T_mult}", xlabel="step (scheduler.step() calls)",
               ylabel="lr / base lr")  # fmt: skip
        ax.legend(fontsize=7, loc="lower right")
    numbers = {
        "horizon": horizon,
        **{f"T_0={a}, T_mult={b}": {
            "actual restarts": r["actual"][:6], "note 000 says": r["notes"][:6],
            "share of the note's positions that are maxima": round(r["precision"], 3),
            "share of maxima the note lists": round(r["recall"], 3),
            "max |danlu - torch|": r["max |danlu - torch|"],
        } for (a, b), r in rows.items()},
        "closed form T_0(T_multⁿ-1)/(T_mult-1) agrees everywhere": all(
            r["closed form agrees"] for r in rows.values()),
    }  # fmt: skip
    r22 = rows[2, 2]
    agree = max(r["max |danlu - torch|"] for r in rows.values())
    explanation = (
        "Note 000 says CosineAnnealingWarmRestarts reaches its maximum at T_0, 2T_0, …, NT_0 "
        "when T_mult = 1 and at T_0 + n·T_mult otherwise. Stepping danlu's cosine_restarts "
        f"(identical to PyTorch's scheduler to {agree:.1e}) "
        f"over {horizon} steps, the T_mult = 1 rule is "
        f"{'right' if plain else 'wrong'}; the T_mult > 1 rule is "
        f"{'right' if grown else 'wrong'}: cycle i lasts T_0·T_multⁱ steps, so restart n is at "
        "T_0(T_multⁿ - 1)/(T_mult - 1), growing geometrically. For the note's own example "
        f"T_0 = 2, T_mult = 2 the maxima are at {', '.join(map(str, r22['actual'][:5]))}, …, "
        f"while the note lists {', '.join(map(str, r22['notes'][:6]))}, …; only "
        f"{r22['precision']:.0%} of its positions are maxima (every true maximum is among them, "
        "since T_0(T_multⁿ - 1)/(T_mult - 1) - T_0 is a multiple of T_mult)."
        + (" So the note holds only for T_mult = 1." if plain and not grown else "")
    )
    return Result(verdict_of(plain and grown, partly=plain or grown), numbers, explanation, fig)


# ---------------------------------------------------------------- (8) warm-up for Adam


class _Reverser(nn.Module):
    """Token embedding + sinusoidal positions, a post-norm Transformer encoder, a linear
    read-out per position: ``tokens (B, T)`` -> logits ``(B, T, V)``."""

    def __init__(self, vocab: int, length: int, d_model: int, layers: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.position = SinusoidalPositionalEncoding(d_model, length)
        layer = TransformerEncoderLayer(d_model, 2, 2 * d_model, dropout=0.0, norm_first=False)
        self.encoder = TransformerEncoder(layer, layers)
        self.out = nn.Linear(d_model, vocab)

    def forward(self, tokens: Tensor) -> Tensor:
        return self.out(self.encoder(self.position(self.embed(tokens))))


def _warmup_run(lr: float, warmup: int, seed: int, steps: int, layers: int) -> list[float]:
    """Adam on the reversal task (output position t = input token T-1-t), with a linear
    warm-up over ``warmup`` steps (0: none) then a constant rate; the loss of every step."""
    vocab, length = 10, 8
    torch.manual_seed(seed)
    model = _Reverser(vocab, length, 32, layers)
    opt = Adam(model.parameters(), lr=lr)
    sched = as_lr_scheduler(opt, linear_warmup(warmup) if warmup else constant())
    g = torch.Generator().manual_seed(10_000 + seed)
    losses = []
    for _ in range(steps):
        x = torch.randint(0, vocab, (32, length), generator=g)  # (B, T)
        loss = F.cross_entropy(model(x).flatten(0, 1), x.flip(1).flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item() if math.isfinite(loss.item()) else math.log(vocab) * 10)
    return losses


def _warmup(quick: bool) -> Result:
    """Adam at η·min(1, t/w) (warm-up) against a constant η, across peak learning rates."""
    steps, warm, layers = (30, 10, 2) if quick else (250, 100, 6)
    lrs = (1e-3, 3e-2) if quick else (1e-3, 3e-3, 1e-2, 3e-2)
    seeds = range(1 if quick else 3)
    runs = {(lr, w, s): _warmup_run(lr, w, s, steps, layers)
            for lr in lrs for w in (0, warm) for s in seeds}  # fmt: skip
    area = {k: statistics.fmean(v) for k, v in runs.items()}  # mean loss over the run
    helps = {lr: sum(area[lr, warm, s] < area[lr, 0, s] for s in seeds) for lr in lrs}
    wins = [lr for lr in lrs if helps[lr] >= math.ceil(0.8 * len(seeds) - 1e-9)]
    shown = (lrs[0], lrs[-2], lrs[-1]) if len(lrs) > 2 else lrs
    fig, axes = panels(len(shown))
    for ax, lr in zip(axes, shown, strict=True):
        for w, name in ((0, "no warm-up"), (warm, f"linear warm-up, {warm} steps")):
            curves = np.array([runs[lr, w, s] for s in seeds])  # (seeds, steps)
            line = ax.plot(curves.mean(0), lw=0.9, label=name)[0]
            ax.fill_between(range(steps), curves.min(0), curves.max(0), alpha=0.2,
                            color=line.get_color())  # fmt: skip
        ax.set(title=f"Adam, peak lr {lr:g}", xlabel="step",
               ylabel=f"training loss (mean, range of {len(seeds)} seeds)")  # fmt: skip
        ax.legend(fontsize=8)
    # final loss of each run: the mean of its last 25 steps
    end = {(lr, w): [statistics.fmean(runs[lr, w, s][-25:]) for s in seeds]
           for lr in lrs for w in (0, warm)}  # fmt: skip
    numbers = {
        "seeds": len(seeds), "steps": steps, "warm-up steps": warm, "layers": layers,
        "task": "reverse 8 tokens of 10 (post-norm encoder, d = 32)",
        "mean loss over the run, no warm-up": {f"{lr:g}": mean_sd(
            [area[lr, 0, s] for s in seeds]) for lr in lrs},
        "mean loss over the run, warm-up": {f"{lr:g}": mean_sd(
            [area[lr, warm, s] for s in seeds]) for lr in lrs},
        "seeds where warm-up is lower, by lr": {f"{lr:g}": helps[lr] for lr in lrs},
        "final loss (last 25 steps), no warm-up": {f"{lr:g}": mean_sd(end[lr, 0])
                                                   for lr in lrs},
        "final loss (last 25 steps), warm-up": {f"{lr:g}": mean_sd(end[lr, warm]) for lr in lrs},
    }  # fmt: skip
    names = ", ".join(f"{lr:g}" for lr in wins)
    losers = ", ".join(f"{lr:g}" for lr in lrs if lr not in wins)
    delays = f"; at {losers} it only delays learning" if wins and losers else ""
    per_lr = "; ".join(
        f"at lr {lr:g}: {pm([area[lr, warm, s] for s in seeds], '.2f')} with warm-up vs "
        f"{pm([area[lr, 0, s] for s in seeds], '.2f')} without"
        for lr in lrs
    )
    caveat = f" So warm-up steadies Adam only at peak learning rates {names}." if delays else ""
    stuck = [lr for lr in lrs if statistics.fmean(end[lr, warm]) > 0.5 * math.log(10)]
    if stuck:  # the warm-up got it going, but the peak rate itself is too high
        caveat += (f" At {', '.join(f'{lr:g}' for lr in stuck)} even the warm-up runs end "
                   f"unlearned (final loss {statistics.fmean(end[stuck[-1], warm]):.2f}, "
                   "chance is ln 10 = 2.30) once the rate reaches its peak.")  # fmt: skip
    explanation = (
        f"A {layers}-layer post-norm Transformer encoder learns to reverse 8 tokens, trained with "
        f"Adam for {steps} steps at peak learning rates {', '.join(f'{lr:g}' for lr in lrs)}, "
        f"with and without a {warm}-step linear warm-up. Warm-up lowers the mean loss over the "
        f"run in at least 80 % of the seeds at {names or 'no learning rate'}{delays}. Mean "
        f"loss over the run: {per_lr}.{caveat}"
    )
    return Result(verdict_of(len(wins) == len(lrs), partly=bool(wins)), numbers, explanation,
                  fig)  # fmt: skip


CLAIMS: tuple[Claim, ...] = (
    Claim(
        id="warm_restart_peaks",
        theme="schedules",
        sources=("000",),
        quote="如果 T_mult=1 就在 T_0,2T_0,...,NT_0 取得 lr 最大值 否则,在 T_0+n*T_mult , "
        "n in [0,N] 取得 lr 最大值",
        protocol="Step danlu.optim.cosine_restarts (and PyTorch's CosineAnnealingWarmRestarts, "
        "to check they agree) for 400 steps with (T_0, T_mult) = (2, 1), (10, 1), (2, 2), (5, 2), "
        "(2, 3), (10, 2); the maxima after step 0 are the steps where the multiplier jumps back "
        "up; compare them with the note's positions.",
        criterion="confirmed if the note's positions equal the actual maxima for every "
        "configuration; partly if they do for T_mult = 1 only or for T_mult > 1 only; refuted "
        "otherwise.",
        run=_restarts,
    ),
    Claim(
        id="warmup_steadies_adam",
        theme="schedules",
        sources=("002",),
        quote="Warm Up: 使η先变大后变小",
        protocol="A 6-layer post-norm danlu TransformerEncoder (d 32, 2 heads, sinusoidal "
        "positions) learns to reverse 8 random tokens of 10; Adam at peak lr 0.001/0.003/0.01/"
        "0.03, constant, with and without a 100-step linear warm-up, batch 32, 250 steps, "
        "3 seeds; the mean training loss over the run.",
        criterion="warm-up helps at a learning rate if it gives the lower mean loss over the "
        "run in ≥ 80 % of seeds (all 3); confirmed if it helps at every learning rate; partly "
        "if at some (the explanation names them); refuted if at none.",
        run=_warmup,
    ),
)
