"""Outcomes of a grader test other than "passed", as exceptions.

Every :class:`GradingFailure` carries two texts: ``message``, short and built only from
grader-authored text (shown for every test, hidden ones included), and ``detail``, which may
quote values of the student's answer (shown only for tests marked ``@pytest.mark.visible``, and
in plain pytest runs). ``status`` is the status the report gives the test.

``kind`` names the *cause* of the failure, so that the report can group identical causes and
attach only the hints that fit them (see :data:`KINDS`). A test's ``@pytest.mark.hint`` is shown
for the answer kinds (:data:`ANSWER_KINDS`) unless the test says which kinds it is about
(``@pytest.mark.hint(text, on="dtype")``).
"""

from __future__ import annotations

#: Causes of a failed test. Answer kinds: ``value`` (wrong numbers or a wrong result),
#: ``shape``, ``dtype``, ``nan`` (NaN or inf where numbers were expected), ``type`` (not
#: numbers, the wrong structure, or a form the test cannot check). Others: ``mutation`` (an
#: input modified in place), ``error`` (the student's code raised or crashed), ``timeout``,
#: ``missing`` (not defined / not implemented), ``blocked`` (the exercise could not be loaded
#: at all: a syntax error, an unreadable notebook), ``grader`` (a fault of the grader).
KINDS = (
    "value",
    "shape",
    "dtype",
    "nan",
    "type",
    "mutation",
    "error",
    "timeout",
    "missing",
    "blocked",
    "grader",
)
#: The kinds a test's ``@pytest.mark.hint`` applies to when it does not name its own.
ANSWER_KINDS = ("value", "shape", "dtype", "nan", "type", "error")


class GradingFailure(AssertionError):
    """Base class: the student's answer did not pass. ``status`` goes into the report."""

    status = "failed"
    default_kind = "value"

    def __init__(
        self,
        message: str,
        *,
        detail: str | None = None,
        hint: str | None = None,
        kind: str | None = None,
    ):
        self.message = message
        self.detail = detail
        self.hint = hint
        self.kind = kind if kind in KINDS else self.default_kind
        super().__init__(message + (f" ({detail})" if detail else ""))


class WrongAnswer(GradingFailure):
    """The answer arrived but is wrong: shape, dtype, NaN, values, a missing exception..."""

    status = "failed"


class StudentError(GradingFailure):
    """The student's code raised, crashed the sandbox, or answered with something not data."""

    status = "error"
    default_kind = "error"


class StudentTimeout(GradingFailure):
    """The call exceeded its wall-clock time limit; the child was killed."""

    status = "timeout"
    default_kind = "timeout"


class StudentMissing(GradingFailure):
    """The name is not defined, or its stub raises NotImplementedError."""

    status = "missing"
    default_kind = "missing"


class InputMutated(WrongAnswer):
    """The function modified one of its input arrays in place."""

    default_kind = "mutation"


class GraderError(Exception):
    """A mistake in a grader file or the grading setup (not the student's fault)."""
