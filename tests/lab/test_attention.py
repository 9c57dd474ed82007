"""The helpers of the lab's attention claims: copy batches, accuracy, the mixing task, the
log-log slope, the activation-memory count and the patch self-attention model."""

from __future__ import annotations

import torch

from danlu.lab.attention import (
    BOS,
    EOS,
    PAD,
    PatchSelfAttention,
    copy_batch,
    loglog_slope,
    mixing_batch,
    saved_bytes,
    token_accuracy,
)


def test_a_copy_batch_shifts_the_source_and_ends_with_eos() -> None:
    src, lengths, tgt_in, tgt_out = copy_batch(6, 2, 5, torch.Generator().manual_seed(0))
    for i in range(6):
        n = int(lengths[i])
        assert 2 <= n <= 5
        assert bool((src[i, :n] >= 3).all()) and bool((src[i, n:] == PAD).all())
        assert tgt_in[i, : n + 1].tolist() == [BOS, *src[i, :n].tolist()]
        assert tgt_out[i, : n + 1].tolist() == [*src[i, :n].tolist(), EOS]
        assert bool((tgt_out[i, n + 1 :] == PAD).all()) and bool((tgt_in[i, n + 1 :] == PAD).all())


def test_token_accuracy_counts_positions_over_the_longer_sequence() -> None:
    assert token_accuracy([3, 4, 5], [3, 4, 5]) == 1.0
    assert token_accuracy([3, 4, 5, 6], [3, 9, 5]) == 0.5
    assert token_accuracy([3, 4], [3, 4, 7, 7]) == 0.5
    assert token_accuracy([3], []) == 0.0


def test_the_mixing_targets_apply_each_groups_pattern_to_its_channels() -> None:
    t, groups = 6, 3
    patterns = torch.softmax(torch.randn(groups, t, t), -1)
    x, y = mixing_batch(patterns, 4, torch.Generator().manual_seed(1))
    assert x.shape == (4, t, 2 * t) and y.shape == (4, t, t)
    assert torch.equal(x[0, :, t:], torch.eye(t))  # one-hot positions
    content = x[..., :t]  # (n, T, T)
    width = t // groups
    for k in range(groups):
        cols = slice(k * width, (k + 1) * width)
        assert torch.allclose(y[..., cols], patterns[k] @ content[..., cols], atol=1e-6)


def test_loglog_slope_recovers_the_exponent_of_a_power_law() -> None:
    xs = [16, 32, 64, 128]
    assert abs(loglog_slope(xs, [3.0 * x**2 for x in xs]) - 2.0) < 1e-9
    assert abs(loglog_slope(xs, [0.5 * x for x in xs]) - 1.0) < 1e-9


def test_saved_bytes_counts_each_saved_storage_once() -> None:
    w = torch.randn(8, 8, requires_grad=True)
    x = torch.randn(4, 8)
    # x @ w saves x (w's gradient needs it; x needs none); tanh saves its output (4, 8)
    assert saved_bytes(lambda v: torch.tanh(v @ w), x) == 4 * (32 + 32)  # float32
    # the same tensor saved twice is counted once
    assert saved_bytes(lambda v: (v * v).sum(), x.requires_grad_()) == 4 * 32


def test_patch_self_attention_classifies_images() -> None:
    model = PatchSelfAttention(patch=7, d=16, heads=2, layers=1)
    assert model(torch.randn(3, 1, 28, 28)).shape == (3, 10)
