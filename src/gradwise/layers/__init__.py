"""Layers: Dense, the activations, Dropout and BatchNorm (one concept per module)."""

from .activations import ACTIVATIONS, Activation, LeakyReLU, Linear, ReLU, Sigmoid, Softmax, Tanh
from .base import CHECKING, INFERENCE, TRAINING, Layer, Mode, ParamSpec
from .batchnorm import BatchNorm
from .dense import Dense
from .dropout import Dropout

LAYER_TYPES: dict[str, type[Layer]] = {
    cls.__name__: cls
    for cls in (Dense, Dropout, BatchNorm, Sigmoid, Tanh, ReLU, LeakyReLU, Linear, Softmax)
}

__all__ = [
    "ACTIVATIONS", "CHECKING", "INFERENCE", "LAYER_TYPES", "TRAINING", "Activation", "BatchNorm", "Dense",
    "Dropout", "Layer", "LeakyReLU", "Linear", "Mode", "ParamSpec", "ReLU", "Sigmoid", "Softmax", "Tanh",
]
