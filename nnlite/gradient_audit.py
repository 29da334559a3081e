"""Gradient audit: do ``backward()`` and central differences agree?

The measurements behind lesson 01's claim, "a gradient you can trust agrees with finite
differences, in double precision":

* :func:`rule_errors`: every backward rule of a Tensor class, on shapes chosen to expose bugs
  (broadcasting pairs, non-square and 1-D matrix products, reductions over several axes,
  repeated indices), against central differences;
* :func:`mlp_gradient_errors`: dLoss/dW1 of a small 10-8-3 network with softmax cross-entropy
  on real MNIST digits (:func:`digit_features`), in float64 or float32, with an optional
  control whose tanh has lost its local derivative.

Every function takes the Tensor class ``T`` and the finite-difference function ``ngrad``
(``ngrad(f, x, h)``) to audit, so that the same code measures a student's engine or nnlite's.
"""

from __future__ import annotations

import numpy as np

__all__ = ["digit_features", "entrywise_rel_errors", "rule_errors", "mlp_gradient_errors"]


def digit_features(n_images=2000, k=10):
    """MNIST training digits 0, 1 and 2 among the first ``n_images``, reduced to ``k`` whitened
    principal components: ``(Z, labels)``."""
    from nnlite.data import load_mnist, pca_whiten

    X, y = load_mnist("train", flatten=True, normalize=True, n=n_images)
    keep = y < 3
    Z, _ = pca_whiten(X[keep], k=k)
    return Z, y[keep]


def entrywise_rel_errors(analytic, numeric, eps=1e-12):
    """``|a - n| / max(|a|, |n|, eps)`` entry by entry, in float64."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), eps)


def _cases(rng):
    def normal(*shape):
        return rng.normal(size=shape)

    def positive(*shape):
        return rng.uniform(0.5, 2.0, size=shape)

    def off_kink(*shape):  # at least 0.1 away from relu's kink at 0
        x = rng.normal(size=shape)
        return np.sign(x) * (np.abs(x) + 0.1)

    return {
        "add (3,1)+(1,4)": (lambda a, b: a + b, [normal(3, 1), normal(1, 4)]),
        "sub (2,3)-(3,)": (lambda a, b: a - b, [normal(2, 3), normal(3)]),
        "neg": (lambda a: -a, [normal(2, 3)]),
        "mul (2,3)*(3,)": (lambda a, b: a * b, [normal(2, 3), normal(3)]),
        "mul scalar*(2,3)": (lambda a, b: a * b, [normal(), normal(2, 3)]),
        "div (2,3)/(2,1)": (lambda a, b: a / b, [normal(2, 3), off_kink(2, 1) * 3]),
        "pow x**3": (lambda a: a**3, [normal(2, 3)]),
        "pow x**0.5": (lambda a: a**0.5, [positive(2, 3)]),
        "exp": (lambda a: a.exp(), [normal(2, 3)]),
        "log": (lambda a: a.log(), [positive(2, 3)]),
        "tanh": (lambda a: a.tanh(), [normal(2, 3)]),
        "relu": (lambda a: a.relu(), [off_kink(2, 3)]),
        "matmul (2,3)@(3,4)": (lambda a, b: a @ b, [normal(2, 3), normal(3, 4)]),
        "matmul (3,)@(3,4)": (lambda a, b: a @ b, [normal(3), normal(3, 4)]),
        "matmul (2,3)@(3,)": (lambda a, b: a @ b, [normal(2, 3), normal(3)]),
        "sum all": (lambda a: a.sum(), [normal(2, 3, 4)]),
        "sum axis=(0,2) keepdims": (lambda a: a.sum(axis=(0, 2), keepdims=True), [normal(2, 3, 4)]),
        "mean axis=-1": (lambda a: a.mean(axis=-1), [normal(2, 3, 4)]),
        "reshape (2,3)->(3,2)": (lambda a: a.reshape(3, 2), [normal(2, 3)]),
        "transpose (1,-1,0)": (lambda a: a.transpose((1, -1, 0)), [normal(2, 3, 4)]),
        "index [[0,2,0],[1,1,3]]": (lambda a: a[[0, 2, 0], [1, 1, 3]], [normal(3, 4)]),
        "index [1:, ::2]": (lambda a: a[1:, ::2], [normal(3, 4)]),
    }  # fmt: skip


def rule_errors(T, ngrad, seed=0):
    """Max relative error between ``backward()`` and central differences (h = 1e-6, float64),
    over every input of every case, by case name. Each output is reduced to a scalar with fixed
    random weights, so every entry of the output's gradient is exercised."""
    rng = np.random.default_rng(seed)
    errors = {}
    for name, (fn, values) in _cases(rng).items():
        weights = rng.normal(size=np.shape(fn(*[T(v) for v in values]).data))
        worst = 0.0
        for i in range(len(values)):

            def loss(v, i=i, fn=fn, values=values, weights=weights):
                args = [T(v if j == i else u) for j, u in enumerate(values)]
                return (fn(*args) * weights).sum()

            leaf = T(values[i], requires_grad=True)
            args = [leaf if j == i else T(u) for j, u in enumerate(values)]
            (fn(*args) * weights).sum().backward()
            numeric = ngrad(lambda v: loss(v).data, np.array(values[i], dtype=np.float64), 1e-6)
            worst = max(worst, float(entrywise_rel_errors(leaf.grad, numeric).max()))
        errors[name] = worst
    return errors


def mlp_gradient_errors(
    T, ngrad, X, y, seed=0, activation="tanh", dtype=np.float64, h=1e-6, forget_tanh_grad=False
):
    """Entrywise relative error between ``backward()`` and central differences for dLoss/dW1.

    The net is 10-8-3: ``logits = act(X @ W1.T + b1) @ W2.T + b2`` with mean softmax
    cross-entropy, on 32 examples drawn from ``(X, y)`` with ``seed``; weights
    ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) like PyTorch's Linear, from the same seed. With
    ``forget_tanh_grad`` the hidden layer computes tanh's value but passes gradients through
    unchanged (the control). Returns ``{"max", "median", "loss"}``.
    """
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(X), size=32, replace=False)
    inputs, labels = T(X[pick].astype(dtype)), y[pick]
    bound1, bound2 = 1 / np.sqrt(10), 1 / np.sqrt(8)
    W1 = rng.uniform(-bound1, bound1, (8, 10)).astype(dtype)
    b1 = T(rng.uniform(-bound1, bound1, 8).astype(dtype))
    W2 = T(rng.uniform(-bound2, bound2, (3, 8)).astype(dtype))
    b2 = T(rng.uniform(-bound2, bound2, 3).astype(dtype))

    def loss(w1):
        z = inputs @ w1.T + b1
        if activation == "relu":
            hidden = z.relu()
        elif forget_tanh_grad:
            hidden = z + T(np.tanh(z.data) - z.data)  # tanh's value, but the gradient of z
        else:
            hidden = z.tanh()
        logits = hidden @ W2.T + b2
        shifted = logits - T(logits.data.max(axis=1, keepdims=True))  # a constant: for stability
        log_probs = shifted - shifted.exp().sum(axis=1, keepdims=True).log()
        return -log_probs[np.arange(len(labels)), labels].mean()

    w1 = T(W1, requires_grad=True)
    value = loss(w1)
    value.backward()
    numeric = ngrad(lambda v: loss(T(v)).data, W1.copy(), h)
    err = entrywise_rel_errors(w1.grad, numeric)
    return {"max": float(err.max()), "median": float(np.median(err)), "loss": float(value.data)}
