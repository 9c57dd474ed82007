"""torchrun with 2 CPU processes (gloo) equals one process with the same global batch."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from tests.conftest import REPO, danlu_env, run_danlu

from danlu.train.checkpoint import load_safetensors

ARGS = [
    "tabular", "train", "--data", str(REPO / "src/danlu/samples/wine.csv"),
    "--target", "alcohol", "--hidden", "16,8", "--epochs", "4", "--batch-size", "32",
    "--lr", "1e-2", "--seed", "3", "--device", "cpu", "--quiet",
]  # fmt: skip


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed missing")
def test_two_process_ddp_matches_single_process(tmp_path) -> None:
    single = tmp_path / "single"
    run_danlu(*ARGS, "--out", str(single), check=True)

    ddp = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "danlu", *ARGS, "--out", str(ddp)]  # fmt: skip
    proc = subprocess.run(cmd, env=danlu_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]

    w1 = load_safetensors(single / "model.safetensors")
    w2 = load_safetensors(ddp / "model.safetensors")
    assert set(w1) == set(w2)
    moved = load_safetensors(single / "model.safetensors")["mlp.layers.0.weight"]
    assert moved.abs().sum() > 0
    for key in w1:
        torch.testing.assert_close(w2[key], w1[key], rtol=1e-4, atol=1e-5, msg=key)


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed missing")
def test_tagger_trains_under_torchrun(tmp_path) -> None:
    out = tmp_path / "ner"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "danlu", "tag", "train", "--train", str(REPO / "src/danlu/samples/gsd_ner.txt"),
           "--epochs", "1", "--hidden", "16", "--embedding-dim", "16", "--device", "cpu",
           "--quiet", "--out", str(out)]  # fmt: skip
    proc = subprocess.run(cmd, env=danlu_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (out / "model.safetensors").is_file()
    assert (out / "metrics.json").is_file()
