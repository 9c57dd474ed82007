"""Image folders (danlu.data.images): classes, exact pixels, sizes, channels, bad files."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from danlu.data.images import read_image_folder
from danlu.errors import DataError, UsageError

Image = pytest.importorskip("PIL.Image", reason="Pillow is not installed (pip install Pillow)")


def save(path: Path, pixels: np.ndarray) -> np.ndarray:
    """Save ``pixels`` (H, W) or (H, W, 3|4) uint8 as an image file; return them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return pixels


def random_pixels(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.integers(0, 256, size=shape, dtype=np.uint8)


def test_classes_are_sorted_and_pixels_exact(tmp_path) -> None:
    rng = np.random.default_rng(0)
    # written out of order; "b" has two images, read in sorted file order
    b2 = save(tmp_path / "b" / "2.png", random_pixels(rng, 5, 7, 3))
    a1 = save(tmp_path / "a" / "1.png", random_pixels(rng, 5, 7, 3))
    b1 = save(tmp_path / "b" / "1.PNG", random_pixels(rng, 5, 7, 3))
    c1 = save(tmp_path / "c" / "x.png", random_pixels(rng, 5, 7, 3))
    (tmp_path / "c" / "notes.txt").write_text("not an image")  # ignored: not an image suffix
    (tmp_path / ".hidden").mkdir()  # ignored: hidden
    save(tmp_path / "top.png", random_pixels(rng, 5, 7, 3))  # ignored: not in a class

    images, labels, classes = read_image_folder(tmp_path)
    assert classes == ["a", "b", "c"]
    assert labels.dtype == np.int64 and labels.tolist() == [0, 1, 1, 2]
    assert images.dtype == np.uint8 and images.shape == (4, 3, 5, 7)  # (N, C, H, W)
    for got, want in zip(images, [a1, b1, b2, c1], strict=True):
        np.testing.assert_array_equal(got, want.transpose(2, 0, 1))


def test_grayscale_auto_and_forced(tmp_path) -> None:
    rng = np.random.default_rng(1)
    g = save(tmp_path / "x" / "g.png", random_pixels(rng, 4, 6))
    images, _, _ = read_image_folder(tmp_path)
    assert images.shape == (1, 1, 4, 6)  # every image is grayscale: one channel
    np.testing.assert_array_equal(images[0, 0], g)
    rgb, _, _ = read_image_folder(tmp_path, grayscale=False)
    assert rgb.shape == (1, 3, 4, 6)
    for c in range(3):
        np.testing.assert_array_equal(rgb[0, c], g)

    color = save(tmp_path / "y" / "c.png", random_pixels(rng, 4, 6, 3))
    mixed, labels, _ = read_image_folder(tmp_path)
    assert mixed.shape == (2, 3, 4, 6) and labels.tolist() == [0, 1]
    np.testing.assert_array_equal(mixed[1], color.transpose(2, 0, 1))
    gray, _, _ = read_image_folder(tmp_path, grayscale=True)
    expected = np.asarray(Image.fromarray(color).convert("L"))
    np.testing.assert_array_equal(gray[1, 0], expected)


def test_alpha_is_dropped_and_jpeg_is_read(tmp_path) -> None:
    rng = np.random.default_rng(2)
    rgba = save(tmp_path / "a" / "x.png", random_pixels(rng, 3, 3, 4))
    save(tmp_path / "b" / "y.JPEG", np.full((3, 3, 3), 200, np.uint8))
    images, labels, classes = read_image_folder(tmp_path)
    assert classes == ["a", "b"] and labels.tolist() == [0, 1] and images.shape == (2, 3, 3, 3)
    np.testing.assert_array_equal(images[0], rgba[:, :, :3].transpose(2, 0, 1))
    assert np.abs(images[1].astype(int) - 200).max() <= 2  # JPEG is lossy, barely here


def test_mismatched_sizes_are_refused_naming_the_file(tmp_path) -> None:
    rng = np.random.default_rng(3)
    save(tmp_path / "a" / "1.png", random_pixels(rng, 8, 8))
    save(tmp_path / "a" / "2.png", random_pixels(rng, 8, 8))
    odd = tmp_path / "b" / "1.png"
    save(odd, random_pixels(rng, 8, 6))
    save(tmp_path / "b" / "2.png", random_pixels(rng, 5, 5))  # later: not the one named
    with pytest.raises(DataError) as info:
        read_image_folder(tmp_path)
    message = str(info.value)
    assert "\n" not in message
    assert message == (f"{odd}: image is 8x6 (height x width), expected 8x8 like a/1.png; "
                       "pass size=(H, W) to resize them all")  # fmt: skip


def test_resize_to_size(tmp_path) -> None:
    rng = np.random.default_rng(4)
    same = save(tmp_path / "a" / "1.png", random_pixels(rng, 6, 4, 3))
    save(tmp_path / "a" / "2.png", np.full((9, 13, 3), (10, 20, 30), np.uint8))
    images, _, _ = read_image_folder(tmp_path, size=(6, 4))
    assert images.shape == (2, 3, 6, 4)
    np.testing.assert_array_equal(images[0], same.transpose(2, 0, 1))  # already 6x4: untouched
    # a flat image stays flat under bilinear resampling
    np.testing.assert_array_equal(images[1], np.broadcast_to(np.array([10, 20, 30])[:, None, None],
                                                             (3, 6, 4)))  # fmt: skip
    square, _, _ = read_image_folder(tmp_path, size=5)
    assert square.shape == (2, 3, 5, 5)
    expected = np.asarray(Image.fromarray(same).resize((5, 5), Image.Resampling.BILINEAR))
    np.testing.assert_array_equal(square[0], expected.transpose(2, 0, 1))


@pytest.mark.parametrize("size", [0, (3,), (4, -1), (2.5, 3), "8"])
def test_bad_size_is_refused(tmp_path, size) -> None:
    save(tmp_path / "a" / "1.png", np.zeros((2, 2), np.uint8))
    with pytest.raises(UsageError, match="size must be a positive int or \\(height, width\\)"):
        read_image_folder(tmp_path, size=size)


def test_unreadable_image_names_the_file(tmp_path) -> None:
    save(tmp_path / "a" / "1.png", np.zeros((4, 4), np.uint8))
    bad = tmp_path / "a" / "2.png"
    bad.write_bytes(b"this is not a png")
    with pytest.raises(DataError, match="not a readable image") as info:
        read_image_folder(tmp_path)
    assert str(info.value).startswith(f"{bad}: ") and "\n" not in str(info.value)


def test_truncated_image_names_the_file(tmp_path) -> None:
    rng = np.random.default_rng(5)
    good = tmp_path / "a" / "1.png"
    save(good, random_pixels(rng, 32, 32, 3))
    cut = tmp_path / "a" / "2.png"
    data = good.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # the header is intact, the pixels are not
    with pytest.raises(DataError, match="not a readable image") as info:
        read_image_folder(tmp_path)
    assert str(info.value).startswith(f"{cut}: ")


def test_sixteen_bit_images_are_refused(tmp_path) -> None:
    path = tmp_path / "a" / "deep.png"
    path.parent.mkdir()
    Image.fromarray(np.full((3, 3), 4000, np.uint16)).save(path)
    with pytest.raises(DataError, match=r"image mode I.* is not supported"):
        read_image_folder(tmp_path)


def test_empty_root_empty_class_and_missing_root(tmp_path) -> None:
    with pytest.raises(UsageError, match="image folder not found"):
        read_image_folder(tmp_path / "nope")
    with pytest.raises(DataError, match="no class folders"):
        read_image_folder(tmp_path)
    save(tmp_path / "a" / "1.png", np.zeros((2, 2), np.uint8))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "readme.txt").write_text("no images here")
    with pytest.raises(DataError, match="class folder without images") as info:
        read_image_folder(tmp_path)
    assert str(info.value).startswith(f"{tmp_path / 'b'}: ")


def test_missing_pillow_says_how_to_install(tmp_path, monkeypatch) -> None:
    save(tmp_path / "a" / "1.png", np.zeros((2, 2), np.uint8))
    monkeypatch.setitem(sys.modules, "PIL", None)  # makes `from PIL import Image` fail
    with pytest.raises(UsageError, match="pip install Pillow"):
        read_image_folder(tmp_path)
