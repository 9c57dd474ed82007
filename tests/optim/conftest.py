"""Run danlu.optim tests single-threaded.

The networks here are tiny; intra-op threads only add synchronisation, and on a shared
2-core machine a parallel region waiting for a busy core costs milliseconds per op (the
suite took minutes instead of seconds).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True, scope="package")
def _single_thread() -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
