"""danlu.nn.text_classifiers: every model's shapes, padding invariance, training, registry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
import torch.nn.functional as F

from danlu.errors import UsageError
from danlu.nn.text_classifiers import (
    TEXT_CLASSIFIERS,
    create_text_classifier,
    text_classifier_names,
)

NAMES = ["textcnn", "textrnn", "textrnn_att", "textrcnn", "transformer"]
SMALL = {
    "textcnn": {"num_filters": 8},
    "textrnn": {"hidden_size": 8},
    "textrnn_att": {"hidden_size": 8},
    "textrcnn": {"hidden_size": 8},
    "transformer": {"heads": 2, "num_layers": 2},
}
VOCAB, CLASSES, DIM = 50, 3, 16


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """Tiny models: one intra-op thread is faster, above all on a busy shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _small(name: str, **extra: object) -> torch.nn.Module:
    torch.manual_seed(0)
    return create_text_classifier(name, VOCAB, CLASSES, DIM, **{**SMALL[name], **extra})


def _batch(lengths: list[int], pad_to: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(1, VOCAB, (len(lengths), pad_to), generator=g)
    mask = torch.arange(pad_to)[None, :] < torch.tensor(lengths)[:, None]
    return tokens.masked_fill(~mask, 0), mask


def test_the_registry_lists_the_five_models() -> None:
    assert text_classifier_names() == NAMES == list(TEXT_CLASSIFIERS)


@pytest.mark.parametrize("name", NAMES)
def test_shapes_and_padding_invariance(name: str) -> None:
    model = _small(name).eval()
    lengths = [5, 1, 3, 7, 2]
    tokens, mask = _batch(lengths, pad_to=7)
    with torch.no_grad():
        logits = model(tokens, mask)
        assert logits.shape == (5, CLASSES) and torch.isfinite(logits).all()
        # default mask: tokens != 0
        torch.testing.assert_close(model(tokens), logits)
        # more padding columns
        wider = F.pad(tokens, (0, 6))
        torch.testing.assert_close(model(wider, wider != 0), logits, atol=1e-5, rtol=1e-5)
        # garbage ids at padded steps, the mask says they are padding
        noisy = torch.where(mask, tokens, torch.randint(1, VOCAB, tokens.shape))
        torch.testing.assert_close(model(noisy, mask), logits, atol=1e-5, rtol=1e-5)
        # each row alone, without any padding
        for i, n in enumerate(lengths):
            alone = model(tokens[i : i + 1, :n])
            torch.testing.assert_close(alone[0], logits[i], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_an_empty_row_gives_finite_logits_and_gradients(name: str) -> None:
    model = _small(name)
    tokens, mask = _batch([0, 3], pad_to=4)
    logits = model(tokens, mask)
    logits.sum().backward()
    assert torch.isfinite(logits).all()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def _keyword_task(n: int = 96, t: int = 8) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Class c when keyword id 1 + c occurs somewhere in a row of filler ids 10..49."""
    g = torch.Generator().manual_seed(1)
    lengths = torch.randint(3, t + 1, (n,), generator=g)
    mask = torch.arange(t)[None, :] < lengths[:, None]
    tokens = torch.randint(10, VOCAB, (n, t), generator=g)
    labels = torch.randint(0, CLASSES, (n,), generator=g)
    where = (torch.rand(n, generator=g) * lengths).long()  # a real position
    tokens[torch.arange(n), where] = 1 + labels
    return tokens.masked_fill(~mask, 0), mask, labels


@pytest.mark.parametrize("name", NAMES)
def test_a_few_adam_steps_lower_the_loss(name: str) -> None:
    tokens, mask, labels = _keyword_task()
    model = _small(name, dropout=0.0)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = F.cross_entropy(model(tokens, mask), labels)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses


def test_unknown_names_and_options_list_the_valid_ones() -> None:
    with pytest.raises(UsageError, match="textcnn, textrnn, textrnn_att, textrcnn, transformer"):
        create_text_classifier("lstm", VOCAB, CLASSES)
    with pytest.raises(UsageError, match=r"no option 'kernel_sizes'; valid: widths, num_filters"):
        create_text_classifier("textcnn", VOCAB, CLASSES, kernel_sizes=(3,))
    with pytest.raises(UsageError, match="multiple of heads"):
        create_text_classifier("transformer", VOCAB, CLASSES, 10, heads=4)
    with pytest.raises(UsageError, match="pooling must be one of last, mean"):
        create_text_classifier("textrnn", VOCAB, CLASSES, pooling="max")
    with pytest.raises(UsageError, match="unknown init scheme"):
        create_text_classifier("textcnn", VOCAB, CLASSES, init="zeros")


@pytest.mark.parametrize("name", NAMES)
def test_pretrained_embeddings_are_copied_and_can_be_frozen(name: str) -> None:
    table = torch.randn(VOCAB, DIM)
    model = _small(name, pretrained=table, freeze_embeddings=True)
    emb = model.embedding.weight  # type: ignore[union-attr]
    torch.testing.assert_close(emb[1:], table[1:])
    assert torch.equal(emb[0], torch.zeros(DIM)) and not emb.requires_grad
    with pytest.raises(UsageError, match=r"pass embed_dim=12"):
        _small(name, pretrained=torch.randn(VOCAB, 12))


def test_init_option_applies_a_danlu_scheme() -> None:
    model = create_text_classifier("textrnn", VOCAB, CLASSES, DIM, hidden_size=8, init="orthogonal")
    w = model.lstm.weight_hh_l0[:8]  # type: ignore[index]  # one gate block (H, H)
    torch.testing.assert_close(w @ w.T, torch.eye(8), atol=1e-5, rtol=0)
    assert torch.equal(model.fc.bias, torch.zeros(CLASSES))  # type: ignore[union-attr]


def test_bad_inputs_say_what_is_expected() -> None:
    model = _small("textcnn")
    with pytest.raises(ValueError, match="int64 tensor of shape"):
        model(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="mask must be a bool tensor"):
        model(torch.ones(2, 3, dtype=torch.long), torch.ones(2, 3))
    transformer = _small("transformer", max_len=4)
    with pytest.raises(UsageError, match="exceeds max_len=4"):
        transformer(torch.ones(1, 5, dtype=torch.long))
