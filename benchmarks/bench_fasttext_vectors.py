"""danlu's word vectors and model files against the official fastText (``fasttext-numpy2``).

Corpora (``../shared/data``): People's Daily 1998-01 with its POS tags stripped (19,484
paragraphs, 1.12 M tokens) and the THUCNews training titles cut by jieba (45,000 titles,
0.49 M tokens; the labels dropped). Sections:

- **Training speed**: ``danlu skipgram|cbow`` against
  the official Python package's ``train_unsupervised`` (through its ``_build_args``, as the
  wrapper does, since the wrapper takes no ``seed``) and ``save_model``, in a
  ``python -c`` process, at
  ``-epoch 5 -dim 100 -thread 2`` (the other options fastText's defaults), whole process
  (start-up, reading, training, writing), ``REPEATS`` interleaved runs with seeds
  1, 2, ... (0 would repeat 1's random draws), the median wall time; danlu also writes
  the ``.vec`` (the official Python call does not), so its figure includes more work.
  ``words/sec/thread`` is each tool's own last progress figure.
- **Neighbour agreement**: for the 1,000 most frequent words (``</s>`` left out) the 10
  nearest neighbours by cosine among the whole vocabulary (the query left out, as
  fastText's ``nn``); the overlap ``|A ∩ B| / 10`` averaged over the words, for every pair
  of runs above: official against official (different seeds: how much two runs of the same
  tool agree), danlu against official, danlu against danlu. Target: danlu-official >=
  official-official.
- **Downstream**: THUCNews dev accuracy of a classifier started from the skipgram vectors
  (``-pretrainedVectors``, the first run of each tool) and without them, each classifier
  (danlu's and the official one) with fastText's supervised defaults and ``-dim 100
  -thread 2``, mean ± sd over ``SEEDS`` seeds. Target: danlu's vectors within 0.2 points of
  the official ones.
- **Official model files**: a classifier trained and saved by the official tool
  (``-wordNgrams 2``) as ``.bin``, and quantized by it (``-qnorm``) as ``.ftz``: load time
  (in one process after the imports, best of ``LOADS`` interleaved loads; and whole
  process: ``python -c "import X; X.load_model(...)"``, median of ``REPEATS``) and
  ``predict`` lines/s (all 10,000 dev titles in one call, k=1, best of 7 interleaved rounds
  after a warm-up). Target: >= 1.0x the official package.
"""

from __future__ import annotations

import gzip
import itertools
import re
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np

from _util import markdown_table
from bench_fasttext import _accuracy, _segment, _spread

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PY = sys.executable
# seeds of the timed runs and of the models compared: from 1, since std::minstd_rand(0) is
# minstd_rand(1) (a zero seed becomes 1), so in fastText (and danlu, which keeps its random
# streams) seeds 0 and 1 give the same draws: two such runs differ only in thread timing
REPEATS = 3
FIRST_SEED = 1
SEEDS = 4  # downstream classifier seeds
LOADS = 5
TOP_WORDS, K = 1000, 10
_SPEED = re.compile(r"words/sec/thread:?\s+([\d,]+)")


def _people_daily(dst: Path) -> None:
    """One paragraph a line, words separated by one space (``word/TAG`` -> ``word``;
    the ``[...]nt`` brackets of compound names dropped)."""
    src = DATA / "people-daily-199801" / "199801.txt.gz"
    with gzip.open(src, "rt", encoding="utf-8") as f, dst.open("w", encoding="utf-8") as out:
        for line in f:
            words = [t.rsplit("/", 1)[0].lstrip("[") for t in line.split()]
            if words:
                out.write(" ".join(words) + "\n")


def _text_only(labeled: Path, dst: Path) -> None:
    with labeled.open(encoding="utf-8") as f, dst.open("w", encoding="utf-8") as out:
        for line in f:
            out.write(line.split(" ", 1)[1] if " " in line else "\n")


def _run(cmd: list[str]) -> tuple[float, str]:
    """(wall seconds, stderr) of one process."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return wall, proc.stderr


def _words_per_sec(stderr: str) -> int:
    found = _SPEED.findall(stderr.replace("\r", "\n"))
    return int(found[-1].replace(",", "")) if found else 0


# the official Python wrapper's train_unsupervised takes no seed (its C++ does): the same
# steps as the wrapper, with the seed set
_OFFICIAL_TRAIN = """import fasttext.FastText as F
args = dict(F.unsupervised_default, **{opts!r})
a = F._build_args(args, set({opts!r}))
model = F._FastText(args=a)
F.fasttext.train(model.f, a)
model.save_model({out!r})
"""


def _train_commands(model: str, corpus: Path, prefix: Path, seed: int) -> dict[str, list[str]]:
    opts = {"epoch": 5, "dim": 100, "thread": 2, "seed": seed}
    api = {"input": str(corpus), "model": model, "verbose": 2, **opts}
    official = _OFFICIAL_TRAIN.format(opts=api, out=str(prefix) + "_official.bin")
    flags = [x for k, v in opts.items() for x in (f"-{k}", str(v))]
    ours = [PY, "-m", "danlu", model, "-input", str(corpus), "-output", str(prefix) + "_danlu",
            "-verbose", "2", *flags]  # fmt: skip
    return {"official": [PY, "-c", official], "danlu": ours}


def _vocabulary_vectors(path: Path, tool: str) -> tuple[list[str], np.ndarray]:
    """The vocabulary and its unit-norm word vectors, through ``tool``'s own API."""
    if tool == "official":
        import fasttext as ft
    else:
        from danlu import fasttext as ft
    model = ft.load_model(str(path))
    words = list(model.get_words())
    vectors = np.stack([model.get_word_vector(w) for w in words]).astype(np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return words, np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def _neighbours(words: list[str], vectors: np.ndarray, queries: list[str]) -> list[set[str]]:
    index = {w: i for i, w in enumerate(words)}
    q = np.array([index[w] for w in queries])
    sims = vectors[q] @ vectors.T
    sims[np.arange(len(q)), q] = -np.inf  # not the query itself
    top = np.argpartition(-sims, K, axis=1)[:, :K]
    return [{words[j] for j in row} for row in top]


def _overlap(a: list[set[str]], b: list[set[str]]) -> float:
    return float(np.mean([len(x & y) / K for x, y in zip(a, b, strict=True)]))


def _agreement(runs: dict[str, list[Path]]) -> dict[str, tuple[float, float, int]]:
    """Mean neighbour overlap, its sd over the run pairs, and their number, per pair of
    tools."""
    loaded = {tool: [_vocabulary_vectors(p, tool) for p in paths] for tool, paths in runs.items()}
    everywhere = set.intersection(*(set(w) for models in loaded.values() for w, _ in models))
    first_words = loaded["official"][0][0]  # most frequent first
    queries = [w for w in first_words if w != "</s>" and w in everywhere][:TOP_WORDS]
    nn = {tool: [_neighbours(w, v, queries) for w, v in models] for tool, models in loaded.items()}
    pairs = {
        "official-official": list(itertools.combinations(nn["official"], 2)),
        "danlu-official": list(itertools.product(nn["danlu"], nn["official"])),
        "danlu-danlu": list(itertools.combinations(nn["danlu"], 2)),
    }
    out = {}
    for k, v in pairs.items():  # mean, sd over the pairs (0 for one pair), number of pairs
        values = [_overlap(a, b) for a, b in v]
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        out[k] = (statistics.mean(values), sd, len(values))
    return out


def _write_official_vec(bin_path: Path, vec_path: Path) -> None:
    """What ``fasttext skipgram`` writes beside its ``.bin`` (the Python call does not):
    ``COUNT DIM``, then each vocabulary word and its word vector, 5 significant digits."""
    import fasttext

    model = fasttext.load_model(str(bin_path))
    words = model.get_words()
    with vec_path.open("w", encoding="utf-8") as out:
        out.write(f"{len(words)} {model.get_dimension()}\n")
        for w in words:
            out.write(w + " " + " ".join(f"{x:.5g}" for x in model.get_word_vector(w)) + " \n")


def _downstream(train: Path, dev: Path, vecs: dict[str, Path | None], seeds: int) -> list[list]:
    import fasttext as official_ft

    from danlu import fasttext as danlu_ft

    rows = []
    for source, vec in vecs.items():
        row: list[object] = [source]
        for ft in (danlu_ft, official_ft):
            accs = []
            for seed in range(FIRST_SEED, FIRST_SEED + seeds):
                extra = {"pretrainedVectors": str(vec)} if vec is not None else {}
                accs.append(
                    _accuracy(
                        partial(
                            ft.train_supervised,
                            input=str(train),
                            dim=100,
                            thread=2,
                            seed=seed,
                            verbose=0,
                            **extra,
                        ),
                        dev,
                    )
                )
            row.append(accs)
        rows.append(row)
    return rows


def _model_files(tmp: Path, train: Path, dev: Path, quick: bool) -> list[list[object]]:
    import fasttext as official_ft

    from danlu import fasttext as danlu_ft

    model = official_ft.train_supervised(str(train), dim=100, lr=0.5, wordNgrams=2, epoch=5,
                                         thread=2, verbose=0)  # fmt: skip
    files = {"official .bin (-wordNgrams 2)": tmp / "official.bin",
             "official .ftz (quantize -qnorm)": tmp / "official.ftz"}  # fmt: skip
    model.save_model(str(files["official .bin (-wordNgrams 2)"]))
    model.quantize(input=str(train), qnorm=True, retrain=False, thread=2)
    model.save_model(str(files["official .ftz (quantize -qnorm)"]))
    texts = [x.split(" ", 1)[1] for x in dev.read_text(encoding="utf-8").splitlines()]
    rows = []
    tools = {"official": official_ft, "danlu": danlu_ft}
    for name, path in files.items():
        loads: dict[str, float] = {t: float("inf") for t in tools}
        for _ in range(1 if quick else LOADS):  # interleaved
            for tool, ft in tools.items():
                t0 = time.perf_counter()
                ft.load_model(str(path))
                loads[tool] = min(loads[tool], time.perf_counter() - t0)
        whole: dict[str, list[float]] = {t: [] for t in tools}
        module = {"official": "fasttext", "danlu": "danlu.fasttext"}
        for _ in range(1 if quick else REPEATS):
            for tool in tools:
                code = f"import {module[tool]} as ft; ft.load_model({str(path)!r})"
                whole[tool].append(_run([PY, "-c", code])[0])
        models = {t: ft.load_model(str(path)) for t, ft in tools.items()}
        for m in models.values():
            m.predict(texts[:100], k=1)  # one-time set-up
        best = {t: float("inf") for t in tools}
        for _ in range(2 if quick else 7):
            for tool, m in models.items():
                t0 = time.perf_counter()
                m.predict(texts, k=1)
                best[tool] = min(best[tool], time.perf_counter() - t0)
        same = models["official"].predict(texts, k=1)[0] == models["danlu"].predict(texts, k=1)[0]
        lo, ld = loads["official"], loads["danlu"]
        wo, wd = statistics.median(whole["official"]), statistics.median(whole["danlu"])
        so, sd = len(texts) / best["official"], len(texts) / best["danlu"]
        rows.append([name, f"{path.stat().st_size / 1e6:.1f}", f"{lo:.3f}", f"{ld:.3f}",
                     f"{lo / ld:.2f}", f"{wo:.2f}", f"{wd:.2f}", f"{wo / wd:.2f}",
                     f"{so:,.0f}", f"{sd:,.0f}", f"{sd / so:.2f}",
                     "identical" if same else "DIFFER"])  # fmt: skip
    return rows


def run(quick: bool = False) -> str:
    title = "## fastText word vectors and model files vs official fastText\n\n"
    need = [DATA / "thucnews" / "train.txt", DATA / "people-daily-199801" / "199801.txt.gz"]
    if not all(p.is_file() for p in need):
        return title + "Skipped: ../shared/data/thucnews or people-daily-199801 is missing.\n"
    try:
        import fasttext  # noqa: F401
    except ImportError:
        return title + "Skipped: the official `fasttext` module is not installed.\n"
    repeats = 2 if quick else REPEATS
    speed_rows, agree_rows = [], []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        train, dev = tmp / "train.txt", tmp / "dev.txt"
        _segment(DATA / "thucnews" / "train.txt", train)
        _segment(DATA / "thucnews" / "dev.txt", dev)
        corpora = {"People's Daily 1998-01": tmp / "pd.txt", "THUCNews titles": tmp / "thuc.txt"}
        _people_daily(corpora["People's Daily 1998-01"])
        _text_only(train, corpora["THUCNews titles"])
        if quick:  # a smoke run: a slice of each corpus
            for path in corpora.values():
                lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
                path.write_text("".join(lines[:3000]), encoding="utf-8")
        runs: dict[tuple[str, str], dict[str, list[Path]]] = {}
        for (cname, corpus), model in itertools.product(corpora.items(), ("skipgram", "cbow")):
            walls: dict[str, list[float]] = {"official": [], "danlu": []}
            speeds: dict[str, list[int]] = {"official": [], "danlu": []}
            files: dict[str, list[Path]] = {"official": [], "danlu": []}
            for seed in range(FIRST_SEED, FIRST_SEED + repeats):
                prefix = tmp / f"{model}_{corpus.stem}_{seed}"
                for tool, cmd in _train_commands(model, corpus, prefix, seed).items():
                    wall, err = _run(cmd)
                    walls[tool].append(wall)
                    speeds[tool].append(_words_per_sec(err))
                    files[tool].append(Path(f"{prefix}_{tool}.bin"))
            runs[cname, model] = files
            wo, wd = statistics.median(walls["official"]), statistics.median(walls["danlu"])
            so, sd = statistics.median(speeds["official"]), statistics.median(speeds["danlu"])
            speed_rows.append([cname, model, f"{wo:.2f}", f"{wd:.2f}", f"{wd / wo:.2f}",
                               f"{so:,}", f"{sd:,}", f"{sd / so:.2f}"])  # fmt: skip
            agree = _agreement(files)
            agree_rows.append([cname, model, *(f"{agree[k][0]:.3f} ± {agree[k][1]:.3f} "
                                                 f"({agree[k][2]} pairs)" for k in
                               ("official-official", "danlu-official", "danlu-danlu")),
                               "yes" if agree["danlu-official"][0] >= agree["official-official"][0]
                               else "no"])  # fmt: skip
        thuc = runs["THUCNews titles", "skipgram"]
        official_vec = tmp / "official_thuc.vec"
        _write_official_vec(thuc["official"][0], official_vec)
        vecs = {"none": None, "danlu skipgram .vec": thuc["danlu"][0].with_suffix(".vec"),
                "official skipgram .vec": official_vec}  # fmt: skip
        down = _downstream(train, dev, vecs, 1 if quick else SEEDS)
        file_rows = _model_files(tmp, train, dev, quick)
    ours, theirs = down[1], down[2]
    gap_danlu = 100 * (np.nanmean(ours[1]) - np.nanmean(theirs[1]))
    gap_official = 100 * (np.nanmean(ours[2]) - np.nanmean(theirs[2]))
    down_rows = [[r[0], _spread(r[1]), _spread(r[2])] for r in down]
    seeds = (
        f"seed {FIRST_SEED}"
        if quick
        else (f"mean ± sd over seeds {FIRST_SEED}-{FIRST_SEED + SEEDS - 1}")
    )
    return (
        title
        + "### Training speed (-epoch 5 -dim 100 -thread 2, whole process)\n\n"
        + f"Median of {repeats} interleaved runs (seeds {FIRST_SEED}-{FIRST_SEED + repeats - 1}); "
        "ratio = danlu / official (time: lower is better; words/sec/thread: higher is "
        "better). danlu's run also writes the `.vec`. Target: time ratio <= 1.0.\n\n"
        + markdown_table(
            [
                "corpus",
                "model",
                "s official",
                "s danlu",
                "time ratio",
                "words/s/thread official",
                "words/s/thread danlu",
                "speed ratio",
            ],
            speed_rows,
        )
        + "\n\n### Neighbour agreement (10 nearest of the 1,000 most frequent words)\n\n"
        "Mean overlap |A ∩ B| / 10 over the words, averaged over every pair of the runs above "
        "(± the sd over those pairs). "
        "Target: danlu-official >= official-official (two official runs with different seeds).\n\n"
        + markdown_table(
            ["corpus", "model", "official-official", "danlu-official", "danlu-danlu", "target met"],
            agree_rows,
        )
        + "\n\n### Downstream: THUCNews classification from pretrained vectors\n\n"
        f"Dev accuracy (P@1, 10,000 titles; {seeds}); each classifier with fastText's supervised "
        "defaults (-lr 0.1 -epoch 5 -wordNgrams 1) and -dim 100 -thread 2; vectors: the first "
        "skipgram run of each tool on the training titles. danlu's vectors minus the official "
        f"ones: {gap_danlu:+.2f} points with danlu's classifier, {gap_official:+.2f} with the "
        "official classifier. Target: within 0.2 points.\n\n"
        + markdown_table(
            ["-pretrainedVectors", "danlu supervised", "official supervised"], down_rows
        )
        + "\n\n### Official model files: load and predict\n\n"
        "A THUCNews classifier (-dim 100 -lr 0.5 -wordNgrams 2 -epoch 5) trained and saved by the "
        "official package, and its `quantize(qnorm=True)` `.ftz`. Load: in one process after "
        f'the imports (best of {LOADS}), and a whole `python -c "import X; X.load_model(...)"` '
        f"(median of {REPEATS}); predict: 10,000 dev titles in one call, k=1. Ratios are "
        "official time / danlu time and danlu lines/s / official lines/s (higher: danlu "
        "faster). Target: >= 1.0.\n\n"
        + markdown_table(
            [
                "file",
                "MB",
                "load s official",
                "load s danlu",
                "load ratio",
                "process s official",
                "process s danlu",
                "process ratio",
                "pred lines/s official",
                "pred lines/s danlu",
                "speed ratio",
                "labels",
            ],
            file_rows,
        )
        + "\n"
    )


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
