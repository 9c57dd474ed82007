"""Batched augmentation (danlu.data.augment): each op against its definition, seeds, parsing."""

from __future__ import annotations

import math

import pytest
import torch

from danlu import names
from danlu.data.augment import (
    AUGMENTATIONS,
    Augment,
    RandomAffine,
    RandomCrop,
    RandomErase,
    RandomFlip,
    affine,
    describe_augmentations,
    parse_augment,
)
from danlu.errors import UsageError

NO_CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
DEVICES = ["cpu", pytest.param("cuda", marks=NO_CUDA)]


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def images(b: int, c: int, h: int, w: int, dtype: torch.dtype = torch.uint8) -> torch.Tensor:
    """Random images with no zero pixel (so a zeroed pixel is always a change)."""
    x = torch.randint(1, 256, (b, c, h, w), generator=gen(123), dtype=torch.uint8)
    return x if dtype == torch.uint8 else x.to(dtype)


# ------------------------------------------------------------------------ flip
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_flip_mirrors_some_images_and_leaves_the_rest(dtype) -> None:
    x = images(64, 2, 5, 6, dtype)
    y = RandomFlip()(x, gen())
    flipped = [torch.equal(y[i], x[i].flip(-1)) for i in range(64)]
    kept = [torch.equal(y[i], x[i]) for i in range(64)]
    assert all(f != k for f, k in zip(flipped, kept, strict=True))  # exactly one of the two
    assert 10 < sum(flipped) < 54  # p = 0.5: both happen (P(fail) < 1e-7)
    assert y.dtype == dtype


# ------------------------------------------------------------------------ crop
def crop_offsets(x: torch.Tensor, y: torch.Tensor, pad: int) -> list[tuple[int, int]]:
    """The window of the zero-padded x that each y is, found by an explicit search."""
    _, _, h, w = x.shape
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    found = []
    for i in range(len(x)):
        matches = [(dy, dx) for dy in range(2 * pad + 1) for dx in range(2 * pad + 1)
                   if torch.equal(padded[i, :, dy : dy + h, dx : dx + w], y[i])]  # fmt: skip
        assert len(matches) == 1, f"image {i}: {len(matches)} windows match"
        found.append(matches[0])
    return found


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_crop_is_a_window_of_the_zero_padded_image(dtype) -> None:
    x = images(200, 3, 6, 5, dtype)
    y = RandomCrop(2)(x, gen())
    assert y.shape == x.shape and y.dtype == dtype
    offsets = crop_offsets(x, y, 2)
    dys = {dy for dy, _ in offsets}
    dxs = {dx for _, dx in offsets}
    assert dys == set(range(5)) and dxs == set(range(5))  # every offset 0..2p is drawn


def test_crop_zero_is_the_identity() -> None:
    x = images(4, 1, 3, 3)
    assert torch.equal(RandomCrop(0)(x, gen()), x)


# ------------------------------------------------------------------------ affine
def affine_reference(x: torch.Tensor, angle: list[float], shift: list[tuple[float, float]],
                     scale: list[float]) -> torch.Tensor:  # fmt: skip
    """affine's docstring, pixel by pixel: p = R(-a)(q - T)/s, bilinear, zero outside."""
    b, _, h, w = x.shape
    out = torch.zeros_like(x)
    for n in range(b):
        a = math.radians(angle[n])
        tx, ty = shift[n][0] * w, shift[n][1] * h
        for i in range(h):
            for j in range(w):
                qx, qy = j + 0.5 - w / 2 - tx, i + 0.5 - h / 2 - ty  # from the centre, minus T
                px = (math.cos(a) * qx + math.sin(a) * qy) / scale[n]  # R(-a) / s
                py = (-math.sin(a) * qx + math.cos(a) * qy) / scale[n]
                sx, sy = px + w / 2 - 0.5, py + h / 2 - 0.5  # back to pixel indices
                x0, y0 = math.floor(sx), math.floor(sy)
                for yy, xx, weight in ((y0, x0, (1 - (sy - y0)) * (1 - (sx - x0))),
                                       (y0, x0 + 1, (1 - (sy - y0)) * (sx - x0)),
                                       (y0 + 1, x0, (sy - y0) * (1 - (sx - x0))),
                                       (y0 + 1, x0 + 1, (sy - y0) * (sx - x0))):  # fmt: skip
                    if 0 <= yy < h and 0 <= xx < w:
                        out[n, :, i, j] += weight * x[n, :, yy, xx]
    return out


def test_affine_matches_its_formula_in_float64() -> None:
    x = torch.rand(3, 2, 5, 7, generator=gen(), dtype=torch.float64)
    angle, scale = [30.0, -75.0, 0.0], [1.2, 0.8, 1.0]
    shift = [(0.1, -0.2), (0.0, 0.15), (-0.3, 0.0)]
    got = affine(x, torch.tensor(angle), torch.tensor(shift), torch.tensor(scale))
    want = affine_reference(x, angle, shift, scale)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-6)


def test_affine_special_cases() -> None:
    x = torch.rand(2, 3, 6, 6, generator=gen())
    ones, zeros = torch.ones(2), torch.zeros(2, 2)
    turn = affine(x, torch.full((2,), 90.0), zeros, ones)
    torch.testing.assert_close(turn, torch.rot90(x, -1, (2, 3)), rtol=0, atol=1e-5)  # clockwise
    half = affine(x, torch.full((2,), 180.0), zeros, ones)
    torch.testing.assert_close(half, x.flip(-1).flip(-2), rtol=0, atol=1e-5)
    wide = torch.rand(2, 3, 4, 10, generator=gen())  # shift right by 2 of 10 pixels
    moved = affine(wide, torch.zeros(2), torch.tensor([[0.2, 0.0]] * 2), ones)
    want = torch.nn.functional.pad(wide, (2, 0))[..., :10]
    torch.testing.assert_close(moved, want, rtol=0, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_affine_with_nothing_to_do_is_the_identity(dtype) -> None:
    x = images(8, 3, 7, 9, dtype)
    x = x / 255 if dtype.is_floating_point else x
    y = RandomAffine(0, 0, 0)(x, gen())
    assert y.dtype == dtype
    if dtype == torch.uint8:
        assert torch.equal(y, x)
    else:
        assert (y - x).abs().max() < 1e-5


def test_random_affine_stays_within_its_ranges() -> None:
    """Pure rotations keep the centre pixel of an odd image; shifts move it."""
    x = torch.zeros(32, 1, 9, 9)
    x[:, :, 4, 4] = 1.0
    turned = RandomAffine(45, 0, 0)(x, gen())
    assert torch.all(turned[:, 0, 4, 4] > 0.3)
    shifted = RandomAffine(0, 0.3, 0)(x, gen())
    assert (shifted[:, 0, 4, 4] < 0.5).sum() > 16  # most shifts exceed half a pixel


# ------------------------------------------------------------------------ erase
def test_erase_with_p0_is_the_identity() -> None:
    x = images(16, 3, 8, 8)
    assert torch.equal(RandomErase(0.0)(x, gen()), x)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_erase_with_p1_zeroes_one_rectangle_per_image_and_nothing_else(dtype) -> None:
    x = images(100, 3, 12, 10, dtype)
    y = RandomErase(1.0)(x, gen())
    for i in range(len(x)):
        changed = (y[i] != x[i]).any(0)  # (H, W)
        rows = changed.any(1).nonzero().flatten().tolist()
        cols = changed.any(0).nonzero().flatten().tolist()
        assert rows and cols, f"image {i} has no erased rectangle"
        r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        assert rows == list(range(r0, r1)) and cols == list(range(c0, c1))
        assert changed[r0:r1, c0:c1].all() and changed.sum() == (r1 - r0) * (c1 - c0)
        assert (y[i, :, r0:r1, c0:c1] == 0).all()  # zeroed in every channel
        area = (r1 - r0) * (c1 - c0) / (12 * 10)
        assert area <= 0.6  # S_e <= 0.4 HW, plus rounding of the sides


def test_erase_area_is_on_average_the_papers() -> None:
    """s ~ U[0.02, 0.4]: the mean erased area is 0.21 HW (rounding and clipping the sides
    moves it by < 0.002 at 32x32; one row too many would add 0.014)."""
    x = images(4000, 1, 32, 32)
    y = RandomErase(1.0)(x, gen())
    area = (y != x).flatten(1).sum(1).double() / (32 * 32)
    assert abs(area.mean().item() - 0.2095) < 0.006  # standard error 0.0018
    assert area.min().item() >= 0.01 and area.max().item() <= 0.45  # sides are rounded


def test_erase_mean_fills_with_each_images_channel_means() -> None:
    x = images(20, 3, 6, 6, torch.float32)
    y = RandomErase(1.0, fill="mean")(x, gen())
    mean = x.mean(dim=(2, 3))  # (B, C)
    for i in range(len(x)):
        erased = (y[i] != x[i]).any(0)
        for c in range(3):
            torch.testing.assert_close(y[i, c][erased], mean[i, c].expand(int(erased.sum())))


def test_erase_probability() -> None:
    x = images(400, 1, 8, 8)
    y = RandomErase(0.25)(x, gen())
    hit = (y != x).flatten(1).any(1).sum().item()
    assert 60 < hit < 140  # 100 expected, sd 8.7


# ------------------------------------------------------------------------ pipeline
SPEC = "crop:4,flip,affine:15:0.1:0.1,erase:0.25"


def test_same_seed_same_output_other_seed_other_output() -> None:
    x = images(16, 3, 16, 16)
    augment = parse_augment(SPEC)
    assert torch.equal(augment(x, gen(7)), augment(x, gen(7)))
    assert not torch.equal(augment(x, gen(7)), augment(x, gen(8)))


def test_uint8_and_float32_agree_to_rounding() -> None:
    x = images(16, 3, 16, 16)
    augment = parse_augment(SPEC)
    a, b = augment(x, gen(3)), augment(x.float(), gen(3))
    assert a.dtype == torch.uint8 and b.dtype == torch.float32 and a.shape == x.shape
    assert (a.float() - b).abs().max() <= 0.5 + 1e-3


@pytest.mark.parametrize("device", DEVICES)
def test_runs_on_the_batch_device_with_a_cpu_generator(device) -> None:
    x = images(8, 3, 12, 12)
    augment = parse_augment(SPEC + ",erase:0.5:mean")
    y = augment(x.to(device), gen(5))
    assert y.device.type == device and y.dtype == torch.uint8
    ref = augment(x, gen(5))  # the same draws: results equal up to float rounding
    assert (y.cpu().int() - ref.int()).abs().max() <= 1


# ------------------------------------------------------------------------ parsing
@pytest.mark.parametrize(
    ("spec", "ops"),
    [
        ("", ()),
        ("  ", ()),
        ("flip", (RandomFlip(),)),
        (SPEC, (RandomCrop(4), RandomFlip(), RandomAffine(15, 0.1, 0.1), RandomErase(0.25))),
        (" crop : 2 , erase:0.5:mean", (RandomCrop(2), RandomErase(0.5, "mean"))),
    ],
)
def test_parse(spec, ops) -> None:
    assert parse_augment(spec) == Augment(ops)


@pytest.mark.parametrize("spec", [SPEC, "erase:0.5:mean,flip,flip", "affine:0.5:0:0.25"])
def test_str_is_the_spec(spec) -> None:
    assert str(parse_augment(spec)) == spec


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("blur", "unknown augmentation 'blur' in 'blur'; valid: crop:PAD ("),
        ("crop:4,,flip", "an empty augmentation in"),
        ("crop", "'crop' has 0 arguments, crop takes 1 (crop:PAD); valid:"),
        ("crop:1:2", "'crop:1:2' has 2 arguments, crop takes 1"),
        ("flip:1", "'flip:1' has 1 arguments, flip takes 0 (flip)"),
        ("affine:15:0.1", "affine takes 3 (affine:DEGREES:TRANSLATE:SCALE)"),
        ("erase", "erase takes 1 to 2 (erase:P[:FILL])"),
    ],
)
def test_unknown_ops_and_wrong_arity_list_every_op(spec, message) -> None:
    with pytest.raises(UsageError) as info:
        parse_augment(spec)
    text = str(info.value)
    assert message in text
    for usage in ("crop:PAD", "flip (", "affine:DEGREES:TRANSLATE:SCALE", "erase:P[:FILL]"):
        assert usage in text


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("crop:-1", "crop: PAD must be an integer >= 0 (pixels of zero padding), got -1"),
        ("crop:2.5", "crop: PAD must be an integer, got '2.5'"),
        ("affine:200:0:0", "affine: DEGREES must be in [0, 180], got 200.0"),
        ("affine:10:1:0", "affine: TRANSLATE must be in [0, 1), got 1.0"),
        ("affine:10:0:-0.1", "affine: SCALE must be in [0, 1), got -0.1"),
        ("affine:x:0:0", "affine: DEGREES must be a number, got 'x'"),
        ("erase:1.5", "erase: P must be a probability in [0, 1], got 1.5"),
        ("erase:nan", "erase: P must be a number, got 'nan'"),
        ("erase:0.5:noise", "erase: FILL must be one of zero, mean, got 'noise'"),
    ],
)
def test_bad_argument_values(spec, message) -> None:
    with pytest.raises(UsageError) as info:
        parse_augment(spec)
    assert str(info.value) == message


def test_the_table_describes_every_op() -> None:
    text = describe_augmentations()
    assert list(AUGMENTATIONS) == list(names.AUGMENTATIONS)  # one list of names
    for name, what in names.AUGMENTATIONS.items():
        assert f"{name}" in text and what in text
    assert text.count("), ") == len(AUGMENTATIONS) - 1


def test_batches_must_be_4d_uint8_or_float() -> None:
    augment = parse_augment("flip")
    with pytest.raises(ValueError, match=r"takes a batch \(B, C, H, W\), got shape \(3, 4, 4\)"):
        augment(torch.zeros(3, 4, 4), gen())
    with pytest.raises(ValueError, match=r"uint8 or floating-point images, got torch\.int64"):
        augment(torch.zeros(1, 1, 4, 4, dtype=torch.long), gen())
