"""Options of ``danlu translate train|eval|run|align`` (no torch import).

Column and tokenizer defaults follow the languages when their flag is not given (``None``,
resolved in ``__post_init__``): Tatoeba's layout puts English in column 1 and Chinese in
column 2, so a Chinese side (``zh``, ``cmn``, ``zh-TW``, ...) reads column 2 and any other
language column 1; a Chinese side is tokenized into characters (``char``), any other with
a SentencePiece model trained on the training side (``spm``).

Model options apply to the models that have them (:data:`MODEL_ONLY`); giving one to
another model is refused in one line, as is any other combination that cannot work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from danlu.config import option, require_at_least
from danlu.errors import UsageError
from danlu.names import (
    ATTENTION_SCORES,
    DIRECTIONS,
    LENGTH_PENALTIES,
    SEQ2SEQ_MODELS,
    describe,
)
from danlu.train.config import THREADS_HELP, Device, TrainConfig

__all__ = [
    "MODEL_ONLY",
    "TOKENIZERS",
    "AlignConfig",
    "DecodeOptions",
    "EvalConfig",
    "ExposureOptions",
    "ModelOptions",
    "RunConfig",
    "TrainTranslatorConfig",
    "default_column",
    "default_tokenizer",
    "is_chinese",
    "resolve_columns",
]

# --src-tokenizer/--tgt-tokenizer: name -> what it is (data.TOKENIZER_CLASSES implements them)
TOKENIZERS: dict[str, str] = {
    "char": "one token per character (Chinese); a run of spaces is one token",
    "jieba": "jieba's words (Chinese)",
    "spm": "a SentencePiece unigram model trained on the training side (--spm-vocab pieces)",
}
Tokenizer = Literal[tuple(TOKENIZERS)]  # type: ignore[valid-type]
Model = Literal[tuple(SEQ2SEQ_MODELS)]  # type: ignore[valid-type]
Attention = Literal[tuple(ATTENTION_SCORES)]  # type: ignore[valid-type]
LengthPenalty = Literal[tuple(LENGTH_PENALTIES)]  # type: ignore[valid-type]
Directions = Literal[tuple(DIRECTIONS)]  # type: ignore[valid-type]

# model option (field of ModelOptions) -> the models that take it; the others take every model
MODEL_ONLY: dict[str, tuple[str, ...]] = {
    "heads": ("transformer",),
    "ff": ("transformer",),
    "key_size": ("transformer",),
    "talking_heads": ("transformer",),
    "shared_embeddings": ("transformer",),
    "bidirectional": ("transformer",),
    "attention": ("gru_attn",),
}

# Transformer on ~27k short pairs: AdamW, linear warm-up then linear decay, the best dev
# BLEU kept. An epoch of Tatoeba zh-en (27k pairs) takes about 2.3 minutes on 2 CPU cores
# with the default model, so 12 epochs take about half an hour.
_TRAIN = TrainConfig(
    epochs=12, batch_size=64, lr=1e-3, weight_decay=0.01, schedule="linear", warmup=500,
    grad_clip=1.0, early_stop_metric="val_bleu",
)  # fmt: skip


def is_chinese(lang: str) -> bool:
    """Whether a language code names Chinese: ``zh``, ``zh-CN``, ``zh_TW``, ``cmn``."""
    return lang.strip().lower().replace("_", "-").split("-")[0] in ("zh", "cmn")


def default_column(lang: str) -> int:
    """Tatoeba's layout: 2 for Chinese, 1 for any other language (English)."""
    return 2 if is_chinese(lang) else 1


def default_tokenizer(lang: str) -> str:
    """``char`` for Chinese, ``spm`` for any other language."""
    return "char" if is_chinese(lang) else "spm"


def _resolve(obj: object, field: str, value: object) -> None:
    object.__setattr__(obj, field, value)  # a frozen dataclass resolving its None default


def _check_lang(flag: str, lang: str) -> None:
    if not lang.strip() or any(c.isspace() for c in lang.strip()):
        raise UsageError(f"{flag} {lang!r} is not a language code; pass e.g. zh or en")


def _at_least(minimum: int, values: dict[str, int | None]) -> None:
    """:func:`require_at_least` on the values given (``None``: a default, not checked)."""
    require_at_least(minimum, {k: v for k, v in values.items() if v is not None})


def _check_columns(src_col: int | None, tgt_col: int | None) -> None:
    _at_least(1, {"--src-col": src_col, "--tgt-col": tgt_col})
    if src_col == tgt_col:
        raise UsageError(f"--src-col and --tgt-col are both column {src_col}; source and "
                         "target must be two columns: pass --src-col/--tgt-col")  # fmt: skip


def resolve_columns(src_col: int | None, tgt_col: int | None, src_lang: str, tgt_lang: str
                    ) -> tuple[int, int]:  # fmt: skip
    """The 1-based (source, target) columns: the ones given, else :func:`default_column`."""
    src = default_column(src_lang) if src_col is None else src_col
    tgt = default_column(tgt_lang) if tgt_col is None else tgt_col
    _check_columns(src, tgt)
    return src, tgt


@dataclass(frozen=True)
class ModelOptions:
    """The model: which one, its sizes, its loss, the lengths it reads."""

    model: Model = option("transformer", help=describe(SEQ2SEQ_MODELS))
    d_model: int = option(256, help="Transformer width; GRU embedding and hidden size")
    layers: int | None = option(
        None, help="encoder layers and decoder layers, each (none: the model's default, "
        "3 for the transformer, 2 for the GRUs)",
    )  # fmt: skip
    heads: int | None = option(None, help="attention heads (transformer; none: 4)")
    ff: int | None = option(None, help="feed-forward width (transformer; none: 4 x --d-model)")
    dropout: float = option(0.1, help="dropout rate in training")
    attention: Attention | None = option(
        None, help=f"score of gru_attn (none: additive): {describe(ATTENTION_SCORES)}"
    )
    key_size: int | None = option(
        None, help="query/key size per head (transformer; none: d_model / heads)"
    )
    talking_heads: bool = option(False, help="talking-heads attention (transformer)")
    shared_embeddings: bool = option(
        False, help="one joint vocabulary and embedding table for both sides (transformer)"
    )
    bidirectional: bool = option(
        False, help="an L2R and an R2L decoder over one encoder, trained jointly, each "
        "attending to the other's prefix (transformer; Zhou et al. 2019)",
    )  # fmt: skip
    right_to_left: bool = option(
        False, help="decode right to left: train on reversed targets (outputs are put back "
        "in reading order)",
    )  # fmt: skip
    label_smoothing: float = option(0.1, help="label smoothing epsilon of the loss (0: off)")
    max_len: int = option(
        100, help="tokens per sentence: longer sources are truncated (one warning), as are "
        "training targets",
    )  # fmt: skip
    min_count: int = option(1, help="tokens seen fewer times in training become <unk>")
    spm_vocab: int = option(4000, help="pieces of each SentencePiece model (--*-tokenizer spm)")

    def __post_init__(self) -> None:
        for field, models in MODEL_ONLY.items():
            if getattr(self, field) not in (None, False) and self.model not in models:
                raise UsageError(f"--{field.replace('_', '-')} applies to --model "
                                 f"{' or '.join(models)}, not {self.model}; drop it")  # fmt: skip
        _at_least(1, {"--d-model": self.d_model, "--layers": self.layers, "--heads": self.heads,
                      "--ff": self.ff, "--key-size": self.key_size,
                      "--min-count": self.min_count, "--spm-vocab": self.spm_vocab})  # fmt: skip
        if not 1 <= self.max_len <= 1000:
            raise UsageError(f"--max-len must be in [1, 1000] tokens, got {self.max_len}")
        if not 0.0 <= self.dropout < 1.0:
            raise UsageError(f"--dropout must be in [0, 1), got {self.dropout}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise UsageError(f"--label-smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.bidirectional and self.right_to_left:
            raise UsageError("--bidirectional already trains a right-to-left decoder beside "
                             "the left-to-right one; drop --right-to-left")  # fmt: skip
        heads = self.heads or 4
        if self.model == "transformer" and self.d_model % heads:
            raise UsageError(f"--d-model {self.d_model} must be a multiple of --heads {heads}")


@dataclass(frozen=True)
class ExposureOptions:
    """Remedies for exposure bias (teacher forcing trains on gold prefixes only)."""

    token_noise: float = option(
        0.0, help="replace this fraction of the decoder's input tokens with random ones in "
        "training (0: off)",
    )  # fmt: skip
    scheduled_sampling: float = option(
        0.0, help="scheduled sampling with inverse-sigmoid decay k/(k+exp(step/k)) of the "
        "teacher-forcing probability; this is k in steps (0: off)",
    )  # fmt: skip

    def __post_init__(self) -> None:
        if not 0.0 <= self.token_noise < 1.0:
            raise UsageError(f"--token-noise must be in [0, 1) (0: off), got {self.token_noise}")
        if self.scheduled_sampling != 0 and self.scheduled_sampling < 1:
            raise UsageError(f"--scheduled-sampling must be 0 (off) or >= 1 step, got "
                             f"{self.scheduled_sampling}")  # fmt: skip


@dataclass(frozen=True)
class TrainTranslatorConfig:
    """``danlu translate train``: a sequence-to-sequence translator on TAB-separated pairs.

    ``--adversarial EPS`` perturbs only the decoder's (target) embeddings. Without ``--dev``,
    ``--dev-size`` pairs are drawn from ``--train`` (seeded by ``--split-seed``).
    """

    train: str = option(help="training pairs: one pair a line, TAB-separated columns")
    out: str = option("runs/translate", help="run folder to write")
    dev: str = option("", help="dev pairs (same columns) for BLEU per epoch and early stopping")
    dev_size: int = option(1000, help="without --dev: pairs drawn from --train as dev (0: none)")
    split_seed: int = option(0, help="seed of that hold-out draw")
    src: str = option("zh", help="source language code (sacreBLEU and the defaults use it)")
    tgt: str = option("en", help="target language code")
    src_col: int | None = option(
        None, help="1-based source column (none: Tatoeba's layout, 2 for Chinese, else 1)"
    )
    tgt_col: int | None = option(
        None, help="1-based target column (none: Tatoeba's layout, 2 for Chinese, else 1)"
    )
    src_tokenizer: Tokenizer | None = option(
        None, help=f"none: char for Chinese, else spm; {describe(TOKENIZERS)}"
    )
    tgt_tokenizer: Tokenizer | None = option(None, help="as --src-tokenizer, for the target")
    batch_tokens: int = option(
        0, help="batches of about this many target tokens instead of --batch-size sentences "
        "(0: off)",
    )  # fmt: skip
    dev_beam: int = option(1, help="beam size of the dev translations (1: greedy)")
    net: ModelOptions = option(default_factory=ModelOptions, embed=True)
    exposure: ExposureOptions = option(default_factory=ExposureOptions, embed=True)
    optim: TrainConfig = option(default_factory=lambda: _TRAIN, embed=True)

    def __post_init__(self) -> None:
        _check_lang("--src", self.src)
        _check_lang("--tgt", self.tgt)
        columns = resolve_columns(self.src_col, self.tgt_col, self.src, self.tgt)
        _resolve(self, "src_col", columns[0])
        _resolve(self, "tgt_col", columns[1])
        for side, lang in (("src", self.src), ("tgt", self.tgt)):
            if getattr(self, f"{side}_tokenizer") is None:
                _resolve(self, f"{side}_tokenizer", default_tokenizer(lang))
        require_at_least(0, {"--dev-size": self.dev_size, "--batch-tokens": self.batch_tokens})
        require_at_least(1, {"--dev-beam": self.dev_beam})
        if self.net.bidirectional and self.optim.adversarial:
            raise UsageError("--adversarial perturbs one decoder's embeddings; it is not "
                             "available with --bidirectional: drop one of them")  # fmt: skip


@dataclass(frozen=True)
class DecodeOptions:
    """How a trained model searches for its translations (``eval``, ``run``, ``align``)."""

    beam: int = option(5, help="beam size (1: greedy search)")
    # beam 5 on a Tatoeba zh-en dev set: no penalty 29.3 BLEU (outputs too short: BP 0.86),
    # average (alpha 1) 30.4, gnmt (alpha 0.6) 30.3; greedy 29.0
    length_penalty: LengthPenalty = option(
        "average", help=f"how hypotheses of different lengths are ranked: "
        f"{describe(LENGTH_PENALTIES)}",
    )  # fmt: skip
    alpha: float = option(1.0, help="alpha of the length penalty")
    max_len_a: float = option(
        2.0, help="outputs stop at a*|source|+b tokens (and the model's max length)"
    )
    max_len_b: int = option(10, help="b of that limit")
    directions: Directions = option(
        "both", help=f"a --bidirectional model's output: {describe(DIRECTIONS)}"
    )

    def __post_init__(self) -> None:
        require_at_least(1, {"--beam": self.beam, "--max-len-b": self.max_len_b})
        require_at_least(0, {"--max-len-a": self.max_len_a})


@dataclass(frozen=True, kw_only=True)
class _Inference:
    """What every command that runs a trained translator takes."""

    model: str = option(help="run folder written by danlu translate train")
    decode: DecodeOptions = option(default_factory=DecodeOptions, embed=True)
    batch_size: int = option(64, help="sentences per search")
    device: Device = option("auto", help="where to run")
    threads: int = option(0, help=THREADS_HELP)

    def __post_init__(self) -> None:
        require_at_least(1, {"--batch-size": self.batch_size})


@dataclass(frozen=True, kw_only=True)
class EvalConfig(_Inference):
    """``danlu translate eval``: sacreBLEU BLEU and chrF of a run folder on a file of pairs."""

    data: str = option(help="TAB-separated pairs to translate and score")
    src_col: int | None = option(
        None, help="1-based source column (none: Tatoeba's layout for the model's languages)"
    )
    tgt_col: int | None = option(None, help="1-based reference column (none: as --src-col)")
    out: str = option("", help="also write the scores as JSON to this file")
    hyp_out: str = option(
        "", help="write the translations here, one a line (empty: beside --out as "
        "NAME.hyp.txt; none without --out)",
    )  # fmt: skip

    def __post_init__(self) -> None:
        super().__post_init__()
        _at_least(1, {"--src-col": self.src_col, "--tgt-col": self.tgt_col})


@dataclass(frozen=True, kw_only=True)
class RunConfig(_Inference):
    """``danlu translate run``: translate standard input, one output line per input line."""

    n_best: int = option(
        1, help="K > 1: K lines per input line, best first, each SCORE<TAB>TRANSLATION "
        "(an empty input line gives K empty lines)",
    )  # fmt: skip

    def __post_init__(self) -> None:
        super().__post_init__()
        require_at_least(1, {"--n-best": self.n_best})
        if self.n_best > self.decode.beam:
            raise UsageError(f"--n-best {self.n_best} is larger than --beam {self.decode.beam}: "
                             "beam search keeps --beam hypotheses; raise --beam")  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class AlignConfig(_Inference):
    """``danlu translate align``: the attention heat map of one sentence and its translation."""

    text: str = option(help="the source sentence")
    out: str = option("align.png", help="image to write (PNG, SVG, PDF by suffix)")
    layer: int | None = option(None, help="transformer: 1-based layer (none: the mean)")
    head: int | None = option(None, help="transformer: 1-based head (none: the mean)")

    def __post_init__(self) -> None:
        super().__post_init__()
        _at_least(1, {"--layer": self.layer, "--head": self.head})
