# ruff: noqa: NPY002  (these tests seed the global state on purpose, to compare with the course)
import random

import numpy as np
import pytest
import sklearn.datasets

from gradwise.data import datasets
from gradwise.data.datasets import Dataset, available, course_circles, course_flower, course_moons, load
from gradwise.errors import GradwiseTypeError, GradwiseValueError

GENERATORS = ["circles", "moons", "flower", "spirals", "blobs", "xor"]
REAL = {"iris": (150, 4, 3), "wine": (178, 13, 3), "breast_cancer": (569, 30, 2), "digits": (1797, 64, 10)}


@pytest.fixture
def global_state():
    """Save NumPy's global random state and restore it after the test (which may seed it on purpose)."""
    state = np.random.get_state()
    yield
    np.random.set_state(state)


def _assert_classification(data: Dataset, n_classes: int) -> None:
    assert data.X_train.dtype == np.float64 and data.X_test.dtype == np.float64
    assert data.y_train.dtype == np.int64 and data.y_test.dtype == np.int64
    assert data.y_train.ndim == 1 and data.X_train.shape[0] == data.y_train.shape[0]
    assert data.n_classes == n_classes and len(data.class_names) == n_classes
    assert set(np.unique(data.y_train)) == set(range(n_classes))
    assert np.isfinite(data.X_train).all() and np.isfinite(data.X_test).all()
    assert len(data.feature_names) == data.n_features == data.X_train.shape[1]
    assert data.task == ("binary" if n_classes == 2 else "multiclass")


# ------------------------------------------------------------------------------------------ generators


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_shapes_labels_and_reproducibility(name):
    data = load(name, seed=5)
    n = 400 if name == "flower" else 300
    assert data.X_train.shape == (n, 2) and data.X_test.shape == (n // 3, 2)
    _assert_classification(data, 3 if name == "blobs" else 2)
    again = load(name, seed=5)
    np.testing.assert_array_equal(again.X_train, data.X_train)
    np.testing.assert_array_equal(again.y_test, data.y_test)
    other = load(name, seed=6)
    assert not np.array_equal(other.X_train, data.X_train)


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_train_and_test_are_independent_draws(name):
    data = load(name, seed=0, n_samples=90, n_test=90)
    assert data.X_train.shape == data.X_test.shape == (90, 2)
    # Independent draws of the same distribution: no shared points, similar spread.
    assert not np.isin(data.X_test[:, 0], data.X_train[:, 0]).any()
    ratio = data.X_test.std(axis=0) / data.X_train.std(axis=0)
    assert np.all((ratio > 0.6) & (ratio < 1.6))


def test_generator_options():
    spirals = load("spirals", n_samples=90, n_classes=3, n_test=0)
    _assert_classification(spirals, 3)
    assert spirals.X_test.shape == (0, 2) and np.bincount(spirals.y_train).tolist() == [30, 30, 30]
    blobs = load("blobs", n_samples=100, n_classes=4, n_features=5)
    assert blobs.X_train.shape == (100, 5) and blobs.n_outputs == 4
    # The blob centers belong to the distribution: train and test class means agree.
    for k in range(4):
        gap = blobs.X_train[blobs.y_train == k].mean(0) - blobs.X_test[blobs.y_test == k].mean(0)
        assert np.abs(gap).max() < 1.5
    quiet = load("circles", noise=0.0)
    radii = np.hypot(*quiet.X_train.T)
    np.testing.assert_allclose(np.sort(np.unique(radii.round(9))), [0.8, 1.0])
    assert np.all(radii[quiet.y_train == 1] < radii[quiet.y_train == 0])  # class 1 = inner circle
    xor = load("xor")
    np.testing.assert_array_equal(xor.y_train, (xor.X_train[:, 0] > 0) != (xor.X_train[:, 1] > 0))


def test_flower_matches_the_petal_formula():
    data = load("flower", noise=0.0, n_samples=400)
    r = np.hypot(*data.X_train.T)
    t = np.arctan2(data.X_train[:, 0], data.X_train[:, 1])  # x = (r sin t, r cos t)
    np.testing.assert_allclose(r, np.abs(4 * np.sin(4 * t)), atol=1e-9)


# ------------------------------------------------------------------------------- the course's data


def test_course_circles_is_bit_identical_to_global_seeding(global_state):
    np.random.seed(1)
    train_X, train_Y = sklearn.datasets.make_circles(n_samples=300, noise=0.05)
    np.random.seed(2)
    test_X, test_Y = sklearn.datasets.make_circles(n_samples=100, noise=0.05)
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    data = course_circles()
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # the global state is not touched
    np.testing.assert_array_equal(data.X_train, train_X)
    np.testing.assert_array_equal(data.y_train, train_Y)
    np.testing.assert_array_equal(data.X_test, test_X)
    np.testing.assert_array_equal(data.y_test, test_Y)


def test_course_moons_is_bit_identical_to_global_seeding(global_state):
    np.random.seed(3)
    train_X, train_Y = sklearn.datasets.make_moons(n_samples=300, noise=0.2)
    data = course_moons()
    np.testing.assert_array_equal(data.X_train, train_X)
    np.testing.assert_array_equal(data.y_train, train_Y)
    assert data.X_test.shape == (0, 2) and data.y_test.shape == (0,)


def _load_planar_dataset():
    """The course's helper, verbatim apart from the row-major transpose."""
    np.random.seed(1)
    m = 400
    N = int(m / 2)
    D = 2
    X = np.zeros((m, D))
    Y = np.zeros((m, 1), dtype="uint8")
    a = 4
    for j in range(2):
        ix = range(N * j, N * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, N) + np.random.randn(N) * 0.2
        r = a * np.sin(4 * t) + np.random.randn(N) * 0.2
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        Y[ix] = j
    return X, Y.ravel()


def test_course_flower_is_bit_identical_to_load_planar_dataset(global_state):
    X, Y = _load_planar_dataset()
    data = course_flower()
    np.testing.assert_array_equal(data.X_train, X)
    np.testing.assert_array_equal(data.y_train, Y)
    assert load("course-flower").X_train.shape == (400, 2)


def test_football_bundled_data():
    data = load("football", seed=99)  # fixed data: the seed does not matter
    assert data.X_train.shape == (211, 2) and data.X_test.shape == (200, 2)
    assert np.bincount(data.y_train).tolist() == [105, 106]
    assert np.bincount(data.y_test).tolist() == [113, 87]
    np.testing.assert_array_equal(data.X_train[0], [-0.158986, 0.423977])
    assert data.feature_names == ("x1", "x2") and data.class_names == ("0", "1")
    assert "France" in datasets.football.__doc__ or "French" in datasets.football.__doc__
    assert "252062681550c46ca3c069b2d027d3f3" in datasets.football.__doc__


# ------------------------------------------------------------------------------------------ real data


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_datasets_stratified_split(name):
    m, n_x, k = REAL[name]
    data = load(name, seed=0)
    _assert_classification(data, k)
    assert data.X_train.shape[1] == n_x and len(data.y_train) + len(data.y_test) == m
    assert len(data.y_test) == round(0.2 * m)
    full = np.bincount(np.concatenate([data.y_train, data.y_test]))
    # Stratified: every class's share of the test set is within one example of its overall share.
    assert np.all(np.abs(np.bincount(data.y_test, minlength=k) - full * len(data.y_test) / m) <= 1)
    again, other = load(name, seed=0), load(name, seed=1)
    np.testing.assert_array_equal(again.X_test, data.X_test)
    assert not np.array_equal(other.X_test, data.X_test)


def test_real_dataset_names_and_subset():
    iris = load("iris", n_samples=60, test_size=0.5)
    assert iris.class_names == ("setosa", "versicolor", "virginica")
    assert iris.feature_names[0] == "sepal length (cm)"
    assert len(iris.y_train) == len(iris.y_test) == 30
    assert np.bincount(iris.y_train).tolist() == [10, 10, 10]
    assert load("Breast-Cancer").class_names == ("malignant", "benign")
    with pytest.raises(ValueError, match="n_samples must be <= 150"):
        load("iris", n_samples=151)


def test_mnist1d_matches_the_package_and_restores_global_state(isolated_cache, global_state):
    from mnist1d.data import get_dataset_args, make_dataset

    np.random.seed(7)
    random.seed(7)
    np_before, py_before = np.random.get_state()[1].copy(), random.getstate()
    data = load("mnist1d", n_samples=200, cache=False)
    np.testing.assert_array_equal(np.random.get_state()[1], np_before)
    assert random.getstate() == py_before
    args = get_dataset_args()
    args.num_samples = 200
    reference = make_dataset(args)
    np.testing.assert_array_equal(data.X_train, reference["x"])
    np.testing.assert_array_equal(data.y_test, reference["y_test"])
    assert data.X_train.shape == (160, 40) and data.X_test.shape == (40, 40)
    _assert_classification(data, 10)


def test_mnist1d_cache_is_written_reused_and_repaired(isolated_cache, monkeypatch):
    first = load("mnist1d", n_samples=100)
    (cached,) = isolated_cache.glob("mnist1d-*-n100-seed42.npz")

    def no_generation(*args):
        raise AssertionError("should have been read from the cache")

    monkeypatch.setattr(datasets, "_generate_mnist1d", no_generation)
    np.testing.assert_array_equal(load("mnist1d", n_samples=100).X_train, first.X_train)
    cached.write_bytes(b"torn file")  # a damaged cache is regenerated, not trusted
    monkeypatch.undo()
    monkeypatch.setenv("GRADWISE_CACHE_DIR", str(isolated_cache))
    np.testing.assert_array_equal(load("mnist1d", n_samples=100).X_train, first.X_train)
    assert not list(isolated_cache.glob("*.tmp"))


def test_mnist1d_default_asks_for_the_standard_data(monkeypatch):
    # The package's defaults (5000 examples, seed 42, 80/20) are the standard 4000 / 1000 MNIST-1D; generating
    # them takes seconds, so only the request is checked here (the split itself is checked at n=200 above).
    calls = []

    def fake(num_samples, generation_seed):
        calls.append((num_samples, generation_seed))
        x = np.zeros((num_samples, 40))
        y = np.arange(num_samples) % 10
        cut = int(0.8 * num_samples)
        return {"x": x[:cut], "y": y[:cut], "x_test": x[cut:], "y_test": y[cut:]}

    monkeypatch.setattr(datasets, "_generate_mnist1d", fake)
    data = load("mnist1d", cache=False)
    assert calls == [(5000, 42)]
    assert data.X_train.shape == (4000, 40) and data.X_test.shape == (1000, 40)
    assert data.n_outputs == 10 and data.feature_names[0] == "t0"


def test_mnist1d_never_downloads(monkeypatch):
    import mnist1d.data
    import requests

    def refuse(*args, **kwargs):
        raise AssertionError("mnist1d must be generated locally, never downloaded")

    monkeypatch.setattr(requests, "get", refuse)
    monkeypatch.setattr(mnist1d.data, "get_dataset", refuse)
    assert load("mnist1d", n_samples=50, cache=False).X_train.shape == (40, 40)


# ------------------------------------------------------------------------------- registry and errors


def test_available_lists_every_name_and_each_loads():
    names = dict(available())
    assert set(names) >= {*GENERATORS, *REAL, "football", "mnist1d", "course_circles", "course_moons"}
    for name, description in names.items():
        assert description
        data = load(name, n_samples=100) if name == "mnist1d" else load(name)
        assert isinstance(data, Dataset) and data.name == name


def test_unknown_name_lists_the_available_ones():
    with pytest.raises(ValueError, match=r"unknown data set 'cirles'.*did you mean 'circles'.*moons") as info:
        load("cirles")
    assert isinstance(info.value, GradwiseValueError)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"name": "circles", "bogus": 1}, TypeError, r"unexpected option\(s\) \['bogus'\].*n_test"),
        ({"name": "football", "noise": 0.1}, TypeError, "takes no options"),
        ({"name": "football", "n_samples": 10}, ValueError, "n_samples is not supported for 'football'"),
        ({"name": "circles", "n_samples": 1}, ValueError, "n_samples must be >= 2"),
        ({"name": "circles", "noise": -1.0}, ValueError, "noise must be >= 0"),
        ({"name": "circles", "factor": 1.5}, ValueError, "factor must be < 1"),
        ({"name": "moons", "seed": -3}, ValueError, "seed must be a non-negative integer"),
        ({"name": "spirals", "n_classes": 1}, ValueError, "n_classes must be >= 2"),
        ({"name": "iris", "test_size": 1.0}, ValueError, "test_size must be < 1"),
        ({"name": 42}, TypeError, "name must be a data set name or a file path"),
    ],
)
def test_load_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        load(**kwargs)


def test_load_delegates_paths_to_files(write):
    path = write("points.csv", "a,b,label\n0,1,x\n1,0,y\n2,2,x\n")
    data = load(str(path), target="label")
    assert data.name == "points" and data.class_names == ("x", "y")
    with pytest.raises(ValueError, match="n_samples is not supported for data files"):
        load(path, n_samples=2)


def test_dataset_validates_and_reprs_compactly():
    data = load("moons", n_samples=30)
    assert repr(data) == "Dataset(name='moons', task='binary', n_classes=2, X_train=(30, 2), X_test=(10, 2))"
    with pytest.raises(ValueError, match="task must be one of"):
        Dataset(data.X_train, data.y_train, data.X_test, data.y_test, "m", "ranking", 2, ("a", "b"), None)
    with pytest.raises(ValueError, match="train arrays must have shapes"):
        Dataset(data.X_train, data.y_test, data.X_test, data.y_test, "m", "binary", 2, ("a", "b"), None)
    with pytest.raises(GradwiseTypeError):
        load("xor", n_test="ten")
