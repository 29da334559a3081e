"""Outcomes of a grader test other than "passed", as exceptions.

Every :class:`GradingFailure` carries two texts: ``message``, short and built only from
grader-authored text (shown for every test, hidden ones included), and ``detail``, which may
quote values of the student's answer (shown only for tests marked ``@pytest.mark.visible``, and
in plain pytest runs). ``status`` is the status the report gives the test.
"""

from __future__ import annotations


class GradingFailure(AssertionError):
    """Base class: the student's answer did not pass. ``status`` goes into the report."""

    status = "failed"

    def __init__(self, message: str, *, detail: str | None = None, hint: str | None = None):
        self.message = message
        self.detail = detail
        self.hint = hint
        super().__init__(message + (f" ({detail})" if detail else ""))


class WrongAnswer(GradingFailure):
    """The answer arrived but is wrong: shape, dtype, NaN, values, a missing exception..."""

    status = "failed"


class StudentError(GradingFailure):
    """The student's code raised, crashed the sandbox, or answered with something not data."""

    status = "error"


class StudentTimeout(GradingFailure):
    """The call exceeded its wall-clock time limit; the child was killed."""

    status = "timeout"


class StudentMissing(GradingFailure):
    """The name is not defined, or its stub raises NotImplementedError."""

    status = "missing"


class InputMutated(WrongAnswer):
    """The function modified one of its input arrays in place."""


class GraderError(Exception):
    """A mistake in a grader file or the grading setup (not the student's fault)."""
