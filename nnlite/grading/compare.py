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

from nnlite.grading.errors import WrongAnswer

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
    """A short safe description of a decoded value's type: never its shape, length or value
    (those are the student's choice, and hidden-test messages carry grader text only)."""
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
        return "an array"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, tuple):
        return "a tuple"
    if isinstance(value, dict):
        return "a dict"
    return "a value of another type"


def _shape_text(shape: tuple) -> str:
    return f"{shape}" + (" (a scalar)" if shape == () else "")


def _wrong_shape(
    got: tuple, want: tuple, msg: str | None, hint: str | None, public: bool
) -> WrongAnswer:
    """ "wrong shape": the student's shape goes to the detail (visible tests only); the expected
    shape goes to the message only when the test says it is public."""
    text = f"wrong shape, expected {_shape_text(want)}" if public else "wrong shape"
    return WrongAnswer(
        _prefix(msg, text),
        detail=f"got shape {_shape_text(got)}, expected {_shape_text(want)}",
        hint=hint,
        kind="shape",
    )


def _low_precision(dtype: np.dtype) -> bool:
    return dtype.kind == "f" and dtype.itemsize < 8


def as_array(got: Any, *, msg: str | None = None, allow_complex: bool = False) -> np.ndarray:
    """The student's answer as a plain numeric ndarray (original dtype), or WrongAnswer.

    Accepts arrays, numpy scalars, Python numbers and (nested) lists/tuples of numbers that form
    a rectangular array. Refuses None, strings, dicts, ragged lists, object and string arrays.
    """
    if isinstance(got, str | bytes | dict) or got is None:
        raise WrongAnswer(_prefix(msg, f"returned {_kind(got)}, expected numbers"), kind="type")
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
                _prefix(msg, f"returned {_kind(got)} that is not a rectangular array of numbers"),
                kind="type",
            ) from None
    else:
        raise WrongAnswer(_prefix(msg, f"returned {_kind(got)}, expected numbers"), kind="type")
    kinds = _NUMERIC + ("c" if allow_complex else "")
    if arr.dtype.kind not in kinds:
        what = "a list" if isinstance(got, list | tuple) else "an array"
        raise WrongAnswer(
            _prefix(msg, f"returned {what} that does not hold plain numbers"), kind="type"
        )
    return arr


def _expected_array(expected: Any, msg: str | None) -> np.ndarray:
    """``expected`` as a real numeric array. A test may compare two of the student's own answers
    (a draw against a redraw), so a bad expected value is a wrong answer, not a grader fault;
    a grader whose own expected value is bad fails on the solution notebook, where CI sees it."""
    try:
        with np.errstate(all="ignore"):
            exp = np.asarray(expected)
    except (ValueError, TypeError, OverflowError, RecursionError, MemoryError):
        exp = np.asarray(None)
    if exp.dtype.kind not in _NUMERIC:
        raise WrongAnswer(
            _prefix(msg, "the values to compare are not real numbers"),
            detail="the expected value is not a real numeric array (if it is the grader's own, "
            "the grader is wrong)",
            kind="type",
        )
    return exp


def _check_dtype(arr: np.ndarray, dtype: Any, msg: str | None, hint: str | None = None) -> None:
    want = np.dtype(dtype)
    if arr.dtype != want:
        raise WrongAnswer(
            _prefix(msg, f"wrong dtype, expected {want.name}"),
            detail=f"got dtype {arr.dtype.name}",
            hint=hint,
            kind="dtype",
        )


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
    public: bool = False,
) -> None:
    exp = _expected_array(expected, msg)
    exp_dtype = exp.dtype
    exp = exp.astype(np.float64)
    arr = as_array(got, msg=msg)
    orig_dtype = arr.dtype
    if dtype is not None:
        _check_dtype(arr, dtype, msg, hint)
    if arr.shape != exp.shape:
        raise _wrong_shape(arr.shape, exp.shape, msg, hint, public)
    with np.errstate(all="ignore"):
        val = arr.astype(np.float64)
    exp_nan = np.isnan(exp)
    got_nan = np.isnan(val)
    if exp_nan.any() and not equal_nan:
        raise WrongAnswer(
            _prefix(msg, "the values compared contain NaN"),
            detail="the expected value has NaN (a grader expecting NaN passes equal_nan=True)",
            hint=hint,
            kind="nan",
        )
    if (got_nan & ~exp_nan).any():
        n = int((got_nan & ~exp_nan).sum())
        raise WrongAnswer(
            _prefix(msg, "result contains NaN"),
            detail=f"{n} of {val.size} elements are NaN",
            hint=hint,
            kind="nan",
        )
    if (exp_nan & ~got_nan).any():
        raise WrongAnswer(
            _prefix(msg, "expected NaN where the result has a number"), hint=hint, kind="nan"
        )
    exp_inf = np.isinf(exp)
    got_inf = np.isinf(val)
    if (got_inf & ~exp_inf).any():
        detail = f"overflow in {orig_dtype.name}?" if _low_precision(orig_dtype) else None
        raise WrongAnswer(_prefix(msg, "result contains inf"), detail=detail, hint=hint, kind="nan")
    if exp_inf.any() and not np.array_equal(val[exp_inf], exp[exp_inf]):
        raise WrongAnswer(
            _prefix(msg, "expected an infinite value where the result differs"),
            hint=hint,
            kind="nan",
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
    # Suggest float64 only when the test asks for no particular dtype and expects float64
    # values: a float32 test ("float32 in, float32 out") must not be told the opposite.
    if dtype is None and _low_precision(orig_dtype) and not _low_precision(exp_dtype):
        text += " (your result has less than float64 precision: compute in float64)"
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
    public: bool = False,
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
    * ``msg`` prefixes the messages ("gradient of x: wrong shape"); ``hint`` is shown with a
      failure in addition to the test's ``@pytest.mark.hint``.
    * ``public=True``: the expected value is public (stated in the lesson or the test's
      description), so a hidden test's message may name the expected shape. The student's own
      shape is only ever shown for visible tests.
    """
    if isinstance(expected, tuple):
        if not isinstance(got, tuple | list):
            raise WrongAnswer(
                _prefix(msg, f"returned {_kind(got)}, expected a tuple of {len(expected)}"),
                hint=hint,
                kind="type",
            )
        if len(got) != len(expected):
            raise WrongAnswer(
                _prefix(msg, f"returned the wrong number of values, expected {len(expected)}"),
                detail=f"got {len(got)} values",
                hint=hint,
                kind="type",
            )
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            sub = f"{msg}, element {i}" if msg else f"element {i}"
            assert_close(
                g, e, rtol, atol, equal_nan=equal_nan, dtype=dtype, msg=sub, hint=hint,
                public=public,
            )  # fmt: skip
        return
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            raise WrongAnswer(
                _prefix(msg, f"returned {_kind(got)}, expected a dict"), hint=hint, kind="type"
            )
        if set(map(repr, got)) != set(map(repr, expected)):
            raise WrongAnswer(
                _prefix(msg, "the dict has different keys than expected"), hint=hint, kind="type"
            )
        for key, e in expected.items():
            sub = f"{msg}, key {key!r}" if msg else f"key {key!r}"
            assert_close(
                got[key], e, rtol, atol, equal_nan=equal_nan, dtype=dtype, msg=sub, hint=hint,
                public=public,
            )  # fmt: skip
        return
    _close_array(got, expected, rtol, atol, equal_nan, dtype, msg, hint, public)


def assert_equal(
    got: Any,
    expected: Any,
    *,
    dtype: Any = None,
    msg: str | None = None,
    hint: str | None = None,
    public: bool = False,
    kind: str | None = None,
) -> None:
    """Exact equality: numbers, bools, strings, arrays (same shape, equal values), tuples,
    lists and dicts of them. ``True`` does not equal ``1`` and a float does not equal a string.

    ``kind`` labels a "wrong result" with its cause (e.g. ``kind="dtype"`` when comparing the
    name of a dtype), so that the report shows the hints about that cause.
    """
    if isinstance(expected, str):
        if not isinstance(got, str) or got != expected:
            # A dtype's name is public ("float32 in, float32 out"): say which one is expected.
            text = f"wrong dtype, expected {expected}" if kind == "dtype" else "wrong result"
            raise WrongAnswer(
                _prefix(msg, text), detail=f"expected {expected!r}", hint=hint, kind=kind
            )
        return
    if isinstance(expected, bool | np.bool_):
        if not isinstance(got, bool | np.bool_):
            raise WrongAnswer(
                _prefix(msg, f"returned {_kind(got)}, expected a bool"), hint=hint, kind="type"
            )
        if bool(got) != bool(expected):
            raise WrongAnswer(
                _prefix(msg, "wrong result"),
                detail=f"expected {bool(expected)}",
                hint=hint,
                kind=kind,
            )
        return
    if expected is None:
        if got is not None:
            raise WrongAnswer(
                _prefix(msg, f"returned {_kind(got)}, expected None"), hint=hint, kind="type"
            )
        return
    if isinstance(expected, tuple | dict):
        if isinstance(expected, dict):
            if not isinstance(got, dict) or set(map(repr, got)) != set(map(repr, expected)):
                raise WrongAnswer(_prefix(msg, "wrong dict keys"), hint=hint, kind="type")
            items = [(f"key {k!r}", got[k], v) for k, v in expected.items()]
        else:
            if not isinstance(got, tuple | list) or len(got) != len(expected):
                raise WrongAnswer(
                    _prefix(msg, f"returned {_kind(got)}, expected a tuple of {len(expected)}"),
                    hint=hint,
                    kind="type",
                )
            items = [
                (f"element {i}", g, e) for i, (g, e) in enumerate(zip(got, expected, strict=True))
            ]
        for label, g, e in items:
            assert_equal(
                g, e, dtype=dtype, msg=f"{msg}, {label}" if msg else label, hint=hint,
                public=public, kind=kind,
            )  # fmt: skip
        return
    exp = _expected_array(expected, msg)
    arr = as_array(got, msg=msg)
    if dtype is not None:
        _check_dtype(arr, dtype, msg, hint)
    if isinstance(expected, int | np.integer) and not isinstance(expected, bool):
        if arr.shape == () and arr.dtype.kind == "f" and not float(arr).is_integer():
            raise WrongAnswer(
                _prefix(msg, "wrong result"),
                detail=f"expected {int(expected)}",
                hint=hint,
                kind=kind,
            )
    if arr.shape != exp.shape:
        raise _wrong_shape(arr.shape, exp.shape, msg, hint, public)
    if arr.dtype.kind == "b" and exp.dtype.kind != "b":
        raise WrongAnswer(_prefix(msg, "returned bools, expected numbers"), hint=hint, kind="type")
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
        raise WrongAnswer(_prefix(msg, "wrong result"), detail=detail, hint=hint, kind=kind)


def assert_shape(
    got: Any,
    shape: tuple[int, ...],
    *,
    msg: str | None = None,
    hint: str | None = None,
    public: bool = False,
) -> None:
    """Assert the answer is numeric with exactly ``shape``."""
    arr = as_array(got, msg=msg)
    shape = tuple(int(s) for s in shape)
    if arr.shape != shape:
        raise _wrong_shape(arr.shape, shape, msg, hint, public)


def assert_dtype(got: Any, dtype: Any, *, msg: str | None = None, hint: str | None = None) -> None:
    """Assert the answer is a numeric array/scalar of exactly ``dtype``."""
    _check_dtype(as_array(got, msg=msg), dtype, msg, hint)


def assert_true(
    condition: Any,
    message: str,
    *,
    detail: str | None = None,
    hint: str | None = None,
    kind: str | None = None,
) -> None:
    """Fail with ``message`` (grader-authored, shown for hidden tests) unless ``condition`` is
    the bool True.

    ``condition`` should be a Python or numpy bool computed by the grader from plain data.
    Anything else counts as false: a condition that came back from the sandbox may be whatever
    the student's code made it (a patched ``all`` returning a string), and that is the
    student's failure, not the grader's. ``detail`` is shown for visible tests only; ``kind``
    labels the cause (see :data:`nnlite.grading.errors.KINDS`).
    """
    if isinstance(condition, bool | np.bool_):
        if bool(condition):
            return
        raise WrongAnswer(message, detail=detail, hint=hint, kind=kind)
    raise WrongAnswer(
        message,
        detail=detail or "the value checked is not a bool",
        hint=hint,
        kind=kind or "type",
    )


def fail(
    message: str, *, detail: str | None = None, hint: str | None = None, kind: str | None = None
) -> None:
    """Fail the test with a grader-authored ``message`` (``kind``: its cause, default value)."""
    raise WrongAnswer(message, detail=detail, hint=hint, kind=kind)


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
