"""A tiny labelled file shared by the text-classification tests."""

from __future__ import annotations

from pathlib import Path

import pytest

# two labels told apart by their words; w0..w8 shared noise
TOY_LINES = [f"__label__{'ab'[i % 2]} {'x y' if i % 2 else 'p q'} w{i % 9}" for i in range(200)]


@pytest.fixture
def toy_data(tmp_path: Path) -> Path:
    """:data:`TOY_LINES` written to ``train.txt``."""
    path = tmp_path / "train.txt"
    path.write_text("\n".join(TOY_LINES) + "\n", encoding="utf-8")
    return path
