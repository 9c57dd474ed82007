"""``danlu vision distort``: per-image random rotation/scale/shift of an IDX set, seeded."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tests.conftest import run_danlu

from danlu.data import read_idx_images_labels, write_idx
from danlu.data.augment import affine
from danlu.tasks.vision.config import VisionDistortConfig
from danlu.tasks.vision.demo import sample_files
from danlu.tasks.vision.distort import (
    IMAGES_FILE,
    LABELS_FILE,
    centre_on_canvas,
    distort,
    distort_files,
)

TRAIN, TRAIN_LABELS = sample_files("train")


def pixels(n: int = 64) -> torch.Tensor:
    x, _ = read_idx_images_labels(TRAIN, TRAIN_LABELS)
    return torch.from_numpy(x[:n].copy())[:, None]  # (n, 1, 28, 28) uint8


def test_no_rotation_unit_scale_and_no_shift_is_the_identity() -> None:
    x = pixels()
    assert torch.equal(distort(x, 0.0, (1.0, 1.0), 0.0, seed=0), x)


def test_each_image_gets_its_own_draw_from_the_seed_alone() -> None:
    x = pixels()
    a = distort(x, 45.0, (0.7, 1.2), 0.1, seed=5)
    assert torch.equal(a, distort(x, 45.0, (0.7, 1.2), 0.1, seed=5, chunk=7))  # not the chunks
    assert not torch.equal(a, distort(x, 45.0, (0.7, 1.2), 0.1, seed=6))
    # the same image twice gets two different warps
    twice = distort(torch.cat([x[:1], x[:1]]), 45.0, (0.7, 1.2), 0.1, seed=0)
    assert not torch.equal(twice[0], twice[1])


def test_a_draw_is_the_affine_map_with_the_drawn_parameters() -> None:
    """With rotation only (scale 1, no shift), image i is affine(x_i, angle_i): the angle is
    recovered by trying the drawn one; a pure 90-degree recipe is an exact rot90."""
    x = pixels(4).float()
    out = distort(x, 90.0, (1.0, 1.0), 0.0, seed=1)
    gen = torch.Generator().manual_seed(1)
    angle = (torch.rand(4, generator=gen, dtype=torch.float64) * 2 - 1) * 90
    want = affine(x, angle.float(), torch.zeros(4, 2), torch.ones(4))
    torch.testing.assert_close(out, want)


def test_the_command_writes_a_distorted_copy_with_the_labels(tmp_path) -> None:
    x, y = read_idx_images_labels(TRAIN, TRAIN_LABELS)
    write_idx(tmp_path / "x.gz", x[:100])
    write_idx(tmp_path / "y.gz", y[:100])
    x_file, y_file = str(tmp_path / "x.gz"), str(tmp_path / "y.gz")
    proc = run_danlu("vision", "distort", "--data", x_file, "--labels", y_file,
                     "--out", str(tmp_path / "rts"), "--seed", "3")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "wrote 100 distorted images" in proc.stderr
    xd, yd = read_idx_images_labels(tmp_path / "rts" / IMAGES_FILE, tmp_path / "rts" / LABELS_FILE)
    assert xd.shape == (100, 28, 28) and xd.dtype == np.uint8 and np.array_equal(yd, y[:100])
    assert not np.array_equal(xd, x[:100])
    again = distort_files(
        VisionDistortConfig(data=x_file, labels=y_file, out=str(tmp_path / "again"), seed=3)
    )
    assert again["count"] == 100
    assert (tmp_path / "again" / IMAGES_FILE).read_bytes() == (
        tmp_path / "rts" / IMAGES_FILE).read_bytes()  # fmt: skip


@pytest.mark.parametrize(("options", "message"), [
    (["--rotate", "200"], "--rotate must be in [0, 180]"),
    (["--scale-min", "1.3"], "need 0 < --scale-min <= --scale-max"),
    (["--shift", "1"], "--shift must be in [0, 1)"),
    (["--canvas", "-1"], "--canvas must be 0"),
])  # fmt: skip
def test_bad_options_are_one_line_and_status_2(tmp_path, options, message) -> None:
    proc = run_danlu("vision", "distort", "--data", TRAIN, "--labels", TRAIN_LABELS, "--out",
                     str(tmp_path / "o"), *options)  # fmt: skip
    assert proc.returncode == 2 and message in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_a_canvas_centres_the_image_before_the_warp(tmp_path) -> None:
    x = pixels(8)
    placed = centre_on_canvas(x, 42)
    assert placed.shape == (8, 1, 42, 42) and placed.dtype == torch.uint8
    assert torch.equal(placed[:, :, 7:35, 7:35], x) and placed.sum() == x.sum()
    assert centre_on_canvas(x, 0) is x and centre_on_canvas(x, 28) is x
    # the canvas and then no warp at all: the centred digit, written at 42 x 42
    _, y = read_idx_images_labels(TRAIN, TRAIN_LABELS)
    write_idx(tmp_path / "x.gz", x[:, 0].numpy())
    write_idx(tmp_path / "y.gz", y[:8])
    cfg = VisionDistortConfig(data=str(tmp_path / "x.gz"), labels=str(tmp_path / "y.gz"),
                              out=str(tmp_path / "o"), rotate=0.0, scale_min=1.0,
                              scale_max=1.0, shift=0.0, canvas=42)  # fmt: skip
    distort_files(cfg)
    xd, _ = read_idx_images_labels(tmp_path / "o" / IMAGES_FILE, tmp_path / "o" / LABELS_FILE)
    assert np.array_equal(xd, placed[:, 0].numpy())


def test_a_canvas_smaller_than_the_images_is_one_line_and_status_2(tmp_path) -> None:
    proc = run_danlu("vision", "distort", "--data", TRAIN, "--labels", TRAIN_LABELS, "--out",
                     str(tmp_path / "o"), "--canvas", "20")  # fmt: skip
    assert proc.returncode == 2 and "--canvas 20 is smaller than the 28 x 28 images" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
