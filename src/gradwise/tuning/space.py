"""The search space: which hyperparameters are searched, over which range, on which scale.

The seeds' advice on hyperparameter tuning (Improving Deep Neural Networks, week 3), made concrete:

- **Try random values, don't use a grid.** With a grid of 5×5 you try 5 learning rates; with 25 random
  points you try 25. The default sampler is therefore Optuna's ``RandomSampler``.
- **Use an appropriate scale.** The learning rate α from 0.0001 to 1 sampled uniformly puts 90% of the
  samples between 0.1 and 1; sampling ``r ~ U[log10 low, log10 high]`` and ``α = 10^r`` puts the same
  number of samples in every decade. For the averaging parameter β of momentum / Adam (0.9 … 0.999),
  sample ``1 − β`` on a log scale: β = 0.9 averages over ~10 values, β = 0.999 over ~1000, and the result
  is far more sensitive near 1.
- **Coarse to fine.** After a first round, zoom into the region where the best points are and sample more
  densely there (:meth:`SearchSpace.narrow`).
- **Most important first:** α; then β, the mini-batch size and the number of hidden units; then the number
  of layers and the learning-rate decay. :data:`DEFAULT_SPACE` lists them in that order.

A :class:`Dimension` is one hyperparameter's range: fixed, a float or int range on a linear / log /
``1 − x`` log / power-of-two scale (optionally with 0 also possible), or a list of choices. It maps to one
Optuna distribution (plus a ``<name>_zero`` flag when 0 is possible), so every trial's sampled values and
ranges are stored by Optuna itself.

Ranges are written ``LOW:HIGH`` (optionally ``LOW:HIGH:SCALE``), ``0|LOW:HIGH`` (zero or the range), a
comma list ``a,b,c`` (choices) or a single value (fixed) — the same syntax on the command line
(``--learning-rate 1e-4:1e-1``) and in a TOML file's ``[space]`` table, which also takes tables such as
``learning_rate = {low = 1e-4, high = 1e-1, log = true}``.
"""

from __future__ import annotations

import math
import numbers
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

from ..errors import GradwiseTypeError, GradwiseValueError

__all__ = ["Dimension", "SearchSpace", "DEFAULT_SPACE", "HYPERPARAMETERS", "parse_dimension"]

SCALES = ("linear", "log", "one_minus_log", "pow2")
OPTIMIZERS = ("gd", "momentum", "rmsprop", "adam")
HIDDEN = ("relu", "leaky_relu", "tanh", "sigmoid")
INITS = ("zeros", "random", "he", "xavier", "glorot")


# ------------------------------------------------------------------------------------------ checks


def _positive(name: str, v: float) -> None:
    if v <= 0:
        raise GradwiseValueError(f"{name} must be > 0, got {v:g}")


def _non_negative(name: str, v: float) -> None:
    if v < 0:
        raise GradwiseValueError(f"{name} must be >= 0, got {v:g}")


def _beta(name: str, v: float) -> None:
    if not 0 <= v < 1:
        raise GradwiseValueError(f"{name} must be in [0, 1), got {v:g}")


def _keep(name: str, v: float) -> None:
    if not 0 < v <= 1:
        raise GradwiseValueError(f"{name} must be in (0, 1] (1 keeps every unit), got {v:g}")


def _at_least(minimum: int) -> Callable[[str, float], None]:
    def check(name: str, v: float) -> None:
        if v < minimum:
            raise GradwiseValueError(f"{name} must be >= {minimum}, got {v:g}")

    return check


def _one_of(options: tuple[str, ...]) -> Callable[[str, Any], None]:
    def check(name: str, v: Any) -> None:
        if v not in options:
            raise GradwiseValueError(f"{name} must be one of {list(options)}, got {v!r}")

    return check


@dataclass(frozen=True)
class Hyperparameter:
    """What a hyperparameter is: its value type, the scale a range gets by default, its valid values."""

    type: type
    scale: str
    check: Callable[[str, Any], None]
    help: str


#: Every hyperparameter a trial can set; anything else in a space is refused with its name.
HYPERPARAMETERS: dict[str, Hyperparameter] = {
    "learning_rate": Hyperparameter(float, "log", _positive, "α, the learning rate (log scale)"),
    "beta1": Hyperparameter(float, "one_minus_log", _beta,
                            "β of momentum / Adam's β1, sampled through 1 − β on a log scale"),
    "beta2": Hyperparameter(float, "one_minus_log", _beta, "Adam's β2 (RMSprop's β), through 1 − β"),
    "batch_size": Hyperparameter(int, "pow2", _at_least(1), "mini-batch size (powers of two)"),
    "hidden_units": Hyperparameter(int, "log", _at_least(1), "units in each hidden layer"),
    "layers": Hyperparameter(int, "linear", _at_least(0), "number of hidden layers"),
    "decay": Hyperparameter(float, "log", _non_negative,
                            "learning-rate decay rate: α = α0 / (1 + rate · epoch)"),
    "keep_prob": Hyperparameter(float, "linear", _keep, "dropout keep_prob of the hidden layers"),
    "l2": Hyperparameter(float, "log", _non_negative, "L2 regularization λ (0 possible)"),
    "batchnorm": Hyperparameter(bool, "linear", lambda n, v: None, "batch norm in the hidden layers"),
    "optimizer": Hyperparameter(str, "linear", _one_of(OPTIMIZERS), "gd, momentum, rmsprop or adam"),
    "epochs": Hyperparameter(int, "linear", _at_least(1), "passes over the training split"),
    "shift": Hyperparameter(int, "linear", _at_least(0), "augmentation: random shift of a 1-D signal"),
    "noise": Hyperparameter(float, "linear", _non_negative, "augmentation: Gaussian noise std"),
    "hidden": Hyperparameter(str, "linear", _one_of(HIDDEN), "hidden activation"),
    "init": Hyperparameter(str, "linear", _one_of(INITS), "weight initialization"),
}


# --------------------------------------------------------------------------------------- dimension


@dataclass(frozen=True)
class Dimension:
    """The range of one hyperparameter.

    Parameters
    ----------
    name : str
        A key of :data:`HYPERPARAMETERS`.
    kind : {"fixed", "float", "int", "choice"}
    low, high : number
        Bounds of a range, inclusive, in the hyperparameter's own units (β, not 1 − β; the batch size, not
        its log2).
    scale : {"linear", "log", "one_minus_log", "pow2"}
        ``log``: ``x = 10^r``, ``r ~ U[log10 low, log10 high]``; ``one_minus_log``: ``1 − x`` log-uniform
        in ``[1 − high, 1 − low]`` (Optuna parameter ``one_minus_<name>``); ``pow2``: ``x = 2^k``, ``k`` a
        uniform integer in ``[log2 low, log2 high]`` (Optuna parameter ``log2_<name>``).
    zero : bool
        0 is possible too: a flag ``<name>_zero`` (True/False) is sampled first, then the range if False.
    choices : tuple
    value : the fixed value
    """

    name: str
    kind: str
    low: float | int | None = None
    high: float | int | None = None
    scale: str = "linear"
    zero: bool = False
    choices: tuple = ()
    value: Any = None

    # ---------------------------------------------------------------- construction and checks
    def __post_init__(self) -> None:
        spec = _spec(self.name)
        if self.kind not in ("fixed", "float", "int", "choice"):
            raise GradwiseValueError(
                f"{self.name}: kind must be fixed, float, int or choice, got {self.kind!r}")
        if self.kind == "fixed":
            object.__setattr__(self, "value", _coerce(self.name, spec, self.value))
            spec.check(self.name, self.value)
            return
        if self.kind == "choice":
            if not self.choices:
                raise GradwiseValueError(f"{self.name}: a choice needs at least one value")
            values = tuple(_coerce(self.name, spec, c) for c in self.choices)
            for v in values:
                spec.check(self.name, v)
            if len(set(values)) != len(values):
                raise GradwiseValueError(f"{self.name}: repeated choices in {list(values)}")
            object.__setattr__(self, "choices", values)
            return
        if spec.type not in (int, float):
            raise GradwiseValueError(f"{self.name} takes a value or a list of choices, not a range")
        if self.scale not in SCALES:
            raise GradwiseValueError(f"{self.name}: scale must be one of {list(SCALES)}, got {self.scale!r}")
        kind = "int" if spec.type is int else "float"
        if self.kind != kind:
            raise GradwiseValueError(f"{self.name} is {'an integer' if kind == 'int' else 'a real number'}")
        low, high = (_coerce(self.name, spec, v) for v in (self.low, self.high))
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        spec.check(self.name, low)
        spec.check(self.name, high)
        if low > high:
            raise GradwiseValueError(f"{self.name}: the range {low:g}:{high:g} is empty (low > high)")
        if self.scale == "log" and low <= 0:
            raise GradwiseValueError(
                f"{self.name}: a log-scale range needs low > 0, got {low:g}:{high:g} "
                f"(write 0|{high / 1000:g}:{high:g} to make 0 possible as well)")
        if self.scale == "pow2":
            if kind != "int":
                raise GradwiseValueError(f"{self.name}: the pow2 scale is for integers")
            for v in (low, high):
                if v < 1 or v & (v - 1):
                    raise GradwiseValueError(f"{self.name}: pow2 bounds must be powers of two, got {v}")
        if self.scale == "one_minus_log":
            if kind != "float" or not (0 <= low and high < 1):
                raise GradwiseValueError(
                    f"{self.name}: the one_minus_log scale needs 0 <= low <= high < 1, got {low:g}:{high:g}")

    @property
    def searched(self) -> bool:
        return self.kind != "fixed"

    @property
    def param_name(self) -> str:
        """The name Optuna stores the sampled value under."""
        if self.scale == "one_minus_log" and self.kind == "float":
            return f"one_minus_{self.name}"
        if self.scale == "pow2" and self.kind == "int":
            return f"log2_{self.name}"
        return self.name

    @property
    def zero_name(self) -> str:
        return f"{self.name}_zero"

    def distribution(self):
        """The Optuna distribution of :attr:`param_name` (None for a fixed value)."""
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        if self.kind == "fixed":
            return None
        if self.kind == "choice":
            return CategoricalDistribution(list(self.choices))
        assert self.low is not None and self.high is not None  # a range: __post_init__ set both
        if self.scale == "one_minus_log":
            return FloatDistribution(1.0 - self.high, 1.0 - self.low, log=True)
        if self.scale == "pow2":
            return IntDistribution(int(self.low).bit_length() - 1, int(self.high).bit_length() - 1)
        if self.kind == "int":
            return IntDistribution(int(self.low), int(self.high), log=self.scale == "log")
        return FloatDistribution(float(self.low), float(self.high), log=self.scale == "log")

    # ---------------------------------------------------------------- sampling
    def suggest(self, trial) -> Any:
        """Sample this hyperparameter in an Optuna trial and return its value in its own units."""
        if self.kind == "fixed":
            return self.value
        if self.zero and trial.suggest_categorical(self.zero_name, [False, True]):
            return 0 if self.kind == "int" else 0.0
        dist = self.distribution()
        if self.kind == "choice":
            raw = trial.suggest_categorical(self.param_name, list(self.choices))
        elif self.kind == "int":
            raw = trial.suggest_int(self.param_name, dist.low, dist.high, log=dist.log)
        else:
            raw = trial.suggest_float(self.param_name, dist.low, dist.high, log=dist.log)
        return self.from_param(raw)

    def from_param(self, raw: Any) -> Any:
        """The hyperparameter's value from the value Optuna stored under :attr:`param_name`."""
        if self.scale == "one_minus_log" and self.kind == "float":
            return 1.0 - float(raw)
        if self.scale == "pow2" and self.kind == "int":
            return 2 ** int(raw)
        return raw

    # ---------------------------------------------------------------- coarse to fine
    def narrow(self, values: list[Any], margin: float = 0.1) -> Dimension:
        """A finer range spanning the given values (those of the best trials), within this range.

        Numeric ranges become ``[min, max]`` of the values, widened on each side by `margin` × the width of
        this range on its own scale (log10, log10(1 − x), log2 or linear), and clipped to this range; a
        zero-or-range keeps 0 only if some of the values are 0 (and becomes fixed at 0 if all are). A
        choice becomes fixed when all the values agree, and otherwise keeps its choices (Optuna refuses to
        change a categorical parameter's choices within one study).
        """
        if self.kind == "fixed" or not values:
            return self
        if self.kind == "choice":
            distinct = set(values)
            return Dimension(self.name, "fixed", value=values[0]) if len(distinct) == 1 else self
        nonzero = [v for v in values if v != 0] if self.zero else list(values)
        if not nonzero:
            return Dimension(self.name, "fixed", value=0 if self.kind == "int" else 0.0)
        assert self.low is not None and self.high is not None  # a range: __post_init__ set both
        forward, backward = _transforms(self.scale)
        lo_t, hi_t = sorted((forward(self.low), forward(self.high)))
        pad = margin * (hi_t - lo_t)
        points = [forward(v) for v in nonzero]
        new_lo = backward(max(lo_t, min(points) - pad))
        new_hi = backward(min(hi_t, max(points) + pad))
        new_lo, new_hi = sorted((new_lo, new_hi))
        new_lo, new_hi = max(new_lo, self.low), min(new_hi, self.high)  # undo rounding past the bounds
        if self.kind == "int":
            if self.scale == "pow2":
                new_lo, new_hi = min(nonzero), max(nonzero)
            else:
                new_lo, new_hi = int(math.floor(new_lo)), int(math.ceil(new_hi))
                new_lo, new_hi = max(new_lo, int(self.low)), min(new_hi, int(self.high))
        zero = self.zero and len(nonzero) < len(values)
        return replace(self, low=new_lo, high=new_hi, zero=zero)

    # ---------------------------------------------------------------- text and JSON
    def describe(self) -> str:
        """The range in the command-line syntax, e.g. ``1e-04:0.1 log`` or ``0|1e-05:1 log``."""
        if self.kind == "fixed":
            return _fmt(self.value)
        if self.kind == "choice":
            return ",".join(_fmt(c) for c in self.choices)
        text = f"{_fmt(self.low)}:{_fmt(self.high)}"
        if self.zero:
            text = "0|" + text
        return f"{text} {self.scale}"

    def to_dict(self) -> dict:
        if self.kind == "fixed":
            return {"kind": "fixed", "value": self.value}
        if self.kind == "choice":
            return {"kind": "choice", "choices": list(self.choices)}
        return {"kind": self.kind, "low": self.low, "high": self.high, "scale": self.scale, "zero": self.zero}

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> Dimension:
        data = dict(data)
        if "choices" in data:
            data["choices"] = tuple(data["choices"])
        return cls(name, **data)


def _transforms(scale: str) -> tuple[Callable[[float], float], Callable[[float], float]]:
    if scale == "log":
        return math.log10, lambda t: 10.0**t
    if scale == "one_minus_log":
        return (lambda x: math.log10(1.0 - x)), (lambda t: 1.0 - 10.0**t)
    if scale == "pow2":
        return math.log2, lambda t: 2.0**t
    return float, float


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _spec(name: str) -> Hyperparameter:
    if not isinstance(name, str) or name not in HYPERPARAMETERS:
        raise GradwiseValueError(
            f"unknown hyperparameter {name!r}; the search space takes {', '.join(HYPERPARAMETERS)}")
    return HYPERPARAMETERS[name]


def _coerce(name: str, spec: Hyperparameter, value: Any) -> Any:
    """A value of the hyperparameter's type, from a number, a bool or a word."""
    if spec.type is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "1", "false", "no",
                                                                "off", "0"):
            return value.strip().lower() in ("true", "yes", "on", "1")
        raise GradwiseValueError(f"{name} must be true or false, got {value!r}")
    if spec.type is str:
        if not isinstance(value, str):
            raise GradwiseValueError(f"{name} must be a word, got {value!r}")
        return value.strip().lower()
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise GradwiseValueError(f"{name} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise GradwiseValueError(f"{name} must be a finite number, got {value!r}")
    if spec.type is int:
        value = cast(float, value)  # typeshed's Real lacks __int__; int, float, NumPy numbers have it
        if float(value) != int(value):
            raise GradwiseValueError(f"{name} must be an integer, got {value!r}")
        return int(value)
    return float(value)


# ------------------------------------------------------------------------------------------ parsing


def parse_dimension(name: str, spec: Any) -> Dimension:
    """A :class:`Dimension` from the command-line / TOML syntax.

    ``"1e-4:1e-1"`` a range on the hyperparameter's default scale, ``"1e-4:1e-1:linear"`` on a given
    scale, ``"0|1e-5:1"`` zero or the range, ``"32,64,128"`` or a list: choices, anything else: fixed. In
    TOML a table ``{low, high, log, scale, zero, choices, value}`` works as well.

    Examples
    --------
    >>> parse_dimension("learning_rate", "1e-4:1e-1").describe()
    '0.0001:0.1 log'
    >>> parse_dimension("beta1", "0.9:0.999").param_name
    'one_minus_beta1'
    """
    hp = _spec(name)
    if isinstance(spec, Dimension):
        return spec
    if isinstance(spec, Mapping):
        table = dict(spec)
        unknown = set(table) - {"low", "high", "log", "scale", "zero", "choices", "value"}
        if unknown:
            raise GradwiseValueError(f"{name}: unknown key(s) {sorted(unknown)} in its table")
        if "value" in table:
            return Dimension(name, "fixed", value=table["value"])
        if "choices" in table:
            return Dimension(name, "choice", choices=tuple(table["choices"]))
        if "low" not in table or "high" not in table:
            raise GradwiseValueError(f"{name}: a range table needs low and high")
        scale = table.get("scale") or ("log" if table.get("log") else
                                       ("linear" if table.get("log") is False else hp.scale))
        return _range(name, hp, table["low"], table["high"], scale, bool(table.get("zero", False)))
    if isinstance(spec, list | tuple):
        return Dimension(name, "choice", choices=tuple(spec))
    if not isinstance(spec, str):
        return Dimension(name, "fixed", value=spec)
    text = spec.strip()
    zero = False
    if text.startswith("0|"):
        zero, text = True, text[2:].strip()
    if ":" in text:
        parts = [p.strip() for p in text.split(":")]
        if len(parts) not in (2, 3) or not all(parts):
            raise GradwiseValueError(f"{name}: expected LOW:HIGH or LOW:HIGH:SCALE, got {spec!r}")
        scale = parts[2].lower() if len(parts) == 3 else hp.scale
        return _range(name, hp, parts[0], parts[1], scale, zero)
    if zero:
        raise GradwiseValueError(f"{name}: 0| must be followed by a range LOW:HIGH, got {spec!r}")
    if "," in text:
        return Dimension(name, "choice", choices=tuple(p.strip() for p in text.split(",") if p.strip()))
    return Dimension(name, "fixed", value=text)


def _range(name: str, hp: Hyperparameter, low: Any, high: Any, scale: str, zero: bool) -> Dimension:
    scale = {"lin": "linear", "uniform": "linear", "log2": "pow2"}.get(scale, scale)
    if scale not in SCALES:
        raise GradwiseValueError(f"{name}: scale must be one of {list(SCALES)}, got {scale!r}")
    if hp.type not in (int, float):
        raise GradwiseValueError(f"{name} takes a value or a list of choices, not a range")
    if hp.type is int and scale == "one_minus_log":
        raise GradwiseValueError(f"{name}: the one_minus_log scale is for numbers in [0, 1)")
    if hp.type is float and scale == "pow2":
        raise GradwiseValueError(f"{name}: the pow2 scale is for integers")
    kind = "int" if hp.type is int else "float"
    return Dimension(name, kind, low=_coerce(name, hp, low), high=_coerce(name, hp, high), scale=scale,
                     zero=zero)


# ------------------------------------------------------------------------------------------- space


def _default_dimensions() -> dict[str, Dimension]:
    # In the seeds' order of importance: α; β, mini-batch size, hidden units; layers, decay; then the rest.
    d = Dimension
    return {
        "learning_rate": d("learning_rate", "float", 1e-4, 1e-1, "log"),
        "beta1": d("beta1", "float", 0.9, 0.999, "one_minus_log"),
        "batch_size": d("batch_size", "int", 32, 512, "pow2"),
        "hidden_units": d("hidden_units", "int", 16, 512, "log"),
        "layers": d("layers", "int", 1, 3, "linear"),
        "decay": d("decay", "float", 1e-3, 1.0, "log", zero=True),
        "keep_prob": d("keep_prob", "float", 0.5, 1.0, "linear"),
        "l2": d("l2", "float", 1e-4, 1.0, "log", zero=True),
        "beta2": d("beta2", "fixed", value=0.999),
        "batchnorm": d("batchnorm", "fixed", value=False),
        "optimizer": d("optimizer", "fixed", value="adam"),
        "epochs": d("epochs", "fixed", value=30),
        "shift": d("shift", "fixed", value=0),
        "noise": d("noise", "fixed", value=0.0),
        "hidden": d("hidden", "fixed", value="relu"),
        "init": d("init", "fixed", value="he"),
    }


@dataclass(frozen=True)
class SearchSpace:
    """An ordered set of :class:`Dimension` s, one per hyperparameter of :data:`HYPERPARAMETERS`.

    Examples
    --------
    >>> space = SearchSpace.default().override({"learning_rate": "1e-3:1e-1", "batchnorm": True})
    >>> config = space.suggest(trial)            # inside an Optuna objective
    >>> fine = space.narrow([cfg_1, cfg_2, cfg_3])  # coarse to fine, around the best configurations
    """

    dimensions: dict[str, Dimension] = field(default_factory=_default_dimensions)

    @classmethod
    def default(cls) -> SearchSpace:
        """The seeds' space: α 1e-4..1e-1 (log), β 0.9..0.999 (1 − β log), mini-batch 32..512 (powers
        of two), hidden units 16..512 (log), 1..3 layers, decay 0 or 1e-3..1 (log), keep_prob 0.5..1,
        λ 0 or 1e-4..1 (log); Adam, ReLU, He init, 30 epochs, no batch norm, no augmentation."""
        return cls()

    def override(self, specs: Mapping[str, Any] | None) -> SearchSpace:
        """A copy with some dimensions replaced; values in the syntax of :func:`parse_dimension`."""
        dims = dict(self.dimensions)
        for name, spec in (specs or {}).items():
            key = name.replace("-", "_")
            dims[key] = parse_dimension(key, spec)
        return SearchSpace(dims)

    @classmethod
    def from_toml(cls, path: str | os.PathLike, base: SearchSpace | None = None) -> SearchSpace:
        """Read the ``[space]`` table of a TOML file on top of `base` (default: :meth:`default`)."""
        path = Path(path)
        try:
            with open(path, "rb") as handle:
                document = tomllib.load(handle)
        except FileNotFoundError:
            raise GradwiseValueError(f"space file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise GradwiseValueError(f"{path} is not valid TOML: {exc}") from None
        except UnicodeDecodeError as exc:
            raise GradwiseValueError(f"{path} is not a UTF-8 text file ({exc.reason} at byte {exc.start})") from None
        unknown = set(document) - {"space"}
        if "space" not in document or unknown:
            raise GradwiseValueError(
                f"{path} must hold one [space] table of hyperparameter ranges"
                + (f"; unknown top-level key(s) {sorted(unknown)}" if unknown else ""))
        if not isinstance(document["space"], dict):
            raise GradwiseValueError(f"{path}: [space] must be a table")
        try:
            return (base or cls.default()).override(document["space"])
        except GradwiseValueError as exc:
            raise GradwiseValueError(f"{path}: {exc}") from None

    # ---------------------------------------------------------------- use
    def __getitem__(self, name: str) -> Dimension:
        return self.dimensions[name]

    def __iter__(self):
        return iter(self.dimensions.values())

    @property
    def searched(self) -> list[str]:
        """Names of the hyperparameters that are sampled (not fixed), in order."""
        return [d.name for d in self if d.searched]

    def suggest(self, trial) -> dict[str, Any]:
        """Sample every dimension in the trial (in order) and return the full configuration."""
        return {d.name: d.suggest(trial) for d in self}

    def narrow(self, configs: Iterable[Mapping[str, Any]], margin: float = 0.1) -> SearchSpace:
        """The fine space around `configs` (the best trials' configurations); see :meth:`Dimension.narrow`."""
        configs = list(configs)
        return SearchSpace({
            name: dim.narrow([c[name] for c in configs if name in c], margin) for name, dim in
            self.dimensions.items()})

    def describe(self) -> str:
        width = max(len(n) for n in self.dimensions)
        lines = []
        for d in self:
            mark = "searched" if d.searched else "fixed"
            lines.append(f"  {d.name:<{width}}  {mark:<8}  {d.describe()}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {name: dim.to_dict() for name, dim in self.dimensions.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SearchSpace:
        return cls({name: Dimension.from_dict(name, spec) for name, spec in data.items()})


#: The seeds' default space (see :meth:`SearchSpace.default`).
DEFAULT_SPACE = SearchSpace.default()


def check_types(values: Mapping[str, Any]) -> None:
    """Raise if a configuration holds an unknown hyperparameter (used for user-supplied dictionaries)."""
    for name in values:
        if name not in HYPERPARAMETERS:
            raise GradwiseTypeError(
                f"unknown hyperparameter {name!r}; known: {', '.join(HYPERPARAMETERS)}")
