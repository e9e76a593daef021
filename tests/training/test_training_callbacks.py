"""Callbacks: EarlyStopping restores the recorded best, TerminateOnNaN, the progress display."""

import io
import re

import numpy as np
import pytest

import gradwise as gw
from gradwise.callbacks import ProgressLogger


class Snapshots(gw.Callback):
    """Records θ and the buffers after every epoch (what EarlyStopping must give back)."""

    def __init__(self):
        self.theta, self.buffer = {}, {}

    def on_epoch_end(self, epoch, logs):
        self.theta[epoch] = self.model.theta.copy()
        self.buffer[epoch] = self.model.buffer.copy()


def flipped_dev(X, y):
    """A dev set whose labels are flipped: the better the model fits, the worse its dev cost."""
    return X[:40], 1 - y[:40]


def test_early_stopping_stops_after_patience_and_restores_the_best_epoch(blobs):
    X, y = blobs
    snaps = Snapshots()
    es = gw.EarlyStopping(monitor="val_cost", patience=3)
    model = gw.mlp([2, 6, 1], batchnorm=True, seed=0)
    history = model.fit(X, y, epochs=50, batch_size=30, optimizer="adam", learning_rate=0.05,
                        validation_data=flipped_dev(X, y), callbacks=[snaps, es])
    best = int(np.argmin(history["val_cost"]))
    assert es.best_epoch == best == 0
    assert es.best == history["val_cost"][best]
    # Keras semantics: 3 epochs without improvement → stop at epoch 3 (4 epochs trained)
    assert es.stopped_epoch == 3 and model.epochs_trained == 4 and len(history) == 4
    np.testing.assert_array_equal(model.theta, snaps.theta[best])
    np.testing.assert_array_equal(model.buffer, snaps.buffer[best])  # batch-norm averages too
    assert not np.array_equal(model.theta, snaps.theta[3])


def test_early_stopping_restores_the_best_even_when_training_was_not_stopped(blobs):
    X, y = blobs
    snaps = Snapshots()
    es = gw.EarlyStopping(patience=100)
    model = gw.mlp([2, 6, 1], seed=0)
    history = model.fit(X, y, epochs=12, learning_rate=0.5, validation_data=flipped_dev(X, y),
                        callbacks=[es, snaps])
    assert es.stopped_epoch is None and model.epochs_trained == 12
    best = int(np.argmin(history["val_cost"]))
    assert best != 11 and es.best_epoch == best
    np.testing.assert_array_equal(model.theta, snaps.theta[best])


def test_early_stopping_best_epoch_is_the_recorded_minimum_on_a_noisy_run(problems):
    X, y = problems.blobs(200, seed=3)
    Xd, yd = problems.blobs(60, seed=4)
    snaps = Snapshots()
    es = gw.EarlyStopping(patience=8)
    model = gw.mlp([2, 30, 30, 1], seed=1)
    history = model.fit(X, y, epochs=40, batch_size=4, optimizer="momentum", learning_rate=0.3,
                        validation_data=(Xd, yd), callbacks=[snaps, es])
    best = int(np.argmin(history["val_cost"]))
    assert es.best_epoch == best
    np.testing.assert_array_equal(model.theta, snaps.theta[best])
    assert model.evaluate(Xd, yd)["cost"] == pytest.approx(min(history["val_cost"]), rel=1e-12)


def test_restore_best_false_keeps_the_last_weights(blobs):
    X, y = blobs
    snaps = Snapshots()
    model = gw.mlp([2, 6, 1], seed=0)
    model.fit(X, y, epochs=6, learning_rate=0.5, validation_data=flipped_dev(X, y),
              callbacks=[snaps, gw.EarlyStopping(patience=2, restore_best=False)])
    np.testing.assert_array_equal(model.theta, snaps.theta[model.epochs_trained - 1])
    assert gw.EarlyStopping(restore_best_weights=False).restore_best is False  # Keras' name


class FakeModel:
    def __init__(self):
        self.theta = np.zeros(3)
        self.buffer = np.zeros(0)
        self.stop_training = False


def drive(es, values, key="val_cost"):
    """Feed a sequence of monitored values; return the epoch at which training was stopped."""
    es.model = FakeModel()
    es.on_train_begin({"metrics": [key]})
    for epoch, value in enumerate(values):
        es.model.theta[:] = epoch
        es.on_epoch_end(epoch, {key: value})
        if es.model.stop_training:
            return epoch
    return None


def test_patience_counts_epochs_without_improvement():
    es = gw.EarlyStopping(patience=2)
    assert drive(es, [1.0, 0.9, 0.95, 0.92, 0.8]) == 3
    assert es.best_epoch == 1 and es.best == 0.9 and es.wait == 2
    es.on_train_end()
    assert np.all(es.model.theta == 1)  # the weights of epoch 1
    assert drive(gw.EarlyStopping(patience=2), [1.0, 0.9, 0.95, 0.85, 0.86, 0.87]) == 5  # wait resets
    assert drive(gw.EarlyStopping(patience=0), [1.0, 0.9, 0.9]) == 2  # stop at the first non-improvement


def test_min_delta_is_the_smallest_change_that_counts():
    es = gw.EarlyStopping(patience=2, min_delta=0.05)
    # 0.96 is not < 1.0 − 0.05; 0.94 is; 0.9 is not < 0.94 − 0.05; 0.899 neither → stop at epoch 4
    assert drive(es, [1.0, 0.96, 0.94, 0.9, 0.899, 0.5]) == 4
    assert es.best_epoch == 2 and es.best == 0.94


def test_accuracy_is_maximized_and_mode_can_be_forced():
    es = gw.EarlyStopping(monitor="val_accuracy", patience=1)
    assert es.mode == "max"
    assert drive(es, [0.5, 0.7, 0.6], key="val_accuracy") == 2 and es.best == 0.7
    es = gw.EarlyStopping(monitor="cost", patience=1, mode="max")
    assert drive(es, [0.1, 0.3, 0.2], key="cost") == 2 and es.best_epoch == 1


def test_non_finite_values_never_improve():
    es = gw.EarlyStopping(patience=2)
    assert drive(es, [1.0, float("nan"), float("inf")]) == 2 and es.best == 1.0


def test_a_missing_monitor_fails_before_training_and_says_what_exists(blobs):
    X, y = blobs
    model = gw.mlp([2, 3, 1], seed=0)
    with pytest.raises(gw.GradwiseValueError, match=r"'val_cost'.*validation_data=.*available: \['accuracy'"):
        model.fit(X, y, epochs=5, callbacks=[gw.EarlyStopping()])
    assert model.epochs_trained == 0
    with pytest.raises(gw.GradwiseValueError, match="'val_acc'.*'val_accuracy'"):
        model.fit(X, y, epochs=5, validation_split=0.2, callbacks=[gw.EarlyStopping("val_acc")])


def test_early_stopping_rejects_bad_settings():
    with pytest.raises(gw.GradwiseValueError, match="patience.*-1"):
        gw.EarlyStopping(patience=-1)
    with pytest.raises(gw.GradwiseValueError, match="min_delta.*-0.1"):
        gw.EarlyStopping(min_delta=-0.1)
    with pytest.raises(gw.GradwiseValueError, match="mode.*'up'"):
        gw.EarlyStopping(mode="up")
    with pytest.raises(gw.GradwiseTypeError, match="monitor"):
        gw.EarlyStopping(monitor=3)


# ------------------------------------------------------------------ TerminateOnNaN


def regression(m=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, 4))
    return X, 50 * X @ rng.standard_normal(4)


@pytest.mark.parametrize("batch_size,lr", [(None, 1.0), (16, 5.0)], ids=["full-batch", "mini-batch"])
def test_a_divergent_learning_rate_raises_naming_epoch_and_batch_and_leaves_finite_weights(batch_size, lr):
    X, y = regression()
    model = gw.mlp([4, 16, 16, 1], output="linear", seed=0)
    snaps = Snapshots()
    start = model.theta.copy()
    with pytest.raises(gw.TrainingDivergedError, match=r"epoch (\d+), batch (\d+)") as info:
        model.fit(X, y, epochs=200, batch_size=batch_size, optimizer="gd", learning_rate=lr,
                  callbacks=[snaps])
    message = str(info.value)
    epoch, batch = map(int, re.search(r"epoch (\d+), batch (\d+)", message).groups())
    kept = int(re.search(r"weights after epoch (\d+)", message).group(1))
    assert "learning rate" in message and 1 <= batch <= 4
    assert np.isfinite(model.theta).all() and np.isfinite(model.buffer).all()
    assert model.epochs_trained == kept == len(model.history) and kept < epoch
    expected = snaps.theta[kept - 1] if kept else start  # the weights after epoch `kept`
    np.testing.assert_array_equal(model.theta, expected)
    assert np.isfinite(model.cost(X, y)) and np.isfinite(model.history["cost"]).all() if kept else True
    assert isinstance(info.value, FloatingPointError)


def test_after_divergence_training_can_continue_with_a_smaller_rate():
    X, y = regression()
    model = gw.mlp([4, 16, 16, 1], output="linear", seed=0)
    with pytest.raises(gw.TrainingDivergedError, match="epoch 1, batch 4"):
        model.fit(X, y, epochs=100, batch_size=16, optimizer="momentum", learning_rate=50.0)
    assert model.optimizer.t == 0 and model.optimizer.state == {}  # moments of the blow-up dropped
    before = model.cost(X, y)
    history = model.fit(X, y, epochs=20, batch_size=16, learning_rate=1e-3)
    assert np.isfinite(history["cost"]).all() and model.cost(X, y) < before


def test_terminate_on_nan_off_lets_the_cost_become_non_finite():
    X, y = regression()
    model = gw.mlp([4, 16, 1], output="linear", seed=0)
    with np.errstate(all="ignore"):
        history = model.fit(X, y, epochs=60, learning_rate=5.0, terminate_on_nan=False)
    assert not np.isfinite(history["cost"][-1])
    with pytest.raises(gw.TrainingDivergedError):  # the callback turns the check back on
        gw.mlp([4, 16, 1], output="linear", seed=0).fit(X, y, epochs=60, learning_rate=5.0,
                                                         terminate_on_nan=False,
                                                         callbacks=[gw.TerminateOnNaN()])


def test_early_stopping_still_restores_its_best_after_a_divergence():
    X, y = regression()
    snaps = Snapshots()
    es = gw.EarlyStopping(monitor="cost", patience=100)
    model = gw.mlp([4, 16, 1], output="linear", seed=0)
    with pytest.raises(gw.TrainingDivergedError):
        model.fit(X, y, epochs=100, learning_rate=1.0, callbacks=[snaps, es])
    np.testing.assert_array_equal(model.theta, snaps.theta[es.best_epoch])


# ------------------------------------------------------------------ progress display


def test_verbose_2_prints_one_keras_like_line_per_epoch_on_stderr(blobs, capsys):
    X, y = blobs
    model = gw.mlp([2, 3, 1], seed=0)
    model.fit(X, y, epochs=4, batch_size=40, validation_split=0.25, verbose=2)
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 4
    pattern = (r"^Epoch {}/4 - \d+(ms|\.\ds) - cost: \d\.\d{{4}} - accuracy: \d\.\d{{4}} - "
               r"val_cost: \d\.\d{{4}} - val_accuracy: \d\.\d{{4}}$")
    for i, line in enumerate(lines, start=1):
        assert re.match(pattern.format(i), line), line
    model.fit(X, y, epochs=2, verbose=2)  # a second fit counts on: epochs 5 and 6 of 6
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("Epoch 5/6 - ") and err[1].startswith("Epoch 6/6 - ")


def test_verbose_1_keeps_a_line_every_twentieth_and_reports_the_time(blobs, capsys):
    X, y = blobs
    gw.mlp([2, 3, 1], seed=0).fit(X, y, epochs=40, verbose=1)
    err = capsys.readouterr().err
    # what stays on screen: for each finished line, the text after its last carriage return
    kept = [line.split("\r")[-1].strip() for line in err.split("\n") if line.strip()]
    epochs_kept = [int(m.group(1)) for line in kept for m in [re.search(r"Epoch\s+(\d+)/40", line)] if m]
    assert epochs_kept == list(range(2, 41, 2))
    assert re.search(r"trained in \d+(ms|\.\ds)", kept[-1])


def test_verbose_auto_is_quiet_unless_stderr_is_a_terminal(blobs, capsys, monkeypatch):
    X, y = blobs
    gw.mlp([2, 3, 1], seed=0).fit(X, y, epochs=3, verbose="auto")
    gw.mlp([2, 3, 1], seed=0).fit(X, y, epochs=3, verbose=0)
    assert capsys.readouterr() == ("", "")

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    monkeypatch.setattr("sys.stderr", term)
    gw.mlp([2, 3, 1], seed=0).fit(X, y, epochs=3, verbose="auto")
    assert "Epoch 3/3" in term.getvalue() and "trained in" in term.getvalue()


def test_progress_logger_writes_to_a_given_stream(blobs):
    X, y = blobs
    stream = io.StringIO()
    gw.mlp([2, 3, 1], seed=0).fit(X, y, epochs=2, callbacks=[ProgressLogger(2, stream=stream)])
    assert stream.getvalue().count("\n") == 2 and "Epoch 2/2" in stream.getvalue()
    with pytest.raises(gw.GradwiseValueError, match="verbose must be 1 or 2, got 0"):
        ProgressLogger(0)


def test_verbose_auto_in_a_notebook_is_a_tqdm_bar(blobs, capsys, monkeypatch):
    from gradwise import progress

    X, y = blobs
    assert not progress.in_notebook()  # pytest is no Jupyter kernel
    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    gw.mlp([2, 3, 1], seed=0).fit(X, y, epochs=3, verbose="auto")
    err = capsys.readouterr().err  # outside a kernel tqdm.auto falls back to the text bar
    assert "3/3" in err and "epoch" in err and "cost=" in err and "Epoch 1/3" not in err
    gw.mlp([2, 3, 1], seed=0).fit(X, y, epochs=2, verbose=2)  # explicit lines stay lines
    assert "Epoch 2/2 - " in capsys.readouterr().err
