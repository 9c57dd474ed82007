"""Parallel text: reading pairs, the dev split, reversible tokenizers, vocabularies."""

from __future__ import annotations

from pathlib import Path

import pytest

from danlu.errors import DataError, UsageError
from danlu.tasks.translation.data import (
    EOS,
    UNK,
    CharTokenizer,
    JiebaTokenizer,
    SentencePieceTokenizer,
    Vocab,
    read_pairs,
    split_dev,
)

TSV = "Hi.\t嗨。\tCC-BY\nRun.\t你用跑的。\tCC-BY\n\t空的。\tCC-BY\nI see.\t我明白了。\tCC-BY\n"


def write(tmp_path: Path, data: bytes | str) -> Path:
    path = tmp_path / "pairs.tsv"
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def test_pairs_come_from_the_chosen_columns_and_empty_sides_are_skipped(tmp_path, capsys) -> None:
    pairs = read_pairs(write(tmp_path, TSV), src_col=2, tgt_col=1)
    assert pairs.src == ["嗨。", "你用跑的。", "我明白了。"] and pairs.tgt[2] == "I see."
    assert pairs.lines == [1, 2, 4] and pairs.skipped == 1
    assert "skipped 1 pair(s) with an empty side" in capsys.readouterr().err


def test_a_missing_column_or_bad_byte_names_the_line(tmp_path) -> None:
    with pytest.raises(DataError, match=r"pairs\.tsv:2: 1 TAB-separated column\(s\), need 2"):
        read_pairs(write(tmp_path, "a\tb\nonly one\n"), src_col=2, tgt_col=1)
    bad = "Hi.\t嗨。\n".encode() + "Run.\t跑".encode("gbk") + b"\n"
    with pytest.raises(DataError, match=r"pairs\.tsv:2: not UTF-8 text"):
        read_pairs(write(tmp_path, bad), src_col=2, tgt_col=1)


def test_the_dev_split_is_seeded_disjoint_and_keeps_file_order(tmp_path) -> None:
    text = "".join(f"s{i}\tt{i}\n" for i in range(50))
    pairs = read_pairs(write(tmp_path, text), src_col=1, tgt_col=2)
    train, dev = split_dev(pairs, 10, seed=3)
    again_train, again_dev = split_dev(pairs, 10, seed=3)
    assert dev.src == again_dev.src and train.src == again_train.src
    assert len(dev) == 10 and len(train) == 40 and not set(dev.src) & set(train.src)
    assert dev.lines == sorted(dev.lines) and dev.src != [f"s{i}" for i in range(10)]
    with pytest.raises(UsageError, match="--dev-size 50"):
        split_dev(pairs, 50, seed=0)


@pytest.mark.parametrize("text", ["我不知道该怎么办。", "Tom  说 OK 了", "I don't know."])
def test_tokenizers_give_the_sentence_back(tmp_path, text) -> None:
    spm = SentencePieceTokenizer.train(
        ["我不知道该怎么办。", "Tom 说 OK 了", "I don't know.", "你好 world"] * 30,
        tmp_path / "spm.model", vocab_size=60,
    )  # fmt: skip
    for tok in (CharTokenizer(), JiebaTokenizer(), spm):
        tokens = tok.encode(text)
        assert tokens and tok.decode(tokens) == " ".join(text.split()), tok.name


def test_vocab_orders_by_count_and_maps_unknowns() -> None:
    vocab = Vocab.build([["b", "a", "b"], ["c", "b", "a"]])
    assert vocab.tokens[4:] == ["b", "a", "c"]
    assert vocab.ids(["a", "zzz"]) == [5, UNK]
    assert vocab.words([4, 5, EOS, 6]) == ["b", "a"]
