"""The benchmark cases and their data (deterministic, generated in each worker process).

Every framework trains the *same* network on the *same* arrays: sizes, ReLU hidden layers, the output
(softmax + cross-entropy, or the course's sigmoid), the optimizer, batch size, epochs and precision.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Case:
    key: str
    title: str
    sizes: tuple[int, ...]
    m: int
    batch: int | None  # None: full batch
    epochs: int
    lr: float
    dtype: str
    kind: str  # "adam" (softmax, Adam, mini-batches), "gd" (sigmoid, full-batch GD), "gradcheck"
    frameworks: tuple[str, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n_weights(self) -> int:
        """Entries of the weight matrices (biases excluded): the GEMM work is 6·weights per example."""
        return sum(a * b for a, b in zip(self.sizes[:-1], self.sizes[1:], strict=False))

    @property
    def n_parameters(self) -> int:
        return self.n_weights + sum(self.sizes[1:])

    @property
    def flops(self) -> float:
        """Nominal training FLOPs: 2 (forward) + 2 (dW) + 2 (dX) multiply-adds per weight per example."""
        return 6.0 * self.n_weights * self.m * self.epochs


TRAINERS = ("gradwise", "torch", "sklearn", "numpy")
#: tiny networks: PyTorch also with one thread (its per-op overhead can grow with a thread pool to wake)
TRAINERS_SMALL = ("gradwise", "torch", "torch@1", "sklearn", "numpy")

CASES: dict[str, Case] = {
    "a": Case("a", "course's tiny network, mini-batch Adam", (2, 20, 3, 2), 300, 64, 200, 0.01, "float32",
              "adam", TRAINERS_SMALL,
              ("scikit-learn has no 2-unit softmax for two classes: it trains 2-20-3-1 with a logistic "
               "output",)),
    "b": Case("b", "MNIST-shaped MLP, one epoch", (784, 256, 128, 10), 60_000, 128, 1, 0.001, "float32",
              "adam", TRAINERS),
    "c": Case("c", "wide MLP, one epoch (GEMM bound)", (1024, 2048, 2048, 10), 20_000, 256, 1, 0.001,
              "float32", "adam", TRAINERS),
    "d": Case("d", "course's initialization experiment, full-batch GD", (2, 10, 5, 1), 300, None, 15_000,
              0.01, "float64", "gd", ("gradwise", "torch", "torch@1", "sklearn"),
              ("float64 as in the course; sigmoid output with binary cross-entropy; the cost of every "
               "iteration is recorded (gradwise's history, loss.item() in PyTorch, loss_curve_ in "
               "sklearn)",)),
    "e": Case("e", "gradient checking, 10k parameters", (10, 200, 40, 1), 100, None, 1, 0.0, "float64",
              "gradcheck", ("gradwise", "gradwise-sampled", "torch", "torch@1", "torch-fast", "torch-fast@1"),
              ("gradwise: every coordinate (two-sided, ε=1e-7) vs `sample=10` per parameter; PyTorch: "
               "torch.autograd.gradcheck over the flat parameter vector, full and fast_mode",)),
}

QUICK = {  # smaller workloads for a smoke run (--quick): same shapes, fewer examples / iterations
    "a": {"epochs": 50},
    "b": {"m": 15_000},
    "c": {"m": 4_096},
    "d": {"epochs": 3_000},
    "e": {"sizes": (10, 60, 20, 1)},
}


def quick(case: Case) -> Case:
    from dataclasses import replace

    return replace(case, **QUICK[case.key])


def make_data(case: Case) -> tuple[np.ndarray, np.ndarray]:
    """(X, y): X of shape (m, n_x) in the case's dtype, y integer labels of shape (m,)."""
    if case.key in ("a", "d"):
        from sklearn.datasets import make_circles

        X, y = make_circles(case.m, noise=0.05, random_state=np.random.RandomState(1))
        return np.ascontiguousarray(X, dtype=case.dtype), y.astype(np.int64)
    rng = np.random.default_rng(0)
    n_x, k = case.sizes[0], max(case.sizes[-1], 2)
    X = rng.standard_normal((case.m, n_x), dtype=np.float64 if case.dtype == "float64" else np.float32)
    teacher = rng.standard_normal((n_x, k)).astype(X.dtype)
    y = (X @ teacher).argmax(axis=1).astype(np.int64)  # a learnable labelling (a random linear teacher)
    return X, y
