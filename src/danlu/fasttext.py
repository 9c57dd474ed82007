"""fastText's Python API on danlu: ``train_supervised``, ``load_model``, ``predict``, ``test``.

A drop-in for the parts of ``import fasttext`` that text classification uses::

    from danlu import fasttext
    model = fasttext.train_supervised(input="train.txt", lr=0.5, wordNgrams=2, epoch=25)
    model.predict("体育 比赛 结果", k=2)      # (('__label__sports', ...), array([0.93, ...]))
    model.test("dev.txt")                      # (N, P@1, R@1)
    model.save_model("model.safetensors")
    model = fasttext.load_model("model.safetensors")

Options take fastText's names (``wordNgrams``, ``minCount``, ...) or danlu's
(``word_ngrams``); danlu adds ``tokenizer``, ``validation``, ``loss="zlpr"`` and
``model="textcnn"`` (or ``textrnn``, ``textrnn_att``, ``textrcnn``, ``transformer``). Models
are single safetensors files: loading one reads arrays and JSON, it executes nothing.
``load_model`` also reads the official package's ``.bin`` and ``.ftz`` files, and
``save_model("model.bin")`` writes one the official package loads.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import numpy as np

from danlu.errors import UsageError

__all__ = ["FastText", "load_model", "train_supervised"]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class FastText:
    """A trained classifier with fastText's methods (wraps :class:`FastTextModel`)."""

    def __init__(self, model: Any) -> None:
        self._model = model

    @property
    def labels(self) -> list[str]:
        """Labels, most frequent first (fastText's ``model.labels``)."""
        return list(self._model.labels)

    @property
    def words(self) -> list[str]:
        """Vocabulary, most frequent first."""
        if hasattr(self._model, "vocab"):  # a neural model: ids 0, 1 are <pad>, <unk>
            return list(self._model.vocab[2:])
        return list(self._model.dictionary.words)

    def _tokens(self, text: str) -> list[str]:
        from danlu.tasks.text_classification.data import get_tokenizer, parse_line

        if "\n" in text:
            raise ValueError("predict processes one line at a time (remove '\\n')")
        prefix = self._model.args.get("label", "__label__")
        if self._model.tokenizer == "whitespace" and prefix not in text and text.isascii():
            return text.split()  # fast path, same tokens
        return parse_line(text, prefix, get_tokenizer(self._model.tokenizer))[0]

    def _tokens_many(self, texts: list[str]) -> list[list[str]]:
        from danlu.tasks.text_classification.data import ascii_spaces

        prefix = self._model.args.get("label", "__label__")
        joined = "\n".join(texts)
        plain = (self._model.tokenizer == "whitespace" and prefix not in joined
                 and joined.count("\n") == len(texts) - 1 and ascii_spaces(joined))  # fmt: skip
        if plain:  # one check for the whole list: str.split gives fastText's tokens
            return [t.split() for t in texts]
        return [self._tokens(t) for t in texts]

    def predict(self, text: str | list[str], k: int = 1, threshold: float = 0.0) -> tuple[Any, Any]:
        """Top-``k`` labels and probabilities, as fastText returns them.

        Args:
            text: one line, or a list of lines.
            k: labels per line (-1: every label above ``threshold``).
            threshold: minimal probability.

        Returns:
            For one line: (tuple of labels, float array). For a list: (list of label
            lists, list of float arrays).
        """
        if isinstance(text, list):
            idx, probs = self._model.predict_topk(self._tokens_many(text), k, threshold)
            probs = probs.astype(np.float64)
            names = np.asarray([*self._model.labels, ""], dtype=object)[idx]  # -1 -> ""
            if (idx >= 0).all():
                return names.tolist(), list(probs)
            keep = idx >= 0
            return (
                [row[m].tolist() for row, m in zip(names, keep, strict=True)],
                [row[m] for row, m in zip(probs, keep, strict=True)],
            )
        (pred,) = self._model.predict_tokens([self._tokens(text)], k, threshold)
        return tuple(lab for lab, _ in pred), np.array([q for _, q in pred])

    def test(self, path: str, k: int = 1, threshold: float = 0.0) -> tuple[int, float, float]:
        """(N, P@k, R@k) on a labeled file (micro-averaged over labeled lines)."""
        from danlu.tasks.text_classification.predict import test_file

        return test_file(self._model, path, k, threshold)

    def test_label(
        self, path: str, k: int = 1, threshold: float = 0.0
    ) -> dict[str, dict[str, float]]:
        """``{label: {"precision", "recall", "f1score"}}`` on a labeled file."""
        from danlu.tasks.text_classification.predict import test_label_file

        return test_label_file(self._model, path, k, threshold)

    def get_sentence_vector(self, text: str) -> np.ndarray:
        """The hidden vector (dim,): mean of the line's input rows, ``</s>`` included."""
        if not hasattr(self._model, "hidden"):
            raise ValueError("get_sentence_vector needs the fastText model (-model fasttext)")
        return np.asarray(self._model.hidden([self._tokens(text)])[0])

    def get_dimension(self) -> int:
        return self._model.dim

    def quantize(
        self, input: str | None = None, qout: bool = False, cutoff: int = 0,
        retrain: bool = False, epoch: int | None = None, lr: float | None = None,
        thread: int | None = None, verbose: int | None = None, dsub: int = 2,
        qnorm: bool = False, qtype: str = "pq",
    ) -> None:  # fmt: skip
        """Shrink the model in place, as fastText's ``model.quantize(...)``: keep the
        ``cutoff`` input rows of largest norm (0: 30 %), with ``retrain`` train them again on
        ``input`` (for ``epoch`` epochs from ``lr`` with ``thread`` workers; by default the
        model's own), then store them by product quantization (``dsub``, ``qnorm``, ``qout``;
        ``qtype="int8"`` for danlu's int8 rows instead). Save with :meth:`save_model`.

        The options are those of ``danlu quantize`` (:class:`QuantizeOptions`)."""
        from danlu.tasks.text_classification.config import QuantizeOptions
        from danlu.tasks.text_classification.quantize import quantize_model

        if not hasattr(self._model, "dictionary"):
            raise ValueError("quantize needs the fastText model (-model fasttext)")
        del verbose  # accepted for fastText's signature; quantizing prints nothing
        if retrain and not input:
            raise UsageError("quantize(retrain=True) needs input=, the training file")
        if qtype == "int8":
            dsub, qnorm, qout = 0, False, False
        given = {"epoch": epoch, "lr": lr, "thread": thread}
        # fastText's rule: what is not given is the model's own
        own = {k: self._model.args[k] for k in given if k in self._model.args}
        options = QuantizeOptions(
            cutoff=cutoff, retrain=retrain, train=input or "", qtype=qtype, dsub=dsub,
            qnorm=qnorm, qout=qout,
            **{**own, **{k: v for k, v in given.items() if v is not None}},
        )  # fmt: skip
        self._model = quantize_model(self._model, options)

    def save_model(self, path: str) -> None:
        """Write the model to one safetensors file, or to an official fastText ``.bin``
        when ``path`` ends in ``.bin``."""
        if str(path).endswith(".bin"):
            from danlu.tasks.text_classification.fasttext_bin import write_bin

            write_bin(self._model, path)
        else:
            self._model.save(path)


def train_supervised(input: str, **options: Any) -> FastText:
    """Train a classifier on a fastText ``__label__`` file.

    Args:
        input: the training file.
        **options: fastText's names (``lr``, ``dim``, ``epoch``, ``wordNgrams``,
            ``minCount``, ``loss``, ``thread``, ``seed``, ...) or danlu's snake-case ones.

    Example:
        >>> model = train_supervised(input="train.txt", epoch=25, lr=0.5)  # doctest: +SKIP
    """
    from danlu.tasks.text_classification.config import SupervisedConfig
    from danlu.tasks.text_classification.supervised import train_classifier

    names = {f.name for f in dataclasses.fields(SupervisedConfig)}
    kwargs: dict[str, Any] = {"output": ""}
    for key, value in options.items():
        name = {"pretrainedVectors": "pretrained_vectors"}.get(key, _snake(key))
        if name not in names:
            raise UsageError(f"unknown option {key!r}; valid: {', '.join(sorted(names))}")
        kwargs[name] = value
    kwargs.setdefault("verbose", 0)
    # a network (model="textcnn", ...) writes its run files to output + ".run"
    return FastText(train_classifier(SupervisedConfig(input=str(input), **kwargs)).model)


def load_model(path: str | Path) -> FastText:
    """Load a model file written by ``danlu supervised`` or :meth:`FastText.save_model`,
    or an official fastText ``.bin`` / ``.ftz``."""
    from danlu.tasks.text_classification.load import load_model as _load

    return FastText(_load(path))
