"""Built-in data sets: seeded 2-D generators, the course's exact data, bundled and real data sets.

``load(name, seed=0, n_samples=None, **options)`` returns a :class:`Dataset`. Every data set comes with a
train and a test set:

- **generators** (``circles``, ``moons``, ``flower``, ``spirals``, ``blobs``, ``xor``) draw the training
  and the test set *independently from the same distribution*, from two child streams of
  ``np.random.SeedSequence(seed)``; ``n_samples`` is the size of the training set and ``n_test`` (default
  ``n_samples // 3``) that of the test set;
- **the course's data** (``course_circles``, ``course_moons``, ``course_flower``) are bit for bit the
  arrays the course's notebooks drew after ``np.random.seed(...)``, produced without touching NumPy's
  global random state; ``football`` is the regularization exercise's data, bundled in the package.
  These are fixed: `seed` is ignored and `n_samples` refused;
- **real data** needing no download: scikit-learn's ``digits``, ``breast_cancer``, ``iris`` and ``wine``
  (a stratified, seeded 80/20 train/test split; ``n_samples`` keeps a stratified subset first), and
  ``mnist1d``, generated locally by the ``mnist1d`` package (the standard 4,000 / 1,000 split);
- a **file**: ``load("path/to/data.csv", target="label")`` or ``load("data.npz")``, see
  :func:`gradwise.data.files.load_file`.

Labels are integers ``0..K-1`` (``y`` of shape (m,), int64); the original names are in ``class_names``.
Features are float64 of shape (m, n_x).
"""

from __future__ import annotations

import contextlib
import difflib
import importlib.metadata
import inspect
import os
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._atomic import atomic_open
from .._random import RNG, permutation, uniform
from .._validation import check_float, check_int
from ..errors import GradwiseTypeError, GradwiseValueError
from .dataset import Dataset
from .files import dataset_from_frame, load_file
from .split import split_indices
from .tables import read_table

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = [
    "Dataset",
    "available",
    "course_circles",
    "course_flower",
    "course_moons",
    "load",
]

# ------------------------------------------------------------------------------------------ helpers
def _classification(
    name: str,
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    y_test: ArrayLike,
    description: str,
    *,
    n_classes: int,
    feature_names: tuple[str, ...] | None = None,
    class_names: tuple[str, ...] | None = None,
) -> Dataset:
    n_x = X_train.shape[1]
    return Dataset(
        X_train=np.ascontiguousarray(X_train, dtype=np.float64),
        y_train=np.asarray(y_train).reshape(-1).astype(np.int64),
        X_test=np.ascontiguousarray(X_test, dtype=np.float64).reshape(-1, n_x),
        y_test=np.asarray(y_test).reshape(-1).astype(np.int64),
        name=name,
        task="binary" if n_classes == 2 else "multiclass",
        n_classes=n_classes,
        feature_names=feature_names or tuple(f"x{i + 1}" for i in range(n_x)),
        class_names=class_names or tuple(str(k) for k in range(n_classes)),
        description=description,
    )


def _streams(seed: int | None) -> tuple[np.random.SeedSequence, ...]:
    """Independent child seeds for the training set, the test set and shared structure (e.g. centers)."""
    return tuple(np.random.SeedSequence(seed).spawn(3))


def _legacy(seq: np.random.SeedSequence) -> np.random.RandomState:
    """A RandomState (what scikit-learn's generators take) fed from an explicit seed sequence."""
    return np.random.RandomState(np.random.MT19937(seq))


def _sizes(n_samples: int | None, default: int, n_test: object, *, minimum: int = 2) -> tuple[int, int]:
    n = default if n_samples is None else check_int("n_samples", n_samples, minimum=minimum)
    m_test = n // 3 if n_test is None else check_int("n_test", n_test, minimum=0)
    return n, m_test


def _balanced_counts(n: int, k: int) -> np.ndarray:
    """n examples shared out over k classes, the first classes taking the remainder."""
    return np.full(k, n // k) + (np.arange(k) < n % k)


# ------------------------------------------------------------------------------- 2-D generators
# Each `_draw_*` takes an explicit generator (Generator or RandomState) and returns X (n, 2), y (n,).


def _draw_circles(rng: np.random.RandomState, n: int, noise: float, factor: float):
    from sklearn.datasets import make_circles

    return make_circles(n_samples=n, noise=noise, factor=factor, random_state=rng)


def _draw_moons(rng: np.random.RandomState, n: int, noise: float):
    from sklearn.datasets import make_moons

    return make_moons(n_samples=n, noise=noise, random_state=rng)


def _draw_flower(rng: RNG, n: int, noise: float = 0.2, a: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """The course's planar "flower" (`load_planar_dataset`), with an explicit generator.

    For class j in {0, 1} with N_j points: ``t = linspace(3.12 j, 3.12 (j+1), N_j) + noise·ε`` (angle),
    ``r = a·sin(4t) + noise·ε`` (radius), ``x = (r sin t, r cos t)``. The random draws happen in the course's
    order (angle noise, then radius noise, class 0 then class 1), so ``RandomState(1)`` reproduces its
    ``np.random.seed(1)`` bit for bit. Rows are grouped by class, as in the course.
    """
    X = np.zeros((n, 2))
    y = np.zeros(n, dtype=np.int64)
    start = 0
    for j, count in enumerate((n // 2, n - n // 2)):
        rows = slice(start, start + count)
        t = np.linspace(j * 3.12, (j + 1) * 3.12, count) + rng.standard_normal(count) * noise
        r = a * np.sin(4 * t) + rng.standard_normal(count) * noise
        X[rows] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[rows] = j
        start += count
    return X, y


def _draw_spirals(rng: RNG, n: int, n_classes: int, noise: float, turns: float):
    """K interleaved spiral arms: arm j at radius r ∈ (0, 1] has angle ``2πj/K + 2π·turns·r + noise·ε``."""
    X, y = [], []
    for j, count in enumerate(_balanced_counts(n, n_classes)):
        r = np.linspace(0.0, 1.0, count + 1)[1:]  # not 0: the arms would all meet at the origin
        t = 2 * np.pi * (j / n_classes + turns * r) + rng.standard_normal(count) * noise
        X.append(np.c_[r * np.sin(t), r * np.cos(t)])
        y.append(np.full(count, j))
    return np.concatenate(X), np.concatenate(y)


def _draw_blobs(rng: RNG, n: int, centers: np.ndarray, cluster_std: float):
    y = np.repeat(np.arange(len(centers)), _balanced_counts(n, len(centers)))
    return centers[y] + cluster_std * rng.standard_normal((n, centers.shape[1])), y


def _draw_xor(rng: RNG, n: int, noise: float):
    """Uniform points in [-1, 1]²; label 1 where exactly one coordinate is positive (then Gaussian jitter)."""
    X = 2.0 * uniform(rng, (n, 2)) - 1.0
    y = ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(np.int64)
    if noise:
        X = X + noise * rng.standard_normal((n, 2))
    return X, y


def _shuffled(rng: RNG, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = permutation(rng, len(y))
    return X[order], y[order]


def _train_and_test(train: np.random.SeedSequence, test: np.random.SeedSequence, n: int, m_test: int,
                    draw: Callable[[RNG, int], tuple[np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(X, y), (X_test, y_test)]: `draw(rng, count)` from each split's own stream, rows shuffled."""
    parts = []
    for seq, count in ((train, n), (test, m_test)):
        rng = np.random.default_rng(seq)
        parts.append(_shuffled(rng, *draw(rng, count)))
    return parts


def _circles(seed, n_samples, *, n_test=None, noise=0.05, factor=0.8) -> Dataset:
    n, m_test = _sizes(n_samples, 300, n_test)
    noise = check_float("noise", noise, low=0.0)
    factor = check_float("factor", factor, low=0.0, high=1.0, low_open=True, high_open=True)
    train, test, _ = _streams(seed)
    X, y = _draw_circles(_legacy(train), n, noise, factor)
    Xt, yt = _draw_circles(_legacy(test), m_test, noise, factor) if m_test else (np.empty((0, 2)), [])
    return _classification(
        "circles",
        X,
        y,
        Xt,
        yt,
        f"two concentric circles (factor {factor}, noise {noise})",
        n_classes=2,
        class_names=("outer", "inner"),
    )


def _moons(seed, n_samples, *, n_test=None, noise=0.2) -> Dataset:
    n, m_test = _sizes(n_samples, 300, n_test)
    noise = check_float("noise", noise, low=0.0)
    train, test, _ = _streams(seed)
    X, y = _draw_moons(_legacy(train), n, noise)
    Xt, yt = _draw_moons(_legacy(test), m_test, noise) if m_test else (np.empty((0, 2)), [])
    return _classification("moons", X, y, Xt, yt, f"two interleaving half-moons (noise {noise})", n_classes=2)


def _flower(seed, n_samples, *, n_test=None, noise=0.2, a=4.0) -> Dataset:
    n, m_test = _sizes(n_samples, 400, n_test)
    noise = check_float("noise", noise, low=0.0)
    a = check_float("a", a, low=0.0, low_open=True)
    train, test, _ = _streams(seed)
    (X, y), (Xt, yt) = _train_and_test(train, test, n, m_test, lambda rng, count: _draw_flower(rng, count, noise, a))
    return _classification(
        "flower",
        X,
        y,
        Xt,
        yt,
        f"the course's planar flower: r = {a:g}·sin(4t) + noise, two classes of petals",
        n_classes=2,
        class_names=("red", "blue"),
    )


def _spirals(seed, n_samples, *, n_test=None, n_classes=2, noise=0.2, turns=1.0) -> Dataset:
    k = check_int("n_classes", n_classes, minimum=2)
    n, m_test = _sizes(n_samples, 300, n_test, minimum=k)
    noise = check_float("noise", noise, low=0.0)
    turns = check_float("turns", turns, low=0.0, low_open=True)
    train, test, _ = _streams(seed)
    (X, y), (Xt, yt) = _train_and_test(
        train, test, n, m_test, lambda rng, count: _draw_spirals(rng, count, k, noise, turns))
    return _classification(
        "spirals", X, y, Xt, yt, f"{k} interleaved spiral arms ({turns:g} turn, noise {noise})", n_classes=k
    )


def _blobs(seed, n_samples, *, n_test=None, n_classes=3, n_features=2, cluster_std=1.0, center_box=10.0):
    k = check_int("n_classes", n_classes, minimum=2)
    n_x = check_int("n_features", n_features, minimum=1)
    n, m_test = _sizes(n_samples, 300, n_test, minimum=k)
    cluster_std = check_float("cluster_std", cluster_std, low=0.0)
    box = check_float("center_box", center_box, low=0.0, low_open=True)
    train, test, shared = _streams(seed)
    # The centers are part of the distribution: drawn once, shared by the training and the test set.
    centers = box * (2.0 * uniform(np.random.default_rng(shared), (k, n_x)) - 1.0)
    (X, y), (Xt, yt) = _train_and_test(
        train, test, n, m_test, lambda rng, count: _draw_blobs(rng, count, centers, cluster_std))
    return _classification(
        "blobs",
        X,
        y,
        Xt,
        yt,
        f"{k} Gaussian blobs in {n_x}-D (std {cluster_std:g}, centers in ±{box:g})",
        n_classes=k,
    )


def _xor(seed, n_samples, *, n_test=None, noise=0.0) -> Dataset:
    n, m_test = _sizes(n_samples, 300, n_test)
    noise = check_float("noise", noise, low=0.0)
    train, test, _ = _streams(seed)
    X, y = _draw_xor(np.random.default_rng(train), n, noise)
    Xt, yt = _draw_xor(np.random.default_rng(test), m_test, noise)
    return _classification(
        "xor", X, y, Xt, yt, "XOR of the signs of two uniform coordinates in [-1, 1]²", n_classes=2
    )


# ------------------------------------------------------------------------------- the course's data


def course_circles() -> Dataset:
    """The initialization exercise's circles, bit for bit.

    The course drew them with the global state::

        np.random.seed(1); train_X, train_Y = sklearn.datasets.make_circles(n_samples=300, noise=.05)
        np.random.seed(2); test_X, test_Y = sklearn.datasets.make_circles(n_samples=100, noise=.05)

    scikit-learn draws from ``np.random.mtrand._rand`` when `random_state` is None, so passing
    ``random_state=np.random.RandomState(1)`` produces the same numbers without touching the global state.

    Returns
    -------
    Dataset
        X_train (300, 2), y_train (300,), X_test (100, 2), y_test (100,).
    """
    X, y = _draw_circles(np.random.RandomState(1), 300, 0.05, 0.8)
    Xt, yt = _draw_circles(np.random.RandomState(2), 100, 0.05, 0.8)
    return _classification(
        "course_circles",
        X,
        y,
        Xt,
        yt,
        "the course's circles: make_circles(300/100, noise .05) after np.random.seed(1)/(2)",
        n_classes=2,
        class_names=("outer", "inner"),
    )


def course_moons() -> Dataset:
    """The optimization exercise's moons, bit for bit.

    The course drew them with ``np.random.seed(3); make_moons(n_samples=300, noise=.2)``.

    Reproduced with ``random_state=np.random.RandomState(3)`` (the global state is not touched). The course
    had no test set for it: X_test has shape (0, 2).

    Returns
    -------
    Dataset
        X_train (300, 2), y_train (300,), empty test set.
    """
    X, y = _draw_moons(np.random.RandomState(3), 300, 0.2)
    return _classification(
        "course_moons",
        X,
        y,
        np.empty((0, 2)),
        [],
        "the course's moons: make_moons(300, noise .2) after np.random.seed(3)",
        n_classes=2,
    )


def course_flower() -> Dataset:
    """The course's ``load_planar_dataset()`` (400 points, ``np.random.seed(1)``), bit for bit.

    Same draws with ``RandomState(1)`` instead of the global state; rows grouped by class as in the
    course (transpose of its (2, 400) layout). There is no test set: X_test has shape (0, 2).
    """
    X, y = _draw_flower(np.random.RandomState(1), 400, 0.2, 4.0)
    return _classification(
        "course_flower",
        X,
        y,
        np.empty((0, 2)),
        [],
        "the course's load_planar_dataset(): 400 points after np.random.seed(1)",
        n_classes=2,
        class_names=("red", "blue"),
    )


def football() -> Dataset:
    """The regularization exercise's "football" data (bundled: ``gradwise/data/football.csv``).

    The French football team's goalkeeper kicks the ball; each point is a position on the pitch where a
    player then hit it with their head: ``y = 1`` (blue in the course) a French player, ``y = 0`` (red) the
    other team's. 211 training and 200 test points, 2 features.

    Provenance: converted exactly (float64 round-trip) from the ``datasets/data.mat`` file (md5
    252062681550c46ca3c069b2d027d3f3, 6,038 bytes) that accompanies the public copies of that course
    exercise: keys ``X (211, 2)``, ``y (211, 1)``, ``Xval (200, 2)``, ``yval (200, 1)``; stored as CSV with
    columns ``split,x1,x2,y``.
    """
    from importlib.resources import as_file
    from importlib.resources import files as resource_files


    with as_file(resource_files(__package__).joinpath("football.csv")) as path:
        data = dataset_from_frame(read_table(path), target="y", name="football")
    return Dataset(
        data.X_train,
        data.y_train,
        data.X_test,
        data.y_test,
        name="football",
        task="binary",
        n_classes=2,
        feature_names=data.feature_names,
        class_names=data.class_names,
        description="the course's football data: where a French player (1) or an opponent (0) "
        "headed the ball",
    )


# ------------------------------------------------------------------------------------- real data


def _sklearn_real(key: str, loader_name: str, pretty: str) -> Callable[..., Dataset]:
    def load_real(seed, n_samples, *, test_size=0.2) -> Dataset:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, loader_name)()
        X, y = np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target, dtype=np.int64)
        test_size = check_float("test_size", test_size, low=0.0, high=1.0, high_open=True)
        rng = np.random.default_rng(seed)
        if n_samples is not None:
            n = check_int("n_samples", n_samples, minimum=2)
            if n > len(y):
                raise GradwiseValueError(f"n_samples must be <= {len(y)} for {key}, got {n}")
            if n < len(y):
                keep = split_indices(len(y), (n / len(y), 1 - n / len(y)), rng, y)[0]
                X, y = X[keep], y[keep]
        train, test = split_indices(len(y), (1.0 - test_size, test_size), rng, y)
        k = len(bunch.target_names)
        return _classification(
            key,
            X[train],
            y[train],
            X[test],
            y[test],
            f"{pretty} (scikit-learn, {len(bunch.target)} examples), "
            f"stratified {1 - test_size:.0%}/{test_size:.0%} split",
            n_classes=k,
            feature_names=tuple(str(f) for f in bunch.feature_names),
            class_names=tuple(str(c) for c in bunch.target_names),
        )

    load_real.__name__ = f"_{key}"
    return load_real


# MNIST-1D (Greydanus, 2020): generation is slow (scipy interpolation), so the arrays are cached as an .npz
# in the user's cache directory, written atomically and keyed by the package version.
_MNIST1D_LOCK = threading.Lock()


def _cache_dir() -> Path | None:
    """$GRADWISE_CACHE_DIR (empty: no cache), else $XDG_CACHE_HOME/gradwise, else ~/.cache/gradwise."""
    if "GRADWISE_CACHE_DIR" in os.environ:
        value = os.environ["GRADWISE_CACHE_DIR"]
        return Path(value) if value else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gradwise"


def _generate_mnist1d(num_samples: int, generation_seed: int) -> dict[str, np.ndarray]:
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples = num_samples
    args.seed = generation_seed
    # mnist1d seeds and draws from the *global* NumPy and `random` states; put them back afterwards so
    # the caller's global state is exactly as it was (the lock keeps our own threads from interleaving).
    with _MNIST1D_LOCK:
        np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002
        try:
            data = make_dataset(args)  # local generation; never `get_dataset`, which downloads
        finally:
            np.random.set_state(np_state)  # noqa: NPY002
            random.setstate(py_state)
    return {"x": data["x"], "y": data["y"], "x_test": data["x_test"], "y_test": data["y_test"]}


def _mnist1d_arrays(num_samples: int, generation_seed: int, cache: bool) -> dict[str, np.ndarray]:
    directory = _cache_dir() if cache else None
    path = None
    if directory is not None:
        version = importlib.metadata.version("mnist1d")
        path = directory / f"mnist1d-{version}-n{num_samples}-seed{generation_seed}.npz"
        with contextlib.suppress(Exception):  # a missing or damaged cache file is simply regenerated
            with np.load(path, allow_pickle=False) as stored:
                arrays = {key: stored[key] for key in ("x", "y", "x_test", "y_test")}
            if len(arrays["x"]) + len(arrays["x_test"]) == num_samples - num_samples % 10:
                return arrays
    arrays = _generate_mnist1d(num_samples, generation_seed)
    if path is not None:
        with contextlib.suppress(OSError), atomic_open(path, "wb") as handle:
            np.savez(handle, **arrays)  # type: ignore[arg-type]  # keys x, y, x_test, y_test: never allow_pickle
    return arrays


def _mnist1d(seed, n_samples, *, generation_seed=42, cache=True) -> Dataset:
    """MNIST-1D; `seed` is not used: the data set is defined by `generation_seed` (42 is the standard one)."""
    num = 5000 if n_samples is None else check_int("n_samples", n_samples, minimum=20)
    generation_seed = check_int("generation_seed", generation_seed, minimum=0)
    arrays = _mnist1d_arrays(num, generation_seed, bool(cache))
    length = arrays["x"].shape[1]
    return _classification(
        "mnist1d",
        arrays["x"],
        arrays["y"],
        arrays["x_test"],
        arrays["y_test"],
        f"MNIST-1D: 10 digit templates as 1-D signals of length {length}, generated locally "
        f"(seed {generation_seed})",
        n_classes=10,
        feature_names=tuple(f"t{i}" for i in range(length)),
    )


# ------------------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class _Entry:
    loader: Callable[..., Dataset]
    description: str
    fixed: bool = False  # fixed data: no seed, no n_samples


_REGISTRY: dict[str, _Entry] = {
    "circles": _Entry(_circles, "two concentric circles, binary, 2-D (make_circles, noise .05); 300/100"),
    "moons": _Entry(_moons, "two interleaving half-moons, binary, 2-D (make_moons, noise .2); 300/100"),
    "flower": _Entry(_flower, "the course's planar flower (r = 4 sin 4t + noise), binary, 2-D; 400/133"),
    "spirals": _Entry(_spirals, "interleaved spiral arms (n_classes=2 by default), 2-D; 300/100"),
    "blobs": _Entry(_blobs, "Gaussian blobs (n_classes=3 by default), multiclass, 2-D; 300/100"),
    "xor": _Entry(_xor, "XOR of two uniform coordinates, binary, 2-D; 300/100"),
    "course_circles": _Entry(
        lambda seed, n: course_circles(),
        "the course's circles, bit for bit (initialization exercise); 300/100",
        True,
    ),
    "course_moons": _Entry(
        lambda seed, n: course_moons(), "the course's moons, bit for bit (optimization exercise); 300/0", True
    ),
    "course_flower": _Entry(
        lambda seed, n: course_flower(),
        "the course's planar flower, bit for bit (load_planar_dataset); 400/0",
        True,
    ),
    "football": _Entry(
        lambda seed, n: football(),
        "the course's football data (regularization exercise), binary, 2-D; 211/200",
        True,
    ),
    "iris": _Entry(
        _sklearn_real("iris", "load_iris", "Iris plants"),
        "Iris plants (scikit-learn), 3 classes, 4 features; 150 examples, 80/20",
    ),
    "wine": _Entry(
        _sklearn_real("wine", "load_wine", "Wine recognition"),
        "Wine recognition (scikit-learn), 3 classes, 13 features; 178 examples, 80/20",
    ),
    "breast_cancer": _Entry(
        _sklearn_real("breast_cancer", "load_breast_cancer", "Breast cancer Wisconsin"),
        "Breast cancer Wisconsin (scikit-learn), binary, 30 features; 569 examples, 80/20",
    ),
    "digits": _Entry(
        _sklearn_real("digits", "load_digits", "Handwritten digits 8x8"),
        "handwritten digits 8x8 (scikit-learn), 10 classes, 64 features; 1797 examples, 80/20",
    ),
    "mnist1d": _Entry(_mnist1d, "MNIST-1D, generated locally, 10 classes, 40 features; 4000/1000"),
}

_FILE_SUFFIXES = (".csv", ".npz")


def available() -> list[tuple[str, str]]:
    """The built-in data sets as ``(name, description)`` pairs, in a stable order."""
    return [(name, entry.description) for name, entry in _REGISTRY.items()]


def _looks_like_path(name: str) -> bool:
    return name.lower().endswith(_FILE_SUFFIXES) or "/" in name or os.sep in name


def load(
    name: str | os.PathLike, seed: int | None = 0, n_samples: int | None = None, **options: Any
) -> Dataset:
    """Load a built-in data set by name, or a user's ``.csv`` / ``.npz`` file by path.

    Parameters
    ----------
    name : str or path
        One of :func:`available`'s names (case-insensitive; ``-`` and ``_`` are interchangeable), or a path
        to a ``.csv`` / ``.npz`` file (then `options` go to :func:`gradwise.data.files.load_file`, e.g.
        ``target="label"``).
    seed : int or None, default 0
        Seeds every random choice: generators' draws, real data sets' train/test split. Ignored by fixed
        data (``football``, ``course_*``, ``mnist1d`` whose data is fixed by `generation_seed`, files).
    n_samples : int, optional
        Generators: size of the training set (default 300; 400 for ``flower``). Real data sets: keep a
        stratified subset of this many examples before splitting. ``mnist1d``: the total number of
        examples generated (default 5000, rounded down to a multiple of 10). Refused by fixed data.
    **options
        Per data set: generators take ``n_test`` (default ``n_samples // 3``) and ``noise``; ``circles``
        ``factor``; ``flower`` ``a``; ``spirals`` ``n_classes``, ``turns``; ``blobs`` ``n_classes``,
        ``n_features``, ``cluster_std``, ``center_box``; real data sets ``test_size`` (default 0.2);
        ``mnist1d`` ``generation_seed`` (default 42, the standard data) and ``cache`` (default True: the
        generated arrays are kept in ``$GRADWISE_CACHE_DIR`` or ``~/.cache/gradwise``).

    Returns
    -------
    Dataset

    Raises
    ------
    GradwiseValueError
        Unknown name (the message lists the available ones), bad option values, unreadable file.
    GradwiseTypeError
        An option the data set does not take.

    Examples
    --------
    >>> data = load("moons", seed=1)
    >>> data.X_train.shape, data.X_test.shape
    ((300, 2), (100, 2))
    """
    if isinstance(name, os.PathLike) or (isinstance(name, str) and _looks_like_path(name)):
        if n_samples is not None:
            raise GradwiseValueError(
                "n_samples is not supported for data files; use split() on the loaded data"
            )

        return load_file(name, **options)
    if not isinstance(name, str):
        raise GradwiseTypeError(f"name must be a data set name or a file path, got {name!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0):
        raise GradwiseValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    key = name.strip().lower().replace("-", "_")
    entry = _REGISTRY.get(key)
    if entry is None:
        close = difflib.get_close_matches(key, list(_REGISTRY), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise GradwiseValueError(
            f"unknown data set {name!r}{hint}; available: {', '.join(_REGISTRY)}; "
            f"or a path to a .csv / .npz file"
        )
    if entry.fixed and n_samples is not None:
        raise GradwiseValueError(f"n_samples is not supported for {key!r}: its data is fixed")
    accepted = [
        p.name for p in inspect.signature(entry.loader).parameters.values() if p.kind is p.KEYWORD_ONLY
    ]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        takes = f"it accepts {accepted}" if accepted else "it takes no options"
        raise GradwiseTypeError(f"load({key!r}) got unexpected option(s) {unknown}; {takes}")
    return entry.loader(seed, n_samples, **options)
