"""nnlite.checks: the visible in-notebook checks."""

from __future__ import annotations

import io

import numpy as np
import pytest

from nnlite.checks import Checker, lesson, registered, visible


@visible("double", lesson="98_checks", hint="Multiply by 2, do not add 2.")
def doubles_an_array(fn):
    """double(x) is 2 x"""
    got = fn(np.arange(3.0))
    assert np.array_equal(got, [0.0, 2.0, 4.0]), f"double([0, 1, 2]) returned {got!r}"


@visible("double", lesson="98_checks")
def keeps_the_dtype(fn):
    got = fn(np.ones(2, np.float32))
    assert got.dtype == np.float32, f"float32 in gave {got.dtype} out"


CALLS: list[str] = []


@visible("count", lesson="98_checks")
def records_the_call(fn):
    """fn runs"""
    CALLS.append(fn.__name__)
    fn()


def run(*objs, grade_id="double"):
    """(returned value, printed lines) of ``check(grade_id, *objs)``."""
    out = io.StringIO()
    got = Checker("98_checks", out=out)(grade_id, *objs)
    return got, out.getvalue().splitlines()


def test_all_pass():
    assert run(lambda x: x * 2) == (
        True,
        ["✓ double(x) is 2 x", "✓ keeps the dtype", "All 2 checks passed for 'double'."],
    )


def test_failures_are_listed_with_hints_and_return_false():
    got, lines = run(lambda x: np.asarray(x, float) + 2)
    assert got is False
    # (pytest rewrites the asserts of this module, adding lines after each message)
    assert lines[0].startswith("✗ double(x) is 2 x: double([0, 1, 2]) returned array([2., 3., 4.])")
    assert "    hint: Multiply by 2, do not add 2." in lines
    assert any(ln.startswith("✗ keeps the dtype: float32 in gave float64 out") for ln in lines)
    assert lines[-1] == "2 of 2 checks failed for 'double'."


def test_a_stub_is_not_implemented_yet_and_does_not_raise():
    def stub(x):
        raise NotImplementedError("double: replace this line with your code")

    assert run(stub) == (
        False,
        ["✗ double(x) is 2 x: not implemented yet", "'double' is not implemented yet."],
    )


@pytest.mark.parametrize(
    "bad, shown",
    [
        (lambda x: x.nope, "raised AttributeError: 'numpy.ndarray' object has no attribute 'nope'"),
        (lambda x: 1 / 0, "raised ZeroDivisionError: division by zero"),
        (lambda: None, "raised TypeError"),  # called with the wrong number of arguments
        (lambda x: np.ones((2, 2)) @ np.ones(3), "raised ValueError"),
    ],
)
def test_other_exceptions_are_lines_not_errors(bad, shown):
    got, lines = run(bad)
    assert got is False
    assert lines[0].startswith(f"✗ double(x) is 2 x: {shown}")
    assert lines[-1] == "2 of 2 checks failed for 'double'."


def test_deep_recursion_is_reported():
    def recurse(x):
        return recurse(x)

    got, lines = run(recurse)
    assert got is False and "raised RecursionError" in lines[0]


def test_keyboard_interrupt_still_stops_the_cell():
    def interrupted(x):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(interrupted)


def use(checker, *objs, fallback, **kw):
    out = io.StringIO()
    checker._out = out
    got = checker.use("double", *objs, fallback=fallback, **kw)
    return got, out.getvalue().splitlines()


def doubled(x):
    return x * 2


def stub_double(x):
    raise NotImplementedError("double: replace this line with your code")


def plus_two(x):
    return np.asarray(x, float) + 2


def test_use_returns_a_passing_object_silently():
    assert use(Checker("98_checks"), doubled, fallback=len) == (doubled, [])


def test_use_falls_back_on_a_stub_and_says_it_is_missing():
    got, lines = use(Checker("98_checks"), stub_double, fallback=doubled)
    assert got is doubled
    assert lines == [
        'Using nnlite\'s version of `stub_double`: yours is missing (exercise "double").'
    ]


def test_use_falls_back_on_a_failing_object_and_says_so():
    got, lines = use(Checker("98_checks"), plus_two, fallback=doubled)
    assert got is doubled
    assert lines == [
        'Using nnlite\'s version of `plus_two`: yours did not pass its check (exercise "double").'
    ]


def test_use_runs_the_checks_quietly_and_hides_the_students_prints(capsys):
    def noisy(x):
        print("debugging!")
        return x * 2

    assert Checker("98_checks").use("double", noisy, fallback=len) is noisy
    assert capsys.readouterr() == ("", "")


def test_use_reuses_the_verdict_of_check_on_the_same_object():
    CALLS.clear()
    checker = Checker("98_checks", out=io.StringIO())

    def fine():
        pass

    def other():
        pass

    assert checker("count", fine) is True
    assert checker.use("count", fine, fallback=None) is fine
    assert CALLS == ["fine"]  # not re-run
    assert checker.use("count", other, fallback=None) is other
    assert CALLS == ["fine", "other"]  # a different object: checked afresh
    assert checker.use("count", other, fallback=None) is other
    assert CALLS == ["fine", "other"]


def test_use_follows_the_latest_verdict():
    checker = Checker("98_checks", out=io.StringIO())
    assert checker("double", plus_two) is False
    assert checker.use("double", plus_two, fallback=doubled) is doubled
    assert checker("double", doubled) is True
    assert checker.use("double", doubled, fallback=len) is doubled


def test_use_rechecks_unhashable_objects_such_as_globals():
    @visible("lookup", lesson="98_checks")
    def has_f(ns):
        assert ns["f"]() == 1, "f() is not 1"

    ns = {"f": lambda: 0}
    checker = Checker("98_checks", out=io.StringIO())
    assert checker("lookup", ns) is False
    ns["f"] = lambda: 1  # the student fixed it without re-running the check cell
    assert checker.use("lookup", ns, fallback=None, name="the rules") is ns


def test_use_with_several_objects_takes_and_returns_tuples():
    @visible("pair", lesson="98_checks")
    def pair_works(f, g):
        assert f(1) + g(1) == 3

    def f(x):
        return x

    def g(x):
        raise NotImplementedError

    def two(x):
        return 2

    out = io.StringIO()
    checker = Checker("98_checks", out=out)
    assert checker.use("pair", f, two, fallback=(len, len)) == (f, two)
    assert checker.use("pair", f, g, fallback=(abs, round)) == (abs, round)
    assert out.getvalue().splitlines() == [
        'Using nnlite\'s versions of `f` and `g`: yours are missing (exercise "pair").'
    ]
    with pytest.raises(TypeError, match="fallback must be a tuple of 2"):
        checker.use("pair", f, g, fallback=abs)
    with pytest.raises(TypeError, match="needs the object"):
        checker.use("pair", fallback=abs)


def test_unknown_grade_id_and_lesson():
    with pytest.raises(ValueError, match="no visible checks"):
        Checker("98_checks")("triple", len)
    with pytest.raises(ValueError, match="no visible checks"):
        Checker("98_checks").use("triple", len, fallback=len)
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
