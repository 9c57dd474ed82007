"""torchrun with 2 CPU processes (gloo) equals one process with the same global batch."""

from __future__ import annotations

import json
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


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed missing")
def test_translation_under_torchrun_takes_the_steps_of_one_process(tmp_path) -> None:
    # the length groups are split across the processes and each share is weighted by its
    # target tokens, so two processes take the step one takes (no dropout: its draws differ)
    args = ["translate", "train", "--train", str(REPO / "src/danlu/samples/tatoeba_cmn_eng.txt"),
            "--dev-size", "0", "--d-model", "32", "--layers", "1", "--heads", "2",
            "--spm-vocab", "200", "--dropout", "0", "--batch-size", "48", "--epochs", "2",
            "--warmup", "5", "--device", "cpu", "--threads", "1", "--quiet"]  # fmt: skip
    single = tmp_path / "single"
    run_danlu(*args, "--out", str(single), check=True)
    ddp = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "danlu", *args, "--out", str(ddp)]  # fmt: skip
    proc = subprocess.run(cmd, env=danlu_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    w1 = load_safetensors(single / "model.safetensors")
    w2 = load_safetensors(ddp / "model.safetensors")
    assert set(w1) == set(w2) and (single / "spm.tgt.model").is_file()
    for key in w1:
        # the query/key biases get gradients near 0 (exactly 0 for a key bias: softmax
        # ignores a constant), which Adam scales up to full steps of float32 rounding noise
        loose = key.endswith("in_proj_bias")
        torch.testing.assert_close(w2[key], w1[key], rtol=1e-4, atol=3e-4 if loose else 1e-5,
                                   msg=key)  # fmt: skip
    losses = [json.loads((run / "metrics.json").read_text())["train_loss"] for run in (single, ddp)]
    assert losses[1] == pytest.approx(losses[0], rel=1e-4)  # logged as the global-batch mean
