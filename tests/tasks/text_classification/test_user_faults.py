"""Mistakes a user of the fastText commands can make end in one line (issue 16).

Each case runs ``danlu`` as a user would (a subprocess) and checks the exit status, the
single line on stderr and the files left behind: a bad ``-output`` is refused before any
data is read, non-UTF-8 bytes on standard input name their line and byte, raw Chinese
without ``-tokenizer`` gets one warning, and a network's run folder is claimed for the
whole training.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import danlu_env, run_danlu

from danlu.cli import main
from danlu.io import claim_run_folder

LINES = [f"__label__{'ab'[i % 2]} {'x y' if i % 2 else 'p q'} w{i % 9}" for i in range(200)]
# Chinese titles as a new user has them: no spaces between the words
RAW_CHINESE = [
    "中华女子学院本科层次仅一专业招男生",
    "两天价网站背后重重迷雾做个网站究竟要多少钱",
    "东5环海棠公社230-290平2居准现房98折优惠",
    "卡佩罗告诉你德国脚生猛的原因不希望英德战踢点球",
]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("faults")
    data = folder / "train.txt"
    data.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    assert main(["supervised", "-input", str(data), "-output", str(folder / "m"), "-epoch",
                 "5", "-lr", "0.5", "-thread", "1", "-verbose", "0"]) == 0  # fmt: skip
    return folder / "m.safetensors"


def _one_line(proc: subprocess.CompletedProcess, status: int = 2) -> str:
    """The single line on stderr of a refused command (status 2, no traceback)."""
    assert proc.returncode == status, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def _with_stdin(data: bytes, *args: str) -> subprocess.CompletedProcess[str]:
    """``danlu ARGS`` reading ``data`` from a pipe (not a terminal)."""
    return subprocess.run([sys.executable, "-m", "danlu", *args], input=data,
                          capture_output=True, env=danlu_env(), timeout=120)  # fmt: skip


# ----------------------------------------------------------- -output a/b, a is a file
def test_supervised_refuses_an_output_under_a_file_before_reading_data(tmp_path) -> None:
    (tmp_path / "a").write_text("not a folder\n", encoding="utf-8")
    # the data would fail too (not UTF-8): the -output line proves it was never read
    data = tmp_path / "train.txt"
    data.write_bytes(b"__label__x caf\xe9\n")
    proc = run_danlu("supervised", "-input", str(data), "-output", str(tmp_path / "a" / "b"),
                     cwd=tmp_path)  # fmt: skip
    line = _one_line(proc)
    assert line == (f"danlu supervised: error: -output: cannot write {tmp_path}/a/b.safetensors: "
                    f"{tmp_path}/a is a file, not a folder")  # fmt: skip
    assert (tmp_path / "a").read_text(encoding="utf-8") == "not a folder\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "train.txt"]


def test_supervised_checks_the_input_first(tmp_path) -> None:
    (tmp_path / "a").write_text("", encoding="utf-8")
    proc = run_danlu("supervised", "-input", str(tmp_path / "nope.txt"), "-output",
                     str(tmp_path / "a" / "b"))  # fmt: skip
    assert _one_line(proc) == (f"danlu supervised: error: input file '{tmp_path}/nope.txt' "
                               "does not exist (give a fastText-format file)")  # fmt: skip


def test_quantize_refuses_an_output_under_a_file_before_loading(model, tmp_path) -> None:
    (tmp_path / "a").write_text("", encoding="utf-8")
    proc = run_danlu("quantize", "-input", str(model), "-output", str(tmp_path / "a" / "q"))
    assert _one_line(proc) == (f"danlu quantize: error: -output: cannot write "
                               f"{tmp_path}/a/q.safetensors: {tmp_path}/a is a file, not a "
                               "folder")  # fmt: skip
    assert [p.name for p in tmp_path.iterdir()] == ["a"]


# ------------------------------------------------------ non-UTF-8 bytes on standard input
@pytest.mark.parametrize("command", ["predict", "predict-prob"])
def test_stdin_that_is_not_utf8_names_the_line_and_the_byte(model, command) -> None:
    proc = _with_stdin(b"x y\ncaf\xe9 z\np q\n", command, str(model), "-")
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr.decode()
    assert err.strip().splitlines() == [
        f"danlu {command}: error: <stdin>:2: not UTF-8 text (byte 0xE9 at byte 4 of the line); "
        "convert it, e.g. iconv -f GBK -t UTF-8"
    ]


def test_a_file_that_is_not_utf8_still_names_its_line(model, tmp_path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"x y\ncaf\xe9 z\n")
    line = _one_line(run_danlu("predict", str(model), str(bad)))
    assert (
        line == f"danlu predict: error: {bad}:2: not UTF-8 (byte 0xe9); convert the file to UTF-8"
    )


# ------------------------------------------------------------ predict - < FILE is batched
def test_piped_stdin_is_predicted_in_batches_like_a_file(model, tmp_path, monkeypatch,
                                                         capsys) -> None:  # fmt: skip
    """``predict MODEL - < FILE``: a few calls of the model, not one per line (3x slower);
    the answers are those of the file given by name."""
    from danlu.tasks.text_classification.model import FastTextModel

    text = tmp_path / "text.txt"
    text.write_text("x y\np q w1\n" * 2500, encoding="utf-8")
    calls: list[int] = []
    predict_tokens = FastTextModel.predict_tokens

    def counted(self, lines, *args, **kwargs):
        calls.append(len(lines))
        return predict_tokens(self, lines, *args, **kwargs)

    monkeypatch.setattr(FastTextModel, "predict_tokens", counted)
    assert main(["predict", str(model), str(text)]) == 0
    by_name = capsys.readouterr().out
    with text.open(encoding="utf-8") as stdin:  # a file descriptor, as after a shell's <
        monkeypatch.setattr(sys, "stdin", stdin)
        calls.clear()
        assert main(["predict", str(model), "-"]) == 0
    assert capsys.readouterr().out == by_name
    assert by_name.count("\n") == 5000 and calls == [4096, 904]


# --------------------------------------------------------- raw Chinese, no -tokenizer
def test_chinese_without_spaces_gets_one_warning(tmp_path) -> None:
    data = tmp_path / "raw.txt"
    data.write_text("".join(f"__label__{i % 2} {RAW_CHINESE[i % 4]}{i}\n" for i in range(400)),
                    encoding="utf-8")  # fmt: skip
    proc = run_danlu("supervised", "-input", str(data), "-output", str(tmp_path / "m"),
                     "-thread", "1", "-verbose", "0")  # fmt: skip
    line = _one_line(proc, status=0)
    assert line.startswith(f"warning: most lines of {data} are Chinese without spaces (such as "
                           "'中华女子学院本科层次仅一专业招男生0')")  # fmt: skip
    assert line.endswith("): split at spaces, a line is one rare token and the model learns "
                         "little; pass -tokenizer jieba (words) or -tokenizer char "
                         "(characters)")  # fmt: skip
    assert (tmp_path / "m.safetensors").is_file()  # a warning, not an error
    proc = run_danlu("supervised", "-input", str(data), "-output", str(tmp_path / "c"),
                     "-tokenizer", "char", "-thread", "1", "-verbose", "0")  # fmt: skip
    assert proc.returncode == 0 and proc.stderr == ""


@pytest.mark.parametrize(("lines", "warned"), [
    (RAW_CHINESE, True),
    (["中华 女子 学院 本科 层次 仅 一 专业 招 男生", "两天 价 网站 背后 重重 迷雾"] * 2, False),
    (["the match ended with a late winner in the second half"] * 4, False),
    (RAW_CHINESE[:1] + ["中华 女子 学院"] * 3, False),  # a few long tokens: not most lines
])  # fmt: skip
def test_unsegmented_chinese_is_most_lines_with_a_long_han_token(tmp_path, lines, warned) -> None:
    from danlu.tasks.text_classification.data import unsegmented_chinese

    path = tmp_path / "t.txt"
    path.write_text("".join(f"__label__a {x}\n" for x in lines), encoding="utf-8")
    assert (unsegmented_chinese(path) is not None) == warned


# ------------------------------------------------- a network's run folder, PREFIX.run
def _network(data: Path, prefix: Path) -> list[str]:
    return ["supervised", "-input", str(data), "-output", str(prefix), "-model", "textcnn",
            "-dim", "8", "-epoch", "1", "-batch", "8", "-thread", "1", "-verbose", "0"]  # fmt: skip


def test_a_second_network_run_on_the_same_prefix_is_refused(tmp_path) -> None:
    data = tmp_path / "train.txt"
    data.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    prefix = tmp_path / "cnn"
    with claim_run_folder(f"{prefix}.run", resume=False, overwrite=True):  # a run in progress
        proc = run_danlu(*_network(data, prefix))
    line = _one_line(proc)
    assert line == (f"danlu supervised: error: {prefix}.run is in use by another danlu run "
                    f"(PID {os.getpid()}); wait for it to finish or choose another "
                    "-output")  # fmt: skip
    assert not Path(f"{prefix}.safetensors").exists()
    assert [p.name for p in Path(f"{prefix}.run").iterdir()] == [".danlu.lock"]


def test_a_network_run_replaces_the_files_of_the_earlier_one(tmp_path) -> None:
    data = tmp_path / "train.txt"
    data.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    prefix = tmp_path / "cnn"
    run = Path(f"{prefix}.run")
    assert main(_network(data, prefix)) == 0
    assert {"config.json", "metrics.jsonl", "metrics.json", "curves.png"} <= {
        p.name for p in run.iterdir()
    }
    (run / "inspect.png").write_bytes(b"from an older run")  # written with --inspect
    (run / "checkpoints").mkdir()
    (run / "checkpoints" / "step-1.pt").write_bytes(b"from an older run")
    (run / "notes.txt").write_text("mine\n", encoding="utf-8")  # not a run file: kept
    assert main(_network(data, prefix)) == 0
    assert not (run / "inspect.png").exists() and not (run / "checkpoints").exists()
    assert (run / "notes.txt").read_text(encoding="utf-8") == "mine\n"
    assert (run / "metrics.json").is_file()
