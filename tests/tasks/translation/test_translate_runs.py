"""``danlu translate train|eval|run|align`` and ``danlu.translate`` on the shipped sample:
a tiny Transformer learns its 450 training pairs, and the commands around it behave."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from tests.conftest import danlu_env, run_danlu

from danlu import translate
from danlu.errors import UsageError
from danlu.io import save_arrays
from danlu.metrics.bleu import sacrebleu_scores
from danlu.tasks.demo_config import sample_path
from danlu.tasks.translation.data import read_pairs
from danlu.tasks.translation.model import build_model
from danlu.tasks.translation.translator import Translator, tokenizers_of

SAMPLE = sample_path("tatoeba_cmn_eng.txt")
RUN_FILES = ("config.json", "metrics.jsonl", "metrics.json", "model.safetensors", "curves.png",
             "spm.tgt.model")  # fmt: skip
TINY = ("--d-model", "64", "--layers", "1", "--heads", "2", "--spm-vocab", "300",
        "--batch-size", "32", "--lr", "3e-3", "--warmup", "50", "--threads", "1",
        "--device", "cpu", "--quiet")  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """A Transformer trained zh->en on the sample (50 pairs held out as dev), via the CLI."""
    out = tmp_path_factory.mktemp("translate") / "run"
    proc = run_danlu("translate", "train", "--train", str(SAMPLE), "--dev-size", "50",
                     "--epochs", "30", "--out", str(out), *TINY)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "dev BLEU" in proc.stdout and f"(run folder: {out})" in proc.stdout
    return out


def bleu_on_training_pairs(translator: Translator, n: int = 200) -> float:
    pairs = read_pairs(SAMPLE, src_col=2, tgt_col=1)
    hyps = translator.translate(pairs.src[:n], beam=1)
    return sacrebleu_scores(hyps, pairs.tgt[:n], "en")["bleu"]


def test_training_writes_the_run_files_and_the_model_learns(run) -> None:
    for name in RUN_FILES:
        assert (run / name).is_file(), name
    events = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    evals = [e for e in events if e["event"] == "eval"]
    assert len(evals) == 30 and all("val_bleu" in e and "val_chrf" in e for e in evals)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["val_bleu"] == max(e["val_bleu"] for e in evals)  # the best is kept
    assert metrics["train_pairs"] == 450 and metrics["dev_pairs"] == 50
    config = json.loads((run / "config.json").read_text())
    assert config["src_col"] == 2 and config["tgt_col"] == 1  # resolved and recorded

    trained = translate.load(run, device="cpu")
    torch.manual_seed(0)
    untrained = build_model(trained.spec).eval()
    fresh = Translator(untrained, trained.spec, *tokenizers_of(trained.spec, run))
    learned, chance = bleu_on_training_pairs(trained), bleu_on_training_pairs(fresh)
    assert learned > 20 and learned > chance + 15, (learned, chance)


def test_eval_prints_sacrebleu_lines_and_writes_the_translations(run, tmp_path) -> None:
    data = tmp_path / "test.tsv"
    data.write_text("".join(SAMPLE.read_text(encoding="utf-8").splitlines(True)[:40]),
                    encoding="utf-8")  # fmt: skip
    proc = run_danlu("translate", "eval", "--model", str(run), "--data", str(data), "--beam", "3",
                     "--out", str(tmp_path / "scores.json"), "--threads", "1")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    bleu_line, chrf_line = proc.stdout.strip().splitlines()
    assert bleu_line.startswith("BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|")
    assert chrf_line.startswith("chrF2|")
    scores = json.loads((tmp_path / "scores.json").read_text())
    hyps = (tmp_path / "scores.hyp.txt").read_text(encoding="utf-8").splitlines()
    assert len(hyps) == 40 and scores["sentences"] == 40 and scores["beam"] == 3
    assert f"= {scores['bleu']:.2f}" in bleu_line


def translate_stdin(run: Path, text: str, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "danlu", "translate", "run", "--model", str(run), "--threads", "1",
         *flags], input=text, capture_output=True, text=True, env=danlu_env(), timeout=120,
    )  # fmt: skip


def test_run_gives_one_line_per_input_line_in_order(run) -> None:
    lines = ["我们走吧。", "", "你好。", "汤姆在哪儿？", ""]
    proc = translate_stdin(run, "\n".join(lines) + "\n", "--beam", "3")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.split("\n")[:-1]
    assert len(out) == 5 and out[1] == "" and out[4] == "" and all(out[i] for i in (0, 2, 3))
    api = translate.load(run, device="cpu").translate(lines, beam=3)
    assert api == out  # the Python API gives the same translations

    nbest = translate_stdin(run, "我们走吧。\n\n", "--beam", "3", "--n-best", "2")
    assert nbest.returncode == 0, nbest.stderr
    rows = nbest.stdout.split("\n")[:-1]
    assert len(rows) == 4 and rows[2:] == ["", ""]
    scores = [float(r.split("\t")[0]) for r in rows[:2]]
    assert scores[0] >= scores[1] and rows[0].split("\t")[1] == out[0]


def test_align_draws_the_attention_of_one_sentence(run, tmp_path) -> None:
    png = tmp_path / "align.png"
    proc = run_danlu("translate", "align", "--model", str(run), "--text", "我们走吧。",
                     "--out", str(png), "--head", "2", "--threads", "1")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "source: 我 们 走 吧 。" in proc.stdout and "alignment: " in proc.stdout
    assert "cross-attention, mean of 1 layers, head 2" in proc.stdout
    bad = run_danlu("translate", "align", "--model", str(run), "--text", "你好", "--out",
                    str(png), "--layer", "2")  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.strip() == ("danlu translate align: error: --layer 2: the model has 1 "
                                  "layers; pick 1..1")  # fmt: skip


def test_the_python_api_refuses_what_it_cannot_do(run) -> None:
    model = translate.load(run, device="cpu")
    assert model.translate(["", "   "]) == ["", ""]
    with pytest.raises(UsageError, match="a list of sentences"):
        model.translate("你好。")
    with pytest.raises(UsageError, match=r"unknown decoding option\(s\) beam_size; valid: beam"):
        model.translate(["你好。"], beam_size=3)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("Hi.\t嗨。\nonly one column\n", ":2: 1 TAB-separated column(s), need 2"),
        ("Hi.\t嗨。\n".encode() + "Run.\t跑".encode("gbk") + b"\n", ":2: not UTF-8 text"),
    ],
    ids=["missing column", "not UTF-8"],
)
def test_bad_input_lines_are_one_line_and_status_2(tmp_path, content, message) -> None:
    data = tmp_path / "bad.tsv"
    data.write_bytes(content if isinstance(content, bytes) else content.encode())
    proc = run_danlu("translate", "train", "--train", str(data), "--dev-size", "0",
                     "--out", str(tmp_path / "run"), *TINY)  # fmt: skip
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert f"{data}{message}" in line


def test_a_model_folder_of_another_task_is_named(tmp_path) -> None:
    save_arrays(tmp_path / "model.safetensors", {"w": np.zeros(2)}, {"danlu_task": "tagging"})
    proc = run_danlu("translate", "eval", "--model", str(tmp_path), "--data", str(SAMPLE))
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"danlu translate eval: error: {tmp_path / 'model.safetensors'}: this is a danlu "
        "'tagging' model, not a translation model; pass a run folder written by danlu "
        "translate train"
    )
    with pytest.raises(UsageError, match="no model found"):
        translate.load(tmp_path / "nothing")


@pytest.mark.parametrize("model", ["gru_attn", "gru"])
def test_recurrent_models_train_with_every_remedy_and_align_if_they_attend(model, tmp_path
                                                                           ) -> None:  # fmt: skip
    from danlu.tasks.translation.align import draw_alignment
    from danlu.tasks.translation.config import (
        AlignConfig,
        DecodeOptions,
        ExposureOptions,
        ModelOptions,
        TrainTranslatorConfig,
    )
    from danlu.tasks.translation.train import train_translator
    from danlu.train.config import TrainConfig

    cfg = TrainTranslatorConfig(
        train=str(SAMPLE), out=str(tmp_path / model), dev_size=20, src_tokenizer="jieba",
        net=ModelOptions(model=model, d_model=16, layers=1, spm_vocab=200),
        exposure=ExposureOptions(token_noise=0.1, scheduled_sampling=5.0),
        optim=TrainConfig(epochs=1, max_steps=4, batch_size=16, adversarial=1.0, quiet=True,
                          device="cpu", threads=1, early_stop_metric="val_bleu"),
    )  # fmt: skip
    metrics = train_translator(cfg)
    assert metrics["steps"] == 4 and np.isfinite(metrics["train_loss"])
    align = AlignConfig(model=cfg.out, text="我们走吧。", out=str(tmp_path / "a.png"),
                        decode=DecodeOptions(beam=1), device="cpu")  # fmt: skip
    if model == "gru":
        with pytest.raises(UsageError, match="no attention over the source"):
            draw_alignment(align)
    else:
        info = draw_alignment(align)
        assert (tmp_path / "a.png").is_file() and info["what"] == "attention"
        assert info["source"] == ["我们", "走", "吧", "。"]  # jieba's words
