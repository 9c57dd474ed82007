"""Recurrent layers: Elman RNN, LSTM, GRU (reference or PyTorch fast path) and Jordan.

:class:`RNN`, :class:`LSTM` and :class:`GRU` *are* ``nn.RNN``, ``nn.LSTM`` and ``nn.GRU``
(subclasses with the same parameters, names and gate order, so ``load_state_dict`` copies
weights both ways) with two additions:

- ``impl``: ``"torch"`` (default) runs PyTorch's fused kernels (cuDNN on GPU);
  ``"reference"`` runs the cell equations of :mod:`danlu.functional.recurrent` step by step
  in Python on the same parameters. Tests prove the two agree, values and gradients.
- variable-length batches without packing by hand: ``forward(x, hx, lengths=...)`` or
  ``mask=...`` (right padding). Padded steps never change the state, their outputs are
  zero, and the returned state is each sequence's state after its last valid step (for the
  reverse direction: after its first step). ``PackedSequence`` inputs work as in PyTorch.

Both paths support several layers (``num_layers``; the input of layer l+1 is the output of
layer l, with inverted dropout ``dropout`` between layers in training), bidirectional layers
(the forward and backward outputs are concatenated: (T, B, 2H)), initial state in and
final state out ((num_layers·D, B, H), D = 2 if bidirectional; LSTM: a pair (h, c)).

:class:`Jordan` feeds the previous *output* back instead of the hidden state; PyTorch has no
equivalent, so it has only the reference path.

Example:
    >>> lstm = LSTM(8, 16, num_layers=2, batch_first=True)
    >>> x = torch.randn(3, 5, 8)  # (B, T, I)
    >>> out, (h, c) = lstm(x, lengths=torch.tensor([5, 2, 4]))
    >>> out.shape, h.shape
    (torch.Size([3, 5, 16]), torch.Size([2, 3, 16]))
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from danlu.errors import UsageError
from danlu.functional.dropout import dropout as dropout_fn
from danlu.functional.recurrent import (
    NONLINEARITIES,
    State,
    elman_cell,
    gru_cell,
    jordan_cell,
    lstm_cell,
    scan,
    valid_step_mask,
)
from danlu.nn.impl import IMPLS, Impl, check_impl

__all__ = ["GRU", "IMPLS", "LSTM", "RNN", "Jordan", "check_impl"]

# A step function for functional.recurrent.scan, and a factory building one from the weights
# of one layer and direction: make_step(w_ih, w_hh, b_ih, b_hh) -> step.
Step = Callable[[Tensor, State], tuple[Tensor, State]]
StepFactory = Callable[..., Step]


def _repack_like(out: Tensor, lengths: Tensor, like: PackedSequence, batch_first: bool) -> Any:
    """Pack padded ``out`` with exactly the batch order of the PackedSequence ``like``."""
    if like.sorted_indices is not None:
        out = out.index_select(0 if batch_first else 1, like.sorted_indices)
        lengths = lengths[like.sorted_indices.cpu()]
    packed = pack_padded_sequence(out, lengths, batch_first=batch_first, enforce_sorted=True)
    return PackedSequence(
        packed.data, packed.batch_sizes, like.sorted_indices, like.unsorted_indices
    )


def _reference(
    module: nn.RNNBase, x: Tensor, hx: State | None, valid: Tensor | None, make_step: StepFactory
) -> tuple[Tensor, State]:
    """The stacked, possibly bidirectional recurrence on time-major x (T, B, I)."""
    directions = 2 if module.bidirectional else 1
    is_lstm = module.mode == "LSTM"
    if hx is None:
        zeros = x.new_zeros(module.num_layers * directions, x.shape[1], module.hidden_size)
        hx = (zeros, zeros) if is_lstm else zeros
    finals: list[State] = []
    layer_input = x  # (T, B, I) for layer 0, then (T, B, D·H)
    for layer in range(module.num_layers):
        outputs = []
        for direction in range(directions):
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            # (G·H, I), (G·H, H), (G·H,), (G·H,); no biases when bias=False
            weights = [getattr(module, n + suffix, None) for n in names]
            k = layer * directions + direction  # PyTorch's index into (L·D, B, H)
            state: State = (hx[0][k], hx[1][k]) if is_lstm else hx[k]
            step = make_step(*weights)
            out, state = scan(step, layer_input, state, valid, reverse=direction == 1)
            outputs.append(out)  # (T, B, H)
            finals.append(state)
        layer_input = torch.cat(outputs, dim=-1)  # (T, B, D·H)
        if module.training and module.dropout > 0 and layer < module.num_layers - 1:
            layer_input = dropout_fn(layer_input, module.dropout)
    if is_lstm:
        return layer_input, (
            torch.stack([s[0] for s in finals]),  # h_n (L·D, B, H)
            torch.stack([s[1] for s in finals]),  # c_n (L·D, B, H)
        )
    return layer_input, torch.stack(finals)  # type: ignore[arg-type]


def _map_state(hx: State | None, fn: Callable[[Tensor], Tensor]) -> State | None:
    if hx is None:
        return None
    return fn(hx) if isinstance(hx, Tensor) else tuple(fn(t) for t in hx)


class _RecurrentMixin:
    """Put before ``nn.RNN``/``nn.LSTM``/``nn.GRU``: impl dispatch and variable lengths."""

    impl: Impl
    batch_first: bool

    def _make_step(
        self, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None
    ) -> Step:
        raise NotImplementedError

    def forward(
        self,
        input: Tensor | PackedSequence,
        hx: State | None = None,
        *,
        lengths: Tensor | None = None,
        mask: Tensor | None = None,
    ) -> tuple[Any, Any]:
        torch_forward = super().forward  # type: ignore[misc]  # nn.LSTM.forward etc.
        module: nn.RNNBase = self  # type: ignore[assignment]
        bf = self.batch_first
        if isinstance(input, PackedSequence):
            if lengths is not None or mask is not None:
                raise ValueError(
                    "a PackedSequence carries its lengths; do not pass lengths or mask"
                )
            if self.impl == "torch":
                return torch_forward(input, hx)
            padded, lens = pad_packed_sequence(input, batch_first=bf)
            out, state = self.forward(padded, hx, lengths=lens)
            return _repack_like(out, lens, input, bf), state
        if input.dim() == 2:  # one unbatched sequence (T, I); state (L·D, H)
            if lengths is not None or mask is not None:
                raise ValueError("lengths and mask need a batch; give input of shape (T, B, I)")
            if self.impl == "torch":
                return torch_forward(input, hx)
            batch_dim = 0 if bf else 1  # run it as a batch of one
            batched_hx = _map_state(hx, lambda t: t.unsqueeze(1))
            out, state = self.forward(input.unsqueeze(batch_dim), batched_hx)
            return out.squeeze(batch_dim), _map_state(state, lambda t: t.squeeze(1))
        if input.dim() != 3:
            layout = "(B, T, I)" if bf else "(T, B, I)"
            raise ValueError(f"input must have shape {layout}, got {tuple(input.shape)}")
        steps, batch = (input.shape[1], input.shape[0]) if bf else input.shape[:2]
        valid = valid_step_mask(lengths, mask, steps, batch, batch_first=bf, device=input.device)
        if self.impl == "torch":
            if valid is None:
                return torch_forward(input, hx)
            lens = valid.sum(0).cpu()
            packed = pack_padded_sequence(input, lens, batch_first=bf, enforce_sorted=False)
            out, state = torch_forward(packed, hx)
            out, _ = pad_packed_sequence(out, batch_first=bf, total_length=steps)
            return out, state
        if hx is None:  # PyTorch's own checks, for the same messages on both paths
            module.check_input(input, None)
        else:
            module.check_forward_args(input, hx, None)  # type: ignore[arg-type]
        x = input.transpose(0, 1) if bf else input  # (T, B, I)
        out, state = _reference(module, x, hx, valid, self._make_step)
        return (out.transpose(0, 1) if bf else out), state

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, impl={self.impl!r}"  # type: ignore[misc]


class RNN(_RecurrentMixin, nn.RNN):
    """Elman RNN, h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), as ``nn.RNN`` plus impl.

    Args:
        input_size: I.  hidden_size: H.  num_layers: stacked layers L.
        nonlinearity: "tanh" or "relu".  bias: use b_ih and b_hh.
        batch_first: input and output are (B, T, ·) instead of (T, B, ·).
        dropout: inverted dropout on the outputs of every layer but the last, in training.
        bidirectional: also run each layer backwards in time (D = 2).
        impl: "torch" (fused) or "reference" (the equations, step by step).

    Forward: ``rnn(x, hx=None, *, lengths=None, mask=None) -> (output, h_n)`` with x
    (T, B, I), hx and h_n (L·D, B, H), output (T, B, D·H).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        nonlinearity: Literal["tanh", "relu"] = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        impl: Impl = "torch",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(
            input_size, hidden_size, num_layers, nonlinearity=nonlinearity, bias=bias,
            batch_first=batch_first, dropout=dropout, bidirectional=bidirectional,
            device=device, dtype=dtype,
        )  # fmt: skip
        self.impl = check_impl(impl)

    def _make_step(
        self, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None
    ) -> Step:
        def step(x: Tensor, h: State) -> tuple[Tensor, State]:
            assert isinstance(h, Tensor)
            h = elman_cell(x, h, w_ih, w_hh, b_ih, b_hh, self.nonlinearity)  # type: ignore[arg-type]
            return h, h

        return step


class LSTM(_RecurrentMixin, nn.LSTM):
    """LSTM (gates i, f, g, o; c_t = f⊙c + i⊙g, h_t = o⊙tanh(c_t)) as ``nn.LSTM`` plus impl.

    Arguments as for :class:`RNN` (no nonlinearity). Forward:
    ``lstm(x, (h0, c0)=None, *, lengths=None, mask=None) -> (output, (h_n, c_n))``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        impl: Impl = "torch",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(
            input_size, hidden_size, num_layers, bias=bias, batch_first=batch_first,
            dropout=dropout, bidirectional=bidirectional, device=device, dtype=dtype,
        )  # fmt: skip
        self.impl = check_impl(impl)

    def _make_step(
        self, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None
    ) -> Step:
        def step(x: Tensor, state: State) -> tuple[Tensor, State]:
            h, c = lstm_cell(x, state, w_ih, w_hh, b_ih, b_hh)  # type: ignore[arg-type]
            return h, (h, c)

        return step


class GRU(_RecurrentMixin, nn.GRU):
    """GRU (gates r, z, n; h_t = (1-z)⊙n + z⊙h_{t-1}, PyTorch's z) as ``nn.GRU`` plus impl.

    See :mod:`danlu.functional.recurrent` for how PyTorch's z relates to the notes' z.
    Arguments and forward as for :class:`RNN` (no nonlinearity).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        impl: Impl = "torch",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(
            input_size, hidden_size, num_layers, bias=bias, batch_first=batch_first,
            dropout=dropout, bidirectional=bidirectional, device=device, dtype=dtype,
        )  # fmt: skip
        self.impl = check_impl(impl)

    def _make_step(
        self, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None
    ) -> Step:
        def step(x: Tensor, h: State) -> tuple[Tensor, State]:
            h = gru_cell(x, h, w_ih, w_hh, b_ih, b_hh)  # type: ignore[arg-type]
            return h, h

        return step


class Jordan(nn.Module):
    """Jordan network: the previous output y_{t-1}, not h_{t-1}, is fed back.

    ``h_t = φ(W_ih x_t + W_yh y_{t-1} + b_h)``, ``y_t = ψ(W_hy h_t + b_y)``. Weights start
    as U(-1/sqrt(H), 1/sqrt(H)) like PyTorch's recurrent layers.

    Args:
        input_size: I.  hidden_size: H.  output_size: O.
        nonlinearity: φ, output_nonlinearity: ψ; names in ``NONLINEARITIES``.
        bias: use b_h and b_y.  batch_first: (B, T, ·) layouts.

    Forward: ``jordan(x, y0=None, *, lengths=None, mask=None) -> (outputs, y_n)`` with
    x (T, B, I), outputs (T, B, O), y0 and y_n (B, O).

    Reference: M. I. Jordan, "Serial order: a parallel distributed processing approach", 1986.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        *,
        nonlinearity: str = "tanh",
        output_nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        sizes = {"input": input_size, "hidden": hidden_size, "output": output_size}
        for name, size in sizes.items():
            if not (isinstance(size, int) and size > 0):
                raise ValueError(f"{name}_size must be a positive int, got {size!r}")
        for value in (nonlinearity, output_nonlinearity):
            if value not in NONLINEARITIES:
                raise UsageError(
                    f"unknown nonlinearity {value!r}; valid: {', '.join(NONLINEARITIES)}"
                )
        self.input_size, self.hidden_size, self.output_size = input_size, hidden_size, output_size
        self.nonlinearity, self.output_nonlinearity = nonlinearity, output_nonlinearity
        self.batch_first = batch_first
        kw: dict[str, Any] = {"device": device, "dtype": dtype}
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size, **kw))
        self.weight_yh = nn.Parameter(torch.empty(hidden_size, output_size, **kw))
        self.weight_hy = nn.Parameter(torch.empty(output_size, hidden_size, **kw))
        self.bias_h = nn.Parameter(torch.empty(hidden_size, **kw)) if bias else None
        self.bias_y = nn.Parameter(torch.empty(output_size, **kw)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(
        self,
        input: Tensor,
        y0: Tensor | None = None,
        *,
        lengths: Tensor | None = None,
        mask: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        if input.dim() != 3:
            layout = "(B, T, I)" if self.batch_first else "(T, B, I)"
            raise ValueError(f"input must have shape {layout}, got {tuple(input.shape)}")
        x = input.transpose(0, 1) if self.batch_first else input  # (T, B, I)
        steps, batch = x.shape[:2]
        valid = valid_step_mask(
            lengths, mask, steps, batch, batch_first=self.batch_first, device=x.device
        )
        y = x.new_zeros(batch, self.output_size) if y0 is None else y0  # (B, O)

        def step(x_t: Tensor, y_prev: State) -> tuple[Tensor, State]:
            y_t = jordan_cell(
                x_t, y_prev, self.weight_ih, self.weight_yh, self.bias_h,  # type: ignore[arg-type]
                self.weight_hy, self.bias_y, self.nonlinearity, self.output_nonlinearity,
            )  # fmt: skip
            return y_t, y_t

        out, y_n = scan(step, x, y, valid)  # (T, B, O), (B, O)
        return (out.transpose(0, 1) if self.batch_first else out), y_n  # type: ignore[return-value]

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, {self.output_size}, "
            f"nonlinearity={self.nonlinearity!r}, output_nonlinearity={self.output_nonlinearity!r}"
        )
