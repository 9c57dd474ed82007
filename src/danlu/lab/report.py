"""``danlu lab report DIR``: one self-contained HTML page of a lab run.

The page starts with the verdict table (one row per claim, in the table order of
:data:`danlu.lab.registry.CLAIMS`, each linking to its section) and a count of the
verdicts; then one section per claim: the quoted claim and its source note, the protocol,
the criterion fixed before the run, the numbers, the figure (embedded as a ``data:`` URI,
so the page is one file that can be mailed or committed), the verdict with its
explanation, the command that reproduces it and the seconds it took. Claims that have not
been run are listed as such; a claim whose experiment failed shows its error.

Example:
    >>> write_report("runs/lab")  # doctest: +SKIP
    PosixPath('runs/lab/report.html')
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from pathlib import Path
from typing import Any

from danlu import __version__
from danlu.io import atomic_write
from danlu.lab.claim import VERDICTS
from danlu.lab.registry import CLAIMS
from danlu.lab.runner import load_record

__all__ = ["render_report", "verdict_table_markdown", "write_report"]

_COLOURS = {"confirmed": "#1a7f37", "refuted": "#cf222e", "partly": "#9a6700",
            "error": "#6e7781", "skipped": "#6e7781", "not run": "#6e7781"}  # fmt: skip

_STYLE = """
body { font: 15px/1.5 system-ui, "Noto Sans CJK SC", "PingFang SC", sans-serif;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #1f2328; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
.verdict { font-weight: 600; }
section { border-top: 2px solid #d0d7de; margin-top: 2em; padding-top: 0.5em; }
blockquote { margin: 0.5em 0; padding: 0.2em 1em; border-left: 4px solid #d0d7de;
             color: #424a53; }
code, pre { background: #f6f8fa; padding: 1px 4px; font-size: 13px; }
pre { padding: 8px; overflow-x: auto; }
img { max-width: 100%; }
.numbers td:last-child { font-family: ui-monospace, monospace; }
"""


def _verdict(v: str) -> str:
    return f'<span class="verdict" style="color:{_COLOURS.get(v, "#000")}">{html.escape(v)}</span>'


def _value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list) and len(v) > 12:
        shown = ", ".join(_value(x) for x in v[:12])
        return f"[{shown}, … ({len(v)} values)]"
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_value(x)}" for k, x in v.items()) + "}"
    return str(v)


def _numbers(numbers: dict[str, Any]) -> str:
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(_value(v))}</td></tr>"
                   for k, v in numbers.items())  # fmt: skip
    return f'<table class="numbers"><tr><th>quantity</th><th>value</th></tr>{rows}</table>'


def _image(folder: Path, record: dict[str, Any]) -> str:
    name = record.get("figure")
    if not name or not (folder / name).is_file():
        return "<p><em>no figure</em></p>"
    data = base64.b64encode((folder / name).read_bytes()).decode("ascii")
    alt = html.escape(f"figure of {record['id']}")
    return f'<p><img src="data:image/png;base64,{data}" alt="{alt}"></p>'


def _section(folder: Path, claim_id: str, record: dict[str, Any] | None) -> str:
    claim = CLAIMS[claim_id]
    e = html.escape
    head = (f'<section id="{e(claim_id)}"><h2>{e(claim_id)}</h2>'
            f"<blockquote>{e(claim.quote)}</blockquote>"
            f"<p>Source: {', '.join(f'<code>{e(f)}</code>' for f in claim.source_files)} "
            f"· theme <code>{e(claim.theme)}</code></p>"
            f"<p><strong>Protocol.</strong> {e(claim.protocol)}</p>"
            "<p><strong>Criterion (fixed before running).</strong> "
            f"{e(claim.criterion)}</p>")  # fmt: skip
    if record is None:
        return head + f"<p>Verdict: {_verdict('not run')}</p></section>"
    if record.get("verdict") == "skipped":
        return (
            head + f"<p>Verdict: {_verdict('skipped')}: {e(record.get('error', ''))}</p></section>"
        )
    if record.get("verdict") == "error":
        return head + (f"<p>Verdict: {_verdict('error')}: {e(record.get('error', ''))}</p>"
                       f"<pre>{e(record.get('traceback', ''))}</pre></section>")  # fmt: skip
    return head + (
        f"<p><strong>Verdict: {_verdict(record['verdict'])}.</strong> "
        f"{e(record.get('explanation', ''))}</p>"
        f"{_numbers(record.get('numbers', {}))}{_image(folder, record)}"
        f"<p>Reproduce: <code>{e(record.get('command', ''))}</code> "
        f"({record.get('seconds', 0):.1f} s{', quick form' if record.get('quick') else ''})</p>"
        "</section>"
    )


def render_report(folder: str | Path) -> str:
    """The HTML page of the run folder ``folder``."""
    folder = Path(folder)
    records = {cid: load_record(folder, cid) for cid in CLAIMS}
    verdicts = {cid: (r["verdict"] if r else "not run") for cid, r in records.items()}
    counts = {v: list(verdicts.values()).count(v)
              for v in (*VERDICTS, "skipped", "error", "not run")}  # fmt: skip
    quick = any(r and r.get("quick") for r in records.values())
    e = html.escape
    rows = []
    for i, (cid, claim) in enumerate(CLAIMS.items(), 1):
        r = records[cid]
        seconds = f"{r['seconds']:.1f}" if r and "seconds" in r else ""
        quote = claim.quote if len(claim.quote) <= 70 else claim.quote[:68] + "…"
        rows.append(f'<tr><td>{i}</td><td><a href="#{e(cid)}">{e(cid)}</a></td>'
                    f"<td>{e(claim.theme)}</td><td>{e(', '.join(claim.sources))}</td>"
                    f"<td>{e(quote)}</td><td>{_verdict(verdicts[cid])}</td>"
                    f"<td>{seconds}</td></tr>")  # fmt: skip
    summary = ", ".join(f"{n} {_verdict(v)}" for v, n in counts.items() if n)
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    mode = ("<p><strong>Quick run:</strong> every experiment in its small form; the verdicts "
            "of a quick run carry no weight.</p>") if quick else ""  # fmt: skip
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>danlu lab: the notes' claims, tested</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>danlu lab: the notes' claims, tested</h1>",
        f"<p>{len(CLAIMS)} claims from the notes in <code>shared/notes/</code>, each run as an "
        "experiment on danlu's public API with a criterion stated before it ran. "
        f"Verdicts: {summary}. Generated {when} by danlu {e(__version__)} from "
        f"<code>{e(str(folder))}</code>.</p>", mode,
        '<table id="verdicts"><tr><th>#</th><th>claim</th><th>theme</th><th>notes</th>'
        "<th>quoted claim</th><th>verdict</th><th>seconds</th></tr>",
        *rows, "</table>",
        *(_section(folder, cid, records[cid]) for cid in CLAIMS),
        "</body></html>", "",
    ])  # fmt: skip


def write_report(folder: str | Path, out: str | Path | None = None) -> Path:
    """Write :func:`render_report` to ``out`` (default ``folder/report.html``)."""
    data = render_report(folder).encode("utf-8")
    path = Path(out) if out else Path(folder) / "report.html"
    return atomic_write(path, lambda fh: fh.write(data), len(data))


def verdict_table_markdown(folder: str | Path) -> str:
    """The verdict table as Markdown, for the README."""
    lines = ["| # | claim | notes | verdict |", "|---|---|---|---|"]
    for i, cid in enumerate(CLAIMS, 1):
        r = load_record(folder, cid)
        lines.append(f"| {i} | {cid} | {', '.join(CLAIMS[cid].sources)} | "
                     f"{r['verdict'] if r else 'not run'} |")  # fmt: skip
    return "\n".join(lines)
