"""Tiny models that follow the decoding-step contract, for the search tests (float64).

- :class:`NgramModel`: log p(y_t | y_<t, x) = log_softmax(table[y_{t-2}, y_{t-1}] + pos[t] +
  src_b), random; the state carries the sentence's source vector, the token before the last,
  the position and a non-tensor tag that must come back unchanged.
- :class:`GRUDecoder`: a 2-layer GRU decoder whose hidden state (N, layers, H) is carried
  step by step; :meth:`GRUDecoder.recompute` scores a whole output in one call, from the
  prefix, as a check of the incremental path and of how the search reorders states.
- :class:`CountingStep`: wraps a step and records the rows of every call.
"""

from __future__ import annotations

import itertools

import torch
from torch import Tensor, nn


class NgramModel:
    """A random trigram (or bigram) model over tokens 0..V-1; BOS is the extra id V."""

    def __init__(
        self, vocab: int, *, order: int = 3, eos: int = 0, eos_bias: float = 0.0, seed: int = 0
    ) -> None:
        gen = torch.Generator().manual_seed(seed)
        self.vocab, self.order, self.eos, self.bos = vocab, order, eos, vocab
        self.table = torch.randn(vocab + 1, vocab + 1, vocab, generator=gen, dtype=torch.float64)
        self.table *= 2.0
        if order == 2:  # the token before the last does not matter
            self.table[:] = self.table[0].clone()
        self.table[..., eos] += eos_bias
        self.pos = torch.randn(64, vocab, generator=gen, dtype=torch.float64)
        self.gen = gen

    def start(self, batch: int) -> dict[str, object]:
        """An initial state: B rows, each with its own random source vector."""
        src = torch.randn(batch, self.vocab, generator=self.gen, dtype=torch.float64)
        return {
            "src": src,
            "prev": torch.full((batch,), self.bos),
            "pos": torch.zeros(batch, dtype=torch.long),
            "tag": "toy",
        }

    def step(self, state: dict, last: Tensor) -> tuple[Tensor, dict]:
        assert state["tag"] == "toy" and last.dtype == torch.long
        assert last.shape == state["prev"].shape
        logits = self.table[state["prev"], last] + self.pos[state["pos"]] + state["src"]
        new = dict(state, prev=last, pos=state["pos"] + 1)
        return logits.log_softmax(1), new

    def log_prob(self, state: dict, row: int, tokens: list[int]) -> float:
        """log p(tokens | x_row), one token at a time in plain Python (the brute force)."""
        one = {k: (v[row : row + 1] if isinstance(v, Tensor) else v) for k, v in state.items()}
        total, last = 0.0, self.bos
        for y in tokens:
            log_probs, one = self.step(one, torch.tensor([last]))
            total += float(log_probs[0, y])
            last = y
        return total


def all_outputs(vocab: int, eos: int, limit: int) -> list[list[int]]:
    """Every output up to ``limit`` tokens: ending in EOS, or ``limit`` tokens without EOS."""
    words = [w for w in range(vocab) if w != eos]
    out = []
    for n in range(limit):
        out += [[*p, eos] for p in itertools.product(words, repeat=n)]
    return out + [list(p) for p in itertools.product(words, repeat=limit)]


class GRUDecoder(nn.Module):
    """Embedding -> 2-layer GRU -> linear -> log-softmax, float64; state {"h": (N, 2, H)}."""

    def __init__(self, vocab: int, hidden: int = 16, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.vocab, self.bos = vocab, vocab
        self.embed = nn.Embedding(vocab + 1, hidden)
        self.gru = nn.GRU(hidden, hidden, num_layers=2, batch_first=True)
        self.out = nn.Linear(hidden, vocab)
        self.double()

    def start(self, batch: int, seed: int = 1) -> dict[str, Tensor]:
        gen = torch.Generator().manual_seed(seed)
        h = torch.randn(batch, 2, self.gru.hidden_size, generator=gen, dtype=torch.float64)
        return {"h": h}

    @torch.no_grad()
    def step(self, state: dict[str, Tensor], last: Tensor) -> tuple[Tensor, dict]:
        x = self.embed(last).unsqueeze(1)  # (N, 1, H)
        out, h = self.gru(x, state["h"].transpose(0, 1).contiguous())
        return self.out(out[:, 0]).log_softmax(1), {"h": h.transpose(0, 1)}

    @torch.no_grad()
    def recompute(self, h0: Tensor, tokens: list[int]) -> float:
        """log p(tokens) from one GRU call over [BOS, y_1..y_{n-1}] (no carried state)."""
        inputs = torch.tensor([[self.bos, *tokens[:-1]]])
        out, _ = self.gru(self.embed(inputs), h0.view(1, 2, -1).transpose(0, 1).contiguous())
        log_probs = self.out(out[0]).log_softmax(1)  # (n, V)
        return float(log_probs[torch.arange(len(tokens)), torch.tensor(tokens)].sum())


class CountingStep:
    """A step that records how many rows each call decoded."""

    def __init__(self, step) -> None:
        self.inner, self.rows = step, []

    def __call__(self, state, last):
        self.rows.append(last.numel())
        return self.inner(state, last)


def hypotheses(result) -> list[list[tuple[list[int], float]]]:
    """Per sentence, the (tokens, score) of each returned hypothesis (missing ones left out)."""
    out = []
    for b in range(result.tokens.shape[0]):
        out.append(
            [
                (result.tokens[b, j, : result.lengths[b, j]].tolist(), float(result.scores[b, j]))
                for j in range(result.tokens.shape[1])
                if result.scores[b, j] > float("-inf")
            ]
        )
    return out
