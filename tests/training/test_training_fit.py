"""fit: full batch as the course, mini-batches, SGD, validation, augment, continued training, errors."""

import math

import numpy as np
import pytest

import gradwise as gw
from gradwise.data.standardize import Standardizer
from gradwise.layers import TRAINING


def course_loop(params, X, Y, lr, lambd, num_iterations):
    """The course's L-layer loop for [n_x, n_h, 1], column-major, relu/sigmoid, L2, printing the cost
    of each iteration's forward pass (before its update)."""
    W1, b1, W2, b2 = (params[k].copy() for k in ("W1", "b1", "W2", "b2"))
    b1, b2 = b1.reshape(-1, 1), b2.reshape(-1, 1)
    X, Y = X.T, Y.reshape(1, -1)
    m = X.shape[1]
    costs, accuracies = [], []
    for _ in range(num_iterations):
        Z1 = W1 @ X + b1
        A1 = np.maximum(0, Z1)
        Z2 = W2 @ A1 + b2
        A2 = 1 / (1 + np.exp(-Z2))
        cross_entropy = -np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m
        costs.append(cross_entropy + lambd / (2 * m) * (np.sum(W1**2) + np.sum(W2**2)))
        accuracies.append(np.mean((A2 > 0.5) == Y))
        dZ2 = A2 - Y
        dW2 = dZ2 @ A1.T / m + lambd / m * W2
        db2 = np.sum(dZ2, axis=1, keepdims=True) / m
        dZ1 = (W2.T @ dZ2) * (Z1 > 0)
        dW1 = dZ1 @ X.T / m + lambd / m * W1
        db1 = np.sum(dZ1, axis=1, keepdims=True) / m
        W1, b1, W2, b2 = W1 - lr * dW1, b1 - lr * db1, W2 - lr * dW2, b2 - lr * db2
    return costs, accuracies, {"W1": W1, "b1": b1.ravel(), "W2": W2, "b2": b2.ravel()}


def test_full_batch_matches_the_course_loop_cost_before_each_update(blobs):
    X, y = blobs
    model = gw.mlp([2, 5, 1], hidden="relu", output="sigmoid", l2=0.3, seed=2)
    start = {k: v.copy() for k, v in model.parameters().items()}
    history = model.fit(X, y, epochs=40, learning_rate=0.3)
    costs, accuracies, final = course_loop(start, X, y, 0.3, 0.3, 40)
    np.testing.assert_allclose(history["cost"], costs, rtol=1e-12)
    assert history["accuracy"] == accuracies  # also measured before each update
    assert len(set(accuracies)) > 3
    assert history["cost"][0] == pytest.approx(gw.mlp([2, 5, 1], l2=0.3, seed=2).cost(X, y), rel=1e-14)
    for k, v in model.parameters().items():
        np.testing.assert_allclose(v, final[k], rtol=1e-10, atol=1e-13, err_msg=k)
    assert history.epoch == list(range(40))
    assert history["learning_rate"] == [0.3] * 40


def recorder():
    seen = []

    def augment(Xb, rng):
        seen.append(Xb.copy())
        return Xb

    return seen, augment


def id_data(m):
    """X whose first column is the row number: lets a test see which rows each batch holds."""
    rng = np.random.default_rng(7)
    X = np.column_stack([np.arange(m, dtype=float), rng.standard_normal(m)])
    y = (X[:, 1] > 0).astype(int)
    return X, y


def batches_per_epoch(seen, per_epoch):
    return [seen[i:i + per_epoch] for i in range(0, len(seen), per_epoch)]


def test_mini_batches_are_reshuffled_every_epoch_and_keep_the_last_smaller_batch():
    X, y = id_data(100)
    seen, augment = recorder()
    model = gw.mlp([2, 3, 1], seed=0)
    model.fit(X, y, epochs=3, batch_size=32, augment=augment, learning_rate=1e-4)
    assert [b.shape for b in seen] == [(32, 2), (32, 2), (32, 2), (4, 2)] * 3
    orders = []
    for epoch in batches_per_epoch(seen, 4):
        ids = np.concatenate([b[:, 0] for b in epoch]).astype(int)
        assert sorted(ids) == list(range(100))  # every example exactly once per epoch
        orders.append(ids)
    assert not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2])
    assert not np.array_equal(orders[0], np.arange(100))


def test_shuffle_false_and_full_batch_keep_the_order():
    X, y = id_data(50)
    seen, augment = recorder()
    gw.mlp([2, 3, 1], seed=0).fit(X, y, epochs=2, batch_size=20, shuffle=False, augment=augment)
    assert [b.shape[0] for b in seen] == [20, 20, 10] * 2
    np.testing.assert_array_equal(np.concatenate([b[:, 0] for b in seen[:3]]), np.arange(50))
    seen.clear()
    gw.mlp([2, 3, 1], seed=0).fit(X, y, epochs=3, augment=augment)  # batch_size=None: one iteration
    assert len(seen) == 3 and all(np.array_equal(b, X) for b in seen)


def test_stochastic_gradient_descent_uses_one_example_per_update():
    X, y = id_data(12)
    seen, augment = recorder()
    model = gw.mlp([2, 3, 1], seed=0)
    model.fit(X, y, epochs=2, batch_size=1, optimizer="gd", augment=augment)
    assert [b.shape for b in seen] == [(1, 2)] * 24
    assert model.optimizer.t == 24  # one update per example


def test_shuffle_callable_sets_the_order():
    X, y = id_data(10)
    seen, augment = recorder()
    perms = {0: np.arange(10)[::-1], 1: np.roll(np.arange(10), 3)}
    gw.mlp([2, 3, 1], seed=0).fit(X, y, epochs=2, batch_size=4, shuffle=lambda e, m: perms[e],
                                  augment=augment)
    ids = [np.concatenate([b[:, 0] for b in ep]).astype(int) for ep in batches_per_epoch(seen, 3)]
    np.testing.assert_array_equal(ids[0], perms[0])
    np.testing.assert_array_equal(ids[1], perms[1])
    with pytest.raises(gw.GradwiseValueError, match="permutation of range"):
        gw.mlp([2, 3, 1], seed=0).fit(X, y, epochs=1, batch_size=4, shuffle=lambda e, m: np.arange(m - 1))


def test_mini_batch_cost_is_the_size_weighted_mean_and_updates_follow_each_batch(problems):
    X, y = problems.blobs(70)
    model = gw.mlp([2, 4, 1], hidden="tanh", l2=0.1, seed=4)
    replay = model.copy()
    perm = np.random.default_rng(0).permutation(70)
    history = model.fit(X, y, epochs=1, batch_size=32, learning_rate=0.2, shuffle=lambda e, m: perm)
    targets = replay.prepare_targets(y, 70)
    total = 0.0
    for start in (0, 32, 64):
        idx = perm[start:start + 32]
        J, _ = replay.loss_and_gradient(X[idx], targets[idx], TRAINING)
        replay.theta -= 0.2 * replay.grad
        total += J * len(idx)
    assert history["cost"][0] == pytest.approx(total / 70, rel=1e-14)
    np.testing.assert_array_equal(model.theta, replay.theta)


def test_validation_split_holds_out_the_last_fraction_like_keras():
    X, y = id_data(10)
    seen, augment = recorder()
    model = gw.mlp([2, 3, 1], seed=0)
    history = model.fit(X, y, epochs=1, validation_split=0.25, augment=augment)
    # Keras: split_at = floor(10 · 0.75) = 7 → rows 0..6 train, 7..9 validate
    assert sorted(seen[0][:, 0].astype(int)) == list(range(7))
    assert history["val_cost"][0] == pytest.approx(model.evaluate(X[7:], y[7:])["cost"], rel=1e-14)
    assert history["val_accuracy"][0] == model.evaluate(X[7:], y[7:])["accuracy"]


def test_validation_data_metrics_are_those_of_evaluate(three_classes, problems):
    X, y = three_classes
    Xd, yd = problems.three_classes(30, seed=9)
    model = gw.mlp([2, 6, 3], output="softmax", seed=0)
    history = model.fit(X, y, epochs=2, batch_size=16, optimizer="adam", learning_rate=0.01,
                        validation_data=(Xd, yd))
    assert list(history.keys()) == ["cost", "accuracy", "val_cost", "val_accuracy", "learning_rate"]
    final = model.evaluate(Xd, yd)
    assert history["val_cost"][-1] == pytest.approx(final["cost"], rel=1e-14)
    assert history["val_accuracy"][-1] == final["accuracy"]


def test_regression_records_cost_and_val_rmse():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    model = gw.mlp([3, 4, 1], output="linear", seed=0)
    history = model.fit(X, y, epochs=30, learning_rate=0.05, validation_split=0.25)
    assert list(history.keys()) == ["cost", "val_cost", "val_rmse", "learning_rate"]
    assert history["cost"][-1] < history["cost"][0]


def test_augment_transforms_every_training_batch_and_gets_the_model_rng(blobs):
    X, y = blobs
    got_rng = []

    def negate(Xb, rng):
        got_rng.append(rng)
        return -Xb

    a = gw.mlp([2, 4, 1], seed=3)
    b = gw.mlp([2, 4, 1], seed=3)
    ha = a.fit(X, y, epochs=5, augment=negate, validation_data=(X, y))
    hb = b.fit(-X, y, epochs=5, validation_data=(X, y))
    np.testing.assert_array_equal(a.theta, b.theta)
    assert ha["cost"] == hb["cost"] and ha["val_cost"] == hb["val_cost"]  # validation is not augmented
    assert all(r is a.rng for r in got_rng) and len(got_rng) == 5
    with pytest.raises(gw.GradwiseValueError, match="augment must return a batch of shape"):
        gw.mlp([2, 4, 1], seed=3).fit(X, y, epochs=1, augment=lambda Xb, rng: Xb[:, :1])


def test_a_second_fit_continues_exactly_where_the_first_stopped(problems):
    X, y = problems.blobs(90)
    one = gw.mlp([2, 6, 1], keep_prob=0.8, seed=11)
    h = one.fit(X, y, epochs=8, batch_size=16, optimizer="adam", learning_rate=0.01,
                schedule=gw.ExponentialDecay(0.9))
    two = gw.mlp([2, 6, 1], keep_prob=0.8, seed=11)
    h1 = two.fit(X, y, epochs=5, batch_size=16, optimizer="adam", learning_rate=0.01,
                 schedule=gw.ExponentialDecay(0.9))
    h2 = two.fit(X, y, epochs=3, batch_size=16, schedule=gw.ExponentialDecay(0.9))  # optimizer kept
    np.testing.assert_array_equal(one.theta, two.theta)
    assert h1["cost"] + h2["cost"] == h["cost"]
    assert h2.epoch == [5, 6, 7] and two.epochs_trained == 8
    assert isinstance(two.optimizer, gw.Adam) and two.optimizer.t == one.optimizer.t == 8 * 6
    assert two.history.to_dict() == one.history.to_dict() and len(two.history) == 8


def test_a_new_optimizer_name_starts_afresh_and_the_same_name_keeps_state(blobs):
    X, y = blobs
    model = gw.mlp([2, 3, 1], seed=0)
    model.fit(X, y, epochs=2, optimizer="adam")
    adam = model.optimizer
    model.fit(X, y, epochs=1, optimizer="Adam", learning_rate=0.05)
    assert model.optimizer is adam and adam.t == 3 and adam.learning_rate == 0.05
    model.fit(X, y, epochs=1, optimizer="momentum")
    assert isinstance(model.optimizer, gw.Momentum) and model.optimizer.t == 1
    mine = gw.RMSprop(learning_rate=0.002)
    model.fit(X, y, epochs=1, optimizer=mine)
    assert model.optimizer is mine and mine.t == 1


def test_float32_training_stays_float32(blobs):
    X, y = blobs
    model = gw.mlp([2, 5, 1], seed=0, dtype="float32")
    history = model.fit(X, y, epochs=20, batch_size=40, optimizer="adam", learning_rate=0.02)
    assert model.theta.dtype == np.float32
    assert all(v.dtype == np.float32 for v in model.optimizer.state.values())
    assert history["cost"][-1] < history["cost"][0]


def test_zero_epochs_changes_nothing(blobs):
    X, y = blobs
    model = gw.mlp([2, 3, 1], seed=0)
    before = model.theta.copy()
    history = model.fit(X, y, epochs=0)
    assert len(history) == 0 and np.array_equal(model.theta, before)


def test_batch_norm_trains_with_mini_batches_and_moves_running_averages(blobs):
    X, y = blobs
    model = gw.mlp([2, 8, 1], batchnorm=True, seed=0)
    before = model.buffer.copy()
    history = model.fit(X, y, epochs=15, batch_size=25, optimizer="adam", learning_rate=0.02)
    assert not np.array_equal(model.buffer, before)
    assert history["cost"][-1] < history["cost"][0]


def test_fit_allocates_no_mode_per_batch(blobs, monkeypatch):
    X, y = blobs
    modes = []
    original = gw.Sequential.loss_and_gradient

    def recording(self, Xb, yb, mode=None, weights=None):
        modes.append(mode)
        return original(self, Xb, yb, mode, weights)

    monkeypatch.setattr(gw.Sequential, "loss_and_gradient", recording)
    model = gw.mlp([2, 3, 1], keep_prob=0.9, seed=0)
    model.fit(X, y, epochs=3, batch_size=10)
    assert len(modes) == 3 * 12 and len({id(m) for m in modes}) == 1  # one training Mode for 3 × 12 batches
    assert modes[0].rng is model.rng and modes[0].training and modes[0].dropout


# ------------------------------------------------------------------ the Standardizer


def test_fit_and_predict_apply_the_model_standardizer(problems):
    X, y = problems.blobs(80)
    X = X * np.array([100.0, 0.01]) + np.array([5.0, -3.0])
    Xd, yd = problems.blobs(20, seed=5)
    scaler = Standardizer().fit(X)
    raw = gw.mlp([2, 4, 1], seed=1)
    raw.standardizer = scaler
    h_raw = raw.fit(X, y, epochs=10, batch_size=16, learning_rate=0.1, validation_data=(Xd, yd))
    pre = gw.mlp([2, 4, 1], seed=1)
    h_pre = pre.fit(scaler.transform(X), y, epochs=10, batch_size=16, learning_rate=0.1,
                    validation_data=(scaler.transform(Xd), yd))
    np.testing.assert_array_equal(raw.theta, pre.theta)
    assert h_raw.to_dict() == h_pre.to_dict()
    np.testing.assert_array_equal(raw.predict_proba(Xd), pre.predict_proba(scaler.transform(Xd)))
    assert raw.evaluate(Xd, yd) == pre.evaluate(scaler.transform(Xd), yd)


def test_an_unfitted_standardizer_is_fitted_on_the_training_rows_only(problems):
    X, y = problems.blobs(50)
    X[40:] += 100.0  # validation rows far away: fitting on them would move μ a lot
    model = gw.mlp([2, 3, 1], seed=0)
    model.standardizer = Standardizer()
    model.fit(X, y, epochs=1, validation_split=0.2)
    np.testing.assert_allclose(model.standardizer.mean_, X[:40].mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(model.standardizer.scale_, X[:40].std(axis=0), rtol=1e-14)



@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_copy_x_false_standardizes_the_arrays_in_place_and_trains_the_same(problems, dtype):
    X, y = problems.blobs(80)
    X = (X * np.array([100.0, 0.01]) + np.array([5.0, -3.0])).astype(dtype)
    Xd, yd = problems.blobs(20, seed=5)
    Xd = Xd.astype(dtype)
    scaler = Standardizer().fit(X)
    models, given = [], []
    for copy_X in (True, False):
        model = gw.mlp([2, 4, 1], seed=1, dtype=dtype)
        model.standardizer = Standardizer.from_dict(scaler.to_dict())
        arrays = (X.copy(), Xd.copy())
        history = model.fit(arrays[0], y, epochs=5, batch_size=16, validation_data=(arrays[1], yd),
                            copy_X=copy_X)
        models.append((model, history.to_dict()))
        given.append(arrays)
    (kept, h_kept), (in_place, h_in_place) = models
    np.testing.assert_array_equal(kept.theta, in_place.theta)
    assert h_kept == h_in_place
    np.testing.assert_array_equal(given[0][0], X)  # the default never touches the caller's arrays
    np.testing.assert_array_equal(given[0][1], Xd)
    np.testing.assert_array_equal(given[1][0], scaler.transform(X))  # copy_X=False: overwritten
    np.testing.assert_array_equal(given[1][1], scaler.transform(Xd))


def test_copy_x_false_copies_an_array_of_another_dtype(problems):
    X, y = problems.blobs(40)
    model = gw.mlp([2, 3, 1], seed=0, dtype="float32")
    model.standardizer = Standardizer()
    before = X.copy()
    model.fit(X, y, epochs=1, copy_X=False)  # float64 X: converted to float32, so X itself is left alone
    np.testing.assert_array_equal(X, before)


# ------------------------------------------------------------------ invalid settings


@pytest.mark.parametrize("kwargs,error,pattern", [
    ({"learning_rate": 0}, gw.GradwiseValueError, r"learning_rate must be > 0.0, got 0"),
    ({"learning_rate": -0.5}, gw.GradwiseValueError, r"learning_rate .*-0.5"),
    ({"learning_rate": math.nan}, gw.GradwiseValueError, r"learning_rate .*nan"),
    ({"learning_rate": "fast"}, gw.GradwiseTypeError, r"learning_rate .*'fast'"),
    ({"batch_size": 0}, gw.GradwiseValueError, r"batch_size must be >= 1, got 0"),
    ({"batch_size": -4}, gw.GradwiseValueError, r"batch_size .*-4"),
    ({"batch_size": 2.5}, gw.GradwiseTypeError, r"batch_size .*2.5"),
    ({"epochs": -1}, gw.GradwiseValueError, r"epochs must be >= 0, got -1"),
    ({"optimizer": "nadam"}, gw.GradwiseValueError, r"optimizer .*'nadam'"),
    ({"optimizer": gw.Momentum}, gw.GradwiseTypeError, r"optimizer"),
    ({"schedule": "exponential"}, gw.GradwiseTypeError, r"schedule .*'exponential'"),
    ({"schedule": {"name": "cosine"}}, gw.GradwiseValueError, r"schedule .*'cosine'"),
    ({"validation_split": 1.0}, gw.GradwiseValueError, r"validation_split .*1.0"),
    ({"validation_split": -0.1}, gw.GradwiseValueError, r"validation_split .*-0.1"),
    ({"validation_split": 0.999}, gw.GradwiseValueError, r"validation_split=0.999 leaves 0 training"),
    ({"validation_data": np.zeros((3, 2))}, gw.GradwiseTypeError, r"validation_data must be a pair"),
    ({"validation_data": (np.zeros((3, 2)),)}, gw.GradwiseTypeError, r"validation_data must be a pair"),
    ({"validation_data": (np.zeros((3, 5)), [0, 1, 0])}, gw.GradwiseValueError,
     r"validation_data X has 5 features"),
    ({"validation_data": (np.zeros((3, 2)), [0, 1])}, gw.GradwiseValueError, r"validation_data y has 2 rows"),
    ({"validation_data": (np.zeros((3, 2)), [0, 1, 2])}, gw.GradwiseValueError, r"validation_data y .*0/1"),
    ({"validation_data": (np.zeros((3, 2)), [0, 1, 0]), "validation_split": 0.2}, gw.GradwiseValueError,
     r"not both"),
    ({"verbose": 3}, gw.GradwiseValueError, r"verbose .*3"),
    ({"augment": 5}, gw.GradwiseTypeError, r"augment .*5"),
    ({"shuffle": "yes"}, gw.GradwiseTypeError, r"shuffle .*'yes'"),
    ({"callbacks": [print]}, gw.GradwiseTypeError, r"callbacks\[0\]"),
])
def test_invalid_settings_raise_clear_errors(blobs, kwargs, error, pattern):
    X, y = blobs
    model = gw.mlp([2, 3, 1], seed=0)
    before = model.theta.copy()
    with pytest.raises(error, match=pattern):
        model.fit(X, y, **kwargs)
    assert np.array_equal(model.theta, before) and model.epochs_trained == 0


def test_bad_training_data_is_named(blobs):
    X, y = blobs
    model = gw.mlp([2, 3, 1], seed=0)
    with pytest.raises(gw.GradwiseValueError, match="X has 3 features"):
        model.fit(np.zeros((5, 3)), [0, 1, 0, 1, 0])
    with pytest.raises(gw.GradwiseValueError, match="y has 4 rows, X has 120"):
        model.fit(X, y[:4])
    with pytest.raises(gw.GradwiseTypeError, match="model must be a gradwise Sequential"):
        gw.fit("model", X, y)
