"""gradwise: every practical aspect of training deep networks, real, checkable and fast.

    import gradwise as gw
    model = gw.mlp([2, 20, 3, 1], hidden="relu", output="sigmoid", init="he", l2=0.7, seed=3)
    history = model.fit(X, y, epochs=1000, optimizer=gw.Adam(), batch_size=64)
    print(gw.gradcheck(model, X, y))
"""

from ._version import __version__
from .batch_log import BatchLog
from .callbacks import Callback, Checkpoint, EarlyStopping, TerminateOnNaN
from .data import Preprocessor, Standardizer, augment, datasets, split
from .diagnose import diagnose
from .ensemble import Ensemble
from .errors import (
    DataWarning,
    GradwiseError,
    GradwiseTypeError,
    GradwiseValueError,
    ModelFileError,
    TrainingDivergedError,
)
from .gradcheck import GradCheckReport, gradcheck, gradcheck_fn
from .initializers import Initializer
from .io import load, save
from .layers import BatchNorm, Dense, Dropout, LeakyReLU, Linear, ReLU, Sigmoid, Softmax, Tanh
from .liveplot import LivePlot
from .lr_find import LRFindResult, lr_find
from .model import Sequential, mlp
from .monitor import Monitor
from .optim import GD, Adam, CosineDecay, ExponentialDecay, InverseTimeDecay, Momentum, OneCycle, RMSprop, StepDecay
from .plateau import ReduceLROnPlateau
from .tracking import CSVLogger, TensorBoard
from .training import History, fit
from .tuning import SearchSpace, TuneResult, tune


def __getattr__(name: str):
    # Heavier optional parts load on first use: `gw.sklearn` imports scikit-learn's estimator machinery.
    if name == "sklearn":
        import importlib

        return importlib.import_module(".sklearn", __name__)
    raise AttributeError(f"module 'gradwise' has no attribute {name!r}")

__all__ = [
    "Monitor",
    "__version__",
    "Sequential", "mlp", "fit", "History", "Ensemble", "Ensemble",
    "Dense", "Dropout", "BatchNorm", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Linear", "Softmax",
    "Initializer",
    "GD", "Momentum", "RMSprop", "Adam", "InverseTimeDecay", "ExponentialDecay", "StepDecay", "CosineDecay", "OneCycle",
    "Callback", "EarlyStopping", "TerminateOnNaN", "Checkpoint", "ReduceLROnPlateau", "BatchLog",
    "CSVLogger", "TensorBoard", "LivePlot",
    "gradcheck", "gradcheck_fn", "GradCheckReport", "lr_find", "LRFindResult",
    "tune", "TuneResult", "SearchSpace",
    "datasets", "split", "Standardizer", "Preprocessor", "augment", "save", "load", "diagnose",
    "GradwiseError", "GradwiseValueError", "GradwiseTypeError", "TrainingDivergedError", "ModelFileError",
    "DataWarning",
]
