"""The translation task's entry in ``danlu demo``: a small Transformer, Chinese to English,
on 500 short Tatoeba pairs shipped in the package (``samples/tatoeba_cmn_eng.txt``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from danlu.tasks.demo_config import Demo, sample_path
from danlu.train.config import TrainConfig

__all__ = ["DEMOS"]

SAMPLE = "tatoeba_cmn_eng.txt"


def _train(out: Path, device: str) -> dict[str, Any]:
    """A two-layer, 128-wide Transformer; dev BLEU on 50 held-out pairs (about 8: a corpus
    of 450 pairs teaches little beyond itself)."""
    from danlu.tasks.translation.config import ModelOptions, TrainTranslatorConfig
    from danlu.tasks.translation.train import train_translator

    cfg = TrainTranslatorConfig(
        train=str(sample_path(SAMPLE)), out=str(out), dev_size=50,
        net=ModelOptions(d_model=128, layers=2, heads=4, spm_vocab=300),
        optim=TrainConfig(epochs=25, batch_size=32, lr=3e-3, weight_decay=0.01,
                          schedule="linear", warmup=50, grad_clip=1.0, device=device,
                          quiet=True, early_stop_metric="val_bleu", overwrite=True),
    )  # fmt: skip
    return train_translator(cfg)


DEMOS: tuple[Demo, ...] = (
    Demo("translation-zh-en", "translation zh->en (Transformer)",
         "Tatoeba cmn-eng, 500 short pairs", "val_bleu", _train),
)  # fmt: skip
