"""One quick run of every claim, shared by the lab's tests (the run takes a couple of
minutes; every test of the folder reads its files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import run_danlu


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory) -> Path:
    """``danlu lab run --all --quick`` into a fresh folder; the folder."""
    out = tmp_path_factory.mktemp("lab") / "quick"
    proc = run_danlu("lab", "run", "--all", "--quick", "--threads", "1", "--out", str(out),
                     timeout=900)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out
