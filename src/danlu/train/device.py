"""Choosing the device and the autocast context (``--device``, ``--amp``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from danlu.errors import UsageError
from danlu.names import DEVICES

__all__ = ["autocast", "check_amp", "resolve_device"]


def resolve_device(name: str, *, local_rank: int | None = None) -> torch.device:
    """Map ``auto|cpu|cuda`` to a device; ``cuda`` without a GPU is a usage error.

    Under torchrun each process takes ``cuda:LOCAL_RANK``.
    """
    if name not in DEVICES:
        raise UsageError(f"invalid device {name!r}; valid: {', '.join(DEVICES)}")
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise UsageError("--device cuda was asked for but no CUDA GPU is visible; use --device cpu")
    index = local_rank if local_rank is not None else torch.cuda.current_device()
    return torch.device("cuda", index)


def check_amp(amp: bool, device: torch.device) -> None:
    """``--amp`` means bf16 autocast on CUDA; on CPU it is refused rather than ignored."""
    if amp and device.type != "cuda":
        raise UsageError(
            f"--amp (bf16 autocast) needs a CUDA device, but this run uses {device}; "
            "drop --amp or use --device cuda"
        )


@contextlib.contextmanager
def autocast(device: torch.device, enabled: bool) -> Iterator[None]:
    """bf16 autocast on CUDA when enabled, otherwise a no-op context."""
    if enabled and device.type == "cuda":
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
            yield
    else:
        yield
