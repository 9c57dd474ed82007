"""danlu's fastText classifier against the official fastText (``fasttext-numpy2``), one run.

THUCNews titles (``../shared/data/thucnews``: 45,000 train, 10,000 dev, 10 classes),
segmented with jieba once (not timed) into fastText ``__label__`` files. For each setting
both tools train as separate processes, so interpreter start-up and imports count, exactly
as a user sees it: ``danlu supervised ...`` against
``python -c "import fasttext; fasttext.train_supervised(...).save_model(...)"``. Reported:

- dev accuracy (P@1) of each as mean ± sd over ``SEEDS`` seeds (seed 0 is the timed run; one
  run is one visiting order and one initialisation, worth about ±0.2 points, too noisy to
  rank two tools by), whole-process training time (command start to model file written; the
  best of ``REPEATS`` interleaved runs at seed 0) and peak resident memory
  (``/usr/bin/time``), with danlu/official ratios;
- prediction throughput (lines/s, Python API, all dev lines in one call, best of 7
  interleaved rounds after a warm-up call on 100 lines);
- ``danlu quantize``: size, accuracy and time, int8 and product quantization;
- multi-label bdci-car-2018 (fixed 80/20 split by ``content_id``): micro-F1 of ``-loss zlpr``
  and ``-loss ova``;
- start-up against per-epoch cost (``-wordNgrams 1``): the interpreter and imports alone
  (``python -c "import fasttext"`` against importing ``danlu.cli`` and the trainer, median of
  5), and
  from the whole-process times at ``-epoch 5`` and ``-epoch 25`` the cost of one epoch,
  ``(t25 - t5) / 20``, and the fixed cost (start-up, reading, dictionary, saving),
  ``t5 - 5 x epoch``;
- the visiting order: the official fastText reads the training file in its given order every
  epoch, danlu reshuffles it each epoch. For ``hs`` and ``ova`` the official tool also trains
  on a copy of the file shuffled with each seed, next to its runs on the file as given.

Targets (issue 5): accuracy >= official; time <= 1.5x at ``-epoch 5``, <= 1.0x at 25;
throughput >= official; memory <= 1.5x.
"""

from __future__ import annotations

import csv
import logging
import math
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from _util import markdown_table

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PY = sys.executable
REPEATS = 3
SEEDS = 4


def _segment(src: Path, dst: Path) -> None:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    with src.open(encoding="utf-8") as f, dst.open("w", encoding="utf-8") as out:
        for line in f:
            text, label = line.rstrip("\n").rsplit("\t", 1)
            words = " ".join(w for w in jieba.cut(text) if w.strip())
            out.write(f"__label__{label} {words}\n")


def _timed(cmd: list[str]) -> tuple[float, int]:
    """(wall seconds, peak RSS in MB) of one process."""
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return wall, int(proc.stderr.strip().splitlines()[-1]) // 1024


def _official_cmd(train: Path, out: Path, opts: dict) -> list[str]:
    args = ", ".join(f"{k}={v!r}" for k, v in opts.items())
    code = (f"import fasttext; fasttext.train_supervised({str(train)!r}, verbose=0, {args})"
            f".save_model({str(out)!r})")  # fmt: skip
    return [PY, "-c", code]


def _danlu_cmd(train: Path, prefix: Path, opts: dict) -> list[str]:
    flags = [x for k, v in opts.items() for x in (f"-{k}", str(v))]
    return [PY, "-m", "danlu", "supervised", "-input", str(train), "-output", str(prefix),
            "-verbose", "0", *flags]  # fmt: skip


def _compare(tmp: Path, train: Path, dev: Path, opts: dict, repeats: int, seeds: int) -> dict:
    import fasttext as official_ft

    from danlu import fasttext as danlu_ft

    off_path, our_prefix = tmp / "official.bin", tmp / "danlu"
    off, ours = [], []
    for _ in range(repeats):  # interleaved, so both see the same machine load
        off.append(_timed(_official_cmd(train, off_path, opts)))
        ours.append(_timed(_danlu_cmd(train, our_prefix, opts)))
    off_model = official_ft.load_model(str(off_path))
    our_model = danlu_ft.load_model(str(our_prefix) + ".safetensors")
    texts = [x.split(" ", 1)[1] for x in dev.read_text(encoding="utf-8").splitlines()]
    models = (off_model, our_model)
    for model in models:
        model.predict(texts[:100], k=1)  # one-time set-up (danlu hashes its vocabulary)
    best = [float("inf")] * 2
    for _ in range(7):  # interleaved rounds: a call takes ~50 ms, so noise hits both alike
        for i, model in enumerate(models):
            t0 = time.perf_counter()
            model.predict(texts, k=1)
            best[i] = min(best[i], time.perf_counter() - t0)
    speeds = [len(texts) / b for b in best]
    off_acc, our_acc = [off_model.test(str(dev))[1]], [our_model.test(str(dev))[1]]
    for seed in range(1, seeds):  # more seeds in-process: only the accuracy is wanted
        api = {**opts, "verbose": 0, "seed": seed}
        off_acc.append(_accuracy(partial(official_ft.train_supervised, str(train), **api), dev))
        our_acc.append(_accuracy(partial(danlu_ft.train_supervised, input=str(train), **api), dev))
    return {
        "acc": (off_acc, our_acc),
        "time": (min(w for w, _ in off), min(w for w, _ in ours)),
        "mem": (max(m for _, m in off), max(m for _, m in ours)),
        "speed": tuple(speeds),
        "our_file": Path(str(our_prefix) + ".safetensors"),
        "official_file": off_path,
    }


def _bdci(tmp: Path) -> list[list[object]]:
    """Multi-label micro-F1 of zlpr and ova on a fixed 80/20 split (danlu only)."""
    import jieba

    from danlu import fasttext as danlu_ft

    jieba.setLogLevel(logging.WARNING)
    texts: dict[str, str] = {}
    labels: dict[str, set[str]] = {}
    with (DATA / "bdci-car-2018" / "train.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            texts[row["content_id"]] = row["content"]
            labels.setdefault(row["content_id"], set()).add(row["subject"])
    ids = sorted(texts)
    random.Random(0).shuffle(ids)
    cut = int(0.8 * len(ids))
    files = {}
    for name, part in (("train", ids[:cut]), ("test", ids[cut:])):
        path = tmp / f"bdci_{name}.txt"
        with path.open("w", encoding="utf-8") as out:
            for i in part:
                tags = " ".join(f"__label__{s}" for s in sorted(labels[i]))
                out.write(f"{tags} {' '.join(w for w in jieba.cut(texts[i]) if w.strip())}\n")
        files[name] = path
    rows = []
    for loss in ("zlpr", "ova"):
        model = danlu_ft.train_supervised(input=str(files["train"]), loss=loss, epoch=25,
                                          lr=0.5, wordNgrams=2, thread=1)  # fmt: skip
        n, p, r = model.test(str(files["test"]), k=-1, threshold=0.5)
        rows.append([f"-loss {loss}", n, f"{p:.4f}", f"{r:.4f}", f"{2 * p * r / (p + r):.4f}"])
    return rows


def _accuracy(train: Callable[[], Any], dev: Path) -> float:
    """P@1 on ``dev`` of the model ``train()`` returns; NaN when training diverged (lr 0.5
    with Hogwild threads now and then blows up, in either tool)."""
    from danlu.errors import TrainingDiverged

    try:
        return train().test(str(dev))[1]
    except (RuntimeError, TrainingDiverged) as exc:  # official: "Encountered NaN."
        print(f"[bench] a run diverged: {exc}", file=sys.stderr)
        return math.nan


def _spread(xs: list[float]) -> str:
    """``mean ± sd`` of accuracies (just the value for one run), diverged runs left out."""
    import statistics

    ok = [x for x in xs if not math.isnan(x)]
    note = f" ({len(xs) - len(ok)} of {len(xs)} diverged)" if len(ok) < len(xs) else ""
    if len(ok) <= 1:
        return (f"{ok[0]:.4f}" if ok else "diverged") + note
    return f"{statistics.mean(ok):.4f} ± {statistics.stdev(ok):.4f}{note}"


def _startup_rows(times: dict[tuple[int, int, str], tuple[float, float]], n: int) -> list[list]:
    """Imports, fixed and per-epoch seconds of each tool (empty without the -epoch 25 run)."""
    if (1, 25, "softmax") not in times:
        return []
    # what `danlu supervised` imports before reading (the CLI itself no longer loads numpy)
    imports = {"official": "import fasttext",
               "danlu": "import danlu.cli, danlu.tasks.text_classification.train"}  # fmt: skip
    rows = []
    for i, tool in enumerate(("official", "danlu")):
        walls = []
        for _ in range(n):
            t0 = time.perf_counter()
            subprocess.run([PY, "-c", imports[tool]], check=True)
            walls.append(time.perf_counter() - t0)
        t5, t25 = times[1, 5, "softmax"][i], times[1, 25, "softmax"][i]
        epoch = (t25 - t5) / 20
        rows.append([tool, f"{sorted(walls)[n // 2]:.3f}", f"{t5 - 5 * epoch:.3f}",
                     f"{epoch:.4f}", f"{t5:.2f}", f"{t25:.2f}"])  # fmt: skip
    return rows


def _official_on_shuffled(tmp: Path, train: Path, dev: Path, opts: dict) -> list[float]:
    """Official accuracy per seed on a copy of ``train`` shuffled with that seed."""
    import fasttext as official_ft

    lines = train.read_text(encoding="utf-8").splitlines(keepends=True)
    copy, accs = tmp / "shuffled.txt", []
    for seed in range(SEEDS):
        order = lines[:]
        random.Random(seed).shuffle(order)
        copy.write_text("".join(order), encoding="utf-8")
        train_it = partial(official_ft.train_supervised, str(copy), verbose=0, seed=seed, **opts)
        accs.append(_accuracy(train_it, dev))
    return accs


def run(quick: bool = False) -> str:
    title = "## fastText classifier vs official fastText (THUCNews titles, jieba)\n\n"
    if not (DATA / "thucnews" / "train.txt").is_file():
        return title + "Skipped: ../shared/data/thucnews is missing.\n"
    try:
        import fasttext  # noqa: F401
    except ImportError:
        return title + "Skipped: the official `fasttext` module is not installed.\n"
    settings = [
        {"wordNgrams": 1, "epoch": 5, "loss": "softmax"},
        {"wordNgrams": 2, "epoch": 5, "loss": "softmax"},
    ]
    if not quick:
        settings += [
            {"wordNgrams": 1, "epoch": 25, "loss": "softmax"},
            {"wordNgrams": 2, "epoch": 25, "loss": "softmax"},
            {"wordNgrams": 2, "epoch": 5, "loss": "hs"},
            {"wordNgrams": 2, "epoch": 5, "loss": "ova"},
        ]
    rows, qrows, order = [], [], []
    times: dict[tuple[int, int, str], tuple[float, float]] = {}  # (official, danlu) seconds
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        train, dev = tmp / "train.txt", tmp / "dev.txt"
        _segment(DATA / "thucnews" / "train.txt", train)
        _segment(DATA / "thucnews" / "dev.txt", dev)
        for s in settings:
            opts = {**s, "dim": 100, "lr": 0.5, "thread": 2}
            r = _compare(tmp, train, dev, opts, 1 if quick else REPEATS, 1 if quick else SEEDS)
            (aos, ads), (to, td), (mo, md), (so, sd) = r["acc"], r["time"], r["mem"], r["speed"]
            ad = ads[0]  # the timed run's model, the one quantized below
            times[s["wordNgrams"], s["epoch"], s["loss"]] = (to, td)
            name = f"-wordNgrams {s['wordNgrams']} -epoch {s['epoch']} -loss {s['loss']}"
            if not quick and s["loss"] in ("hs", "ova"):
                shuffled = _official_on_shuffled(tmp, train, dev, opts)
                order.append([name, _spread(aos), _spread(shuffled), _spread(ads)])
            rows.append([
                name, _spread(aos), _spread(ads), f"{to:.2f}", f"{td:.2f}", f"{td / to:.2f}",
                f"{so:,.0f}", f"{sd:,.0f}", f"{sd / so:.2f}", mo, md, f"{md / mo:.2f}",
            ])  # fmt: skip
            if s["wordNgrams"] == 2 and s["epoch"] == 5 and s["loss"] == "softmax":
                from danlu import fasttext as danlu_ft
                from danlu.tasks.text_classification.config import QuantizeConfig, QuantizeOptions
                from danlu.tasks.text_classification.quantize import quantize_file

                variants = [
                    ("prune + int8", None, {}),
                    ("prune + -retrain 1 epoch + int8", str(train), {}),
                    ("prune + pq (-dsub 2)", None, {"qtype": "pq"}),
                    ("prune + pq -qnorm (fastText's usual)", None, {"qnorm": True}),
                ]
                for how, again, extra in variants:
                    t0 = time.perf_counter()
                    options = QuantizeOptions(retrain=again is not None, train=again or "",
                                              thread=2, **extra)  # fmt: skip
                    _, q, before, after = quantize_file(
                        QuantizeConfig(str(r["our_file"]), str(tmp / "q"), options)
                    )
                    secs = time.perf_counter() - t0
                    qmodel = danlu_ft.load_model(str(q))
                    qacc = qmodel.test(str(dev))[1]
                    qrows.append([how, f"{before / 1e6:.1f}", f"{after / 1e6:.1f}",
                                  f"{before / after:.1f}", f"{ad:.4f}", f"{qacc:.4f}",
                                  f"{100 * (qacc - ad):+.2f}", f"{secs:.1f}"])  # fmt: skip
                # the official tool on its own model, keeping as many rows as danlu kept
                import fasttext as official_ft

                kept = qmodel._model.input.shape[0]  # the last variant's, as all of them
                off_bin, off_ftz = r["official_file"], tmp / "official.ftz"
                off = official_ft.load_model(str(off_bin))
                t0 = time.perf_counter()
                off.quantize(input=str(train), qnorm=True, cutoff=kept, retrain=False, thread=2)
                off.save_model(str(off_ftz))
                secs = time.perf_counter() - t0
                before, after = off_bin.stat().st_size, off_ftz.stat().st_size
                qacc, ao = off.test(str(dev))[1], aos[0]
                qrows.append([f"official fastText: quantize -qnorm -cutoff {kept:,}",
                              f"{before / 1e6:.1f}", f"{after / 1e6:.1f}",
                              f"{before / after:.1f}", f"{ao:.4f}", f"{qacc:.4f}",
                              f"{100 * (qacc - ao):+.2f}", f"{secs:.1f}"])  # fmt: skip
        bdci = [] if quick else _bdci(tmp)
    table = markdown_table(
        ["setting (-dim 100 -lr 0.5 -thread 2)", "acc official", "acc danlu", "train s official",
         "train s danlu", "time ratio", "pred lines/s official", "pred lines/s danlu",
         "speed ratio", "peak MB official", "peak MB danlu", "memory ratio"], rows)  # fmt: skip
    seeds = "seed 0" if quick else f"mean ± sd over seeds 0-{SEEDS - 1}"
    out = (title + f"Dev accuracy (P@1, 10,000 lines; {seeds}); whole-process training time "
           f"(seed 0, best of {1 if quick else REPEATS}, interleaved); ratios are danlu / "
           "official. Targets: "
           "accuracy >= official, time <= 1.5x at -epoch 5 and <= 1.0x at -epoch 25.\n\n"
           + table + "\n\n### danlu quantize (-wordNgrams 2 -epoch 5 model)\n\n"
           + "Default cutoff (30 % of the rows, largest norms); int8 rows (danlu's default) or "
           "product quantization as fastText's `quantize` (`-dsub 2`, 256 centroids a sub-space). "
           "Targets: shrink >= 10x, at most 0.5 points lost.\n\n"
           + markdown_table(["danlu quantize", "MB before", "MB after", "shrink", "acc before",
                             "acc after", "points", "seconds"], qrows) + "\n")  # fmt: skip
    startup = _startup_rows(times, 3 if quick else 5)
    if startup:
        out += ("\n### Start-up and per-epoch cost (-wordNgrams 1 -loss softmax)\n\n"
                "Imports: `python -c 'import fasttext'` against `python -c 'import danlu.cli, "
                "danlu.tasks.text_classification.train'` "
                "(median of 5). One epoch: (t25 - t5) / 20 from the whole-process times above; "
                "fixed: t5 - 5 x one epoch (interpreter, imports, reading, dictionary, saving).\n\n"
                + markdown_table(["tool", "imports s", "fixed s", "one epoch s", "-epoch 5 s",
                                  "-epoch 25 s"], startup) + "\n")  # fmt: skip
    if bdci:
        out += ("\n### Multi-label: bdci-car-2018 (80/20 split by content_id, seed 0; "
                "-epoch 25 -lr 0.5 -wordNgrams 2; every label with probability >= 0.5)\n\n"
                + markdown_table(["loss", "test texts", "micro-P", "micro-R", "micro-F1"], bdci)
                + "\n")  # fmt: skip
    if order:
        out += (f"\n### Visiting order (mean ± sd over seeds 0-{SEEDS - 1}, -thread 2)\n\n"
                "The official fastText reads the file in its given order every epoch; danlu "
                "reshuffles each epoch. Shuffled: the official tool on a copy of the training "
                "file shuffled with each seed. The first and last columns are the runs of the "
                "table above.\n\n"
                + markdown_table(["setting", "official, file as given", "official, shuffled "
                                  "file", "danlu"], order) + "\n")  # fmt: skip
    return out


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
