"""The training loss, and three remedies for exposure bias (each off by default).

Teacher forcing trains ``p(y_t | y_<t, x)`` on gold prefixes only, while the model decodes
from its own: the remedies show the decoder other prefixes (Su Jianlin's post on exposure
bias; the ``BOS`` input and padding are never changed):

- **token noise** ``P``: each decoder input token ``y_t`` (t >= 1) is replaced, with
  probability ``P``, by a token drawn uniformly from the vocabulary's real tokens;
- **scheduled sampling** ``k`` (Bengio et al. 2015): at training step ``i`` each input
  token stays the gold one with probability ``ε_i = k / (k + exp(i / k))`` (inverse-sigmoid
  decay) and is otherwise the model's own prediction. As usual for parallel decoders
  (Duckworth et al. 2019; Mihaylova & Martins 2019) the predictions come from a first,
  teacher-forced pass without gradient (``argmax`` of its logits at ``t - 1``), not from
  decoding step by step: the same approximation for the GRUs and the Transformer;
- **adversarial** ``eps`` (FGM, Miyato et al. 2017) on the decoder's embeddings only: with
  ``e`` the target embedding output and ``g = ∂L/∂e``, the loss is also taken at
  ``e + eps · g / ||g||`` (per sentence), and the gradient of a step is the sum of both.

The random draws of a step come from a generator seeded by ``(seed, step)``, so both passes
of the adversarial step see the same inputs and a resumed run draws what it would have.

Example:
    >>> g = torch.Generator().manual_seed(0)
    >>> tgt_in = torch.tensor([[2, 5, 6, 7, 0]])
    >>> token_noise(tgt_in, 0.0, vocab_size=10, generator=g).equal(tgt_in)
    True
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from danlu.functional import label_smoothed_nll
from danlu.tasks.translation.batches import Batch, both_directions
from danlu.tasks.translation.data import EOS, PAD

__all__ = ["DecoderFGM", "TranslationLoss", "mix_predictions", "teacher_forcing_probability",
           "token_noise"]  # fmt: skip

FIRST_REAL = EOS + 1  # ids below are <pad> <unk> <s> </s>


def _changeable(tgt_in: Tensor) -> Tensor:
    """(B, T) bool: the decoder inputs a remedy may replace (not BOS, not padding)."""
    keep = tgt_in != PAD
    keep[:, 0] = False
    return keep


def token_noise(tgt_in: Tensor, p: float, vocab_size: int, generator: torch.Generator) -> Tensor:
    """``tgt_in (B, T)`` with each input token after BOS replaced, with probability ``p``,
    by a uniform draw from the real tokens ``[4, vocab_size)``; padding stays."""
    if p == 0 or vocab_size <= FIRST_REAL:
        return tgt_in
    hit = torch.rand(tgt_in.shape, generator=generator) < p
    draw = torch.randint(FIRST_REAL, vocab_size, tgt_in.shape, generator=generator)
    hit = hit.to(tgt_in.device) & _changeable(tgt_in)
    return torch.where(hit, draw.to(tgt_in.device), tgt_in)


def teacher_forcing_probability(step: int, k: float) -> float:
    """``ε_i = k / (k + exp(i / k))``: Bengio et al.'s inverse-sigmoid decay (k >= 1)."""
    ratio = step / k
    return 0.0 if ratio > 700 else k / (k + math.exp(ratio))


def mix_predictions(tgt_in: Tensor, predicted: Tensor, gold_probability: float,
                    generator: torch.Generator) -> Tensor:  # fmt: skip
    """Scheduled sampling's decoder inputs: ``tgt_in[:, t]`` (t >= 1, not padding) becomes
    ``predicted[:, t - 1]`` (the model's guess of ``y_t``) with probability
    ``1 - gold_probability``. ``predicted`` is ``(B, T)``, the argmax at each position."""
    use_model = torch.rand(tgt_in.shape, generator=generator) >= gold_probability
    use_model = use_model.to(tgt_in.device) & _changeable(tgt_in)
    shifted = torch.cat([tgt_in[:, :1], predicted[:, :-1]], 1)  # guess of the token at t
    return torch.where(use_model, shifted, tgt_in)


def _same_tensor(a: Tensor, b: Tensor) -> bool:
    return a.shape == b.shape and a.data_ptr() == b.data_ptr()


class DecoderFGM:
    """FGM on the outputs of the decoder's embedding layer only (``model.tgt_embedding``).

    A forward hook on that table touches only the call whose input is the batch's decoder
    input tensor, so a table shared with the source (``--shared-embeddings``) leaves the
    source embeddings alone. :meth:`loss` returns ``clean + adv - adv.detach()``: its value
    is the clean loss (what is logged) and its gradient that of both passes.
    """

    def __init__(self, embedding: nn.Embedding, eps: float) -> None:
        if not eps > 0:
            raise ValueError(f"the adversarial step eps must be > 0, got {eps}")
        self.embedding, self.eps = embedding, float(eps)

    def _run(self, forward: Callable[[], Tensor], tokens: Tensor, delta: Tensor | None
             ) -> tuple[Tensor, list[Tensor]]:  # fmt: skip
        seen: list[Tensor] = []

        def hook(module: nn.Module, args: tuple, output: Tensor) -> Tensor | None:
            if not _same_tensor(args[0], tokens):
                return None
            seen.append(output)
            return None if delta is None else output + delta.to(output.dtype)

        handle = self.embedding.register_forward_hook(hook)
        try:
            return forward(), seen
        finally:
            handle.remove()

    def loss(self, loss_at: Callable[[Tensor], Tensor], tokens: Tensor) -> Tensor:
        """``loss_at(tokens)`` runs the model on decoder inputs ``tokens (B, T)`` and returns
        the mean loss; the result adds the adversarial pass's gradient (see the class doc)."""
        clean, seen = self._run(lambda: loss_at(tokens), tokens, None)
        if len(seen) != 1:
            raise RuntimeError(f"the decoder embedding saw its input {len(seen)} times, not once")
        (g,) = torch.autograd.grad(clean, seen[0], retain_graph=True)  # (B, T, E)
        norm = g.flatten(1).norm(dim=1).clamp_min(1e-12)  # (B,)
        delta = self.eps * g / norm[:, None, None]
        adversarial, _ = self._run(lambda: loss_at(tokens), tokens, delta.detach())
        return clean + adversarial - adversarial.detach()


class TranslationLoss:
    """``loss(model, batch)``: the mean label-smoothed NLL per target token, after the
    remedies the options turn on (module docstring).

    ``step()`` gives the training step (set to the Trainer's once it exists); the model
    passed in may be wrapped by DDP, ``embedding`` is the bare model's ``tgt_embedding``.
    With ``bidirectional`` the batch becomes both directions' (:func:`both_directions`) and
    the loss is the mean over the tokens of both; token noise and scheduled sampling apply
    to each direction's inputs alike.
    """

    def __init__(self, vocab_size: int, embedding: nn.Embedding, label_smoothing: float = 0.0,
                 token_noise: float = 0.0, scheduled_sampling: float = 0.0,
                 adversarial: float = 0.0, seed: int = 0, bidirectional: bool = False
                 ) -> None:  # fmt: skip
        if bidirectional and adversarial > 0:
            raise ValueError("the decoder-embedding FGM is for one decoder, not bidirectional")
        self.vocab_size, self.epsilon = vocab_size, label_smoothing
        self.bidirectional = bidirectional
        self.noise, self.k, self.seed = token_noise, scheduled_sampling, seed
        self.fgm = DecoderFGM(embedding, adversarial) if adversarial > 0 else None
        self.step: Callable[[], int] = lambda: 0

    def _nll(self, logits: Tensor, target: Tensor) -> Tensor:
        return label_smoothed_nll(logits, target, self.epsilon, ignore_index=PAD)

    def decoder_inputs(self, model: nn.Module, batch: Batch) -> Tensor:
        """The decoder inputs of this step: gold, then noised / mixed as configured."""
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.step())
        tgt_in = token_noise(batch.tgt_in, self.noise, self.vocab_size, generator)
        if self.k:
            with torch.no_grad():
                guess = model(batch.src, batch.src_mask, tgt_in).argmax(-1)  # (B, T)
            gold = teacher_forcing_probability(self.step(), self.k)
            tgt_in = mix_predictions(tgt_in, guess, gold, generator)
        return tgt_in

    def __call__(self, model: nn.Module, batch: Batch) -> Tensor:
        if self.bidirectional:
            batch = both_directions(batch)
        tgt_in = self.decoder_inputs(model, batch)

        def loss_at(tokens: Tensor) -> Tensor:
            return self._nll(model(batch.src, batch.src_mask, tokens), batch.tgt_out)

        return loss_at(tgt_in) if self.fgm is None else self.fgm.loss(loss_at, tgt_in)
