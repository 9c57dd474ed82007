"""Recurrent cells from their equations, and a masked scan that runs a cell over time.

Weights follow PyTorch's layout and gate order, so the parameters of ``nn.RNN``,
``nn.LSTM`` and ``nn.GRU`` (``weight_ih_l0``, ``weight_hh_l0``, ...) plug in unchanged:
``w_ih`` is (G·H, I) and ``w_hh`` is (G·H, H) with the G gate blocks stacked in the order
given below. Shapes: B batch, I input size, H hidden size, O output size (Jordan), T time.

Elman RNN::

    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)            (or ReLU)

Jordan network (the previous *output* is fed back instead of the hidden state)::

    h_t = φ(W_ih x_t + W_yh y_{t-1} + b_h)        y_t = ψ(W_hy h_t + b_y)

LSTM, gate blocks in the order (i, f, g, o)::

    i = σ(W_ii x + b_ii + W_hi h + b_hi)      input gate
    f = σ(W_if x + b_if + W_hf h + b_hf)      forget gate
    g = tanh(W_ig x + b_ig + W_hg h + b_hg)   candidate cell
    o = σ(W_io x + b_io + W_ho h + b_ho)      output gate
    c_t = f ⊙ c_{t-1} + i ⊙ g                 the cell changes slowly (additively)
    h_t = o ⊙ tanh(c_t)

GRU, gate blocks in the order (r, z, n)::

    r = σ(W_ir x + b_ir + W_hr h + b_hr)          reset gate
    z = σ(W_iz x + b_iz + W_hz h + b_hz)          update gate (PyTorch convention)
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)) candidate h'
    h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}

Warning: the notes write the GRU update as ``h_t = (1-z)⊙h_{t-1} + z⊙h'``, where z is the
weight of the *new* candidate. PyTorch (and this module, to share its weights) uses z as the
weight of the *old* state. The two agree with z_notes = 1 - z_torch; only the sign of the
update-gate weights differs. Note also PyTorch's reset gate multiplies W_hn h + b_hn, not h.

References: Elman 1990; Jordan 1986; Hochreiter & Schmidhuber 1997 (LSTM, forget gate from
Gers et al. 2000); Cho et al. 2014 (GRU).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, TypeAlias

import torch
import torch.nn.functional as F
from torch import Tensor

from danlu.errors import UsageError

__all__ = [
    "NONLINEARITIES",
    "State",
    "elman_cell",
    "gru_cell",
    "jordan_cell",
    "lstm_cell",
    "scan",
    "valid_step_mask",
]

State: TypeAlias = Tensor | tuple[Tensor, ...]

# Nonlinearities a recurrent layer may use, by name (explicit table).
NONLINEARITIES: dict[str, Callable[[Tensor], Tensor]] = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "identity": lambda t: t,
}


def _nonlinearity(name: str) -> Callable[[Tensor], Tensor]:
    try:
        return NONLINEARITIES[name]
    except KeyError:
        raise UsageError(
            f"unknown recurrent nonlinearity {name!r}; valid: {', '.join(NONLINEARITIES)}"
        ) from None


def elman_cell(
    x: Tensor,
    h: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    nonlinearity: Literal["tanh", "relu"] = "tanh",
) -> Tensor:
    """One Elman step: h_t = φ(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh).

    Args:
        x: (B, I) input at time t.  h: (B, H) previous hidden state.
        w_ih: (H, I).  w_hh: (H, H).  b_ih, b_hh: (H,) or None.
        nonlinearity: "tanh" or "relu".

    Returns:
        (B, H) new hidden state, which is also the step's output.
    """
    return _nonlinearity(nonlinearity)(F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh))


def jordan_cell(
    x: Tensor,
    y: Tensor,
    w_ih: Tensor,
    w_yh: Tensor,
    b_h: Tensor | None,
    w_hy: Tensor,
    b_y: Tensor | None,
    nonlinearity: str = "tanh",
    output_nonlinearity: str = "tanh",
) -> Tensor:
    """One Jordan step: h_t = φ(W_ih x_t + W_yh y_{t-1} + b_h), y_t = ψ(W_hy h_t + b_y).

    Args:
        x: (B, I) input.  y: (B, O) previous output, the recurrent state.
        w_ih: (H, I).  w_yh: (H, O).  b_h: (H,) or None.  w_hy: (O, H).  b_y: (O,) or None.
        nonlinearity: φ, a name in :data:`NONLINEARITIES`.
        output_nonlinearity: ψ, a name in :data:`NONLINEARITIES`.

    Returns:
        (B, O) new output y_t, fed back at the next step.
    """
    h = _nonlinearity(nonlinearity)(F.linear(x, w_ih, b_h) + F.linear(y, w_yh))  # (B, H)
    return _nonlinearity(output_nonlinearity)(F.linear(h, w_hy, b_y))  # (B, O)


def lstm_cell(
    x: Tensor,
    state: tuple[Tensor, Tensor],
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One LSTM step (gate order i, f, g, o as in PyTorch; equations in the module doc).

    Args:
        x: (B, I).  state: (h, c), each (B, H).
        w_ih: (4H, I).  w_hh: (4H, H).  b_ih, b_hh: (4H,) or None.

    Returns:
        (h_t, c_t), each (B, H); h_t is the step's output.

    Example:
        >>> h, c = lstm_cell(torch.randn(2, 3), (torch.zeros(2, 4), torch.zeros(2, 4)),
        ...                  torch.randn(16, 3), torch.randn(16, 4))
        >>> h.shape
        torch.Size([2, 4])
    """
    h, c = state
    gates = F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)  # (B, 4H)
    i, f, g, o = gates.chunk(4, dim=-1)  # each (B, H)
    i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)
    g = torch.tanh(g)
    c_new = f * c + i * g
    h_new = o * torch.tanh(c_new)
    return h_new, c_new


def gru_cell(
    x: Tensor,
    h: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """One GRU step (gate order r, z, n as in PyTorch; see the warning on z in the module doc).

    Args:
        x: (B, I).  h: (B, H).
        w_ih: (3H, I).  w_hh: (3H, H).  b_ih, b_hh: (3H,) or None.

    Returns:
        (B, H) new hidden state h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}.
    """
    x_r, x_z, x_n = F.linear(x, w_ih, b_ih).chunk(3, dim=-1)  # each (B, H)
    h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, dim=-1)  # each (B, H)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h


def _where(keep: Tensor, new: State, old: State) -> State:
    """Take ``new`` where ``keep`` (B, 1) is true and ``old`` elsewhere, for each state part."""
    if isinstance(new, Tensor):
        assert isinstance(old, Tensor)
        return torch.where(keep, new, old)
    assert isinstance(old, tuple)
    return tuple(torch.where(keep, n, o) for n, o in zip(new, old, strict=True))


def scan(
    step: Callable[[Tensor, State], tuple[Tensor, State]],
    x: Tensor,
    state: State,
    mask: Tensor | None = None,
    *,
    reverse: bool = False,
) -> tuple[Tensor, State]:
    """Run ``step`` over the time axis of ``x``, where padded steps change nothing.

    At a step where ``mask[t, b]`` is false the state of sequence b is carried over unchanged
    and its output is zero, so a right-padded batch gives each sequence exactly the result
    of running it alone. With ``reverse=True`` time runs from T-1 down to 0; a padded tail
    is then skipped first, so each sequence starts at its own last valid step.

    Args:
        step: ``step(x_t, state) -> (output_t, new_state)`` with x_t (B, I), output_t (B, H).
        x: (T, B, I) time-major input.
        state: initial state, a (B, H) tensor or a tuple of them (LSTM: (h, c)).
        mask: (T, B) bool, true at valid steps; None means every step is valid.
        reverse: run backwards in time (the second direction of a bidirectional layer).

    Returns:
        (outputs, final_state): outputs (T, B, H) in the original time order, and the state
        after each sequence's last valid step.
    """
    outputs: list[Tensor] = []
    times = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    for t in times:
        out, new_state = step(x[t], state)
        if mask is not None:
            keep = mask[t].unsqueeze(-1)  # (B, 1)
            new_state = _where(keep, new_state, state)
            out = torch.where(keep, out, torch.zeros_like(out))
        state = new_state
        outputs.append(out)
    if reverse:
        outputs.reverse()
    return torch.stack(outputs), state  # (T, B, H)


def valid_step_mask(
    lengths: Tensor | None,
    mask: Tensor | None,
    steps: int,
    batch: int,
    *,
    batch_first: bool,
    device: torch.device,
) -> Tensor | None:
    """The (T, B) bool mask of valid steps, from ``lengths`` (B,) or a right-padding ``mask``.

    ``mask`` has the layout of the input: (B, T) if ``batch_first`` else (T, B). It must be
    true on a prefix of each sequence. Every length must be in [1, T]. Returns None when
    neither is given.
    """
    if lengths is not None and mask is not None:
        raise ValueError("pass lengths or mask, not both; they say the same thing")
    if lengths is not None:
        lengths = torch.as_tensor(lengths).to(device=device, dtype=torch.long)
        if lengths.shape != (batch,):
            raise ValueError(
                f"lengths must have shape (batch,) = ({batch},), got {tuple(lengths.shape)}"
            )
        if bool((lengths < 1).any() | (lengths > steps).any()):
            raise ValueError(
                f"every length must be in [1, {steps}] (the padded length), got "
                f"{lengths.tolist()}; drop empty sequences from the batch"
            )
        return torch.arange(steps, device=device).unsqueeze(1) < lengths.unsqueeze(0)
    if mask is None:
        return None
    valid = (mask.T if batch_first else mask).to(device=device, dtype=torch.bool)  # (T, B)
    if valid.shape != (steps, batch):
        layout = "(B, T)" if batch_first else "(T, B)"
        raise ValueError(
            f"mask must have the input's layout {layout} = "
            f"{(batch, steps) if batch_first else (steps, batch)}, got {tuple(mask.shape)}"
        )
    lengths = valid.sum(0)
    prefix = torch.arange(steps, device=device).unsqueeze(1) < lengths.unsqueeze(0)
    if not bool(torch.equal(prefix, valid)) or bool((lengths < 1).any()):
        raise ValueError(
            "mask must be true on a non-empty prefix of each sequence (right padding); "
            "move the padding to the end of each sequence"
        )
    return valid
