"""Explicit random generators. gradwise never touches NumPy's global random state.

A model accepts a `numpy.random.Generator` or a legacy `numpy.random.RandomState`; the latter lets
`rng=np.random.RandomState(3)` reproduce the course's `np.random.seed(3); np.random.randn(...)` bit for bit.
These helpers hide the few method names that differ between the two.
"""

from __future__ import annotations

import numbers
from typing import cast

import numpy as np

from .errors import GradwiseTypeError, GradwiseValueError

RNG = np.random.Generator | np.random.RandomState


def make_rng(seed: object = None, rng: object = None) -> RNG:
    """`rng` wins if given; else `np.random.default_rng(seed)` (seed None means fresh OS entropy)."""
    if rng is not None:
        if seed is not None:
            raise GradwiseTypeError("give either seed= or rng=, not both")
        if not isinstance(rng, np.random.Generator | np.random.RandomState):
            raise GradwiseTypeError(
                f"rng must be a numpy.random.Generator or RandomState, got {type(rng).__name__}"
            )
        return rng
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise GradwiseTypeError(f"seed must be an integer or None, got {seed!r}")
    if seed is not None and seed < 0:
        raise GradwiseValueError(f"seed must be non-negative, got {seed}")
    return np.random.default_rng(cast("int | None", seed))  # an Integral (checked above) or None


def standard_normal(rng: RNG, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_normal(shape)


def uniform(rng: RNG, shape: tuple[int, ...]) -> np.ndarray:
    """Uniform [0, 1) samples in float64 (the course's `np.random.rand`)."""
    if isinstance(rng, np.random.RandomState):
        return rng.random_sample(shape)
    return rng.random(shape)


def permutation(rng: RNG, m: int) -> np.ndarray:
    return rng.permutation(m)


def get_state(rng: RNG) -> dict:
    """A JSON-serialisable snapshot of the generator, for checkpoints."""
    if isinstance(rng, np.random.RandomState):
        # legacy=True (the default) gives the tuple; numpy's stubs pick the dict overload for get_state()
        name, keys, pos, has_gauss, cached = cast("tuple[str, np.ndarray, int, int, float]", rng.get_state())
        return {"kind": "RandomState", "keys": keys.tolist(), "pos": int(pos),
                "has_gauss": int(has_gauss), "cached_gaussian": float(cached)}
    state = rng.bit_generator.state
    return {"kind": "Generator", "bit_generator": _jsonable(state)}


def set_state(rng: RNG, state: dict) -> None:
    if state["kind"] == "RandomState":
        if not isinstance(rng, np.random.RandomState):
            raise GradwiseTypeError("checkpoint holds a RandomState state but the model uses a Generator")
        rng.set_state(("MT19937", np.asarray(state["keys"], dtype=np.uint32), state["pos"],
                       state["has_gauss"], state["cached_gaussian"]))
    else:
        if not isinstance(rng, np.random.Generator):
            raise GradwiseTypeError("checkpoint holds a Generator state but the model uses a RandomState")
        rng.bit_generator.state = state["bit_generator"]


def rng_from_state(state: dict) -> RNG:
    if state["kind"] == "RandomState":
        rng: RNG = np.random.RandomState()
    else:
        name = state["bit_generator"]["bit_generator"]
        rng = np.random.Generator(getattr(np.random, name)())
    set_state(rng, state)
    return rng


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.integer):
        return int(obj)
    return obj
