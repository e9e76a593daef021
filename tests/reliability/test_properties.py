"""Property-based tests (hypothesis): random shapes, dtypes and values thrown at fit / predict / gradcheck /
load. The only acceptable outcomes are success or a clean gradwise error (GradwiseValueError /
GradwiseTypeError, TrainingDivergedError for a run that diverged, ModelFileError for files); any other
exception, and any RuntimeWarning, fails (issue 8).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradwise as gw
from gradwise.errors import GradwiseTypeError, GradwiseValueError, ModelFileError, TrainingDivergedError

CLEAN = (GradwiseValueError, GradwiseTypeError)
SETTINGS = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

NUMERIC_DTYPES = [np.bool_, np.int8, np.int64, np.uint8, np.float16, np.float32, np.float64]
OTHER_DTYPES = [np.complex128, np.dtype("U3"), np.dtype(object)]


@st.composite
def arrays(draw, max_dims: int = 3, max_side: int = 5, numeric_only: bool = False):
    """Any shape (0-d to 3-d, empty sides included), any dtype, values including nan, ±inf, huge, tiny."""
    dtype = np.dtype(draw(st.sampled_from(NUMERIC_DTYPES if numeric_only else NUMERIC_DTYPES + OTHER_DTYPES)))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=max_side))
    if dtype.kind == "O":
        elements = st.one_of(st.integers(-3, 3), st.floats(allow_nan=True), st.text(max_size=2), st.none())
    elif dtype.kind == "U":
        elements = st.text(max_size=3)
    elif dtype.kind == "f":
        values = st.one_of(st.floats(-3, 3), st.sampled_from(SPECIAL), st.floats(allow_nan=True))
        return _cast(draw(hnp.arrays(np.float64, shape, elements=values)), dtype)
    elif dtype.kind == "c":
        elements = hnp.from_dtype(dtype, allow_nan=True, allow_infinity=True, allow_subnormal=True)
    else:
        elements = hnp.from_dtype(dtype)
    return draw(hnp.arrays(dtype, shape, elements=elements))


#: values that break naive code: beyond float16/float32, at the float64 limit, tiny, non-finite
SPECIAL = [0.0, -0.0, 5e-324, 1e-300, 7e4, 1e30, 3.5e38, 1e300, 1.7e308, -1.7e308, np.nan, np.inf, -np.inf]


def _cast(array: np.ndarray, dtype: np.dtype) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):  # the test builds its input; overflow -> inf is intended
        return array.astype(dtype)


@st.composite
def mostly_valid_data(draw, n: int | None = None):
    """Well-shaped (m, n) data (m, n ≥ 1) of a random dtype; values mostly ordinary, sometimes SPECIAL."""
    m, n = draw(st.integers(1, 6)), n or draw(st.integers(1, 4))
    dtype = np.dtype(draw(st.sampled_from([np.float64, np.float64, np.float32, *NUMERIC_DTYPES])))
    if dtype.kind != "f":
        return draw(hnp.arrays(dtype, (m, n), elements=hnp.from_dtype(dtype)))
    values = st.one_of(st.floats(-3, 3), st.sampled_from(SPECIAL), st.floats(allow_nan=True))
    return _cast(draw(hnp.arrays(np.float64, (m, n), elements=values)), dtype)


@st.composite
def finite_data(draw, n: int | None = None):
    """Finite (m, n) float64 data over the whole range (hypothesis favours the extremes, e.g. ±1.8e308)."""
    m, n = draw(st.integers(1, 5)), n or draw(st.integers(1, 3))
    huge = st.sampled_from([x for x in SPECIAL if np.isfinite(x)] + [-1e300, -3.5e38, 1.7976931348623157e308])
    values = st.one_of(st.floats(-3, 3), huge, st.floats(allow_nan=False, allow_infinity=False))
    return draw(hnp.arrays(np.float64, (m, n), elements=values))


def _model(kind: str, dtype: str, input_dim: int | None):
    output = {"binary": "sigmoid", "multiclass": "softmax", "regression": "linear"}[kind]
    k = 3 if kind == "multiclass" else 1
    last = {"sigmoid": gw.Sigmoid, "softmax": gw.Softmax, "linear": gw.Linear}[output]()
    layers = [gw.Dense(3), gw.Tanh(), gw.Dense(k), last]
    return gw.Sequential(layers, input_dim=input_dim, seed=0, dtype=dtype)


def _labels_for(kind: str, m: int, draw) -> np.ndarray:
    if kind == "binary":
        return np.array(draw(st.lists(st.integers(0, 1), min_size=m, max_size=m)))
    if kind == "multiclass":
        return np.array(draw(st.lists(st.integers(0, 2), min_size=m, max_size=m)))
    return np.array(draw(st.lists(st.floats(-10, 10), min_size=m, max_size=m)))


def _strict():
    """Inside: RuntimeWarnings (overflow, invalid, casts) are errors, whatever the global configuration."""
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("error", RuntimeWarning)
    return ctx


@SETTINGS
@given(
    data=st.data(),
    kind=st.sampled_from(["binary", "multiclass", "regression"]),
    dtype=st.sampled_from(["float32", "float64"]),
    input_dim=st.sampled_from([None, 3]),
    wild_x=st.booleans(),
    wild_y=st.booleans(),
)
def test_fit_and_predict_accept_or_refuse_cleanly(data, kind, dtype, input_dim, wild_x, wild_y):
    X = data.draw(arrays() if wild_x else st.one_of(mostly_valid_data(), finite_data()), label="X")
    m = X.shape[0] if X.ndim >= 1 else 1
    y = data.draw(arrays(max_dims=2), label="y") if wild_y else _labels_for(kind, m, data.draw)
    model = _model(kind, dtype, input_dim)
    batch = data.draw(st.sampled_from([None, 1, 2]), label="batch_size")
    ctx = _strict()
    try:
        try:
            model.fit(X, y, epochs=2, batch_size=batch, optimizer="adam", learning_rate=0.01)
        except CLEAN as exc:
            event(f"fit refused: {type(exc).__name__}")
            assert str(exc) and "\n" not in str(exc)
            return
        except TrainingDivergedError:
            event("fit diverged")
            assert np.isfinite(model.theta).all()  # the promise of TerminateOnNaN
            return
        event("fit trained")
        assert np.isfinite(model.theta).all() and np.isfinite(model.buffer).all()
        try:
            out = model.predict(X)
        except CLEAN:
            event("predict refused after fit")
            return  # e.g. finite inputs too large for the trained weights: refused, named
        out = np.asarray(out)
        assert out.shape[0] == np.asarray(X).reshape(m, -1).shape[0]
        assert np.isfinite(out.astype(np.float64)).all()
    finally:
        ctx.__exit__(None, None, None)


_FITTED = {}


def _fitted(dtype: str) -> gw.Sequential:
    if dtype not in _FITTED:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((20, 3))
        model = gw.mlp([3, 4, 3], output="softmax", batchnorm=True, seed=0, dtype=dtype)
        model.fit(X, np.arange(20) % 3, epochs=3)
        _FITTED[dtype] = model
    return _FITTED[dtype]


@SETTINGS
@given(
    X=st.one_of(arrays(), mostly_valid_data(n=3), finite_data(n=3)),
    dtype=st.sampled_from(["float32", "float64"]),
    method=st.sampled_from(["predict", "predict_proba", "forward"]),
)
def test_predict_on_anything(X, dtype, method):
    model = _fitted(dtype)
    before = model.theta.copy()
    ctx = _strict()
    try:
        out = getattr(model, method)(X)
    except CLEAN as exc:
        event(f"refused: {type(exc).__name__}")
        assert str(exc) and "\n" not in str(exc)
        return
    finally:
        ctx.__exit__(None, None, None)
    assert np.isfinite(np.asarray(out, dtype=np.float64)).all()
    assert np.array_equal(model.theta, before)  # inference never changes the model


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), kind=st.sampled_from(["binary", "multiclass", "regression"]), wild=st.booleans())
def test_gradcheck_on_anything(data, kind, wild):
    X = data.draw(arrays(max_side=3) if wild else st.one_of(mostly_valid_data(), finite_data()), label="X")
    m = X.shape[0] if X.ndim >= 1 else 1
    y = data.draw(arrays(max_dims=2, max_side=3), label="y") if wild else _labels_for(kind, m, data.draw)
    model = _model(kind, "float64", None)
    ctx = _strict()
    try:
        report = gw.gradcheck(model, X, y)
    except CLEAN as exc:
        event(f"refused: {type(exc).__name__}")
        assert str(exc) and "\n" not in str(exc)
        return
    finally:
        ctx.__exit__(None, None, None)
    assert np.isfinite(report.difference) and 0.0 <= report.difference <= 1.0
    assert set(report.per_parameter) == {"W1", "b1", "W2", "b2"}


# ------------------------------------------------------------------------------------------- load
@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory):
    model = gw.mlp([3, 4, 2], output="softmax", batchnorm=True, seed=7)
    path = gw.save(model, tmp_path_factory.mktemp("prop") / "m.safetensors")
    return path.read_bytes(), model.theta.copy()


def _load_bytes(tmp_path, content: bytes):
    path = tmp_path / "candidate.safetensors"
    path.write_bytes(content)
    return gw.load(path)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(content=st.binary(max_size=400))
def test_load_random_bytes(tmp_path, content):
    with pytest.raises(ModelFileError):
        _load_bytes(tmp_path, content)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_load_truncated_or_bit_flipped_file(tmp_path, model_bytes, data):
    """Any truncation or any flipped byte: a ModelFileError, or (a harmless byte, e.g. header padding or a
    version string) exactly the saved weights. Never another exception, never other weights."""
    content, theta = model_bytes
    how = data.draw(st.sampled_from(["truncate", "flip", "both"]))
    b = bytearray(content)
    if how in ("flip", "both"):
        for _ in range(data.draw(st.integers(1, 3))):
            b[data.draw(st.integers(0, len(b) - 1))] ^= data.draw(st.integers(1, 255))
    if how in ("truncate", "both"):
        b = b[: data.draw(st.integers(0, len(b) - 1))]
    try:
        model = _load_bytes(tmp_path, bytes(b))
    except ModelFileError as exc:
        event("refused")
        assert "candidate.safetensors" in str(exc)
        return
    event("loaded the same weights")
    assert np.array_equal(model.theta, theta)
