"""Kill a real training process with SIGKILL, resume it, and get a bitwise-identical run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO, danlu_env, run_danlu

from danlu.train.checkpoint import list_checkpoints

ARGS = [
    "tabular", "train", "--data", str(REPO / "src/danlu/samples/wine.csv"),
    "--target", "cultivar", "--task", "classification", "--hidden", "16",
    "--dropout", "0.2", "--epochs", "150", "--batch-size", "8", "--lr", "3e-3",
    "--seed", "7", "--device", "cpu", "--checkpoint-every", "200", "--quiet",
]  # fmt: skip


def events_without_times(path: Path) -> list[dict]:
    drop = ("elapsed", "samples_per_s")
    return [{k: v for k, v in json.loads(line).items() if k not in drop}
            for line in path.read_text().splitlines()]  # fmt: skip


def test_sigkill_then_resume_matches_an_uninterrupted_run(tmp_path) -> None:
    reference = tmp_path / "reference"
    run_danlu(*ARGS, "--out", str(reference), check=True)

    crashed = tmp_path / "crashed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "danlu", *ARGS, "--out", str(crashed)],
        env=danlu_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        found = list_checkpoints(crashed / "checkpoints")
        if found and int(found[-1].stem.split("-")[1]) >= 600:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "training ended before it could be killed; make it longer"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not (crashed / "model.safetensors").exists()  # it really died mid-run
    steps = [int(p.stem.split("-")[1]) for p in list_checkpoints(crashed / "checkpoints")]
    assert steps and max(steps) < 2700

    run_danlu(*ARGS, "--out", str(crashed), "--resume", check=True)
    assert (crashed / "model.safetensors").read_bytes() == (
        reference / "model.safetensors"
    ).read_bytes()
    drop = {"train_seconds"}
    final = {
        k: v for k, v in json.loads((crashed / "metrics.json").read_text()).items() if k not in drop
    }
    ref = {
        k: v
        for k, v in json.loads((reference / "metrics.json").read_text()).items()
        if k not in drop
    }
    assert final == ref
    assert events_without_times(crashed / "metrics.jsonl") == events_without_times(
        reference / "metrics.jsonl"
    )
