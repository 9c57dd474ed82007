"""Chinese word segmentation on real data: BiLSTM-CRF with character bigrams (issue 6).

SIGHAN 2008 SXU and People's Daily 1998-01, each with 5 % of its sentences held out as
dev (``danlu seg train``'s defaults: ``--dev-fraction 0.05 --split-seed 0``). The model
is ``danlu seg train``'s default (characters and the bigrams on both sides, random
embeddings, BiLSTM 200x2, CRF head, AdamW 2e-3, batch 64), trained for the epochs below
with the dev F1 evaluated after every epoch and the best epoch kept. Reported: SIGHAN word
P/R/F1 and OOV recall (words of the dev part never seen in training), and s/epoch with
two torch threads. Target: word F1 >= 95 on both.

``quick`` trains on 300 sentences for a few steps (a smoke test, not a result).
"""

from __future__ import annotations

import dataclasses
import gzip
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from _util import markdown_table
from danlu.tasks.tagging.config import SegTrainConfig
from danlu.tasks.tagging.train import train_segmenter

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
THREADS = 2
CORPORA = (
    ("SIGHAN 2008 SXU", DATA / "sighan2008-sxu" / "train.txt", 3),
    ("People's Daily 1998-01", DATA / "people-daily-199801" / "199801.txt.gz", 2),
)


def _lines(path: Path, out: Path, n: int) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        lines = [line for _, line in zip(range(n), fh, strict=False)]
    out.write_text("".join(lines), encoding="utf-8")
    return out


def _row(tmp: Path, name: str, path: Path, epochs: int, quick: bool) -> list[Any]:
    if quick:
        path = _lines(path, tmp / f"{path.stem}.small", 300)
    base = SegTrainConfig(train=str(path))
    optim = dataclasses.replace(base.optim, epochs=1 if quick else epochs, quiet=True,
                                max_steps=5 if quick else 0)  # fmt: skip
    cfg = dataclasses.replace(base, out=str(tmp / f"seg-{path.stem}"), optim=optim)
    m = train_segmenter(cfg)
    return [name, 100 * m["val_f1"], 100 * m["val_precision"], 100 * m["val_recall"],
            100 * m["val_oov_recall"], m["epochs"], m["seconds_per_epoch"],
            m["train_sentences"], m["dev_sentences"]]  # fmt: skip


def run(quick: bool = False) -> str:
    """Return the Markdown section (about 30 min on 2 cores)."""
    if not DATA.is_dir():
        return f"## Word segmentation\n\nSkipped: no datasets at {DATA}.\n"
    previous = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    t0 = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory() as name:
            rows = [_row(Path(name), *corpus, quick) for corpus in CORPORA]
    finally:
        torch.set_num_threads(previous)
    minutes = (time.perf_counter() - t0) / 60
    headers = ["corpus", "dev F1", "P", "R", "OOV recall", "epochs", "s/epoch",
               "train sentences", "dev sentences"]  # fmt: skip
    intro = (
        f"{'QUICK SMOKE RUN (tiny subsets, not results). ' if quick else ''}"
        "`danlu seg train`'s default model and optimiser; SIGHAN scoring on 5 % of train held "
        f"out as dev; CPU float32, torch threads {THREADS}. Target: word F1 >= 95. "
        f"Total {minutes:.1f} min."
    )
    title = "## Word segmentation: BiLSTM-CRF with character bigrams (real data)"
    return f"{title}\n\n{intro}\n\n{markdown_table(headers, rows)}\n"


if __name__ == "__main__":
    import sys

    print(run(quick="--quick" in sys.argv))
