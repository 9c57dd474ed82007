"""``danlu translate eval`` (sacreBLEU on a file of pairs) and ``danlu translate run``
(standard input to standard output).

``eval`` scores detokenized translations against the reference column with sacreBLEU
(:func:`danlu.metrics.bleu.sacrebleu_scores`: ``tok:zh`` for a Chinese target, ``13a``
otherwise; chrF too) and writes the translations, one a line, in the file's order.

``run`` answers each batch of standard input as it arrives
(:func:`danlu.io.text.stdin_batches`): one output line per input line, in order, an empty
line for an empty line; with ``--n-best K``, K lines per input line, best first, each
``SCORE<TAB>TRANSLATION`` (the score is log p / length penalty).

Example:
    >>> scores = evaluate_file(EvalConfig(model="runs/zh-en", data="test.tsv"))  # doctest: +SKIP
    >>> print(scores["bleu_line"])  # doctest: +SKIP
    BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.4.0 = 24.3 ...
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from danlu.io import atomic_write, check_output_file, write_json
from danlu.metrics.bleu import sacrebleu_scores
from danlu.tasks.translation.config import EvalConfig, RunConfig, resolve_columns
from danlu.tasks.translation.data import read_pairs
from danlu.tasks.translation.translator import Hypothesis, load_translator

__all__ = ["answer_lines", "evaluate_file", "format_answers", "hypotheses_path"]


def hypotheses_path(cfg: EvalConfig) -> Path | None:
    """Where ``eval`` writes the translations: ``--hyp-out``, else beside ``--out``."""
    if cfg.hyp_out:
        return Path(cfg.hyp_out)
    return Path(cfg.out).with_suffix(".hyp.txt") if cfg.out else None


def evaluate_file(cfg: EvalConfig) -> dict[str, Any]:
    """sacreBLEU BLEU and chrF of the model on ``cfg.data`` (see the module docstring)."""
    hyp_path = hypotheses_path(cfg)
    for flag, path in (("--out", cfg.out), ("--hyp-out", hyp_path)):
        if path:  # checked before the work, not after it
            check_output_file(path, flag)
    translator = load_translator(cfg.model, cfg.device, cfg.threads, cfg.batch_size)
    spec = translator.spec
    src_col, tgt_col = resolve_columns(cfg.src_col, cfg.tgt_col, spec.src_lang, spec.tgt_lang)
    pairs = read_pairs(cfg.data, src_col, tgt_col)
    hyps = [h[0].text for h in translator.search(pairs.src, cfg.decode)]
    scores = sacrebleu_scores(hyps, pairs.tgt, spec.tgt_lang)
    scores.update(sentences=len(pairs), skipped=pairs.skipped, beam=cfg.decode.beam,
                  length_penalty=cfg.decode.length_penalty, alpha=cfg.decode.alpha)  # fmt: skip
    if hyp_path is not None:
        text = "".join(h + "\n" for h in hyps).encode("utf-8")
        atomic_write(hyp_path, lambda fh: fh.write(text), len(text))
        scores["hypotheses"] = str(hyp_path)
    if cfg.out:
        write_json(cfg.out, scores)
    return scores


def format_answers(found: Sequence[Sequence[Hypothesis]], n_best: int) -> list[str]:
    """Output lines: one translation per input, or ``n_best`` ``SCORE<TAB>TEXT`` lines
    (an empty input gives ``n_best`` empty lines)."""
    if n_best == 1:
        return [hyps[0].text for hyps in found]
    return [f"{h.score:.4f}\t{h.text}" if h.text or h.score else ""
            for hyps in found for h in hyps]  # fmt: skip


def answer_lines(cfg: RunConfig, batches: Iterable[Sequence[str]], stream: TextIO) -> int:
    """Translate each batch of input lines and write its answers, flushing after each
    batch; returns the number of input lines."""
    translator = load_translator(cfg.model, cfg.device, cfg.threads, cfg.batch_size)
    count = 0
    for batch in batches:
        lines = [line.rstrip("\r\n") for line in batch]
        found = translator.search(lines, cfg.decode, cfg.n_best)
        stream.write("".join(line + "\n" for line in format_answers(found, cfg.n_best)))
        stream.flush()
        count += len(lines)
    return count
