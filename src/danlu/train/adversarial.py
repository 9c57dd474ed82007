"""Adversarial training on word embeddings (FGM, Miyato, Dai & Goodfellow, ICLR 2017).

For a batch with embedded inputs ``e`` (the outputs of the model's ``nn.Embedding``
layers) and loss ``L``, the fast gradient method moves each example's embeddings by

    r_i = eps * g_i / ||g_i||_2,      g_i = dL/de_i   (the whole sequence of example i)

and trains on both points: the gradient of a step is ``dL(e)/dθ + dL(e + r)/dθ``. The
perturbation is the steepest L2 step of size ``eps`` for a linearised loss, so the model
learns to be flat in the directions where it is most sensitive; on short-text
classification it acts as a strong regulariser of the embeddings.

:class:`EmbeddingFGM` does it with forward hooks, so any model whose embedding layers
output ``(B, ...)`` works unchanged:

Example:
    >>> fgm = EmbeddingFGM(model, eps=2.0)
    >>> with fgm.watch():                 # the clean pass records the embedding outputs
    ...     loss = loss_fn(model, batch)
    >>> loss.backward()
    >>> adv = fgm.adversarial_loss(lambda: loss_fn(model, batch))
    >>> adv.backward()                    # gradients now hold the sum of both passes
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from torch import Tensor, nn

from danlu.errors import UsageError

__all__ = ["EmbeddingFGM"]


class EmbeddingFGM:
    """FGM on the outputs of every ``nn.Embedding`` of ``model`` (see the module doc).

    Args:
        model: the network; it must contain at least one ``nn.Embedding``.
        eps: L2 norm of each example's perturbation, ``> 0``.

    Raises:
        UsageError: ``eps <= 0`` or a model without an embedding layer.
    """

    def __init__(self, model: nn.Module, eps: float) -> None:
        if not eps > 0:
            raise UsageError(f"the adversarial step eps must be > 0, got {eps}")
        self.eps = float(eps)
        self.layers = [m for m in model.modules() if isinstance(m, nn.Embedding)]
        if not self.layers:
            raise UsageError("adversarial training (FGM) needs a model with an nn.Embedding "
                             f"layer; {type(model).__name__} has none")  # fmt: skip
        self._outputs: list[Tensor] = []  # embedding outputs of the clean pass, in call order
        self._deltas: list[Tensor] | None = None

    def _hook(self, module: nn.Module, args: tuple, output: Tensor) -> Tensor | None:
        if self._deltas is not None:  # the adversarial pass: same calls, same order
            if not self._deltas:
                raise RuntimeError("the adversarial pass called the embeddings more often "
                                   "than the watched pass")  # fmt: skip
            return output + self._deltas.pop(0).to(output.dtype)
        if not output.requires_grad:  # a frozen table: its output becomes a leaf with a grad
            output.requires_grad_()
        output.retain_grad()
        self._outputs.append(output)
        return None

    @contextlib.contextmanager
    def _hooked(self) -> Iterator[None]:
        handles = [m.register_forward_hook(self._hook) for m in self.layers]
        try:
            yield
        finally:
            for h in handles:
                h.remove()

    @contextlib.contextmanager
    def watch(self) -> Iterator[None]:
        """Run the clean forward pass inside this: it records the embedding outputs."""
        self._outputs, self._deltas = [], None
        with self._hooked():
            yield

    def adversarial_loss(self, compute_loss: Callable[[], Tensor]) -> Tensor:
        """After ``loss.backward()`` of the watched pass: the loss at ``e + r``.

        ``compute_loss()`` must run the same forward pass again; call ``.backward()`` on
        the result to add its gradient to the clean one.
        """
        if not self._outputs or any(e.grad is None for e in self._outputs):
            raise RuntimeError("adversarial_loss needs a watched forward pass and its backward")
        deltas = []
        for e in self._outputs:
            g = e.grad.detach()  # (B, ...)
            norm = g.flatten(1).norm(dim=1).clamp_min(1e-12)  # (B,)
            deltas.append(self.eps * g / norm.view(-1, *([1] * (g.dim() - 1))))
        self._outputs = []
        self._deltas = deltas
        try:
            with self._hooked():
                loss = compute_loss()
        finally:
            self._deltas = None
        return loss
