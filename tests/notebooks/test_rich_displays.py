"""The rich displays Jupyter shows (`_repr_html_`): parsed back as HTML, their tables and curves checked
against the objects they display."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np

import gradwise as gw


class _Parsed(HTMLParser):
    """Table cells per row, marked rows, polyline point counts, and the text."""

    def __init__(self, markup: str):
        super().__init__()
        self.rows: list[list[str]] = []
        self.marked: list[list[str]] = []
        self.polylines: list[int] = []
        self.text: list[str] = []
        self._row: list[str] | None = None
        self._in_cell = False
        self._row_marked = False
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr":
            self._row, self._row_marked = [], attrs.get("class") == "gw-marked"
        elif tag in ("td", "th"):
            self._in_cell = True
            assert self._row is not None
            self._row.append("")
        elif tag == "polyline":
            self.polylines.append(len(attrs["points"].split()))

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._in_cell = False
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            if self._row_marked:
                self.marked.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._in_cell and self._row is not None:
            self._row[-1] += data
        self.text.append(data)


def test_sequential_displays_its_summary_table():
    model = gw.mlp([3, 5, 2, 1], seed=0)
    parsed = _Parsed(model._repr_html_())
    assert parsed.rows[0] == ["layer", "output", "parameters"]
    assert parsed.rows[-1] == ["total", "", str(model.n_parameters)]
    assert [r[1] for r in parsed.rows[1:-1]] == [line.split()[-2] for line in model.summary().splitlines()[1:-1]]
    assert f"loss={model.loss}, l2=0.0" in "".join(parsed.text)


def test_history_displays_curves_with_one_point_per_epoch_and_the_last_values():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 2))
    y = (X[:, 0] > 0).astype(int)
    history = gw.mlp([2, 4, 1], seed=0).fit(X, y, epochs=7, validation_split=0.25)
    parsed = _Parsed(history._repr_html_())
    assert parsed.polylines == [7, 7, 7, 7]  # cost, val_cost, accuracy, val_accuracy
    last = dict(r for r in parsed.rows[1:])
    assert float(last["val_cost"]) == float(f"{history['val_cost'][-1]:.6g}")
    assert "History: 7 epochs" in "".join(parsed.text)


def test_gradcheck_report_marks_the_flagged_rows():
    class DoubledDW(gw.Dense):
        def backward(self, dout):
            dX = super().backward(dout)
            self.grads["W"] *= 2.0
            return dX

    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((12, 3)), rng.integers(0, 2, 12)
    model = gw.Sequential([gw.Dense(4), gw.Tanh(), DoubledDW(1), gw.Sigmoid()], input_dim=3, seed=0)
    report = gw.gradcheck(model, X, y)
    parsed = _Parsed(report._repr_html_())
    assert not report.passed and report.flagged == ["W2"]
    assert [r[0] for r in parsed.marked] == ["W2"]
    per_parameter = {r[0]: float(r[1]) for r in parsed.rows if r and r[0] in report.per_parameter}
    assert per_parameter.keys() == report.per_parameter.keys()
    assert "gradient check FAILED" in "".join(parsed.text)
    good = gw.gradcheck(gw.mlp([3, 4, 1], seed=0), X, y)
    assert good.passed and _Parsed(good._repr_html_()).marked == []


def test_diagnosis_display_says_the_verdict():
    d = gw.diagnose(0.15, 0.16, 0.01)
    markup = d._repr_html_()
    assert f"verdict: {d.verdict}" in markup and d.verdict == "high bias"


def test_tune_result_displays_the_best_configuration():
    result = gw.TuneResult(study=None, study_name="s", storage="sqlite:///s.db", task="binary", best_number=3,
                           best_config={"learning_rate": 0.0123456, "layers": "[8, 4]"},
                           best_dev={"accuracy": 0.9, "cost": 0.3}, counts={"COMPLETE": 5})
    parsed = _Parsed(result._repr_html_())
    assert ["learning_rate", "0.01235"] in parsed.rows and ["layers", "[8, 4]"] in parsed.rows
    assert "best trial 3: dev accuracy 0.9000" in "".join(parsed.text)
