"""The dataclass <-> flags <-> config-file mapping (danlu.config)."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from typing import Literal

import pytest

from danlu.config import (
    add_arguments,
    build_config,
    config_from_dict,
    config_to_dict,
    field_specs,
    option,
)
from danlu.errors import UsageError
from danlu.tasks.tabular.config import TabularTrainConfig
from danlu.train.config import TrainConfig


@dataclass(frozen=True)
class Model:
    hidden: tuple[int, ...] = option((8, 4), help="widths")
    act: Literal["relu", "tanh"] = option("relu")


@dataclass(frozen=True)
class Cfg:
    data: str = option(help="required")
    max_len: int = option(0)
    scale: float = option(0.1)
    verbose: bool = option(False)
    clip: float | None = option(None)
    model: Model = field(default_factory=Model)
    train: TrainConfig = option(default_factory=lambda: TrainConfig(epochs=7), embed=True)


def parse(argv: list[str], cls: type = Cfg):
    parser = argparse.ArgumentParser()
    add_arguments(parser, cls)
    return build_config(cls, parser.parse_args(argv))


def test_every_field_is_one_flag() -> None:
    keys = [s.key for s in field_specs(Cfg)]
    assert keys[:5] == ["data", "max_len", "scale", "verbose", "clip"]
    assert "model.hidden" in keys and "model.act" in keys  # nested: dotted
    assert "epochs" in keys and "train.epochs" not in keys  # embedded: unprefixed
    assert len(keys) == len(set(keys))


def test_flags_parse_into_typed_frozen_config() -> None:
    cfg = parse(["--data", "x.csv", "--max-len", "5", "--scale", "0.5", "--verbose",
                 "--model.hidden", "3,2,1", "--model.act", "tanh", "--epochs", "2",
                 "--clip", "none"])  # fmt: skip
    assert cfg.data == "x.csv" and cfg.max_len == 5 and cfg.scale == 0.5 and cfg.verbose is True
    assert cfg.model == Model((3, 2, 1), "tanh")
    assert cfg.train.epochs == 2 and cfg.clip is None
    with pytest.raises(AttributeError):
        cfg.scale = 1.0  # type: ignore[misc]


def test_underscore_spelling_and_empty_tuple() -> None:
    cfg = parse(["--data", "d", "--max_len", "3", "--model.hidden", ""])
    assert cfg.max_len == 3 and cfg.model.hidden == ()


def test_embedded_defaults_come_from_the_parent_default() -> None:
    assert parse(["--data", "d"]).train.epochs == 7
    spec = {s.key: s for s in field_specs(TabularTrainConfig)}
    assert spec["epochs"].default == 100 and spec["early_stop_metric"].default == "val_loss"


@pytest.mark.parametrize("suffix", [".toml", ".json", ".yaml"])
def test_config_file_then_flags_override(tmp_path, suffix: str) -> None:
    values = {"data": "from_file.csv", "scale": 0.25, "model": {"hidden": [5]}, "epochs": 3}
    path = tmp_path / f"run{suffix}"
    if suffix == ".toml":
        path.write_text('data = "from_file.csv"\nscale = 0.25\nepochs = 3\n[model]\nhidden = [5]\n')
    elif suffix == ".json":
        path.write_text(json.dumps(values))
    else:
        path.write_text("data: from_file.csv\nscale: 0.25\nepochs: 3\nmodel:\n  hidden: [5]\n")
    cfg = parse(["--config", str(path), "--scale", "0.75"])
    assert cfg.data == "from_file.csv" and cfg.model.hidden == (5,) and cfg.train.epochs == 3
    assert cfg.scale == 0.75  # the flag wins over the file


def test_saved_config_round_trips() -> None:
    cfg = parse(["--data", "d", "--model.hidden", "2,2", "--epochs", "4"])
    again = config_from_dict(Cfg, json.loads(json.dumps(config_to_dict(cfg))))
    assert again == cfg


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "missing required option(s): --data"),
        (["--data", "d", "--scale", "fast"], "invalid value 'fast' for --scale: expected a number"),
        (["--data", "d", "--max-len", "1.5"], "expected an integer"),
        (["--data", "d", "--model.act", "gelu"],
         "invalid choice 'gelu' for --model.act; valid: relu, tanh"),
        (["--data", "d", "--model.hidden", "8,x"], "comma-separated ints"),
        (["--data", "d", "--epochs", "0"], "--epochs must be >= 1, got 0"),
        (["--data", "d", "--patience", "3", "--early-stop-metric", ""], "--patience needs"),
    ],
)  # fmt: skip
def test_bad_values_raise_usage_errors_naming_the_rule(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError) as err:
        parse(argv)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_key_in_file_lists_valid_keys(tmp_path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"data": "d", "learning_rate": 0.1}))
    with pytest.raises(
        UsageError, match=r"unknown option 'learning_rate'; valid: data, max_len, scale"
    ):
        parse(["--config", str(path)])


def test_missing_or_unparsable_config_file(tmp_path) -> None:
    with pytest.raises(UsageError, match="config file not found"):
        parse(["--config", str(tmp_path / "nope.toml")])
    bad = tmp_path / "bad.toml"
    bad.write_text("scale = = 1\n")
    with pytest.raises(UsageError, match="cannot parse toml config"):
        parse(["--config", str(bad)])
    other = tmp_path / "run.ini"
    other.write_text("[x]\n")
    with pytest.raises(UsageError, match=r"valid: \.toml, \.json, \.yaml"):
        parse(["--config", str(other)])


@dataclass(frozen=True)
class FastTextLike:
    model: str = option(help="model file", positional=True)
    k: int = option(1, positional=True)
    min_count: int = option(1, aliases=("-minCount", "--minCount"))
    input: str = option("", aliases=("-input",))


def test_positional_arguments_and_flag_aliases() -> None:
    cfg = parse(["m.bin", "5", "-minCount", "3", "-input", "train.txt"], FastTextLike)
    assert cfg == FastTextLike("m.bin", 5, 3, "train.txt")
    cfg = parse(["m.bin", "--minCount", "2"], FastTextLike)
    assert cfg.k == 1 and cfg.min_count == 2
    with pytest.raises(SystemExit):  # argparse: the required positional is missing
        parse(["--min-count", "2"], FastTextLike)


@dataclass(frozen=True)
class ManyFiles:
    files: tuple[str, ...] = option(help="files", positional=True)
    top_k: int = option(1)


def test_a_positional_tuple_takes_every_word_left() -> None:
    cfg = parse(["--top-k", "2", "a,1.png", "b.png"], ManyFiles)
    assert cfg == ManyFiles(("a,1.png", "b.png"), 2)  # one value per word: no comma split
    with pytest.raises(SystemExit):  # at least one is required
        parse(["--top-k", "2"], ManyFiles)
