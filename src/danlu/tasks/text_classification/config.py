"""Names and options of ``danlu supervised|test|test-label|predict|predict-prob|quantize``,
of the word-vector models ``danlu skipgram|cbow`` and of their queries (``nn``, ...).

The name tables below are the one list of each kind of name in the task (torch-free):
the config ``Literal`` choices, the help text, the compiled step's loss codes
(``sgd_kernel.LOSS_CODES``) and the error messages derive from them. The neural model
names come from :data:`danlu.names.TEXT_CLASSIFIERS`.

Flags follow fastText: ``-minCount 2`` and ``--minCount 2`` both work, as does danlu's
``--min-count 2``; defaults are fastText's supervised defaults. Defaults live only here.

Example:
    >>> SupervisedConfig(input="train.txt", output="m").lr  # the linear model's default
    0.1
    >>> SupervisedConfig(input="train.txt", output="m", model="textcnn").lr  # AdamW's
    0.001
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import ClassVar, Literal

from danlu.config import option
from danlu.errors import UsageError
from danlu.names import DEVICES, TEXT_CLASSIFIERS

__all__ = [
    "DUMP_OPTIONS", "FASTTEXT_FORMAT", "LOSSES", "MODELS", "NEURAL_FORMAT", "NEURAL_LOSSES",
    "QTYPES", "QUANTIZE_FORMATS", "SAVE_FORMATS", "TOKENIZERS", "TRAIN_FORMATS",
    "UNSUPERVISED_CONFIGS", "UNSUPERVISED_LOSSES", "CbowConfig", "DumpConfig", "NeighboursConfig",
    "PredictConfig", "QuantizeConfig", "QuantizeOptions", "SkipgramConfig", "SupervisedConfig",
    "TestConfig", "UnsupervisedConfig", "WordVectorsConfig", "resolve_qtype",
]  # fmt: skip

# ------------------------------------------------------------------------ name tables
# output losses of the fastText model, in the order of the compiled step's codes
LOSSES = ("softmax", "hs", "ns", "ova", "zlpr")
# the losses a network (-model textcnn ...) trains with
NEURAL_LOSSES = ("softmax", "ova", "zlpr")
# -model: the linear model, then the networks of danlu.nn.text_classifiers
MODELS = ("fasttext", *TEXT_CLASSIFIERS)
TOKENIZERS = ("whitespace", "char", "jieba")
# -qtype of danlu quantize
QTYPES = ("auto", "int8", "pq")
# -saveFormat (each its file's suffix): training writes the first two, quantize the first, last
SAVE_FORMATS = ("safetensors", "bin", "ftz")
TRAIN_FORMATS, QUANTIZE_FORMATS = SAVE_FORMATS[:2], SAVE_FORMATS[::2]
# the losses of the word-vector models (cbow, skipgram), and what danlu dump shows
UNSUPERVISED_LOSSES = ("ns", "hs", "softmax")
DUMP_OPTIONS = ("args", "dict", "input", "output")
# the "format" metadata of the two model files
FASTTEXT_FORMAT = "danlu-fasttext-1"
NEURAL_FORMAT = "danlu-textclf-1"

FASTTEXT_LR = 0.1  # fastText's default -lr
NEURAL_LR = 1e-3  # AdamW's usual learning rate for the networks
THREADS = min(12, os.cpu_count() or 1)


def _ft(name: str) -> tuple[str, ...]:
    return (f"-{name}", f"--{name}")


@dataclass(frozen=True)
class SupervisedConfig:
    """``danlu supervised``: train a fastText-compatible text classifier."""

    input: str = option(
        help="training file, one example a line: __label__X text", aliases=_ft("input")
    )
    output: str = option(help="model prefix: writes PREFIX.safetensors or, -saveFormat bin, "
                         "PREFIX.bin", aliases=_ft("output"))  # fmt: skip
    save_format: Literal[TRAIN_FORMATS] = option(  # type: ignore[valid-type]
        "safetensors", help="safetensors (danlu's) or bin (fastText's; the linear model only)",
        aliases=_ft("saveFormat"))  # fmt: skip
    lr: float | None = option(
        None, help=f"learning rate; none: {FASTTEXT_LR} with -model fasttext (decaying linearly "
        f"to 0), {NEURAL_LR:g} with a network (AdamW)", aliases=_ft("lr"),
    )  # fmt: skip
    dim: int = option(100, help="size of word vectors", aliases=_ft("dim"))
    ws: int = option(
        5, help="context window (unused in supervised mode; fastText compat)", aliases=_ft("ws")
    )
    epoch: int = option(5, help="number of epochs", aliases=_ft("epoch"))
    min_count: int = option(1, help="minimal number of word occurrences", aliases=_ft("minCount"))
    min_count_label: int = option(
        0, help="minimal number of label occurrences", aliases=_ft("minCountLabel")
    )
    minn: int = option(0, help="min length of char n-gram", aliases=_ft("minn"))
    maxn: int = option(0, help="max length of char n-gram (0: none)", aliases=_ft("maxn"))
    neg: int = option(5, help="number of negatives sampled (-loss ns)", aliases=_ft("neg"))
    word_ngrams: int = option(1, help="max length of word n-gram", aliases=_ft("wordNgrams"))
    loss: Literal[LOSSES] = option(  # type: ignore[valid-type]
        "softmax", help=f"loss function (a network: {', '.join(NEURAL_LOSSES)})",
        aliases=_ft("loss"),
    )  # fmt: skip
    bucket: int = option(2_000_000, help="number of hash buckets", aliases=_ft("bucket"))
    thread: int = option(
        THREADS,
        help="threads: Hogwild workers of the fastText model (threads with -engine c, "
        "processes with numpy), torch threads of neural models",
        aliases=_ft("thread"),
    )
    lr_update_rate: int = option(
        100,
        help="tokens between learning-rate updates (fastText compat)",
        aliases=_ft("lrUpdateRate"),
    )
    label: str = option("__label__", help="label prefix", aliases=_ft("label"))
    verbose: int = option(2, help="verbosity level (0: silent)", aliases=_ft("verbose"))
    seed: int = option(
        0, help="random seed (-thread 1 -seed S is reproducible)", aliases=_ft("seed")
    )
    pretrained_vectors: str = option(
        "", help=".vec file of word vectors to start from", aliases=_ft("pretrainedVectors")
    )
    tokenizer: Literal[TOKENIZERS] = option(  # type: ignore[valid-type]
        "whitespace",
        help="whitespace (fastText), char, or jieba for raw Chinese",
        aliases=_ft("tokenizer"),
    )
    model: Literal[MODELS] = option(  # type: ignore[valid-type]
        "fasttext", help=f"classifier: fasttext (linear, numpy) or a network: "
        f"{', '.join(TEXT_CLASSIFIERS)}", aliases=_ft("model"),
    )  # fmt: skip
    device: Literal[DEVICES] = option(  # type: ignore[valid-type]
        "auto", help="where neural models train (the linear model runs on the CPU)",
        aliases=_ft("device"),
    )  # fmt: skip
    validation: str = option(
        "", help="validation file: keep the best epoch, stop early", aliases=_ft("validation")
    )
    patience: int = option(
        3, help="epochs without validation gain before stopping", aliases=_ft("patience")
    )
    batch_size: int = option(
        0, help="examples per numpy step of each thread (0: 1 with -engine c, else automatic: "
        "64 at most, fewer at high -lr and on short lines)",
        aliases=_ft("batch"),
    )  # fmt: skip
    weight_decay: float = option(
        0.01, help="neural models: AdamW's decoupled weight decay (torch's default)",
        aliases=_ft("weight-decay"),
    )  # fmt: skip
    ema: float = option(
        0.0, help="neural models: evaluate and save an exponential moving average of the "
        "weights with this decay, e.g. 0.999 (0: off)", aliases=_ft("ema"),
    )  # fmt: skip
    adversarial: float = option(
        0.0, help="neural models: FGM adversarial training, the L2 step of each example's "
        "embedding perturbation, e.g. 2.0 (0: off)", aliases=_ft("adversarial"),
    )  # fmt: skip
    engine: Literal["auto", "c", "numpy"] = option(
        "auto",
        help="fastText model's SGD: c (fastText's per-example steps, compiled on first use "
        "with the system C compiler), numpy (mini-batches), auto (c if it builds)",
        aliases=_ft("engine"),
    )
    autotune_validation: str = option(
        "",
        help="validation file for the hyper-parameter search",
        aliases=_ft("autotune-validation"),
    )
    autotune_duration: int = option(
        300, help="seconds of hyper-parameter search", aliases=_ft("autotune-duration")
    )

    def __post_init__(self) -> None:
        if self.lr is None:  # resolved once here: what config and model args save
            object.__setattr__(self, "lr", FASTTEXT_LR if self.model == "fasttext" else NEURAL_LR)
        positive = {"-dim": self.dim, "-epoch": self.epoch, "-bucket": self.bucket,
                    "-thread": self.thread, "-wordNgrams": self.word_ngrams,
                    "-lrUpdateRate": self.lr_update_rate}  # fmt: skip
        for flag, value in positive.items():
            if value < 1:
                raise UsageError(f"{flag} must be >= 1, got {value}")
        if not self.lr > 0:
            raise UsageError(f"-lr must be > 0, got {self.lr}")
        if self.neg < 1 and self.loss == "ns":
            raise UsageError(f"-neg must be >= 1 with -loss ns, got {self.neg}")
        if self.maxn > 0 and not 1 <= self.minn <= self.maxn:
            raise UsageError(f"need 1 <= -minn <= -maxn, got -minn {self.minn} -maxn {self.maxn}")
        if self.weight_decay < 0:
            raise UsageError(f"-weight-decay must be >= 0, got {self.weight_decay}")
        if self.adversarial < 0:
            raise UsageError(f"-adversarial must be >= 0 (0: off), got {self.adversarial}")
        if self.batch_size < 0:
            raise UsageError(f"-batch must be >= 0, got {self.batch_size}")
        if self.patience < 0:
            raise UsageError(f"-patience must be >= 0 (0: never stop early), got {self.patience}")
        if self.model != "fasttext" and self.loss not in NEURAL_LOSSES:
            raise UsageError(f"-model {self.model} trains with -loss "
                             f"{', '.join(NEURAL_LOSSES[:-1])} or {NEURAL_LOSSES[-1]}, "
                             f"not {self.loss}")  # fmt: skip
        if self.engine == "c" and self.batch_size > 1:
            raise UsageError(f"-engine c takes one example per step (fastText's); got -batch "
                             f"{self.batch_size}: use -batch 0 or -engine numpy")  # fmt: skip
        if not self.label:
            raise UsageError("-label must be a non-empty prefix such as __label__")
        # what fastText's .bin holds: the linear model, its losses (not zlpr), whitespace tokens
        fasttext_file = (("-model", self.model, MODELS[:1]), ("-loss", self.loss, LOSSES[:4]),
                         ("-tokenizer", self.tokenizer, TOKENIZERS[:1]))  # fmt: skip
        for flag, value, held in fasttext_file if self.save_format == "bin" else ():
            if value not in held:  # checked before training, not when writing after it
                raise UsageError(f"-saveFormat bin writes fastText's file, which cannot hold "
                                 f"{flag} {value}: use -saveFormat safetensors")  # fmt: skip


@dataclass(frozen=True)
class TestConfig:
    """``danlu test MODEL FILE [k] [threshold]``: N, P@k and R@k as fastText prints them."""

    model: str = option(help="PREFIX.safetensors written by danlu supervised", positional=True)
    file: str = option(help="labeled test file", positional=True)
    k: int = option(1, help="labels predicted per line", positional=True)
    threshold: float = option(0.0, help="minimal probability", positional=True)


@dataclass(frozen=True)
class PredictConfig(TestConfig):
    """``danlu predict MODEL FILE|- [k] [threshold]``: top-k labels of each line (the
    arguments of ``test``, on unlabeled text)."""

    file: str = option(help="text file, or - to read standard input line by line", positional=True)
    k: int = option(1, help="labels per line (-1: all above threshold)", positional=True)


def resolve_qtype(qtype: str, dsub: int = 0, qnorm: bool = False, qout: bool = False,
                  save_format: str = "safetensors") -> str:  # fmt: skip
    """``auto`` -> ``pq`` if a product-quantization option is set or the file is fastText's
    ``.ftz`` (which holds product-quantized rows only), else ``int8``.

    Example:
        >>> resolve_qtype("auto", qnorm=True)
        'pq'
    """
    if qtype not in QTYPES or save_format not in QUANTIZE_FORMATS:
        raise UsageError(f"-qtype must be one of {', '.join(QTYPES)}, -saveFormat one of "
                         f"{', '.join(QUANTIZE_FORMATS)}: {qtype!r}, {save_format!r}")  # fmt: skip
    if save_format == "ftz" and qtype == "int8":
        raise UsageError("-qtype int8 is danlu's own (-saveFormat safetensors); fastText's .ftz "
                         "holds product-quantized rows: use -qtype pq (or auto)")  # fmt: skip
    if qtype == "auto":
        return "pq" if (dsub or qnorm or qout or save_format == "ftz") else "int8"
    if qtype == "int8" and (dsub or qnorm or qout):
        raise UsageError("-dsub, -qnorm and -qout are options of product quantization: "
                         "use -qtype pq (or auto), or drop them for int8")  # fmt: skip
    return qtype


@dataclass(frozen=True)
class QuantizeOptions:
    """How ``danlu quantize`` (and ``FastText.quantize``) shrinks a model: the pruning,
    ``-retrain`` and how the kept rows are stored (see ``quantize.py``)."""

    cutoff: int = option(
        0, help="keep this many input rows (largest norms; 0: automatic)", aliases=_ft("cutoff")
    )
    retrain: bool = option(
        False, help="after pruning, train the kept rows again on the training data",
        aliases=("-retrain",),
    )  # fmt: skip
    train: str = option(
        "", help="training file for -retrain (default: the file the model was trained on)",
        aliases=_ft("train"),
    )  # fmt: skip
    epoch: int = option(1, help="epochs of -retrain", aliases=_ft("epoch"))
    lr: float = option(FASTTEXT_LR, help="learning rate of -retrain (decays linearly to 0)",
                       aliases=_ft("lr"))  # fmt: skip
    thread: int = option(THREADS, help="Hogwild workers of -retrain", aliases=_ft("thread"))
    qtype: Literal[QTYPES] = option(  # type: ignore[valid-type]
        "auto", help="int8 (d+4 bytes a row) or pq (product quantization, ceil(d/dsub) bytes); "
        "auto: pq with -dsub, -qnorm, -qout or -saveFormat ftz, else int8", aliases=_ft("qtype"),
    )  # fmt: skip
    dsub: int = option(0, help="pq: dimensions per sub-vector (0: 2, fastText's)",
                       aliases=_ft("dsub"))  # fmt: skip
    qnorm: bool = option(False, help="pq: quantize the row norms apart", aliases=("-qnorm",))
    qout: bool = option(False, help="pq: quantize the output layer too (needs >= 256 rows)",
                        aliases=("-qout",))  # fmt: skip
    save_format: Literal[QUANTIZE_FORMATS] = option(  # type: ignore[valid-type]
        "safetensors", help="safetensors (danlu's) or ftz (fastText's: pq, and a pruned bucket "
        "is left out of a line's mean, as there)", aliases=_ft("saveFormat"))  # fmt: skip

    def __post_init__(self) -> None:
        resolve_qtype(self.qtype, self.dsub, self.qnorm, self.qout, self.save_format)
        if self.dsub < 0:
            raise UsageError(f"-dsub must be >= 1 (or 0: 2), got {self.dsub}")
        if self.cutoff < 0:
            raise UsageError(f"-cutoff must be >= 0, got {self.cutoff}")
        for flag, value in {"-epoch": self.epoch, "-thread": self.thread}.items():
            if value < 1:
                raise UsageError(f"{flag} must be >= 1, got {value}")
        if not self.lr > 0:
            raise UsageError(f"-lr must be > 0, got {self.lr}")


@dataclass(frozen=True)
class QuantizeConfig:
    """``danlu quantize``: prune rows by norm, store them as int8 or product-quantized."""

    input: str = option(help="PREFIX.safetensors to shrink", aliases=_ft("input"))
    output: str = option(help="output prefix: writes PREFIX.safetensors (-saveFormat ftz: "
                         "PREFIX.ftz, fastText's)", aliases=_ft("output"))  # fmt: skip
    options: QuantizeOptions = option(default_factory=QuantizeOptions, embed=True)


@dataclass(frozen=True)
class UnsupervisedConfig:
    """``danlu skipgram|cbow``: fastText's word vectors (the model is the command)."""

    model: ClassVar[str] = ""  # "skipgram" or "cbow": set by the two subclasses
    input: str = option(help="training text, words separated by spaces", aliases=_ft("input"))
    output: str = option(help="writes PREFIX.bin (-saveFormat safetensors: PREFIX.safetensors) "
                         "and PREFIX.vec (text)", aliases=_ft("output"))  # fmt: skip
    save_format: Literal[TRAIN_FORMATS] = option(  # type: ignore[valid-type]
        "bin", help="bin (fastText's) or safetensors", aliases=_ft("saveFormat"))  # fmt: skip
    lr: float = option(0.05, help="learning rate (decays linearly to 0)", aliases=_ft("lr"))
    lr_update_rate: int = option(100, help="tokens between learning-rate updates",
                                 aliases=_ft("lrUpdateRate"))  # fmt: skip
    dim: int = option(100, help="size of word vectors", aliases=_ft("dim"))
    ws: int = option(5, help="size of the context window", aliases=_ft("ws"))
    epoch: int = option(5, help="number of epochs", aliases=_ft("epoch"))
    min_count: int = option(5, help="minimal number of word occurrences", aliases=_ft("minCount"))
    neg: int = option(5, help="number of negatives sampled (-loss ns)", aliases=_ft("neg"))
    loss: Literal[UNSUPERVISED_LOSSES] = option(  # type: ignore[valid-type]
        "ns", help="loss function", aliases=_ft("loss")
    )
    bucket: int = option(2_000_000, help="number of hash buckets", aliases=_ft("bucket"))
    minn: int = option(3, help="min length of char n-gram", aliases=_ft("minn"))
    maxn: int = option(6, help="max length of char n-gram (0: none)", aliases=_ft("maxn"))
    t: float = option(1e-4, help="sampling threshold", aliases=_ft("t"))
    thread: int = option(THREADS, help="Hogwild threads (at most the CPUs)", aliases=_ft("thread"))
    verbose: int = option(2, help="verbosity level (0: silent)", aliases=_ft("verbose"))
    seed: int = option(0, help="random seed (-thread 1 -seed S is reproducible)",
                       aliases=_ft("seed"))  # fmt: skip

    def __post_init__(self) -> None:
        positive = {"-dim": self.dim, "-ws": self.ws, "-epoch": self.epoch,
                    "-minCount": self.min_count, "-thread": self.thread,
                    "-lrUpdateRate": self.lr_update_rate}  # fmt: skip
        if self.maxn > 0:
            positive["-bucket"] = self.bucket
        for flag, value in positive.items():
            if value < 1:
                raise UsageError(f"{flag} must be >= 1, got {value}")
        if not self.lr > 0:
            raise UsageError(f"-lr must be > 0, got {self.lr}")
        if not self.t > 0:
            raise UsageError(f"-t must be > 0 (the sampling threshold, e.g. 1e-4), got {self.t}")
        if self.neg < 1 and self.loss == "ns":
            raise UsageError(f"-neg must be >= 1 with -loss ns, got {self.neg}")
        if self.maxn > 0 and not 1 <= self.minn <= self.maxn:
            raise UsageError(f"need 1 <= -minn <= -maxn, got -minn {self.minn} -maxn {self.maxn}")
        if self.loss not in UNSUPERVISED_LOSSES:
            raise UsageError(f"-loss must be one of {', '.join(UNSUPERVISED_LOSSES)} for word "
                             f"vectors, got {self.loss!r}")  # fmt: skip


@dataclass(frozen=True)
class SkipgramConfig(UnsupervisedConfig):
    """``danlu skipgram``: each word's vector (and its n-grams') predicts its context."""

    model: ClassVar[str] = "skipgram"


@dataclass(frozen=True)
class CbowConfig(UnsupervisedConfig):
    """``danlu cbow``: the mean of the context's vectors predicts the word between."""

    model: ClassVar[str] = "cbow"


UNSUPERVISED_CONFIGS: dict[str, type[UnsupervisedConfig]] = {
    "skipgram": SkipgramConfig, "cbow": CbowConfig,
}  # fmt: skip


@dataclass(frozen=True)
class WordVectorsConfig:
    """``danlu print-word-vectors|print-sentence-vectors MODEL``: vectors of standard input."""

    model: str = option(help="a model: PREFIX.bin (fastText's) or .safetensors", positional=True)


@dataclass(frozen=True)
class NeighboursConfig(WordVectorsConfig):
    """``danlu nn|analogies MODEL [k]``: queries read from standard input."""

    k: int = option(10, help="neighbours per query", positional=True)


@dataclass(frozen=True)
class DumpConfig(WordVectorsConfig):
    """``danlu dump MODEL args|dict|input|output``: a model's parts as fastText prints them."""

    option: Literal[DUMP_OPTIONS] = option(  # type: ignore[valid-type]
        help="what to print", positional=True
    )
