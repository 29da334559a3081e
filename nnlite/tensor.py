"""Tensor: a numpy array that remembers how it was computed, and reverse-mode autograd.

Every operation on tensors returns a new Tensor whose ``_parents`` are its inputs, whose ``_op``
names the operation and whose ``_backward`` closure maps the gradient of the output to the
gradients of the inputs. ``loss.backward()`` sorts the graph topologically (without recursion)
and applies the chain rule from the output back to the leaves, accumulating into ``.grad``.

Conventions (PyTorch's, unless stated; every deliberate difference from PyTorch is listed, with
its reason, in docs/differences_from_pytorch.md):

* ``.grad`` is a plain numpy array of the tensor's shape and dtype (PyTorch stores a Tensor), so
  it compares directly with numpy results. It is None until a backward pass reaches the tensor,
  and backward passes add to it until it is reset to None (``zero_grad``).
* float64 is the default dtype. float32 data stays float32; Python numbers, bools and integer
  arrays become float64. A Python (or numpy) scalar, or a 0-d tensor, mixed with a tensor that has
  axes keeps that tensor's dtype (``x32 * 2.0`` and ``x32 * tensor(2.0)`` are float32); otherwise
  the larger dtype wins.
* Binary operations broadcast like numpy, and every gradient has exactly its input's shape.
* Comparisons (``<``, ``==``, ...) return plain boolean numpy arrays, not tensors.
* Non-differentiable points take PyTorch's choice: relu'(0) = 0, abs'(0) = 0; ``clip`` passes
  the gradient where min <= x <= max; ``maximum``/``minimum`` split it evenly on ties. For
  ``max``/``min`` see :meth:`Tensor.max`.
* ``backward`` frees the graph it went through (the saved values of its nodes): a second
  ``backward`` through any of those nodes raises PyTorch's RuntimeError, unless the first one
  was given ``retain_graph=True``. To accumulate, run the forward pass again. (PyTorch also
  lets a second backward pass through nodes that saved nothing, such as a sum; nnlite raises
  for every freed node.)
"""

from __future__ import annotations

import builtins
import functools
import math
import numbers

import numpy as np

__all__ = [
    "Tensor",
    "tensor",
    "zeros",
    "ones",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "unbroadcast",
]

_grad_enabled = True


class _GradMode:
    """Context manager (and decorator) that switches graph building off or on."""

    _enabled = True

    def __new__(cls, func=None):
        self = super().__new__(cls)
        # Bare decorator form (``@no_grad``): wrap the function right away.
        return self if func is None else self(func)

    def __enter__(self):
        global _grad_enabled
        self._prev = _grad_enabled
        _grad_enabled = self._enabled

    def __exit__(self, *exc_info):
        global _grad_enabled
        _grad_enabled = self._prev

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with type(self)():
                return func(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Within ``with no_grad():`` (or a function decorated ``@no_grad()``) no graph is built:
    results have ``requires_grad=False`` and no parents."""

    _enabled = False


class enable_grad(_GradMode):
    """Switch graph building back on inside a ``no_grad`` block."""

    _enabled = True


def is_grad_enabled() -> bool:
    """True unless inside ``no_grad``."""
    return _grad_enabled


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _as_float_array(x, dtype=None, who="Tensor") -> np.ndarray:
    """numpy array of a float dtype: floats keep theirs, bools and integers become float64."""
    if isinstance(x, (list, tuple)) and builtins.any(isinstance(v, Tensor) for v in x):
        raise TypeError(
            f"{who}: cannot build a tensor from a list of tensors (the graph would be lost); "
            "use stack() or concatenate()"
        )
    arr = np.asarray(x) if dtype is None else np.asarray(x, dtype=dtype)
    kind = arr.dtype.kind
    if kind == "f":
        return arr
    if kind in "biu":
        if dtype is not None:
            raise TypeError(f"{who}: dtype must be a floating dtype, got {arr.dtype}")
        return arr.astype(np.float64)
    raise TypeError(f"{who}: cannot make a float tensor from data of dtype {arr.dtype}")


def _operand(x):
    """The data of a non-Tensor operand: Python and numpy scalars stay scalars (so they do not
    change the tensor's dtype), anything else becomes a float array as ``Tensor(x)`` would."""
    if isinstance(x, np.generic) and x.dtype.kind in "biuf":
        return x.item()  # np.float64 subclasses float, but numpy would not treat it as weak
    if isinstance(x, (int, float)):
        return x
    return _as_float_array(x, who="operand")


def _tensor(x) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if type(x) is np.ndarray and x.dtype.kind == "f":  # fast path for input batches
        return _make(x, (), "", None)
    return Tensor(x)


def _dim(d, shape: tuple[int, ...], op: str) -> int:
    """Axis ``d`` of a tensor of ``shape`` as a non-negative index, checked as PyTorch does
    (IndexError; a 0-d tensor accepts 0 and -1)."""
    n = builtins.max(len(shape), 1)
    if not isinstance(d, numbers.Integral):
        raise TypeError(f"{op}: an axis must be an int, got {d!r}")
    if not -n <= d < n:
        raise IndexError(
            f"{op}: axis {d} is out of range for a {len(shape)}-D tensor of shape {shape}"
        )
    return int(d) % n


def _axes(axis, shape: tuple[int, ...], op: str) -> tuple[int, ...]:
    """``axis`` (None, int or tuple) as a sorted tuple of non-negative axes; () for a 0-d
    tensor, whose axis 0 (or -1) is the tensor itself (PyTorch)."""
    if axis is None:
        return tuple(range(len(shape)))
    if isinstance(axis, numbers.Integral):
        axis = (axis,)
    out = sorted(_dim(a, shape, op) for a in axis)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: axis {tuple(axis)} names the same axis more than once")
    return tuple(out) if shape else ()


def _weak(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's promotion rule for two float operands: a 0-d operand does not promote an
    operand with dimensions (``x32 * tensor(2.0)`` stays float32; numpy would give float64).
    Otherwise the larger dtype wins, as in numpy."""
    if a.dtype != b.dtype and (a.ndim == 0) != (b.ndim == 0):
        if a.ndim == 0:
            a = a.astype(b.dtype)
        else:
            b = b.astype(a.dtype)
    return a, b


def _like(x, other: Tensor) -> Tensor:
    """``x`` as a tensor; a Python or numpy scalar takes ``other``'s dtype, as a scalar operand
    of an arithmetic operator does (PyTorch's "weak" scalars)."""
    if isinstance(x, Tensor):
        return x
    v = _operand(x)
    if isinstance(v, (int, float)) and isinstance(other, Tensor):
        return Tensor(v, dtype=other.data.dtype)
    return _tensor(v)


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: the reverse of numpy broadcasting ``shape`` to
    ``grad.shape`` (sum over extra leading axes and over axes where ``shape`` has size 1)."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra < 0:
        raise ValueError(f"unbroadcast: cannot sum a gradient of shape {grad.shape} to {shape}")
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if ones:
        grad = grad.sum(axis=ones, keepdims=True)
    if grad.shape != shape:
        raise ValueError(f"unbroadcast: cannot sum a gradient of shape {grad.shape} to {shape}")
    return grad


def _broadcast_error(op: str, a, b) -> ValueError:
    return ValueError(f"{op}: shapes {np.shape(a)} and {np.shape(b)} are not broadcastable")


_new = object.__new__


def _make(data, parents: tuple, op: str, backward) -> Tensor:
    """Create the result of an operation: the generic node constructor.

    ``backward(g)`` receives the gradient of the result (an array of its shape) and returns one
    gradient (or None) per parent, in the order of ``parents``. The graph is recorded only if
    some parent requires grad and graph building is on.
    """
    out = _new(Tensor)
    out.data = data if type(data) is np.ndarray else np.asarray(data)
    out.grad = None
    out._retain = False
    if _grad_enabled:
        for p in parents:
            if p.requires_grad:
                out.requires_grad = True
                out._parents = parents
                out._op = op
                out._backward = backward
                return out
    out.requires_grad = False
    out._parents = ()
    out._op = ""
    out._backward = None
    return out


# ---------------------------------------------------------------------------------------------
# Tensor
# ---------------------------------------------------------------------------------------------


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    Args:
        data: array-like. Floating data keeps its dtype; bools and integers become float64.
        requires_grad: make this a leaf whose gradient ``backward`` computes into ``.grad``.
        dtype: optional floating dtype to convert to (e.g. ``np.float32``).

    The data is shared with a numpy array passed in when no conversion is needed, except that a
    tensor with ``requires_grad=True`` always gets its own copy: an optimizer updates it in
    place and must not change the caller's array.
    """

    __slots__ = ("data", "grad", "requires_grad", "_parents", "_op", "_backward", "_retain")
    # Make numpy hand binary operations with a Tensor on the right to the Tensor's reflected
    # methods, instead of looping over the tensor as an object.
    __array_ufunc__ = None

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        arr = _as_float_array(data, dtype)
        if requires_grad:
            arr = arr.copy()
        self.data = arr
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._parents = ()
        self._op = ""
        self._backward = None
        self._retain = False

    # -- numpy-like attributes ---------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        """Number of elements (numpy's ``size``; PyTorch's ``numel()``)."""
        return self.data.size

    def numel(self) -> int:
        return self.data.size

    @property
    def T(self) -> Tensor:
        """The tensor with its axes reversed."""
        return self.transpose()

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded operation."""
        return self._backward is None

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"bool(): the truth value of a tensor of shape {self.data.shape} is ambiguous; "
                "reduce a comparison instead, e.g. bool((t > 0).any()) or bool((t > 0).all()) "
                "(comparisons give numpy boolean arrays)"
            )
        return bool(self.data)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ""
        if self.data.dtype != np.float64:
            extra += f", dtype={self.data.dtype}"
        if self._backward is not None:
            extra += f", grad_fn=<{self._op}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __array__(self, dtype=None, copy=None):
        if dtype is None:
            return self.data.copy() if copy else self.data
        return np.array(self.data, dtype=dtype, copy=copy)

    # -- conversion ---------------------------------------------------------------------------

    def numpy(self) -> np.ndarray:
        """A copy of the data (a snapshot: later in-place updates by an optimizer do not change
        it; PyTorch's ``numpy()`` shares memory instead)."""
        return self.data.copy()

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(
                f"item(): a tensor with {self.data.size} elements cannot be converted to a "
                "Python number; only one-element tensors can"
            )
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def detach(self) -> Tensor:
        """A tensor sharing this data, cut from the graph (no grad)."""
        out = _make(self.data, (), "", None)
        return out

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place; returns self."""
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Also store ``.grad`` for this non-leaf tensor during backward."""
        if self._backward is not None:
            self._retain = True

    def argmax(self, axis=None) -> np.ndarray:
        """Indices of the maxima (numpy array, no gradient; ties go to the lower index)."""
        return self.data.argmax(axis=axis)

    def argmin(self, axis=None) -> np.ndarray:
        return self.data.argmin(axis=axis)

    # -- autograd -----------------------------------------------------------------------------

    def backward(self, gradient=None, retain_graph: bool = False) -> None:
        """Compute the gradient of this tensor with respect to every leaf that requires grad,
        and add it to their ``.grad``.

        Args:
            gradient: the gradient of some scalar with respect to this tensor (same shape). May
                be omitted only for a one-element tensor, where it defaults to 1.
            retain_graph: keep the graph, so that ``backward`` can go through it again. By
                default (as in PyTorch) the graph's saved values are freed, and a second
                ``backward`` through it raises RuntimeError.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            dt = self.data.dtype
            g = np.array(1, dt) if self.data.ndim == 0 else np.ones(self.data.shape, dt)
        else:
            data = gradient.data if isinstance(gradient, Tensor) else gradient
            g = np.array(data, dtype=self.data.dtype)
            if g.shape != self.data.shape:
                raise RuntimeError(
                    f"backward: gradient of shape {g.shape} does not match the tensor's shape "
                    f"{self.data.shape}"
                )
        owned: set[int] = set()  # ids of arrays already stored as some .grad in this pass
        if self._backward is None:
            _accumulate(self, g, owned)
            return
        order = _reverse_topological_order(self)  # raises if an earlier backward freed a node
        grads = {self: g}
        for node in order:
            g = grads.pop(node, None)
            if g is None:  # every path to it carried no gradient
                continue
            if node._retain:
                _accumulate(node, g, owned)
            # A constant operand is not a parent: zip drops its (unused) trailing gradient.
            for parent, pg in zip(node._parents, node._backward(g), strict=False):
                if pg is None:
                    continue
                if parent._backward is not None:
                    prev = grads.get(parent)
                    # Out of place: an upstream gradient may be shared with other parents.
                    grads[parent] = pg if prev is None else prev + pg
                elif parent.requires_grad:
                    _accumulate(parent, pg, owned)
        if not retain_graph:
            for node in order:
                node._backward = _freed  # drops the closure and the arrays it saved

    # -- arithmetic ---------------------------------------------------------------------------

    def _binary(self, other, fn, op):
        """(self's data, other's data, parents, fn of the two) with a readable shape error and
        PyTorch's dtype rule (see :func:`_weak`)."""
        a = self.data
        if isinstance(other, Tensor):
            b, parents = other.data, (self, other)
        else:
            b, parents = _operand(other), (self,)
        if type(b) is np.ndarray and b.dtype != a.dtype:
            a, b = _weak(a, b)
        try:
            return a, b, parents, fn(a, b)
        except ValueError:
            raise _broadcast_error(op, a, b) from None

    def __add__(self, other) -> Tensor:
        _, b, parents, data = self._binary(other, np.add, "add")
        a_shape, b_shape = self.data.shape, np.shape(b)

        def backward(g):
            return unbroadcast(g, a_shape), unbroadcast(g, b_shape)

        return _make(data, parents, "add", backward)

    __radd__ = __add__

    def __sub__(self, other) -> Tensor:
        _, b, parents, data = self._binary(other, np.subtract, "sub")
        a_shape, b_shape = self.data.shape, np.shape(b)

        def backward(g):
            return unbroadcast(g, a_shape), unbroadcast(-g, b_shape) if len(parents) == 2 else None

        return _make(data, parents, "sub", backward)

    def __rsub__(self, other) -> Tensor:
        b = _operand(other)
        a = self.data
        if type(b) is np.ndarray:
            b, a = _weak(b, a)
        try:
            data = b - a
        except ValueError:
            raise _broadcast_error("sub", b, self.data) from None
        shape = self.data.shape
        return _make(data, (self,), "sub", lambda g: (unbroadcast(-g, shape),))

    def __mul__(self, other) -> Tensor:
        a, b, parents, data = self._binary(other, np.multiply, "mul")

        def backward(g):
            ga = unbroadcast(g * b, a.shape) if self.requires_grad else None
            gb = unbroadcast(g * a, b.shape) if len(parents) == 2 and other.requires_grad else None
            return ga, gb

        return _make(data, parents, "mul", backward)

    __rmul__ = __mul__

    def __truediv__(self, other) -> Tensor:
        a, b, parents, data = self._binary(other, np.true_divide, "div")

        def backward(g):
            ga = unbroadcast(g / b, a.shape) if self.requires_grad else None
            gb = None
            if len(parents) == 2 and other.requires_grad:
                gb = unbroadcast(-g * data / b, b.shape)
            return ga, gb

        return _make(data, parents, "div", backward)

    def __rtruediv__(self, other) -> Tensor:
        b = _operand(other)
        a = self.data
        if type(b) is np.ndarray:
            b, a = _weak(b, a)
        try:
            data = b / a
        except ValueError:
            raise _broadcast_error("div", b, a) from None
        return _make(data, (self,), "div", lambda g: (unbroadcast(-g * data / a, a.shape),))

    def __neg__(self) -> Tensor:
        return _make(-self.data, (self,), "neg", lambda g: (-g,))

    def __pos__(self) -> Tensor:
        return self

    def __pow__(self, exponent) -> Tensor:
        if isinstance(exponent, Tensor):
            return _pow_tensor(self, exponent)
        p = _operand(exponent)
        a = self.data
        if type(p) is np.ndarray:
            a, p = _weak(a, p)
        try:
            data = a**p
        except ValueError:
            raise _broadcast_error("pow", a, p) from None

        def backward(g):
            with np.errstate(divide="ignore", invalid="ignore"):
                ga = g * p * a ** (p - 1)
            if np.any(np.equal(p, 0)):  # d/da a**0 is 0, also at a = 0 (PyTorch)
                ga = np.where(np.equal(p, 0), 0, ga)
            return (unbroadcast(ga, a.shape),)

        return _make(data, (self,), "pow", backward)

    def __rpow__(self, base) -> Tensor:
        b = _operand(base)
        dtype = self.data.dtype if isinstance(b, (int, float)) else None
        return _pow_tensor(Tensor(b, dtype=dtype), self)

    def __matmul__(self, other) -> Tensor:
        return matmul(self, other)

    def __rmatmul__(self, other) -> Tensor:
        return matmul(Tensor(_operand(other)), self)

    # -- comparisons: plain boolean arrays ----------------------------------------------------

    def _cmp_data(self, other):
        return other.data if isinstance(other, Tensor) else _operand(other)

    def __lt__(self, other):
        return self.data < self._cmp_data(other)

    def __le__(self, other):
        return self.data <= self._cmp_data(other)

    def __gt__(self, other):
        return self.data > self._cmp_data(other)

    def __ge__(self, other):
        return self.data >= self._cmp_data(other)

    def __eq__(self, other):
        return self.data == self._cmp_data(other)

    def __ne__(self, other):
        return self.data != self._cmp_data(other)

    # -- elementwise functions ----------------------------------------------------------------

    def exp(self) -> Tensor:
        data = np.exp(self.data)
        return _make(data, (self,), "exp", lambda g: (g * data,))

    def log(self) -> Tensor:
        a = self.data
        return _make(np.log(a), (self,), "log", lambda g: (g / a,))

    def sqrt(self) -> Tensor:
        data = np.sqrt(self.data)
        return _make(data, (self,), "sqrt", lambda g: (g / (2 * data),))

    def abs(self) -> Tensor:
        a = self.data
        return _make(np.abs(a), (self,), "abs", lambda g: (g * np.sign(a),))

    __abs__ = abs

    def tanh(self) -> Tensor:
        data = np.tanh(self.data)
        return _make(data, (self,), "tanh", lambda g: (g * (1 - data * data),))

    def sigmoid(self) -> Tensor:
        a = self.data
        e = np.exp(-np.abs(a))  # never overflows
        data = np.where(a >= 0, 1 / (1 + e), e / (1 + e))
        return _make(data, (self,), "sigmoid", lambda g: (g * data * (1 - data),))

    def relu(self) -> Tensor:
        a = self.data
        return _make(np.maximum(a, 0), (self,), "relu", lambda g: (g * (a > 0),))

    def clip(self, min=None, max=None) -> Tensor:  # noqa: A002 (numpy/PyTorch argument names)
        """Clamp to [min, max]; the gradient passes where min <= x <= max. The bounds are
        constants: a tensor given as a bound gets no gradient."""
        if min is None and max is None:
            raise ValueError("clip: at least one of min and max must be given")
        a = self.data

        def bound(v, default):
            if v is None:
                return default
            v = _operand(v.data if isinstance(v, Tensor) else v)
            return _weak(a, v)[1] if type(v) is np.ndarray else v

        lo, hi = bound(min, -np.inf), bound(max, np.inf)
        data = np.minimum(np.maximum(a, lo), hi)
        return _make(data, (self,), "clip", lambda g: (g * ((a >= lo) & (a <= hi)),))

    clamp = clip

    def maximum(self, other) -> Tensor:
        return maximum(self, other)

    def minimum(self, other) -> Tensor:
        return minimum(self, other)

    def astype(self, dtype) -> Tensor:
        """This tensor converted to another floating dtype (differentiable)."""
        old = self.data.dtype
        data = _as_float_array(self.data, dtype, who="astype")
        return _make(data, (self,), "astype", lambda g: (g.astype(old),))

    # -- reductions ---------------------------------------------------------------------------

    def sum(self, axis=None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (None, int or tuple of ints)."""
        shape = self.data.shape
        axes = _axes(axis, shape, "sum")
        data = self.data.sum(axis=axes, keepdims=keepdims)

        def backward(g):
            if not keepdims:
                g = np.expand_dims(g, axes)
            return (np.broadcast_to(g, shape),)

        return _make(data, (self,), "sum", backward)

    def mean(self, axis=None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis`` (None, int or tuple of ints)."""
        shape = self.data.shape
        axes = _axes(axis, shape, "mean")
        n = math.prod(shape[i] for i in axes)
        data = self.data.mean(axis=axes, keepdims=keepdims)

        def backward(g):
            if not keepdims:
                g = np.expand_dims(g, axes)
            return (np.broadcast_to(g / n, shape),)

        return _make(data, (self,), "mean", backward)

    def var(self, axis=None, correction: int = 1, keepdims: bool = False, unbiased=None):
        """Variance over ``axis``: sum((x - mean)**2) / (n - correction).

        ``correction=1`` (the default, as in PyTorch) is the unbiased estimate; ``unbiased``
        (bool) is PyTorch's older spelling of ``correction`` 1 or 0.
        """
        if unbiased is not None:
            correction = 1 if unbiased else 0
        shape = self.data.shape
        axes = _axes(axis, shape, "var")
        n = math.prod(shape[i] for i in axes)
        d = self.data - self.data.mean(axis=axes, keepdims=True)
        denom = builtins.max(n - correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            data = (d * d).sum(axis=axes, keepdims=keepdims) / denom

        def backward(g):
            if not keepdims:
                g = np.expand_dims(g, axes)
            with np.errstate(divide="ignore", invalid="ignore"):
                return (g * d * (2 / denom if denom else np.inf),)

        return _make(data, (self,), "var", backward)

    def std(self, axis=None, correction: int = 1, keepdims: bool = False, unbiased=None):
        """Standard deviation: the square root of :meth:`var` (same arguments). Where it is 0
        the gradient is 0, as in PyTorch (sqrt's slope there is infinite)."""
        v = self.var(axis, correction, keepdims, unbiased)
        data = np.sqrt(v.data)

        def backward(g):
            with np.errstate(divide="ignore", invalid="ignore"):
                return (np.where(data == 0, 0, g / (2 * data)),)

        return _make(data, (v,), "std", backward)

    def max(self, axis=None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axis`` (None, int or tuple of ints).

        Gradient on ties, following PyTorch: with ``axis=None`` (``torch.max()``, a full
        reduction) the gradient is split evenly among all maximal elements; with an ``axis``
        (``torch.max(dim)``) each slice's gradient goes to one element, the first maximum in
        row-major order (the lower index, as numpy's argmax).
        """
        return self._extremum(axis, keepdims, np.max, np.argmax, "max")

    def min(self, axis=None, keepdims: bool = False) -> Tensor:
        """Minimum over ``axis``; ties are handled as in :meth:`max`."""
        return self._extremum(axis, keepdims, np.min, np.argmin, "min")

    def _extremum(self, axis, keepdims, reduce, arg, op) -> Tensor:
        a = self.data
        axes = _axes(axis, a.shape, op)
        empty = [i for i in axes if a.shape[i] == 0]
        if empty and axis is None:
            raise ValueError(f"{op}: an empty tensor of shape {a.shape} has no {op}imum")
        if empty:
            raise ValueError(
                f"{op}: axis {empty[0]} of a tensor of shape {a.shape} has length 0, so its "
                f"slices have no {op}imum"
            )
        if a.ndim == 0:
            axis = None  # the one element is its own extremum
        kept = reduce(a, axis=axes, keepdims=True)
        data = (
            kept if keepdims else kept.reshape([n for i, n in enumerate(a.shape) if i not in axes])
        )

        def backward(g):
            if not keepdims:
                g = np.expand_dims(g, axes)
            if axis is None:
                mask = a == kept
                return (g * mask / int(mask.sum()),)
            # Move the reduced axes last, pick the first extremum in each slice.
            rest = [i for i in range(a.ndim) if i not in axes]
            moved = a.transpose(rest + list(axes))
            # An explicit length, not -1: another axis may be empty.
            flat = moved.reshape(moved.shape[: len(rest)] + (math.prod(a.shape[i] for i in axes),))
            idx = arg(flat, axis=-1)
            onehot = np.zeros(flat.shape, dtype=bool)
            np.put_along_axis(onehot, idx[..., None], True, axis=-1)
            mask = onehot.reshape(moved.shape).transpose(np.argsort(rest + list(axes)))
            return (g * mask,)

        return _make(data, (self,), op, backward)

    # -- shape --------------------------------------------------------------------------------

    def reshape(self, *shape) -> Tensor:
        """The same elements in a new shape (numpy's rules; one entry may be -1)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        old = self.data.shape
        try:
            data = self.data.reshape(shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {old} ({self.data.size} elements) "
                f"into shape {tuple(shape)}"
            ) from None
        return _make(data, (self,), "reshape", lambda g: (g.reshape(old),))

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge axes ``start_dim..end_dim`` (inclusive) into one."""
        shape = self.data.shape
        if not shape:
            return self.reshape(1)
        s, e = _dim(start_dim, shape, "flatten"), _dim(end_dim, shape, "flatten")
        return self.reshape(shape[:s] + (-1,) + shape[e + 1 :])

    def squeeze(self, axis=None) -> Tensor:
        """Remove axes of length 1: all of them, or the given one(s), which must have length 1
        (numpy's rule; PyTorch would leave a longer axis in place)."""
        shape = self.data.shape
        axes = _axes(range(len(shape)) if axis is None else axis, shape, "squeeze")
        long = [i for i in axes if shape[i] != 1]
        if axis is None:
            axes = tuple(i for i in axes if i not in long)
        elif long:
            raise ValueError(
                f"squeeze: axis {long[0]} of a tensor of shape {shape} has length "
                f"{shape[long[0]]}; only axes of length 1 can be removed"
            )
        return self.reshape(tuple(n for i, n in enumerate(shape) if i not in axes))

    def unsqueeze(self, axis: int) -> Tensor:
        """Insert an axis of length 1 at position ``axis`` (-ndim-1 <= axis <= ndim)."""
        shape = self.data.shape
        n = len(shape) + 1
        if not (isinstance(axis, numbers.Integral) and -n <= axis < n):
            raise IndexError(
                f"unsqueeze: axis {axis} is out of range for a {len(shape)}-D tensor of shape "
                f"{shape} (the new axis can go at {-n}..{n - 1})"
            )
        i = int(axis) % n
        return self.reshape(shape[:i] + (1,) + shape[i:])

    def transpose(self, *axes) -> Tensor:
        """``transpose()`` reverses the axes; ``transpose(d0, d1)`` swaps two axes (PyTorch,
        whatever the number of axes); ``transpose((p0, p1, ...))`` with a tuple, or with three
        or more separate entries, permutes the axes (numpy)."""
        shape = self.data.shape
        if not axes:
            return self._permute(tuple(range(len(shape)))[::-1])
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            return self._permute(_permutation(tuple(axes[0]), shape, "transpose"))
        if len(axes) == 2:
            i, j = _dim(axes[0], shape, "transpose"), _dim(axes[1], shape, "transpose")
            perm = list(range(len(shape)))
            if shape:  # a 0-d tensor has only itself to swap with
                perm[i], perm[j] = perm[j], perm[i]
            return self._permute(tuple(perm))
        return self._permute(_permutation(axes, shape, "transpose"))

    def permute(self, *dims) -> Tensor:
        """Reorder the axes: ``permute(2, 0, 1)`` (numpy's ``transpose(axes)``)."""
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return self._permute(_permutation(dims, self.data.shape, "permute"))

    def _permute(self, perm: tuple[int, ...]) -> Tensor:
        inverse = tuple(np.argsort(perm))
        data = self.data.transpose(perm)
        return _make(data, (self,), "transpose", lambda g: (g.transpose(inverse),))

    def __getitem__(self, index) -> Tensor:
        index = _index_data(index)
        a = self.data
        try:
            data = a[index]
        except IndexError as e:
            raise IndexError(f"getitem: {e} (indexing a tensor of shape {a.shape})") from None
        if not isinstance(data, np.ndarray):
            data = np.asarray(data)
        # Integer arrays may repeat an element; basic indices and boolean masks cannot.
        repeats = _has_int_array(index)

        def backward(g):
            full = np.zeros(a.shape, dtype=g.dtype)
            if repeats:
                np.add.at(full, index, g)
            else:
                full[index] = g
            return (full,)

        return _make(data, (self,), "getitem", backward)

    def __setitem__(self, index, value):
        raise TypeError(
            "nnlite tensors do not support item assignment (it would break the graph); build a "
            "new tensor with where()/concatenate(), or edit .data outside of autograd"
        )


def _permutation(dims: tuple, shape: tuple[int, ...], op: str) -> tuple[int, ...]:
    """``dims`` checked to be a permutation of the axes of ``shape``, made non-negative."""
    perm = tuple(_dim(d, shape, op) for d in dims) if shape else tuple(dims)
    if sorted(perm) != list(range(len(shape))):
        raise ValueError(
            f"{op}: axes {dims} are not a permutation of the {len(shape)} axes of a tensor of "
            f"shape {shape}"
        )
    return perm


def _index_data(index):
    if isinstance(index, tuple):
        return tuple(_index_data(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        arr = np.asarray(index)
        # An empty list selects nothing (numpy, PyTorch); np.asarray([]) would be float64.
        return arr.astype(np.intp) if arr.size == 0 else arr
    return index


def _has_int_array(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    for i in items:
        if isinstance(i, (list, np.ndarray)) and np.asarray(i).dtype.kind in "iu":
            return True
    return False


def _reverse_topological_order(root: Tensor) -> list[Tensor]:
    """The recorded (non-leaf) nodes behind ``root``, each before all of its parents.

    An iterative depth-first search: a chain of any length needs no recursion. Raises
    PyTorch's RuntimeError if a previous ``backward`` freed one of the nodes.
    """
    if root._backward is _freed:
        raise RuntimeError(_FREED_MESSAGE)
    order = []
    visited = {root}
    stack = [(root, iter(root._parents))]
    while stack:
        node, parents = stack[-1]
        for p in parents:
            if p._backward is not None and p not in visited:
                if p._backward is _freed:
                    raise RuntimeError(_FREED_MESSAGE)
                visited.add(p)
                stack.append((p, iter(p._parents)))
                break
        else:  # every parent is done: node comes after them in topological order
            stack.pop()
            order.append(node)
    order.reverse()
    return order


def _accumulate(node: Tensor, g: np.ndarray, owned: set[int]) -> None:
    """Add ``g`` to ``node.grad``, giving every ``.grad`` an array of its own."""
    if g.shape != node.data.shape:
        raise RuntimeError(
            f"internal error: a gradient of shape {g.shape} reached a tensor of shape "
            f"{node.data.shape}"
        )
    if node.grad is None:
        # A fresh array (the common case) becomes .grad as it is. Views, read-only broadcasts,
        # other dtypes and arrays already given to another tensor are copied, so that editing
        # one .grad in place never changes another.
        if (
            type(g) is not np.ndarray
            or g.base is not None
            or g.dtype != node.data.dtype
            or id(g) in owned
        ):
            g = np.array(g, dtype=node.data.dtype)
        owned.add(id(g))
        node.grad = g
    else:  # out of place (the caller may hold .grad), in the tensor's dtype
        node.grad = np.add(node.grad, g, dtype=node.data.dtype)


_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


def _freed(g):
    """The backward of a node whose graph a previous ``backward`` has freed."""
    raise RuntimeError(_FREED_MESSAGE)


# ---------------------------------------------------------------------------------------------
# Operations with several inputs, and module-level versions of the methods
# ---------------------------------------------------------------------------------------------


def _pow_tensor(base: Tensor, exponent: Tensor) -> Tensor:
    a, b = _weak(base.data, exponent.data)
    try:
        data = a**b
    except ValueError:
        raise _broadcast_error("pow", a, b) from None

    def backward(g):
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if base.requires_grad:
                ga = unbroadcast(np.where(b == 0, 0, g * b * a ** (b - 1)), a.shape)
            if exponent.requires_grad:
                # d/db a**b = a**b log a, taken as 0 where a == 0 and b >= 0 (PyTorch).
                gb = np.where((a == 0) & (b >= 0), 0, g * data * np.log(a))
                gb = unbroadcast(gb, b.shape)
        return ga, gb

    return _make(data, (base, exponent), "pow", backward)


def matmul(a, b) -> Tensor:
    """Matrix product with numpy's rules: 1-D @ 1-D is a dot product (a scalar), a 1-D
    operand is a row (left) or column (right) vector, and leading axes broadcast as a batch."""
    a, b = _tensor(a), _tensor(b)
    A, B = a.data, b.data
    try:
        data = A @ B
    except ValueError:
        if A.ndim == 0 or B.ndim == 0:
            why = "both operands need at least one axis"
        else:
            k_b = B.shape[0] if B.ndim == 1 else B.shape[-2]
            why = f"the last axis of the first ({A.shape[-1]}) must equal axis -2 of the second"
            why += f" ({k_b})"
            if A.shape[-1] == k_b:
                why = "their batch axes do not broadcast"
        raise ValueError(f"matmul: shapes {A.shape} and {B.shape} are not aligned: {why}") from None

    if A.ndim == 2 and B.ndim == 2:

        def backward(g):
            ga = g @ B.T if a.requires_grad else None
            gb = A.T @ g if b.requires_grad else None
            return ga, gb

    else:

        def backward(g):
            # Promote 1-D operands to matrices, use the 2-D rule, then undo the promotion.
            A2 = A[None, :] if A.ndim == 1 else A
            B2 = B[:, None] if B.ndim == 1 else B
            g2 = g[..., None] if B.ndim == 1 else g
            g2 = np.expand_dims(g2, -2) if A.ndim == 1 else g2
            ga = gb = None
            if a.requires_grad:
                ga = unbroadcast(g2 @ np.swapaxes(B2, -1, -2), A2.shape).reshape(A.shape)
            if b.requires_grad:
                gb = unbroadcast(np.swapaxes(A2, -1, -2) @ g2, B2.shape).reshape(B.shape)
            return ga, gb

    return _make(data, (a, b), "matmul", backward)


def maximum(a, b) -> Tensor:
    """Elementwise maximum; on ties the gradient is split evenly (PyTorch)."""
    return _extremum2(a, b, np.maximum, "maximum")


def minimum(a, b) -> Tensor:
    """Elementwise minimum; on ties the gradient is split evenly (PyTorch)."""
    return _extremum2(a, b, np.minimum, "minimum")


def _extremum2(a, b, fn, op) -> Tensor:
    a, b = _like(a, b), _like(b, a)
    A, B = _weak(a.data, b.data)
    try:
        data = fn(A, B)
    except ValueError:
        raise _broadcast_error(op, A, B) from None

    def backward(g):
        wins = (A > B) if op == "maximum" else (A < B)
        share = np.where(A == B, 0.5, wins.astype(g.dtype))
        ga = unbroadcast(g * share, A.shape) if a.requires_grad else None
        gb = unbroadcast(g * (1 - share), B.shape) if b.requires_grad else None
        return ga, gb

    return _make(data, (a, b), op, backward)


def where(condition, a, b) -> Tensor:
    """Elementwise ``a`` where ``condition`` is true, else ``b`` (all three broadcast)."""
    cond = np.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    a, b = _like(a, b), _like(b, a)
    try:
        data = np.where(cond, *_weak(a.data, b.data))
    except ValueError:
        raise ValueError(
            f"where: shapes {cond.shape}, {a.data.shape} and {b.data.shape} are not broadcastable"
        ) from None

    def backward(g):
        ga = unbroadcast(np.where(cond, g, 0), a.data.shape) if a.requires_grad else None
        gb = unbroadcast(np.where(cond, 0, g), b.data.shape) if b.requires_grad else None
        return ga, gb

    return _make(data, (a, b), "where", backward)


def concatenate(tensors, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    ts = tuple(_tensor(t) for t in tensors)
    if not ts:
        raise ValueError("concatenate: need at least one tensor")
    try:
        data = np.concatenate([t.data for t in ts], axis=axis)
    except ValueError:
        shapes = ", ".join(str(t.data.shape) for t in ts)
        raise ValueError(
            f"concatenate: shapes {shapes} cannot be joined along axis {axis}"
        ) from None
    ax = axis % data.ndim
    cuts = np.cumsum([t.data.shape[ax] for t in ts])[:-1]
    return _make(data, ts, "concatenate", lambda g: tuple(np.split(g, cuts, axis=ax)))


cat = concatenate


def stack(tensors, axis: int = 0) -> Tensor:
    """Join tensors of equal shape along a new axis."""
    ts = tuple(_tensor(t) for t in tensors)
    if not ts:
        raise ValueError("stack: need at least one tensor")
    try:
        data = np.stack([t.data for t in ts], axis=axis)
    except ValueError:
        shapes = ", ".join(str(t.data.shape) for t in ts)
        raise ValueError(f"stack: shapes {shapes} must all be equal") from None
    ax = axis % data.ndim
    return _make(data, ts, "stack", lambda g: tuple(np.moveaxis(g, ax, 0)))


def pad(x, pad_width, value: float = 0.0) -> Tensor:
    """Pad with a constant. ``pad_width`` follows numpy: an int, a ``(before, after)`` pair for
    every axis, or one pair per axis."""
    x = _tensor(x)
    ndim = x.data.ndim
    pw = np.asarray(pad_width, dtype=np.int64)
    if pw.ndim == 0 or pw.shape == (1,):
        pw = np.full((ndim, 2), pw.reshape(()))
    elif pw.shape == (2,):
        pw = np.tile(pw, (ndim, 1))
    elif pw.shape == (ndim, 1):
        pw = np.repeat(pw, 2, axis=1)
    if pw.shape != (ndim, 2) or (pw < 0).any():
        raise ValueError(
            f"pad: pad_width {pad_width!r} does not fit a tensor of shape {x.data.shape} "
            "(give non-negative (before, after) pairs)"
        )
    data = np.pad(x.data, pw, mode="constant", constant_values=value)
    inner = tuple(slice(int(lo), int(lo) + n) for (lo, _), n in zip(pw, x.data.shape, strict=True))
    return _make(data, (x,), "pad", lambda g: (g[inner],))


def tensor(data, requires_grad: bool = False, dtype=None) -> Tensor:
    """A new Tensor (like ``torch.tensor``; see :class:`Tensor`)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def zeros(*shape, dtype=np.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return Tensor(np.zeros(shape, dtype=dtype), requires_grad=requires_grad)


def ones(*shape, dtype=np.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return Tensor(np.ones(shape, dtype=dtype), requires_grad=requires_grad)


def _method(name):
    def fn(x, *args, **kwargs):
        return getattr(_tensor(x), name)(*args, **kwargs)

    fn.__name__ = name
    fn.__qualname__ = name
    fn.__doc__ = f"Module-level form of :meth:`Tensor.{name}` (accepts arrays too)."
    return fn


exp = _method("exp")
log = _method("log")
sqrt = _method("sqrt")
abs = _method("abs")  # noqa: A001
tanh = _method("tanh")
sigmoid = _method("sigmoid")
relu = _method("relu")
clip = _method("clip")
clamp = clip
sum = _method("sum")  # noqa: A001
mean = _method("mean")
var = _method("var")
std = _method("std")
max = _method("max")  # noqa: A001
min = _method("min")  # noqa: A001
reshape = _method("reshape")
transpose = _method("transpose")
permute = _method("permute")
flatten = _method("flatten")
