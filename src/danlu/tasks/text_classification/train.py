"""Training the fastText classifier: sparse SGD on mini-batches, fastText's schedule.

Per example fastText does (``lr_t = lr * (1 - tokens_seen / (epoch * ntokens))``)::

    h = mean(W[rows]);  g_s = dloss/ds (s = O h)
    dh = O^T g_s;  O -= lr_t * g_s h^T;  W[r] -= lr_t * dh / |rows|  for r in rows

Here a mini-batch of examples takes that step together (their updates are summed, as
Hogwild threads would apply them), which lets PyTorch gather the rows with one
``embedding_bag`` and scatter them with one ``index_add_``: the 2M-bucket matrix is only
touched at the rows used, never as a dense gradient. ``torch.optim`` is not used (it
imports torch._dynamo, seconds of start-up for a model that trains in seconds).

Loss gradients ``g_s`` (``p`` the model's probabilities):
    softmax: ``p - onehot(y)`` (one label drawn per multi-label line, as fastText does)
    ova:     ``sigmoid(s) - y`` for every label
    ns:      ``sigmoid(s_c) - [c == y]`` over y and ``-neg`` labels drawn ~ count^0.5
    hs:      ``sigmoid(s_n) - code_n`` over the Huffman path of y
    zlpr:    the gradient of ``danlu.functional.multilabel.zlpr_loss``
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict

import numpy as np
import torch
import torch.nn.functional as F

from danlu.errors import UsageError
from danlu.tasks.text_classification.config import SupervisedConfig
from danlu.tasks.text_classification.data import LabeledCorpus, read_labeled_file
from danlu.tasks.text_classification.dictionary import Dictionary
from danlu.tasks.text_classification.model import FastTextModel

__all__ = ["train_fasttext", "train_supervised_corpus"]


def _targets(corpus_labels: list[list[int]], n_labels: int) -> tuple[np.ndarray, np.ndarray]:
    sizes = np.fromiter((len(x) for x in corpus_labels), np.int64, len(corpus_labels))
    flat = np.fromiter((i for x in corpus_labels for i in x), np.int64, int(sizes.sum()))
    off = np.zeros(len(sizes) + 1, np.int64)
    np.cumsum(sizes, out=off[1:])
    return flat, off


class _Loss:
    """Computes g_s for a batch, updates O in place, and returns (loss sum, dh)."""

    def __init__(self, name: str, dictionary: Dictionary, neg: int, gen: torch.Generator):
        self.name = name
        self.neg = neg
        self.gen = gen
        counts = torch.tensor(dictionary.label_counts, dtype=torch.float64)
        self.n_labels = len(dictionary.labels)
        self.minus_one = torch.full((1, 1), -1.0)
        if name == "ns":
            self.neg_probs = counts.sqrt() / counts.sqrt().sum()
        if name == "hs":
            from danlu.tasks.text_classification.huffman import HuffmanTree

            paths, codes, mask = HuffmanTree.build(dictionary.label_counts).padded()
            self.paths, self.codes, self.mask = map(torch.from_numpy, (paths, codes, mask))

    def __call__(
        self,
        h: torch.Tensor,
        out: torch.Tensor,
        y: torch.Tensor,
        multi: torch.Tensor | None,
        lr: float,
        with_loss: bool = True,
    ) -> tuple[float, torch.Tensor]:
        """Update ``out`` in place; return (loss sum or 0.0, ``-lr * dloss/dh`` (B, d))."""
        loss = torch.zeros(())
        if self.name in ("softmax", "ova", "zlpr"):
            s = h @ out.T  # (B, C)
            if self.name == "softmax":
                p = torch.softmax(s, dim=1)
                y_col = y[:, None]
                if with_loss:
                    loss = -torch.log(p.gather(1, y_col) + 1e-5).sum()
                g = p.scatter_add_(1, y_col, self.minus_one.expand(len(y), 1))
            elif self.name == "ova":
                if with_loss:
                    loss = F.binary_cross_entropy_with_logits(s, multi, reduction="sum")
                g = torch.sigmoid(s).sub_(multi)
            else:
                g, loss = _zlpr_grad(s, multi)
            g.mul_(-lr)
            step = g @ out
            out.addmm_(g.T, h)
            return float(loss), step
        if self.name == "ns":
            negs = torch.multinomial(self.neg_probs, len(y) * self.neg, True, generator=self.gen)
            cand = torch.cat([y[:, None], negs.view(len(y), self.neg)], dim=1)  # (B, 1+neg)
            label = torch.zeros(cand.shape, dtype=h.dtype)
            label[:, 0] = 1.0
            mask = torch.ones(cand.shape, dtype=h.dtype)
            mask[:, 1:] = (cand[:, 1:] != y[:, None]).to(h.dtype)
        else:  # hs
            cand, label, mask = self.paths[y], self.codes[y], self.mask[y]  # (B, D)
        rows = out[cand]  # (B, K, d)
        s = torch.einsum("bd,bkd->bk", h, rows)
        if with_loss:
            loss = (F.binary_cross_entropy_with_logits(s, label, reduction="none") * mask).sum()
        g = (torch.sigmoid(s) - label).mul_(mask).mul_(-lr)
        step = torch.einsum("bk,bkd->bd", g, rows)
        out.index_add_(0, cand.reshape(-1), (g[:, :, None] * h[:, None, :]).reshape(-1, h.shape[1]))
        return float(loss), step


def _zlpr_grad(s: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    from danlu.functional.multilabel import zlpr_loss

    s = s.detach().requires_grad_(True)
    with torch.enable_grad():
        loss = zlpr_loss(s, y, reduction="sum")
        (g,) = torch.autograd.grad(loss, s)
    return g, loss.detach()


def _load_pretrained(path: str, dictionary: Dictionary, table: torch.Tensor) -> int:
    from danlu.tasks.text_classification.data import read_text

    lines = read_text(path).splitlines()
    try:
        n, dim = (int(x) for x in lines[0].split())
    except (ValueError, IndexError):
        raise UsageError(f"{path}: first line must be 'COUNT DIM' of a .vec file") from None
    if dim != table.shape[1]:
        raise UsageError(f"{path} has vectors of dimension {dim}; pass -dim {dim}")
    found = 0
    for line in lines[1 : n + 1]:
        parts = line.rstrip().split(" ")
        i = dictionary.word_id(parts[0])
        if i >= 0 and len(parts) == dim + 1:
            table[i] = torch.tensor([float(v) for v in parts[1:]])
            found += 1
    return found


def train_supervised_corpus(
    cfg: SupervisedConfig,
    corpus: LabeledCorpus,
    log: Callable[[str], None] | None = None,
    on_epoch: Callable[[FastTextModel, int], bool] | None = None,
) -> FastTextModel:
    """Train on a corpus already read; ``on_epoch(model, epoch)`` returning True stops."""
    if not corpus.words:
        raise UsageError(
            f"{cfg.input}: no line with a label (prefix {cfg.label!r}); fastText lines look "
            f"like '{cfg.label}sports the match ...'"
        )
    # One thread: a step is a small mini-batch, and splitting it costs more than it saves
    # (on a busy machine OpenMP workers spin). -thread is kept for fastText command lines
    # and sets the threads of the neural models (-model textcnn, ...).
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    dictionary = Dictionary.build(
        corpus.words, corpus.labels, cfg.min_count, cfg.min_count_label,
        word_ngrams=cfg.word_ngrams, bucket=cfg.bucket, minn=cfg.minn, maxn=cfg.maxn,
    )  # fmt: skip
    label_lists = [dictionary.label_ids(x) for x in corpus.labels]
    keep = np.fromiter((bool(x) for x in label_lists), bool, len(label_lists))
    rows, offsets = dictionary.encode(corpus.words)
    # compact table: words, then only the n-gram buckets that occur in training
    nwords = dictionary.nwords
    gram = rows >= nwords
    buckets, inverse = np.unique(rows[gram] - nwords, return_inverse=True)
    rows = rows.copy()
    rows[gram] = nwords + inverse
    n_rows = nwords + buckets.size
    dim = cfg.dim
    # fastText's init: uniform(-1/dim, 1/dim)
    table = torch.from_numpy(rng.random((n_rows, dim), dtype=np.float32))
    table.mul_(2.0 / dim).sub_(1.0 / dim)
    if cfg.pretrained_vectors:
        _load_pretrained(cfg.pretrained_vectors, dictionary, table)
    n_out = len(dictionary.labels) - 1 if cfg.loss == "hs" else len(dictionary.labels)
    out = torch.zeros(max(n_out, 1), dim)
    loss_fn = _Loss(cfg.loss, dictionary, cfg.neg, gen)

    lab_flat, lab_off = _targets(label_lists, len(dictionary.labels))
    idx_examples = np.flatnonzero(keep)
    lengths = np.diff(offsets)
    ntok = np.fromiter((len(w) + len(lab) + 1 for w, lab in zip(corpus.words, corpus.labels,
                       strict=True)), np.int64, len(corpus.words))  # fmt: skip
    total_tokens = float(cfg.epoch * corpus.ntokens)
    n_labels_per = np.diff(lab_off)
    multi_needed = cfg.loss in ("ova", "zlpr")
    batch = cfg.batch_size or _auto_batch(len(idx_examples))
    multi_all = None
    if multi_needed:  # (lines, C) multi-hot targets
        multi_all = torch.zeros(len(label_lists), len(dictionary.labels))
        owner = np.repeat(np.arange(len(label_lists)), n_labels_per)
        multi_all[torch.from_numpy(owner), torch.from_numpy(lab_flat)] = 1.0
    rows_t = torch.from_numpy(rows)
    model = FastTextModel(dictionary, table, torch.from_numpy(buckets), out, cfg.loss,
                          _args(cfg), cfg.tokenizer)  # fmt: skip
    seen = 0.0
    t0 = time.perf_counter()
    lr = cfg.lr
    for epoch in range(cfg.epoch):
        order = idx_examples[rng.permutation(len(idx_examples))]
        # gather this epoch's rows in example order once; batches are then slices
        lens = lengths[order]
        ex_off = np.zeros(len(order) + 1, np.int64)
        np.cumsum(lens, out=ex_off[1:])
        pos = np.repeat(offsets[order] - ex_off[:-1], lens) + np.arange(ex_off[-1])
        epoch_rows = rows_t[torch.from_numpy(pos)]
        pick = lab_off[order] + (rng.random(len(order)) * n_labels_per[order]).astype(np.int64)
        y_all = torch.from_numpy(lab_flat[pick])
        seen_after = (np.cumsum(ntok[order]) + epoch * corpus.ntokens).tolist()
        lens_t = torch.from_numpy(lens)
        inv_len = torch.from_numpy((1.0 / lens).astype(np.float32))[:, None]
        order_t = torch.from_numpy(order)
        bounds = ex_off.tolist()
        # bag offsets relative to the first row of their batch
        first = ex_off[(np.arange(len(order)) // batch) * batch]
        rel_off = torch.from_numpy(ex_off[:-1] - first)
        loss_sum, loss_n = 0.0, 0
        for i, b0 in enumerate(range(0, len(order), batch)):
            b1 = min(b0 + batch, len(order))
            lr = cfg.lr * max(0.0, 1.0 - seen / total_tokens)
            r0, r1 = bounds[b0], bounds[b1]
            idx = epoch_rows[r0:r1]
            h = F.embedding_bag(idx, table, rel_off[b0:b1], mode="mean")  # (B, d)
            multi = None if multi_all is None else multi_all[order_t[b0:b1]]
            # the loss is only for the progress line: computed on every 8th batch
            with_loss = log is not None and i % 8 == 0
            loss, step = loss_fn(h, out, y_all[b0:b1], multi, lr, with_loss)
            if with_loss:
                loss_sum, loss_n = loss_sum + loss, loss_n + b1 - b0
            # W[r] += -lr * dh / |rows| for every row r of every example (duplicates add up)
            step.mul_(inv_len[b0:b1])
            table.index_add_(
                0, idx, step.repeat_interleave(lens_t[b0:b1], dim=0, output_size=r1 - r0)
            )
            seen = seen_after[b1 - 1]
        if not (math.isfinite(loss_sum) and bool(torch.isfinite(out).all())):
            from danlu.errors import TrainingDiverged

            raise TrainingDiverged(f"weights became NaN/inf in epoch {epoch + 1}; lower -lr")
        if log is not None:
            speed = seen / max(time.perf_counter() - t0, 1e-9)
            log(f"epoch {epoch + 1}/{cfg.epoch}  avg.loss {loss_sum / max(loss_n, 1):.6f}  "
                f"words/sec {speed:,.0f}  lr {lr:.6f}")  # fmt: skip
        if on_epoch is not None and on_epoch(model, epoch):
            break
    return model


def _auto_batch(n_examples: int) -> int:
    # small data wants per-example-like steps; large data gains speed from batching
    return int(min(64, max(1, n_examples // 700)))


def _args(cfg: SupervisedConfig) -> dict:
    return {k: v for k, v in asdict(cfg).items()}


def train_fasttext(
    cfg: SupervisedConfig, log: Callable[[str], None] | None = None
) -> FastTextModel:
    """Read ``cfg.input``, train, and return the model (not yet saved)."""
    corpus = read_labeled_file(cfg.input, cfg.label, cfg.tokenizer)
    if log is None and cfg.verbose > 1:
        log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    if log is not None:
        log(
            f"Read {corpus.ntokens:,} tokens; {len(corpus.words):,} labeled lines"
            + (f"; skipped {corpus.skipped:,} lines without a label" if corpus.skipped else "")
        )
    on_epoch = None
    if cfg.validation:
        on_epoch = _early_stopper(cfg, log)
    model = train_supervised_corpus(cfg, corpus, log, on_epoch)
    if on_epoch is not None:
        on_epoch.restore(model)  # type: ignore[attr-defined]
    return model


class _early_stopper:
    """Evaluates P@1 on ``-validation`` after each epoch; keeps the best weights."""

    def __init__(self, cfg: SupervisedConfig, log: Callable[[str], None] | None) -> None:
        self.corpus = read_labeled_file(cfg.validation, cfg.label, cfg.tokenizer)
        self.patience = cfg.patience
        self.log = log
        self.best = -1.0
        self.best_state: tuple[torch.Tensor, torch.Tensor] | None = None
        self.bad = 0

    def __call__(self, model: FastTextModel, epoch: int) -> bool:
        from danlu.tasks.text_classification.predict import evaluate

        _, p, _ = evaluate(model, self.corpus, 1)
        if self.log is not None:
            self.log(f"epoch {epoch + 1}: validation P@1 {p:.4f}")
        if p > self.best:
            self.best, self.bad = p, 0
            self.best_state = (model.input.clone(), model.output.clone())
        else:
            self.bad += 1
        return self.bad >= self.patience

    def restore(self, model: FastTextModel) -> None:
        if self.best_state is not None:
            model.input.copy_(self.best_state[0])
            model.output.copy_(self.best_state[1])
