"""fastText's Python API on danlu: ``train_supervised``, ``train_unsupervised``,
``load_model`` and the model's methods.

A drop-in for ``import fasttext`` with text classifiers and word vectors::

    from danlu import fasttext
    model = fasttext.train_supervised(input="train.txt", lr=0.5, wordNgrams=2, epoch=25)
    model.predict("体育 比赛 结果", k=2)      # (('__label__sports', ...), array([0.93, ...]))
    model.test("dev.txt")                      # (N, P@1, R@1)
    model.save_model("model.safetensors")
    model = fasttext.load_model("model.safetensors")
    vectors = fasttext.train_unsupervised("text.txt", model="skipgram", dim=100)
    vectors.get_nearest_neighbors("经济")      # [(0.83, '发展'), ...]
    vectors.save_model("vectors.bin")          # fastText's .bin

The model has fastText's methods, with its names, arguments and return types:

- predicting: ``predict``, ``test``, ``test_label``, ``get_meter`` (precision-recall
  curves), ``quantize``, ``save_model``;
- the dictionary: ``words``, ``labels``, ``get_words`` / ``get_labels`` (``include_freq``),
  ``get_word_id``, ``get_label_id``, ``get_subword_id``, ``get_subwords``, ``get_line``;
- vectors: ``get_word_vector`` (``model[word]``; an unknown word from its char n-grams),
  ``get_sentence_vector``, ``get_input_vector``, ``get_input_matrix``,
  ``get_output_matrix``, ``set_matrices``, ``get_dimension``, ``is_quantized``;
- neighbours: ``get_nearest_neighbors(word, k)``, ``get_analogies(A, B, C, k)`` (the
  words closest to ``A - B + C``), ``[(cosine, word), ...]``;

and the module has ``tokenize``, ``EOS``, ``BOW``, ``EOW``. Each works on danlu's models and
on official ``.bin``/``.ftz`` files, and gives the official values (rows and ids are
fastText's, except in a pruned ``.ftz``: :mod:`danlu.tasks.text_classification.vectors`);
the dictionary, vector and meter methods need the fastText model, not a network
(``model="textcnn"``...). Every public name of the official package is here.

Options take fastText's names (``wordNgrams``, ``minCount``, ...) or danlu's
(``word_ngrams``); danlu adds ``tokenizer``, ``validation``, ``loss="zlpr"`` and
``model="textcnn"`` (or ``textrnn``, ``textrnn_att``, ``textrcnn``, ``transformer``). Models
are single safetensors files: loading one reads arrays and JSON, it executes nothing.
``load_model`` also reads the official package's ``.bin`` and ``.ftz`` files, and
``save_model("model.bin")`` writes one the official package loads (a quantized model:
``save_model("model.ftz")``, fastText's quantized file).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from danlu.errors import UsageError
from danlu.tasks.text_classification import vectors
from danlu.tasks.text_classification.data import whitespace_tokens
from danlu.tasks.text_classification.dictionary import EOS
from danlu.tasks.text_classification.hashing import fnv1a32

if TYPE_CHECKING:
    from danlu.tasks.text_classification.meter import Meter

__all__ = [
    "BOW", "EOS", "EOW", "FastText", "cbow", "load_model", "skipgram", "supervised",
    "tokenize", "train_supervised", "train_unsupervised",
]  # fmt: skip

BOW, EOW = "<", ">"  # a word's char n-grams are those of "<word>"
# the options fastText's set_args copies onto the model object
_ARG_NAMES = ("lr", "dim", "ws", "epoch", "minCount", "minCountLabel", "minn", "maxn", "neg",
              "wordNgrams", "loss", "bucket", "thread", "lrUpdateRate", "t", "label", "verbose",
              "pretrainedVectors")  # fmt: skip


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class FastText:
    """A trained classifier with fastText's methods (wraps :class:`FastTextModel`)."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self._unit_vectors: np.ndarray | None = None  # get_nearest_neighbors' word vectors

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

    def _tokens_many(self, texts: list[str]) -> Sequence[list[str]]:
        from danlu.tasks.text_classification.plain_text import plain_lines

        plain = None
        if self._model.tokenizer == "whitespace":  # the fastText model cuts these in C
            plain = plain_lines(texts, self._model.args.get("label", "__label__"))
        return plain if plain is not None else [self._tokens(t) for t in texts]

    def predict(
        self, text: str | list[str], k: int = 1, threshold: float = 0.0,
        on_unicode_error: str = "strict",
    ) -> tuple[Any, Any]:  # fmt: skip
        """Top-``k`` labels and probabilities, as fastText returns them.

        Args:
            text: one line, or a list of lines.
            k: labels per line (-1: every label above ``threshold``).
            threshold: minimal probability.
            on_unicode_error: accepted for fastText's signature (danlu's labels are text).

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

    def get_meter(self, path: str, k: int = -1) -> Meter:
        """fastText's meter on a labeled file, from the top ``k`` labels of each line (-1:
        all): ``score_vs_true(label)``, ``precision_recall_curve(label=None)``,
        ``precision_at_recall(recall, label=None)``, ``recall_at_precision(precision,
        label=None)``, with fastText's numbers (:mod:`danlu.tasks.text_classification.meter`).
        """
        from danlu.tasks.text_classification.meter import measure

        return measure(self._linear("get_meter"), path, k, label_id=self.get_label_id)

    # ------------------------------------------------------------ words, labels, ids
    def _linear(self, what: str) -> Any:
        """The fastText model (a FastTextModel), or a ValueError naming ``what``."""
        if not hasattr(self._model, "dictionary"):
            raise ValueError(f"{what} needs the fastText model (-model fasttext), not a network")
        return self._model

    def get_words(self, include_freq: bool = False, on_unicode_error: str = "strict") -> Any:
        """The vocabulary (``</s>`` included), most frequent first; with ``include_freq``,
        (words, int64 counts). ``on_unicode_error``: accepted for fastText's signature."""
        if not include_freq:
            return self.words
        counts = self._linear("get_words(include_freq=True)").dictionary.word_counts
        return self.words, np.array(counts, dtype=np.int64)

    def get_labels(self, include_freq: bool = False, on_unicode_error: str = "strict") -> Any:
        """The labels, most frequent first; with ``include_freq``, (labels, int64 counts)."""
        if not include_freq:
            return self.labels
        counts = self._linear("get_labels(include_freq=True)").dictionary.label_counts
        return self.labels, np.array(counts, dtype=np.int64)

    def get_word_id(self, word: str) -> int:
        """The word's row, -1 when out of vocabulary (as fastText: a label gets
        ``nwords +`` its index)."""
        return vectors.entry_id(self._linear("get_word_id"), word)

    def get_label_id(self, label: str) -> int:
        """The label's index, -1 when unknown (as fastText: a word gets its row - nwords)."""
        model = self._linear("get_label_id")
        i = vectors.entry_id(model, label)
        return i - model.dictionary.nwords if i != -1 else -1

    def get_subword_id(self, subword: str) -> int:
        """The row a char n-gram hashes to: ``nwords + fnv1a32(subword) % bucket``."""
        d = self._linear("get_subword_id").dictionary
        return d.nwords + fnv1a32(subword) % d.bucket

    def get_subwords(
        self, word: str, on_unicode_error: str = "strict"
    ) -> tuple[list[str], np.ndarray]:
        """(``word`` if in the dictionary, then its char n-grams; their int64 rows)."""
        return vectors.subwords(self._linear("get_subwords"), word)

    def get_line(self, text: str | list[str], on_unicode_error: str = "strict") -> Any:
        """(words + ``</s>``, known labels) of a line; for a list, (word lists, label lists).
        Unknown ``__label__`` tokens are dropped, as fastText drops them."""
        if isinstance(text, list):
            pairs = [self.get_line(t) for t in text]
            return [w for w, _ in pairs], [lab for _, lab in pairs]
        if "\n" in text:
            raise ValueError("get_line processes one line at a time (remove '\\n')")
        from danlu.tasks.text_classification.data import get_tokenizer, parse_line

        prefix = self._model.args.get("label", "__label__")
        words, labels = parse_line(text, prefix, get_tokenizer(self._model.tokenizer))
        known = set(self._model.labels)
        return [*words, EOS], [lab for lab in labels if lab in known]

    # ------------------------------------------------------------ vectors and matrices
    def get_dimension(self) -> int:
        """The size of a word (and sentence) vector."""
        return self._model.dim

    def is_quantized(self) -> bool:
        """Whether the input rows are stored as codes (``quantize``, or a ``.ftz``)."""
        return bool(self._model.args.get("quantized"))

    def get_word_vector(self, word: str) -> np.ndarray:
        """(dim,) float32: the mean of the word's row and its char n-grams' rows; an
        out-of-vocabulary word has its n-grams only, and zeros when it has none."""
        return vectors.word_vector(self._linear("get_word_vector"), word)

    def get_sentence_vector(self, text: str) -> np.ndarray:
        """(dim,) float32: a classifier's hidden vector (the mean of the line's input rows,
        ``</s>`` included); with word vectors (cbow, skipgram) the mean of the words'
        vectors, each scaled to norm 1, as fastText computes them."""
        model = self._linear("get_sentence_vector")
        if "\n" in text:
            raise ValueError("get_sentence_vector processes one line at a time (remove '\\n')")
        if vectors.is_word_model(model):  # fastText splits such a line at spaces only
            return vectors.sentence_vector(model, whitespace_tokens(text))
        return vectors.sentence_vector(model, self._tokens(text))

    def get_input_vector(self, ind: int) -> np.ndarray:
        """(dim,) float32: row ``ind`` of :meth:`get_input_matrix` (quantized rows decoded)."""
        model = self._linear("get_input_vector")
        rows = vectors.input_rows(model)
        if not 0 <= ind < rows:
            raise IndexError(f"input row {ind} does not exist: rows are 0..{rows - 1} (ids "
                             "from get_word_id, get_subwords)")  # fmt: skip
        return vectors.input_vectors(model, [ind])[0]

    def get_input_matrix(self) -> np.ndarray:
        """fastText's input matrix (nwords + bucket, dim) float32, a copy; the buckets that
        danlu does not store are zero rows. ValueError for a quantized model."""
        return vectors.input_matrix(self._linear("get_input_matrix"))

    def get_output_matrix(self) -> np.ndarray:
        """The output matrix (nlabels, dim) float32, a copy. ValueError when quantized."""
        return vectors.output_matrix(self._linear("get_output_matrix"))

    def get_nearest_neighbors(
        self, word: str, k: int = 10, on_unicode_error: str = "strict"
    ) -> list[tuple[float, str]]:
        """``[(cosine, word), ...]``: the ``k`` vocabulary words closest to ``word``'s
        vector (``word`` itself excluded; it may be out of vocabulary)."""
        model = self._linear("get_nearest_neighbors")
        return self._nearest(vectors.word_vector(model, word), k, [word])

    def get_analogies(
        self, wordA: str, wordB: str, wordC: str, k: int = 10,
        on_unicode_error: str = "strict",
    ) -> list[tuple[float, str]]:  # fmt: skip
        """``[(cosine, word), ...]`` closest to ``A - B + C`` (each scaled to norm 1), the
        three words excluded: ``get_analogies("berlin", "germany", "france")`` -> paris."""
        model = self._linear("get_analogies")
        a, b, c = (vectors.word_vector(model, w) for w in (wordA, wordB, wordC))
        return self._nearest(vectors.analogy_query(a, b, c), k, [wordA, wordB, wordC])

    def _nearest(self, query: np.ndarray, k: int, banned: list[str]) -> list[tuple[float, str]]:
        model = self._linear("nearest neighbours")
        if self._unit_vectors is None:
            self._unit_vectors = vectors.word_vectors(model)
        d = model.dictionary
        return vectors.nearest(self._unit_vectors, d.words, query, k, map(d.word_id, banned))

    def __getitem__(self, word: str) -> np.ndarray:
        return self.get_word_vector(word)

    def __contains__(self, word: str) -> bool:
        return word in self.words

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
        ``qtype="int8"`` for danlu's int8 rows instead). Save with :meth:`save_model`, as
        fastText's ``.ftz`` too.

        The options are those of ``danlu quantize`` (:class:`QuantizeOptions`); with product
        quantization those of ``-saveFormat ftz``: as in fastText, a pruned n-gram bucket is
        then no row at all, left out of a line's mean (int8 keeps danlu's zero row)."""
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
            qnorm=qnorm, qout=qout, save_format="safetensors" if qtype == "int8" else "ftz",
            **{**own, **{k: v for k, v in given.items() if v is not None}},
        )  # fmt: skip
        self._model = quantize_model(self._model, options)
        self._unit_vectors = None

    def save_model(self, path: str) -> None:
        """Write the model to one safetensors file, or, when ``path`` ends in ``.bin`` or
        ``.ftz``, to an official fastText file: product-quantized (after :meth:`quantize`)
        fastText's quantized layout, else the dense one, as fastText's ``save_model``
        (:func:`fasttext_bin_write.write_fasttext`; int8 rows cannot be an ``.ftz``)."""
        if str(path).endswith((".bin", ".ftz")):
            from danlu.tasks.text_classification.fasttext_bin_write import write_fasttext

            write_fasttext(self._model, path)
        else:
            self._model.save(path)

    def set_args(self, args: Any = None) -> None:
        """Copy fastText's training options from ``args`` onto this object, as fastText's
        own ``set_args`` does (``model.lr``, ``model.wordNgrams``, ...)."""
        if args:
            for name in _ARG_NAMES:
                setattr(self, name, getattr(args, name))

    def set_matrices(self, input_matrix: np.ndarray, output_matrix: np.ndarray) -> None:
        """Replace the weights by dense matrices laid out as :meth:`get_input_matrix` and
        :meth:`get_output_matrix` give them; the model is no longer quantized."""
        model = self._linear("set_matrices")
        self._model = vectors.with_matrices(model, input_matrix, output_matrix)
        self._unit_vectors = None


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


def train_unsupervised(input: str, model: str = "skipgram", **options: Any) -> FastText:
    """Train word vectors on a text file, as fastText's ``train_unsupervised``.

    Args:
        input: the training text (words separated by spaces).
        model: ``"skipgram"`` or ``"cbow"``.
        **options: fastText's names (``dim``, ``ws``, ``epoch``, ``minCount``, ``minn``,
            ``maxn``, ``neg``, ``loss``, ``bucket``, ``t``, ``lr``, ``lrUpdateRate``,
            ``thread``, ``verbose``, ``seed``) or danlu's snake-case ones; fastText's
            defaults (``dim=100``, ``epoch=5``, ``minCount=5``, ``lr=0.05``, ...).

    Example:
        >>> m = train_unsupervised("text.txt", model="cbow", dim=50)  # doctest: +SKIP
        >>> m.get_nearest_neighbors("北京", k=5)  # doctest: +SKIP
    """
    from danlu.tasks.text_classification.config import UNSUPERVISED_CONFIGS
    from danlu.tasks.text_classification.unsupervised import train_word_vectors

    if model not in UNSUPERVISED_CONFIGS:
        raise UsageError(f"model must be one of {', '.join(UNSUPERVISED_CONFIGS)} for word "
                         f"vectors, got {model!r} (classifiers: train_supervised)")  # fmt: skip
    config = UNSUPERVISED_CONFIGS[model]
    names = {f.name for f in dataclasses.fields(config)}
    kwargs: dict[str, Any] = {"output": ""}
    for key, value in options.items():
        name = _snake(key)
        if name not in names:
            raise UsageError(f"unknown option {key!r}; valid: {', '.join(sorted(names))}")
        kwargs[name] = value
    kwargs.setdefault("verbose", 0)
    return FastText(train_word_vectors(config(input=str(input), **kwargs)))


def load_model(path: str | Path) -> FastText:
    """Load a model file written by ``danlu supervised`` or :meth:`FastText.save_model`,
    or an official fastText ``.bin`` / ``.ftz``."""
    from danlu.tasks.text_classification.load import load_model as _load

    return FastText(_load(path))


def tokenize(text: str) -> list[str]:
    """fastText's tokens of ``text``: split at space, tab, ``\\v``, ``\\f``, ``\\r`` and
    NUL; each newline is a ``</s>`` token.

    Example:
        >>> tokenize("a b\\nc")
        ['a', 'b', '</s>', 'c']
    """
    out: list[str] = []
    for i, line in enumerate(text.split("\n")):
        if i:
            out.append(EOS)
        out += whitespace_tokens(line)
    return out


def _removed(name: str, use: str) -> Any:
    def removed(*kargs: Any, **kwargs: Any) -> None:
        raise UsageError(f"`{name}` is not supported any more (as in fastText's package); "
                         f"use {use}")  # fmt: skip

    removed.__name__ = removed.__qualname__ = name
    removed.__doc__ = f"Removed from fastText's API; raises, naming {use}."
    return removed


cbow = _removed("cbow", "train_unsupervised(model='cbow')")
skipgram = _removed("skipgram", "train_unsupervised(model='skipgram')")
supervised = _removed("supervised", "train_supervised")
