"""Character-bigram features of the tagger: ids, batches, training, save/load, old models."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from danlu.data.segmentation import tags_to_words
from danlu.data.splits import train_val_split
from danlu.errors import UsageError
from danlu.io import read_safetensors_metadata
from danlu.metrics.segmentation import segmentation_scores
from danlu.tasks.demo import sample_path
from danlu.tasks.tagging.config import SegTrainConfig, TaggerOptions, TagTrainConfig
from danlu.tasks.tagging.model import (
    PAD,
    UNK,
    Batch,
    Tagger,
    TaggerSpec,
    load_tagger,
    spec_from_metadata,
    tagger_metadata,
)
from danlu.tasks.tagging.predict import predict_tags
from danlu.tasks.tagging.seg import SEG_TAGS, read_segmented
from danlu.tasks.tagging.sequences import (
    SequenceData,
    bigram_ids,
    bigram_keys,
    build_bigram_vocab,
    encode,
)
from danlu.tasks.tagging.train import make_spec, make_vocabs, train_segmenter, training_data
from danlu.train.checkpoint import save_safetensors
from danlu.train.config import TrainConfig

SEG = sample_path("gsd_seg.txt")
BIGRAMS = TaggerOptions(embedding_dim=16, hidden=16, bigrams=True, bigram_dim=8,
                        bigram_min_count=1)  # fmt: skip


def test_bigram_keys_include_both_boundaries() -> None:
    assert bigram_keys(list("ab")) == ["<s> a", "a b", "b </s>"]
    assert bigram_keys(["x"]) == ["<s> x", "x </s>"]
    assert bigram_keys([]) == ["<s> </s>"]


def test_bigram_ids_on_a_tiny_example() -> None:
    # counts: "<s> a" 3, "a b" 2, "b </s>" 2, "a c" 1, "c </s>" 1
    vocab = build_bigram_vocab([list("ab"), list("ab"), list("ac")], min_count=2)
    assert vocab == ("<pad>", "<unk>", "<s> a", "a b", "b </s>")
    index = {k: i for i, k in enumerate(vocab)}
    # "abc": <s>a=2, ab=3, bc unseen, c</s> below min_count -> <unk>
    ids = bigram_ids(list("abc"), index)
    assert ids.shape == (3, 2) and ids.dtype == np.int64
    assert ids.tolist() == [[2, 3], [3, UNK], [UNK, UNK]]
    assert bigram_ids(["b"], index).tolist() == [[UNK, 4]]  # "<s> b" unseen, "b </s>" known
    assert bigram_ids([], index).shape == (0, 2)
    # min_count 1 keeps every bigram, ordered by count then text
    assert build_bigram_vocab([list("ab"), list("ac")], 1)[2:] == (
        "<s> a", "a b", "a c", "b </s>", "c </s>",
    )  # fmt: skip


def test_batches_pad_bigram_pairs() -> None:
    data = SequenceData(
        [np.array([2, 3]), np.array([4])],
        [np.array([0, 1]), np.array([1])],
        bigrams=[np.array([[2, 3], [3, 4]]), np.array([[5, 6]])],
    )
    batch = data.get(np.array([1, 0]))
    assert batch.bigrams is not None and batch.bigrams.shape == (2, 2, 2)
    assert batch.bigrams.tolist() == [[[5, 6], [PAD, PAD]], [[2, 3], [3, 4]]]
    assert SequenceData([np.array([2])]).get(np.array([0])).bigrams is None


def test_split_pieces_keep_their_true_neighbours() -> None:
    chars, tags = list("abcd"), ["B", "E", "B", "E"]
    opts = TaggerOptions(embedding_dim=4, hidden=4, bigrams=True, bigram_min_count=1, max_len=2)
    vocab, bigram_vocab = make_vocabs([chars], opts)
    spec = make_spec("seg", opts, vocab, SEG_TAGS, "BMES", bigram_vocab=bigram_vocab)
    data = training_data(spec, [chars], [tags], [1], "x", strict=False)
    assert len(data) == 2  # "ab" | "cd"
    index = {k: i for i, k in enumerate(bigram_vocab)}
    assert data.bigrams is not None
    cd = [[index["b c"], index["c d"]], [index["c d"], index["d </s>"]]]  # not "<s> c"
    assert data.bigrams[1].tolist() == cd


def test_bigram_options_are_validated_and_seg_turns_them_on() -> None:
    with pytest.raises(UsageError, match="--bigram-dim must be >= 1, got 0"):
        TaggerOptions(bigram_dim=0)
    with pytest.raises(UsageError, match="--bigram-min-count must be >= 1"):
        TaggerOptions(bigram_min_count=0)
    assert SegTrainConfig(train="x").model.bigrams
    assert not TagTrainConfig(train="x").model.bigrams
    with pytest.raises(ValueError, match="bigram vocabulary"):
        make_spec("seg", BIGRAMS, ("<pad>", "<unk>", "a"), SEG_TAGS, "BMES")


def _tiny_spec(**kw) -> TaggerSpec:
    base = dict(task="seg", vocab=("<pad>", "<unk>", "a", "b"), tags=SEG_TAGS, scheme="BMES",
                head="crf", embedding_dim=8, hidden=8, layers=1, dropout=0.0,
                word_features=False, constrained=True, max_len=0)  # fmt: skip
    return TaggerSpec(**{**base, **kw})  # type: ignore[arg-type]


def test_bigram_model_needs_bigrams_in_the_batch() -> None:
    spec = _tiny_spec(bigram_vocab=("<pad>", "<unk>", "a b"), bigram_dim=4)
    model = Tagger(spec)
    assert model.lstm.input_size == 8 + 2 * 4
    chars, mask = torch.tensor([[2, 3]]), torch.tensor([[True, True]])
    with pytest.raises(ValueError, match="bigram features"):
        model.emissions(Batch(chars, None, None, mask))
    emissions = model.emissions(Batch(chars, None, None, mask, torch.tensor([[[1, 2], [2, 1]]])))
    assert emissions.shape == (1, 2, 4)


def test_saved_bigram_model_predicts_exactly_like_the_original(tmp_path: Path) -> None:
    torch.manual_seed(0)
    chars = [list("北京大学"), list("南京市长江大桥"), list("大学生")]
    vocab, bigram_vocab = make_vocabs(chars, BIGRAMS)
    spec = make_spec("seg", BIGRAMS, vocab, SEG_TAGS, "BMES", bigram_vocab=bigram_vocab)
    model = Tagger(spec).eval()
    path = tmp_path / "model.safetensors"
    save_safetensors(path, model.state_dict(), tagger_metadata(spec))
    loaded = load_tagger(tmp_path, task="seg")
    assert loaded.spec == spec and loaded.spec.bigram_vocab == bigram_vocab
    seqs = [list("南京大学生"), list("长江"), list("未见过的字")]
    assert predict_tags(loaded, seqs) == predict_tags(model, seqs)
    text = list("南京大学生")
    char_ids = encode(text, {c: i for i, c in enumerate(vocab)})
    pairs = bigram_ids(text, {k: i for i, k in enumerate(bigram_vocab)})
    assert len(set(pairs.ravel().tolist())) > 1
    batch = SequenceData([char_ids], bigrams=[pairs]).get(np.array([0]))
    assert torch.equal(loaded.emissions(batch), model.emissions(batch))


def test_old_metadata_without_bigrams_still_loads(tmp_path: Path) -> None:
    spec = _tiny_spec()
    meta = tagger_metadata(spec)
    assert meta["bigram_dim"] == "0" and meta["bigram_vocab"] == "[]"
    old = {k: v for k, v in meta.items() if k not in ("bigram_vocab", "bigram_dim")}
    assert spec_from_metadata(old) == spec
    torch.manual_seed(0)
    model = Tagger(spec).eval()
    save_safetensors(tmp_path / "model.safetensors", model.state_dict(), old)
    assert "bigram_dim" not in read_safetensors_metadata(tmp_path / "model.safetensors")
    loaded = load_tagger(tmp_path)
    assert not loaded.spec.bigrams and loaded.bigram_embed is None
    assert predict_tags(loaded, [list("abba")]) == predict_tags(model, [list("abba")])


def test_bigram_segmenter_trains_saves_and_reloads(tmp_path: Path) -> None:
    optim = TrainConfig(epochs=4, batch_size=16, lr=5e-3, quiet=True, device="cpu",
                        early_stop_metric="val_f1")  # fmt: skip
    opts = dataclasses.replace(BIGRAMS, bigram_min_count=2)  # rare bigrams teach <unk>
    cfg = SegTrainConfig(train=str(SEG), out=str(tmp_path), dev_fraction=0.2, model=opts,
                         optim=optim)  # fmt: skip
    metrics = train_segmenter(cfg)
    assert metrics["val_f1"] > 0.5 and metrics["bigrams"] > 100
    model = load_tagger(tmp_path, task="seg")
    assert model.spec.bigrams and model.spec.bigram_dim == 8
    assert len(model.spec.bigram_vocab) == metrics["bigrams"]
    # the saved (best) model reproduces the dev F1 measured during training
    sents = read_segmented(str(SEG))
    _, dev_idx = train_val_split(len(sents), 0.2, 0)
    gold = [sents[i][1] for i in dev_idx]
    chars = [list("".join(ws)) for ws in gold]
    pred = [tags_to_words(c, t) for c, t in zip(chars, predict_tags(model, chars), strict=True)]
    scores = segmentation_scores(gold, pred, frozenset(model.spec.train_words))
    assert scores["f1"] == pytest.approx(metrics["val_f1"])
    assert scores["oov_recall"] == pytest.approx(metrics["val_oov_recall"])
