"""Claims of the notes about critical points: the Hessian tells a saddle from a minimum.

At a critical point ``θ*`` (``∇L(θ*) = 0``) the Taylor expansion has no linear term,

    L(θ* + v) = L(θ*) + ½ vᵀ H v + O(‖v‖³),    H = ∇²L(θ*),

so the signs of the eigenvalues of ``H`` decide what ``θ*`` is: all positive, a local
minimum; some negative, a saddle; and along the unit eigenvector ``u`` of an eigenvalue
``λ < 0`` the loss falls as ``L(θ* + εu) − L(θ*) = λε²/2 + O(ε³)``: the way down from a
saddle. A zero eigenvalue leaves the second-order test undecided (the flat valley of the
toy example below). The experiments are on synthetic losses, in float64, with the Hessian
from :func:`torch.autograd.functional.hessian`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from danlu.lab.claim import Claim, Result, verdict_of
from danlu.lab.plots import panels

__all__ = [
    "CLAIMS",
    "classify_critical_point",
    "newton_critical_point",
    "toy_loss",
]

Loss = Callable[[Tensor], Tensor]


# ---------------------------------------------------------------- helpers


def toy_loss(w: Tensor) -> Tensor:
    """The course's example ``L(w₁, w₂) = (1 − w₁w₂)²``: the network ``y = w₂ w₁ x`` fitted
    to one example ``x = 1, ŷ = 1``. The origin is a saddle (``H = [[0, −2], [−2, 0]]``,
    eigenvalues ``±2``, way down ``(1, 1)/√2``); the curve ``w₁w₂ = 1`` is a valley of minima
    whose Hessian has one zero eigenvalue."""
    return (1 - w[0] * w[1]) ** 2


def gradient_and_hessian(loss: Loss, theta: Tensor) -> tuple[Tensor, Tensor]:
    """``(∇L (P,), ∇²L (P, P))`` at ``theta (P,)``."""
    t = theta.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(loss(t), t)
    hess = torch.autograd.functional.hessian(loss, theta.detach())
    return grad, hess


def newton_critical_point(loss: Loss, theta: Tensor, iters: int = 30, tol: float = 1e-12
                          ) -> Tensor | None:  # fmt: skip
    """Newton's iteration ``θ ← θ − H⁻¹∇L`` for ``∇L(θ) = 0``: it converges to the critical
    point nearest in its basin, saddles included (gradient descent would flee them).

    Returns:
        The point ``(P,)`` where ``‖∇L‖ ≤ tol``, or None when the iteration does not get
        there in ``iters`` steps (or leaves the finite numbers).
    """
    for _ in range(iters):
        grad, hess = gradient_and_hessian(loss, theta)
        if not bool(torch.isfinite(grad).all()) or float(theta.abs().max()) > 1e3:
            return None
        if float(grad.norm()) <= tol:
            return theta
        theta = theta - torch.linalg.lstsq(hess, grad[:, None]).solution[:, 0]
    grad, _ = gradient_and_hessian(loss, theta)
    return theta if float(grad.norm()) <= tol else None


def classify_critical_point(eigenvalues: Tensor, tol: float = 1e-6) -> str:
    """``minimum`` when every eigenvalue exceeds ``tol``, ``saddle`` when one is below
    ``−tol``, else ``undecided`` (a zero eigenvalue: the second-order test says nothing)."""
    if float(eigenvalues.min()) < -tol:
        return "saddle"
    return "minimum" if float(eigenvalues.min()) > tol else "undecided"


def loss_change(loss: Loss, theta: Tensor, direction: Tensor, eps: Tensor) -> Tensor:
    """``L(θ + ε d) − L(θ)`` for each ``ε`` of ``eps (E,)``; returns ``(E,)``."""
    base = loss(theta)
    return torch.stack([loss(theta + e * direction) - base for e in eps])


# ---------------------------------------------------------------- the network's loss


def _xor_data(seed: int = 0) -> tuple[Tensor, Tensor]:
    """16 noisy XOR points ``x (16, 2)`` with targets ``y (16,)`` in {0, 1}."""
    g = torch.Generator().manual_seed(seed)
    corners = torch.tensor([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    x = torch.cat([corners + 0.1 * torch.randn(4, 2, generator=g) for _ in range(4)])
    y = torch.tensor([0.0, 1.0, 1.0, 0.0]).repeat(4)
    return x.double(), y.double()


def network_loss(weight_decay: float = 1e-3) -> Loss:
    """The loss of a 2-2-1 tanh network on noisy XOR, as a function of its 9 parameters
    ``θ = (W₁ (2×2), b₁ (2), w₂ (2), b₂)``: ``½ mean (f(x) − y)² + ½ wd ‖θ‖²``. The small
    weight decay turns the flat directions of a switched-off unit (zero eigenvalues) into
    curved ones, so that the second-order test can decide."""
    x, y = _xor_data()

    def loss(t: Tensor) -> Tensor:
        w1, b1, w2, b2 = t[:4].view(2, 2), t[4:6], t[6:8], t[8]
        f = torch.tanh(x @ w1 + b1) @ w2 + b2  # (16,)
        return 0.5 * ((f - y) ** 2).mean() + 0.5 * weight_decay * (t * t).sum()

    return loss


def _descend(loss: Loss, theta: Tensor, steps: int) -> Tensor:
    """Saddle-free Newton (Dauphin et al. 2014) from ``theta``: the step
    ``−U diag(1/max(|λ|, 0.01)) Uᵀ ∇L``, halved until the loss falls, always goes down, so
    it ends at a minimum (Newton's iteration then polishes it)."""
    for _ in range(steps):
        grad, hess = gradient_and_hessian(loss, theta)
        lam, vec = torch.linalg.eigh(hess)
        step = vec @ ((vec.T @ grad) / lam.abs().clamp_min(1e-2))
        base, rate = loss(theta), 1.0
        while rate > 1e-6 and not loss(theta - rate * step) < base:
            rate /= 2
        theta = theta - rate * step
    return theta


def _critical_points(loss: Loss, newton_starts: int, descent_starts: int, seed: int = 0
                     ) -> list[dict]:  # fmt: skip
    """Distinct critical points found by Newton's method from random starts (saddles and
    minima) and by a descent method then Newton (minima): each with its loss, eigenvalues
    ``(P,)`` and eigenvectors ``(P, P)`` (columns)."""
    g = torch.Generator().manual_seed(seed)
    found: list[dict] = []
    for k in range(newton_starts + descent_starts):
        start = 1.5 * torch.randn(9, generator=g, dtype=torch.float64)
        if k >= newton_starts:
            start = _descend(loss, start, 30)
        theta = newton_critical_point(loss, start)
        if theta is None:
            continue
        value = float(loss(theta))
        if any(abs(value - p["loss"]) < 1e-9 for p in found):  # the same point or a mirror
            continue
        _, hess = gradient_and_hessian(loss, theta)
        eigenvalues, vectors = torch.linalg.eigh(hess)
        found.append({"theta": theta, "loss": value, "eigenvalues": eigenvalues,
                      "vectors": vectors, "kind": classify_critical_point(eigenvalues),
                      "found_by": "newton" if k < newton_starts else "descent"})  # fmt: skip
    return sorted(found, key=lambda p: p["loss"])


def _check_saddle(loss: Loss, p: dict, eps: Tensor) -> dict:
    """Steps ``±ε u`` along the eigenvector of the most negative eigenvalue."""
    lam, u = float(p["eigenvalues"][0]), p["vectors"][:, 0]
    plus, minus = loss_change(loss, p["theta"], u, eps), loss_change(loss, p["theta"], -u, eps)
    ratio = float(plus[0] / (lam * eps[0] ** 2 / 2))  # at the smallest ε
    best = torch.minimum(plus, minus)  # (E,) the better of the two directions
    return {"lambda": lam, "best": best, "ratio": ratio, "down": bool((best < 0).all()),
            "both": bool(((plus < 0) & (minus < 0)).all())}  # fmt: skip


def _check_minimum(loss: Loss, p: dict, eps: float, probes: int, g: torch.Generator) -> bool:
    """No step of length ``eps`` along ``±`` each eigenvector or ``probes`` random unit
    directions lowers the loss."""
    random = torch.randn(probes, len(p["theta"]), generator=g, dtype=torch.float64)
    dirs = torch.cat([p["vectors"].T, -p["vectors"].T, random / random.norm(dim=1, keepdim=True)])
    base = loss(p["theta"])
    return all(float(loss(p["theta"] + eps * d) - base) > 0 for d in dirs)


def _descent_fraction(loss: Loss, p: dict, eps: float, probes: int, g: torch.Generator
                      ) -> float:  # fmt: skip
    """Share of random unit directions along which a step ``eps`` lowers the loss."""
    d = torch.randn(probes, len(p["theta"]), generator=g, dtype=torch.float64)
    d = d / d.norm(dim=1, keepdim=True)
    base = loss(p["theta"])
    return sum(float(loss(p["theta"] + eps * v) - base) < 0 for v in d) / probes


def _toy_paths(steps: int = 100, lr: float = 0.1, nudge: float = 1e-3) -> dict[str, Tensor]:
    """Gradient descent on the toy loss from the saddle nudged along each eigenvector."""
    paths = {}
    for name, d in (("negative eigenvector", (1.0, 1.0)), ("positive eigenvector", (1.0, -1.0))):
        w = (nudge * torch.tensor(d, dtype=torch.float64) / 2**0.5).requires_grad_(True)
        path = [w.detach().clone()]
        for _ in range(steps):
            (grad,) = torch.autograd.grad(toy_loss(w), w)
            w = (w - lr * grad).detach().requires_grad_(True)
            path.append(w.detach().clone())
        paths[name] = torch.stack(path)  # (steps + 1, 2)
    return paths


# ---------------------------------------------------------------- (25) the claim


def _hessian(quick: bool) -> Result:
    eps = torch.logspace(-4, -1, 7, dtype=torch.float64)  # step lengths, smallest first
    g = torch.Generator().manual_seed(1)
    # the toy loss: a known saddle at the origin and a valley of minima w1 w2 = 1
    origin = torch.zeros(2, dtype=torch.float64)
    toy_eig, toy_vec = torch.linalg.eigh(gradient_and_hessian(toy_loss, origin)[1])
    toy = {"theta": origin, "eigenvalues": toy_eig, "vectors": toy_vec}
    toy_check = _check_saddle(toy_loss, toy, eps)
    valley = torch.tensor([2.0, 0.5], dtype=torch.float64)
    valley_eig = torch.linalg.eigvalsh(gradient_and_hessian(toy_loss, valley)[1])
    paths = _toy_paths()
    # the network: critical points from random starts
    net = network_loss()
    starts = (3, 2) if quick else (24, 8)  # Newton's method, descent
    points = _critical_points(net, *starts)
    saddles = [p for p in points if p["kind"] == "saddle"]
    minima = [p for p in points if p["kind"] == "minimum"]
    saddle_checks = [_check_saddle(net, p, eps) for p in saddles]
    probes = 100 if quick else 1000
    minimum_checks = [_check_minimum(net, p, 1e-3, probes, g) for p in minima]
    fractions = [_descent_fraction(net, p, 1e-3, probes, g) for p in saddles]
    saddle_ok = [c["down"] and abs(c["ratio"] - 1) <= 0.1 for c in [toy_check, *saddle_checks]]
    checks = saddle_ok + minimum_checks
    share = sum(checks) / len(checks)
    holds = bool(saddles and minima and all(checks))
    partly = bool(saddles and minima and share >= 0.8)

    fig, (a, b, c) = panels(3)
    grid = torch.linspace(-1.6, 1.6, 161, dtype=torch.float64)
    w1, w2 = torch.meshgrid(grid, grid, indexing="xy")
    a.contour(w1, w2, (1 - w1 * w2) ** 2, levels=[0.05, 0.2, 0.5, 0.8, 1.0, 1.5, 3, 6],
              linewidths=0.6, colors="grey")  # fmt: skip
    for name, path in paths.items():
        end = float(toy_loss(path[-1]))
        a.plot(path[:, 0], path[:, 1], ".-", ms=3, lw=0.8,
               label=f"GD from 0 + 1e-3·{name}: L → {end:.2g}")  # fmt: skip
    a.plot([0], [0], "k+", ms=10)
    a.set(title="toy L = (1 − w₁w₂)²: saddle at 0", xlabel="w₁", ylabel="w₂")
    a.legend(fontsize=7, loc="lower left")
    for k, check in enumerate([toy_check, *saddle_checks]):
        color = f"C{k % 10}"
        label = "toy" if k == 0 else f"net saddle {k}"
        b.loglog(eps, -check["best"].clamp(max=-1e-300), "o", ms=3, color=color,
                 label=f"{label}: λ = {check['lambda']:.3g}")  # fmt: skip
        b.loglog(eps, -check["lambda"] * eps**2 / 2, "-", lw=0.7, color=color)
    b.set(title="loss decrease along the eigenvector\n(dots: measured, lines: −λε²/2)",
          xlabel="step ε", ylabel="L(θ*) − L(θ* + εu)")  # fmt: skip
    b.legend(fontsize=6)
    for p in points:
        colors = {"saddle": "C3", "minimum": "C2", "undecided": "grey"}
        c.plot([p["loss"]] * len(p["eigenvalues"]), p["eigenvalues"], "_", ms=12,
               color=colors[p["kind"]])  # fmt: skip
    c.set_yscale("symlog", linthresh=1e-3)
    c.axhline(0, color="k", lw=0.5)
    c.set(title="network: Hessian eigenvalues\n(red: saddle, green: minimum)",
          xlabel="loss at the critical point", ylabel="eigenvalue")  # fmt: skip

    numbers = {
        "toy saddle eigenvalues": [round(float(v), 6) for v in toy_eig],
        "toy saddle: decrease / (λε²/2) at ε=1e-4": round(toy_check["ratio"], 5),
        "toy valley (2, 0.5) eigenvalues": [round(float(v), 6) for v in valley_eig],
        "toy GD end loss, nudged along negative / positive eigenvector": [
            round(float(toy_loss(paths[n][-1])), 6) for n in paths],
        "network critical points found": len(points),
        "network saddles": len(saddles), "network minima": len(minima),
        "network undecided (zero eigenvalue)": sum(p["kind"] == "undecided" for p in points),
        "saddle losses": [round(p["loss"], 6) for p in saddles],
        "saddle most negative eigenvalues": [round(c["lambda"], 6) for c in saddle_checks],
        "saddle decrease / (λε²/2) at ε=1e-4": [round(c["ratio"], 4) for c in saddle_checks],
        "saddles where +εu or −εu lowers the loss at every ε in [1e-4, 0.1]":
            sum(c["down"] for c in saddle_checks),
        "saddles where both ±εu lower it at every ε": sum(c["both"] for c in saddle_checks),
        "saddles: share of random directions that go down at ε=1e-3":
            [round(f, 3) for f in fractions],
        "minimum losses": [round(p["loss"], 6) for p in minima],
        "minima with no way down (eigen and random probes)": sum(minimum_checks),
        "checks passed": f"{sum(checks)}/{len(checks)}",
    }  # fmt: skip
    worst = max((abs(c["ratio"] - 1) for c in [toy_check, *saddle_checks]), default=0.0)
    mean_frac = sum(fractions) / len(fractions) if fractions else float("nan")
    explanation = (
        f"On the toy loss (1 − w₁w₂)² the origin has eigenvalues {toy_eig[0]:.3g} and "
        f"{toy_eig[1]:.3g}: a saddle; stepping along the eigenvector of −2 lowers the loss by "
        f"{toy_check['ratio']:.4f}× the predicted λε²/2 at ε = 1e-4, and gradient descent nudged "
        f"by 1e-3 along it ends at loss {float(toy_loss(paths['negative eigenvector'][-1])):.2g}, "
        f"while the same nudge along the other eigenvector returns to the saddle (loss "
        f"{float(toy_loss(paths['positive eigenvector'][-1])):.3g}). The valley of minima "
        f"w₁w₂ = 1 has a zero eigenvalue ({valley_eig[0]:.2g}), where the second-order test "
        f"alone cannot decide. On a 2-2-1 tanh network fitted to noisy XOR (9 parameters, weight "
        f"decay 1e-3), Newton's method (from {starts[0]} random starts) and a descent method "
        f"(from {starts[1]}) found {len(points)} distinct critical points: "
        f"{len(saddles)} saddles and {len(minima)} minima by the sign of the smallest "
        f"eigenvalue. A step εu or −εu lowered the loss at every ε in [1e-4, 0.1] at "
        f"{sum(c['down'] for c in saddle_checks)} of {len(saddle_checks)} saddles, matching λε²/2 "
        f"within {100 * worst:.2g} % at ε = 1e-4 (toy included), although only "
        f"{100 * mean_frac:.0f} % of random directions go down there on average; "
        f"{sum(minimum_checks)} of {len(minima)} minima had no descending direction among "
        f"the eigenvectors and random probes. {sum(checks)} of {len(checks)} checks passed."
    )
    return Result(verdict_of(holds, partly), numbers, explanation, fig)


CLAIMS: tuple[Claim, ...] = (
    Claim(
        id="hessian_saddle_or_minimum",
        theme="critical_points",
        sources=("002",),
        quote="除了局部最小 gradient 为零(critical point)还可能因为处于鞍点……"
        "通过H也可求出鞍点时能让Loss变小的方向",
        protocol="float64, Hessian by torch.autograd.functional.hessian. (a) The course's toy "
        "L(w₁,w₂) = (1 − w₁w₂)² at its saddle (0, 0) and on its valley w₁w₂ = 1; gradient "
        "descent from the saddle nudged by 1e-3 along each eigenvector. (b) A 2-2-1 tanh network "
        "on 16 noisy XOR points (9 parameters, weight decay 1e-3): critical points (‖∇L‖ ≤ "
        "1e-12) found by Newton's method from 24 random starts and by saddle-free Newton descent "
        "(30 steps) then Newton from 8 others; "
        "each is classified by the sign of its smallest eigenvalue. At each saddle, steps ±εu "
        "along the eigenvector of the most negative eigenvalue λ for ε in [1e-4, 0.1], "
        "compared with λε²/2; at each minimum, steps of 1e-3 along ±every eigenvector and 1000 "
        "random directions.",
        criterion="confirmed if at least one saddle and one minimum of the network are found, "
        "at every saddle (the toy's included) a step along +u or −u lowers the loss at every ε in "
        "[1e-4, 0.1], the decrease within 10 % of λε²/2 at ε = 1e-4, and no probe at any minimum "
        "lowers the loss; partly if at least 80 % of these checks pass; refuted otherwise.",
        run=_hessian,
    ),
)
