"""Claims of the notes about fastText: word n-grams and the hierarchical softmax.

fastText's hidden vector is the mean of the input rows of a line's tokens (and, with
``wordNgrams = n``, of the hashed buckets of its 2..n-grams); the output layer maps it to the
labels. A bag of words has no order, so "我 爱 她" and "她 爱 我" share every unigram row and
get the same vector; their bigrams ("我 爱", "爱 她" against "她 爱", "爱 我") differ. The
hierarchical softmax replaces the ``K``-way softmax (``O(K d)`` per example) by
``log₂ K`` binary decisions along the label's path in a Huffman tree (``O(d log K)``).

The experiments train danlu's fastText (``danlu supervised``, the engine behind
``danlu.fasttext.train_supervised``: the lab sits below that Python API, so it calls
:func:`danlu.tasks.text_classification.supervised.train_classifier` with the same
:class:`~danlu.tasks.text_classification.config.SupervisedConfig`) with one thread and a
seed, so every run is reproducible.
"""

from __future__ import annotations

import math
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from danlu.lab.claim import Claim, Result, verdict_of
from danlu.lab.data import shared_data
from danlu.lab.plots import panels
from danlu.tasks.text_classification.config import SupervisedConfig
from danlu.tasks.text_classification.data import get_tokenizer
from danlu.tasks.text_classification.predict import test_file
from danlu.tasks.text_classification.supervised import train_classifier

__all__ = ["CLAIMS", "synthetic_labels_file", "train_fasttext_model"]


# ---------------------------------------------------------------- helpers


def train_fasttext_model(path: Path, **options: Any) -> Any:
    """danlu's fastText model trained on the ``__label__`` file ``path`` (one thread, silent;
    ``options`` are :class:`SupervisedConfig` fields such as ``word_ngrams``, ``loss``)."""
    cfg = SupervisedConfig(input=str(path), output="", verbose=0, thread=1, **options)
    return train_classifier(cfg).model


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def synthetic_labels_file(path: Path, labels: int, lines: int, seed: int) -> Path:
    """A ``__label__`` file of ``lines`` examples over ``labels`` labels: each line has 4
    words drawn from its label's own 5 words and 6 from 2000 shared noise words, shuffled."""
    rng = random.Random(seed)
    out = []
    for _ in range(lines):
        k = rng.randrange(labels)
        words = [f"k{k}w{rng.randrange(5)}" for _ in range(4)]
        words += [f"n{rng.randrange(2000)}" for _ in range(6)]
        rng.shuffle(words)
        out.append(f"__label__{k} " + " ".join(words))
    return _write(path, out)


def _thucnews(name: str) -> list[tuple[str, str]]:
    """(title, label id) pairs of THUCNews' ``name`` file."""
    path = shared_data("thucnews", name)
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        title, _, label = line.rpartition("\t")
        pairs.append((title, label))
    return pairs


def _tokenized(pairs: list[tuple[str, str]], tokenizer: str) -> list[str]:
    """``__label__ID tok tok ...`` lines, cut by danlu's ``char`` or ``jieba`` tokenizer."""
    cut = get_tokenizer(tokenizer)
    return [f"__label__{label} " + " ".join(cut(title)) for title, label in pairs]


# ---------------------------------------------------------------- (44a) word bigrams

_TOY = ("我 爱 她", "她 爱 我")


def _toy(folder: Path, epochs: int) -> dict[str, Any]:
    """Train on the two sentences (labels a and b, 50 copies each) with and without
    bigrams; their hidden vectors and predicted labels."""
    lines = [f"__label__{lab} {s}" for _ in range(50) for lab, s in zip("ab", _TOY, strict=True)]
    path = _write(folder / "toy.txt", lines)
    out = {}
    for n in (1, 2):
        model = train_fasttext_model(path, word_ngrams=n, epoch=epochs, lr=0.5, seed=0)
        tokens = [s.split() for s in _TOY]
        hidden = model.hidden(tokens)  # (2, dim)
        idx, _ = model.predict_topk(tokens, 1)
        names = [model.labels[i].removeprefix("__label__") for i in idx[:, 0]]
        out[n] = {"gap": float(np.abs(hidden[0] - hidden[1]).max()), "predicted": names}
    return out


def _bigrams(quick: bool) -> Result:
    seeds = 1 if quick else 5
    n_train, n_dev = (2000, 1000) if quick else (20000, 10000)
    tokenizers = ("char",) if quick else ("char", "jieba")  # jieba's dictionary takes seconds
    epochs, lr = 10, 0.5  # the note's own call: train_supervised(..., epoch=10, lr=0.5)
    train_pairs, dev_pairs = _thucnews("train.txt"), _thucnews("dev.txt")[:n_dev]
    acc: dict[str, dict[int, list[float]]] = {t: {1: [], 2: []} for t in tokenizers}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        toy = _toy(folder, epochs=50)
        for tok in tokenizers:
            lines = _tokenized(train_pairs, tok)
            dev = _write(folder / f"dev.{tok}.txt", _tokenized(dev_pairs, tok))
            for seed in range(seeds):
                subset = random.Random(seed).sample(lines, n_train)
                train = _write(folder / f"train.{tok}.txt", subset)
                for n in (1, 2):
                    model = train_fasttext_model(train, word_ngrams=n, epoch=epochs, lr=lr,
                                                 seed=seed)  # fmt: skip
                    acc[tok][n].append(test_file(model, str(dev), 1, 0.0)[1])
    toy_ok = (toy[1]["gap"] < 1e-6 and toy[2]["gap"] > 1e-3  # up to float rounding
              and toy[1]["predicted"][0] == toy[1]["predicted"][1]
              and toy[2]["predicted"] == ["a", "b"])  # fmt: skip
    gains = {t: [b - a for a, b in zip(acc[t][1], acc[t][2], strict=True)] for t in tokenizers}
    need = math.ceil(0.8 * seeds)
    raised = {t: statistics.mean(g) >= 0.003 and sum(x > 0 for x in g) >= need
              for t, g in gains.items()}  # fmt: skip
    holds = toy_ok and all(raised.values())
    partly = toy_ok and any(raised.values())

    fig, (a, b) = panels(2)
    a.bar(["unigrams", "uni + bigrams"], [toy[1]["gap"], toy[2]["gap"]], color=["C0", "C1"])
    a.set(title="toy: max |h(wo ai ta) − h(ta ai wo)|\n(labels: what each is predicted as)",
          ylabel="largest coordinate gap")  # fmt: skip
    for k, n in enumerate((1, 2)):
        a.annotate(
            " / ".join(toy[n]["predicted"]),
            (k, toy[n]["gap"]),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    width = 0.38
    for k, n in enumerate((1, 2)):
        means = [100 * statistics.mean(acc[t][n]) for t in tokenizers]
        sds = [100 * statistics.stdev(acc[t][n]) if seeds > 1 else 0.0 for t in tokenizers]
        b.bar([i + (k - 0.5) * width for i in range(len(tokenizers))], means, width, yerr=sds,
              capsize=3, label=f"wordNgrams {n}")  # fmt: skip
    b.set_xticks(range(len(tokenizers)), [f"{t} tokens" for t in tokenizers])
    low = min(100 * min(acc[t][n]) for t in tokenizers for n in (1, 2))
    b.set_ylim(low - 3, min(100.0, low + 8))
    b.set(title=f"THUCNews titles: dev accuracy\n({n_train} training titles, {seeds} seeds)",
          ylabel="%")  # fmt: skip
    b.legend(fontsize=8)

    mean = lambda v: round(statistics.mean(v), 4)  # noqa: E731
    numbers = {
        "toy: max |h1 − h2|, unigrams": toy[1]["gap"],
        "toy: max |h1 − h2|, with bigrams": round(toy[2]["gap"], 4),
        "toy: predicted labels (true a, b), unigrams": toy[1]["predicted"],
        "toy: predicted labels (true a, b), with bigrams": toy[2]["predicted"],
        "THUCNews training titles": n_train, "dev titles": n_dev, "seeds": seeds,
        **{f"dev accuracy, {t} tokens, wordNgrams {n} (mean)": mean(acc[t][n])
           for t in tokenizers for n in (1, 2)},
        **{f"bigram gain, {t} tokens (per seed)": [round(g, 4) for g in gains[t]]
           for t in tokenizers},
    }  # fmt: skip
    per_tok = "; ".join(
        f"{t} tokens {100 * statistics.mean(acc[t][1]):.2f} → "
        f"{100 * statistics.mean(acc[t][2]):.2f} % ({100 * statistics.mean(gains[t]):+.2f} "
        f"points, higher in {sum(g > 0 for g in gains[t])} of {seeds} seeds)"
        for t in tokenizers
    )
    explanation = (
        f"With unigrams only, the trained model gives '{_TOY[0]}' and '{_TOY[1]}' identical "
        f"hidden vectors (largest gap {toy[1]['gap']:.1e}, float rounding) and so one label for "
        f"both "
        f"({' / '.join(toy[1]['predicted'])}); with wordNgrams 2 the vectors differ (gap "
        f"{toy[2]['gap']:.3f}) and it labels them {' / '.join(toy[2]['predicted'])}. On "
        f"THUCNews titles (the note's settings: epoch 10, lr 0.5; dim 100), adding bigrams "
        f"moves dev accuracy as follows: {per_tok}."
        + (
            ""
            if holds or not partly
            else " The gain holds for "
            + ", ".join(f"{t} tokens" for t, ok in raised.items() if ok)
            + " only."
        )
    )
    return Result(verdict_of(holds, partly), numbers, explanation, fig)


# ---------------------------------------------------------------- (44b) hierarchical softmax


def _hs(quick: bool) -> Result:
    label_counts = [10, 300] if quick else [10, 100, 1000]
    lines, epochs, lr = (3000 if quick else 20000), 5, 0.5
    seeds = 1 if quick else 3
    runs: dict[str, dict[int, list[dict[str, float]]]] = {
        loss: {k: [] for k in label_counts} for loss in ("softmax", "hs")}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        warm = synthetic_labels_file(folder / "warm.txt", 5, 50, 0)
        train_fasttext_model(warm, epoch=1)  # compiles and loads the C step before timing
        for seed in range(seeds):
            for k in label_counts:
                train = synthetic_labels_file(folder / "train.txt", k, lines, seed)
                test = synthetic_labels_file(folder / "test.txt", k, 2000, 10_000 + seed)
                for loss in ("softmax", "hs"):
                    t0 = time.perf_counter()
                    model = train_fasttext_model(train, loss=loss, epoch=epochs, lr=lr,
                                                 seed=seed)  # fmt: skip
                    t1 = time.perf_counter()
                    precision = test_file(model, str(test), 1, 0.0)[1]
                    runs[loss][k].append({"train_s": t1 - t0, "test_s": time.perf_counter() - t1,
                                          "p1": precision})  # fmt: skip
    mean = lambda loss, k, key: statistics.mean(r[key] for r in runs[loss][k])  # noqa: E731
    speedup = {k: [s["train_s"] / h["train_s"] for s, h in
                   zip(runs["softmax"][k], runs["hs"][k], strict=True)]
               for k in label_counts}  # fmt: skip
    most, fewest = label_counts[-1], label_counts[0]
    grows = statistics.mean(speedup[most]) > statistics.mean(speedup[fewest])
    holds = min(speedup[most]) >= 3.0 and grows
    partly = min(speedup[most]) > 1.0

    fig, (a, b) = panels(2)
    for loss, color in (("softmax", "C0"), ("hs", "C1")):
        a.loglog(label_counts, [mean(loss, k, "train_s") for k in label_counts], "o-",
                 color=color, label=f"{loss}: train")  # fmt: skip
        a.loglog(label_counts, [mean(loss, k, "test_s") for k in label_counts], "s--",
                 color=color, alpha=0.6, label=f"{loss}: predict 2000")  # fmt: skip
        b.semilogx(label_counts, [100 * mean(loss, k, "p1") for k in label_counts], "o-",
                   color=color, label=loss)  # fmt: skip
    a.set(title=f"seconds, {lines} lines × {epochs} epochs, 1 thread", xlabel="labels",
          ylabel="seconds")  # fmt: skip
    a.legend(fontsize=7)
    b.set(title=f"test P@1 after {epochs} epochs", xlabel="labels", ylabel="%")
    b.legend(fontsize=8)
    for ax in (a, b):
        ax.set_xticks(label_counts, [str(k) for k in label_counts])
        ax.minorticks_off()

    numbers = {
        "labels": label_counts, "training lines": lines, "epochs": epochs, "seeds": seeds,
        **{f"train seconds, {loss} (mean per label count)":
           [round(mean(loss, k, "train_s"), 3) for k in label_counts] for loss in runs},
        "training speed-up of hs (mean per label count)":
            [round(statistics.mean(speedup[k]), 2) for k in label_counts],
        f"training speed-up of hs at {most} labels (per seed)":
            [round(s, 2) for s in speedup[most]],
        **{f"predict seconds (2000 lines), {loss} (mean per label count)":
           [round(mean(loss, k, "test_s"), 3) for k in label_counts] for loss in runs},
        **{f"test P@1, {loss} (mean per label count)":
           [round(mean(loss, k, "p1"), 4) for k in label_counts] for loss in runs},
    }  # fmt: skip
    slower = mean("hs", most, "test_s") > mean("softmax", most, "test_s")
    explanation = (
        f"On a synthetic task with {lines} training lines, training with the hierarchical "
        f"softmax takes {mean('hs', most, 'train_s'):.2f} s against "
        f"{mean('softmax', most, 'train_s'):.2f} s for the softmax at {most} labels (a "
        f"{statistics.mean(speedup[most]):.1f}× speed-up, smallest over seeds "
        f"{min(speedup[most]):.1f}×), and {statistics.mean(speedup[fewest]):.1f}× at "
        f"{fewest} labels: the cost per example goes from K·d to about log₂K·d. After the "
        f"same {epochs} epochs hs also has the higher P@1 at {most} labels "
        f"({100 * mean('hs', most, 'p1'):.1f} against {100 * mean('softmax', most, 'p1'):.1f} %)"
        if mean("hs", most, "p1") > mean("softmax", most, "p1") else
        f"On a synthetic task with {lines} training lines, training with the hierarchical "
        f"softmax takes {mean('hs', most, 'train_s'):.2f} s against "
        f"{mean('softmax', most, 'train_s'):.2f} s for the softmax at {most} labels (a "
        f"{statistics.mean(speedup[most]):.1f}× speed-up), and "
        f"{statistics.mean(speedup[fewest]):.1f}× at {fewest} labels; P@1 after {epochs} "
        f"epochs: hs {100 * mean('hs', most, 'p1'):.1f} %, softmax "
        f"{100 * mean('softmax', most, 'p1'):.1f} %"
    ) + (
        f". Prediction is another matter: danlu scores every leaf of the tree (as the note "
        f"describes, 遍历分类树的所有叶节点), so predicting 2000 lines takes "
        f"{mean('hs', most, 'test_s'):.2f} s with hs against "
        f"{mean('softmax', most, 'test_s'):.2f} s with the softmax."
        if slower else
        f"; predicting 2000 lines takes {mean('hs', most, 'test_s'):.2f} s with hs against "
        f"{mean('softmax', most, 'test_s'):.2f} s."
    )  # fmt: skip
    return Result(verdict_of(holds, partly), numbers, explanation, fig)


CLAIMS: tuple[Claim, ...] = (
    Claim(
        id="fasttext_word_bigrams",
        theme="fasttext",
        sources=("001",),
        quote="“我 爱 她” 这句话中的词袋模型特征是 “我”,“爱”, “她”。这些特征和句子 “她 爱 我” "
        "的特征是一样的。如果加入 2-Ngram……就能区别开来了",
        protocol="danlu's fastText (one thread, seeded). Toy: 50 copies each of '我 爱 她' "
        "(label a) and '她 爱 我' (label b), wordNgrams 1 and 2, 50 epochs; compare the two "
        "hidden vectors and predictions. THUCNews titles: 20000 random training titles per "
        "seed (of 45000), the first 10000 dev titles, cut into characters or jieba words "
        "(danlu's tokenizers); the note's own settings (epoch 10, lr 0.5, softmax; dim 100); "
        "dev accuracy with wordNgrams 1 and 2, 5 seeds.",
        criterion="confirmed if on the toy the unigram model gives both sentences the same "
        "hidden vector (gap < 1e-6: float rounding) and label while the bigram model separates "
        "them (gap > 1e-3) and labels them right, and "
        "bigrams raise mean dev accuracy by ≥ 0.3 points, and in ≥ 4 of 5 seeds, for both "
        "tokenizations; partly if the toy holds and the gain holds for one tokenization; "
        "refuted otherwise.",
        run=_bigrams,
    ),
    Claim(
        id="fasttext_hierarchical_softmax_speed",
        theme="fasttext",
        sources=("001",),
        quote="fastText 方法包含三部分:模型架构、层次 Softmax 和 N-gram 特征……"
        "FastText= word2vec中 cbow + h-softmax的灵活使用",
        protocol="danlu's fastText (one thread, seeded, C engine compiled before timing) on a "
        "synthetic task with 10, 100 and 1000 labels (each line: 4 of its label's 5 words and "
        "6 of 2000 noise words; 20000 training lines, 2000 test lines), loss softmax against "
        "hs, 5 epochs, lr 0.5, dim 100; wall time of training and of predicting the test "
        "lines, test P@1; 3 seeds.",
        criterion="confirmed if at 1000 labels hs trains at least 3× faster than the softmax "
        "in every seed and its mean speed-up is larger at 1000 labels than at 10; partly if "
        "hs is faster at 1000 labels but not by 3× in every seed (or the speed-up does not "
        "grow); refuted otherwise.",
        run=_hs,
    ),
)
