"""``danlu demo`` trains every task on the shipped samples and writes a report."""

from __future__ import annotations

import json

from tests.conftest import run_danlu

from danlu.tasks.demo import DEMOS, sample_path

RUN_FILES = ("config.json", "metrics.jsonl", "metrics.json", "model.safetensors", "curves.png")


def test_shipped_samples_are_attributed() -> None:
    readme = sample_path("README.md").read_text(encoding="utf-8")
    assert "wine.csv" in readme and "CC BY 4.0" in readme
    for path in sample_path("README.md").parent.iterdir():  # every shipped file has a section
        if path.name not in ("README.md", "__init__.py") and not path.name.startswith("."):
            assert f"{path.name}" in readme, f"{path.name} has no source/license section"
    assert "MIT" in readme and "CC BY-SA 4.0" in readme
    header = sample_path("wine.csv").read_text().splitlines()[0].split(",")
    assert header[0] == "alcohol" and header[-1] == "cultivar"


def test_demo_runs_every_task_and_writes_a_report(tmp_path) -> None:
    proc = run_danlu("demo", "--out", str(tmp_path), "--device", "cpu", timeout=600)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [d["name"] for d in summary["demos"]] == [d.name for d in DEMOS]
    for row in summary["demos"]:
        assert (tmp_path / row["name"] / "model.safetensors").is_file()
        assert (tmp_path / row["name"] / "curves.png").is_file()
        for name in RUN_FILES:  # every run folder holds the documented files
            assert (tmp_path / row["name"] / name).is_file(), (row["name"], name)
    again = run_danlu(
        "demo",
        "--out",
        str(tmp_path),
        "--device",
        "cpu",
        "--only",
        "tagging-seg",
        "--quiet",
        timeout=600,
    )  # a demo replaces its earlier run
    assert again.returncode == 0, again.stderr
    by_name = {d["name"]: d for d in summary["demos"]}
    assert by_name["tabular-classification"]["value"] >= 0.9  # accuracy
    assert by_name["tabular-regression"]["value"] >= 0.3  # R² of alcohol %
    assert "| task | data | metric | value | seconds |" in proc.stdout
    assert (tmp_path / "summary.md").is_file()


def test_unknown_demo_name_lists_the_valid_ones(tmp_path) -> None:
    proc = run_danlu("demo", "--out", str(tmp_path), "--only", "nope")
    assert proc.returncode == 2
    assert "unknown demo(s) nope; valid: tabular-classification" in proc.stderr
