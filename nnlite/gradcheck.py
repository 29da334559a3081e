"""Finite-difference gradient checking.

``numerical_grad`` estimates the gradient of a scalar function of one array by central
differences; ``gradcheck`` compares every entry of the Jacobian that autograd computes with the
finite-difference Jacobian, with ``torch.autograd.gradcheck``'s defaults and pass rule
``|analytic - numeric| <= atol + rtol * |numeric|``.
"""

from __future__ import annotations

import sys
import types
import warnings

import numpy as np

from .tensor import Tensor, enable_grad, no_grad

__all__ = ["numerical_grad", "rel_error", "gradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """An analytic gradient disagrees with its finite-difference estimate."""


def _scalar(value, who: str) -> float:
    arr = np.asarray(value.data if isinstance(value, Tensor) else value)
    if arr.size != 1:
        raise ValueError(f"{who}: f must return a scalar, got an array of shape {arr.shape}")
    return float(arr.reshape(()))


def numerical_grad(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of a scalar-valued ``f`` at ``x``.

    Args:
        f: function of one array returning a number (or a one-element array/Tensor). It is
            called with ``x`` itself, perturbed in place one element at a time, so ``f`` may
            also read ``x`` from a closure.
        x: float array of any shape (float64 for accurate results).
        h: step; ``(f(x + h e_i) - f(x - h e_i)) / (2 h)`` for each element i.

    Returns:
        float64 array of ``x.shape``. ``x`` is restored exactly afterwards, even if ``f`` raises.
    """
    if isinstance(x, Tensor):
        x = x.data
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        kind = type(x).__name__ if not isinstance(x, np.ndarray) else f"array of {x.dtype}"
        raise TypeError(f"numerical_grad: x must be a float numpy array, got {kind}")
    if not x.flags.writeable:
        raise ValueError("numerical_grad: x must be writeable (it is perturbed in place)")
    grad = np.zeros(x.shape, dtype=np.float64)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        try:
            x[idx] = old + h
            f_plus = _scalar(f(x), "numerical_grad")
            x[idx] = old - h
            f_minus = _scalar(f(x), "numerical_grad")
        finally:
            x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


def rel_error(a, b, eps: float = 1e-12) -> float:
    """Largest entrywise relative error ``max_i |a_i - b_i| / max(|a_i|, |b_i|, eps)``.

    Computed in float64 and returned as a Python float: two zeros agree (0.0), arrays with no
    entries give 0.0, a NaN gives NaN. Different shapes raise ValueError naming both (no
    broadcasting: comparing a (1,) array with a (3, 3) array is a bug, not a comparison).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: shapes {a.shape} and {b.shape} differ")
    if a.size == 0:
        return 0.0
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), eps)
    return float(np.max(np.abs(a - b) / scale))


def _as_inputs(inputs) -> tuple:
    if isinstance(inputs, Tensor):
        return (inputs,)
    return tuple(inputs)


def _output(fn, inputs) -> np.ndarray:
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    return out


def gradcheck(
    fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, raise_exception=True
) -> bool:
    """Check autograd's gradients of ``fn(*inputs)`` against central differences.

    Args:
        fn: function of the inputs returning a Tensor of any shape.
        inputs: a Tensor or a sequence of arguments; Tensors with ``requires_grad=True`` are
            checked (they should be float64) and the other arguments are passed through.
        eps, atol, rtol: finite-difference step and tolerances (PyTorch's defaults).
        raise_exception: raise :class:`GradcheckError` on failure (else return False).

    Every entry of the Jacobian d fn / d input is compared (one backward pass per output
    element and two forward passes per input element), so keep the inputs small. The inputs'
    data and ``.grad`` are restored afterwards.

    Returns:
        True when every entry satisfies ``|analytic - numeric| <= atol + rtol * |numeric|``.
    """
    inputs = _as_inputs(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input is a Tensor with requires_grad=True")
    for i in checked:
        if inputs[i].data.dtype != np.float64:
            warnings.warn(
                f"gradcheck: input {i} is {inputs[i].data.dtype}, not float64; finite "
                "differences in low precision are inaccurate and the check may fail",
                stacklevel=2,
            )
    saved_grads = [inputs[i].grad for i in checked]
    try:
        with enable_grad():
            out = _output(fn, inputs)
            n_out = out.data.size
            analytic = {i: np.zeros((n_out, inputs[i].data.size)) for i in checked}
            if out.requires_grad:
                for j in range(n_out):
                    for i in checked:
                        inputs[i].grad = None
                    seed = np.zeros(out.data.shape, dtype=out.data.dtype)
                    seed.flat[j] = 1
                    # One backward per output element through the same graph; retaining it
                    # also leaves intact any graph that fn's closure brought in from outside.
                    out.backward(seed, retain_graph=True)
                    for i in checked:
                        g = inputs[i].grad
                        if g is None:
                            continue
                        if g.shape != inputs[i].data.shape:
                            return _fail(
                                f"gradcheck: the gradient of input {i} has shape {g.shape}, "
                                f"expected the input's shape {inputs[i].data.shape}",
                                raise_exception,
                            )
                        analytic[i][j] = g.reshape(-1)
        with no_grad():
            for i in checked:
                x = inputs[i].data
                numeric = np.zeros((n_out, x.size))
                for k, idx in enumerate(np.ndindex(x.shape)):
                    old = x[idx]
                    try:
                        x[idx] = old + eps
                        # np.array copies: fn's output may be a view of x (x.reshape(-1)).
                        plus = np.array(_output(fn, inputs).data, dtype=np.float64).reshape(-1)
                        x[idx] = old - eps
                        minus = np.array(_output(fn, inputs).data, dtype=np.float64).reshape(-1)
                    finally:
                        x[idx] = old
                    numeric[:, k] = (plus - minus) / (2 * eps)
                a = analytic[i]
                bad = ~(np.abs(a - numeric) <= atol + rtol * np.abs(numeric))
                if bad.any():
                    j, k = np.argwhere(bad)[0]
                    elem = np.unravel_index(k, x.shape) if x.ndim else ()
                    out_elem = tuple(int(e) for e in np.unravel_index(j, out.data.shape))
                    where = f" (output element {out_elem})"
                    where = where if n_out > 1 else ""
                    an, nu = float(a[j, k]), float(numeric[j, k])
                    return _fail(
                        f"gradcheck: gradient mismatch for input {i} at element "
                        f"{tuple(int(e) for e in elem)}{where}: analytic {an!r} vs numeric "
                        f"{nu!r} (|difference| {abs(an - nu):.3g} > atol + rtol*|numeric| = "
                        f"{atol + rtol * abs(nu):.3g})",
                        raise_exception,
                    )
    finally:
        for i, g in zip(checked, saved_grads, strict=True):
            inputs[i].grad = g
    return True


def _fail(message: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(message)
    return False


class _CallableModule(types.ModuleType):
    """Lets ``nnlite.gradcheck(fn, inputs)`` call the function while ``nnlite.gradcheck``
    stays the module (``from nnlite.gradcheck import numerical_grad`` keeps working)."""

    def __call__(self, *args, **kwargs):
        return gradcheck(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
