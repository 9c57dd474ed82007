"""SIGHAN and People's Daily readers, BMES conversion, entity tags."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from danlu.data.segmentation import (
    entity_tags,
    read_people_daily,
    read_sighan,
    tags_to_words,
    words_to_tags,
    write_sighan,
)
from danlu.errors import DataError


def test_bmes_round_trip() -> None:
    words = ["我们", "爱", "中华人民", "共和国"]
    tags = words_to_tags(words)
    assert tags == ["B", "E", "S", "B", "M", "M", "E", "B", "M", "E"]
    assert tags_to_words(list("".join(words)), tags) == words


def test_ill_formed_tags_still_give_words() -> None:
    assert tags_to_words(list("abcd"), ["M", "E", "M", "B"]) == ["ab", "c", "d"]
    assert tags_to_words(list("ab"), ["B-X", "E-X"]) == ["ab"]
    with pytest.raises(ValueError, match="2 characters but 1 tags"):
        tags_to_words(["a", "b"], ["S"])


def test_sighan_read_write(tmp_path, capsys) -> None:
    path = write_sighan(tmp_path / "s.txt", [["我们", "爱"], ["北京"]])
    assert path.read_text(encoding="utf-8") == "我们  爱\n北京\n"
    assert read_sighan(path) == [(1, ["我们", "爱"]), (2, ["北京"])]
    path.write_text("我们  爱\n\n北京\n\n", encoding="utf-8")
    assert [n for n, _ in read_sighan(path)] == [1, 3]
    assert f"{path}:2: empty sentence" in capsys.readouterr().err
    with pytest.raises(DataError, match="empty sentence") as info:
        read_sighan(path, strict=True)
    assert info.value.line == 2
    (tmp_path / "empty.txt").write_text("\n", encoding="utf-8")
    with pytest.raises(DataError, match="no sentences"):
        read_sighan(tmp_path / "empty.txt")


PD = (
    "江/nr  泽民/nr  在/p  [中国/ns  政府/n]nt  讲话/v  。/w  北京/ns  [大/a  学/n]l  好/a\n"
    "\n"
    "[上海/ns]ns  的/u  新华社/nt\n"
)


def test_people_daily_words_pos_and_entities(tmp_path: Path) -> None:
    path = tmp_path / "pd.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(PD)
    first, second, third = read_people_daily(path)
    assert first.words == ("江", "泽民", "在", "中国", "政府", "讲话", "。")
    assert first.entities == (("PER", 0, 3), ("ORG", 4, 8))  # nr+nr merged; bracket = ORG
    assert second.words == ("北京", "大", "学", "好") and second.entities == (("LOC", 0, 2),)
    assert third.entities == (("LOC", 0, 2), ("ORG", 3, 6)) and third.line == 3
    assert len(read_people_daily(path, split_sentences=False)) == 2
    assert entity_tags(len(first.text), first.entities, "BIO")[:5] == [
        "B-PER", "I-PER", "I-PER", "O", "B-ORG"]  # fmt: skip
    assert entity_tags(4, [("LOC", 0, 1), ("ORG", 1, 4)], "BMES") == [
        "S-LOC", "B-ORG", "M-ORG", "E-ORG"]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [("好/a  坏\n", "token '坏' is not 'word/TAG'"),
     ("[中国/ns  政府/n\n", "without a closing"),
     ("政府/n]nt\n", "without '\\['"),
     ("[a/n  [b/n  c/n]nt\n", "nested")],
)  # fmt: skip
def test_people_daily_errors(tmp_path, text, message) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("好/a\n" + text, encoding="utf-8")
    with pytest.raises(DataError, match=message) as info:
        read_people_daily(path)
    assert info.value.line == 2


def test_real_people_daily(shared_data) -> None:
    sents = read_people_daily(shared_data / "people-daily-199801" / "199801.txt.gz")
    assert len(sents) > 19_484  # paragraphs split into sentences
    n_words = sum(len(s.words) for s in sents)
    assert n_words == 1_121_447  # the README's token count
    kinds = {k for s in sents for k, _, _ in s.entities}
    assert kinds == {"PER", "LOC", "ORG"}
