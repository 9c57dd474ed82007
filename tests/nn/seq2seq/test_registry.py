"""The model table follows danlu.names; bad names, options and inputs say what is valid."""

from __future__ import annotations

import pytest
import torch

from danlu import names
from danlu.errors import UsageError
from danlu.nn import SEQ2SEQ, create_seq2seq, seq2seq_names, seq2seq_options
from danlu.nn.seq2seq import AttentionGRUSeq2Seq, check_source
from danlu.nn.seq2seq.source_attention import SCORES


def test_the_tables_follow_danlu_names() -> None:
    assert seq2seq_names() == list(names.SEQ2SEQ_MODELS) == list(SEQ2SEQ)
    assert list(SCORES) == list(names.ATTENTION_SCORES)


def test_an_unknown_model_lists_the_valid_names() -> None:
    with pytest.raises(UsageError, match=r"unknown seq2seq model 'lstm'; valid: gru \("):
        create_seq2seq("lstm", 10, 10)


def test_an_unknown_option_lists_the_valid_ones_with_defaults() -> None:
    with pytest.raises(UsageError, match=r"no option 'hidden'.*hidden_size=256"):
        create_seq2seq("gru", 10, 10, hidden=8)
    assert seq2seq_options("transformer")["norm_first"] is True
    assert seq2seq_options("gru_attn")["attention"] == "additive"


@pytest.mark.parametrize("score", list(names.ATTENTION_SCORES))
def test_every_attention_score_builds(score: str) -> None:
    model = create_seq2seq("gru_attn", 10, 12, attention=score, hidden_size=8, embed_dim=4)
    assert isinstance(model, AttentionGRUSeq2Seq) and model.attention.name == score


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("gru_attn", {"attention": "cosine"}, "unknown attention score 'cosine'; valid: dot"),
        ("gru_attn", {"hidden_size": 7}, "even hidden_size"),
        ("gru", {"num_layers": 0}, "num_layers must be >= 1"),
        ("gru", {"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
        ("transformer", {"d_model": 10, "heads": 4}, "multiple of heads"),
        ("transformer", {"key_size": 0}, "key_size must be >= 1"),
    ],
)
def test_bad_values_are_usage_errors(name: str, options: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        create_seq2seq(name, 10, 10, **options)


def test_check_source_rejects_left_padding_and_reads_an_empty_row_as_one_pad() -> None:
    with pytest.raises(UsageError, match="right padding"):
        check_source(torch.tensor([[0, 3, 4]]), torch.tensor([[False, True, True]]))
    with pytest.raises(UsageError, match="bool tensor"):
        check_source(torch.tensor([[3, 4]]), torch.tensor([[1, 1]]))
    mask, lengths = check_source(torch.tensor([[3, 4], [0, 0]]), None)
    assert mask.tolist() == [[True, True], [True, False]] and lengths.tolist() == [2, 1]


@pytest.mark.parametrize("name", seq2seq_names())
def test_an_empty_source_gives_finite_log_probs(name: str) -> None:
    model = create_seq2seq(name, 10, 12).eval()
    src = torch.tensor([[3, 4, 5], [0, 0, 0]])
    with torch.no_grad():
        log_probs, _ = model.step(model.start(src, src != 0), torch.tensor([1, 1]))
    assert log_probs.shape == (2, 12) and torch.isfinite(log_probs).all()
