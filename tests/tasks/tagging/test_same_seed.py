"""The same ``--seed`` gives the same weights: two short trainings per task on a real sample
write byte-identical ``model.safetensors`` tensors (and a different seed does not)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from danlu.tasks.demo import sample_path
from danlu.tasks.tagging.config import SegTrainConfig, TaggerOptions, TagTrainConfig
from danlu.tasks.tagging.train import train_segmenter, train_tagger
from danlu.train.checkpoint import load_safetensors
from danlu.train.config import TrainConfig

# dropout on, bigrams on for seg: every random draw of a training step is exercised
SMALL = TaggerOptions(embedding_dim=16, hidden=16, dropout=0.3)
TASKS = {
    "ner": (TagTrainConfig, train_tagger, "gsd_ner.txt", SMALL),
    "seg": (SegTrainConfig, train_segmenter, "gsd_seg.txt",
            TaggerOptions(embedding_dim=16, hidden=16, bigrams=True, bigram_dim=8)),
}  # fmt: skip


def _weights(task: str, out: Path, seed: int) -> dict[str, torch.Tensor]:
    cls, train, sample, model = TASKS[task]
    optim = TrainConfig(epochs=1, max_steps=6, batch_size=16, lr=5e-3, quiet=True,
                        device="cpu", seed=seed, early_stop_metric="val_f1")  # fmt: skip
    train(cls(train=str(sample_path(sample)), out=str(out), dev_fraction=0.2, model=model,
              optim=optim))  # fmt: skip
    return load_safetensors(out / "model.safetensors")


@pytest.mark.parametrize("task", list(TASKS))
def test_same_seed_same_weights(task: str, tmp_path: Path) -> None:
    a = _weights(task, tmp_path / "a", seed=7)
    b = _weights(task, tmp_path / "b", seed=7)
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].dtype == b[name].dtype and a[name].shape == b[name].shape, name
        assert a[name].numpy().tobytes() == b[name].numpy().tobytes(), name
    c = _weights(task, tmp_path / "c", seed=8)
    assert any(not torch.equal(a[name], c[name]) for name in a)
