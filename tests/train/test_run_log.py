"""The run files: metrics.jsonl on a full disk, plots written atomically, the x axis's unit."""

from __future__ import annotations

import errno

import pytest
from matplotlib.figure import Figure

import danlu.train.run_log as run_log
from danlu.errors import DiskFull
from danlu.train.run_log import RunLog, plot_curves, plot_runs, read_events

EVENTS = [{"event": "train", "step": s, "loss": 1.0 / s} for s in (1, 2, 3)] + [
    {"event": "eval", "step": 3, "val_loss": 0.4}
]


class FullDisk:
    """A file object whose disk is full."""

    closed = False

    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def test_a_full_disk_while_logging_is_disk_full_naming_metrics_jsonl(tmp_path) -> None:
    log = RunLog(tmp_path)
    log.log("train", 1, loss=0.5)
    log._fh.close()
    log._fh = FullDisk()
    with pytest.raises(DiskFull) as err:
        log.log("train", 2, loss=0.4)
    assert str(err.value).startswith(f"could not write {tmp_path / 'metrics.jsonl'}: no space")
    assert [e["step"] for e in read_events(tmp_path / "metrics.jsonl")] == [1]


def test_curves_are_written_atomically(tmp_path, monkeypatch) -> None:
    path = tmp_path / "curves.png"
    plot_curves(EVENTS, path)
    before = path.read_bytes()
    assert before[:4] == b"\x89PNG"

    def torn(self, fname, **kwargs) -> None:  # the renderer dies half-way through the file
        if isinstance(fname, str | bytes) or hasattr(fname, "__fspath__"):
            fname = open(fname, "wb")  # noqa: SIM115
        fname.write(b"\x89PNG half")
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(Figure, "savefig", torn)
    with pytest.raises(RuntimeError, match="renderer crashed"):
        plot_curves(EVENTS[:2], path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]  # no temp file left


@pytest.mark.parametrize("x_label", ["step", "epoch"])
def test_the_x_axis_names_its_unit(tmp_path, monkeypatch, x_label: str) -> None:
    figures: list[Figure] = []
    monkeypatch.setattr(run_log, "save_figure", lambda fig, path: figures.append(fig))
    if x_label == "step":
        plot_curves(EVENTS, tmp_path / "c.png")  # the default
    else:
        plot_runs({"a": EVENTS, "b": EVENTS}, tmp_path / "c.png", x_label=x_label)
    assert {ax.get_xlabel() for ax in figures[0].axes} == {x_label}
