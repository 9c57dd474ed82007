"""The exposure-bias remedies change the decoder inputs as specified, and only them."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from danlu.nn.seq2seq import create_seq2seq
from danlu.tasks.translation.batches import Batch
from danlu.tasks.translation.data import BOS, PAD
from danlu.tasks.translation.exposure import (
    DecoderFGM,
    TranslationLoss,
    mix_predictions,
    teacher_forcing_probability,
    token_noise,
)


def batch_of(vocab: int = 30, seed: int = 0) -> Batch:
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(4, vocab, (6, 7), generator=g)
    src[3:, 5:] = PAD
    tgt = torch.randint(4, vocab, (6, 9), generator=g)
    tgt[:, 0] = BOS
    tgt[2:, 6:] = PAD
    out = torch.roll(tgt, -1, 1).masked_fill(tgt == PAD, PAD)
    return Batch(src, src != PAD, tgt, out)


def test_token_noise_replaces_about_p_of_the_real_inputs_and_nothing_else() -> None:
    tgt_in = torch.full((200, 50), 7)
    tgt_in[:, 0], tgt_in[:, 40:] = BOS, PAD
    noisy = token_noise(tgt_in, 0.3, vocab_size=1000, generator=torch.Generator().manual_seed(1))
    changed = noisy != tgt_in
    assert not changed[:, 0].any() and not changed[:, 40:].any()  # BOS and padding stay
    assert abs(changed[:, 1:40].float().mean().item() - 0.3) < 0.02
    assert noisy[changed].min() >= 4  # drawn from the real tokens, never a special id
    assert token_noise(tgt_in, 0.0, 1000, torch.Generator()).equal(tgt_in)


def test_the_teacher_forcing_probability_decays_as_an_inverse_sigmoid() -> None:
    k = 100.0
    assert teacher_forcing_probability(0, k) == pytest.approx(k / (k + 1))
    values = [teacher_forcing_probability(i, k) for i in range(0, 3000, 100)]
    assert all(a > b for a, b in itertools.pairwise(values))
    at = k * math.log(k)  # exp(i/k) = k: the probability is one half
    assert teacher_forcing_probability(round(at), k) == pytest.approx(0.5, abs=0.01)
    assert teacher_forcing_probability(10**9, k) == 0.0


def test_scheduled_sampling_feeds_the_models_guess_of_the_previous_position() -> None:
    tgt_in = torch.tensor([[BOS, 5, 6, 7, PAD], [BOS, 8, 9, PAD, PAD]])
    guess = torch.tensor([[11, 12, 13, 14, 15], [21, 22, 23, 24, 25]])  # argmax at each t
    g = torch.Generator().manual_seed(0)
    assert mix_predictions(tgt_in, guess, 1.0, g).equal(tgt_in)  # all gold
    every = mix_predictions(tgt_in, guess, 0.0, g)  # all the model's: guess[t - 1] at t
    assert every.tolist() == [[BOS, 11, 12, 13, PAD], [BOS, 21, 22, PAD, PAD]]
    half = mix_predictions(tgt_in.repeat(500, 1), guess.repeat(500, 1), 0.5, g)
    assert 0.45 < (half != tgt_in.repeat(500, 1)).sum().item() / (5 * 500) < 0.55


def test_scheduled_sampling_in_the_loss_runs_a_first_pass_and_mixes_its_argmax() -> None:
    torch.manual_seed(0)
    model = create_seq2seq(
        "gru_attn", 30, 30, embed_dim=8, hidden_size=8, num_layers=1, dropout=0.0
    )  # the first pass is then repeatable here
    batch = batch_of()
    loss = TranslationLoss(30, model.tgt_embedding, scheduled_sampling=1.0)  # ε ≈ 0 at step 50
    loss.step = lambda: 50
    mixed = loss.decoder_inputs(model, batch)
    with torch.no_grad():
        guess = model(batch.src, batch.src_mask, batch.tgt_in).argmax(-1)
    real = (batch.tgt_in != PAD) & (torch.arange(9) > 0)
    shifted = torch.cat([batch.tgt_in[:, :1], guess[:, :-1]], 1)
    assert mixed[real].equal(shifted[real]) and mixed[~real].equal(batch.tgt_in[~real])


def _with_decoder_embedding(model, tokens, change):
    """A forward hook that replaces the decoder's embedding output ``o`` by ``change(o)``."""
    return model.tgt_embedding.register_forward_hook(
        lambda m, a, o: change(o) if a[0] is tokens else o
    )


@pytest.mark.parametrize("model_name", ["transformer", "gru_attn"])
def test_adversarial_perturbs_only_the_decoder_embeddings(model_name) -> None:
    torch.manual_seed(0)
    options = {
        "transformer": {
            "d_model": 16,
            "heads": 2,
            "num_encoder_layers": 1,
            "num_decoder_layers": 1,
            "shared_embeddings": True,
        },
        "gru_attn": {"embed_dim": 8, "hidden_size": 8, "num_layers": 1},
    }
    model = create_seq2seq(model_name, 30, 30, dropout=0.0, **options[model_name]).double()
    batch, eps = batch_of(), 0.5
    sources: list[torch.Tensor] = []  # what the encoder reads, in every pass
    model.encoder.register_forward_pre_hook(lambda m, a: sources.append(a[0].clone()))

    def loss_at(tokens: torch.Tensor) -> torch.Tensor:
        logits = model(batch.src, batch.src_mask, tokens)
        return torch.nn.functional.cross_entropy(logits.transpose(1, 2), batch.tgt_out,
                                                 ignore_index=PAD)  # fmt: skip

    total = DecoderFGM(model.tgt_embedding, eps).loss(loss_at, batch.tgt_in)
    assert len(sources) == 2 and torch.equal(sources[0], sources[1])  # the source untouched
    model.zero_grad()
    total.backward()
    fgm_grads = {n: p.grad.clone() for n, p in model.named_parameters()}

    # by hand: g = dL/de at the decoder embedding output, r = eps·g/||g|| per sentence
    seen: list[torch.Tensor] = []
    handle = _with_decoder_embedding(model, batch.tgt_in, lambda o: seen.append(o) or o)
    clean = loss_at(batch.tgt_in)
    handle.remove()
    assert total.item() == pytest.approx(clean.item())  # the value logged: the clean loss
    (g,) = torch.autograd.grad(clean, seen[0], retain_graph=True)
    r = eps * g / g.flatten(1).norm(dim=1)[:, None, None]
    assert torch.allclose(r.flatten(1).norm(dim=1), torch.full((6,), eps, dtype=torch.float64))
    model.zero_grad()
    clean.backward()
    handle = _with_decoder_embedding(model, batch.tgt_in, lambda o: o + r)
    loss_at(batch.tgt_in).backward()  # accumulates: clean + adversarial
    handle.remove()
    for name, p in model.named_parameters():
        assert torch.allclose(fgm_grads[name], p.grad, atol=1e-12), name
    assert (batch.src != batch.tgt_in[:, :7]).any()  # (the two inputs differ)
