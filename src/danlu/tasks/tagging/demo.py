"""The tagging task's entries in ``danlu demo``: NER and word segmentation on 115 sentences
of Chinese Wikipedia text (UD Chinese GSDSimp / Universal NER, shipped in the package)."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from danlu.tasks.demo_config import Demo, sample_path
from danlu.train.config import TrainConfig

__all__ = ["DEMOS"]


def _train(task: str, out: Path, device: str) -> dict[str, Any]:
    """A small BiLSTM-CRF (64-dimensional characters and states) on the task's sample."""
    from danlu.tasks.tagging import config
    from danlu.tasks.tagging.train import train_segmenter, train_tagger

    cls, train, sample, epochs = {
        "ner": (config.TagTrainConfig, train_tagger, "gsd_ner.txt", 12),
        "seg": (config.SegTrainConfig, train_segmenter, "gsd_seg.txt", 8),
    }[task]
    cfg = cls(
        train=str(sample_path(sample)), out=str(out), dev_fraction=0.15,
        model=config.TaggerOptions(head="crf", embedding_dim=64, hidden=64),
        optim=TrainConfig(epochs=epochs, batch_size=8, lr=5e-3, grad_clip=5.0, device=device,
                          quiet=True, early_stop_metric="val_f1", overwrite=True),
    )  # fmt: skip
    return train(cfg)


DEMOS: tuple[Demo, ...] = (
    Demo("tagging-ner", "NER (BiLSTM-CRF, characters, BIO)",
         "UNER Chinese GSDSimp, 115 sentences: PER/LOC/ORG/OTH", "val_f1", partial(_train, "ner")),
    Demo("tagging-seg", "word segmentation (BiLSTM-CRF, BMES)",
         "UD Chinese GSDSimp, 115 sentences", "val_f1", partial(_train, "seg")),
)  # fmt: skip
