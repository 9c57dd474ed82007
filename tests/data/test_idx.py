"""IDX files (danlu.data.idx): round trips, gzip or raw, and every malformed file."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from danlu.data.idx import read_idx, read_idx_images_labels, write_idx
from danlu.errors import DataError, UsageError

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    """An IDX file written here by hand, independently of write_idx."""
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.tobytes()


@pytest.mark.parametrize("name", ["x.idx", "x.idx.gz"])
@pytest.mark.parametrize("shape", [(7,), (5, 3, 4), (2, 1, 3, 2)])
def test_round_trip_gz_and_raw(tmp_path, name, shape) -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, size=shape, dtype=np.uint8)
    path = write_idx(tmp_path / name, a)
    raw = path.read_bytes()
    assert (raw[:2] == b"\x1f\x8b") == name.endswith(".gz")
    assert (gzip.decompress(raw) if name.endswith(".gz") else raw) == idx_bytes(a)
    back = read_idx(path)
    assert back.dtype == np.uint8 and back.shape == shape
    np.testing.assert_array_equal(back, a)
    assert back.flags.writeable and back.flags.c_contiguous


def test_gzip_is_detected_from_the_bytes_not_the_name(tmp_path) -> None:
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    (tmp_path / "packed").write_bytes(gzip.compress(idx_bytes(a)))
    (tmp_path / "plain.gz").write_bytes(idx_bytes(a))
    np.testing.assert_array_equal(read_idx(tmp_path / "packed"), a)
    np.testing.assert_array_equal(read_idx(tmp_path / "plain.gz"), a)


def one_line_error(path: Path) -> str:
    with pytest.raises(DataError) as info:
        read_idx(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return message


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_and_over_long_files_give_expected_and_actual_bytes(tmp_path, compress) -> None:
    data = idx_bytes(np.zeros((10, 28, 28), np.uint8))  # 16 + 7840 = 7856 bytes
    pack = gzip.compress if compress else (lambda b: b)
    short = tmp_path / "short"
    short.write_bytes(pack(data[:-100]))
    assert one_line_error(short) == (
        f"{short}: expected 7856 bytes (16-byte header + 10x28x28 uint8), got 7756 bytes: "
        "the file is truncated"
    )
    long = tmp_path / "long"
    long.write_bytes(pack(data + b"\x00" * 3))
    assert "expected 7856 bytes" in one_line_error(long)
    assert "got 7859 bytes: the file is longer than its header says" in one_line_error(long)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "expected at least 4 bytes (the IDX header), got 0 bytes"),
        (b"\x00\x00\x08", "expected at least 4 bytes (the IDX header), got 3 bytes"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", "expected at least 16 bytes"),
        (b"\x01\x00\x08\x01\x00\x00\x00\x00", "bad magic number 0x01000801"),
        (b"\x00\x00\x08\x00", "bad magic number 0x00000800"),
        (b"PK\x03\x04", "bad magic number 0x504b0304"),
        (b"\x00\x00\x0d\x01\x00\x00\x00\x01" + b"\x00" * 4, "type code 0x0d (float32) is not"),
        (b"\x00\x00\x42\x01\x00\x00\x00\x01\x00", "type code 0x42 (not an IDX type)"),
    ],
)
def test_bad_headers_give_one_line(tmp_path, data, message) -> None:
    path = tmp_path / "bad.idx"
    path.write_bytes(data)
    assert message in one_line_error(path)


def test_type_code_error_lists_the_valid_one(tmp_path) -> None:
    path = tmp_path / "f.idx"
    path.write_bytes(idx_bytes(np.zeros(3, np.int32), code=0x0C))
    message = one_line_error(path)
    assert message.endswith("type code 0x0c (int32) is not supported; valid: 0x08 (uint8)")


def test_missing_and_broken_gzip_files(tmp_path) -> None:
    assert "file not found" in one_line_error(tmp_path / "nope.gz")
    packed = gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8)))
    cut = tmp_path / "cut.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    assert "gzip stream ends early" in one_line_error(cut)
    garbage = tmp_path / "garbage.gz"
    garbage.write_bytes(b"\x1f\x8b" + b"\xff" * 30)
    assert "not a valid gzip file" in one_line_error(garbage)


def test_images_and_labels_must_match(tmp_path) -> None:
    images = write_idx(tmp_path / "img.gz", np.zeros((4, 2, 2), np.uint8))
    labels = write_idx(tmp_path / "lab.gz", np.arange(4, dtype=np.uint8))
    x, y = read_idx_images_labels(images, labels)
    assert x.shape == (4, 2, 2) and y.tolist() == [0, 1, 2, 3]
    three = write_idx(tmp_path / "three.gz", np.arange(3, dtype=np.uint8))
    with pytest.raises(DataError, match=r"3 labels, but .*img\.gz holds 4 images"):
        read_idx_images_labels(images, three)
    with pytest.raises(DataError, match="is this the label file"):
        read_idx_images_labels(labels, labels)
    with pytest.raises(DataError, match="is this the image file"):
        read_idx_images_labels(images, images)


def test_write_idx_refuses_what_idx_cannot_hold(tmp_path) -> None:
    with pytest.raises(UsageError, match="uint8 arrays only, got float32"):
        write_idx(tmp_path / "f.idx", np.zeros(3, np.float32))
    with pytest.raises(UsageError, match="1 to 255 dimensions"):
        write_idx(tmp_path / "s.idx", np.array(3, np.uint8))


@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist"])
def test_real_training_set(dataset) -> None:
    folder = SHARED_DATA / dataset
    images = folder / "train-images-idx3-ubyte.gz"
    if not images.is_file():
        pytest.skip(f"{images} not found (a checkout without shared/data/{dataset})")
    x, y = read_idx_images_labels(images, folder / "train-labels-idx1-ubyte.gz")
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8
    assert y.shape == (60000,) and y.dtype == np.uint8
    assert set(np.unique(y).tolist()) == set(range(10))
    assert x.min() == 0 and x.max() == 255
    if dataset == "mnist":  # the class counts the README gives
        counts = np.bincount(y, minlength=10)
        assert counts[5] == 5421 and counts[1] == 6742 and counts.sum() == 60000
