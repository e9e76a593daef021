"""Weight initializations of the seeds, drawn exactly as the course draws them.

Every scheme draws `rng.standard_normal((n_l, n_{l-1})) * scale` (the course's
`np.random.randn(layers_dims[l], layers_dims[l-1]) * scale`), layer by layer in order; biases are zero.

| name     | scale                        | when (seeds)                                         |
|----------|------------------------------|------------------------------------------------------|
| zeros    | 0                            | fails to break symmetry: every hidden unit identical |
| random   | `scale` (default 10)         | the course's "large random": saturates the sigmoid   |
| he       | sqrt(2 / n_{l-1})            | ReLU layers (He et al., 2015)                        |
| xavier   | sqrt(1 / n_{l-1})            | tanh layers                                          |
| glorot   | sqrt(2 / (n_{l-1} + n_l))    | the seeds' "variation"                               |
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._random import RNG, standard_normal
from ._validation import check_float
from .errors import GradwiseTypeError, GradwiseValueError

NAMES = ("zeros", "random", "he", "xavier", "glorot")


@dataclass(frozen=True)
class Initializer:
    """A named scheme; `scale` is used by `random` only (the course multiplies by 10)."""

    name: str
    scale: float = 10.0

    def __post_init__(self):
        if self.name not in NAMES:
            raise GradwiseValueError(f"init must be one of {list(NAMES)}, got {self.name!r}")
        check_float("scale", self.scale, low=0.0)

    def std(self, fan_out: int, fan_in: int) -> float:
        """The factor that multiplies a standard-normal draw for W of shape (fan_out, fan_in) = (n_l, n_{l-1}).

        Arguments in the order of `draw` and of W's shape.
        """
        if self.name == "zeros":
            return 0.0
        if self.name == "random":
            return self.scale
        if self.name == "he":
            return math.sqrt(2.0 / fan_in)
        if self.name == "xavier":
            return math.sqrt(1.0 / fan_in)
        return math.sqrt(2.0 / (fan_in + fan_out))

    def draw(self, rng: RNG, fan_out: int, fan_in: int) -> np.ndarray:
        """W of shape (n_l, n_{l-1}) = randn(n_l, n_{l-1}) * scale, in float64.

        `zeros` still consumes no random numbers, like the course's `np.zeros`.
        """
        if self.name == "zeros":
            return np.zeros((fan_out, fan_in))
        return standard_normal(rng, (fan_out, fan_in)) * self.std(fan_out, fan_in)

    def to_config(self) -> str | dict:
        """The name alone, unless `random` has a non-default scale."""
        if self.name == "random" and self.scale != 10.0:
            return {"name": self.name, "scale": self.scale}
        return self.name


def get(init: str | Initializer | dict) -> Initializer:
    """Look up an initializer by name (`"he"`), instance, or config dict."""
    if isinstance(init, Initializer):
        return init
    if isinstance(init, dict):
        # a stray key would otherwise surface as the dataclass's bare TypeError
        if "name" not in init or set(init) - {"name", "scale"}:
            raise GradwiseValueError(f"init must be a name or {{'name': ..., 'scale': ...}}, got {init!r}")
        return Initializer(**init)
    if not isinstance(init, str):
        raise GradwiseTypeError(f"init must be a name among {list(NAMES)}, got {init!r}")
    return Initializer(init.lower())
