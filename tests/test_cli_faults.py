"""Faults a user can cause end in one clear line and lose nothing (issue 16, CLI level):
occupied, busy or impossible run folders, full disks, bad bytes on stdin, file modes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.conftest import REPO, danlu_env, run_danlu

from danlu.tasks.demo_config import sample_path

WINE = str(sample_path("wine.csv"))
FIXTURES = REPO / "tests" / "fixtures" / "models_v0"


def tabular(out: Path, *extra: str, epochs: int = 2) -> list[str]:
    return ["tabular", "train", "--data", WINE, "--target", "cultivar", "--hidden", "8",
            "--epochs", str(epochs), "--quiet", "--out", str(out), *extra]  # fmt: skip


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith("note:")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_a_folder_holding_a_run_is_refused_unless_resumed_or_overwritten(tmp_path) -> None:
    out = tmp_path / "run"
    run_danlu(*tabular(out, "--folds", "2"), check=True)
    before = (out / "model.safetensors").read_bytes()
    proc = run_danlu(*tabular(out))
    assert proc.returncode == 2
    assert "already holds a run (config.json, metrics.jsonl, metrics.json, model.safetensors"\
        in one_line(proc) and "--overwrite to replace it" in one_line(proc)  # fmt: skip
    assert (out / "model.safetensors").read_bytes() == before  # nothing touched
    run_danlu(*tabular(out, "--overwrite"), check=True)
    assert not list(out.glob("fold-*"))  # the old run's folds are gone with it
    assert (out / "model.safetensors").read_bytes() != before


def test_another_tasks_run_is_refused_too(tmp_path) -> None:
    out = tmp_path / "run"
    shutil.copytree(FIXTURES, out / "ignored")  # a user's own files do not count...
    (out / "model.safetensors").write_bytes((FIXTURES / "tagging_ner.safetensors").read_bytes())
    proc = run_danlu(*tabular(out))
    assert proc.returncode == 2 and "already holds a run (model.safetensors)" in one_line(proc)


def test_a_second_run_on_the_same_folder_names_the_first_ones_pid(tmp_path) -> None:
    out = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-m", "danlu", *tabular(out, epochs=400)],
                             env=danlu_env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)  # fmt: skip
    lock = out / ".danlu.lock"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (lock.exists() and lock.read_text().strip()):
        time.sleep(0.05)
    try:
        second = run_danlu(*tabular(out, "--resume"))
        assert first.poll() is None, "the first run ended before the second started"
    finally:
        first.wait(timeout=300)
    assert second.returncode == 2
    assert one_line(second) == (f"danlu tabular train: error: {out} is in use by another danlu "
                                f"run (PID {first.pid}); wait for it to finish or choose "
                                "another --out")  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert (out / "metrics.json").is_file()


@pytest.mark.parametrize("where", ["file", "under a file"])
def test_an_impossible_out_is_refused_before_any_data_is_read(tmp_path, where) -> None:
    blocker = tmp_path / "f"
    blocker.write_text("mine")
    out = blocker if where == "file" else blocker / "run"
    argv = tabular(out)
    argv[argv.index("--data") + 1] = str(tmp_path / "missing.csv")  # never read
    proc = run_danlu(*argv)
    assert proc.returncode == 2
    assert "--out" in one_line(proc) and "is a file" in one_line(proc)
    assert blocker.read_text() == "mine"


def _tmpfs_runner(size: str) -> list[str] | None:
    """A command prefix running its command with a tmpfs of ``size`` on /mnt (a private
    mount namespace), or None where this machine does not allow it."""
    if shutil.which("unshare") is None:
        return None
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
                           capture_output=True)  # fmt: skip
    if probe.returncode != 0:
        return None
    return ["unshare", "-rm", "sh", "-c", f'mount -t tmpfs -o size={size} tmpfs /mnt && "$@"',
            "sh"]  # fmt: skip


def test_a_full_disk_is_one_line_and_keeps_the_last_good_checkpoint(tmp_path) -> None:
    runner = _tmpfs_runner("2m")
    if runner is None:
        pytest.skip("cannot mount a small tmpfs here (unshare -rm)")
    # a checkpoint of this MLP with Adam takes ~0.85 MB: two fit in the 2 MB disk, the
    # third (one per epoch) does not. The tmpfs vanishes with the process: copy it out.
    script = (
        "import shutil, sys\nfrom danlu.cli import main\nstatus = main(sys.argv[2:])\n"
        "shutil.copytree('/mnt/run', sys.argv[1])\nraise SystemExit(status)\n"
    )
    argv = tabular(Path("/mnt/run"), "--hidden", "256,256", "--batch-size", "16",
                   "--checkpoint-every", "9", "--keep-checkpoints", "3", epochs=3)  # fmt: skip
    left = tmp_path / "left"
    proc = subprocess.run([*runner, sys.executable, "-c", script, str(left), *argv],
                          capture_output=True, text=True, env=danlu_env(), timeout=300)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    line = one_line(proc)
    assert line.startswith("danlu tabular train: error: could not write /mnt/run/checkpoints/")
    assert "no space left on its disk" in line and " needed, " in line and " free; " in line
    assert not [p for p in left.rglob("*") if ".tmp-" in p.name]  # no half-written file
    import torch

    kept = sorted((left / "checkpoints").glob("step-*.pt"))
    assert len(kept) == 2
    assert torch.load(kept[-1], weights_only=True)["train_state"]["step"] == 18


def test_bad_bytes_on_stdin_name_the_line_and_byte() -> None:
    text = "北京\n".encode() + "上海".encode("gbk") + b"\n"
    for argv in (
        ["tag", "predict", "--model", str(FIXTURES / "tagging_ner.safetensors")],
        ["seg", "cut", "--model", str(FIXTURES / "tagging_seg.safetensors")],
    ):
        proc = subprocess.run([sys.executable, "-m", "danlu", *argv], input=text,
                              capture_output=True, env=danlu_env(), timeout=120)  # fmt: skip
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.decode().strip().splitlines()
        assert len(lines) == 1 and lines[0].endswith(
            "error: <stdin>:2: not UTF-8 text (byte 0xC9 at byte 1 of the line); convert it, "
            "e.g. iconv -f GBK -t UTF-8"), lines  # fmt: skip
        assert len(proc.stdout.decode().splitlines()) == 1  # the good line was answered


def test_run_files_follow_the_umask(tmp_path) -> None:
    run_danlu(*tabular(tmp_path / "run"), check=True)
    umask = os.umask(0)
    os.umask(umask)
    for name in ("model.safetensors", "config.json", "metrics.json", "curves.png"):
        assert (tmp_path / "run" / name).stat().st_mode & 0o777 == 0o666 & ~umask, name


@pytest.mark.parametrize("command", ["tag", "seg"])
def test_a_training_file_that_is_not_utf8_names_its_line(tmp_path, command) -> None:
    path = tmp_path / "train.txt"
    if command == "tag":
        path.write_bytes("北 B-LOC\n京 I-LOC\n\n".encode() + "上 B-LOC\n".encode("gbk"))
    else:
        path.write_bytes("北京 欢迎 你\n".encode() + "上海\n".encode("gbk"))
    proc = run_danlu(command, "train", "--train", str(path), "--out", str(tmp_path / "run"))
    assert proc.returncode == 2
    assert f"{path}:{4 if command == 'tag' else 2}: not UTF-8 text" in one_line(proc)
