import pickle

import numpy as np
import pytest

from gradwise.data import augment
from gradwise.data.augment import Compose, Flip, Noise, Shift
from gradwise.errors import GradwiseTypeError, GradwiseValueError


def _edge_shift(x, k):
    """Reference: shift a 1-D signal right by k, padding with the edge values."""
    n = len(x)
    return np.array([x[min(max(j - k, 0), n - 1)] for j in range(n)])


def test_shift_moves_a_known_signal_by_exactly_k():
    X = np.tile(np.arange(10.0) ** 2, (6, 1))
    out = augment.shift(3)(X, np.random.default_rng(42))
    expected_k = np.random.default_rng(42).integers(-3, 3, size=6, endpoint=True)
    assert len(set(expected_k.tolist())) > 1
    for i, k in enumerate(expected_k):
        np.testing.assert_array_equal(out[i], _edge_shift(X[i], k))


def test_shift_of_a_spike_lands_where_k_says():
    X = np.zeros((200, 21))
    X[:, 10] = 1.0
    out = augment.shift(4)(X, np.random.default_rng(0))
    k = np.argmax(out, axis=1) - 10
    np.testing.assert_array_equal(k, np.random.default_rng(0).integers(-4, 4, size=200, endpoint=True))
    assert set(k.tolist()) == set(range(-4, 5))  # every shift in [-4, 4] occurs
    np.testing.assert_array_equal(out.sum(axis=1), 1.0)  # the spike is moved, never duplicated


def test_shift_pads_with_edge_values():
    X = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])
    rng = np.random.RandomState(0)
    k = np.random.RandomState(0).randint(-2, 3, size=1)[0]
    out = augment.shift(2)(X, rng)
    np.testing.assert_array_equal(out[0], _edge_shift(X[0], k))
    wide = augment.shift(50)(np.tile(X, (40, 1)), np.random.default_rng(1))
    assert set(np.unique(wide)) <= {1.0, 2.0, 3.0, 4.0, 5.0}


def test_shift_zero_is_a_copy_and_nd_batches_shift_the_last_axis():
    X = np.random.default_rng(0).standard_normal((4, 8))
    out = augment.shift(0)(X, np.random.default_rng(0))
    np.testing.assert_array_equal(out, X)
    assert out is not X and not np.shares_memory(out, X)
    X3 = np.arange(2 * 3 * 6, dtype=np.float32).reshape(2, 3, 6)
    out3 = augment.shift(2)(X3, np.random.default_rng(5))
    k = np.random.default_rng(5).integers(-2, 2, size=2, endpoint=True)
    for i in range(2):
        for c in range(3):  # all channels of one example move together
            np.testing.assert_array_equal(out3[i, c], _edge_shift(X3[i, c], k[i]))


@pytest.mark.parametrize(
    "aug",
    [
        augment.shift(2),
        augment.noise(0.1),
        augment.flip((2, 3)),
        augment.compose(augment.shift(1), augment.noise(0.1)),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_never_in_place_and_dtype_kept(aug, dtype):
    X = np.random.default_rng(0).standard_normal((16, 6)).astype(dtype)
    before = X.copy()
    out = aug(X, np.random.default_rng(1))
    np.testing.assert_array_equal(X, before)
    assert out.dtype == dtype and out.shape == X.shape and not np.shares_memory(out, X)


def test_shift_and_flip_keep_integer_dtypes():
    X = np.arange(24, dtype=np.uint8).reshape(4, 6)
    assert augment.shift(1)(X, np.random.default_rng(0)).dtype == np.uint8
    assert augment.flip((2, 3))(X, np.random.default_rng(0)).dtype == np.uint8


def test_noise_has_the_requested_standard_deviation():
    X = np.full((500, 40), 3.0)
    out = augment.noise(0.5)(X, np.random.default_rng(0))
    assert abs((out - X).mean()) < 0.01
    assert abs((out - X).std() - 0.5) < 0.01
    np.testing.assert_array_equal(augment.noise(0.0)(X, np.random.default_rng(0)), X)
    legacy = augment.noise(0.5)(X, np.random.RandomState(0))
    assert abs((legacy - X).std() - 0.5) < 0.01
    with pytest.raises(TypeError, match="X_batch must hold floats"):
        augment.noise(0.1)(np.zeros((2, 2), dtype=int), np.random.default_rng(0))


def test_flip_mirrors_images_left_right():
    image = np.arange(12.0).reshape(3, 4)  # height 3, width 4
    X = np.tile(image.ravel(), (5, 1))
    always = augment.flip((3, 4), p=1.0)(X, np.random.default_rng(0))
    np.testing.assert_array_equal(always, np.tile(image[:, ::-1].ravel(), (5, 1)))
    twice = augment.flip((3, 4), p=1.0)(always, np.random.default_rng(0))
    np.testing.assert_array_equal(twice, X)
    np.testing.assert_array_equal(augment.flip((3, 4), p=0.0)(X, np.random.default_rng(0)), X)


def test_flip_keeps_channels_together_and_flips_about_half():
    rgb = np.arange(2 * 3 * 3.0).reshape(2, 3, 3)  # height 2, width 3, 3 channels
    out = augment.flip((2, 3, 3), p=1.0)(rgb.reshape(1, -1), np.random.default_rng(0))
    np.testing.assert_array_equal(out.reshape(2, 3, 3), rgb[:, ::-1, :])
    X = np.tile(np.arange(6.0), (2000, 1))
    out = augment.flip((2, 3))(X, np.random.default_rng(3))
    flipped = ~np.all(out == X, axis=1)
    assert 0.45 < flipped.mean() < 0.55
    expected = np.random.default_rng(3).random(2000) < 0.5
    np.testing.assert_array_equal(flipped, expected)


def test_compose_applies_in_order():
    X = np.zeros((3, 5))
    X[:, 0] = 1.0
    aug = augment.compose(augment.flip((1, 5), p=1.0), augment.shift(0))
    np.testing.assert_array_equal(aug(X, np.random.default_rng(0))[:, -1], 1.0)
    empty = augment.compose()
    out = empty(X, np.random.default_rng(0))
    assert out is not X and np.array_equal(out, X)


def test_reprs_are_useful():
    assert repr(augment.shift(3)) == "Shift(max_shift=3)"
    assert repr(augment.noise(0.1)) == "Noise(std=0.1)"
    assert repr(augment.flip((28, 28))) == "Flip(image_shape=(28, 28), p=0.5)"
    assert repr(augment.compose(augment.shift(3), augment.noise(0.05))) == (
        "Compose(augmentations=(Shift(max_shift=3), Noise(std=0.05)))"
    )


@pytest.mark.parametrize(
    "aug",
    [Shift(2), Noise(0.3), Flip((2, 3), p=0.7), Compose((Shift(1), Noise(0.1), Flip((2, 3))))],
)
def test_picklable_with_the_same_behaviour(aug):
    clone = pickle.loads(pickle.dumps(aug))
    assert clone == aug and repr(clone) == repr(aug)
    X = np.random.default_rng(0).standard_normal((8, 6))
    np.testing.assert_array_equal(clone(X, np.random.default_rng(9)), aug(X, np.random.default_rng(9)))


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: augment.shift(-1), ValueError, "max_shift must be >= 0"),
        (lambda: augment.shift(1.5), TypeError, "max_shift must be an integer"),
        (lambda: augment.noise(-0.1), ValueError, "std must be >= 0"),
        (lambda: augment.noise(float("nan")), ValueError, "std must be finite"),
        (lambda: augment.noise("big"), TypeError, "std must be a number"),
        (lambda: augment.flip((28,)), ValueError, "image_shape must be"),
        (lambda: augment.flip(784), TypeError, "image_shape must be a tuple"),
        (lambda: augment.flip((28, 0)), ValueError, "image_shape must be >= 1"),
        (lambda: augment.flip((28, 28), p=1.5), ValueError, "p must be <= 1"),
        (lambda: augment.compose(augment.shift(1), "noise"), TypeError, "augmentation 1 must be callable"),
    ],
)
def test_bad_arguments_are_rejected(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_bad_calls_are_rejected():
    rng = np.random.default_rng(0)
    with pytest.raises(GradwiseTypeError, match="rng must be a numpy.random.Generator"):
        augment.shift(1)(np.zeros((2, 3)), 0)
    with pytest.raises(GradwiseTypeError, match="X_batch must be a numpy array"):
        augment.shift(1)([[1.0, 2.0]], rng)
    with pytest.raises(GradwiseValueError, match=r"X_batch must have shape \(batch, n_x\)"):
        augment.shift(1)(np.zeros(5), rng)
    with pytest.raises(GradwiseValueError, match=r"flip: X_batch must have shape \(batch, 12\)"):
        augment.flip((3, 4))(np.zeros((2, 10)), rng)
