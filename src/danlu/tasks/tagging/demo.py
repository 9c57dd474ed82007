"""The tagging task's entries in ``danlu demo``: NER and word segmentation on 115 sentences
of Chinese Wikipedia text (UD Chinese GSDSimp / Universal NER, shipped in the package)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from danlu.tasks.demo_config import Demo, sample_path
from danlu.train.config import TrainConfig

__all__ = ["DEMOS"]


def _demo_train(device: str, epochs: int) -> TrainConfig:
    return TrainConfig(epochs=epochs, batch_size=8, lr=5e-3, grad_clip=5.0, device=device,
                       quiet=True, early_stop_metric="val_f1")  # fmt: skip


def _ner(out: Path, device: str) -> dict[str, Any]:
    from danlu.tasks.tagging.config import TaggerOptions, TagTrainConfig
    from danlu.tasks.tagging.train import train_tagger

    cfg = TagTrainConfig(
        train=str(sample_path("gsd_ner.txt")), out=str(out), dev_fraction=0.15,
        model=TaggerOptions(head="crf", embedding_dim=64, hidden=64),
        optim=_demo_train(device, 12),
    )  # fmt: skip
    return train_tagger(cfg)


def _seg(out: Path, device: str) -> dict[str, Any]:
    from danlu.tasks.tagging.config import SegTrainConfig, TaggerOptions
    from danlu.tasks.tagging.seg import train_segmenter

    cfg = SegTrainConfig(
        train=str(sample_path("gsd_seg.txt")), out=str(out), dev_fraction=0.15,
        model=TaggerOptions(head="crf", embedding_dim=64, hidden=64),
        optim=_demo_train(device, 8),
    )  # fmt: skip
    return train_segmenter(cfg)


DEMOS: tuple[Demo, ...] = (
    Demo("tagging-ner", "NER (BiLSTM-CRF, characters, BIO)",
         "UNER Chinese GSDSimp, 115 sentences: PER/LOC/ORG/OTH", "val_f1", _ner),
    Demo("tagging-seg", "word segmentation (BiLSTM-CRF, BMES)",
         "UD Chinese GSDSimp, 115 sentences", "val_f1", _seg),
)  # fmt: skip
