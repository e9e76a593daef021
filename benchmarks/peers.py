"""One trainer per framework. `prepare(framework, case, X, y)` imports the framework, builds the network
(outside the timed region) and returns `run()`, which trains it and returns a few numbers showing that
the same learning happened (last epoch's cost and accuracy).

gradwise, PyTorch and the reference NumPy loop start from the *same* initial weights (He normal drawn
by `initial_weights`), so their costs are directly comparable; scikit-learn draws its own (its API has
no supported way to set them before `fit`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from cases import Case


def initial_weights(case: Case) -> list[tuple[np.ndarray, np.ndarray]]:
    """He-normal W of shape (n_l, n_{l-1}) and zero b, float64, from a fixed seed."""
    rng = np.random.default_rng(1234)
    return [(rng.standard_normal((n, p)) * np.sqrt(2.0 / p), np.zeros(n))
            for p, n in zip(case.sizes[:-1], case.sizes[1:], strict=False)]


def prepare(framework: str, case: Case, X: np.ndarray, y: np.ndarray) -> Callable[[], dict]:
    if case.kind == "gradcheck":
        return {"gradwise": _gradwise_gradcheck, "gradwise-sampled": _gradwise_gradcheck_sampled,
                "torch": _torch_gradcheck, "torch-fast": _torch_gradcheck_fast}[framework](case, X, y)
    trainers = {"gradwise": _gradwise, "torch": _torch, "sklearn": _sklearn, "numpy": _numpy}
    return trainers[framework](case, X, y)


# ---------------------------------------------------------------------------------------------- gradwise
def _gradwise_model(case: Case):
    import gradwise as gw

    if case.kind == "gd":  # the course's experiment, bit for bit: np.random.seed(3) + He initialization
        return gw.mlp(list(case.sizes), init="he", rng=np.random.RandomState(3), dtype=case.dtype)
    output = "softmax" if case.kind == "adam" else "sigmoid"
    model = gw.mlp(list(case.sizes), hidden="relu", output=output, init="he", seed=0, dtype=case.dtype)
    params = {}
    for i, (W, b) in enumerate(initial_weights(case), start=1):
        params[f"W{i}"], params[f"b{i}"] = W, b
    model.set_parameters(params)
    return model


def _gradwise(case: Case, X, y):
    import gradwise as gw

    model = _gradwise_model(case)

    def run() -> dict:
        if case.kind == "gd":
            h = model.fit(X, y, epochs=case.epochs, learning_rate=case.lr)
        else:
            h = model.fit(X, y, epochs=case.epochs, batch_size=case.batch,
                          optimizer=gw.Adam(learning_rate=case.lr), shuffle=True)
        return {"first_cost": h["cost"][0], "cost": h["cost"][-1], "accuracy": h["accuracy"][-1]}

    return run


def _gradwise_gradcheck(case: Case, X, y, sample: int | None = None):
    import gradwise as gw

    model = _gradwise_model(case)

    def run() -> dict:
        report = gw.gradcheck(model, X, y, sample=sample)
        return {"difference": report.difference, "passed": report.passed, "checked": report.n_checked,
                "parameters": report.n_total}

    return run


def _gradwise_gradcheck_sampled(case: Case, X, y):
    return _gradwise_gradcheck(case, X, y, sample=10)


# ---------------------------------------------------------------------------------------------- PyTorch
def _torch_net(case: Case):
    import torch

    dtype = getattr(torch, case.dtype)
    layers: list = []
    for i, (W, b) in enumerate(initial_weights(case)):
        lin = torch.nn.Linear(W.shape[1], W.shape[0], dtype=dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if i < len(case.sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def _torch(case: Case, X, y):
    import torch

    net = _torch_net(case)
    if case.kind == "gd":  # the course's initial weights (np.random.seed(3)), taken from gradwise
        src = _gradwise_model(case).parameters()
        with torch.no_grad():
            for i, lin in enumerate(m for m in net if isinstance(m, torch.nn.Linear)):
                lin.weight.copy_(torch.from_numpy(src[f"W{i + 1}"]))
                lin.bias.copy_(torch.from_numpy(src[f"b{i + 1}"]))
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y)

    def run_gd() -> dict:
        opt = torch.optim.SGD(net.parameters(), lr=case.lr)
        target = yt.to(Xt.dtype).reshape(-1, 1)
        loss_fn = torch.nn.BCEWithLogitsLoss()
        costs, acc = [], 0.0
        for _ in range(case.epochs):
            opt.zero_grad(set_to_none=True)
            out = net(Xt)
            loss = loss_fn(out, target)
            loss.backward()
            opt.step()
            costs.append(loss.item())  # the cost of every iteration, as gradwise's history keeps it
            acc = ((out > 0) == (target > 0.5)).to(Xt.dtype).mean().item()
        return {"first_cost": costs[0], "cost": costs[-1], "accuracy": acc}

    def run_adam() -> dict:
        opt = torch.optim.Adam(net.parameters(), lr=case.lr)
        loss_fn = torch.nn.CrossEntropyLoss()
        gen = torch.Generator().manual_seed(0)
        m, B = Xt.shape[0], case.batch
        for _ in range(case.epochs):
            perm = torch.randperm(m, generator=gen)
            cost, correct = 0.0, 0
            for start in range(0, m, B):
                idx = perm[start:start + B]
                xb, yb = Xt[idx], yt[idx]
                opt.zero_grad(set_to_none=True)
                out = net(xb)
                loss = loss_fn(out, yb)
                loss.backward()
                opt.step()
                cost += loss.item() * xb.shape[0]  # per-epoch cost and accuracy, as gradwise's history
                correct += int((out.argmax(1) == yb).sum())
        return {"cost": cost / m, "accuracy": correct / m}

    return run_gd if case.kind == "gd" else run_adam


def _torch_gradcheck(case: Case, X, y, fast: bool = False):
    import torch

    shapes = [(W.shape, b.shape) for W, b in initial_weights(case)]
    theta0 = np.concatenate([np.concatenate([W.ravel(), b]) for W, b in initial_weights(case)])
    Xt = torch.from_numpy(X)
    target = torch.from_numpy(y).to(Xt.dtype).reshape(-1, 1)

    def J(theta):
        """The network's cost as a function of the flat parameter vector (gradwise's layout)."""
        out, offset = Xt, 0
        for i, ((n, p), _) in enumerate(shapes):
            W = theta[offset:offset + n * p].reshape(n, p)
            b = theta[offset + n * p:offset + n * p + n]
            offset += n * p + n
            out = out @ W.T + b
            if i < len(shapes) - 1:
                out = torch.relu(out)
        return torch.nn.functional.binary_cross_entropy_with_logits(out, target)

    def run() -> dict:
        theta = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
        ok = torch.autograd.gradcheck(J, (theta,), eps=1e-7, atol=1e-5, rtol=1e-3, raise_exception=False,
                                      fast_mode=fast)
        return {"passed": bool(ok), "parameters": int(theta0.size)}

    return run


def _torch_gradcheck_fast(case: Case, X, y):
    return _torch_gradcheck(case, X, y, fast=True)


# ---------------------------------------------------------------------------------------------- sklearn
def _sklearn(case: Case, X, y):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    common = dict(hidden_layer_sizes=case.sizes[1:-1], activation="relu", alpha=0.0,
                  learning_rate_init=case.lr, max_iter=case.epochs, tol=0.0, n_iter_no_change=case.epochs + 1,
                  early_stopping=False, random_state=0)
    if case.kind == "gd":  # full-batch gradient descent, no momentum, fixed step, no shuffling
        clf = MLPClassifier(solver="sgd", batch_size=X.shape[0], momentum=0.0, nesterovs_momentum=False,
                            learning_rate="constant", shuffle=False, **common)
    else:
        clf = MLPClassifier(solver="adam", batch_size=case.batch, shuffle=True, **common)

    def run() -> dict:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        if clf.coefs_[0].dtype != X.dtype:
            raise RuntimeError(f"scikit-learn computed in {clf.coefs_[0].dtype}, the data is {X.dtype}")
        return {"first_cost": clf.loss_curve_[0], "cost": clf.loss_curve_[-1],
                "dtype": str(clf.coefs_[0].dtype)}

    return run


# ---------------------------------------------------------------------------------------------- NumPy
def _numpy(case: Case, X, y):
    """The reference: a plain 60-line NumPy loop (float32, Adam over a list of arrays, X[perm] copies)."""
    dt = X.dtype
    params = [p.astype(dt) for W, b in initial_weights(case) for p in (W, b)]
    L = len(params) // 2

    def run() -> dict:
        rng = np.random.default_rng(0)
        v = [np.zeros_like(p) for p in params]
        s = [np.zeros_like(p) for p in params]
        b1, b2, eps, t = 0.9, 0.999, 1e-8, 0
        m, B = X.shape[0], case.batch
        for _ in range(case.epochs):
            perm = rng.permutation(m)
            Xs, ys = X[perm], y[perm]
            cost, correct = 0.0, 0
            for start in range(0, m, B):
                xb, yb = Xs[start:start + B], ys[start:start + B]
                nb = xb.shape[0]
                acts = [xb]
                for layer in range(L):
                    z = acts[-1] @ params[2 * layer].T + params[2 * layer + 1]
                    acts.append(np.maximum(z, 0) if layer < L - 1 else z)
                z = acts[-1]
                z = z - z.max(axis=1, keepdims=True)
                e = np.exp(z)
                p = e / e.sum(axis=1, keepdims=True)
                cost += float(-np.log(p[np.arange(nb), yb] + 1e-30).sum())
                correct += int((p.argmax(1) == yb).sum())
                dz = p
                dz[np.arange(nb), yb] -= 1
                dz /= nb
                grads = [None] * len(params)
                for layer in reversed(range(L)):
                    grads[2 * layer] = dz.T @ acts[layer]
                    grads[2 * layer + 1] = dz.sum(axis=0)
                    if layer:
                        dz = (dz @ params[2 * layer]) * (acts[layer] > 0)
                t += 1
                for p_, g, v_, s_ in zip(params, grads, v, s, strict=True):
                    v_[:] = b1 * v_ + (1 - b1) * g
                    s_[:] = b2 * s_ + (1 - b2) * g * g
                    p_ -= (case.lr / (1 - b1 ** t)) * v_ / (np.sqrt(s_ / (1 - b2 ** t)) + eps)
        return {"cost": cost / m, "accuracy": correct / m}

    return run
