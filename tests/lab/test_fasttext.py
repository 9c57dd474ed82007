"""The lab's fastText helpers: the synthetic many-label file and a seeded training."""

from __future__ import annotations

from pathlib import Path

from danlu.lab.fasttext import synthetic_labels_file, train_fasttext_model


def test_the_synthetic_file_has_its_labels_and_words(tmp_path: Path) -> None:
    path = synthetic_labels_file(tmp_path / "s.txt", labels=7, lines=300, seed=0)
    rows = [line.split() for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 300 and all(len(r) == 11 for r in rows)
    labels = {r[0] for r in rows}
    assert labels == {f"__label__{k}" for k in range(7)}
    for r in rows:  # 4 words of the line's own label, 6 noise words
        own = r[0].removeprefix("__label__")
        assert sum(w.startswith(f"k{own}w") for w in r[1:]) == 4


def test_a_seeded_single_thread_training_is_reproducible(tmp_path: Path) -> None:
    path = synthetic_labels_file(tmp_path / "s.txt", labels=3, lines=60, seed=1)
    a = train_fasttext_model(path, epoch=2, seed=3, loss="hs")
    b = train_fasttext_model(path, epoch=2, seed=3, loss="hs")
    tokens = [["k0w1", "n5"], ["k2w3"]]
    assert (a.hidden(tokens) == b.hidden(tokens)).all()
