"""The small Tensor of lesson 01: a numpy array that records how it was computed.

Each operation computes its value with numpy and returns a new :class:`Tensor` that remembers
its parents (``_parents``), the operation's name (``_op``) and a function ``_backward`` that
turns the gradient of the result into one gradient per parent. That is the whole graph
recorder. What it leaves out are the pieces a student writes in lesson 01:

* the **local backward rules** (``add_backward``, ..., ``getitem_backward``, named in
  :data:`ELEMENTWISE_RULES` and :data:`SHAPE_RULES`) and ``unbroadcast``, looked up by name in
  the class attribute ``rules``;
* the **backward sweep**, ``backward(self, grad=None)``.

:func:`engine` puts the pieces together into a working class. The base class has no rules and
its ``backward`` raises ``NotImplementedError``, so the forward pass and pictures of the graph
work on their own.

The rules receive plain numpy arrays in a normalised form, so that they can stay short:
matrix products are 2-D (a 1-D operand is passed as a row ``(1, k)`` on the left or a column
``(k, 1)`` on the right, and the results are reshaped back here); reduction axes are a sorted
tuple of non-negative ints (``None`` and negative axes are converted here); a transpose's
``axes`` is a permutation of ``range(ndim)`` with non-negative entries. A rule may return a
gradient in the broadcast shape of the result: ``_make`` sums it back to the parent's shape
with ``unbroadcast``.

For real work use :class:`nnlite.Tensor`, which has the same interface and many more
operations; this class is meant to be read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = ["Tensor", "engine", "ELEMENTWISE_RULES", "SHAPE_RULES"]

#: The elementwise rules, each ``rule(a, b, grad_out) -> (grad_a, grad_b)`` or
#: ``rule(x, grad_out) -> grad_x`` (``pow_backward(x, grad_out, p)`` takes the exponent too).
ELEMENTWISE_RULES = (
    "add_backward",
    "sub_backward",
    "neg_backward",
    "mul_backward",
    "truediv_backward",
    "pow_backward",
    "exp_backward",
    "log_backward",
    "tanh_backward",
    "relu_backward",
)
#: The rules of operations that change shapes (see the module docstring for their arguments).
SHAPE_RULES = (
    "matmul_backward",
    "sum_backward",
    "mean_backward",
    "reshape_backward",
    "transpose_backward",
    "getitem_backward",
)


def _axes(axis, ndim: int, op: str) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    for ax in axes:
        if not -ndim <= ax < ndim:
            raise ValueError(f"{op}: axis {ax} is out of range for {ndim} dimensions")
    return tuple(sorted(int(ax) % ndim for ax in axes))


class Tensor:
    """A numpy array that remembers how it was computed.

    Attributes:
        data: the value, a numpy array (float64 unless float32 is given; integers become float64).
        requires_grad: whether gradients should flow back to this tensor.
        grad: None until ``backward()`` reaches this leaf; then an array shaped like ``data``.
        label: a name shown by ``nnlite.viz.draw_graph`` (optional).
        _parents: the tensors this one was computed from (empty for a leaf).
        _op: the name of the operation that made it (``""`` for a leaf).
        _backward: for a computed tensor, ``grad_out -> tuple of one gradient per parent``,
            each already in its parent's shape.
    """

    #: name -> function: the local backward rules and ``unbroadcast`` (see :func:`engine`).
    rules: Mapping[str, Callable[..., Any]] = {}

    __array_ufunc__ = None  # so that numpy_scalar * tensor calls Tensor.__rmul__

    def __init__(self, data, requires_grad=False, label=""):
        data = np.asarray(data)
        if not np.issubdtype(data.dtype, np.floating):
            data = data.astype(np.float64)
        self.data = data
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self.label = label
        self._parents = ()
        self._op = ""
        self._backward = None

    def __repr__(self):
        grad = "" if self.grad is None else f", grad={self.grad!r}"
        return f"Tensor({self.data!r}{grad})"

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    def backward(self, grad=None):
        """The backward sweep: the exercise of lesson 01 (see :func:`engine`)."""
        raise NotImplementedError(
            "this Tensor has no backward sweep yet: build one with engine(..., backward=...)"
        )

    # -- building the graph -------------------------------------------------------------------
    def _rule(self, name):
        rule = type(self).rules.get(name)
        if rule is None:
            raise NotImplementedError(f"no backward rule `{name}`: build the class with engine()")
        return rule

    def _lift(self, other):
        """A plain number or array becomes a constant Tensor with this tensor's dtype."""
        if isinstance(other, Tensor):
            return other
        return type(self)(np.asarray(other, dtype=self.data.dtype))

    def _make(self, data, parents, op, rule):
        """The result of an operation: its value, its parents, and how gradients flow back.

        ``rule(grad_out)`` returns one gradient per parent; a gradient that comes back in the
        broadcast shape is summed to its parent's shape by the ``unbroadcast`` rule.
        """
        out = type(self)(data)
        if any(p.requires_grad for p in parents):
            out.requires_grad = True
            out._parents = parents
            out._op = op

            def _backward(grad_out):
                grads = rule(grad_out)
                return tuple(
                    g if np.shape(g) == p.shape else self._rule("unbroadcast")(g, p.shape)
                    for p, g in zip(parents, grads, strict=True)
                )

            out._backward = _backward
        return out

    def _binary(self, op, name, forward, other):
        """``self (op) other`` with numpy broadcasting; a shape error names both shapes."""
        other = self._lift(other)
        try:
            data = forward(self.data, other.data)
        except ValueError:
            raise ValueError(
                f"{op}: shapes {self.shape} and {other.shape} are not broadcastable"
            ) from None
        return self._make(
            data, (self, other), op, lambda g: self._rule(name)(self.data, other.data, g)
        )

    def _unary(self, data, op, name, *args):
        return self._make(data, (self,), op, lambda g: (self._rule(name)(self.data, g, *args),))

    # -- elementwise operations ---------------------------------------------------------------
    def __add__(self, other):
        return self._binary("+", "add_backward", np.add, other)

    def __sub__(self, other):
        return self._binary("-", "sub_backward", np.subtract, other)

    def __mul__(self, other):
        return self._binary("*", "mul_backward", np.multiply, other)

    def __truediv__(self, other):
        return self._binary("/", "truediv_backward", np.divide, other)

    def __radd__(self, other):
        return self._lift(other) + self

    def __rsub__(self, other):
        return self._lift(other) - self

    def __rmul__(self, other):
        return self._lift(other) * self

    def __rtruediv__(self, other):
        return self._lift(other) / self

    def __neg__(self):
        return self._unary(-self.data, "neg", "neg_backward")

    def __pow__(self, p):
        if isinstance(p, Tensor) or np.ndim(p) != 0:
            raise TypeError("pow: only a constant scalar exponent is supported")
        return self._unary(self.data**p, f"**{p:g}", "pow_backward", p)

    def exp(self):
        return self._unary(np.exp(self.data), "exp", "exp_backward")

    def log(self):
        return self._unary(np.log(self.data), "log", "log_backward")

    def tanh(self):
        return self._unary(np.tanh(self.data), "tanh", "tanh_backward")

    def relu(self):
        return self._unary(np.maximum(self.data, 0), "relu", "relu_backward")

    # -- operations that change shapes --------------------------------------------------------
    def __matmul__(self, other):
        other = self._lift(other)
        a, b = self.data, other.data
        if a.ndim not in (1, 2) or b.ndim not in (1, 2) or a.shape[-1] != b.shape[0]:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned")
        a2 = a.reshape(1, -1) if a.ndim == 1 else a  # a vector on the left is a row
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b  # a vector on the right is a column

        def backward(g):
            ga, gb = self._rule("matmul_backward")(
                a2, b2, np.reshape(g, (a2.shape[0], b2.shape[1]))
            )
            return np.reshape(ga, a.shape), np.reshape(gb, b.shape)

        return self._make(a @ b, (self, other), "@", backward)

    def sum(self, axis=None, keepdims=False):
        axes = _axes(axis, self.data.ndim, "sum")
        data = self.data.sum(axis=axes, keepdims=keepdims)
        return self._unary(data, "sum", "sum_backward", axes, keepdims)

    def mean(self, axis=None, keepdims=False):
        axes = _axes(axis, self.data.ndim, "mean")
        data = self.data.mean(axis=axes, keepdims=keepdims)
        return self._unary(data, "mean", "mean_backward", axes, keepdims)

    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], tuple | list) else shape
        return self._unary(self.data.reshape(shape), "reshape", "reshape_backward")

    def transpose(self, axes=None):
        ndim = self.data.ndim
        axes = tuple(reversed(range(ndim))) if axes is None else tuple(int(a) % ndim for a in axes)
        return self._unary(self.data.transpose(axes), "T", "transpose_backward", axes)

    @property
    def T(self):
        return self.transpose()

    def __getitem__(self, index):
        return self._unary(self.data[index], "[]", "getitem_backward", index)


def engine(elementwise, shape, unbroadcast, backward) -> type[Tensor]:
    """A working Tensor class assembled from the pieces of lesson 01.

    Args:
        elementwise: a mapping (a module's ``vars()`` or a notebook's ``globals()``) holding the
            rules named in :data:`ELEMENTWISE_RULES`.
        shape: a mapping holding the rules named in :data:`SHAPE_RULES`.
        unbroadcast: ``unbroadcast(grad, shape)``, which sums a gradient back to an operand's
            shape.
        backward: the backward sweep, a function ``backward(self, grad=None)``.

    Returns:
        A subclass of :class:`Tensor` whose operations use these rules and whose
        ``backward()`` is ``backward``.
    """
    rules = {name: elementwise[name] for name in ELEMENTWISE_RULES}
    rules.update({name: shape[name] for name in SHAPE_RULES})
    rules["unbroadcast"] = unbroadcast
    return type("Tensor", (Tensor,), {"rules": rules, "backward": backward, "__module__": __name__})
