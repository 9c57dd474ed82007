"""Decoding direction in the translation task: ``--right-to-left`` (a model of the reversed
targets whose outputs come back in reading order) and ``--bidirectional`` (L2R and R2L
decoders trained together, searched together)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from danlu.errors import UsageError
from danlu.metrics.bleu import sacrebleu_scores
from danlu.tasks.demo_config import sample_path
from danlu.tasks.translation.align import draw_alignment
from danlu.tasks.translation.batches import Batch, PairData, both_directions
from danlu.tasks.translation.config import (
    AlignConfig,
    DecodeOptions,
    ExposureOptions,
    ModelOptions,
    TrainTranslatorConfig,
)
from danlu.tasks.translation.data import PAD, read_pairs
from danlu.tasks.translation.exposure import TranslationLoss
from danlu.tasks.translation.model import load_model
from danlu.tasks.translation.train import train_translator
from danlu.tasks.translation.translator import load_translator
from danlu.train.config import TrainConfig

SAMPLE = sample_path("tatoeba_cmn_eng.txt")


def test_both_directions_reverses_each_target_before_its_eos() -> None:
    data = PairData([np.array([5]), np.array([6])], [np.array([7, 8, 9]), np.array([10])],
                    batch_size=2)  # fmt: skip
    batch = data.get(np.arange(len(data)))  # both sentences
    paired = both_directions(batch)
    assert paired.tgt_in.shape == (*batch.tgt_in.shape, 2)
    assert paired.tgt_in[..., 0].equal(batch.tgt_in) and paired.tgt_out[..., 0].equal(batch.tgt_out)
    rows = {tuple(r[r != PAD].tolist()) for r in paired.tgt_out[..., 1]}
    assert rows == {(9, 8, 7, 3), (10, 3)}  # y_n .. y_1 EOS
    rows = {tuple(r[r != PAD].tolist()) for r in paired.tgt_in[..., 1]}
    assert rows == {(2, 9, 8, 7), (2, 10)}  # BOS y_n .. y_1
    assert (paired.tgt_in[..., 1] == PAD).equal(batch.tgt_in == PAD)  # padding in place


def _config(out: Path, **net: object) -> TrainTranslatorConfig:
    return TrainTranslatorConfig(
        train=str(SAMPLE), out=str(out), dev_size=50,
        net=ModelOptions(d_model=64, layers=1, heads=2, spm_vocab=300, **net),  # type: ignore[arg-type]
        optim=TrainConfig(epochs=30, batch_size=32, lr=3e-3, warmup=50, quiet=True,
                          device="cpu", threads=1, early_stop_metric="val_bleu"),
    )  # fmt: skip


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """A right-to-left and a bidirectional Transformer trained on the sample."""
    root = tmp_path_factory.mktemp("directions")
    found = {}
    for name, flags in (("r2l", {"right_to_left": True}), ("both", {"bidirectional": True})):
        train_translator(_config(root / name, **flags))
        found[name] = root / name
    return found


def _training_bleu(run: Path, **decode: object) -> float:
    pairs = read_pairs(SAMPLE, src_col=2, tgt_col=1)
    hyps = load_translator(run, device="cpu").translate(pairs.src[:200], **decode)
    return sacrebleu_scores(hyps, pairs.tgt[:200], "en")["bleu"]


def test_a_right_to_left_model_learns_and_answers_in_reading_order(runs) -> None:
    _, spec = load_model(runs["r2l"])
    assert spec.direction == "r2l"
    # BLEU of reversed word order would be near 0: a high score means reading order
    assert _training_bleu(runs["r2l"], beam=1) > 20
    assert _training_bleu(runs["r2l"], beam=3) > 20


@pytest.mark.parametrize("directions", ["both", "l2r", "r2l"])
def test_a_bidirectional_model_learns_in_each_direction(runs, directions) -> None:
    _, spec = load_model(runs["both"])
    assert spec.direction == "both"
    assert _training_bleu(runs["both"], beam=3, directions=directions) > 20
    assert _training_bleu(runs["both"], beam=1, directions=directions) > 20


def test_both_directions_pick_the_better_scored_output(runs) -> None:
    translator = load_translator(runs["both"], device="cpu")
    lines = read_pairs(SAMPLE, src_col=2, tgt_col=1).src[:40]
    found = {d: translator.search(lines, DecodeOptions(beam=3, directions=d))
             for d in ("both", "l2r", "r2l")}  # fmt: skip
    for i in range(len(lines)):
        both, l2r, r2l = (found[d][i][0] for d in ("both", "l2r", "r2l"))
        assert both.score == pytest.approx(max(l2r.score, r2l.score), abs=1e-5)
        assert both.text in (l2r.text, r2l.text)


@pytest.mark.parametrize("name", ["r2l", "both"])
def test_align_reads_each_kind_of_model(runs, name, tmp_path) -> None:
    png = tmp_path / "a.png"
    info = draw_alignment(AlignConfig(model=str(runs[name]), text="我们走吧。", out=str(png),
                                      device="cpu"))  # fmt: skip
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert info["source"] == list("我们走吧。") and info["output"][-1] == "</s>"
    translation = info["translation"].replace(" ", "")
    assert "".join(info["output"][:-1]).replace("\u2581", "") == translation


def test_the_direction_options_refuse_what_cannot_work(runs, tmp_path) -> None:
    with pytest.raises(UsageError, match="--bidirectional applies to --model transformer"):
        ModelOptions(model="gru_attn", bidirectional=True)
    with pytest.raises(UsageError, match="drop --right-to-left"):
        ModelOptions(bidirectional=True, right_to_left=True)
    with pytest.raises(UsageError, match="not available with --bidirectional"):
        TrainTranslatorConfig(train="x.tsv", net=ModelOptions(bidirectional=True),
                              optim=TrainConfig(adversarial=0.5))  # fmt: skip
    with pytest.raises(UsageError, match="--directions l2r chooses a decoder"):
        load_translator(runs["r2l"], device="cpu").translate(["你好。"], directions="l2r")


def test_remedies_apply_to_both_directions() -> None:
    from danlu.tasks.translation.model import TranslationSpec, build_model

    spec = TranslationSpec("transformer", '{"d_model": 16, "heads": 2, "num_decoder_layers": 1,'
                           ' "num_encoder_layers": 1}', "zh", "en", "char", "char",
                           tuple("abcdefgh"), tuple("abcdefgh"), 20, direction="both")  # fmt: skip
    torch.manual_seed(0)
    model = build_model(spec)
    batch = Batch(torch.tensor([[4, 5, 6]]), torch.tensor([[True] * 3]),
                  torch.tensor([[2, 4, 5, 0]]), torch.tensor([[4, 5, 3, 0]]))  # fmt: skip
    loss = TranslationLoss(8, model.tgt_embedding, 0.1, token_noise=0.5, scheduled_sampling=2.0,
                           bidirectional=True)  # fmt: skip
    value = loss(model, batch)
    value.backward()
    assert value.ndim == 0 and torch.isfinite(value)
    inputs = loss.decoder_inputs(model, both_directions(batch))
    assert inputs.shape == (1, 4, 2) and inputs[0, 0].tolist() == [2, 2]
    assert inputs[0, 3].tolist() == [PAD, PAD]  # padding is never replaced
    assert ExposureOptions(token_noise=0.5).token_noise == 0.5
