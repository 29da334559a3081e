"""Reverse-mode differentiation for the small Tensor of lesson 01 (:mod:`nnlite.minitensor`).

nnlite's own answers to the lesson's exercises, in the form the lesson asks for: one local
backward rule per operation, ``unbroadcast``, and the backward sweep. The lesson falls back on
them when a student's version is missing or does not pass its check, so that the rest of the
chapter still runs::

    from nnlite import backprop
    from nnlite.minitensor import engine
    T = engine(vars(backprop), vars(backprop), backprop.unbroadcast, backprop.backward)

Rules take numpy arrays and return numpy arrays with the dtype of ``grad_out`` (float32 stays
float32): they multiply by Python numbers, never by float64 arrays. Their arguments come in
the normalised form :mod:`nnlite.minitensor` passes (2-D matrix products, reduction axes as a
sorted tuple of non-negative ints, a transpose's axes as a permutation).
"""

from __future__ import annotations

import numpy as np

# -- summing a broadcast gradient back ----------------------------------------------------------


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: over the leading axes ``shape`` lacks and over the axes
    where ``shape`` has size 1 (keeping them). Raises ValueError naming both shapes when
    ``shape`` cannot be broadcast to ``grad.shape``."""
    grad = np.asarray(grad)
    shape = tuple(shape)
    extra = grad.ndim - len(shape)
    if extra < 0 or any(s not in (1, g) for s, g in zip(shape, grad.shape[extra:], strict=True)):
        raise ValueError(f"unbroadcast: cannot sum a gradient of shape {grad.shape} to {shape}")
    out = grad.sum(axis=tuple(range(extra))) if extra else grad
    ones = tuple(i for i, s in enumerate(shape) if s == 1 and out.shape[i] != 1)
    if ones:
        out = out.sum(axis=ones, keepdims=True)
    return out.reshape(shape)


# -- elementwise rules ---------------------------------------------------------------------------


def add_backward(a, b, grad_out):
    """Gradients of a + b."""
    return grad_out, grad_out


def sub_backward(a, b, grad_out):
    """Gradients of a - b."""
    return grad_out, -grad_out


def neg_backward(x, grad_out):
    """Gradient of -x."""
    return -grad_out


def mul_backward(a, b, grad_out):
    """Gradients of a * b."""
    return grad_out * b, grad_out * a


def truediv_backward(a, b, grad_out):
    """Gradients of a / b."""
    return grad_out / b, -grad_out * a / (b * b)


def pow_backward(x, grad_out, p):
    """Gradient of x ** p for a constant scalar p."""
    return grad_out * p * x ** (p - 1)


def exp_backward(x, grad_out):
    """Gradient of exp(x)."""
    return grad_out * np.exp(x)


def log_backward(x, grad_out):
    """Gradient of log(x)."""
    return grad_out / x


def tanh_backward(x, grad_out):
    """Gradient of tanh(x): 1 - tanh(x)**2."""
    t = np.tanh(x)
    return grad_out * (1 - t * t)


def relu_backward(x, grad_out):
    """Gradient of max(x, 0), 0 at exactly 0 (PyTorch's convention)."""
    return grad_out * (x > 0)


# -- rules that change shapes ----------------------------------------------------------------


def matmul_backward(a, b, grad_out):
    """Gradients of a @ b for 2-D a (n, k) and b (k, m): grad_out @ b.T and a.T @ grad_out."""
    return grad_out @ b.T, a.T @ grad_out


def sum_backward(x, grad_out, axes, keepdims):
    """Gradient of x.sum(axis=axes, keepdims=keepdims), axes a sorted tuple of axes >= 0."""
    g = np.asarray(grad_out)
    if not keepdims:
        g = np.expand_dims(g, axes)
    return np.broadcast_to(g, x.shape).copy()


def mean_backward(x, grad_out, axes, keepdims):
    """Gradient of x.mean(axis=axes, keepdims=keepdims): the sum's gradient divided by n."""
    n = int(np.prod([x.shape[ax] for ax in axes]))
    return sum_backward(x, grad_out, axes, keepdims) / max(n, 1)


def reshape_backward(x, grad_out):
    """Gradient of x.reshape(...)."""
    return np.reshape(grad_out, x.shape)


def transpose_backward(x, grad_out, axes):
    """Gradient of x.transpose(axes), axes a permutation of range(x.ndim): the inverse one."""
    return np.transpose(grad_out, np.argsort(axes))


def getitem_backward(x, grad_out, index):
    """Gradient of x[index]; an entry picked several times receives the sum of its gradients."""
    grad = np.zeros(x.shape, dtype=np.result_type(x, grad_out))
    np.add.at(grad, index, grad_out)
    return grad


# -- the backward sweep ------------------------------------------------------------------------


def backward(self, grad=None):
    """Backpropagate from ``self``; add d(self)/d(leaf) into each leaf's ``.grad``.

    Kahn's algorithm, run from the output: a node passes its gradient on once every node that
    uses it has passed on theirs, so its total is complete. No recursion, so any depth works.
    """
    if grad is None:
        if self.data.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        grad = np.ones_like(self.data)
    grad = np.asarray(grad, dtype=self.data.dtype)
    if grad.shape != self.data.shape:
        raise ValueError(f"backward: grad has shape {grad.shape}, the output {self.data.shape}")

    # 1. Count, for every node, how many times it is used inside the graph.
    uses, seen, stack = {}, {id(self)}, [self]
    while stack:
        node = stack.pop()
        for parent in node._parents:
            uses[id(parent)] = uses.get(id(parent), 0) + 1
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)

    # 2. Visit a node once all its uses have sent their gradient; sum what arrives.
    totals, ready = {id(self): grad}, [self]
    while ready:
        node = ready.pop()
        g = totals.pop(id(node))
        if not node._parents:  # a leaf: accumulate across backward() calls
            if node.requires_grad:
                g = np.asarray(g, dtype=node.data.dtype)
                node.grad = g.copy() if node.grad is None else node.grad + g
            continue
        for parent, g_parent in zip(node._parents, node._backward(g), strict=True):
            key = id(parent)
            totals[key] = g_parent if key not in totals else totals[key] + g_parent
            uses[key] -= 1
            if uses[key] == 0:
                ready.append(parent)
