"""Strict comparisons, run in the trusted parent on plain data decoded from the sandbox (R7).

Every helper converts the student's answer itself (``float64``, exact shape first, finiteness,
never broadcasting, never ``==`` on anything but plain decoded data) and raises
:class:`~nnlite.grading.errors.WrongAnswer` with a grader-authored ``message`` and, for visible
tests, a ``detail`` that may quote values.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nnlite.grading.errors import GraderError, WrongAnswer

__all__ = [
    "assert_close",
    "assert_equal",
    "assert_shape",
    "assert_dtype",
    "assert_true",
    "as_array",
    "fail",
]

_NUMERIC = "biuf"


def _prefix(msg: str | None, text: str) -> str:
    return f"{msg}: {text}" if msg else text


def _kind(value: Any) -> str:
    """A short safe description of a decoded value's type."""
    if value is None:
        return "None"
    if isinstance(value, bool | np.bool_):
        return "a bool"
    if isinstance(value, int | np.integer):
        return "an int"
    if isinstance(value, float | np.floating):
        return "a float"
    if isinstance(value, complex | np.complexfloating):
        return "a complex number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, tuple):
        return f"a tuple of {len(value)}"
    if isinstance(value, dict):
        return "a dict"
    return "a value of another type"


def _shape_text(shape: tuple) -> str:
    return f"{shape}" + (" (a scalar)" if shape == () else "")


def as_array(got: Any, *, msg: str | None = None, allow_complex: bool = False) -> np.ndarray:
    """The student's answer as a plain numeric ndarray (original dtype), or WrongAnswer.

    Accepts arrays, numpy scalars, Python numbers and (nested) lists/tuples of numbers that form
    a rectangular array. Refuses None, strings, dicts, ragged lists, object and string arrays.
    """
    if isinstance(got, str | bytes | dict) or got is None:
        raise WrongAnswer(_prefix(msg, f"returned {_kind(got)}, expected numbers"))
    if isinstance(got, np.ndarray | np.generic):
        arr = np.asarray(got)
        if type(arr) is not np.ndarray:
            arr = arr.view(np.ndarray)
    elif isinstance(got, bool | int | float | complex | list | tuple):
        try:
            with np.errstate(all="ignore"):
                arr = np.array(got)
        except (ValueError, TypeError, OverflowError, RecursionError, MemoryError):
            raise WrongAnswer(
                _prefix(msg, f"returned {_kind(got)} that is not a rectangular array of numbers")
            ) from None
    else:
        raise WrongAnswer(_prefix(msg, f"returned {_kind(got)}, expected numbers"))
    kinds = _NUMERIC + ("c" if allow_complex else "")
    if arr.dtype.kind not in kinds:
        what = "a list" if isinstance(got, list | tuple) else "an array"
        raise WrongAnswer(_prefix(msg, f"returned {what} that does not hold plain numbers"))
    return arr


def _check_dtype(arr: np.ndarray, dtype: Any, msg: str | None) -> None:
    want = np.dtype(dtype)
    if arr.dtype != want:
        raise WrongAnswer(_prefix(msg, f"wrong dtype {arr.dtype.name}, expected {want.name}"))


def _index_text(idx: tuple) -> str:
    return (
        "()"
        if idx == ()
        else f"({', '.join(str(int(i)) for i in idx)}{',' if len(idx) == 1 else ''})"
    )


def _close_array(
    got: Any,
    expected: Any,
    rtol: float,
    atol: float,
    equal_nan: bool,
    dtype: Any,
    msg: str | None,
    hint: str | None,
) -> None:
    exp = np.asarray(expected)
    if exp.dtype.kind == "c":
        raise GraderError("assert_close compares real numbers; compare .real and .imag")
    exp = exp.astype(np.float64)
    arr = as_array(got, msg=msg)
    orig_dtype = arr.dtype
    if dtype is not None:
        _check_dtype(arr, dtype, msg)
    if arr.shape != exp.shape:
        raise WrongAnswer(
            _prefix(
                msg, f"wrong shape {_shape_text(arr.shape)}, expected {_shape_text(exp.shape)}"
            ),
            hint=hint,
        )
    with np.errstate(all="ignore"):
        val = arr.astype(np.float64)
    exp_nan = np.isnan(exp)
    if exp_nan.any() and not equal_nan:
        raise GraderError("the expected value contains NaN: pass equal_nan=True")
    got_nan = np.isnan(val)
    if (got_nan & ~exp_nan).any():
        n = int((got_nan & ~exp_nan).sum())
        raise WrongAnswer(
            _prefix(msg, "result contains NaN"),
            detail=f"{n} of {val.size} elements are NaN",
            hint=hint,
        )
    if (exp_nan & ~got_nan).any():
        raise WrongAnswer(_prefix(msg, "expected NaN where the result has a number"), hint=hint)
    exp_inf = np.isinf(exp)
    got_inf = np.isinf(val)
    if (got_inf & ~exp_inf).any():
        if orig_dtype.kind == "f" and orig_dtype.itemsize < 8:
            text = f"result contains inf (overflow in {orig_dtype.name}?)"
        else:
            text = "result contains inf"
        raise WrongAnswer(_prefix(msg, text), hint=hint)
    if exp_inf.any() and not np.array_equal(val[exp_inf], exp[exp_inf]):
        raise WrongAnswer(
            _prefix(msg, "expected an infinite value where the result differs"), hint=hint
        )
    finite = ~(exp_nan | exp_inf)
    with np.errstate(all="ignore"):
        err = np.abs(val - exp)
        tol = atol + rtol * np.abs(exp)
        bad = finite & ~(err <= tol)
    if not bad.any():
        return
    err_f = np.where(bad, err, -1.0)
    idx = np.unravel_index(int(np.argmax(err_f)), err.shape) if err.ndim else ()
    nbad = int(bad.sum())
    detail = (
        f"max abs error {float(err[idx]):.3g} at index {_index_text(idx)}: "
        f"got {float(val[idx])!r}, expected {float(exp[idx])!r}"
    )
    if val.size > 1:
        detail += f"; {nbad} of {val.size} elements differ"
    text = "values differ from the expected result"
    if orig_dtype.kind == "f" and orig_dtype.itemsize < 8:
        text += f" (your result is {orig_dtype.name}; compute in float64)"
    raise WrongAnswer(_prefix(msg, text), detail=detail, hint=hint)


def assert_close(
    got: Any,
    expected: Any,
    rtol: float = 1e-7,
    atol: float = 0.0,
    *,
    equal_nan: bool = False,
    dtype: Any = None,
    msg: str | None = None,
    hint: str | None = None,
) -> None:
    """Assert that ``got`` equals ``expected`` within ``atol + rtol * |expected|``, elementwise.

    * ``got`` is converted to a plain float64 array (lists/tuples of numbers accepted when they
      form the right shape; ndarray subclasses stripped); its shape must equal ``expected``'s
      exactly (no broadcasting; a scalar is shape ``()``).
    * NaN/inf in ``got`` fail unless ``expected`` has NaN/inf at the same place (NaN expected
      requires ``equal_nan=True``).
    * ``dtype``: also require the answer's own dtype (e.g. ``np.float32`` for "float32 in,
      float32 out").
    * Structures: when ``expected`` is a tuple (or a dict), ``got`` must be a tuple/list of the
      same length (a dict with the same keys) and each element is compared in turn.
    * ``msg`` prefixes the messages ("gradient of x: wrong shape ..."); ``hint`` is shown with a
      failure in addition to the test's ``@pytest.mark.hint``.
    """
    if isinstance(expected, tuple):
        if not isinstance(got, tuple | list):
            raise WrongAnswer(
                _prefix(msg, f"returned {_kind(got)}, expected a tuple of {len(expected)}"),
                hint=hint,
            )
        if len(got) != len(expected):
            raise WrongAnswer(
                _prefix(msg, f"returned {len(got)} values, expected {len(expected)}"), hint=hint
            )
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            sub = f"{msg}, element {i}" if msg else f"element {i}"
            assert_close(g, e, rtol, atol, equal_nan=equal_nan, dtype=dtype, msg=sub, hint=hint)
        return
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            raise WrongAnswer(_prefix(msg, f"returned {_kind(got)}, expected a dict"), hint=hint)
        if set(map(repr, got)) != set(map(repr, expected)):
            raise WrongAnswer(_prefix(msg, "the dict has different keys than expected"), hint=hint)
        for key, e in expected.items():
            sub = f"{msg}, key {key!r}" if msg else f"key {key!r}"
            assert_close(
                got[key], e, rtol, atol, equal_nan=equal_nan, dtype=dtype, msg=sub, hint=hint
            )
        return
    _close_array(got, expected, rtol, atol, equal_nan, dtype, msg, hint)


def assert_equal(
    got: Any, expected: Any, *, dtype: Any = None, msg: str | None = None, hint: str | None = None
) -> None:
    """Exact equality: numbers, bools, strings, arrays (same shape, equal values), tuples,
    lists and dicts of them. ``True`` does not equal ``1`` and a float does not equal a string.
    """
    if isinstance(expected, str):
        if not isinstance(got, str) or got != expected:
            raise WrongAnswer(
                _prefix(msg, "wrong result"), detail=f"expected {expected!r}", hint=hint
            )
        return
    if isinstance(expected, bool | np.bool_):
        if not isinstance(got, bool | np.bool_):
            raise WrongAnswer(_prefix(msg, f"returned {_kind(got)}, expected a bool"), hint=hint)
        if bool(got) != bool(expected):
            raise WrongAnswer(
                _prefix(msg, "wrong result"), detail=f"expected {bool(expected)}", hint=hint
            )
        return
    if expected is None:
        if got is not None:
            raise WrongAnswer(_prefix(msg, f"returned {_kind(got)}, expected None"), hint=hint)
        return
    if isinstance(expected, tuple | dict):
        if isinstance(expected, dict):
            if not isinstance(got, dict) or set(map(repr, got)) != set(map(repr, expected)):
                raise WrongAnswer(_prefix(msg, "wrong dict keys"), hint=hint)
            items = [(f"key {k!r}", got[k], v) for k, v in expected.items()]
        else:
            if not isinstance(got, tuple | list) or len(got) != len(expected):
                raise WrongAnswer(
                    _prefix(msg, f"returned {_kind(got)}, expected a tuple of {len(expected)}"),
                    hint=hint,
                )
            items = [
                (f"element {i}", g, e) for i, (g, e) in enumerate(zip(got, expected, strict=True))
            ]
        for label, g, e in items:
            assert_equal(g, e, dtype=dtype, msg=f"{msg}, {label}" if msg else label, hint=hint)
        return
    exp = np.asarray(expected)
    if exp.dtype.kind not in _NUMERIC:
        raise GraderError("assert_equal: expected must be numbers, bools, strings or tuples")
    arr = as_array(got, msg=msg)
    if dtype is not None:
        _check_dtype(arr, dtype, msg)
    if isinstance(expected, int | np.integer) and not isinstance(expected, bool):
        if arr.shape == () and arr.dtype.kind == "f" and not float(arr).is_integer():
            raise WrongAnswer(
                _prefix(msg, "wrong result"), detail=f"expected {int(expected)}", hint=hint
            )
    if arr.shape != exp.shape:
        raise WrongAnswer(
            _prefix(
                msg, f"wrong shape {_shape_text(arr.shape)}, expected {_shape_text(exp.shape)}"
            ),
            hint=hint,
        )
    if arr.dtype.kind == "b" and exp.dtype.kind != "b":
        raise WrongAnswer(_prefix(msg, "returned bools, expected numbers"), hint=hint)
    with np.errstate(all="ignore"):
        same = arr.astype(np.float64) == exp.astype(np.float64)
        if arr.dtype.kind in "iu" and exp.dtype.kind in "iu":
            same = arr.astype(object) == exp.astype(object) if arr.size < 10000 else same
    same = np.asarray(same, dtype=bool)
    if not same.all():
        idx = np.unravel_index(int(np.argmin(same)), same.shape) if same.ndim else ()
        detail = (
            f"first difference at index {_index_text(idx)}: got {arr[idx]!r}, expected {exp[idx]!r}"
        )
        raise WrongAnswer(_prefix(msg, "wrong result"), detail=detail, hint=hint)


def assert_shape(
    got: Any, shape: tuple[int, ...], *, msg: str | None = None, hint: str | None = None
) -> None:
    """Assert the answer is numeric with exactly ``shape``."""
    arr = as_array(got, msg=msg)
    shape = tuple(int(s) for s in shape)
    if arr.shape != shape:
        raise WrongAnswer(
            _prefix(msg, f"wrong shape {_shape_text(arr.shape)}, expected {_shape_text(shape)}"),
            hint=hint,
        )


def assert_dtype(got: Any, dtype: Any, *, msg: str | None = None, hint: str | None = None) -> None:
    """Assert the answer is a numeric array/scalar of exactly ``dtype``."""
    arr = as_array(got, msg=msg)
    want = np.dtype(dtype)
    if arr.dtype != want:
        raise WrongAnswer(
            _prefix(msg, f"wrong dtype {arr.dtype.name}, expected {want.name}"), hint=hint
        )


def assert_true(
    condition: bool, message: str, *, detail: str | None = None, hint: str | None = None
) -> None:
    """Fail with ``message`` (grader-authored, shown for hidden tests) when ``condition`` is false.

    ``condition`` must be a Python or numpy bool computed by the grader from plain data;
    ``detail`` is shown for visible tests only.
    """
    if not isinstance(condition, bool | np.bool_):
        raise GraderError("assert_true needs a bool condition (computed by the grader)")
    if not bool(condition):
        raise WrongAnswer(message, detail=detail, hint=hint)


def fail(message: str, *, detail: str | None = None, hint: str | None = None) -> None:
    """Fail the test with a grader-authored ``message``."""
    raise WrongAnswer(message, detail=detail, hint=hint)


def is_finite_number(x: Any) -> bool:
    """True for a finite real number (Python or numpy scalar, or 0-d array); never for bool."""
    if isinstance(x, bool | np.bool_):
        return False
    if isinstance(x, np.ndarray):
        if x.shape != () or x.dtype.kind not in "iuf":
            return False
        x = x[()]
    if isinstance(x, int | np.integer):
        return True
    if isinstance(x, float | np.floating):
        return math.isfinite(float(x))
    return False
