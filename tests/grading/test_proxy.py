"""The ``student`` proxy API used by graders: call, raises, run, drivers, messages."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnlite.grading import (
    GraderError,
    StudentError,
    StudentMissing,
    StudentTimeout,
    WrongAnswer,
)
from nnlite.grading.notebook import Cell, Program
from nnlite.grading.proxy import SHIPPED_NAME, ExerciseRunner, Student, ship
from nnlite.grading.sandbox import Limits

SOURCE = """
import numpy as np

class BadTarget(ValueError):
    pass

def ce(logits, target):
    if target < 0:
        raise BadTarget(f"target {target} is out of range")
    return float(-logits[target])

def scale(x, k=2.0):
    x *= k
    return x

def apply(f, x):
    return f(x)

def stub(x):
    raise NotImplementedError

def make():
    return object()

CONST = 3

def slow():
    while True:
        pass

class Counter:
    def __init__(self):
        self.n = 0
    def add(self, k):
        self.n += k
        return self.n
"""


@pytest.fixture(scope="module")
def runner():
    prog = Program([Cell(1, SOURCE), Cell(2, "def broken(:\n    pass")])
    names = ["ce", "scale", "apply", "stub", "make", "CONST", "slow", "Counter", "broken", "nope"]
    r = ExerciseRunner("ex", names[:-2], prog, "process", Limits(call_timeout=2.0))
    yield r
    r.close()


def drv_counter(ns, steps):
    c = ns.Counter()
    return [c.add(k) for k in steps]


def drv_missing(ns):
    return ns["Nope"]()


def f_square(x):
    return x * x


def test_call_and_types(runner):
    s = Student(runner, visible=True)
    assert s.ce(np.array([1.0, 2.0]), 1) == -2.0
    assert s.apply(f_square, 3.0) == 9.0
    assert s.run(drv_counter, [1, 2, 3]) == [1, 3, 6]
    assert s.defines("Counter") and not s.defines("nope")


def test_raises(runner):
    s = Student(runner, visible=True)
    r = s.raises(ValueError).ce(np.zeros(2), -1)
    assert r.name == "BadTarget" and r.isinstance("ValueError") and "-1" in r.message
    assert s.raises("BadTarget").ce(np.zeros(2), -1).message == "target -1 is out of range"
    with pytest.raises(WrongAnswer, match="should raise ValueError here, but it returned"):
        s.raises(ValueError).ce(np.zeros(2), 0)
    with pytest.raises(WrongAnswer, match="raised another exception than KeyError") as info:
        s.raises(KeyError).ce(np.zeros(2), -1)
    assert info.value.detail == "BadTarget: target -1 is out of range"
    with pytest.raises(StudentMissing, match="not implemented yet"):
        s.raises(ValueError).stub(1)


def test_student_exceptions_and_visibility(runner):
    s = Student(runner)
    with pytest.raises(StudentError) as info:
        s.ce(np.zeros(2), -5)
    # The class name is the student's choice: only visible tests show it, with the text.
    assert info.value.message == "`ce` raised an exception"
    assert info.value.detail == "BadTarget: target -5 is out of range"


def test_mutation(runner):
    s = Student(runner)
    x = np.ones(3)
    # Noted once (the plugin reports it as its own cause), not raised: the value is judged.
    assert s.scale(x).tolist() == [2.0, 2.0, 2.0]
    s.scale(x)
    assert s._log.mutations == [
        "`scale` modified its input array in place (argument 1): work on a copy"
    ]
    assert np.array_equal(x, np.ones(3))  # the parent's copy is never touched
    call = s.call("scale", np.ones(2), k=np.full(1, 3.0))
    assert call.mutated == ["argument 1"] and call.value.tolist() == [3.0, 3.0]


def test_missing_variants(runner):
    s = Student(runner)
    with pytest.raises(StudentMissing, match="`nope` is not defined in the notebook"):
        s.nope()
    with pytest.raises(StudentMissing, match="not implemented yet"):
        s.stub(1)
    with pytest.raises(StudentError, match="cell 2 has a syntax error"):
        s.broken()
    with pytest.raises(StudentMissing):
        s.run(drv_missing)
    with pytest.raises(WrongAnswer, match="`CONST` is not a function"):
        s.CONST()
    with pytest.raises(WrongAnswer, match="not plain data"):
        s.make()


def test_timeout_and_recovery(runner):
    s = Student(runner).with_timeout(0.5)
    before = runner.starts
    with pytest.raises(StudentTimeout, match=r"time limit exceeded \(0.5 s\)"):
        s.slow()
    assert Student(runner).ce(np.array([4.0]), 0) == -4.0  # a fresh child took over
    assert runner.starts == before + 1
    runner.timeouts = 0


def test_driver_contract():
    def nested(ns):
        return 1

    with pytest.raises(GraderError, match="module-level def"):
        ship(nested)
    with pytest.raises(GraderError, match="module-level def"):
        ship(lambda ns: 1)
    with pytest.raises(GraderError, match="uses module-level name"):
        ship(_uses_global)
    shipped = ship(drv_counter)  # under a neutral name (R15, see test_grader_code_in_child.py)
    assert shipped.name == SHIPPED_NAME and "drv_counter" not in shipped.source


EXPECTED = 42


def _uses_global(ns):
    return EXPECTED


def test_non_data_arguments_are_a_grader_error(runner):
    with pytest.raises(GraderError, match="not plain data"):
        Student(runner).ce(object(), 0)
    assert math.isnan(Student(runner).apply(f_square, float("nan")))
