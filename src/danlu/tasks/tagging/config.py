"""Options of ``danlu tag train|eval|predict`` and ``danlu seg train|eval|cut`` (no torch).

The head names come from :data:`danlu.names.TAGGER_HEADS` (implemented in
:mod:`danlu.nn.heads`); the commands that run a trained tagger share
:class:`InferenceConfig` (the run folder, the batch, the device).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from danlu.config import option
from danlu.errors import UsageError
from danlu.names import TAGGER_HEADS, describe
from danlu.train.config import THREADS_HELP, Device, TrainConfig

__all__ = [
    "HEADS",
    "InferenceConfig",
    "SegCutConfig",
    "SegEvalConfig",
    "SegTrainConfig",
    "TagEvalConfig",
    "TagPredictConfig",
    "TagTrainConfig",
    "TaggerOptions",
]

HEADS: tuple[str, ...] = tuple(TAGGER_HEADS)
Head = Literal[HEADS]  # type: ignore[valid-type]
SegFormat = Literal["auto", "sighan", "people-daily"]

# BiLSTM taggers learn fast with Adam at 1e-3..3e-3; the best dev F1 is kept.
_TAG_TRAIN = TrainConfig(
    epochs=30, batch_size=32, lr=2e-3, grad_clip=5.0, early_stop_metric="val_f1", patience=5
)
# With bigrams (the seg default) dev F1 passes 95 after ~2.7 epochs on SXU, ~1.7 on People's
# Daily 1998-01; 4 epochs keep both runs together near half an hour on 2 CPU cores.
_SEG_TRAIN = TrainConfig(
    epochs=4, batch_size=64, lr=2e-3, grad_clip=5.0, early_stop_metric="val_f1", patience=3
)


@dataclass(frozen=True)
class TaggerOptions:
    """The model and the handling of long sequences, shared by ``tag`` and ``seg`` training."""

    head: Head = option("crf", help="output layer: " + describe(TAGGER_HEADS))
    embedding_dim: int = option(100, help="character embedding size (random initialisation)")
    hidden: int = option(200, help="LSTM hidden size per direction")
    layers: int = option(1, help="stacked BiLSTM layers")
    dropout: float = option(0.3, help="dropout on embeddings and on the BiLSTM output")
    word_features: bool = option(
        False, help="add jieba word-boundary features (the B/M/E/S position of each character)"
    )
    bigrams: bool = option(
        False, help="add embeddings of the two character bigrams c[t-1]c[t] and c[t]c[t+1]"
    )
    bigram_dim: int = option(50, help="bigram embedding size (with --bigrams)")
    bigram_min_count: int = option(
        2, help="bigrams seen fewer times in training become <unk> (so <unk> is learned)"
    )
    constrained: bool = option(
        True, help="forbid impossible tag transitions (I-x after O, ...) in the CRF/MEMM heads"
    )
    min_count: int = option(1, help="characters seen fewer times in training become <unk>")
    max_len: int = option(
        250, help="longest sequence; longer ones are split with a warning (0: no limit)"
    )
    strict: bool = option(
        False, help="reject sequences over --max-len and empty sentences instead of warning"
    )

    def __post_init__(self) -> None:
        sizes = ("embedding_dim", "hidden", "layers", "min_count", "bigram_dim", "bigram_min_count")
        for name in sizes:
            value = getattr(self, name)
            if value < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
        if not 0.0 <= self.dropout < 1.0:
            raise UsageError(f"--dropout must be in [0, 1), got {self.dropout}")
        if self.max_len < 0:
            raise UsageError(f"--max-len must be >= 0 (0: no limit), got {self.max_len}")


# Segmentation: character bigrams are what lift a BiLSTM segmenter from ~91 to ~96 F1.
_SEG_MODEL = TaggerOptions(bigrams=True)


def _check_dev_fraction(value: float) -> None:
    if not 0.0 <= value < 1.0:
        raise UsageError(f"--dev-fraction must be in [0, 1), got {value}")


@dataclass(frozen=True)
class TagTrainConfig:
    """``danlu tag train``: a BiLSTM tagger (NER) on CoNLL-style files."""

    train: str = option(help="training file: one 'token tag' per line, blank line between "
                        "sentences")  # fmt: skip
    dev: str = option("", help="development file (same format) for F1 and early stopping")
    out: str = option("runs/tag", help="run folder to write")
    scheme: Literal["auto", "bio", "bioes", "bmes"] = option(
        "auto", help="tag scheme; auto: BMES if any M- tag, BIOES if any E-/S-, else BIO"
    )
    dev_fraction: float = option(
        0.1, help="share of training sentences held out as dev when --dev is not given"
    )
    split_seed: int = option(0, help="seed of that hold-out split")
    model: TaggerOptions = option(default_factory=TaggerOptions, embed=True)
    optim: TrainConfig = option(default_factory=lambda: _TAG_TRAIN, embed=True)

    def __post_init__(self) -> None:
        _check_dev_fraction(self.dev_fraction)


@dataclass(frozen=True)
class SegTrainConfig:
    """``danlu seg train``: a BiLSTM word segmenter (BMES tags) on segmented text.

    Unlike ``tag train`` it embeds character bigrams by default (``--no-bigrams`` turns
    them off): with them the defaults reach ~95 SIGHAN word F1 on a held-out 5% of SXU or
    People's Daily 1998-01 within a few epochs."""

    train: str = option(help="segmented text: SIGHAN (words separated by spaces) or People's "
                        "Daily word/TAG (.gz is fine)")  # fmt: skip
    dev: str = option("", help="segmented development file (empty: hold out --dev-fraction)")
    out: str = option("runs/seg", help="run folder to write")
    format: SegFormat = option(
        "auto", help="input format; auto: people-daily when tokens look like word/TAG"
    )
    dev_fraction: float = option(0.05, help="share of training sentences held out as dev")
    split_seed: int = option(0, help="seed of the hold-out split")
    model: TaggerOptions = option(default_factory=lambda: _SEG_MODEL, embed=True)
    optim: TrainConfig = option(default_factory=lambda: _SEG_TRAIN, embed=True)

    def __post_init__(self) -> None:
        _check_dev_fraction(self.dev_fraction)


@dataclass(frozen=True, kw_only=True)
class InferenceConfig:
    """What every command that runs a trained tagger takes (``tag eval|predict``,
    ``seg eval|cut``): the run folder, the batch size, the device and its threads."""

    model: str = option(help="run folder written by danlu tag train (NER) or danlu seg train "
                        "(segmentation)")  # fmt: skip
    batch_size: int = option(64, help="sentences (input lines) per forward pass")
    device: Device = option("auto", help="where to run")
    threads: int = option(0, help=THREADS_HELP)


_SCORES_JSON = "also write the scores as JSON to this file"


@dataclass(frozen=True, kw_only=True)
class TagEvalConfig(InferenceConfig):
    """``danlu tag eval``: entity-level precision/recall/F1 of a run folder on a file."""

    data: str = option(help="CoNLL-style file with gold tags")
    out: str = option("", help=_SCORES_JSON)


@dataclass(frozen=True, kw_only=True)
class TagPredictConfig(InferenceConfig):
    """``danlu tag predict``: tag text from standard input, one JSON object per line."""


@dataclass(frozen=True, kw_only=True)
class SegEvalConfig(InferenceConfig):
    """``danlu seg eval``: SIGHAN word P/R/F1 and OOV recall of a run folder."""

    gold: str = option(help="gold segmentation (SIGHAN or People's Daily format)")
    out: str = option("", help=_SCORES_JSON)
    format: SegFormat = option("auto", help="gold file format")


@dataclass(frozen=True, kw_only=True)
class SegCutConfig(InferenceConfig):
    """``danlu seg cut``: segment text from standard input into space-separated words."""
