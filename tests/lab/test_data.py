"""The lab's data helpers: the IDX head reader."""

from __future__ import annotations

import numpy as np
import pytest

from danlu.data import read_idx, write_idx
from danlu.lab.data import idx_head


@pytest.mark.parametrize("suffix", [".gz", ""])
def test_idx_head_reads_the_first_items_as_read_idx_does(tmp_path, suffix) -> None:
    images = np.random.default_rng(0).integers(0, 256, (7, 3, 4), dtype=np.uint8)
    path = write_idx(tmp_path / f"images{suffix}", images)
    np.testing.assert_array_equal(idx_head(path, 5), read_idx(path)[:5])
    assert idx_head(path, 100).shape == (7, 3, 4)  # asking for more gives what is there


def test_idx_head_refuses_what_is_not_uint8_idx(tmp_path) -> None:
    path = tmp_path / "bad.idx"
    path.write_bytes(b"\x00\x00\x0d\x01" + (3).to_bytes(4, "big") + b"\x00" * 12)  # float32
    with pytest.raises(ValueError, match="not a uint8 IDX file"):
        idx_head(path, 1)
    path.write_bytes(b"\x00\x00\x08\x01" + (9).to_bytes(4, "big") + b"\x01\x02")
    with pytest.raises(ValueError, match="truncated"):
        idx_head(path, 9)
