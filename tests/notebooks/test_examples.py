"""The example notebooks, executed in a fresh Jupyter kernel (nbclient) as a newcomer would run them.

Checked: no cell fails; fit shows progress with the default verbose (tqdm's notebook bar is a widget); the
LivePlot is one image output, updated in place however many times it was drawn; the rich displays are
`text/html`. Each notebook is kept to a few seconds of work.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WIDGET = "application/vnd.jupyter.widget-view+json"


def _execute(name: str, workdir: Path):
    """Run the notebook in a fresh kernel whose working directory is `workdir`; returns it executed."""
    shutil.copy(EXAMPLES / name, workdir / name)
    nb = nbformat.read(workdir / name, as_version=4)
    env_path = os.pathsep.join(p for p in (str(EXAMPLES.parent / "src"), os.environ.get("PYTHONPATH")) if p)
    os.environ["PYTHONPATH"] = env_path  # the kernel imports this checkout's gradwise
    client = nbclient.NotebookClient(nb, timeout=240, kernel_name="python3",
                                     resources={"metadata": {"path": str(workdir)}})
    client.execute(env={**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": env_path})
    return nb


def _outputs(cell) -> list[dict]:
    return [o for o in cell.get("outputs", []) if o.get("output_type") != "stream"]


def _html(cell) -> list[str]:
    return [o["data"]["text/html"] for o in _outputs(cell) if "text/html" in o.get("data", {})]


def _cell(nb, source_part: str):
    matches = [c for c in nb.cells if c.cell_type == "code" and source_part in c.source]
    assert len(matches) == 1, source_part
    return matches[0]


def _no_errors(nb) -> None:
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", f"{out.get('ename')}: {out.get('evalue')}"
            if out.get("name") == "stderr":
                assert "Warning" not in out["text"] and "Traceback" not in out["text"], out["text"]


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory):
    """The quickstart executed once; its outputs are checked, and it is rendered for the screenshot."""
    return _execute("01_quickstart.ipynb", tmp_path_factory.mktemp("quickstart"))


def test_quickstart_shows_progress_a_live_figure_updated_in_place_and_html_displays(quickstart):
    nb = quickstart
    _no_errors(nb)
    assert "<table" in _html(_cell(nb, "model = gw.mlp("))[0]
    fit = _cell(nb, "history = model.fit(")
    kinds = [sorted(o.get("data", {})) for o in _outputs(fit)]
    assert sum(WIDGET in k for k in kinds) == 1  # the tqdm bar: one widget, with the default verbose
    images = [o for o in _outputs(fit) if "image/png" in o.get("data", {})]
    assert len(images) == 1  # one figure output, however many redraws
    draws = int(re.search(r"figure drawn (\d+) times", "".join(o.get("text", "") for o in fit.outputs)).group(1))
    assert draws >= 3  # ... and it was redrawn: updated in place, not appended
    history = _html(_cell(nb, "history   #"))[0]
    assert history.count("<polyline") == 4 and "History: 300 epochs" in history


def test_your_table_trains_on_raw_rows_and_logs_each_epoch(tmp_path):
    nb = _execute("02_your_table.ipynb", tmp_path)
    _no_errors(nb)
    assert "<polyline" in _html(_cell(nb, "history = model.fit("))[0]
    rows = (tmp_path / "history.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,cost,accuracy,val_cost") and len(rows) > 30


def test_gradient_checking_and_the_doctor_display_as_html(tmp_path):
    nb = _execute("03_gradient_checking_and_the_doctor.ipynb", tmp_path)
    _no_errors(nb)
    passed = _html(_cell(nb, "gw.gradcheck(model, X, y)"))[0]
    assert "gradient check PASSED" in passed and "gw-marked" not in passed
    failed = _html(_cell(nb, "report = gw.gradcheck(buggy"))[0]
    assert "gradient check FAILED" in failed and re.search(r'class="gw-marked"><td[^>]*>W2<', failed)
    assert "verdict:" in _html(_cell(nb, "gw.diagnose("))[0]


def test_tuning_displays_the_result(tmp_path):
    nb = _execute("04_tuning.ipynb", tmp_path)
    _no_errors(nb)
    result = _html(_cell(nb, "result = gw.tune("))[0]
    assert "TuneResult" in result and "learning_rate" in result and "best trial" in result


def test_the_executed_quickstart_renders_to_html_and_a_screenshot(quickstart, tmp_path):
    """nbconvert's HTML of the executed notebook, photographed by headless Chromium (skipped without it)."""
    from nbconvert import HTMLExporter

    html, _ = HTMLExporter(template_name="lab").from_notebook_node(quickstart)
    assert html.count("<img") == 1 and html.count("<polyline") == 4  # the live figure; the History curves
    page = tmp_path / "quickstart.html"
    page.write_text(html, encoding="utf-8")
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("no headless Chromium on this machine (apt-get install chromium)")
    shot = tmp_path / "quickstart.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1100,1500", f"--screenshot={shot}", page.as_uri()],
                   check=True, timeout=120, capture_output=True)
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (1500, 1100)
    assert pixels[..., :3].std() > 0.05  # a rendered page (text, tables, the figure), not a blank one
