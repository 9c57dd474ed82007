"""Claiming a run folder: paths that cannot be folders, earlier runs, one run at a time."""

from __future__ import annotations

import fcntl
import os

import pytest

from danlu.errors import UsageError
from danlu.io.run_folder import (
    LOCK_NAME,
    check_output_file,
    check_output_folder,
    claim_run_folder,
    earlier_run,
)


def test_a_file_where_the_folder_or_a_parent_should_be_is_refused(tmp_path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(UsageError, match=r"--out .*/f is a file; --out names a folder"):
        check_output_folder(tmp_path / "f")
    with pytest.raises(UsageError, match=r"--out .*/f/run cannot be made: .*/f is a file"):
        check_output_folder(tmp_path / "f" / "run")
    with pytest.raises(UsageError, match=r"-output: cannot write .*/f/m: .*/f is a file"):
        check_output_file(tmp_path / "f" / "m")
    with pytest.raises(UsageError, match=r"-output: .* is a folder"):
        check_output_file(tmp_path)
    assert check_output_folder(tmp_path / "new" / "run") == tmp_path / "new" / "run"


def test_an_earlier_run_is_refused_unless_resumed_or_overwritten(tmp_path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "fold-1").mkdir()
    (tmp_path / "notes.txt").write_text("mine")  # not a run file: never touched
    refused = r"already holds a run \(config\.json, fold-1/\); pass --resume .* --overwrite"
    with (
        pytest.raises(UsageError, match=refused),
        claim_run_folder(tmp_path, resume=False, overwrite=False),
    ):
        pass
    with claim_run_folder(tmp_path, resume=True, overwrite=False):
        assert earlier_run(tmp_path) == ["config.json", "fold-1/"]
    with claim_run_folder(tmp_path, resume=False, overwrite=True):
        assert earlier_run(tmp_path) == []
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_folder_in_use_names_the_pid_that_holds_it(tmp_path) -> None:
    with claim_run_folder(tmp_path, resume=False, overwrite=False):
        assert (tmp_path / LOCK_NAME).read_text().strip() == str(os.getpid())
        # another process's view: a second descriptor cannot take the lock
        fd = os.open(tmp_path / LOCK_NAME, os.O_RDWR)
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(fd)
    with claim_run_folder(tmp_path, resume=True, overwrite=False):  # released: free again
        pass


def test_other_ranks_only_check_the_path(tmp_path) -> None:
    with claim_run_folder(tmp_path / "run", resume=False, overwrite=False, main=False):
        assert not (tmp_path / "run").exists()  # rank 0 creates and locks it
