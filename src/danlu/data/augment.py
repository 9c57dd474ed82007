"""Random image augmentation of whole batches ``(B, C, H, W)``, on the batch's device.

Each op draws its random numbers (a few per image) from the ``torch.Generator`` it is
given, on that generator's device, and moves them to the batch: the same seed gives the
same crops, flips, angles and rectangles whether the batch is on the CPU or a GPU. The
pixels never leave the batch's device and no Python loop runs over the images: crop is one
``gather`` of the zero-padded batch, flip and erase are masks (``torch.where``), affine is
one batched ``affine_grid`` + ``grid_sample``. ``uint8`` and floating-point batches are
both accepted and the result has the input's dtype (affine rounds back to ``uint8``).

A spec string, as ``--augment`` takes it, lists ops separated by commas and their
arguments separated by colons, applied left to right (:data:`AUGMENTATIONS` is the list;
an empty string is no augmentation)::

    crop:4,flip,affine:15:0.1:0.1,erase:0.25

Example:
    >>> augment = parse_augment("crop:4,flip,erase:0.25")
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8)
    >>> y = augment(x, g)
    >>> y.shape, y.dtype, str(augment)
    (torch.Size([8, 3, 32, 32]), torch.uint8, 'crop:4,flip,erase:0.25')
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import torch
import torch.nn.functional as F
from torch import Tensor

from danlu.errors import UsageError
from danlu.names import AUGMENTATIONS as AUGMENTATION_HELP
from danlu.names import implement

__all__ = [
    "AUGMENTATIONS",
    "Augment",
    "RandomAffine",
    "RandomCrop",
    "RandomErase",
    "RandomFlip",
    "affine",
    "describe_augmentations",
    "parse_augment",
]


class Op(Protocol):
    def __call__(self, x: Tensor, generator: torch.Generator) -> Tensor: ...


def _uniform(generator: torch.Generator, n: int, low: float, high: float, device: torch.device
             ) -> Tensor:  # fmt: skip
    """``n`` float32 draws from ``U[low, high)``, made on the generator's device."""
    u = torch.rand(n, generator=generator, device=generator.device)
    return (low + (high - low) * u).to(device)


def _randint(generator: torch.Generator, n: int, high: Tensor | int, device: torch.device
             ) -> Tensor:  # fmt: skip
    """``n`` int64 draws, the i-th uniform in ``0 .. high[i] - 1`` (``high``: int or (n,))."""
    u = _uniform(generator, n, 0.0, 1.0, device)
    return (u * high).floor().long()  # u < 1, so the result < high


@dataclass(frozen=True)
class RandomCrop:
    """Pad with ``pad`` zero pixels on every side, then take a random ``H x W`` window.

    With ``xp = pad(x, pad)`` and offsets ``dy_b, dx_b`` uniform in ``0 .. 2 pad``, one per
    image: ``out[b, c, i, j] = xp[b, c, i + dy_b, j + dx_b]``. ``pad = 0`` is the identity.
    """

    pad: int

    def __post_init__(self) -> None:
        if isinstance(self.pad, bool) or not isinstance(self.pad, int) or self.pad < 0:
            raise UsageError(f"crop: PAD must be an integer >= 0 (pixels of zero padding), "
                             f"got {self.pad!r}")  # fmt: skip

    def __call__(self, x: Tensor, generator: torch.Generator) -> Tensor:
        if self.pad == 0:
            return x
        b, c, h, w = x.shape
        p = self.pad
        dy = _randint(generator, b, 2 * p + 1, x.device)  # (B,)
        dx = _randint(generator, b, 2 * p + 1, x.device)
        padded = F.pad(x, (p, p, p, p))  # (B, C, H + 2p, W + 2p)
        rows = dy[:, None] + torch.arange(h, device=x.device)  # (B, H)
        cols = dx[:, None] + torch.arange(w, device=x.device)  # (B, W)
        flat = rows[:, :, None] * (w + 2 * p) + cols[:, None, :]  # (B, H, W) into padded
        index = flat.reshape(b, 1, h * w).expand(b, c, h * w)
        return padded.reshape(b, c, -1).gather(2, index).reshape(b, c, h, w)


@dataclass(frozen=True)
class RandomFlip:
    """Mirror left-right (``x.flip(-1)``) each image with probability 0.5, independently."""

    def __call__(self, x: Tensor, generator: torch.Generator) -> Tensor:
        flip = _uniform(generator, x.shape[0], 0.0, 1.0, x.device) < 0.5  # (B,)
        return torch.where(flip[:, None, None, None], x.flip(-1), x)


def affine(x: Tensor, angle: Tensor, shift: Tensor, scale: Tensor) -> Tensor:
    """Rotate, scale and shift each image of a batch (bilinear, zero fill): no randomness.

    In pixel units from the image centre (x right, y down), output pixel ``q`` of image
    ``b`` takes the input at ``p = R(-a_b) (q - T_b) / s_b``: the image is rotated by
    ``a_b`` degrees (clockwise as displayed, y pointing down), scaled by ``s_b`` about its
    centre, then moved by ``T_b = (shift_b,x W, shift_b,y H)``. ``affine_grid`` works in
    coordinates normalised to ``[-1, 1]``, ``n = D^-1 q`` with ``D = diag(W/2, H/2)``, so
    the matrix it is given is ``theta = [L | -L t]`` with ``L = D^-1 R(-a) D / s`` and
    ``t = 2 shift``; with ``align_corners=False`` the grid hits pixel centres, so
    ``a = 0, shift = 0, s = 1`` is the identity up to rounding.

    Args:
        x: ``(B, C, H, W)``, uint8 or floating point.
        angle: ``(B,)`` degrees.
        shift: ``(B, 2)`` fractions of ``(W, H)``.
        scale: ``(B,)`` factors > 0.

    Returns:
        ``(B, C, H, W)`` of ``x``'s dtype (uint8: rounded and clipped to 0..255).

    Example:
        >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
        >>> y = affine(x, torch.tensor([90.0]), torch.zeros(1, 2), torch.ones(1))
        >>> torch.allclose(y, torch.rot90(x, -1, (2, 3)), atol=1e-5)
        True
    """
    b, _, h, w = x.shape
    work = x if x.dtype in (torch.float32, torch.float64) else x.float()
    rad = torch.deg2rad(angle.to(work))
    cos, sin = rad.cos() / scale.to(work), rad.sin() / scale.to(work)  # R(-a) / s
    theta = torch.empty(b, 2, 3, dtype=work.dtype, device=x.device)  # (B, 2, 3)
    theta[:, 0, 0] = cos
    theta[:, 0, 1] = sin * (h / w)  # L = D^-1 (R(-a) / s) D
    theta[:, 1, 0] = -sin * (w / h)
    theta[:, 1, 1] = cos
    t = 2 * shift.to(work)  # (B, 2) normalised shift
    theta[:, :, 2] = -(theta[:, :, :2] @ t[:, :, None])[:, :, 0]
    grid = F.affine_grid(theta, list(work.shape), align_corners=False)  # (B, H, W, 2)
    out = F.grid_sample(work, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if x.dtype == torch.uint8:
        return out.round_().clamp_(0, 255).to(torch.uint8)
    return out.to(x.dtype)


@dataclass(frozen=True)
class RandomAffine:
    """Random rotation, shift and scale per image, in one :func:`affine` call.

    Per image: angle ``~ U[-degrees, degrees]``, shift ``(dx, dy) ~ U[-translate,
    translate]^2`` (fractions of the width and height), scale ``~ U[1 - scale, 1 + scale]``.
    ``RandomAffine(0, 0, 0)`` is the identity (to rounding).
    """

    degrees: float
    translate: float
    scale: float

    def __post_init__(self) -> None:
        for name, value, high, closed in (("DEGREES", self.degrees, 180.0, True),
                                          ("TRANSLATE", self.translate, 1.0, False),
                                          ("SCALE", self.scale, 1.0, False)):  # fmt: skip
            ok = 0 <= value <= high if closed else 0 <= value < high  # NaN fails both
            if not ok:
                bracket = "]" if closed else ")"
                raise UsageError(f"affine: {name} must be in [0, {high:g}{bracket}, got {value!r}")

    def __call__(self, x: Tensor, generator: torch.Generator) -> Tensor:
        b = x.shape[0]
        angle = _uniform(generator, b, -self.degrees, self.degrees, x.device)  # (B,)
        shift = _uniform(generator, 2 * b, -self.translate, self.translate, x.device)
        scale = _uniform(generator, b, 1 - self.scale, 1 + self.scale, x.device)
        return affine(x, angle, shift.view(b, 2), scale)


FILLS: tuple[str, ...] = ("zero", "mean")


@dataclass(frozen=True)
class RandomErase:
    """Random erasing (Zhong et al. 2017, "Random Erasing Data Augmentation").

    With probability ``p`` per image, a rectangle of area ``S_e = s H W`` with
    ``s ~ U[0.02, 0.4]`` and aspect ratio ``r = h_e / w_e`` log-uniform in ``[0.3, 1/0.3]``
    (``h_e = sqrt(S_e r)``, ``w_e = sqrt(S_e / r)``, rounded) at a uniform position is set
    to ``fill``: ``"zero"`` or ``"mean"`` (the image's own per-channel mean). Unlike the
    paper, which draws again until the rectangle fits, a side longer than the image is cut
    to it (no loop); and the fill is never random noise.
    """

    p: float
    fill: str = "zero"

    AREA: typing.ClassVar[tuple[float, float]] = (0.02, 0.4)
    RATIO: typing.ClassVar[tuple[float, float]] = (0.3, 1 / 0.3)

    def __post_init__(self) -> None:
        if not 0 <= self.p <= 1:
            raise UsageError(f"erase: P must be a probability in [0, 1], got {self.p!r}")
        if self.fill not in FILLS:
            raise UsageError(f"erase: FILL must be one of {', '.join(FILLS)}, got {self.fill!r}")

    def __call__(self, x: Tensor, generator: torch.Generator) -> Tensor:
        b, _, h, w = x.shape
        dev = x.device
        hit = _uniform(generator, b, 0.0, 1.0, dev) < self.p  # (B,)
        area = _uniform(generator, b, *self.AREA, dev) * (h * w)
        ratio = _uniform(generator, b, *(math.log(r) for r in self.RATIO), dev).exp()
        eh = (area * ratio).sqrt().round().clamp(1, h).long()  # (B,) rectangle height
        ew = (area / ratio).sqrt().round().clamp(1, w).long()
        top = _randint(generator, b, h - eh + 1, dev)  # (B,) in 0 .. H - eh
        left = _randint(generator, b, w - ew + 1, dev)
        rows = torch.arange(h, device=dev)[None, :]  # (1, H)
        cols = torch.arange(w, device=dev)[None, :]
        in_rows = (rows >= top[:, None]) & (rows < (top + eh)[:, None])  # (B, H)
        in_cols = (cols >= left[:, None]) & (cols < (left + ew)[:, None])  # (B, W)
        mask = in_rows[:, :, None] & in_cols[:, None, :] & hit[:, None, None]  # (B, H, W)
        if self.fill == "zero":
            value = torch.zeros((), dtype=x.dtype, device=dev)
        else:
            mean = x.float().mean(dim=(2, 3), keepdim=True)  # (B, C, 1, 1)
            value = (mean if x.is_floating_point() else mean.round()).to(x.dtype)
        return torch.where(mask[:, None], value, x)


# name -> the op: the one list of what a spec string accepts is danlu.names.AUGMENTATIONS
# (name -> what it does); the arguments are the op's dataclass fields, upper-cased
# (optional ones in brackets)
AUGMENTATIONS: dict[str, Callable[..., Op]] = implement(
    AUGMENTATION_HELP,
    {"crop": RandomCrop, "flip": RandomFlip, "affine": RandomAffine, "erase": RandomErase},
    "augmentations",
)
_NAME_OF = {op: name for name, op in AUGMENTATIONS.items()}


def _usage(name: str) -> str:
    """``erase:P[:FILL]``: the op and its arguments as a spec string writes them."""
    parts = [name]
    for f in dataclasses.fields(AUGMENTATIONS[name]):  # type: ignore[arg-type]
        required = f.default is dataclasses.MISSING
        parts.append(f":{f.name.upper()}" if required else f"[:{f.name.upper()}]")
    return "".join(parts)


def describe_augmentations() -> str:
    """Every op as one line of help: ``crop:PAD (pad PAD ...), flip (...), ...``."""
    return ", ".join(f"{_usage(name)} ({what})" for name, what in AUGMENTATION_HELP.items())


@dataclass(frozen=True)
class Augment:
    """Ops applied in order to a batch: ``Augment(ops)(batch, generator) -> batch``.

    ``str(augment)`` is its spec string, which :func:`parse_augment` reads back.
    """

    ops: tuple[Op, ...] = ()

    def __call__(self, batch: Tensor, generator: torch.Generator) -> Tensor:
        """Augment ``batch`` ``(B, C, H, W)`` (uint8 or float); same shape and dtype."""
        if batch.dim() != 4:
            raise ValueError(f"augmentation takes a batch (B, C, H, W), got shape "
                             f"{tuple(batch.shape)}")  # fmt: skip
        if batch.dtype != torch.uint8 and not batch.is_floating_point():
            raise ValueError(f"augmentation takes uint8 or floating-point images, got "
                             f"{batch.dtype}")  # fmt: skip
        for op in self.ops:
            batch = op(batch, generator)
        return batch

    def __str__(self) -> str:
        specs = []
        for op in self.ops:
            args = [getattr(op, f.name) for f in dataclasses.fields(op)  # type: ignore[arg-type]
                    if getattr(op, f.name) != f.default]  # optional ones only when set  # fmt: skip
            text = (f"{a:g}" if isinstance(a, float) else str(a) for a in args)
            specs.append(":".join([_NAME_OF[type(op)], *text]))
        return ",".join(specs)


def _convert(name: str, field: dataclasses.Field, kind: type, text: str) -> object:
    arg = field.name.upper()
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise UsageError(f"{name}: {arg} must be an integer, got {text!r}") from None
    if kind is float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise UsageError(f"{name}: {arg} must be a number, got {text!r}")
        return value
    return text


def parse_augment(spec: str) -> Augment:
    """Read a spec string such as ``"crop:4,flip,affine:15:0.1:0.1,erase:0.25"``.

    Args:
        spec: ops separated by commas, arguments by colons (spaces around them are
            ignored); see :data:`AUGMENTATIONS`. ``""`` is no augmentation.

    Returns:
        The :class:`Augment` applying the ops left to right.

    Raises:
        UsageError: an unknown op or a wrong number of arguments (the message lists every
            op with its arguments), or an argument out of its range (the message gives it
            and the range).
    """
    ops: list[Op] = []
    if not spec.strip():
        return Augment(())
    for item in spec.split(","):
        name, *args = [part.strip() for part in item.split(":")]
        if name not in AUGMENTATIONS:
            what = f"unknown augmentation {name!r}" if name else "an empty augmentation"
            raise UsageError(f"{what} in {spec!r}; valid: {describe_augmentations()}")
        op = AUGMENTATIONS[name]
        fields: Sequence[dataclasses.Field] = dataclasses.fields(op)  # type: ignore[arg-type]
        least = sum(f.default is dataclasses.MISSING for f in fields)
        if not least <= len(args) <= len(fields):
            count = str(least) if least == len(fields) else f"{least} to {len(fields)}"
            raise UsageError(f"{item.strip()!r} has {len(args)} arguments, {name} takes {count} "
                             f"({_usage(name)}); valid: {describe_augmentations()}")  # fmt: skip
        hints = typing.get_type_hints(op)
        values = [_convert(name, f, hints[f.name], a) for f, a in zip(fields, args, strict=False)]
        ops.append(op(*values))
    return Augment(tuple(ops))
