"""Sequence labeling on real data: BiLSTM + CRF / MEMM / Bi-MEMM / softmax heads (issue 6).

Tables, all from one run on the CPU (float32, one torch thread: on a shared machine more
threads only contend, and both sides of every ratio run under the same setting):

1. ResumeNER (BMES, 8 types): entity-level dev F1 of the four heads on the same BiLSTM,
   trained for the same number of epochs, with seconds per epoch; ratios against the CRF.
   The reference point is Su Jianlin's post on MEMM vs CRF: CRF >= Bi-MEMM > MEMM > softmax
   in F1, MEMM faster to train.
2. Training throughput (sentences/s, forward + backward + AdamW step on the same fixed
   ResumeNER batches, interleaved) of BiLSTM-CRF vs BiLSTM-MEMM (and the other heads).
3. Weibo NER (BIO, NAM/NOM) with the CRF head.

Word segmentation is in ``bench_segmentation.py`` (a separate section: it trains longer).

The datasets are read from ``../shared/data`` beside the checkout. ``quick`` trains on a
few hundred sentences for a few steps (a smoke test of the whole table, not a result).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from _util import interleaved, markdown_table
from danlu.data.conll import read_conll
from danlu.tasks.tagging.config import TaggerOptions, TagTrainConfig
from danlu.tasks.tagging.model import Tagger
from danlu.tasks.tagging.ner import full_tag_set
from danlu.tasks.tagging.sequences import build_vocab
from danlu.tasks.tagging.train import make_spec, train_tagger, training_data
from danlu.train.config import TrainConfig

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
HEADS = ("crf", "memm", "bimemm", "softmax")
THREADS = 1
NER_MODEL = TaggerOptions(embedding_dim=64, hidden=128, dropout=0.3)


def _optim(epochs: int, quick: bool, **kw: Any) -> TrainConfig:
    base = {"epochs": epochs, "batch_size": 32, "lr": 3e-3, "grad_clip": 5.0, "quiet": True,
            "device": "cpu", "early_stop_metric": "val_f1"}  # fmt: skip
    if quick:
        base.update(epochs=1, max_steps=10)
    return TrainConfig(**{**base, **kw})


def _subset(path: Path, out: Path, sentences: int) -> Path:
    """The first ``sentences`` blank-line separated sentences of a CoNLL file."""
    blocks = path.read_text(encoding="utf-8").split("\n\n")[:sentences]
    out.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    return out


def _train_heads(tmp: Path, quick: bool, heads: tuple[str, ...] = HEADS
                 ) -> dict[str, dict[str, Any]]:  # fmt: skip
    root = DATA / "resume-ner"
    train, dev = root / "train.char.bmes", root / "dev.char.bmes"
    if quick:
        train, dev = _subset(train, tmp / "r_train", 300), _subset(dev, tmp / "r_dev", 60)
    results = {}
    for head in heads:
        opts = TaggerOptions(**{**NER_MODEL.__dict__, "head": head})
        cfg = TagTrainConfig(train=str(train), dev=str(dev), out=str(tmp / f"resume-{head}"),
                             model=opts, optim=_optim(3, quick))  # fmt: skip
        results[head] = train_tagger(cfg)
    return results


def _heads_table(results: dict[str, dict[str, Any]]) -> str:
    crf = results["crf"]
    rows = []
    for head, m in results.items():
        rows.append([
            f"BiLSTM-{head.upper() if head != 'bimemm' else 'Bi-MEMM'}",
            100 * m["val_f1"], 100 * m["val_precision"], 100 * m["val_recall"],
            m["epochs"], m["seconds_per_epoch"],
            f"{m['val_f1'] / crf['val_f1']:.3f}",
            f"{m['seconds_per_epoch'] / crf['seconds_per_epoch']:.2f}",
        ])  # fmt: skip
    headers = ["model", "dev F1", "P", "R", "epochs", "s/epoch", "F1 / CRF", "time / CRF"]
    return markdown_table(headers, rows)


def _throughput_table(quick: bool) -> str:
    """Training steps per second on fixed ResumeNER batches, every head interleaved."""
    sents = read_conll(DATA / "resume-ner" / "train.char.bmes")
    seqs, tags = [list(s.tokens) for s in sents], [list(s.tags) for s in sents]
    tag_set = full_tag_set([t for ts in tags for t in ts], "BMES")
    rng = np.random.default_rng(0)
    batches_idx = [rng.choice(len(seqs), 32, replace=False) for _ in range(3 if quick else 8)]
    steps: dict[str, Any] = {}
    for head in HEADS:
        opts = TaggerOptions(**{**NER_MODEL.__dict__, "head": head})
        spec = make_spec("ner", opts, build_vocab(seqs), tag_set, "BMES")
        data = training_data(spec, seqs, tags, list(range(len(seqs))), "resume", False)
        torch.manual_seed(0)
        model = Tagger(spec).train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        batches = [data.get(i) for i in batches_idx]

        def run(model=model, opt=opt, batches=batches) -> None:
            for b in batches:
                opt.zero_grad(set_to_none=True)
                model(b).backward()
                opt.step()

        steps[head] = run
    t = interleaved(steps, warmup=1, repeat=2 if quick else 5)
    n = 32 * len(batches_idx)
    rows = [[f"BiLSTM-{h}", n / t[h], f"{t['crf'] / t[h]:.2f}"] for h in HEADS]
    return markdown_table(["model", "sentences/s", "speed / CRF"], rows)


def _weibo_row(tmp: Path, quick: bool) -> list[Any]:
    root = DATA / "weibo-ner"
    train, dev = root / "weiboNER_2nd_conll.train", root / "weiboNER_2nd_conll.dev"
    if quick:
        train, dev = _subset(train, tmp / "w_train", 200), _subset(dev, tmp / "w_dev", 50)
    cfg = TagTrainConfig(train=str(train), dev=str(dev), out=str(tmp / "weibo"),
                         model=NER_MODEL, optim=_optim(10, quick, batch_size=16))  # fmt: skip
    m = train_tagger(cfg)
    return ["Weibo NER (BIO, 8 types)", "BiLSTM-CRF", 100 * m["val_f1"], 100 * m["val_precision"],
            100 * m["val_recall"], m["epochs"], m["seconds_per_epoch"]]  # fmt: skip


def run(quick: bool = False) -> str:
    """Return the Markdown section (trains every model; about 15 min on 2 cores)."""
    if not DATA.is_dir():
        return f"## Sequence labeling\n\nSkipped: no datasets at {DATA}.\n"
    previous = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    t0 = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory() as name:
            tmp = Path(name)
            heads = _heads_table(_train_heads(tmp, quick))
            speed = _throughput_table(quick)
            weibo = _weibo_row(tmp, quick)
    finally:
        torch.set_num_threads(previous)
    minutes = (time.perf_counter() - t0) / 60
    ner_model = f"emb {NER_MODEL.embedding_dim}, BiLSTM {NER_MODEL.hidden}x2"
    return "\n".join([
        "## Sequence labeling: BiLSTM + CRF / MEMM / Bi-MEMM / softmax, NER (real data)",
        "",
        f"{'QUICK SMOKE RUN (tiny subsets, not results). ' if quick else ''}"
        f"Characters with random embeddings ({ner_model}, dropout {NER_MODEL.dropout}), "
        "AdamW lr 3e-3, batch 32, grad clip 5, best dev epoch kept; CPU float32, torch threads "
        f"{THREADS}. s/epoch includes the dev evaluation. Total {minutes:.1f} min.",
        "Reference: Su Jianlin's MEMM-vs-CRF post (CRF ≥ Bi-MEMM > MEMM > softmax; MEMM trains "
        "faster).",
        "",
        "### ResumeNER dev, entity-level micro F1 (seqeval default mode, BMES)",
        "",
        heads,
        "",
        "### Training throughput on ResumeNER (fixed batches of 32, forward+backward+step)",
        "",
        speed,
        "",
        "### Weibo NER dev",
        "",
        markdown_table(["data", "model", "dev F1", "P", "R", "epochs", "s/epoch"], [weibo]),
        "",
    ])  # fmt: skip


if __name__ == "__main__":
    import sys

    print(run(quick="--quick" in sys.argv))
