"""``danlu lab run --all --quick``: every claim runs and leaves a well-formed result; the
runner resumes, records failures and missing data; the CLI refuses bad input in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import run_danlu

from danlu.lab import CLAIMS, NOTES, THEMES, VERDICTS, Claim, Result, run_claims
from danlu.lab.data import DataMissing

Image = pytest.importorskip("PIL.Image", reason="Pillow is not installed (pip install Pillow)")

ISSUE_THEMES = ("optimizers", "schedules", "normalization", "initialization", "activations",
                "regularization", "recurrent", "attention", "seq2seq", "tagging", "multilabel",
                "shift", "critical_points", "generative_vs_discriminative", "cnn",
                "fasttext")  # fmt: skip
QUICK_SECONDS = 10.0  # the issue's budget for one claim's quick form


def test_the_table_covers_every_theme_with_well_formed_claims() -> None:
    assert set(THEMES) == set(ISSUE_THEMES)
    assert len(CLAIMS) >= 46, f"{len(CLAIMS)} claims; the issue lists 46"
    for claim in CLAIMS.values():
        assert claim.quote and claim.protocol and claim.criterion, claim.id
        assert set(claim.sources) <= set(NOTES) and claim.id.isidentifier(), claim.id
        assert any(w in claim.criterion for w in ("confirmed", "refuted", "partly")), claim.id


def test_every_claim_leaves_a_verdict_numbers_and_a_figure(quick_run: Path) -> None:
    data_here = Path(__file__).resolve().parents[2].parent.joinpath("shared", "data").is_dir()
    for cid, claim in CLAIMS.items():
        record = json.loads((quick_run / f"{cid}.json").read_text(encoding="utf-8"))
        assert record["id"] == cid and record["quick"] is True
        assert record["sources"] == list(claim.source_files)
        if record["verdict"] == "skipped":  # allowed only where the data is not here
            assert not data_here, f"{cid} skipped: {record.get('error')}"
            continue
        assert record["verdict"] in VERDICTS, (cid, record.get("error"), record.get("traceback"))
        assert record["numbers"] and record["explanation"].strip(), cid
        assert record["seconds"] <= QUICK_SECONDS, f"{cid}: {record['seconds']:.1f} s quick"
        with Image.open(quick_run / record["figure"]) as png:
            png.load()  # decodes
            assert png.size[0] > 100 and png.size[1] > 100, cid
        assert record["command"].startswith(f"danlu lab run {cid} --quick")


def test_the_report_has_one_row_per_claim(quick_run: Path) -> None:
    page = (quick_run / "report.html").read_text(encoding="utf-8")
    assert page.count('<tr><td><a href="#') == 0  # rows start with their number
    for i, cid in enumerate(CLAIMS, 1):
        assert f'<tr><td>{i}</td><td><a href="#{cid}">{cid}</a></td>' in page
        assert f'<section id="{cid}">' in page
    assert "Quick run" in page


def _claim(cid: str, run) -> Claim:
    return Claim(cid, "optimizers", ("001",), "“<b>quoted</b>”", "protocol", "confirmed if …", run)


def test_runs_resume_and_record_failures_and_missing_data(tmp_path, monkeypatch) -> None:
    calls: list[str] = []

    def good(quick: bool) -> Result:
        calls.append("good")
        return Result("confirmed", {"x": float("nan"), "n": 3}, "because", None)

    def bad(quick: bool) -> Result:
        raise RuntimeError("boom")

    def absent(quick: bool) -> Result:
        raise DataMissing("mnist/x not found")

    for cid, fn in (("t_good", good), ("t_bad", bad), ("t_absent", absent)):
        monkeypatch.setitem(CLAIMS, cid, _claim(cid, fn))
    first = {r["id"]: r for r in run_claims(["t_good", "t_bad", "t_absent"], True, tmp_path,
                                            progress=False)}  # fmt: skip
    assert first["t_good"]["verdict"] == "confirmed" and first["t_good"]["numbers"]["x"] == "nan"
    assert first["t_bad"]["verdict"] == "error" and "RuntimeError: boom" in first["t_bad"]["error"]
    assert first["t_absent"]["verdict"] == "skipped"
    run_claims(["t_good", "t_bad"], True, tmp_path, progress=False)
    assert calls == ["good"]  # finished claims are not rerun; the failed one is
    run_claims(["t_good"], False, tmp_path, progress=False)
    assert calls == ["good", "good"]  # a full run does not reuse a quick result
    from danlu.lab.report import render_report

    page = render_report(tmp_path)
    assert "&lt;b&gt;quoted&lt;/b&gt;" in page and "<b>quoted</b>" not in page  # escaped
    assert "RuntimeError: boom" in page


@pytest.mark.parametrize(("args", "message"), [
    (["lab", "run"], "name the claims to run"),
    (["lab", "run", "no_such_claim", "--quick"], "unknown claim 'no_such_claim'"),
    (["lab", "list", "--theme", "nope"], "unknown theme 'nope'"),
    (["lab", "report", "/nonexistent/folder"], "is not a folder"),
])  # fmt: skip
def test_bad_input_is_one_line_and_status_2(args, message) -> None:
    proc = run_danlu(*args)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_list_shows_every_claim() -> None:
    proc = run_danlu("lab", "list", check=True)
    for cid in CLAIMS:
        assert f" {cid} " in proc.stdout
