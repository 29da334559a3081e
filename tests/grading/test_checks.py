"""nnlite.checks: the visible in-notebook checks."""

from __future__ import annotations

import io

import numpy as np
import pytest

from nnlite.checks import Checker, CheckFailed, lesson, registered, visible


@visible("double", lesson="98_checks", hint="Multiply by 2, do not add 2.")
def doubles_an_array(fn):
    """double(x) is 2 x"""
    got = fn(np.arange(3.0))
    assert np.array_equal(got, [0.0, 2.0, 4.0]), f"double([0, 1, 2]) returned {got!r}"


@visible("double", lesson="98_checks")
def keeps_the_dtype(fn):
    got = fn(np.ones(2, np.float32))
    assert got.dtype == np.float32, f"float32 in gave {got.dtype} out"


def run(obj):
    out = io.StringIO()
    checker = Checker("98_checks", out=out)
    try:
        checker("double", obj)
    finally:
        text = out.getvalue()
    return text


def test_all_pass():
    text = run(lambda x: x * 2)
    assert text.splitlines() == [
        "✓ double(x) is 2 x",
        "✓ keeps the dtype",
        "All 2 checks passed for 'double'.",
    ]


def test_failures_are_listed_with_hints_and_raise():
    out = io.StringIO()
    with pytest.raises(CheckFailed, match="2 of 2 checks failed"):
        Checker("98_checks", out=out)("double", lambda x: np.asarray(x, float) + 2)
    # (pytest rewrites the asserts of this module, adding lines after each message)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("✗ double(x) is 2 x: double([0, 1, 2]) returned array([2., 3., 4.])")
    assert "    hint: Multiply by 2, do not add 2." in lines
    assert any(ln.startswith("✗ keeps the dtype: float32 in gave float64 out") for ln in lines)


def test_stub_error_is_reraised():
    def stub(x):
        raise NotImplementedError

    out = io.StringIO()
    with pytest.raises(NotImplementedError):
        Checker("98_checks", out=out)("double", stub)
    assert "not implemented yet" in out.getvalue()


def test_other_exceptions_are_reported():
    out = io.StringIO()
    with pytest.raises(CheckFailed):
        Checker("98_checks", out=out)("double", lambda x: x.nope)
    assert "raised AttributeError" in out.getvalue()


def test_unknown_grade_id_and_lesson():
    with pytest.raises(ValueError, match="no visible checks"):
        Checker("98_checks")("triple", len)
    with pytest.raises(ValueError):
        lesson("not a lesson")
    assert lesson("97_nothing_here").lesson == "97_nothing_here"
    assert registered("97_nothing_here") == {}


def test_visible_needs_a_lesson_outside_the_checks_package():
    with pytest.raises(ValueError, match="pass lesson="):

        @visible("x")
        def check_x(fn):
            pass


def test_real_lesson_checks_import():
    for name in ("01_autograd", "02_mlp"):
        try:
            checks = registered(name)
        except ImportError:
            continue
        for grade_id, items in checks.items():
            assert items and all(callable(c.func) for c in items), grade_id
