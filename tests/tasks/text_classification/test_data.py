"""Tokenizers of ``__label__`` files."""

from __future__ import annotations

from danlu.tasks.text_classification.data import SPACE_TOKEN, get_tokenizer, parse_lines


def test_char_tokens_keep_each_run_of_spaces_as_one_token() -> None:
    chars = get_tokenizer("char")
    sp = SPACE_TOKEN
    expected = ["东", "5", "环", sp, "海", "棠", sp, "公", "社", sp, "A"]
    assert chars("  东5环 海棠\t\t公社 A  ") == expected
    assert chars(" \t ") == []


def test_char_tokenizer_reads_labels_apart_from_the_text() -> None:
    corpus = parse_lines(["__label__a 体育 新闻 __label__b", "没有标签"], tokenizer="char")
    assert corpus.labels == [["__label__a", "__label__b"]]
    assert corpus.words == [["体", "育", SPACE_TOKEN, "新", "闻"]]
    assert corpus.skipped == 1
