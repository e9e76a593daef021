"""Exception types. Every user mistake raises one of these, so the command line can turn it into one line.

They subclass the built-in `ValueError` / `TypeError`, so code written against NumPy or scikit-learn
conventions keeps catching them.
"""


class GradwiseError(Exception):
    """Base class of every error gradwise raises on purpose."""


class GradwiseValueError(GradwiseError, ValueError):
    """An argument has the right type but a bad value (its message names the argument and the value)."""


class GradwiseTypeError(GradwiseError, TypeError):
    """An argument has the wrong type (its message names the argument and the type)."""


class TrainingDivergedError(GradwiseError, FloatingPointError):
    """Training produced a non-finite cost; the model holds the last finite weights."""


class ModelFileError(GradwiseError, ValueError):
    """A saved model or checkpoint is missing, truncated, corrupted or not a gradwise file."""


class DataWarning(UserWarning):
    """Something in a user's table that gradwise handled but the user should know: a column left out, an
    unseen category, words in a column of numbers. One line each; the command line prints them on stderr
    and lists them in the run's metrics.json under "warnings"."""


class Preempted(Exception):
    """SIGTERM or Ctrl-C stopped a command after it saved its state (a checkpoint, a trial back in the
    queue); the command line exits with 75 (EX_TEMPFAIL: try again) and prints the message. Not a
    `GradwiseError`: nothing was wrong with the input."""
