"""Bad arguments raise GradwiseValueError / GradwiseTypeError (subclasses of ValueError / TypeError)
whose message names the argument and the bad value."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import gradwise as gw
from gradwise.errors import GradwiseTypeError, GradwiseValueError

X = np.random.default_rng(0).standard_normal((6, 2))


def raises(kind, *fragments):
    """pytest.raises(kind) whose message contains every fragment (in order)."""
    return pytest.raises(kind, match=".*".join(re.escape(f) for f in fragments))


def test_error_types_are_the_builtin_ones():
    assert issubclass(GradwiseValueError, ValueError) and issubclass(GradwiseTypeError, TypeError)


# ------------------------------------------------------------------------------- names


@pytest.mark.parametrize("call,kind,fragments", [
    (lambda: gw.Dense(3, init="glorious"), GradwiseValueError, ("init", "glorious")),
    (lambda: gw.Dense(3, init=3), GradwiseTypeError, ("init", "3")),
    (lambda: gw.mlp([2, 3, 1], init="uniform"), GradwiseValueError, ("init", "uniform")),
    (lambda: gw.mlp([2, 3, 1], hidden="gelu"), GradwiseValueError, ("hidden", "gelu")),
    (lambda: gw.mlp([2, 3, 1], output="swish"), GradwiseValueError, ("output", "swish")),
    (lambda: gw.mlp([2, 3, 1], loss="hinge"), GradwiseValueError, ("loss", "hinge")),
    (lambda: gw.Sequential([gw.Dense(1)], loss="cross_entropy"), GradwiseValueError, ("loss", "cross_entropy")),
    (lambda: gw.Sequential([gw.Dense(1), "relu"]), GradwiseTypeError, ("layers[1]", "relu")),
    (lambda: gw.Sequential(gw.Dense(1)), GradwiseTypeError, ("layers", "Dense")),
], ids=["dense_init", "dense_init_type", "mlp_init", "hidden", "output", "loss", "sequential_loss",
        "layer_type", "layers_not_a_list"])
def test_unknown_names(call, kind, fragments):
    with raises(kind, *fragments):
        call()


# ------------------------------------------------------------------------------- sizes and ranges


@pytest.mark.parametrize("call,kind,fragments", [
    (lambda: gw.Dense(0), GradwiseValueError, ("units", "0")),
    (lambda: gw.Dense(-3), GradwiseValueError, ("units", "-3")),
    (lambda: gw.Dense(2.5), GradwiseTypeError, ("units", "2.5")),
    (lambda: gw.Dense(True), GradwiseTypeError, ("units", "True")),
    (lambda: gw.mlp([2, 0, 1]), GradwiseValueError, ("layer_sizes[1]", "0")),
    (lambda: gw.mlp([2, 3, -1]), GradwiseValueError, ("layer_sizes[2]", "-1")),
    (lambda: gw.Sequential([gw.Dense(1)], input_dim=0), GradwiseValueError, ("input_dim", "0")),
    (lambda: gw.Dropout(0), GradwiseValueError, ("keep_prob", "0")),
    (lambda: gw.Dropout(1.5), GradwiseValueError, ("keep_prob", "1.5")),
    (lambda: gw.Dropout(-0.2), GradwiseValueError, ("keep_prob", "-0.2")),
    (lambda: gw.Dropout(float("nan")), GradwiseValueError, ("keep_prob", "nan")),
    (lambda: gw.Dropout("0.5"), GradwiseTypeError, ("keep_prob", "0.5")),
    (lambda: gw.mlp([2, 3, 1], keep_prob=0.0), GradwiseValueError, ("keep_prob", "0")),
    (lambda: gw.mlp([2, 3, 3, 1], keep_prob=[0.5, 1.2]), GradwiseValueError, ("keep_prob", "1.2")),
    (lambda: gw.mlp([2, 1], keep_prob=7), GradwiseValueError, ("keep_prob", "7")),
    (lambda: gw.mlp([2, 3, 3, 1], keep_prob=[0.5]), GradwiseValueError, ("keep_prob", "2", "1")),
    (lambda: gw.mlp([2, 3, 1], l2=-0.1), GradwiseValueError, ("l2", "-0.1")),
    (lambda: gw.mlp([2, 3, 1], l1=-2), GradwiseValueError, ("l1", "-2")),
    (lambda: gw.Sequential([gw.Dense(1)], l2=-1), GradwiseValueError, ("l2", "-1")),
    (lambda: gw.mlp([2, 3, 1], l2="big"), GradwiseTypeError, ("l2", "big")),
    (lambda: gw.mlp([2, 3, 1], l2=float("inf")), GradwiseValueError, ("l2", "inf")),
    (lambda: gw.LeakyReLU(-0.1), GradwiseValueError, ("slope", "-0.1")),
    (lambda: gw.BatchNorm(momentum=1.0), GradwiseValueError, ("momentum", "1.0")),
    (lambda: gw.BatchNorm(epsilon=0), GradwiseValueError, ("epsilon", "0")),
    (lambda: gw.Initializer("random", scale=-1), GradwiseValueError, ("scale", "-1")),
    (lambda: gw.Dense(2, use_bias="no"), GradwiseTypeError, ("use_bias", "no")),
    (lambda: gw.mlp([2, 3, 1], batchnorm="yes"), GradwiseTypeError, ("batchnorm", "yes")),
], ids=lambda v: None)
def test_sizes_and_ranges(call, kind, fragments):
    with raises(kind, *fragments):
        call()


def test_keep_prob_of_exactly_1_is_allowed_and_means_no_dropout():
    model = gw.mlp([2, 3, 1], keep_prob=1.0, seed=0)
    assert not any(isinstance(layer, gw.Dropout) for layer in model.layers)


# ------------------------------------------------------------------------------- dtype, seeds


@pytest.mark.parametrize("dtype,kind", [("int32", GradwiseValueError), (np.float16, GradwiseValueError),
                                        ("double-ish", GradwiseTypeError)])
def test_wrong_dtype(dtype, kind):
    with raises(kind, "dtype", str(np.dtype(dtype)) if kind is GradwiseValueError else "double-ish"):
        gw.mlp([2, 3, 1], dtype=dtype)


def test_seed_and_rng_arguments():
    with raises(GradwiseTypeError, "seed", "1.5"):
        gw.mlp([2, 3, 1], seed=1.5)
    with raises(GradwiseTypeError, "rng", "int"):
        gw.mlp([2, 3, 1], rng=3)
    with raises(GradwiseTypeError, "seed=", "rng="):
        gw.mlp([2, 3, 1], seed=1, rng=np.random.default_rng(1))


# ------------------------------------------------------------------------------- losses vs outputs


@pytest.mark.parametrize("layers,loss,fragments", [
    ([gw.Dense(1), gw.Tanh()], "binary_crossentropy", ("binary_crossentropy", "Sigmoid", "Tanh")),
    ([gw.Dense(1), gw.Linear()], "binary_crossentropy", ("binary_crossentropy", "Sigmoid", "Linear")),
    ([gw.Dense(3), gw.Sigmoid()], "categorical_crossentropy", ("categorical_crossentropy", "Softmax", "Sigmoid")),
])
def test_loss_and_output_layer_mismatch(layers, loss, fragments):
    with raises(GradwiseValueError, *fragments):
        gw.Sequential(layers, input_dim=2, loss=loss)
    with pytest.raises(GradwiseValueError, match="binary_crossentropy"):
        gw.mlp([2, 3, 2], output="softmax", loss="binary_crossentropy")


# ------------------------------------------------------------------------------- set_parameters


@pytest.fixture
def model():
    return gw.mlp([2, 3, 1], seed=0)


def test_set_parameters_wrong_shape_names_parameter_and_both_shapes(model):
    with raises(GradwiseValueError, "W1", "(3, 2)", "(2, 3)"):
        model.set_parameters({"W1": np.zeros((2, 3))}, strict=False)
    with raises(GradwiseValueError, "b2", "(1,)", "(2,)"):
        model.set_parameters({"b2": np.zeros(2)}, strict=False)


def test_set_parameters_unknown_and_missing_names(model):
    with raises(GradwiseValueError, "W9", "W1"):
        model.set_parameters({"W9": np.zeros((3, 2))}, strict=False)
    with raises(GradwiseValueError, "gamma1"):
        model.set_parameters({"gamma1": np.ones(3)}, strict=False)
    with raises(GradwiseValueError, "missing", "b1", "W2", "b2"):
        model.set_parameters({"W1": np.zeros((3, 2))})
    with raises(GradwiseTypeError, "params", "list"):
        model.set_parameters([np.zeros((3, 2))])


@pytest.mark.parametrize("value,kind,fragments", [
    (np.zeros((3, 2), dtype=complex), GradwiseTypeError, ("W1", "complex128")),
    (np.full((3, 2), "a"), GradwiseTypeError, ("W1", "<U1")),
    (np.ones((3, 2), dtype=bool), GradwiseTypeError, ("W1", "bool")),
    ([[1.0, 2.0], [3.0, None], [1.0, 1.0]], GradwiseTypeError, ("W1", "object")),
    (np.full((3, 2), np.nan), GradwiseValueError, ("W1", "finite", "nan")),
    (np.array([[1.0, np.inf], [0, 0], [0, 0]]), GradwiseValueError, ("W1", "finite", "inf")),
], ids=["complex", "str", "bool", "object", "nan", "inf"])
def test_set_parameters_wrong_dtype_or_values(model, value, kind, fragments):
    before = model.theta.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # complex → real would have been a silent ComplexWarning
        with raises(kind, *fragments):
            model.set_parameters({"b1": np.ones(3), "W1": value}, strict=False)
    # all or nothing: b1, although valid, was not written either
    np.testing.assert_array_equal(model.theta, before)


def test_set_parameters_beyond_float32_range():
    model = gw.mlp([2, 3, 1], seed=0, dtype="float32")
    with raises(GradwiseValueError, "W1", "1e+39", "float32"):
        model.set_parameters({"W1": np.full((3, 2), 1e39)}, strict=False)


def test_set_parameters_accepts_the_course_column_biases_and_integers(model):
    model.set_parameters({"b1": np.arange(3).reshape(3, 1), "W2": [[1, 2, 3]]}, strict=False)
    np.testing.assert_array_equal(model.parameters()["b1"], [0, 1, 2])
    np.testing.assert_array_equal(model.parameters()["W2"], [[1, 2, 3]])


# ------------------------------------------------------------------------------- data


def test_feature_count_mismatch_between_build_and_predict(model):
    with raises(GradwiseValueError, "X", "3 features", "expects 2"):
        model.predict(np.zeros((4, 3)))
    lazy = gw.Sequential([gw.Dense(2), gw.Sigmoid()], seed=0)
    lazy.predict(np.zeros((4, 5)))  # built on first sight with 5 features
    with raises(GradwiseValueError, "X", "4 features", "expects 5"):
        lazy.cost(np.zeros((4, 4)), np.zeros(4))


@pytest.mark.parametrize("X_bad,kind,fragments", [
    ("abc", GradwiseTypeError, ("X", "string")),
    (np.zeros((2, 2, 2)), GradwiseValueError, ("X", "2-D", "(2, 2, 2)")),
    (np.array([[1.0, np.nan]]), GradwiseValueError, ("X", "finite", "nan")),
    (np.zeros((2, 2), dtype=complex), GradwiseTypeError, ("X", "complex128")),
    (np.zeros((0, 2)), GradwiseValueError, ("X", "empty")),
], ids=["string", "3d", "nan", "complex", "empty"])
def test_bad_X(model, X_bad, kind, fragments):
    with raises(kind, *fragments):
        model.predict(X_bad)


def test_labels_out_of_range_for_the_output_layer():
    softmax = gw.mlp([2, 3, 3], output="softmax", seed=0)
    with raises(GradwiseValueError, "y", "label 3", "3 classes"):
        softmax.cost(X, [0, 1, 3, 0, 1, 0])
    with raises(GradwiseValueError, "y", "label -1"):
        softmax.cost(X, [0, 1, -1, 0, 1, 0])
    with raises(GradwiseValueError, "y", "integer", "0.5"):
        softmax.cost(X, [0, 1, 0.5, 0, 1, 0])
    binary = gw.mlp([2, 3, 1], seed=0)
    with raises(GradwiseValueError, "y", "0/1", "2"):
        binary.cost(X, [0, 1, 2, 0, 1, 0])
    with raises(GradwiseValueError, "y", "3 rows", "6"):
        binary.cost(X, [0, 1, 1])
    with raises(GradwiseTypeError, "y", "<U1"):
        binary.cost(X, ["a"] * 6)
    regression = gw.mlp([2, 3, 2], output="linear", seed=0)
    with raises(GradwiseValueError, "y", "3 columns", "2"):
        regression.cost(X, np.zeros((6, 3)))
    with raises(GradwiseValueError, "y", "finite"):
        regression.cost(X, np.full((6, 2), np.nan))


# ------------------------------------------------------------------------------- order of calls


def test_backward_without_a_training_forward():
    model = gw.mlp([2, 3, 1], seed=0)
    with raises(GradwiseValueError, "backward", "forward(X, training=True)"):
        model.backward(np.zeros(6))
    model.forward(X)  # an inference forward does not count
    with raises(GradwiseValueError, "backward"):
        model.backward(np.zeros(6))


def test_unbuilt_model():
    with raises(GradwiseValueError, "not built"):
        gw.Sequential([gw.Dense(1)]).parameters()
    with raises(GradwiseValueError, "not built"):  # no output layer yet to check the labels against
        gw.Sequential([gw.Dense(3), gw.Softmax()]).prepare_targets(np.array([0, 1]), 2)


def test_gradcheck_arguments(model):
    y = np.zeros(6)
    with raises(GradwiseValueError, "epsilon", "0"):
        gw.gradcheck(model, X, y, epsilon=0)
    with raises(GradwiseValueError, "threshold", "-1"):
        gw.gradcheck(model, X, y, threshold=-1)
    with raises(GradwiseValueError, "sample", "0"):
        gw.gradcheck(model, X, y, sample=0)
    with raises(GradwiseTypeError, "model", "str"):
        gw.gradcheck("model", X, y)
    with raises(GradwiseValueError, "grad", "2", "theta", "3"):
        gw.gradcheck_fn(lambda t: t.sum(), np.ones(3), np.ones(2))
    with raises(GradwiseTypeError, "J", "int"):
        gw.gradcheck_fn(3, 1.0, 1.0)


def test_bad_model_descriptions():
    with raises(GradwiseValueError, "layers[0]", "Dense", "unit"):
        gw.Sequential.from_config({"layers": [{"type": "Dense", "unit": 3}], "loss": "mse"})
    with raises(GradwiseValueError, "unknown layer type", "Conv2D"):
        gw.Sequential.from_config({"layers": [{"type": "Conv2D"}], "loss": "mse"})
    with raises(GradwiseValueError, "unknown layer type", "None"):
        gw.Sequential.from_config({"layers": [{"units": 3}], "loss": "mse"})
    with raises(GradwiseTypeError, "units", "'3'"):
        gw.Sequential.from_config({"layers": [{"type": "Dense", "units": "3"}], "loss": "mse"})
    with raises(GradwiseValueError, "init", "scal"):
        gw.Dense(2, init={"name": "random", "scal": 2})
    with raises(GradwiseValueError, "init", "'scale': 2"):
        gw.Dense(2, init={"scale": 2})


def test_one_unit_softmax_and_negative_seed_are_refused():
    import gradwise as gw

    with pytest.raises(ValueError, match="Softmax output needs at least 2 units, got 1"):
        gw.mlp([3, 4, 1], output="softmax")
    with pytest.raises(ValueError, match="seed must be non-negative, got -1"):
        gw.mlp([3, 4, 1], seed=-1)
