"""Decoding benchmark: danlu's batched beam search against per-sentence textbook beam loops.

The model costs what a small real decoder costs: embedding 256 → 2-layer GRU (hidden 256)
→ linear to a vocabulary of 8,000 → log-softmax, random weights, float32, CPU, one torch
thread (the machine is shared; one thread keeps the ratios stable). Each sentence starts
from its own random hidden state (what an encoder would give) and has its own maximum
length 1.2·|src| + 5 for random source lengths 5–25; the EOS logit is raised so outputs end
at varied lengths, as a trained model's do.

Three decoders of the same 64 sentences, beam 5, no length penalty, the same stopping rule
(a sentence stops when its best finished hypothesis scores at least as well as every live
one, or at its maximum length), checked to give identical outputs before timing:

- ``danlu.decoding.beam_search``: all 64 sentences × 5 beams in one batch of 320 rows.
- textbook: one sentence at a time, Python lists of hypotheses (tokens, score, state),
  one decoder call per hypothesis per step, the candidates sorted in Python.
- per sentence, beams stacked: one sentence at a time, its K hypotheses in one decoder
  call of K rows per step, the bookkeeping in Python lists.

Target (issue 17): batched ≥ 10× the sentences/s of the per-sentence loop.
"""

from __future__ import annotations

import statistics
from typing import NamedTuple

import torch
from torch import Tensor, nn

from _util import interleaved, markdown_table
from danlu.decoding import beam_search

TITLE = "## Decoding: batched beam search vs per-sentence beam loops (CPU, float32)"
VOCAB, HIDDEN, LAYERS, BEAM, SENTENCES = 8000, 256, 2, 5, 64
BOS, EOS = 1, 2
EOS_BIAS = 0.8  # outputs of 3-35 tokens, mean 14; a third end at their maximum length


class GRUDecoder(nn.Module):
    """embedding → GRU → linear → log-softmax; the state is {"h": (N, layers, H)}."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.embed = nn.Embedding(VOCAB, HIDDEN)
        self.gru = nn.GRU(HIDDEN, HIDDEN, num_layers=LAYERS, batch_first=True)
        self.out = nn.Linear(HIDDEN, VOCAB)
        with torch.no_grad():
            self.out.weight.mul_(4.0)  # peaked distributions, as a trained model's
            self.out.bias[EOS] += EOS_BIAS

    @torch.no_grad()
    def step(self, state: dict[str, Tensor], last: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        out, h = self.gru(self.embed(last).unsqueeze(1), state["h"].transpose(0, 1).contiguous())
        return self.out(out[:, 0]).log_softmax(1), {"h": h.transpose(0, 1)}


def _problem(seed: int = 0) -> tuple[GRUDecoder, Tensor, Tensor]:
    gen = torch.Generator().manual_seed(seed)
    h0 = torch.randn(SENTENCES, LAYERS, HIDDEN, generator=gen)
    src_lengths = torch.randint(5, 26, (SENTENCES,), generator=gen)
    return GRUDecoder(seed), h0, src_lengths


def _limits(src_lengths: Tensor) -> list[int]:
    return (1.2 * src_lengths.double() + 5).floor().long().tolist()


def batched(model: GRUDecoder, h0: Tensor, src_lengths: Tensor) -> list[list[int]]:
    result = beam_search(
        model.step, {"h": h0}, bos=BOS, eos=EOS, beam_size=BEAM, src_lengths=src_lengths,
        max_len_a=1.2, max_len_b=5,
    )  # fmt: skip
    return [result.tokens[b, 0, : result.lengths[b, 0]].tolist() for b in range(SENTENCES)]


class Hypothesis(NamedTuple):
    tokens: list[int]
    score: float  # a float32 value, so that sums round as in the batched search
    state: dict[str, Tensor]


def textbook(model: GRUDecoder, h0: Tensor, limit: int) -> list[int]:
    """One sentence, Python lists of hypotheses, one decoder call per hypothesis."""
    beams = [Hypothesis([], 0.0, {"h": h0.unsqueeze(0)})]
    best: tuple[float, list[int]] | None = None
    for t in range(1, limit + 1):
        candidates = []
        for hyp in beams:
            last = torch.tensor([hyp.tokens[-1] if hyp.tokens else BOS])
            log_probs, state = model.step(hyp.state, last)
            top, words = log_probs[0].topk(2 * BEAM)
            scores = torch.tensor(hyp.score, dtype=torch.float32) + top  # float32 sums
            for score, word in zip(scores.tolist(), words.tolist(), strict=True):
                candidates.append((score, hyp, word, state))
        candidates.sort(key=lambda c: -c[0])
        beams = []
        for rank, (score, hyp, word, state) in enumerate(candidates[: 2 * BEAM]):
            if word == EOS or t == limit:
                if rank < BEAM and (best is None or score > best[0]):
                    best = (score, [*hyp.tokens, word])
            elif len(beams) < BEAM:
                beams.append(Hypothesis([*hyp.tokens, word], score, state))
        if t == limit or (best is not None and best[0] >= max(h.score for h in beams)):
            break
    assert best is not None
    return best[1]


def stacked(model: GRUDecoder, h0: Tensor, limit: int) -> list[int]:
    """One sentence, its hypotheses in one decoder call per step, Python bookkeeping."""
    tokens: list[list[int]] = [[]]
    scores = torch.zeros(1)
    state = {"h": h0.unsqueeze(0)}
    best: tuple[float, list[int]] | None = None
    for t in range(1, limit + 1):
        last = torch.tensor([seq[-1] if seq else BOS for seq in tokens])
        log_probs, state = model.step(state, last)  # (k, V)
        top, flat = (scores.unsqueeze(1) + log_probs).flatten().topk(2 * BEAM)
        keep_rows, new_tokens, new_scores = [], [], []
        for rank, (score, index) in enumerate(zip(top.tolist(), flat.tolist(), strict=True)):
            row, word = divmod(index, VOCAB)
            if word == EOS or t == limit:
                if rank < BEAM and (best is None or score > best[0]):
                    best = (score, [*tokens[row], word])
            elif len(keep_rows) < BEAM:
                keep_rows.append(row)
                new_tokens.append([*tokens[row], word])
                new_scores.append(score)
        if t == limit or (best is not None and best[0] >= max(new_scores)):
            break
        tokens, scores = new_tokens, torch.tensor(new_scores)
        state = {"h": state["h"][keep_rows]}
    assert best is not None
    return best[1]


def _per_sentence(decode, model: GRUDecoder, h0: Tensor, src_lengths: Tensor) -> list[list[int]]:
    return [decode(model, h0[b], limit) for b, limit in enumerate(_limits(src_lengths))]


def _rates(threads: int, quick: bool) -> tuple[dict[str, float], list[int]]:
    """Sentences/s of the three decoders with ``threads`` torch threads; output lengths."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        model, h0, src_lengths = _problem()
        ours = batched(model, h0, src_lengths)
        for name, decode in (("textbook", textbook), ("stacked", stacked)):
            theirs = _per_sentence(decode, model, h0, src_lengths)
            same = sum(a == b for a, b in zip(ours, theirs, strict=True))
            assert same == SENTENCES, f"{name}: {SENTENCES - same} outputs differ"
        fns = {
            "batched": lambda: batched(model, h0, src_lengths),
            "textbook": lambda: _per_sentence(textbook, model, h0, src_lengths),
            "stacked": lambda: _per_sentence(stacked, model, h0, src_lengths),
        }
        times = interleaved(fns, warmup=0, repeat=1 if quick else 3)  # warmed up by the check
    finally:
        torch.set_num_threads(before)
    return {k: SENTENCES / v for k, v in times.items()}, [len(o) for o in ours]


def run(quick: bool = False) -> str:
    """Markdown section: sentences/s of the three decoders and the ratios, 1 and 2 threads."""
    rows, verdicts = [], []
    for threads in (1, 2):
        rate, lengths = _rates(threads, quick)
        rows += [
            [threads, "danlu.decoding.beam_search, 64 sentences × 5 beams in one batch",
             rate["batched"], 1.0],
            [threads, "textbook: per sentence, one decoder call per hypothesis",
             rate["textbook"], rate["batched"] / rate["textbook"]],
            [threads, "per sentence, its 5 beams in one decoder call", rate["stacked"],
             rate["batched"] / rate["stacked"]],
        ]  # fmt: skip
        ratio = rate["batched"] / rate["textbook"]
        verdicts.append(f"{ratio:.1f}× with {threads} thread{'s' if threads > 1 else ''} "
                        f"({'met' if ratio >= 10 else 'NOT met'})")  # fmt: skip
    return "\n\n".join(
        [
            TITLE,
            "Model: embedding 256 → 2-layer GRU 256 → linear to 8,000 words, random weights; "
            f"64 sentences, beam 5, max length 1.2·|src| + 5 (|src| 5–25), outputs of "
            f"{min(lengths)}–{max(lengths)} tokens (mean {statistics.mean(lengths):.1f}). "
            "All three give identical outputs (checked before timing). Median of "
            f"{1 if quick else 3} interleaved runs of all 64 sentences. With one thread the "
            "batched search is bound by the output layer's matrix product (about 80 % of its "
            "time), which the per-hypothesis loop does as the same FLOPs in 1-row products, "
            "so the ratio follows how fast the machine runs that loop (6-13× in six runs on "
            "2026-12-07); a second thread speeds up the batch, not the 1-row products.",
            markdown_table(["threads", "decoder", "sentences/s", "danlu speed-up"], rows),
            "Target (batched ≥ 10× the textbook per-sentence loop): " + "; ".join(verdicts) + ".",
        ]
    )


if __name__ == "__main__":
    import sys

    print(run(quick="--quick" in sys.argv))
