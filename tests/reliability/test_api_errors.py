"""Bad input to the Python API: every case must raise a gradwise ValueError/TypeError subclass whose
message names the argument and the bad value (issue 8). docs/reliability.md lists these cases by id.

Each case is `(id, call(d, tmp), expected exception class, regex the message must match)`, where `d`
holds small valid data (`d.X` (24, 3), binary `d.y`, 3-class `d.y3`) and `tmp` is a temporary directory.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pytest

import gradwise as gw
from gradwise.errors import GradwiseError, GradwiseTypeError, GradwiseValueError, ModelFileError

V, T, F = GradwiseValueError, GradwiseTypeError, ModelFileError


class Case(NamedTuple):
    id: str
    call: Callable[[Any, Any], Any]
    error: type
    message: str  # a regex: it must name the argument and show the bad value


def binary(**kw):
    return gw.mlp([3, 4, 1], seed=0, **kw)


def softmax3(**kw):
    return gw.mlp([3, 4, 3], output="softmax", seed=0, **kw)


def regression(**kw):
    return gw.mlp([3, 4, 1], output="linear", seed=0, **kw)


def fitted(d):
    model = binary()
    model.fit(d.X, d.y, epochs=1)
    return model


def _nan_at(X, i, j, value=math.nan):
    X = X.copy()
    X[i, j] = value
    return X


CASES: list[Case] = [
    # ---------------------------------------------------------------- data given to fit / predict
    Case("fit-X-nan", lambda d, t: binary().fit(_nan_at(d.X, 2, 1), d.y), V,
         r"^X must be finite, got nan at row 2, column 1$"),
    Case("fit-X-inf", lambda d, t: binary().fit(_nan_at(d.X, 0, 0, -math.inf), d.y), V,
         r"^X must be finite, got -inf at row 0, column 0$"),
    Case("fit-X-too-large-for-float32",
         lambda d, t: binary(dtype="float32").fit(_nan_at(d.X, 1, 2, 1e300), d.y),
         V, r"X .*1e\+300.* row 1, column 2.*float32"),
    Case("fit-y-too-large-for-float32",
         lambda d, t: regression(dtype="float32").fit(d.X, np.full(24, 1e300)), V,
         r"^y holds 1e\+300 beyond the float32 range \(±3\.4e\+38\)"),
    Case("fit-y-nan", lambda d, t: binary().fit(d.X, np.where(d.y > 0, np.nan, 0.0)), V,
         r"^y must be finite, got nan at row \d+$"),
    Case("fit-X-3d", lambda d, t: binary().fit(d.X.reshape(24, 3, 1), d.y), V,
         r"^X must be 2-D of shape \(m, n_x\), got shape \(24, 3, 1\)$"),
    Case("fit-X-scalar", lambda d, t: binary().fit(3.0, d.y), V, r"^X must be 2-D .*got shape \(\)$"),
    Case("fit-X-empty", lambda d, t: binary().fit(np.zeros((0, 3)), np.zeros(0)), V,
         r"^X is empty: shape \(0, 3\)$"),
    Case("fit-X-no-features", lambda d, t: binary().fit(np.zeros((4, 0)), np.zeros(4)), V,
         r"^X has no features: shape \(4, 0\)$"),
    Case("fit-X-string", lambda d, t: binary().fit("data.csv", d.y), T,
         r"^X must be an array of numbers, got a string$"),
    Case("fit-X-str-array", lambda d, t: binary().fit(np.array([["a", "b", "c"]] * 24), d.y), T,
         r"^X must hold numbers, got dtype <U1$"),
    Case("fit-X-object", lambda d, t: binary().fit(d.X.astype(object), d.y), T,
         r"^X must hold numbers, got dtype object$"),
    Case("fit-X-complex", lambda d, t: binary().fit(d.X + 1j, d.y), T,
         r"^X must hold real numbers, got dtype complex128$"),
    Case("fit-X-ragged", lambda d, t: binary().fit([[1.0, 2.0, 3.0], [1.0, 2.0]], [0, 1]), V,
         r"^X could not be read as an array: .*inhomogeneous"),
    Case("fit-y-string", lambda d, t: binary().fit(d.X, "labels"), T,
         r"^y must be an array of labels, got a string$"),
    Case("fit-y-str-array", lambda d, t: binary().fit(d.X, np.array(["cat"] * 24)), T,
         r"^y must hold numbers, got dtype <U3$"),
    Case("fit-y-length", lambda d, t: binary().fit(d.X, d.y[:5]), V, r"^y has 5 rows, X has 24$"),
    Case("fit-y-sigmoid-label-2", lambda d, t: binary().fit(d.X, d.y * 2), V,
         r"^y must hold 0/1 labels for binary_crossentropy, got 2$"),
    Case("fit-y-softmax-label-too-big", lambda d, t: softmax3().fit(d.X, d.y3 + 2), V,
         r"^y holds label 3, but the output layer has 3 classes \(0\.\.2\)$"),
    Case("fit-y-softmax-negative", lambda d, t: softmax3().fit(d.X, d.y3 - 1), V,
         r"^y holds label -1, but the output layer has 3 classes"),
    Case("fit-y-softmax-fractional", lambda d, t: softmax3().fit(d.X, d.y3 + 0.5), V,
         r"^y must hold integer class labels, got e\.g\. 0\.5$"),
    Case("fit-y-columns", lambda d, t: regression().fit(d.X, np.zeros((24, 2))), V,
         r"^y has 2 columns per example, the output layer has 1$"),
    Case("predict-feature-count", lambda d, t: fitted(d).predict(d.X[:, :2]), V,
         r"^X has 2 features, but the model expects 3$"),
    Case("predict-X-nan", lambda d, t: fitted(d).predict(_nan_at(d.X, 3, 0)), V,
         r"^X must be finite, got nan at row 3, column 0$"),
    Case("predict-overflow", lambda d, t: fitted(d).predict(np.full((2, 3), 1.7e308)), V,
         r"^X overflows the float64 network \(overflow encountered in \w+\): largest \|X\| is 1\.7e\+308"),
    Case("cost-overflow", lambda d, t: regression().cost(np.full((2, 3), 1.7e308), np.zeros(2)), V,
         r"^X overflows the float64 network \(overflow encountered in \w+\): largest \|X\| is 1\.7e\+308"),
    Case("evaluate-y-length", lambda d, t: fitted(d).evaluate(d.X, d.y[:3]), V, r"^y has 3 rows, X has 24$"),
    Case("predict_proba-regression", lambda d, t: regression().predict_proba(d.X), V,
         r"^predict_proba needs a classification model \(loss='mse' here\)$"),
    Case("backward-without-forward", lambda d, t: binary().backward(d.y), V,
         r"^backward needs a preceding forward\(X, training=True\)$"),
    Case("validation_data-features",
         lambda d, t: binary().fit(d.X, d.y, validation_data=(d.X[:, :2], d.y)), V,
         r"^validation_data X has 2 features, but the model expects 3$"),
    Case("validation_data-not-pair", lambda d, t: binary().fit(d.X, d.y, validation_data=(d.X,)), T,
         r"^validation_data must be a pair \(X_dev, y_dev\), got a tuple of length 1$"),
    Case("validation_data-labels", lambda d, t: binary().fit(d.X, d.y, validation_data=(d.X, d.y + 1)), V,
         r"^validation_data y must hold 0/1 labels for binary_crossentropy, got 2$"),
    # ---------------------------------------------------------------- fit's hyperparameters
    Case("fit-epochs-negative", lambda d, t: binary().fit(d.X, d.y, epochs=-1), V,
         r"^epochs must be >= 0, got -1$"),
    Case("fit-epochs-fraction", lambda d, t: binary().fit(d.X, d.y, epochs=1.5), T,
         r"^epochs must be an integer, got 1\.5$"),
    Case("fit-epochs-string", lambda d, t: binary().fit(d.X, d.y, epochs="10"), T,
         r"^epochs must be an integer, got '10'$"),
    Case("fit-batch_size-zero", lambda d, t: binary().fit(d.X, d.y, batch_size=0), V,
         r"^batch_size must be >= 1, got 0$"),
    Case("fit-learning_rate-zero", lambda d, t: binary().fit(d.X, d.y, learning_rate=0), V,
         r"^learning_rate must be > 0\.0, got 0\.0$"),
    Case("fit-learning_rate-nan", lambda d, t: binary().fit(d.X, d.y, learning_rate=math.nan), V,
         r"^learning_rate must be finite, got nan$"),
    Case("fit-optimizer-unknown", lambda d, t: binary().fit(d.X, d.y, optimizer="sgd"), V,
         r"^optimizer must be one of \['gd', 'momentum', 'rmsprop', 'adam'\], got 'sgd'$"),
    Case("fit-optimizer-type", lambda d, t: binary().fit(d.X, d.y, optimizer=3), T,
         r"^optimizer must be .*, got 3$"),
    Case("fit-validation_split-one", lambda d, t: binary().fit(d.X, d.y, validation_split=1.0), V,
         r"^validation_split must be < 1\.0, got 1\.0$"),
    Case("fit-validation_split-leaves-nothing", lambda d, t: binary().fit(d.X, d.y, validation_split=0.99), V,
         r"^validation_split=0\.99 leaves 0 training and 24 validation examples out of 24; "
         r"both must be at least 1$"),
    Case("fit-callbacks-type", lambda d, t: binary().fit(d.X, d.y, callbacks=[1]), T,
         r"^callbacks\[0\] must be a gradwise Callback, got 1$"),
    Case("fit-verbose", lambda d, t: binary().fit(d.X, d.y, verbose=5), V,
         r"^verbose must be 0, 1, 2 or 'auto', got 5$"),
    Case("fit-schedule-type", lambda d, t: binary().fit(d.X, d.y, schedule=3), T,
         r"^schedule must be a Schedule or a callable f\(epoch, lr0\), got 3$"),
    Case("fit-schedule-returns-negative",
         lambda d, t: binary().fit(d.X, d.y, epochs=2, schedule=lambda e, a: -a), V,
         r"gave learning rate -0\.01 at epoch 0"),
    Case("fit-augment-type", lambda d, t: binary().fit(d.X, d.y, augment=3), T,
         r"^augment must be a callable \(X_batch, rng\) -> X_batch, got 3$"),
    Case("fit-augment-wrong-shape", lambda d, t: binary().fit(d.X, d.y, augment=lambda X, r: X[:, :2]), V,
         r"^augment must return a batch of shape \(24, 3\), got \(24, 2\)$"),
    Case("fit-shuffle-type", lambda d, t: binary().fit(d.X, d.y, shuffle="yes"), T,
         r"^shuffle must be True, False or a callable \(epoch, m\), got 'yes'$"),
    Case("fit-shuffle-not-permutation", lambda d, t: binary().fit(d.X, d.y, batch_size=4,
                                                                shuffle=lambda e, m: np.zeros(3)), V,
         r"^shuffle\(0, 24\) must return a permutation of range\(24\)"),
    Case("fit-resume_from-missing",
         lambda d, t: binary().fit(d.X, d.y, resume_from=t / "nope.safetensors"), F,
         r"^no such file: .*nope\.safetensors$"),
    Case("fit-model-type", lambda d, t: gw.fit("model", d.X, d.y), T,
         r"^model must be a gradwise Sequential, got str$"),
    Case("fit-early-stopping-unrecorded",
         lambda d, t: binary().fit(d.X, d.y, callbacks=[gw.EarlyStopping()]), V,
         r"^EarlyStopping monitors 'val_cost', which fit does not record \(pass validation_data="),
    # ---------------------------------------------------------------- mlp / Sequential
    Case("mlp-layer_sizes-short", lambda d, t: gw.mlp([3]), V,
         r"^layer_sizes needs at least \[n_x, n_L\], got \[3\]$"),
    Case("mlp-layer_sizes-zero", lambda d, t: gw.mlp([3, 0, 1]), V,
         r"^layer_sizes\[1\] must be >= 1, got 0$"),
    Case("mlp-layer_sizes-string", lambda d, t: gw.mlp("3,4,1"), T,
         r"^layer_sizes must be a list of integers, got '3,4,1'$"),
    Case("mlp-layer_sizes-fraction", lambda d, t: gw.mlp([3, 4.5, 1]), T,
         r"^layer_sizes\[1\] must be an integer, got 4\.5$"),
    Case("mlp-hidden", lambda d, t: gw.mlp([3, 4, 1], hidden="swish"), V,
         r"^hidden must be one of \[.*\], got 'swish'$"),
    Case("mlp-output", lambda d, t: gw.mlp([3, 4, 1], output="softplus"), V,
         r"^output must be one of \[.*\], got 'softplus'$"),
    Case("mlp-init", lambda d, t: gw.mlp([3, 4, 1], init="kaiming"), V,
         r"^init must be one of \[.*\], got 'kaiming'$"),
    Case("mlp-keep_prob-zero", lambda d, t: gw.mlp([3, 4, 1], keep_prob=0), V,
         r"^keep_prob must be > 0\.0, got 0\.0$"),
    Case("mlp-keep_prob-above-one", lambda d, t: gw.mlp([3, 4, 1], keep_prob=1.5), V,
         r"^keep_prob must be <= 1\.0, got 1\.5$"),
    Case("mlp-keep_prob-count", lambda d, t: gw.mlp([3, 4, 1], keep_prob=[0.5, 0.5]), V,
         r"^keep_prob needs one value per hidden layer \(1\), got 2$"),
    Case("mlp-l2-negative", lambda d, t: gw.mlp([3, 4, 1], l2=-1), V, r"^l2 must be >= 0\.0, got -1\.0$"),
    Case("mlp-l2-nan", lambda d, t: gw.mlp([3, 4, 1], l2=math.nan), V, r"^l2 must be finite, got nan$"),
    Case("mlp-l1-string", lambda d, t: gw.mlp([3, 4, 1], l1="0.1"), T, r"^l1 must be a number, got '0\.1'$"),
    Case("mlp-loss-unknown", lambda d, t: gw.mlp([3, 4, 1], loss="hinge"), V,
         r"^loss must be one of \[.*\], got 'hinge'$"),
    Case("mlp-loss-output-mismatch", lambda d, t: gw.mlp([3, 4, 1], loss="categorical_crossentropy"), V,
         r"^loss='categorical_crossentropy' needs a Softmax output layer, got Sigmoid$"),
    Case("mlp-seed-string", lambda d, t: gw.mlp([3, 4, 1], seed="a"), T,
         r"^seed must be an integer or None, got 'a'$"),
    Case("mlp-seed-negative", lambda d, t: gw.mlp([3, 4, 1], seed=-1), (V, T),
         r"^seed must be non-negative, got -1$"),
    Case("mlp-rng-type", lambda d, t: gw.mlp([3, 4, 1], rng=3), T,
         r"^rng must be a numpy\.random\.Generator or RandomState, got int$"),
    Case("mlp-dtype-int", lambda d, t: gw.mlp([3, 4, 1], dtype="int32"), V,
         r"^dtype must be float32 or float64, got int32$"),
    Case("mlp-dtype-float16", lambda d, t: gw.mlp([3, 4, 1], dtype=np.float16), V,
         r"^dtype must be float32 or float64, got float16$"),
    Case("mlp-dtype-unknown", lambda d, t: gw.mlp([3, 4, 1], dtype="fp64"), T,
         r"^dtype must be float32 or float64, got 'fp64'$"),
    Case("Sequential-empty", lambda d, t: gw.Sequential([]), V, r"^layers must not be empty$"),
    Case("Sequential-not-a-layer", lambda d, t: gw.Sequential([gw.Dense(2), "relu"]), T,
         r"^layers\[1\] must be a gradwise layer, got 'relu'$"),
    Case("Sequential-no-dense", lambda d, t: gw.Sequential([gw.ReLU()]), V,
         r"^layers must contain at least one Dense layer$"),
    Case("Sequential-input_dim-zero", lambda d, t: gw.Sequential([gw.Dense(1)], input_dim=0), V,
         r"^input_dim must be >= 1, got 0$"),
    Case("set_parameters-shape",
         lambda d, t: binary().set_parameters({"W1": np.ones((2, 2))}, strict=False), V,
         r"^parameter 'W1' must have shape \(4, 3\), got \(2, 2\)$"),
    Case("set_parameters-nan",
         lambda d, t: binary().set_parameters({"W1": np.full((4, 3), np.nan)}, strict=False), V,
         r"^parameter 'W1' must be finite, got nan$"),
    Case("set_parameters-unknown", lambda d, t: binary().set_parameters({"W9": np.ones(1)}, strict=False), V,
         r"^unknown parameter names \['W9'\]"),
    Case("astype-int", lambda d, t: binary().astype("int8"), V,
         r"^dtype must be float32 or float64, got int8$"),
    # ---------------------------------------------------------------- layers
    Case("Dense-units-zero", lambda d, t: gw.Dense(0), V, r"^units must be >= 1, got 0$"),
    Case("Dense-units-string", lambda d, t: gw.Dense("4"), T, r"^units must be an integer, got '4'$"),
    Case("Dense-init-type", lambda d, t: gw.Dense(3, init=5), T,
         r"^init must be a name among \[.*\], got 5$"),
    Case("Dense-init-random-scale", lambda d, t: gw.Dense(3, init={"name": "random", "scale": -1}), V,
         r"^scale must be >= 0\.0, got -1\.0$"),
    Case("Dropout-keep_prob-zero", lambda d, t: gw.Dropout(0), V, r"^keep_prob must be > 0\.0, got 0\.0$"),
    Case("Dropout-keep_prob-nan", lambda d, t: gw.Dropout(math.nan), V,
         r"^keep_prob must be finite, got nan$"),
    Case("BatchNorm-momentum-one", lambda d, t: gw.BatchNorm(momentum=1), V,
         r"^momentum must be < 1\.0, got 1\.0$"),
    Case("BatchNorm-epsilon-zero", lambda d, t: gw.BatchNorm(epsilon=0), V,
         r"^epsilon must be > 0\.0, got 0\.0$"),
    Case("LeakyReLU-slope-negative", lambda d, t: gw.LeakyReLU(-1), V, r"^slope must be >= 0\.0, got -1\.0$"),
    # ---------------------------------------------------------------- optimizers and schedules
    Case("GD-learning_rate-inf", lambda d, t: gw.GD(learning_rate=math.inf), V,
         r"^learning_rate must be finite, got inf$"),
    Case("Momentum-beta-one", lambda d, t: gw.Momentum(beta=1.0), V, r"^beta must be < 1\.0, got 1\.0$"),
    Case("RMSprop-epsilon-negative", lambda d, t: gw.RMSprop(epsilon=-1), V,
         r"^epsilon must be > 0\.0, got -1\.0$"),
    Case("RMSprop-beta-string", lambda d, t: gw.RMSprop(beta="0.9"), T,
         r"^beta must be a number, got '0\.9'$"),
    Case("Adam-beta1-one", lambda d, t: gw.Adam(beta1=1), V, r"^beta1 must be < 1\.0, got 1\.0$"),
    Case("Adam-beta2-negative", lambda d, t: gw.Adam(beta2=-0.1), V, r"^beta2 must be >= 0\.0, got -0\.1$"),
    Case("Adam-epsilon-zero", lambda d, t: gw.Adam(epsilon=0), V, r"^epsilon must be > 0\.0, got 0\.0$"),
    Case("Adam-learning_rate-negative", lambda d, t: gw.Adam(learning_rate=-1), V,
         r"^learning_rate must be > 0\.0, got -1\.0$"),
    Case("InverseTimeDecay-rate-negative", lambda d, t: gw.InverseTimeDecay(-1), V,
         r"^decay_rate must be >= 0\.0, got -1\.0$"),
    Case("InverseTimeDecay-steps-zero", lambda d, t: gw.InverseTimeDecay(1, decay_steps=0), V,
         r"^decay_steps must be >= 1, got 0$"),
    Case("ExponentialDecay-rate-zero", lambda d, t: gw.ExponentialDecay(0), V,
         r"^decay_rate must be > 0\.0, got 0\.0$"),
    Case("ExponentialDecay-rate-above-one", lambda d, t: gw.ExponentialDecay(2), V,
         r"^decay_rate must be <= 1\.0, got 2\.0$"),
    Case("StepDecay-factor-zero", lambda d, t: gw.StepDecay(0), V, r"^factor must be > 0\.0, got 0\.0$"),
    Case("StepDecay-step_size-zero", lambda d, t: gw.StepDecay(0.5, 0), V,
         r"^step_size must be >= 1, got 0$"),
    # ---------------------------------------------------------------- callbacks
    Case("EarlyStopping-patience-negative", lambda d, t: gw.EarlyStopping(patience=-1), V,
         r"^patience must be >= 0, got -1$"),
    Case("EarlyStopping-mode", lambda d, t: gw.EarlyStopping(mode="up"), V,
         r"^mode must be 'auto', 'min' or 'max', got 'up'$"),
    Case("EarlyStopping-monitor-type", lambda d, t: gw.EarlyStopping(monitor=3), T,
         r"^monitor must be a metric name such as 'val_cost', got 3$"),
    Case("EarlyStopping-min_delta-negative", lambda d, t: gw.EarlyStopping(min_delta=-0.1), V,
         r"^min_delta must be >= 0\.0, got -0\.1$"),
    Case("Checkpoint-every-zero", lambda d, t: gw.Checkpoint(t / "c.safetensors", every=0), V,
         r"^every must be >= 1, got 0$"),
    Case("Checkpoint-path-type", lambda d, t: gw.Checkpoint(3), T, r"^path must be a file path, got 3$"),
    # ---------------------------------------------------------------- gradient checking
    Case("gradcheck-epsilon-zero", lambda d, t: gw.gradcheck(binary(), d.X, d.y, epsilon=0), V,
         r"^epsilon must be > 0\.0, got 0\.0$"),
    Case("gradcheck-threshold-negative", lambda d, t: gw.gradcheck(binary(), d.X, d.y, threshold=-1), V,
         r"^threshold must be > 0\.0, got -1\.0$"),
    Case("gradcheck-sample-zero", lambda d, t: gw.gradcheck(binary(), d.X, d.y, sample=0), V,
         r"^sample must be >= 1, got 0$"),
    Case("gradcheck-model-type", lambda d, t: gw.gradcheck("model", d.X, d.y), T,
         r"^model must be a gradwise Sequential, got str$"),
    Case("gradcheck-X-nan", lambda d, t: gw.gradcheck(binary(), _nan_at(d.X, 1, 1), d.y), V,
         r"^X must be finite, got nan at row 1, column 1$"),
    Case("gradcheck-labels", lambda d, t: gw.gradcheck(softmax3(), d.X, d.y3 + 5), V,
         r"^y holds label 5, but the output layer has 3 classes"),
    Case("gradcheck-overflow", lambda d, t: gw.gradcheck(binary(), np.full((2, 3), 1.7e308), np.zeros(2)), V,
         r"^X overflows the float64 network \(overflow encountered in \w+\): largest \|X\| is 1\.7e\+308"),
    Case("gradcheck_fn-J-type", lambda d, t: gw.gradcheck_fn(3, 1.0, 1.0), T,
         r"^J must be a callable J\(theta\) -> float, got int$"),
    Case("gradcheck_fn-grad-size",
         lambda d, t: gw.gradcheck_fn(lambda th: th.sum(), np.ones(3), np.ones(2)), V,
         r"^grad has 2 entries, theta has 3$"),
    # ---------------------------------------------------------------- data package
    Case("split-ratios-sum", lambda d, t: gw.split(d.X, d.y, ratios=(0.5, 0.6)), V,
         r"^ratios must sum to 1, got \[0\.5, 0\.6\] \(sum 1\.1\)$"),
    Case("split-ratios-negative", lambda d, t: gw.split(d.X, d.y, ratios=(-0.5, 0.5, 1.0)), V,
         r"^ratios must be non-negative, got \[-0\.5, 0\.5, 1\.0\]$"),
    Case("split-ratios-nan", lambda d, t: gw.split(d.X, d.y, ratios=(math.nan, 0.5)), V,
         r"^ratios must be finite numbers"),
    Case("split-rows-differ", lambda d, t: gw.split(d.X, d.y[:3]), V,
         r"^X and y must have the same number of rows, got X with 24 and y with 3$"),
    Case("split-too-few", lambda d, t: gw.split(np.zeros((1, 3)), np.zeros(1)), V,
         r"^too few samples to split: got 1 example\(s\), need at least 2$"),
    Case("split-seed-type", lambda d, t: gw.split(d.X, d.y, seed="x"), T,
         r"^seed must be an integer or None, got 'x'$"),
    Case("split-course-layout", lambda d, t: gw.split(d.X, d.y.reshape(1, -1)), V,
         r"^y has shape \(1, 24\) \(the course's"),
    Case("Standardizer-fit-nan", lambda d, t: gw.Standardizer().fit(_nan_at(d.X, 0, 2)), V,
         r"^X must be finite, got nan at row 0, column 2$"),
    Case("Standardizer-fit-empty", lambda d, t: gw.Standardizer().fit(np.zeros((0, 3))), V,
         r"^X is empty: shape \(0, 3\)$"),
    Case("Standardizer-transform-before-fit", lambda d, t: gw.Standardizer().transform(d.X), V,
         r"^Standardizer\.transform was called before fit"),
    Case("Standardizer-feature-count", lambda d, t: gw.Standardizer().fit(d.X).transform(d.X[:, :2]), V,
         r"^X has 2 features, but the Standardizer was fitted on 3$"),
    Case("Standardizer-from_dict", lambda d, t: gw.Standardizer.from_dict({"x": 1}), V,
         r"^Standardizer description is missing \['mean', 'scale'\]"),
    Case("augment-shift-negative", lambda d, t: gw.augment.shift(-1), V, r"^max_shift must be >= 0, got -1$"),
    Case("augment-noise-negative", lambda d, t: gw.augment.noise(-1), V, r"^std must be >= 0\.0, got -1\.0$"),
    Case("augment-noise-nan", lambda d, t: gw.augment.noise(math.nan), V, r"^std must be finite, got nan$"),
    Case("augment-flip-shape", lambda d, t: gw.augment.flip((0, 3)), V, r"image_shape.* >= 1, got 0"),
    Case("augment-flip-batch", lambda d, t: gw.augment.flip((2, 2))(d.X, np.random.default_rng(0)), V,
         r"^flip: X_batch must have shape \(batch, 4\) for images of shape \(2, 2\), got \(24, 3\)$"),
    Case("datasets-unknown", lambda d, t: gw.datasets.load("nope"), V,
         r"^unknown data set 'nope'; available: circles, "),
    Case("datasets-name-type", lambda d, t: gw.datasets.load(3), T,
         r"^name must be a data set name or a file path, got 3$"),
    Case("datasets-seed-negative", lambda d, t: gw.datasets.load("moons", seed=-1), V,
         r"^seed must be a non-negative integer or None, got -1$"),
    Case("datasets-option-unknown", lambda d, t: gw.datasets.load("moons", foo=1), T,
         r"^load\('moons'\) got unexpected option\(s\) \['foo'\]"),
    Case("datasets-n_samples-zero", lambda d, t: gw.datasets.load("moons", n_samples=0), V,
         r"^n_samples must be >= 2, got 0$"),
    Case("datasets-file-missing", lambda d, t: gw.datasets.load(str(t / "absent.csv")), V,
         r"^data file not found: '.*absent\.csv'$"),
    # ---------------------------------------------------------------- save / load
    Case("save-model-type", lambda d, t: gw.save("model", t / "a.safetensors"), T,
         r"^model must be a gradwise Sequential, got str$"),
    Case("save-suffix", lambda d, t: gw.save(binary(), t / "a.txt"), V,
         r"^path must end with '\.safetensors' .*a\.txt'$"),
    Case("save-unbuilt", lambda d, t: gw.save(gw.Sequential([gw.Dense(1)]), t / "a.safetensors"), V,
         r"^the model is not built yet"),
    Case("save-path-type", lambda d, t: gw.save(binary(), 3), T, r"^path must be a file path, got int$"),
    Case("save-metadata-type", lambda d, t: gw.save(binary(), t / "a.safetensors", metadata=[1]), T,
         r"^metadata must be a dict, got list$"),
    Case("save-metadata-not-json",
         lambda d, t: gw.save(binary(), t / "a.safetensors", metadata={"when": object()}), T,
         r"^metadata must be JSON-able.*object"),
    Case("save-metadata-nan",
         lambda d, t: gw.save(binary(), t / "a.safetensors", metadata={"score": math.nan}), V,
         r"^metadata must be JSON-able.*(nan|NaN|Out of range)"),
    Case("load-missing", lambda d, t: gw.load(t / "nope.safetensors"), F,
         r"^no such model file: '.*nope\.safetensors'$"),
    Case("load-directory-without-model", lambda d, t: gw.load(t), F,
         r"^no model in '.*': model\.safetensors is missing$"),
    Case("load-path-type", lambda d, t: gw.load(3), T, r"^path must be a file path, got int$"),
    Case("diagnose-error-negative", lambda d, t: gw.diagnose(train_error=-1, dev_error=0.1), V,
         r"^train_error must be >= 0\.0, got -1\.0$"),
]


def test_case_ids_are_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, data, tmp_path):
    with pytest.raises(GradwiseError) as info:
        case.call(data, tmp_path)
    exc = info.value
    assert isinstance(exc, case.error), f"{type(exc).__name__}: {exc}"
    assert isinstance(exc, ValueError | TypeError), f"{type(exc).__name__}: neither ValueError nor TypeError"
    message = str(exc)
    assert "\n" not in message, "one line, so the command line can print it as is"
    assert re.search(case.message, message), f"message {message!r} does not match {case.message!r}"


def test_split_then_fit_reports_nan(data):
    """`split` selects rows without looking at them (any trailing shape is allowed); the NaN it carries
    is reported by the first step that computes with X (here `fit`), naming the row and column."""
    X = _nan_at(data.X, 5, 1)
    parts = gw.split(X, data.y, ratios=(0.5, 0.5), seed=0)
    holder = parts.X_train if np.isnan(parts.X_train).any() else parts.X_dev
    labels = parts.y_train if holder is parts.X_train else parts.y_dev
    with pytest.raises(GradwiseValueError, match=r"^X must be finite, got nan at row \d+, column 1$"):
        binary().fit(holder, labels)


def test_accepted_inputs_are_really_accepted(data):
    """The other side of validation: int, bool, float16/32 inputs, (m, 1) labels and bool labels train."""
    X0 = data.X
    for X in (X0.astype(np.float16), X0.astype(np.float32), X0 > 0, (10 * X0).astype(np.int32)):
        model = binary()
        model.fit(X, data.y.reshape(-1, 1).astype(bool), epochs=2)
        assert np.isfinite(model.theta).all()
        assert model.predict(X).shape == (24,)


SKLEARN_CASES = [
    ({"hidden_layer_sizes": (-1,)}, r"^hidden_layer_sizes\[0\] must be >= 1, got -1$"),
    ({"hidden_layer_sizes": "10"}, r"^hidden_layer_sizes must be a tuple of integers, got '10'$"),
    ({"learning_rate": -1}, r"^learning_rate must be > 0\.0, got -1\.0$"),
    ({"keep_prob": 0}, r"^keep_prob must be > 0\.0, got 0\.0$"),
    ({"epochs": 0}, r"^epochs must be >= 1, got 0$"),
    ({"batch_size": 0}, r"^batch_size must be >= 1, got 0$"),
    ({"optimizer": "sgd"}, r"^optimizer must be one of \[.*\], got 'sgd'$"),
    ({"l2": math.nan}, r"^l2 must be finite, got nan$"),
    ({"init": "x"}, r"^init must be one of \[.*\], got 'x'$"),
]


@pytest.mark.parametrize("params,message", SKLEARN_CASES, ids=[next(iter(p)) + "-" + str(next(iter(p.values())))
                                                               for p, _ in SKLEARN_CASES])
def test_sklearn_estimator_bad_hyperparameters(params, message, data):
    """The scikit-learn estimator validates in fit (scikit-learn's convention), with gradwise's messages."""
    from gradwise.sklearn import MLPClassifier

    estimator = MLPClassifier(**params)  # __init__ only stores
    with pytest.raises(GradwiseError, match=message):
        estimator.fit(data.X, data.y)


def test_sklearn_estimator_bad_data_uses_scikit_learn_errors(data):
    """Data checks are scikit-learn's own (check_estimator requires its wording): ValueErrors that say what."""
    from gradwise.sklearn import MLPClassifier

    with pytest.raises(ValueError, match="NaN"):
        MLPClassifier(epochs=1).fit(_nan_at(data.X, 0, 0), data.y)
    fitted_estimator = MLPClassifier(epochs=1).fit(data.X, data.y)
    with pytest.raises(ValueError, match=r"X has 2 features, but MLPClassifier is expecting 3 features"):
        fitted_estimator.predict(data.X[:, :2])
