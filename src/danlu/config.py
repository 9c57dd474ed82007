"""Frozen dataclass configs mapped 1:1 onto command-line flags and config files.

Every task describes its options as a frozen dataclass. This module turns such a class
into argparse flags and back, so the flag set, the config-file keys and the saved
``config.json`` are always the same names:

- a field ``max_steps`` is the flag ``--max-steps`` (``--max_steps`` is accepted too) and
  the key ``max_steps`` in a file;
- a nested dataclass field ``model`` contributes ``--model.hidden`` etc., unless it is
  declared with ``embed=True`` (see :func:`option`), in which case its fields appear
  unprefixed (``--epochs``, not ``--train.epochs``; the dotted key also works in files);
- ``--config FILE`` (``.toml``, ``.json``, ``.yaml``/``.yml``) supplies values, and flags
  given on the command line override it;
- unknown keys, bad values and missing required options raise :class:`UsageError` with the
  valid choices spelled out.

Supported field types: ``int``, ``float``, ``str``, ``bool`` (``--amp`` / ``--no-amp``),
``Literal[...]`` (choices), ``tuple[int, ...]`` / ``tuple[str, ...]`` (comma separated,
``''`` is the empty tuple), and ``X | None`` of those (the word ``none`` gives ``None``).

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Cfg:
    ...     lr: float = option(0.1, help="learning rate")
    >>> parser = argparse.ArgumentParser()
    >>> _ = add_arguments(parser, Cfg)
    >>> build_config(Cfg, parser.parse_args(["--lr", "0.5"]))
    Cfg(lr=0.5)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

from danlu.errors import UsageError

__all__ = [
    "FieldSpec",
    "add_arguments",
    "build_config",
    "config_from_dict",
    "config_to_dict",
    "field_specs",
    "load_config_file",
    "option",
    "require_at_least",
]

C = TypeVar("C")
_MISSING = dataclasses.MISSING
# Marker stored in the argparse namespace for flags the user did not give.
_NOT_GIVEN = argparse.SUPPRESS


def option(
    default: Any = _MISSING,
    *,
    help: str = "",
    embed: bool = False,
    default_factory: Any = _MISSING,
    aliases: tuple[str, ...] = (),
    positional: bool = False,
) -> Any:
    """A dataclass field with CLI help text.

    Args:
        default: the default value (omit for a required option).
        help: the ``--help`` text; the default is appended automatically.
        embed: for a nested config: its fields become unprefixed flags.
        default_factory: as in :func:`dataclasses.field`.
        aliases: extra spellings of the flag, e.g. ``("-minCount", "--minCount")`` for
            fastText-compatible command lines.
        positional: a positional argument instead of a flag (optional when it has a
            default), e.g. ``danlu test MODEL FILE [k]``; a tuple field takes the words
            left, each one value (no comma splitting), e.g. ``IMAGES...``.
    """
    metadata = {"help": help, "embed": embed, "aliases": aliases, "positional": positional}
    if default_factory is not _MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def require_at_least(minimum: float, values: Mapping[str, float]) -> None:
    """Check ``{flag: value}`` pairs of a config against a lower bound, in order.

    Raises:
        UsageError: for the first value below ``minimum``: ``--epochs must be >= 1, got 0``.

    Example:
        >>> require_at_least(1, {"--epochs": 3, "--batch-size": 32})
    """
    for flag, value in values.items():
        if value < minimum:
            raise UsageError(f"{flag} must be >= {minimum}, got {value}")


@dataclasses.dataclass(frozen=True)
class FieldSpec:
    """One leaf option: where it lives in the config tree and how it is spelled."""

    path: tuple[str, ...]  # attribute path from the root config, e.g. ("train", "epochs")
    key: str  # flag/file name with dots for non-embedded nesting, e.g. "epochs"
    type: Any
    default: Any  # _MISSING when required
    help: str
    aliases: tuple[str, ...] = ()
    positional: bool = False

    @property
    def dest(self) -> str:
        return "cfg__" + "__".join(self.path)

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")

    @property
    def required(self) -> bool:
        return self.default is _MISSING


def _resolved_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, include_extras=False)


def field_specs(
    cls: type, _path: tuple[str, ...] = (), _prefix: str = "", _defaults: Any = None
) -> list[FieldSpec]:
    """Flatten a (possibly nested) config dataclass into its leaf options.

    The defaults of a nested config come from the parent's default instance, so a task
    can embed ``TrainConfig(epochs=100)`` and ``--help`` shows 100.
    """
    hints = _resolved_hints(cls)
    specs: list[FieldSpec] = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        tp = hints[f.name]
        path = (*_path, f.name)
        if f.default is not _MISSING:
            default = f.default
        elif f.default_factory is not _MISSING:
            default = f.default_factory()
        else:
            default = _MISSING
        if _defaults is not None:
            default = getattr(_defaults, f.name)
        if dataclasses.is_dataclass(tp):
            prefix = _prefix if f.metadata.get("embed") else f"{_prefix}{f.name}."
            sub_defaults = None if default is _MISSING else default
            specs.extend(field_specs(tp, path, prefix, sub_defaults))
            continue
        specs.append(
            FieldSpec(
                path, _prefix + f.name, tp, default, f.metadata.get("help", ""),
                tuple(f.metadata.get("aliases", ())), bool(f.metadata.get("positional", False)),
            )
        )  # fmt: skip
    keys = [s.key for s in specs]
    dup = {k for k in keys if keys.count(k) > 1}
    if dup and not _path:
        raise TypeError(f"{cls.__name__}: options defined twice: {sorted(dup)}")
    return specs


# ---------------------------------------------------------------------------- type parsing


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(get_args(tp)) == 2:
            return args[0], True
    return tp, False


def describe_type(tp: Any) -> str:
    """Human words for what a value of type ``tp`` must look like."""
    inner, optional = _unwrap_optional(tp)
    if get_origin(inner) is Literal:
        text = "one of " + ", ".join(str(a) for a in get_args(inner))
    elif get_origin(inner) is tuple:
        elem = get_args(inner)[0]
        text = f"comma-separated {elem.__name__}s (e.g. 64,32; '' for none)"
    elif inner is bool:
        text = "true or false"
    else:
        text = {int: "an integer", float: "a number", str: "a string"}.get(inner, str(inner))
    return text + (" or none" if optional else "")


def parse_value(tp: Any, raw: Any, key: str) -> Any:
    """Convert ``raw`` (a CLI string or a value read from a config file) to type ``tp``."""
    inner, optional = _unwrap_optional(tp)

    def bad() -> UsageError:
        return UsageError(f"invalid value {raw!r} for {key}: expected {describe_type(tp)}")

    if raw is None or (optional and isinstance(raw, str) and raw.strip().lower() == "none"):
        if optional:
            return None
        raise bad()
    if get_origin(inner) is Literal:
        choices = get_args(inner)
        for c in choices:
            if raw == c or (isinstance(raw, str) and raw == str(c)):
                return c
        raise UsageError(
            f"invalid choice {raw!r} for {key}; valid: {', '.join(str(c) for c in choices)}"
        )
    if get_origin(inner) is tuple:
        elem = get_args(inner)[0]
        if isinstance(raw, str):
            parts = [p.strip() for p in raw.split(",") if p.strip()]
        elif isinstance(raw, list | tuple):
            parts = list(raw)
        else:
            raise bad()
        try:
            return tuple(elem(p) for p in parts)
        except (TypeError, ValueError):
            raise bad() from None
    if inner is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "1", "yes", "on"):
            return True
        if isinstance(raw, str) and raw.lower() in ("false", "0", "no", "off"):
            return False
        raise bad()
    if inner is int:
        if isinstance(raw, bool):
            raise bad()
        if isinstance(raw, int):
            return raw
        if isinstance(raw, float) and raw.is_integer():
            return int(raw)
        try:
            return int(str(raw).replace("_", ""))
        except ValueError:
            raise bad() from None
    if inner is float:
        if isinstance(raw, bool):
            raise bad()
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise bad() from None
    if inner is str:
        if isinstance(raw, str):
            return raw
        raise bad()
    raise TypeError(f"unsupported config field type {tp!r} for {key}")


# ---------------------------------------------------------------------------- argparse


def _format_default(value: Any) -> str:
    if value is _MISSING:
        return "required"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value) or "''"
    if value is None:
        return "none"
    if value == "":
        return "''"
    return str(value)


def add_arguments(parser: argparse.ArgumentParser, cls: type) -> list[FieldSpec]:
    """Add one flag per leaf field of ``cls`` (plus ``--config``) to ``parser``."""
    specs = field_specs(cls)
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help="read options from a .toml, .json or .yaml file; flags given here override it",
    )
    for spec in specs:
        inner, _ = _unwrap_optional(spec.type)
        help_text = f"{spec.help} (default: {_format_default(spec.default)})".strip()
        if spec.positional:  # a tuple takes one or more words (any number with a default)
            if get_origin(inner) is tuple:
                nargs = "+" if spec.required else "*"
            else:
                nargs = None if spec.required else "?"
            parser.add_argument(spec.dest, metavar=spec.key.upper(), help=help_text,
                                default=_NOT_GIVEN, nargs=nargs)  # fmt: skip
            continue
        names = [spec.flag]
        if "_" in spec.key and inner is not bool:  # --no-x_y would look odd for booleans
            names.append("--" + spec.key)
        names += [a for a in spec.aliases if a not in names]
        if inner is bool:
            parser.add_argument(
                *names,
                dest=spec.dest,
                action=argparse.BooleanOptionalAction,
                default=_NOT_GIVEN,
                help=help_text,
            )
            continue
        if get_origin(inner) is Literal:
            metavar = "{" + ",".join(str(c) for c in get_args(inner)) + "}"
        elif get_origin(inner) is tuple:
            metavar = "A,B,..."
        else:
            metavar = {int: "N", float: "X"}.get(inner, spec.key.split(".")[-1].upper())
        parser.add_argument(
            *names, dest=spec.dest, default=_NOT_GIVEN, metavar=metavar, help=help_text
        )
    return specs


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a config file into a flat ``{dotted.key: value}`` dict."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"config file not found: {p}")
    suffix = p.suffix.lower()
    text = p.read_text(encoding="utf-8")
    try:
        if suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text)
        elif suffix in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError:
                raise UsageError(
                    f"{p}: YAML config files need PyYAML (pip install 'danlu[yaml]'), "
                    "or use .toml / .json"
                ) from None
            data = yaml.safe_load(text) or {}
        else:
            raise UsageError(f"{p}: unknown config format {suffix!r}; valid: .toml, .json, .yaml")
    except UsageError:
        raise
    except Exception as exc:  # parse errors of the three formats differ in type
        raise UsageError(f"{p}: cannot parse {suffix[1:]} config: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{p}: a config file must hold a table/mapping of options")
    return _flatten(data)


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}{k}".replace("-", "_")
        if isinstance(v, Mapping):
            flat.update(_flatten(v, key + "."))
        else:
            flat[key] = v
    return flat


def _lookup(specs: list[FieldSpec]) -> dict[str, FieldSpec]:
    """Names a value may be given under: the flag key and the full dotted path."""
    table: dict[str, FieldSpec] = {}
    for s in specs:
        table[s.key] = s
        table[".".join(s.path)] = s
    return table


def _resolve_mapping(
    specs: list[FieldSpec], values: Mapping[str, Any], source: str
) -> dict[tuple[str, ...], Any]:
    """Parse a (nested or flat dotted) mapping of options; unknown keys are errors."""
    table = _lookup(specs)
    resolved: dict[tuple[str, ...], Any] = {}
    for key, raw in _flatten(values).items():
        spec = table.get(key)
        if spec is None:
            raise UsageError(
                f"{source}: unknown option {key!r}; valid: {', '.join(s.key for s in specs)}"
            )
        resolved[spec.path] = parse_value(spec.type, raw, key)
    return resolved


def config_from_dict(cls: type[C], values: Mapping[str, Any], *, source: str = "config") -> C:
    """Build ``cls`` from a (nested or flat dotted) mapping; unknown keys are errors."""
    specs = field_specs(cls)
    return _instantiate(cls, specs, _resolve_mapping(specs, values, source))


def build_config(cls: type[C], args: argparse.Namespace) -> C:
    """Defaults, then ``--config FILE``, then flags given on the command line."""
    specs = field_specs(cls)
    config_path = getattr(args, "config", None)
    resolved = (
        _resolve_mapping(specs, load_config_file(config_path), str(config_path))
        if config_path
        else {}
    )
    for spec in specs:
        if hasattr(args, spec.dest):
            resolved[spec.path] = parse_value(spec.type, getattr(args, spec.dest), spec.flag)
    return _instantiate(cls, specs, resolved)


def _instantiate(cls: type[C], specs: list[FieldSpec], resolved: dict[tuple[str, ...], Any]) -> C:
    missing = [s.key.upper() if s.positional else s.flag for s in specs
               if s.required and s.path not in resolved]  # fmt: skip
    if missing:
        raise UsageError(f"missing required option(s): {', '.join(missing)}")
    resolved = {**{s.path: s.default for s in specs if not s.required}, **resolved}

    def build(tp: type, path: tuple[str, ...]) -> Any:
        hints = _resolved_hints(tp)
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(tp):
            if not f.init:
                continue
            sub = (*path, f.name)
            if dataclasses.is_dataclass(hints[f.name]):
                kwargs[f.name] = build(hints[f.name], sub)
            elif sub in resolved:
                kwargs[f.name] = resolved[sub]
        try:
            return tp(**kwargs)
        except (TypeError, ValueError) as exc:
            raise UsageError(str(exc)) from None

    return build(cls, ())


def config_to_dict(config: Any) -> dict[str, Any]:
    """The nested, JSON-ready form saved as ``config.json`` (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))
