"""CoNLL-style reader: schemes, extra columns, Weibo position digits and every bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import run_danlu

from danlu.data.conll import TaggedSentence, check_tag, detect_scheme, read_conll, write_conll
from danlu.errors import DataError


def write(tmp_path: Path, text: str, name: str = "data.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_sentences_with_line_numbers_and_extra_columns(tmp_path) -> None:
    path = write(tmp_path, "高 NR B-NAME\n勇 NR E-NAME\n： PU O\n\n男 O\n")
    sents = read_conll(path)
    assert [s.tokens for s in sents] == [("高", "勇", "："), ("男",)]
    assert sents[0].tags == ("B-NAME", "E-NAME", "O")  # the tag is the LAST column
    assert [s.line for s in sents] == [1, 5]
    assert sents[0].features is None


def test_detects_the_scheme() -> None:
    assert detect_scheme(["B-X", "M-X", "E-X"]) == "BMES"
    assert detect_scheme(["B-X", "I-X", "E-X", "S-Y"]) == "BIOES"
    assert detect_scheme(["B-X", "I-X", "O"]) == "BIO"
    assert check_tag("M-PER", "BIO") is not None and check_tag("M-PER", "BMES") is None


def test_weibo_position_digits_are_stripped_into_features(tmp_path) -> None:
    path = write(tmp_path, "科0\tB-ORG.NAM\n技1\tI-ORG.NAM\np10\tO\n112\tO\n")
    (sent,) = read_conll(path)
    assert sent.tokens == ("科", "技", "p", "1")
    assert sent.features == ("0", "1", "10", "12")
    (plain,) = read_conll(path, position_digits=False)
    assert plain.tokens[0] == "科0"


def test_round_trip(tmp_path) -> None:
    sents = [TaggedSentence(("a", "b"), ("B-X", "I-X")), TaggedSentence(("c",), ("O",))]
    back = read_conll(write_conll(tmp_path / "out.txt", sents))
    assert [(s.tokens, s.tags) for s in back] == [(s.tokens, s.tags) for s in sents]


BAD = [
    ("a B-PER\nb\n", "bio", 2, "no tag column"),
    ("a B-PER\nb X-PER\n", "auto", 2, "tag 'X-PER' is not allowed"),
    ("a B-PER\nb M-PER\n", "bio", 2, "not allowed in the BIO scheme; valid: O, B-TYPE, I-TYPE"),
    ("a B-\n", "bio", 1, "tag 'B-' is not allowed"),
]


@pytest.mark.parametrize(("text", "scheme", "line", "message"), BAD)
def test_bad_input_names_file_and_line(tmp_path, text, scheme, line, message) -> None:
    path = write(tmp_path, text)
    with pytest.raises(DataError, match=message) as info:
        read_conll(path, scheme)
    assert info.value.line == line and str(path) in str(info.value)


def test_empty_sentence_warns_or_fails_under_strict(tmp_path, capsys) -> None:
    path = write(tmp_path, "\na O\n\n\nb O\n\n\n")
    assert len(read_conll(path)) == 2
    assert f"{path}:4: empty sentence" in capsys.readouterr().err
    with pytest.raises(DataError, match="empty sentence") as info:
        read_conll(path, strict=True)
    assert info.value.line == 4


def test_no_sentences_and_missing_file(tmp_path) -> None:
    with pytest.raises(DataError, match="no sentences"):
        read_conll(write(tmp_path, "\n\n"))
    with pytest.raises(DataError, match="file not found"):
        read_conll(tmp_path / "nope.txt")
    with pytest.raises(DataError, match="unknown tag scheme"):
        read_conll(write(tmp_path, "a O\n"), "iob9")


def test_cli_reports_bad_data_with_exit_status_2(tmp_path) -> None:
    path = write(tmp_path, "a B-PER\nb I-PER\n\nc\n")
    proc = run_danlu("tag", "train", "--train", str(path), "--out", str(tmp_path / "run"))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{path}:4: no tag column" in lines[0]
    assert "Traceback" not in proc.stderr


def test_real_files_read(shared_data) -> None:
    resume = read_conll(shared_data / "resume-ner" / "dev.char.bmes")
    assert len(resume) == 463
    weibo = read_conll(shared_data / "weibo-ner" / "weiboNER_2nd_conll.dev")
    assert len(weibo) == 270 and weibo[0].features is not None
    assert all(len(t) == 1 for s in weibo for t in s.tokens if t.isascii())
