"""Checkpoints: contents, atomic writes, and resuming with bit-identical results (also after SIGKILL)."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import gradwise as gw
from gradwise import _atomic
from gradwise.checkpoint import load_checkpoint


class Interrupted(Exception):
    pass


class InterruptAt(gw.Callback):
    """Stops the process-equivalent of a crash at the start of epoch `epoch` (checkpoints before survive)."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise Interrupted


def data(m=96, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, 3))
    y = (X[:, 0] - X[:, 1] * X[:, 2] > 0).astype(int)
    return X, y


CONFIGS = {
    "gd-full-batch": ({}, {"optimizer": "gd", "learning_rate": 0.3}),
    "momentum-mini-batch": ({}, {"optimizer": "momentum", "batch_size": 16, "learning_rate": 0.2}),
    "adam-dropout": ({"keep_prob": 0.7}, {"optimizer": "adam", "batch_size": 20, "learning_rate": 0.01}),
    "adam-batchnorm": ({"batchnorm": True}, {"optimizer": "adam", "batch_size": 16, "learning_rate": 0.01}),
    "rmsprop-schedule-l2": ({"l2": 0.3}, {"optimizer": "rmsprop", "batch_size": 32, "learning_rate": 0.01,
                                          "schedule": gw.InverseTimeDecay(0.5)}),
    "sgd-float32": ({"dtype": "float32", "keep_prob": 0.9}, {"optimizer": "momentum", "batch_size": 1,
                                                             "learning_rate": 0.01}),
}


def make_model(arch):
    return gw.mlp([3, 8, 6, 1], hidden="relu", seed=42, **arch)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_resume_gives_bit_identical_weights_history_and_optimizer_state(tmp_path, name):
    arch, kwargs = CONFIGS[name]
    X, y = data()
    epochs = 12
    full = make_model(arch)
    h_full = full.fit(X, y, epochs=epochs, validation_split=0.2, **kwargs)

    path = tmp_path / "run.ckpt"
    crashed = make_model(arch)
    with pytest.raises(Interrupted):
        crashed.fit(X, y, epochs=epochs, validation_split=0.2,
                    callbacks=[gw.Checkpoint(path, every=3), InterruptAt(8)], **kwargs)
    assert load_checkpoint(path)[1]["epoch"] == 6  # the last checkpoint before the crash

    resumed = make_model(arch)  # a fresh process would build the same model
    h_resumed = resumed.fit(X, y, epochs=epochs, validation_split=0.2, resume_from=path,
                            callbacks=[gw.Checkpoint(path, every=3)], **kwargs)
    assert np.array_equal(resumed.theta, full.theta)
    assert np.array_equal(resumed.buffer, full.buffer)
    assert h_resumed.to_dict() == h_full.to_dict()
    assert resumed.history.to_dict() == full.history.to_dict()
    assert resumed.epochs_trained == epochs
    for key, value in full.optimizer.state_dict().items():
        assert np.array_equal(resumed.optimizer.state_dict()[key], value), key
    assert load_checkpoint(path)[1]["epoch"] == epochs  # the last epoch is always saved


def test_resume_restores_early_stopping_state_and_stops_where_the_uninterrupted_run_did(tmp_path):
    X, y = data()
    Xd, yd = data(40, seed=1)
    yd = 1 - yd  # a dev set that gets worse as training improves: early stopping must act
    kwargs = {"optimizer": "adam", "batch_size": 16, "learning_rate": 0.01, "validation_data": (Xd, yd)}

    full = make_model({"keep_prob": 0.8})
    es_full = gw.EarlyStopping(patience=4)
    h_full = full.fit(X, y, epochs=50, callbacks=[es_full], **kwargs)
    assert es_full.stopped_epoch is not None

    path = tmp_path / "es.ckpt"
    crashed = make_model({"keep_prob": 0.8})
    with pytest.raises(Interrupted):
        # the checkpoint is listed first on purpose: fit still saves it after EarlyStopping has updated
        crashed.fit(X, y, epochs=50, callbacks=[gw.Checkpoint(path), gw.EarlyStopping(patience=4),
                                                InterruptAt(es_full.stopped_epoch)], **kwargs)
    tensors, meta = load_checkpoint(path)
    assert meta["callbacks"]["EarlyStopping0"]["wait"] == 3
    assert "callback.EarlyStopping0.best_theta" in tensors

    resumed = make_model({"keep_prob": 0.8})
    es = gw.EarlyStopping(patience=4)
    h = resumed.fit(X, y, epochs=50, resume_from=path, callbacks=[es], **kwargs)
    assert es.stopped_epoch == es_full.stopped_epoch and es.best_epoch == es_full.best_epoch
    assert np.array_equal(resumed.theta, full.theta)  # both restored the same best weights
    assert h.to_dict() == h_full.to_dict()


def test_a_checkpoint_written_when_early_stopping_fired_does_not_train_further(tmp_path):
    X, y = data()
    Xd, yd = data(40, seed=1)
    kwargs = {"optimizer": "adam", "batch_size": 16, "learning_rate": 0.01, "validation_data": (Xd, 1 - yd)}
    path = tmp_path / "stopped.ckpt"
    model = make_model({})
    model.fit(X, y, epochs=50, callbacks=[gw.EarlyStopping(patience=2), gw.Checkpoint(path, every=100)],
              **kwargs)
    stopped_at = model.epochs_trained
    assert stopped_at < 50 and load_checkpoint(path)[1]["stop_training"] is True
    again = make_model({})
    again.fit(X, y, epochs=50, resume_from=path, callbacks=[gw.EarlyStopping(patience=2)], **kwargs)
    assert again.epochs_trained == stopped_at
    assert np.array_equal(again.theta, model.theta)


def test_checkpoint_holds_the_training_state(tmp_path):
    X, y = data()
    path = tmp_path / "sub" / "state.ckpt"  # the directory is created
    model = make_model({"batchnorm": True})
    model.fit(X, y, epochs=4, batch_size=32, optimizer="adam", callbacks=[gw.Checkpoint(path, every=2)])
    tensors, meta = load_checkpoint(path)
    assert np.array_equal(tensors["theta"], model.theta) and np.array_equal(tensors["buffer"], model.buffer)
    assert np.array_equal(tensors["optimizer.v"], model.optimizer.state["v"])
    assert np.array_equal(tensors["optimizer.s"], model.optimizer.state["s"])
    assert meta["optimizer"]["t"] == 4 * 3 and meta["optimizer"]["config"]["name"] == "adam"
    assert meta["epoch"] == 4 and meta["history"]["epoch"] == [0, 1, 2, 3]
    assert meta["history"]["cost"] == model.history["cost"]
    assert meta["rng"] == gw._random.get_state(model.rng)
    assert meta["model"] == model.get_config()
    assert list(tmp_path.joinpath("sub").iterdir()) == [path]  # no temporary files left behind


def test_checkpoint_writes_are_atomic(tmp_path, monkeypatch):
    """A failure while writing (here: at the rename) leaves the previous checkpoint intact."""
    X, y = data()
    path = tmp_path / "atomic.ckpt"
    model = make_model({})
    fsyncs = []
    real_fsync = os.fsync
    monkeypatch.setattr(_atomic.os, "fsync", lambda fd: (fsyncs.append(fd), real_fsync(fd)))
    model.fit(X, y, epochs=2, callbacks=[gw.Checkpoint(path)])
    assert len(fsyncs) >= 2  # the data is flushed to disk before the rename
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(_atomic.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        model.fit(X, y, epochs=1, callbacks=[gw.Checkpoint(path)])
    assert path.read_bytes() == before
    assert load_checkpoint(path)[1]["epoch"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["atomic.ckpt"]


def test_resume_errors_are_clear(tmp_path):
    X, y = data()
    path = tmp_path / "a.ckpt"
    make_model({}).fit(X, y, epochs=5, callbacks=[gw.Checkpoint(path)])
    with pytest.raises(gw.ModelFileError, match="no such file"):
        make_model({}).fit(X, y, epochs=5, resume_from=tmp_path / "missing.ckpt")
    with pytest.raises(gw.ModelFileError, match="another model"):
        gw.mlp([3, 5, 1], seed=0).fit(X, y, epochs=5, resume_from=path)
    untouched = make_model({})
    before = untouched.theta.copy()
    with pytest.raises(gw.GradwiseValueError, match="already holds 5 epochs, more than epochs=3"):
        untouched.fit(X, y, epochs=3, resume_from=path)
    assert np.array_equal(untouched.theta, before) and untouched.epochs_trained == 0
    truncated = tmp_path / "t.ckpt"
    truncated.write_bytes(path.read_bytes()[:200])
    with pytest.raises(gw.ModelFileError):
        make_model({}).fit(X, y, epochs=5, resume_from=truncated)
    done = make_model({})
    done.fit(X, y, epochs=5, resume_from=path)  # nothing left to do: the checkpoint's state, unchanged
    assert done.epochs_trained == 5 and np.array_equal(done.theta, load_checkpoint(path)[0]["theta"])
    with pytest.raises(gw.GradwiseValueError, match="every must be >= 1, got 0"):
        gw.Checkpoint(path, every=0)
    with pytest.raises(gw.GradwiseTypeError, match="path"):
        gw.Checkpoint(3)


# ------------------------------------------------------------------ a real crash: SIGKILL, new process

SCRIPT = textwrap.dedent("""
    import sys, time
    import numpy as np
    import gradwise as gw
    from safetensors.numpy import save_file

    mode, ckpt, out = sys.argv[1], sys.argv[2], sys.argv[3]
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 4))
    y = (X[:, 0] * X[:, 1] + X[:, 2] > 0).astype(int)

    class Slow(gw.Callback):  # makes the run long enough to be killed in the middle
        def on_epoch_end(self, epoch, logs):
            time.sleep(0.05)

    model = gw.mlp([4, 16, 8, 1], keep_prob=0.8, batchnorm=True, seed=7)
    kwargs = dict(epochs=40, batch_size=32, optimizer="adam", learning_rate=0.01, validation_split=0.1)
    if mode == "run":
        model.fit(X, y, callbacks=[gw.Checkpoint(ckpt, every=2), Slow()], **kwargs)
    elif mode == "resume":
        model.fit(X, y, callbacks=[gw.Checkpoint(ckpt, every=2)], resume_from=ckpt, **kwargs)
    else:
        model.fit(X, y, **kwargs)
    save_file({"theta": model.theta, "buffer": model.buffer,
               "cost": np.array(model.history["cost"]), "val_cost": np.array(model.history["val_cost"])}, out)
""")


def test_sigkill_mid_run_then_resume_in_a_new_process_is_bit_identical(tmp_path):
    from safetensors.numpy import load_file

    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    ckpt = tmp_path / "run.ckpt"
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    child = subprocess.Popen([sys.executable, str(script), "run", str(ckpt), str(tmp_path / "unused")],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    reference = subprocess.Popen([sys.executable, str(script), "full", str(ckpt), str(tmp_path / "full.st")],
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:  # wait until a checkpoint past epoch 4 exists, then kill without warning
            if ckpt.exists() and load_checkpoint(ckpt)[1]["epoch"] >= 4:
                break
            assert child.poll() is None, child.stderr.read().decode()
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    killed_at = load_checkpoint(ckpt)[1]["epoch"]
    assert 4 <= killed_at < 40  # really in the middle of the run

    resume = subprocess.run([sys.executable, str(script), "resume", str(ckpt), str(tmp_path / "resumed.st")],
                            env=env, capture_output=True, timeout=120)
    assert resume.returncode == 0, resume.stderr.decode()
    assert reference.wait(timeout=120) == 0, reference.stderr.read().decode()

    resumed, full = load_file(tmp_path / "resumed.st"), load_file(tmp_path / "full.st")
    for key in ("theta", "buffer", "cost", "val_cost"):
        assert np.array_equal(resumed[key], full[key]), key
    assert load_checkpoint(ckpt)[1]["epoch"] == 40


def test_the_standardizer_travels_with_the_checkpoint(tmp_path):
    from gradwise.data.standardize import Standardizer

    X, y = data()
    X = X * np.array([50.0, 1.0, 0.02]) + 7.0
    kwargs = {"optimizer": "adam", "batch_size": 16, "learning_rate": 0.01, "validation_split": 0.25}
    full = make_model({})
    full.standardizer = Standardizer()  # fitted by fit on the training rows
    full.fit(X, y, epochs=8, **kwargs)

    path = tmp_path / "st.ckpt"
    crashed = make_model({})
    crashed.standardizer = Standardizer()
    with pytest.raises(Interrupted):
        crashed.fit(X, y, epochs=8, callbacks=[gw.Checkpoint(path), InterruptAt(5)], **kwargs)
    assert load_checkpoint(path)[1]["standardizer"] == full.standardizer.to_dict()

    resumed = make_model({})  # no Standardizer set: it adopts the checkpoint's μ, σ
    resumed.fit(X, y, epochs=8, resume_from=path, **kwargs)
    assert np.array_equal(resumed.theta, full.theta)
    assert resumed.standardizer.to_dict() == full.standardizer.to_dict()

    other = make_model({})
    other.standardizer = Standardizer().fit(X[:10])
    before = other.theta.copy()
    with pytest.raises(gw.GradwiseValueError, match="Standardizer"):
        other.fit(X, y, epochs=8, resume_from=path, **kwargs)
    assert np.array_equal(other.theta, before)


def test_resume_with_a_legacy_random_state_is_bit_identical(tmp_path):
    """The course's np.random.seed(3) style generator: its state (cached Gaussian included) is restored."""
    X, y = data()

    def model():
        return gw.mlp([3, 8, 1], keep_prob=0.8, rng=np.random.RandomState(3))

    kwargs = {"optimizer": "momentum", "batch_size": 8, "learning_rate": 0.05}
    full = model()
    full.fit(X, y, epochs=6, **kwargs)
    path = tmp_path / "rs.ckpt"
    with pytest.raises(Interrupted):
        model().fit(X, y, epochs=6, callbacks=[gw.Checkpoint(path, every=2), InterruptAt(3)], **kwargs)
    resumed = model()
    resumed.fit(X, y, epochs=6, resume_from=path, **kwargs)
    assert np.array_equal(resumed.theta, full.theta)
    with pytest.raises(gw.GradwiseTypeError, match="RandomState"):
        gw.mlp([3, 8, 1], keep_prob=0.8, seed=3).fit(X, y, epochs=6, resume_from=path, **kwargs)
