"""gw.Ensemble (issue 14): members trained exactly as alone, probabilities averaged, one file on disk,
bad input as a clear error."""

from __future__ import annotations

import numpy as np
import pytest

import gradwise as gw


@pytest.fixture(scope="module")
def moons():
    data = gw.datasets.load("moons", seed=0)
    return data.X_train, data.y_train, data.X_test, data.y_test


def _members(k, **kwargs):
    return [gw.mlp([2, 12, 6, 1], seed=s, **kwargs) for s in range(k)]


@pytest.mark.parametrize("fit_kwargs, build", [
    ({"epochs": 40, "learning_rate": 0.3}, {}),  # full batch
    ({"epochs": 8, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.01}, {"keep_prob": 0.8}),  # dropout
])
def test_members_equal_the_same_models_trained_alone(moons, fit_kwargs, build):
    X, y, _, _ = moons
    ensemble = gw.Ensemble(_members(3, **build))
    histories = ensemble.fit(X, y, callbacks=[gw.EarlyStopping(monitor="cost", patience=100)], **fit_kwargs)
    for member, alone in zip(ensemble.members, _members(3, **build), strict=True):
        alone.fit(X, y, callbacks=[gw.EarlyStopping(monitor="cost", patience=100)], **fit_kwargs)
        np.testing.assert_allclose(member.theta, alone.theta, rtol=1e-12, atol=1e-15)
    assert len(histories) == 3 and all(len(h) == fit_kwargs["epochs"] for h in histories)
    assert not np.allclose(ensemble.members[0].theta, ensemble.members[1].theta)  # their own seeds


def test_predict_proba_is_the_members_mean_and_predict_follows_it(moons):
    X, y, X_test, y_test = moons
    ensemble = gw.Ensemble(_members(4))
    ensemble.fit(X, y, epochs=30, batch_size=64, optimizer="adam", learning_rate=0.01)
    proba = ensemble.predict_proba(X_test)
    np.testing.assert_allclose(proba, np.mean([m.predict_proba(X_test) for m in ensemble.members], axis=0))
    np.testing.assert_array_equal(ensemble.predict(X_test), (proba[:, 1] > 0.5).astype(int))
    scores = ensemble.evaluate(X_test, y_test)
    assert scores["accuracy"] == pytest.approx(np.mean(ensemble.predict(X_test) == y_test))
    assert scores["cost"] == pytest.approx(-np.mean(np.log(proba[np.arange(len(y_test)), y_test])))


def test_softmax_and_regression_ensembles_average_too():
    data = gw.datasets.load("blobs", seed=0)
    members = [gw.mlp([2, 8, 3], output="softmax", seed=s) for s in range(3)]
    ens = gw.Ensemble(members)
    ens.fit(data.X_train, data.y_train, epochs=20, batch_size=32, optimizer="adam", learning_rate=0.01)
    np.testing.assert_array_equal(ens.predict(data.X_test), ens.predict_proba(data.X_test).argmax(axis=1))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(80)
    reg = gw.Ensemble([gw.mlp([3, 8, 1], output="linear", seed=s) for s in range(3)])
    reg.fit(X, y, epochs=50, optimizer="adam", learning_rate=0.01)
    np.testing.assert_allclose(reg.predict(X), np.mean([m.predict(X) for m in reg.members], axis=0))
    assert reg.evaluate(X, y)["rmse"] < np.std(y)


def test_save_then_load_gives_the_same_predictions(moons, tmp_path):
    X, y, X_test, _ = moons
    ens = gw.Ensemble(_members(3, batchnorm=True))
    ens.fit(X, y, epochs=5, batch_size=32, optimizer="adam")
    path = gw.save(ens, tmp_path / "ens.safetensors", metadata={"note": "three"})
    loaded = gw.load(path)
    assert isinstance(loaded, gw.Ensemble) and len(loaded) == 3
    np.testing.assert_array_equal(loaded.predict_proba(X_test), ens.predict_proba(X_test))
    assert (tmp_path / "ens.json").exists()


def test_a_damaged_ensemble_file_is_a_model_file_error(moons, tmp_path):
    import json

    X, y, _, _ = moons
    ens = gw.Ensemble(_members(2))
    ens.fit(X, y, epochs=2)
    path = gw.save(ens, tmp_path / "ens.safetensors")
    document = json.loads((tmp_path / "ens.json").read_text())
    document["members"] = document["members"][:1]
    (tmp_path / "ens.json").write_text(json.dumps(document))
    with pytest.raises(gw.ModelFileError, match="does not describe the weights"):
        gw.load(path)


@pytest.mark.parametrize("make, words", [
    (lambda: gw.Ensemble([]), "must not be empty"),
    (lambda: gw.Ensemble(gw.mlp([2, 3, 1], seed=0)), "models must be a list"),
    (lambda: gw.Ensemble([gw.mlp([2, 3, 1], seed=0), "model"]), r"models\[1\] must be a gradwise Sequential"),
    (lambda: gw.Ensemble([gw.mlp([2, 3, 1], seed=0), gw.mlp([3, 3, 1], seed=1)]), "input_dim 3"),
    (lambda: gw.Ensemble([gw.mlp([2, 3, 1], seed=0), gw.mlp([2, 3, 3], output="softmax", seed=1)]), "has loss"),
    (lambda: gw.Ensemble([gw.mlp([2, 3, 1], seed=0), gw.mlp([2, 3, 1], seed=1, dtype="float32")]), "has dtype"),
])
def test_bad_members_are_a_clear_error(make, words):
    with pytest.raises((gw.GradwiseValueError, gw.GradwiseTypeError), match=words):
        make()


def test_the_same_model_twice_and_a_checkpoint_are_refused(tmp_path):
    m = gw.mlp([2, 3, 1], seed=0)
    with pytest.raises(gw.GradwiseValueError, match="same object"):
        gw.Ensemble([m, m])
    ens = gw.Ensemble(_members(2))
    with pytest.raises(gw.GradwiseValueError, match="Checkpoint"):
        ens.fit(np.zeros((4, 2)), np.array([0, 1, 0, 1]), callbacks=[gw.Checkpoint(tmp_path / "c.safetensors")])


def test_the_jupyter_display_is_a_table_of_members(moons):
    X, y, _, _ = moons
    ens = gw.Ensemble(_members(2))
    ens.fit(X, y, epochs=3, verbose=0)
    html = ens._repr_html_()
    assert html.count("<tr") == 3 and "Ensemble of 2 networks" in html and "Dense" in html


@pytest.mark.parametrize("stray", ["memberX.W1", "member5.W1", "W1"])
def test_a_tensor_of_no_member_is_a_model_file_error(moons, tmp_path, stray):
    from gradwise._container import write_container
    from gradwise.io import KIND, ensemble_to_state

    X, y, _, _ = moons
    ens = gw.Ensemble(_members(2))
    ens.fit(X, y, epochs=1, verbose=0)
    tensors, document = ensemble_to_state(ens)
    tensors[stray] = np.zeros(3)
    write_container(tmp_path / "ens.safetensors", KIND, tensors, document)
    with pytest.raises(gw.ModelFileError, match="belong to no member"):
        gw.load(tmp_path / "ens.safetensors")


@pytest.mark.parametrize("workers", [1, 2])
def test_an_optimizer_instance_given_once_is_each_members_own(moons, workers):
    """One Adam object for the whole ensemble: each member starts from a fresh copy of it (a shared instance
    carried member 0's moments and step count into member 1's training)."""
    X, y, _, _ = moons
    ensemble = gw.Ensemble(_members(2))
    ensemble.fit(X, y, epochs=5, optimizer=gw.Adam(learning_rate=0.01), workers=workers)
    alone = _members(2)[1]
    alone.fit(X, y, epochs=5, optimizer=gw.Adam(learning_rate=0.01))
    np.testing.assert_array_equal(ensemble.members[1].theta, alone.theta)
    assert ensemble.members[0].optimizer is not ensemble.members[1].optimizer


def test_members_trained_in_worker_processes_equal_the_same_models_trained_alone(moons):
    """workers=2: each member trains in a forked process and takes its state back — weights, generator,
    optimizer state, History, fitted Standardizer — so it equals solo training, and a second fit continues
    exactly as the solo model's second fit does."""
    X, y, X_test, _ = moons
    build = {"keep_prob": 0.8}
    members = _members(3, **build)
    for m in members:
        m.standardizer = gw.Standardizer()  # fitted by fit (in the worker) on the training rows
    ensemble = gw.Ensemble(members)
    arguments = {"epochs": 6, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.01}
    histories = ensemble.fit(X, y, workers=2, **arguments)
    ensemble.fit(X, y, workers=2, **{**arguments, "epochs": 3})
    for member, alone, history in zip(ensemble.members, _members(3, **build), histories, strict=True):
        alone.standardizer = gw.Standardizer()
        first = alone.fit(X, y, **arguments)
        alone.fit(X, y, **{**arguments, "epochs": 3})
        np.testing.assert_array_equal(member.theta, alone.theta)
        np.testing.assert_array_equal(member.predict_proba(X_test), alone.predict_proba(X_test))
        assert history["cost"] == first["cost"] and member.history["cost"] == alone.history["cost"]
        assert member.epochs_trained == alone.epochs_trained == 9
        np.testing.assert_array_equal(member.standardizer.mean_, alone.standardizer.mean_)


def test_a_member_that_fails_in_a_worker_raises_here_after_the_members_before_it(moons):
    X, y, _, _ = moons
    ensemble = gw.Ensemble(_members(2))
    with pytest.raises(gw.GradwiseValueError, match="epochs"):
        ensemble.fit(X, y, epochs=-1, workers=2)
    with pytest.raises(gw.GradwiseValueError, match="workers"):
        ensemble.fit(X, y, epochs=1, workers=0)
