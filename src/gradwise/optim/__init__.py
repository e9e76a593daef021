"""Optimizers (GD, Momentum, RMSprop, Adam) and learning-rate schedules."""

from .optimizers import GD, OPTIMIZERS, Adam, Momentum, Optimizer, RMSprop
from .schedules import SCHEDULES, CosineDecay, ExponentialDecay, InverseTimeDecay, OneCycle, Schedule, StepDecay

__all__ = ["GD", "Momentum", "RMSprop", "Adam", "Optimizer", "OPTIMIZERS", "Schedule", "InverseTimeDecay",
           "ExponentialDecay", "StepDecay", "CosineDecay", "OneCycle", "SCHEDULES"]
