"""Feedback families of the grader (issue 9, items 5, 8, 14-18): what a report says, and to whom.

* Hidden-test messages carry grader-authored text only: no shape, exception class name or value
  the student chose (visible tests may show them).
* What the student's code causes is the student's failure, never a "fault of the grader": a
  patched builtin, an answer of the wrong length, NaN in a value used as the expected one.
* One cause per message, the hints that fit that cause, an exercise-level error said once.
* An input modified in place (an array, or a Tensor's .data) is one cause with a stated cost.
* 0-d arrays cross the channel as 0-d arrays.

The grader used here is written for these tests (``GRADER``) and grades the fixture lesson's
notebook (normalize_rows, trapezoid, RunningMean) under the lesson name ``97_feedback``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbfactory as f
import numpy as np
import pytest
from gradingkit import FIXTURE, Grader, exercise

from nnlite.grading import WrongAnswer, assert_close, wire
from nnlite.grading.report import render_text

LESSON = "97_feedback"
REPO = Path(__file__).resolve().parents[2]

GRADER = '''
"""A grader exercising the feedback mechanisms (tests/grading/test_feedback.py)."""

import numpy as np
import pytest

from nnlite.grading import assert_close, assert_true

LESSON = "97_feedback"
EXERCISES = {
    "normalize_rows": ["normalize_rows"],
    "trapezoid": ["trapezoid"],
    "running_mean": ["RunningMean"],
}


def drv_all_finite(ns, x):
    """A driver that relies on a builtin the student's code may have replaced."""
    out = np.asarray(ns["normalize_rows"](x), dtype=np.float64)
    return all(np.isfinite(out.ravel()))


def drv_tensor(ns, z):
    """The student's function on an nnlite Tensor built on z (which shares z's memory)."""
    from nnlite import Tensor

    out = ns["normalize_rows"](Tensor(z))
    return np.asarray(getattr(out, "data", out), dtype=np.float64)


@pytest.mark.exercise("normalize_rows")
@pytest.mark.points(1)
@pytest.mark.hint("HINT-VALUE")
def test_hidden_values(student, reference, rng):
    x = rng.normal(size=(3, 4))
    assert_close(student.normalize_rows(x), reference.normalize_rows(x))


@pytest.mark.exercise("normalize_rows")
@pytest.mark.points(1)
@pytest.mark.visible
def test_visible_values(student, reference, rng):
    x = rng.normal(size=(3, 4))
    assert_close(student.normalize_rows(x), reference.normalize_rows(x))


@pytest.mark.exercise("normalize_rows")
@pytest.mark.points(1)
@pytest.mark.hint("HINT-DTYPE", on="dtype")
def test_float32(student, reference, rng):
    """float32 input gives float64 rows."""
    x = rng.normal(size=(2, 3)).astype(np.float32)
    got = student.normalize_rows(x)
    assert_close(got, reference.normalize_rows(x), rtol=1e-12, dtype=np.float64)


@pytest.mark.exercise("normalize_rows")
@pytest.mark.points(1)
def test_all_finite(student, rng):
    assert_true(student.run(drv_all_finite, rng.normal(size=(2, 2))), "rows must be finite")


@pytest.mark.exercise("normalize_rows")
@pytest.mark.points(1)
def test_same_rows_unguarded(student, rng):
    """Compares the answer with numpy arithmetic before checking its shape (on purpose)."""
    x = rng.normal(size=(3, 4))
    got = student.normalize_rows(x)
    share = float(np.mean(np.sign(got) == np.sign(x)))
    assert_true(share == 1.0, "the signs of the entries changed")


@pytest.mark.exercise("normalize_rows")
@pytest.mark.points(1)
def test_deterministic(student, rng):
    """Two calls agree: the student's first answer is the expected value of the second."""
    x = rng.normal(size=(2, 3))
    first = student.normalize_rows(x)
    assert_close(student.normalize_rows(x), first, rtol=0)


@pytest.mark.exercise("normalize_rows")
@pytest.mark.points(1)
def test_tensor_input(student, reference, rng):
    z = rng.normal(size=(2, 3))
    assert_close(student.run(drv_tensor, z), reference.normalize_rows(z), rtol=1e-12)


@pytest.mark.exercise("normalize_rows")
@pytest.mark.points(1)
@pytest.mark.hint("HINT-COPY", on="mutation")
@pytest.mark.mutation_penalty(1)
def test_leaves_x_unchanged(student, reference, rng):
    x = rng.normal(size=(4, 2))
    assert_close(student.normalize_rows(x), reference.normalize_rows(x))


def f_sin(x):
    return np.sin(x)


@pytest.mark.exercise("trapezoid")
@pytest.mark.points(1)
def test_trapezoid(student):
    assert_close(student.trapezoid(f_sin, 0.0, np.pi, 2000), 2.0, rtol=0, atol=1e-5)


@pytest.mark.exercise("running_mean")
@pytest.mark.points(1)
def test_running_mean_fresh(student):
    pass
'''
NR_POINTS = 8


@pytest.fixture(scope="module")
def graders(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("feedback")
    (root / "graders").mkdir()
    (root / "graders" / f"test_{LESSON}.py").write_text(GRADER, encoding="utf-8")
    shutil.copy(FIXTURE / "graders" / "conftest.py", root / "graders" / "conftest.py")
    (root / "solutions").mkdir()
    shutil.copy(FIXTURE / "solutions" / "99_fixture.ipynb", root / "solutions" / f"{LESSON}.ipynb")
    return root / "graders"


@pytest.fixture
def grade(graders, tmp_path):
    g = Grader(tmp_path)

    def run(normalize_rows: str | None = None, *, cells: list[str] | None = None, raw=None):
        path = tmp_path / f"{LESSON}.ipynb"
        if raw is not None:
            path.write_bytes(raw)
        else:
            over = {"normalize_rows": textwrap.dedent(normalize_rows)} if normalize_rows else {}
            f.write(f.fixture_notebook(over, extra=cells or []), path)
        return g(path, graders_dir=graders, lesson=LESSON)

    return run


def by_name(ex: dict) -> dict[str, dict]:
    return {t["name"]: t for t in ex["tests"]}


def hidden_texts(rep: dict) -> str:
    """Everything a report shows for its hidden tests (messages, hints, causes)."""
    out = []
    for ex in rep["exercises"]:
        hidden = {t["name"] for t in ex["tests"] if t["hidden"]}
        for t in ex["tests"]:
            if t["hidden"]:
                out += [t["message"], t["hint"] or ""]
        for c in ex["causes"]:
            if set(c["tests"]) <= hidden:
                out += [c["message"], c["hint"] or ""]
    return "\n".join(out)


def test_the_solution_passes_this_grader(grade):
    rep = grade()
    assert rep["score"] == rep["max_score"] == NR_POINTS + 2, rep
    assert all(ex["causes"] == [] for ex in rep["exercises"])


# ----------------------------------------------------------------------------- item 5: leaks


def test_hidden_messages_carry_no_student_chosen_shape_or_class_name(grade):
    rep = grade(
        """
        class RT_LEAK_B(Exception):
            pass

        def normalize_rows(x):
            x = np.asarray(getattr(x, "data", x))
            if x.dtype == np.float32:
                raise RT_LEAK_B("LEAK 73 152")
            return np.zeros((0, 73, 152, 79))
        """
    )
    ex = exercise(rep, "normalize_rows")
    tests = by_name(ex)
    text = hidden_texts(rep)
    for secret in ("73", "152", "79", "RT_LEAK", "LEAK"):
        assert secret not in text, (secret, text)
    assert tests["test_hidden_values"]["message"] == "wrong shape"
    assert tests["test_float32"]["message"] == "`normalize_rows` raised an exception"
    # A visible test may show the student's shape.
    assert "got shape (0, 73, 152, 79)" in tests["test_visible_values"]["message"]
    assert rep["grader_faults"] == []


def test_public_expected_shape_and_visible_exception_class():
    with pytest.raises(WrongAnswer) as info:
        assert_close(np.ones((4, 3)), np.ones((1, 3)), public=True)
    assert info.value.message == "wrong shape, expected (1, 3)"
    with pytest.raises(WrongAnswer) as info:
        assert_close(np.ones((4, 3)), np.ones((1, 3)))
    assert info.value.message == "wrong shape" and "(4, 3)" in info.value.detail


# ----------------------------------------------------------------------------- item 8: faults


def test_what_the_student_causes_is_scored_not_a_grader_fault(grade):
    rep = grade(
        """
        def normalize_rows(x):
            import builtins

            builtins.all = lambda it: "yes"  # a patched builtin the driver relies on
            x = np.asarray(getattr(x, "data", x), dtype=float)
            return np.full((x.shape[0] - 1, x.shape[1]), np.nan)  # a row short, and NaN
        """
    )
    assert rep["grader_faults"] == []
    tests = by_name(exercise(rep, "normalize_rows"))
    assert tests["test_all_finite"]["status"] == "failed"
    assert tests["test_all_finite"]["message"] == "rows must be finite"
    unguarded = tests["test_same_rows_unguarded"]
    assert unguarded["status"] == "failed" and unguarded["kind"] == "type"
    assert unguarded["message"].startswith("the answer could not be checked")
    assert "broadcast" not in unguarded["message"]  # numpy's text names the student's shapes
    first_is_nan = tests["test_deterministic"]
    assert (first_is_nan["status"], first_is_nan["kind"]) == ("failed", "nan")


def test_cli_exit_status_is_0_when_the_student_breaks_the_helpers(graders, tmp_path):
    src = (
        "def normalize_rows(x):\n"
        "    import builtins\n"
        "    builtins.all = lambda it: 'yes'\n"
        "    return np.full((1, 1), np.nan)\n"
    )
    nb = f.write(f.fixture_notebook({"normalize_rows": src}), tmp_path / f"{LESSON}.ipynb")
    out = subprocess.run(
        [sys.executable, "-m", "nnlite", "grade", "--graders", str(graders), str(nb)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "fault of the grader" not in out.stdout


# ----------------------------------------------------------------------------- items 14, 15


def test_hints_follow_the_cause(grade):
    wrong_shape = grade(
        """
        def normalize_rows(x):
            x = np.asarray(getattr(x, "data", x))
            return np.ones((1,) + x.shape[1:])
        """
    )
    tests = by_name(exercise(wrong_shape, "normalize_rows"))
    assert tests["test_float32"]["message"] == "wrong shape"
    assert tests["test_float32"]["hint"] is None  # a dtype hint does not explain a shape
    assert tests["test_hidden_values"]["hint"] == "HINT-VALUE"  # value/shape: the test's hint
    keeps_float32 = grade(
        """
        def normalize_rows(x):
            x = np.asarray(getattr(x, "data", x))
            n = np.sqrt((x * x).sum(axis=1, keepdims=True))
            return np.divide(x, n, out=np.zeros_like(x), where=n > 0)
        """
    )
    t = by_name(exercise(keeps_float32, "normalize_rows"))["test_float32"]
    assert (t["message"], t["kind"], t["hint"]) == (
        "wrong dtype, expected float64",
        "dtype",
        "HINT-DTYPE",
    )


def test_one_message_per_cause(grade):
    rep = grade(
        """
        def normalize_rows(x):
            raise ZeroDivisionError("no")
        """
    )
    ex = exercise(rep, "normalize_rows")
    messages = [c["message"] for c in ex["causes"]]
    assert len(messages) == len(set(messages))
    raised = next(c for c in ex["causes"] if c["message"] == "`normalize_rows` raised an exception")
    assert len(raised["tests"]) >= 5 and raised["hint"] == "HINT-VALUE"
    text = render_text(rep)
    assert text.count("`normalize_rows` raised an exception\n") == 1
    assert text.count("HINT-VALUE") == 1


def test_an_exercise_level_error_is_one_message_without_hints(grade):
    rep = grade("def normalize_rows(x:\n    return x")
    ex = exercise(rep, "normalize_rows")
    assert ex["status"] == "error" and ex["score"] == 0
    assert len(ex["causes"]) == 1
    (cause,) = ex["causes"]
    assert cause["kind"] == "blocked" and "syntax error" in cause["message"]
    assert cause["hint"] is None and all(t["hint"] is None for t in ex["tests"])
    assert exercise(rep, "trapezoid")["status"] == "passed"


def test_no_float64_advice_when_the_test_wants_float32():
    with pytest.raises(WrongAnswer) as info:
        assert_close(np.float32([1.1]), np.float32([1.0]), dtype=np.float32)
    assert "float64" not in info.value.message
    with pytest.raises(WrongAnswer) as info:  # float32 where float64 was expected: advise it
        assert_close(np.float32([1.0000001]), np.array([1.0]), rtol=1e-12)
    assert "compute in float64" in info.value.message


# ----------------------------------------------------------------------------- item 18


def test_mutation_is_one_cause_with_a_stated_cost(grade):
    rep = grade(
        """
        def normalize_rows(x):
            d = x if isinstance(x, np.ndarray) else x.data  # the array, or a Tensor's .data
            n = np.sqrt((d * d).sum(axis=1, keepdims=True))
            d /= np.where(n > 0, n, 1.0)
            return x
        """
    )
    ex = exercise(rep, "normalize_rows")
    tests = by_name(ex)
    mutation = [c for c in ex["causes"] if c["kind"] == "mutation"]
    assert len(mutation) == 1, ex["causes"]
    (cause,) = mutation
    assert "in place" in cause["message"]
    # Values are right: each test keeps 3/4 of its points; the test about x loses all of it.
    assert tests["test_hidden_values"]["score"] == 0.75
    assert tests["test_all_finite"]["score"] == 0.75  # through a driver, too
    assert tests["test_leaves_x_unchanged"]["score"] == 0
    assert tests["test_leaves_x_unchanged"]["hint"] == "HINT-COPY"
    # A Tensor argument modified through .data is seen too.
    assert "test_tensor_input" in cause["tests"]
    assert tests["test_tensor_input"]["kind"] == "mutation"
    lost = sum(c["points_lost"] for c in ex["causes"])
    assert lost == pytest.approx(ex["max_score"] - ex["score"])
    assert render_text(rep).count("in place") == 1


# ----------------------------------------------------------------------------- items 16, 17


def test_0d_arrays_cross_the_wire_as_0d():
    for value in (np.array(3.5), np.array(7, dtype=np.int32), np.float32(2.0)):
        blobs: list[bytes] = []
        back = wire.decode_value(wire.encode_value(value, blobs), blobs)
        assert np.shape(back) == () and type(back) is type(value) and back == value
    blobs = []
    back = wire.decode_value(wire.encode_value(np.ones((3, 2)).T, blobs), blobs)
    assert back.shape == (2, 3)  # non-contiguous arrays still cross


def test_a_0d_answer_is_graded_as_0d(grade):
    rep = grade(cells=["def trapezoid(f, a, b, n=1000):\n    return np.array(2.0)"])
    assert exercise(rep, "trapezoid")["status"] == "passed"


def test_broken_json_reports_the_real_problem_once(graders, tmp_path):
    from nnlite.grading.runner import grade_notebook

    path = tmp_path / "alice.ipynb"
    path.write_text('{"cells": [', encoding="utf-8")
    rep = grade_notebook(path, graders_dir=graders)  # no lesson known: no metadata to read
    assert "not valid JSON" in rep["error"] and "which lesson" not in rep["error"]
    rep = grade_notebook(path, graders_dir=graders, lesson=LESSON)  # a batch of lesson 97
    assert "not valid JSON" in rep["error"]
    assert {ex["status"] for ex in rep["exercises"]} == {"error"}
    assert all(len(ex["causes"]) == 1 for ex in rep["exercises"])
    assert render_text(rep).count("not valid JSON") == 1
    assert json.loads(json.dumps(rep)) == rep


def test_how_a_sandbox_died_is_told_in_a_few_fixed_words():
    from nnlite.grading.proxy import death_message

    statuses = {
        death_message(f"the process exited (exit status {n}) during the call") for n in range(256)
    }
    signals = {death_message(f"process killed by signal {n}") for n in range(1, 65)}
    assert len(statuses) == 1 and len(signals) == 1  # no byte of the student's choosing
    assert death_message("process killed by signal 11 (SIGSEGV)") == (
        "process killed by signal 11 (SIGSEGV)"
    )
    assert "CPU time" in death_message("CPU time limit exceeded (process killed by signal SIGXCPU)")


def test_a_chosen_exit_status_is_not_in_a_hidden_message(grade):
    rep = grade(
        """
        def normalize_rows(x):
            import os

            os._exit(73)
        """
    )
    ex = exercise(rep, "normalize_rows")
    assert ex["score"] == 0 and rep["grader_faults"] == []
    assert "73" not in hidden_texts(rep)
    assert "exit status 73" in by_name(ex)["test_visible_values"]["message"]


def test_a_dtype_compared_by_name_says_which_dtype():
    from nnlite.grading import assert_equal

    with pytest.raises(WrongAnswer) as info:
        assert_equal("float64", "float32", msg="dtype of the result", kind="dtype")
    assert info.value.message == "dtype of the result: wrong dtype, expected float32"
    with pytest.raises(WrongAnswer) as info:
        assert_equal("KeyError", "ValueError")
    assert info.value.message == "wrong result"
