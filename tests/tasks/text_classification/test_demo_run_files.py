"""``danlu demo``'s fastText entry writes the files of every run folder, curves per epoch."""

from __future__ import annotations

import json
from typing import Any

import pytest

from danlu.io.run_folder import RUN_FILES
from danlu.tasks.text_classification.demo import DEMOS
from danlu.train import run_log


def test_fasttext_demo_folder_holds_the_run_files(tmp_path, monkeypatch) -> None:
    plotted: list[dict[str, Any]] = []
    plot_curves = run_log.plot_curves

    def recorded(events, path, title=None, **kwargs):
        plotted.append({"events": list(events), "path": path, **kwargs})
        return plot_curves(events, path, title, **kwargs)

    monkeypatch.setattr(run_log, "plot_curves", recorded)
    (demo,) = [d for d in DEMOS if d.name == "fasttext-sentiment"]
    metrics = demo.run(tmp_path, "cpu")
    documented = [name for name in RUN_FILES if name != "inspect.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(documented)
    config = json.loads((tmp_path / "config.json").read_text(encoding="utf-8"))
    assert config["tokenizer"] == "char" and config["epoch"] == 10 and config["lr"] == 0.5
    summary = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert summary["val_accuracy"] == pytest.approx(metrics["val_accuracy"])
    assert metrics["val_accuracy"] > 0.7
    events = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    for kind, key in (("train", "loss"), ("eval", "val_accuracy")):
        rows = [e for e in events if e["event"] == kind]
        assert [e["step"] for e in rows] == [e["epoch"] for e in rows] == list(range(1, 11))
        assert all(key in e for e in rows)
    # the curves' x axis counts epochs, and says so
    (plot,) = plotted
    assert plot["x_label"] == "epoch" and plot["path"] == tmp_path / "curves.png"
