"""The BiLSTM tagger: characters → embeddings → BiLSTM → dropout → emissions → head.

    e_t = [Emb(c_t); WordEmb(p_t); BiEmb(c_{t-1}c_t); BiEmb(c_t c_{t+1})]
          (p_t: jieba's B/M/E/S position, optional; bigrams optional, with the boundary
          symbols c_0 = <s> and c_{L+1} = </s>)
    h_t = [LSTM→(e_1..e_t); LSTM←(e_t..e_L)]
    E_t = W · dropout(h_t) + b              (B, T, K) emission scores
    loss = head.nll(E, y, mask);  ŷ = head.decode(E, mask)

The head is a linear-chain CRF (global normalisation), an MEMM or a Bi-MEMM (local
softmax over emission + transition from the previous tag, teacher-forced), or a plain
per-token softmax. The two bigrams share one embedding table; their concatenation keeps
which side each is on (Chen et al. 2015, "Long Short-Term Memory Neural Networks for
Chinese Word Segmentation"; bigrams are what lift a character BiLSTM segmenter to ~96 F1).
Everything needed to rebuild the model (vocabulary, bigram vocabulary, tag set, scheme,
sizes) is stored in the metadata of ``model.safetensors`` (one key per field of
:class:`TaggerSpec`, see :mod:`danlu.io.metadata`), so a run folder is enough to evaluate or
predict.

Example:
    >>> spec = TaggerSpec(task="seg", vocab=("<pad>", "<unk>", "a"), tags=("B", "M", "E", "S"),
    ...                   scheme="BMES", head="crf", embedding_dim=8, hidden=8, layers=1,
    ...                   dropout=0.0, word_features=False, constrained=True, max_len=0)
    >>> model = Tagger(spec)
    >>> batch = Batch(torch.tensor([[2, 2]]), None, None, torch.tensor([[True, True]]))
    >>> model.decode(batch).shape  # best tag ids (B, T)
    torch.Size([1, 2])
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import torch
from torch import Tensor, nn

from danlu.errors import UsageError
from danlu.io import from_metadata, read_safetensors_metadata, to_metadata
from danlu.nn.heads import create_head
from danlu.nn.recurrent import LSTM
from danlu.nn.transitions import allowed_transitions
from danlu.train.checkpoint import load_safetensors

__all__ = [
    "BOS",
    "EOS",
    "PAD",
    "UNK",
    "Batch",
    "Tagger",
    "TaggerSpec",
    "load_tagger",
    "spec_from_metadata",
    "tagger_metadata",
]

PAD, UNK = 0, 1  # character (and bigram) ids 0 and 1; real ones start at 2
BOS, EOS = "<s>", "</s>"  # the neighbours of a sequence's first and last token in bigrams
WORD_POSITIONS = ("B", "M", "E", "S")  # jieba feature ids 1..4 (0: padding)
_WORD_DIM = 16
_COMMANDS = {"ner": "danlu tag", "seg": "danlu seg"}  # TaggerSpec.task -> its commands


class Batch(NamedTuple):
    """A padded batch: ids (B, T), optional word features (B, T), tags (B, T), mask (B, T),
    optional bigram ids (B, T, 2): ``[..., 0]`` is c_{t-1}c_t, ``[..., 1]`` is c_t c_{t+1}."""

    chars: Tensor
    feats: Tensor | None
    tags: Tensor | None
    mask: Tensor
    bigrams: Tensor | None = None


@dataclass(frozen=True)
class TaggerSpec:
    """What is needed to rebuild a trained tagger (stored as safetensors metadata)."""

    task: str  # "ner" | "seg"
    vocab: tuple[str, ...]  # id -> character; ids 0, 1 are <pad>, <unk>
    tags: tuple[str, ...]  # id -> tag
    scheme: str  # "BIO" | "BIOES" | "BMES"
    head: str  # a name of danlu.nn.heads.HEADS
    embedding_dim: int
    hidden: int
    layers: int
    dropout: float
    word_features: bool
    constrained: bool
    max_len: int
    train_words: tuple[str, ...] = ()  # segmentation: training vocabulary, for OOV recall
    # bigram id -> "a b" (the two tokens joined by a space; ids 0, 1 are <pad>, <unk>);
    # empty with bigram_dim 0: no bigram features (models saved before bigrams existed)
    bigram_vocab: tuple[str, ...] = ()
    bigram_dim: int = 0

    @property
    def bigrams(self) -> bool:
        """Whether the model embeds the bigrams around each token."""
        return self.bigram_dim > 0


def tagger_metadata(spec: TaggerSpec) -> dict[str, str]:
    """The metadata of ``model.safetensors``: every field of ``spec``, and ``danlu_task``."""
    return to_metadata(spec) | {"danlu_task": "tagging"}


def spec_from_metadata(meta: Mapping[str, str], source: str = "metadata") -> TaggerSpec:
    """The :class:`TaggerSpec` saved by :func:`tagger_metadata` (or by older danlu versions).

    Raises:
        ValueError: a field is missing or does not parse; the message names ``source``.
    """
    if "sizes" in meta:
        # Compatibility: files written before danlu.io (up to commit 91c2458) keep the three
        # sizes under one key, sizes = "[embedding_dim, hidden, layers]".
        try:
            emb, hidden, layers = json.loads(meta["sizes"])
        except (TypeError, ValueError):
            raise ValueError(f"{source}: metadata field 'sizes': expected [embedding_dim, "
                             f"hidden, layers], got {meta['sizes']!r}") from None  # fmt: skip
        sizes = {"embedding_dim": emb, "hidden": hidden, "layers": layers}
        meta = {k: json.dumps(v) for k, v in sizes.items()} | dict(meta)
    return from_metadata(TaggerSpec, meta, source)


class Tagger(nn.Module):
    """Character BiLSTM with a CRF/MEMM/Bi-MEMM/softmax head; see the module docstring.

    ``forward(batch)`` returns the mean loss over the batch's sequences;
    :meth:`emissions` gives the (B, T, K) scores and :meth:`decode` the best tag ids.
    """

    def __init__(self, spec: TaggerSpec) -> None:
        super().__init__()
        self.spec = spec
        self.embed = nn.Embedding(len(spec.vocab), spec.embedding_dim, padding_idx=PAD)
        in_dim = spec.embedding_dim
        self.word_embed = None
        if spec.word_features:
            self.word_embed = nn.Embedding(len(WORD_POSITIONS) + 1, _WORD_DIM, padding_idx=0)
            in_dim += _WORD_DIM
        self.bigram_embed = None
        if spec.bigrams:
            if len(spec.bigram_vocab) < 2:
                raise ValueError("a bigram model needs a bigram vocabulary (<pad>, <unk>, ...)")
            self.bigram_embed = nn.Embedding(len(spec.bigram_vocab), spec.bigram_dim,
                                             padding_idx=PAD)  # fmt: skip
            in_dim += 2 * spec.bigram_dim
        self.lstm = LSTM(
            in_dim, spec.hidden, num_layers=spec.layers, batch_first=True, bidirectional=True,
            dropout=spec.dropout if spec.layers > 1 else 0.0,
        )  # fmt: skip
        self.dropout = nn.Dropout(spec.dropout)
        self.emit = nn.Linear(2 * spec.hidden, len(spec.tags))
        # (K+2, K+2) allowed moves, start and end included; the softmax head ignores them
        constraints = None
        if spec.constrained:
            constraints = allowed_transitions(spec.scheme, list(spec.tags))
        self.head = create_head(spec.head, len(spec.tags), constraints)

    def emissions(self, batch: Batch) -> Tensor:
        x = self.embed(batch.chars)  # (B, T, E)
        if self.word_embed is not None:
            if batch.feats is None:
                raise ValueError("this model uses word features; the batch has none")
            x = torch.cat([x, self.word_embed(batch.feats)], dim=-1)  # (B, T, E + 16)
        if self.bigram_embed is not None:
            if batch.bigrams is None:
                raise ValueError("this model uses bigram features; the batch has none")
            left_right = self.bigram_embed(batch.bigrams)  # (B, T, 2, D)
            x = torch.cat([x, left_right.flatten(2)], dim=-1)  # (B, T, ... + 2D)
        lengths = batch.mask.sum(1)
        h, _ = self.lstm(self.dropout(x), lengths=lengths)  # (B, T, 2H)
        return self.emit(self.dropout(h))  # (B, T, K)

    def forward(self, batch: Batch) -> Tensor:
        if batch.tags is None:
            raise ValueError("forward computes the loss; the batch needs tags")
        return self.head.nll(self.emissions(batch), batch.tags, batch.mask, reduction="mean")

    @torch.no_grad()
    def decode(self, batch: Batch) -> Tensor:
        """Best tag ids (B, T), -1 on padding."""
        tags, _ = self.head.decode(self.emissions(batch), batch.mask)
        return tags


def load_tagger(run_dir: str | Path, task: str | None = None) -> Tagger:
    """Rebuild a trained tagger from ``RUN_DIR/model.safetensors`` (no code is executed).

    Args:
        run_dir: the run folder (or the ``.safetensors`` file itself).
        task: ``"ner"`` or ``"seg"`` to insist on the kind of model.

    Raises:
        UsageError: no such file, not a tagging model, bad metadata (one line naming the
            file), or a model of the other task.
    """
    path = Path(run_dir)
    if path.is_dir() or not str(path).endswith(".safetensors"):
        path = path / "model.safetensors"
    if not path.is_file():
        raise UsageError(f"no model found: {path} does not exist (pass a run folder of "
                         "danlu tag train or danlu seg train)")  # fmt: skip
    try:
        meta = read_safetensors_metadata(path)
        if meta.get("danlu_task") != "tagging":
            raise UsageError(f"{path}: not a danlu tagging model (metadata danlu_task is "
                             f"{meta.get('danlu_task')!r})")  # fmt: skip
        spec = spec_from_metadata(meta, source=str(path))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if task is not None and spec.task != task:
        other = _COMMANDS.get(spec.task, f"task {spec.task!r}")
        raise UsageError(f"{path}: this is a {spec.task} model; use {other} commands with it")
    model = Tagger(spec)
    model.load_state_dict(load_safetensors(path))
    return model.eval()
