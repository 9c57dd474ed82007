"""Shared fixtures: the real datasets beside the checkout and a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the checkout; tests using it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real datasets not found at {SHARED_DATA} (a fresh clone without shared/)")
    return SHARED_DATA


def pytest_configure(config: pytest.Config) -> None:
    """One torch thread per test process (and per subprocess it starts, via the
    environment): with two pytest-xdist workers on a 2-core machine, or beside other work,
    more threads only spin against each other."""
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)


def danlu_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env["OMP_NUM_THREADS"] = "1"
    return env


def run_danlu(
    *args: str, cwd: Path | None = None, timeout: float = 300, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m danlu ARGS`` in a subprocess and capture its output."""
    proc = subprocess.run(
        [sys.executable, "-m", "danlu", *args],
        cwd=cwd,
        env=danlu_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"danlu {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc
