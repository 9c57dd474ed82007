"""A flat dataclass as safetensors metadata (strings) and back (no torch import).

A model file keeps what rebuilds its model (vocabulary, sizes, options) in the string
metadata of ``model.safetensors``. Each field is one key::

    str              stored as is               "regression"
    bool             JSON                       "true"   ("True"/"False" also read)
    int, float       JSON                       "200", "0.3"
    tuple[...]       a JSON list                '["B", "M", "E", "S"]'

Reading checks every field against its type and names the field and the file on a bad or
missing value; keys the dataclass does not know are ignored (a file may carry more, such
as ``danlu_task``), and a missing field with a default takes the default (a newer field
read from an older file).

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Spec:
    ...     task: str
    ...     hidden: tuple[int, ...]
    ...     dropout: float = 0.0
    >>> meta = to_metadata(Spec("regression", (64, 32), 0.1))
    >>> meta
    {'task': 'regression', 'hidden': '[64, 32]', 'dropout': '0.1'}
    >>> from_metadata(Spec, meta)
    Spec(task='regression', hidden=(64, 32), dropout=0.1)
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Mapping
from typing import Any, TypeVar, get_args, get_origin

__all__ = ["from_metadata", "to_metadata"]

D = TypeVar("D")


def to_metadata(obj: Any) -> dict[str, str]:
    """The fields of the dataclass instance ``obj`` as strings (see the module docstring)."""
    out: dict[str, str] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, str):
            out[f.name] = value
        else:
            out[f.name] = json.dumps(list(value) if isinstance(value, tuple) else value,
                                     ensure_ascii=False)  # fmt: skip
    return out


def _decode(tp: Any, raw: str) -> Any:
    if tp is str:
        return raw
    if tp is bool:
        lowered = raw.lower()
        if lowered not in ("true", "false"):
            raise ValueError(f"expected true or false, got {raw!r}")
        return lowered == "true"
    value = json.loads(raw)
    if get_origin(tp) is tuple:
        if not isinstance(value, list):
            raise ValueError(f"expected a JSON list, got {raw!r}")
        (elem, *_) = get_args(tp) or (Any,)
        if elem in (int, float, str) and not all(isinstance(v, elem) for v in value):
            raise ValueError(f"expected a list of {elem.__name__}, got {raw!r}")
        return tuple(value)
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if tp is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(f"expected {getattr(tp, '__name__', tp)}, got {raw!r}")


def from_metadata(cls: type[D], meta: Mapping[str, str], source: str = "metadata") -> D:
    """Rebuild ``cls`` from :func:`to_metadata`'s strings.

    Raises:
        ValueError: a field is missing (and has no default) or does not parse; the message
            names ``source``, the field and the value.
    """
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in meta:
            has_default = (f.default is not dataclasses.MISSING
                           or f.default_factory is not dataclasses.MISSING)  # fmt: skip
            if not has_default:
                raise ValueError(f"{source}: metadata field {f.name!r} is missing")
            continue
        try:
            kwargs[f.name] = _decode(hints[f.name], meta[f.name])
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            raise ValueError(f"{source}: metadata field {f.name!r}: {exc}") from None
    return cls(**kwargs)
