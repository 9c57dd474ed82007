"""fastText's word-vector queries on standard input, and ``dump``, printed as fastText does.

- ``print-word-vectors``: every word read (split at whitespace) -> ``word v1 ... vd `` (5
  significant digits, each value followed by a space: :func:`vectors.format_vector`);
- ``print-sentence-vectors``: every line -> its vector (:func:`vectors.sentence_vector`);
- ``nn [k]``: prompts ``Query word? ``; every word read -> ``k`` lines ``word cosine``;
- ``analogies [k]``: prompts ``Query triplet (A - B + C)? ``; every three words read ->
  ``k`` lines ``word cosine`` closest to ``A - B + C``;
- ``dump args|dict|input|output``: the training options, the dictionary
  (``word count word|label``), or a matrix (``rows cols``, then its rows).

Numbers that fastText prints with C++'s default stream precision (cosines, matrices) are
printed as ``%g`` with 6 significant digits. Input lines are answered as they arrive, so a
person typing and a program reading the answers both work.

Example:
    >>> answer_neighbours(model, ["经济"], 3, print)  # doctest: +SKIP
    Query word? 发展 0.812
    ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from danlu.errors import UsageError
from danlu.tasks.text_classification import vectors
from danlu.tasks.text_classification.data import whitespace_tokens
from danlu.tasks.text_classification.model import FastTextModel

__all__ = [
    "NN_PROMPT",
    "TRIPLET_PROMPT",
    "answer_analogies",
    "answer_neighbours",
    "answer_sentence_vectors",
    "answer_word_vectors",
    "dump",
]

NN_PROMPT = "Query word? "
TRIPLET_PROMPT = "Query triplet (A - B + C)? "
Write = Callable[[str], None]  # writes text as it is (no newline added), flushed
# fastText's names in `dump args` (enum values to strings)
_MODEL_NAMES = {"cbow": "cbow", "skipgram": "sg"}
_LOSS_NAMES = {"ova": "one-vs-all"}


def _vector_model(model: object, what: str) -> FastTextModel:
    if not isinstance(model, FastTextModel):
        raise UsageError(f"{what} needs a fastText model (word vectors or the linear "
                         "classifier), not a network")  # fmt: skip
    return model


def answer_word_vectors(model: FastTextModel, lines: Iterable[str], write: Write) -> None:
    """``word v1 ... vd `` for every word of ``lines``."""
    model = _vector_model(model, "print-word-vectors")
    for line in lines:
        out = [f"{w} {vectors.format_vector(vectors.word_vector(model, w))}\n"
               for w in whitespace_tokens(line)]  # fmt: skip
        write("".join(out))


def answer_sentence_vectors(model: FastTextModel, lines: Iterable[str], write: Write) -> None:
    """The sentence vector of every line (fastText prints the vector only)."""
    model = _vector_model(model, "print-sentence-vectors")
    for line in lines:
        write(vectors.format_vector(vectors.sentence_vector(model, whitespace_tokens(line)))
              + "\n")  # fmt: skip


class _Nearest:
    """Unit word vectors computed once, then the nearest words to queries."""

    def __init__(self, model: FastTextModel) -> None:
        self.model, self.unit = model, vectors.word_vectors(model)

    def lines(self, query: np.ndarray, k: int, banned: list[str]) -> str:
        d = self.model.dictionary
        found = vectors.nearest(self.unit, d.words, query, k, map(d.word_id, banned))
        return "".join(f"{word} {score:g}\n" for score, word in found)


def answer_neighbours(model: FastTextModel, lines: Iterable[str], k: int, write: Write) -> None:
    """fastText's ``nn``: the ``k`` nearest words of every word read."""
    near = _Nearest(_vector_model(model, "nn"))
    write(NN_PROMPT)
    for line in lines:
        for word in whitespace_tokens(line):
            write(near.lines(vectors.word_vector(near.model, word), k, [word]) + NN_PROMPT)


def answer_analogies(model: FastTextModel, lines: Iterable[str], k: int, write: Write) -> None:
    """fastText's ``analogies``: for every three words read, A B C, the ``k`` words
    nearest to ``A - B + C`` (the three left out)."""
    near = _Nearest(_vector_model(model, "analogies"))
    pending: list[str] = []
    write(TRIPLET_PROMPT)
    for line in lines:
        pending += whitespace_tokens(line)
        while len(pending) >= 3:
            triple, pending = pending[:3], pending[3:]
            a, b, c = (vectors.word_vector(near.model, w) for w in triple)
            write(near.lines(vectors.analogy_query(a, b, c), k, triple) + TRIPLET_PROMPT)


def _matrix(rows: np.ndarray, write: Write) -> None:
    write(f"{rows.shape[0]} {rows.shape[1]}\n")
    for start in range(0, len(rows), 4096):
        block = rows[start : start + 4096]
        write("".join(" ".join(f"{float(x):g}" for x in row) + "\n" for row in block))


def dump(model: FastTextModel, option: str, write: Write) -> None:
    """fastText's ``dump``: ``args``, ``dict``, ``input`` or ``output`` of ``model``."""
    model = _vector_model(model, "dump")
    a, d = model.args, model.dictionary
    if option == "args":
        values = {"dim": model.dim, "ws": a.get("ws", 5), "epoch": a.get("epoch", 5),
                  "minCount": a.get("min_count", 1), "neg": a.get("neg", 5),
                  "wordNgrams": d.word_ngrams, "loss": _LOSS_NAMES.get(model.loss, model.loss),
                  "model": _MODEL_NAMES.get(a.get("model", ""), "sup"),
                  "bucket": d.bucket if d.uses_buckets else 0, "minn": d.minn, "maxn": d.maxn,
                  "lrUpdateRate": a.get("lr_update_rate", 100),
                  "t": f"{a.get('t', 1e-4):g}"}  # fmt: skip
        write("".join(f"{k} {v}\n" for k, v in values.items()))
    elif option == "dict":
        words = [f"{w} {c} word\n" for w, c in zip(d.words, d.word_counts, strict=True)]
        labels = [f"{w} {c} label\n" for w, c in zip(d.labels, d.label_counts, strict=True)]
        write(f"{len(words) + len(labels)}\n" + "".join(words + labels))
    elif option in ("input", "output"):
        matrix = vectors.input_matrix if option == "input" else vectors.output_matrix
        try:
            rows = matrix(model)
        except ValueError:
            raise UsageError("dump input/output: not supported for quantized models") from None
        _matrix(rows, write)
    else:
        raise UsageError(f"dump takes args, dict, input or output, not {option!r}")
