"""A trained translator at work: lines in, detokenized translations out.

:class:`Translator` tokenizes each line, truncates a source over the model's ``max_len``
(one warning on stderr), encodes the sentences of a batch once (sorted by length) and
searches with :mod:`danlu.decoding`: :func:`~danlu.decoding.greedy_search` at beam 1,
:func:`~danlu.decoding.beam_search` otherwise (their bidirectional versions for a
``--bidirectional`` model; a ``--right-to-left`` model's outputs are reversed back),
stopping each output at ``min(a·|source| + b, max_len + 1)`` tokens (EOS counted).
Outputs are detokenized (Chinese without spaces, English as normal text), which is what
BLEU is computed on. An empty line gives an empty translation. ``eval``, ``run``, the dev
BLEU of training and the Python API (:mod:`danlu.translate`) all go through it.

Example:
    >>> translator = load_translator("runs/zh-en")  # doctest: +SKIP
    >>> translator.translate(["我们走吧。"], beam=5)  # doctest: +SKIP
    ["Let's go."]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from danlu.decoding import (
    SearchResult,
    beam_search,
    bidirectional_beam_search,
    bidirectional_greedy_search,
    greedy_search,
)
from danlu.decoding.bidirectional_result import combine_directions
from danlu.errors import UsageError
from danlu.metrics.bleu import sacrebleu_scores
from danlu.nn.seq2seq import Seq2Seq
from danlu.tasks.translation.batches import pad_rows, to_ids, truncate
from danlu.tasks.translation.config import DecodeOptions
from danlu.tasks.translation.data import (
    BOS,
    EOS,
    PAD,
    Pairs,
    Tokenizer,
    Vocab,
    load_tokenizer,
    spm_file,
)
from danlu.tasks.translation.model import TranslationSpec, load_model
from danlu.train.device import resolve_device, use_threads

__all__ = ["Hypothesis", "Translator", "dev_evaluator", "load_translator", "tokenizers_of"]


@dataclass(frozen=True)
class Hypothesis:
    """One translation, its ranking score (log p / length penalty) and its target ids
    (EOS included when the output ended with it)."""

    text: str
    score: float
    ids: tuple[int, ...] = ()


def tokenizers_of(spec: TranslationSpec, folder: str | Path) -> tuple[Tokenizer, Tokenizer]:
    """The source and target tokenizers of a model in ``folder`` (spm files beside it)."""
    return (load_tokenizer(spec.src_tokenizer, spm_file(folder, "src")),
            load_tokenizer(spec.tgt_tokenizer, spm_file(folder, "tgt")))  # fmt: skip


def decode_options(options: dict[str, Any]) -> DecodeOptions:
    """:class:`DecodeOptions` from keywords, an unknown one refused listing the valid ones."""
    valid = [f.name for f in dataclasses.fields(DecodeOptions)]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise UsageError(f"unknown decoding option(s) {', '.join(unknown)}; valid: "
                         f"{', '.join(valid)}")  # fmt: skip
    return DecodeOptions(**options)


class Translator:
    """A seq2seq model with its vocabularies and tokenizers (see the module docstring).

    Args:
        model: the network (its mode is left as it is: eval for translation).
        spec: its spec (vocabularies, languages, ``max_len``).
        src_tokenizer, tgt_tokenizer: the tokenizers it was trained with.
        batch_size: sentences per search.
    """

    def __init__(self, model: Seq2Seq, spec: TranslationSpec, src_tokenizer: Tokenizer,
                 tgt_tokenizer: Tokenizer, batch_size: int = 64) -> None:  # fmt: skip
        self.model, self.spec, self.batch_size = model, spec, batch_size
        self.src_tokenizer, self.tgt_tokenizer = src_tokenizer, tgt_tokenizer
        self.src_vocab, self.tgt_vocab = Vocab(spec.src_vocab), Vocab(spec.tgt_vocab)
        self.warned = False  # a truncation warning is printed once per translator
        self.seen = 0  # sentences given so far (what the warning counts)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def source_tokens(self, lines: Sequence[str]) -> list[list[str]]:
        """The source tokens of each line, cut to ``max_len`` (one warning per translator)."""
        tokens = [self.src_tokenizer.encode(line) if line.strip() else [] for line in lines]
        first, self.seen = self.seen, self.seen + len(lines)
        if not self.warned and any(len(t) > self.spec.max_len for t in tokens):
            self.warned = True
            where = [f"sentence {first + i + 1}" for i in range(len(lines))]
            return truncate(tokens, self.spec.max_len, "source", where)
        return [t[: self.spec.max_len] for t in tokens]

    @torch.no_grad()
    def search(self, lines: Sequence[str], decode: DecodeOptions, n_best: int = 1
               ) -> list[list[Hypothesis]]:  # fmt: skip
        """The ``n_best`` best translations of each line, best first."""
        if self.spec.direction != "both" and decode.directions != "both":
            raise UsageError(f"--directions {decode.directions} chooses a decoder of a "
                             "--bidirectional model; this model has one: drop it")  # fmt: skip
        ids = to_ids(self.source_tokens(lines), self.src_vocab)
        out = [[Hypothesis("", 0.0)] * n_best for _ in lines]
        order = sorted((i for i in range(len(ids)) if len(ids[i])), key=lambda i: -len(ids[i]))
        for k in range(0, len(order), self.batch_size):
            chunk = order[k : k + self.batch_size]
            src = pad_rows([ids[i] for i in chunk]).to(self.device)  # (B, S)
            mask = src != PAD
            found = self._search(src, mask, decode, n_best)
            tokens, lengths = found.tokens.cpu().numpy(), found.lengths.cpu().numpy()
            scores = found.scores.cpu().tolist()
            for row, i in enumerate(chunk):
                best = [tokens[row, j, : lengths[row, j]] for j in range(n_best)]
                out[i] = [Hypothesis(self.detokenize(y), score, tuple(y.tolist()))
                          for y, score in zip(best, scores[row], strict=True)]  # fmt: skip
        return out

    def _search(self, src: torch.Tensor, mask: torch.Tensor, decode: DecodeOptions,
                n_best: int) -> SearchResult:  # fmt: skip
        direction = self.spec.direction
        state = self.model.start(src, mask)
        common = {"bos": BOS, "eos": EOS, "pad": PAD, "max_len": self.spec.max_len + 1,
                  "max_len_a": decode.max_len_a, "max_len_b": decode.max_len_b,
                  "src_lengths": mask.sum(1)}  # fmt: skip
        penalty = {"length_penalty": decode.length_penalty, "alpha": decode.alpha}
        greedy = decode.beam == 1 and n_best == 1
        if direction == "both":  # the better-scored of the L2R and R2L outputs
            if greedy:
                return bidirectional_greedy_search(self.model.step, state, **common, **penalty,
                                                   directions=decode.directions).best  # fmt: skip
            return bidirectional_beam_search(self.model.step, state, beam_size=decode.beam,
                                             n_best=n_best, directions=decode.directions,
                                             **common, **penalty).best  # fmt: skip
        if greedy:
            found = greedy_search(self.model.step, state, **common)
        else:
            found = beam_search(self.model.step, state, beam_size=decode.beam, n_best=n_best,
                                **common, **penalty)  # fmt: skip
        # a right-to-left model's outputs, back in reading order
        return combine_directions({1: found}, EOS, PAD).best if direction == "r2l" else found

    def detokenize(self, ids: np.ndarray) -> str:
        """Text of target ids (up to EOS, specials dropped)."""
        return self.tgt_tokenizer.decode(self.tgt_vocab.words(ids.tolist()))

    def translate(self, lines: Sequence[str], **options: Any) -> list[str]:
        """The best translation of each line; ``options`` are :class:`DecodeOptions` fields
        (``beam=5``, ``length_penalty="gnmt"``, ``alpha=0.6``, ``max_len_a``, ``max_len_b``)."""
        if isinstance(lines, str):
            raise UsageError("translate takes a list of sentences; wrap one sentence in [...]")
        return [h[0].text for h in self.search(list(lines), decode_options(options))]


def load_translator(run_dir: str | Path, device: str = "auto", threads: int = 0,
                    batch_size: int = 64) -> Translator:  # fmt: skip
    """The translator in a run folder of ``danlu translate train``, on ``device``."""
    model, spec = load_model(run_dir)
    folder = Path(run_dir) if Path(run_dir).is_dir() else Path(run_dir).parent
    use_threads(threads)
    model = model.to(resolve_device(device))
    return Translator(model, spec, *tokenizers_of(spec, folder), batch_size=batch_size)


def dev_evaluator(spec: TranslationSpec, tokenizers: tuple[Tokenizer, Tokenizer], dev: Pairs,
                  beam: int) -> Callable[[nn.Module], dict[str, float]]:  # fmt: skip
    """The Trainer's ``evaluate``: sacreBLEU BLEU and chrF of the dev translations
    (greedy, or beam ``beam``) as ``val_bleu`` and ``val_chrf``."""
    decode = DecodeOptions(beam=beam)
    translators: dict[int, Translator] = {}

    def evaluate(model: nn.Module) -> dict[str, float]:
        assert isinstance(model, Seq2Seq)  # the Trainer passes the model it was given
        translator = translators.setdefault(id(model), Translator(model, spec, *tokenizers))
        hyps = [h[0].text for h in translator.search(dev.src, decode)]
        scores = sacrebleu_scores(hyps, dev.tgt, spec.tgt_lang)
        return {"val_bleu": scores["bleu"], "val_chrf": scores["chrf"]}

    return evaluate
