"""Progress that fits the place for reproduce and tune: a bar over runs/trials when someone watches (a
terminal or Jupyter), the log lines kept above it; nothing extra in logs and CI."""

from __future__ import annotations

import re

import optuna

from gradwise import progress
from gradwise.experiments import reproduce
from gradwise.tuning import tune

optuna.logging.set_verbosity(optuna.logging.WARNING)


def test_unit_progress_is_silent_unless_someone_watches(capsys, monkeypatch):
    lines: list[str] = []
    bar = progress.UnitProgress(3, "work", "run")
    say = bar.say(lines.append)
    say("one")
    bar.advance()
    bar.close()
    assert lines == ["one"] and capsys.readouterr() == ("", "")
    monkeypatch.setattr(progress, "someone_watches", lambda: True)
    bar = progress.UnitProgress(3, "work", "run", initial=1)
    bar.say(lines.append)("two")
    bar.advance()
    bar.close()
    err = capsys.readouterr().err
    assert lines == ["one", "two"] and re.search(r"work: .*2/3", err.split("\r")[-1])
    assert progress.UnitProgress(3, "work", "run", enabled=False)._bar is None


def test_reproduce_counts_its_runs_in_a_bar(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(progress, "someone_watches", lambda: True)
    reproduce(tmp_path / "r", seeds=1, quick=True, workers=1, only=["gradient_checking"])
    err = capsys.readouterr().err
    runs = [line for line in err.splitlines() if re.match(r"  \S+: [\d.]+ s \(CPU", line)]
    final = err.split("\r")[-1]
    assert runs and re.search(rf"reproduce: 100%.*{len(runs)}/{len(runs)}", final), final


def test_tune_counts_its_trials_in_a_bar(capsys, monkeypatch):
    monkeypatch.setattr(progress, "someone_watches", lambda: True)
    tune(dataset="moons", trials=2, fine_trials=1, epochs=2, final_seeds=0, plots=False,
         space={"hidden_units": "4:8", "layers": "1"})
    captured = capsys.readouterr()
    assert "trial    0 [coarse]" in captured.out  # the lines as before
    assert re.search(r"tune: 100%.*3/3", captured.err.split("\r")[-1]), captured.err
