"""Atomic writes: a full disk leaves the old file and no temporary file; files follow the
umask."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest

from danlu.errors import DiskFull
from danlu.io import atomic_write, save_arrays, write_json


def test_a_full_disk_raises_disk_full_and_keeps_the_old_file(tmp_path) -> None:
    target = tmp_path / "state.bin"
    target.write_bytes(b"good")

    def write(fh) -> None:
        fh.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(DiskFull, match=r"could not write .*state\.bin: no space left on its "
                                       r"disk, 1\.0 KB needed, .* free"):  # fmt: skip
        atomic_write(target, write, size=1000)
    assert target.read_bytes() == b"good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.bin"]


def test_written_files_follow_the_umask(tmp_path) -> None:
    """safetensors creates its files 0600; danlu's files get 0666 less the umask."""
    save_arrays(tmp_path / "m.safetensors", {"w": np.zeros(2, np.float32)})
    write_json(tmp_path / "c.json", {})
    umask = os.umask(0)
    os.umask(umask)
    for name in ("m.safetensors", "c.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask, name
