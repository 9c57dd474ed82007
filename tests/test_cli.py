"""The ``danlu`` command line: help, and one-line errors with exit status 2."""

from __future__ import annotations

import pytest
from tests.conftest import run_danlu

from danlu.cli import COMMANDS, main

WINE = "src/danlu/samples/wine.csv"


def test_help_lists_every_command(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for group in {c.path[0] for c in COMMANDS}:
        assert group in out


@pytest.mark.parametrize("path", [c.path for c in COMMANDS], ids=lambda p: " ".join(p))
def test_every_command_has_help_with_defaults(path: tuple[str, ...], capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*path, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--config FILE" in out
    assert "(default:" in out


def test_tabular_train_help_shows_engine_flags(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["tabular", "train", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for flag in ("--epochs", "--max-steps", "--batch-size", "--lr", "--seed", "--device",
                 "--amp", "--grad-clip", "--checkpoint-every", "--resume", "--patience",
                 "--quiet", "--folds", "--hidden"):  # fmt: skip
        assert flag in out
    assert "(default: 64,32)" in out and "(default: 100)" in out


BAD_USAGE = [
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["tabular", "train", "--target", "y"], "missing required option(s): --data"),
    (["tabular", "train", "--data", WINE, "--target", "cultivar", "--epoch", "3"],
     "unrecognized arguments: --epoch (did you mean --epochs"),
    (["tabular", "train", "--data", WINE, "--target", "cultivar", "--epochs", "abc"],
     "invalid value 'abc' for --epochs: expected an integer"),
    (["tabular", "train", "--data", WINE, "--target", "cultivar", "--task", "ranking"],
     "invalid choice 'ranking' for --task; valid: auto, regression, classification"),
    (["tabular", "train", "--data", "no/such.csv", "--target", "y"],
     "data file not found: no/such.csv"),
    (["tabular", "train", "--data", WINE, "--target", "vintage"], "no column 'vintage'"),
    (["tabular", "train", "--data", WINE, "--target", "cultivar", "--activation", "swish"],
     "unknown activation 'swish'; valid: sigmoid, tanh, relu"),
    (["tabular", "train", "--data", WINE, "--target", "cultivar", "--device", "cpu", "--amp"],
     "--amp (bf16 autocast) needs a CUDA device"),
    (["tabular", "train", "--data", WINE, "--target", "cultivar", "--config", "missing.toml"],
     "config file not found: missing.toml"),
    (["tabular", "predict", "--model", "no/run", "--data", WINE], "no model found"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "message"), BAD_USAGE, ids=[" ".join(a[:3]) for a, _ in BAD_USAGE]
)
def test_bad_usage_is_one_line_and_status_2(argv: list[str], message: str, tmp_path) -> None:
    from tests.conftest import REPO

    argv = [*argv, "--out", str(tmp_path / "run")] if argv[:2] == ["tabular", "train"] else argv
    proc = run_danlu(*argv, cwd=REPO, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith("note:")]
    assert len(lines) == 1, proc.stderr
    assert message in lines[0]
    assert "Traceback" not in proc.stderr


def test_schedule_plot_draws_cosine_restarts(tmp_path) -> None:
    out = tmp_path / "lr.png"
    args = ["--name", "cosine_restarts", "--steps", "1000", "--T-0", "100", "--T-mult", "2"]
    proc = run_danlu("schedule", "plot", *args, "--warmup", "50", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:4] == b"\x89PNG"
    # restarts after 100, 200, 400 steps, shifted by the 50 warm-up steps
    assert "max 1 at step(s) 50, 150, 350, 750" in proc.stdout


def test_schedule_plot_missing_parameter_is_a_usage_error(tmp_path) -> None:
    proc = run_danlu(
        "schedule", "plot", "--name", "cosine_restarts", "--out", str(tmp_path / "x.png")
    )
    assert proc.returncode == 2 and "needs T_0" in proc.stderr and "Traceback" not in proc.stderr
