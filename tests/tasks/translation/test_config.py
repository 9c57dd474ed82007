"""Options of translate train|eval|run|align: defaults, the column rule, refusals."""

from __future__ import annotations

import pytest

from danlu.errors import UsageError
from danlu.nn.seq2seq import seq2seq_options
from danlu.tasks.translation.config import (
    MODEL_ONLY,
    AlignConfig,
    DecodeOptions,
    EvalConfig,
    ModelOptions,
    RunConfig,
    TrainTranslatorConfig,
    resolve_columns,
)
from danlu.tasks.translation.model import seq2seq_kwargs


def test_defaults_read_tatoeba_zh_to_en_with_a_transformer() -> None:
    cfg = TrainTranslatorConfig(train="train.tsv")
    assert (cfg.src, cfg.tgt, cfg.src_col, cfg.tgt_col) == ("zh", "en", 2, 1)
    assert (cfg.src_tokenizer, cfg.tgt_tokenizer) == ("char", "spm")
    assert cfg.net.model == "transformer" and cfg.net.label_smoothing == 0.1
    assert cfg.optim.optimizer == "adamw" and cfg.optim.schedule == "linear"
    assert cfg.optim.warmup > 0 and cfg.optim.early_stop_metric == "val_bleu"
    assert cfg.exposure.token_noise == 0 and cfg.exposure.scheduled_sampling == 0
    assert cfg.optim.adversarial == 0 and cfg.dev_size == 1000


@pytest.mark.parametrize(
    ("src", "tgt", "given", "expected"),
    [
        ("zh", "en", (None, None), (2, 1)),
        ("en", "zh", (None, None), (1, 2)),
        ("cmn", "en", (None, None), (2, 1)),
        ("zh_TW", "en", (None, 3), (2, 3)),
        ("en", "zh", (4, None), (4, 2)),
        ("de", "en", (2, 1), (2, 1)),
    ],
)
def test_columns_follow_the_languages_unless_given(src, tgt, given, expected) -> None:
    cfg = TrainTranslatorConfig(train="t.tsv", src=src, tgt=tgt, src_col=given[0],
                                tgt_col=given[1])  # fmt: skip
    assert (cfg.src_col, cfg.tgt_col) == expected
    assert resolve_columns(*given, src, tgt) == expected


def test_english_to_chinese_tokenizes_chinese_into_characters() -> None:
    cfg = TrainTranslatorConfig(train="t.tsv", src="en", tgt="zh", tgt_tokenizer="jieba")
    assert (cfg.src_tokenizer, cfg.tgt_tokenizer) == ("spm", "jieba")


BAD = [
    ({"src": "de", "tgt": "en"}, "--src-col and --tgt-col are both column 1"),
    ({"src_col": 0}, "--src-col must be >= 1, got 0"),
    ({"src": ""}, "--src '' is not a language code"),
    ({"dev_beam": 0}, "--dev-beam must be >= 1"),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_train_options_are_refused(kwargs, message) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        TrainTranslatorConfig(train="t.tsv", **kwargs)


@pytest.mark.parametrize("field", sorted(MODEL_ONLY))
def test_a_model_option_given_to_another_model_is_refused(field) -> None:
    value = True if field in ("talking_heads", "shared_embeddings") else 8
    value = "dot" if field == "attention" else value
    other = "gru" if "gru_attn" not in MODEL_ONLY[field] else "transformer"
    with pytest.raises(UsageError, match=f"--{field.replace('_', '-')} applies to --model"):
        ModelOptions(model=other, **{field: value})
    ModelOptions(model=MODEL_ONLY[field][0], **{field: value})  # accepted by its own model


@pytest.mark.parametrize(
    "opts",
    [
        ModelOptions(model="transformer", layers=2, heads=2, ff=64, key_size=16,
                     talking_heads=True, shared_embeddings=True, d_model=32),
        ModelOptions(model="gru_attn", attention="general", layers=1, d_model=32),
        ModelOptions(model="gru", layers=1, d_model=32),
    ],
    ids=["transformer", "gru_attn", "gru"],
)  # fmt: skip
def test_every_flag_reaches_a_keyword_of_its_model(opts) -> None:
    kwargs = seq2seq_kwargs(opts)
    assert set(kwargs) <= set(seq2seq_options(opts.model))
    assert len(kwargs) >= 4  # nothing left at None when given


def test_model_defaults_are_left_to_the_model() -> None:
    assert "num_encoder_layers" not in seq2seq_kwargs(ModelOptions())  # none: the model's own
    assert seq2seq_kwargs(ModelOptions(model="gru_attn"))["hidden_size"] == 256


def test_inference_options() -> None:
    assert DecodeOptions().beam == 5
    assert EvalConfig(model="m", data="d").src_col is None  # the model's languages decide
    with pytest.raises(UsageError, match="--n-best 6 is larger than --beam 5"):
        RunConfig(model="m", n_best=6)
    with pytest.raises(UsageError, match="--layer must be >= 1"):
        AlignConfig(model="m", text="x", layer=0)
    with pytest.raises(UsageError, match="--beam must be >= 1"):
        DecodeOptions(beam=0)
