"""report.html in a real headless Chromium: every image decodes and the tables are there.

The page is loaded from a copy of the report with one added script (run on `load`) that writes what the
browser sees into the DOM, which `--dump-dom` prints; a deliberately corrupt image is added as a control, so
the check is shown to catch an image that does not decode.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from gradwise.experiments.runner import NAMES

CHROMIUM = next((p for p in (shutil.which("chromium"), "/usr/bin/chromium", shutil.which("chromium-browser"),
                             shutil.which("google-chrome")) if p and os.path.exists(p)), None)

PROBE = """
<img alt="control-broken" src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAA">
<script>
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var bad = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
                .map(function (i) { return i.alt; });
  var out = document.createElement("pre");
  out.id = "gw-check";
  out.textContent = JSON.stringify({images: imgs.length, bad: bad,
    widths: imgs.map(function (i) { return i.naturalWidth; }),
    tables: document.querySelectorAll("table").length,
    headers: Array.prototype.map.call(document.querySelectorAll("h2"), function (h) { return h.textContent; }),
    fails: document.querySelectorAll("td.fail").length, passes: document.querySelectorAll("td.pass").length});
  document.body.appendChild(out);
});
</script>
"""


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium browser installed (Debian: apt-get install chromium)")
def test_report_renders_in_chromium(quick_run, tmp_path):
    html = (quick_run.out / "report.html").read_text(encoding="utf-8")
    assert "<img" in html and 'src="plots/' not in html  # self-contained: no file references
    page = tmp_path / "probe.html"
    page.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=180)
    match = re.search(r'<pre id="gw-check">(.*?)</pre>', proc.stdout, re.S)
    assert match, f"the probe did not run; chromium said: {proc.stderr[-2000:]}"
    seen = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    n_report_images = html.count("<img")
    assert seen["images"] == n_report_images + 1
    assert seen["bad"] == ["control-broken"]  # every report image decoded; the corrupt control did not
    assert all(w > 300 for w in seen["widths"][:-1])
    assert seen["tables"] >= 10
    assert seen["headers"][0] == "Summary" and len(seen["headers"]) == 1 + len(NAMES)  # one per experiment
    assert seen["passes"] > 0
