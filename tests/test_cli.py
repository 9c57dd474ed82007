"""The ``danlu`` command line: help, one-line errors with exit status 2, and the engine's
behaviour seen from the command line (resume, threads, progress)."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import danlu_env, run_danlu

from danlu.cli import COMMANDS, main
from danlu.tasks.command import Command
from danlu.tasks.demo_config import sample_path

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


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c.path))
def test_every_command_names_a_frozen_config_dataclass(command: Command) -> None:
    cls = command.load_config()
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert command.config == f"{cls.__module__}:{cls.__name__}"  # named where it is defined


def test_a_command_imports_only_its_own_config() -> None:
    """Every command pays for what runs before it: ``danlu supervised --help`` imports the
    one config module it needs, not the other tasks' (~50 ms), nor numpy or torch."""
    script = ("import sys\nfrom danlu.cli import main\ntry:\n    main(sys.argv[1:])\n"
              "except SystemExit:\n    pass\nprint(*sorted(sys.modules))\n")  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", script, "supervised", "--help"],
                          capture_output=True, text=True, env=danlu_env(), timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    loaded = set(proc.stdout.splitlines()[-1].split())
    configs = {m for m in loaded if m.startswith("danlu.") and m.endswith("config")}
    assert configs == {"danlu.config", "danlu.tasks.text_classification.config"}
    assert not loaded & {"numpy", "torch", "danlu.tasks.demo_config", "danlu.lab.claim"}


def test_a_config_string_must_name_module_and_class() -> None:
    with pytest.raises(ValueError, match="config must be 'module:Class', got 'Cfg'"):
        Command(("x",), "Cfg", lambda cfg: 0, "")


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


# ---------------------------------------------------------------- issue 16: the engine's rows
def tabular(out: Path, *extra: str, epochs: int = 3) -> list[str]:
    """A ~1 s real training run: 142 rows, 5 steps per epoch, a checkpoint per epoch."""
    return ["tabular", "train", "--data", str(sample_path("wine.csv")), "--target", "cultivar",
            "--task", "classification", "--hidden", "8", "--batch-size", "32", "--lr", "3e-3",
            "--epochs", str(epochs), "--checkpoint-every", "5", "--keep-checkpoints", "3",
            "--device", "cpu", "--quiet", "--out", str(out), *extra]  # fmt: skip


def error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The one line of a refused command (status 2, nothing else on stderr, no traceback)."""
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("danlu tabular train: error: ")
    return lines[0].removeprefix("danlu tabular train: error: ")


@pytest.fixture
def finished_run(tmp_path) -> Path:
    out = tmp_path / "run"
    run_danlu(*tabular(out), check=True)
    assert [p.name for p in sorted((out / "checkpoints").iterdir())] == [
        "step-00000005.pt", "step-00000010.pt", "step-00000015.pt"]  # fmt: skip
    return out


def test_resume_skips_a_truncated_checkpoint_and_refuses_when_none_is_usable(finished_run) -> None:
    ckpts = finished_run / "checkpoints"
    newest = ckpts / "step-00000015.pt"
    newest.write_bytes(newest.read_bytes()[:2000])  # a copy cut short
    proc = run_danlu(*tabular(finished_run, "--resume"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == [
        f"warning: {newest} is truncated (its end is missing: the write or copy was cut "
        "short); resuming from the older step-00000010.pt",
        f"resumed from {ckpts / 'step-00000010.pt'} at step 10 of 15 (epoch 2, batch 5 of 5)",
    ]
    assert json.loads((finished_run / "metrics.json").read_text())["steps"] == 15
    for ckpt in ckpts.iterdir():
        ckpt.write_bytes(b"")
    model = (finished_run / "model.safetensors").read_bytes()
    line = error_line(run_danlu(*tabular(finished_run, "--resume")))
    assert line == (f"--resume: no usable checkpoint in {ckpts}: step-00000015.pt is empty; "
                    "step-00000010.pt is empty; step-00000005.pt is empty; start the run again "
                    "with --overwrite (or put the run's own checkpoints back)")  # fmt: skip
    assert (finished_run / "model.safetensors").read_bytes() == model  # nothing touched


def test_a_pickle_where_a_checkpoint_belongs_is_not_unpickled(tmp_path) -> None:
    out = tmp_path / "run"
    run_danlu(*tabular(out, epochs=1), check=True)
    script = ("import sys, torch\nclass Evil:\n    def __reduce__(self):\n"
              "        return (print, ('UNPICKLED',))\n"
              "torch.save({'x': Evil()}, sys.argv[1])\n")  # fmt: skip
    planted = out / "checkpoints" / "step-00000005.pt"
    subprocess.run([sys.executable, "-c", script, str(planted)], check=True)
    proc = run_danlu(*tabular(out, "--resume"))
    line = error_line(proc)
    assert line == (f"--resume: no usable checkpoint in {out / 'checkpoints'}: step-00000005.pt "
                    "is not a danlu checkpoint; it will not be unpickled (unpickling can run "
                    "code); start the run again with --overwrite (or put the run's own "
                    "checkpoints back)")  # fmt: skip
    assert "weights_only" not in proc.stderr and "UNPICKLED" not in proc.stdout + proc.stderr


def test_resume_refuses_changed_options_before_reading_data(finished_run) -> None:
    config = (finished_run / "config.json").read_text()
    argv = tabular(finished_run, "--resume", "--hidden", "16", "--lr", "0.01")
    argv[argv.index("--data") + 1] = "moved/wine.csv"  # not read: refused before
    line = error_line(run_danlu(*argv))
    assert line == (
        f"--resume: options differ from the run in {finished_run / 'config.json'}: --data "
        f"({sample_path('wine.csv')} in the run, moved/wine.csv now), --hidden (8 in the run, "
        "16 now), --lr (0.003 in the run, 0.01 now); a resumed run may change only --epochs, "
        "--max-steps, --patience, --log-every, --checkpoint-every, --keep-checkpoints, "
        "--inspect, --quiet, --device, --threads, --out: pass the run's values, or "
        "--overwrite to start a new run"
    )
    assert (finished_run / "config.json").read_text() == config  # the record is kept
    proc = run_danlu(*tabular(finished_run, "--resume", epochs=4))  # more epochs: fine
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == (f"resumed from {finished_run / 'checkpoints' / 'step-00000015.pt'} "
                           "at step 15 of 20 (epoch 3, batch 5 of 5)\n")  # fmt: skip
    assert json.loads((finished_run / "config.json").read_text())["train"]["epochs"] == 4


def test_threads_sets_torchs_cpu_threads(tmp_path) -> None:
    script = ("import sys, torch\nfrom danlu.cli import main\nstatus = main(sys.argv[1:])\n"
              "print('threads', torch.get_num_threads())\nraise SystemExit(status)\n")  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", script, *tabular(tmp_path / "run", "--threads",
                           "2", epochs=1)], capture_output=True, text=True, env=danlu_env(),
                          timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "threads 2"


def test_off_a_terminal_progress_lines_and_a_short_config_block(tmp_path) -> None:
    script = ("import sys\nimport danlu.train.progress as p\np.PROGRESS_SECONDS = 0.0\n"
              "from danlu.cli import main\nraise SystemExit(main(sys.argv[1:]))\n")  # fmt: skip
    argv = [a for a in tabular(tmp_path / "run", epochs=2) if a != "--quiet"]
    proc = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True,
                          env=danlu_env(), timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    progress = [ln for ln in proc.stderr.splitlines() if "samples/s" in ln]
    assert len(progress) == 10  # one per step here; one per ~10 s of training normally
    assert re.fullmatch(r"step 10/10 \(100%\) epoch 2/2 loss [0-9.]+ \d+ samples/s ETA 0s",
                        progress[-1])  # fmt: skip
    evals = [ln for ln in proc.stderr.splitlines() if "val_loss" in ln]
    assert [ln.split(":")[0] for ln in evals] == ["step 5 epoch 1", "step 10 epoch 2"]
    out = tmp_path / "run"
    config = proc.stdout.splitlines()[:-1]  # the last line is the result
    assert config[0] == (f"config: run folder {out}; options not at their defaults (all in "
                         f"{out}/config.json):")  # fmt: skip
    assert " ".join(ln.strip() for ln in config[1:]) == (
        f"--data {sample_path('wine.csv')} --target cultivar --task classification --hidden 8 "
        "--epochs 2 --batch-size 32 --lr 0.003 --device cpu --checkpoint-every 5 "
        "--keep-checkpoints 3"
    )
    assert len(config) <= 5 and all(len(ln) <= 88 or ln.count(" --") == 1 for ln in config[1:])
