"""The lab's report rendered by a real browser (headless Chromium): every image decodes, no
console errors, one verdict row per claim. Skipped where no Chromium is installed
(``.ci/run`` installs Debian's ``chromium``)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from danlu.lab import CLAIMS

BROWSER = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")
                if shutil.which(b)), None)  # fmt: skip
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium installed "
                                "(apt-get install chromium)")  # fmt: skip

# Injected into a copy of the page: collect errors from the start, report after load.
PROBE_HEAD = """<script>
window.__errors = [];
window.addEventListener('error', e => window.__errors.push(String(e.message || e.type)), true);
const _error = console.error;
console.error = (...a) => { window.__errors.push(a.join(' ')); _error(...a); };
</script>"""
PROBE_END = """<script>
window.addEventListener('load', () => {
  const images = [...document.images];
  const broken = images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt);
  const rows = document.querySelectorAll('#verdicts tr').length - 1;
  document.body.setAttribute('data-probe', JSON.stringify(
    {images: images.length, broken, rows, errors: window.__errors}));
});
</script>"""


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu",
                           "--disable-dev-shm-usage", "--no-first-run", *args],
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_the_report_renders_in_chromium(quick_run: Path, tmp_path) -> None:
    page = (quick_run / "report.html").read_text(encoding="utf-8")
    probed = page.replace("<head>", "<head>" + PROBE_HEAD, 1).replace(
        "</body>", PROBE_END + "</body>"
    )
    html = tmp_path / "probed.html"
    html.write_text(probed, encoding="utf-8")
    proc = _chromium("--virtual-time-budget=10000", "--dump-dom", html.as_uri())
    found = re.search(r"data-probe=\"([^\"]*)\"", proc.stdout)
    assert found, proc.stderr[-2000:]
    probe = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    figures = sum(1 for cid in CLAIMS if (quick_run / f"{cid}.png").is_file())
    assert probe["images"] == figures and probe["broken"] == []
    assert probe["rows"] == len(CLAIMS)
    assert probe["errors"] == []


def test_a_screenshot_of_the_top_of_the_report(quick_run: Path, tmp_path) -> None:
    shot = tmp_path / "top.png"
    _chromium("--window-size=1280,900", "--hide-scrollbars", f"--screenshot={shot}",
              (quick_run / "report.html").as_uri())  # fmt: skip
    from PIL import Image

    with Image.open(shot) as png:
        assert png.size == (1280, 900)
        colours = png.convert("L").getextrema()
        assert colours[0] < 100 < colours[1]  # text on a light page, not a blank frame
