"""Visible checks: immediate feedback inside a lesson notebook, and fallbacks so Run All works.

In a lesson::

    from nnlite.checks import lesson
    check = lesson("01_autograd")
    ...
    check("rel_error", rel_error)      # the cell after the exercise: feedback
    ...
    num_grad = check.use("numerical_grad", numerical_grad, fallback=nnlite.numerical_grad)

``check(grade_id, *objs)`` runs the visible tests registered for that exercise, prints one line
per test (``✓``/``✗``, the message, the hint) and a verdict line, and returns ``True`` or
``False``. It **never raises**: a stub that still raises ``NotImplementedError`` prints
"not implemented yet" and returns ``False``; any other exception from the student's code is a
``✗`` line. So JupyterLab's Run All (which stops at the first error) runs through a chapter
whose exercises are not done. (``KeyboardInterrupt`` still stops the cell, and an unknown
``grade_id`` is the lesson author's bug: ``ValueError``.) The verdict lines are::

    All 3 checks passed for 'rel_error'.
    2 of 3 checks failed for 'rel_error'.
    'rel_error' is not implemented yet.

``check.use(grade_id, *objs, fallback=F)`` is for the cells after an exercise that need its
result: it returns ``objs`` (one object, or a tuple of several) when the exercise passes its
visible checks, else prints one notice and returns ``fallback`` (one object, or a tuple as long
as ``objs``), nnlite's own version. The notice names the object(s), the exercise and why::

    Using nnlite's version of `numerical_grad`: yours is missing (exercise "numerical_grad").
    Using nnlite's version of `Linear`: yours did not pass its check (exercise "linear").

("missing": the stub still raises ``NotImplementedError``; several objects: "versions",
"yours are missing", "did not pass their check"; ``name=`` replaces the backquoted names.)

The verdict of the last ``check(grade_id, ...)`` on the same objects (by identity) is reused;
otherwise the checks are run again quietly (their output and the student's prints are
discarded). Objects that are not hashable, such as ``globals()``, are always re-checked, since
their content may have changed. A line ``x = check.use(...)`` contains a call, so the grader
never executes it (rule R6): it is part of the chapter, not of the exercise.

These checks run **in the student's kernel**: they are feedback, not a verdict (the verdict
comes from ``python -m nnlite grade``, which runs the hidden graders against a sandboxed copy of
the notebook). They may show values.

Writing checks (``nnlite/checks/lNN_topic.py``, one module per lesson)::

    import numpy as np
    from nnlite.checks import visible

    @visible("rel_error", hint="Both zero: divide by max(|a|, |b|, eps), not by |a|.")
    def both_zero(rel_error):
        \"\"\"rel_error of two zero arrays is 0\"\"\"
        got = rel_error(np.zeros(3), np.zeros(3))
        assert got == 0.0, f"rel_error(zeros, zeros) returned {got!r}, expected 0.0"

A check receives the object(s) passed to ``check(grade_id, obj, ...)`` and raises
``AssertionError`` with a helpful message when something is wrong (any other exception is
reported as "raised TypeError: ..."). The lesson is taken from the module name
(``l01_autograd`` → ``01_autograd``); elsewhere pass ``lesson="NN_topic"``. The line printed for
a check is its docstring's first line, else its name. Keep checks fast (well under a second)
and make them not reveal the answer: they are a smoke test of the contract (shape, dtype,
an easy value, an edge case), the hidden graders do the real testing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import io
import re
import sys
from collections.abc import Callable, Hashable
from typing import Any

__all__ = ["visible", "lesson", "Checker", "registered"]

_REGISTRY: dict[str, dict[str, list[VisibleCheck]]] = {}
_MODULE_RE = re.compile(r"(?:^|\.)l(\d\d_[A-Za-z0-9_]+)$")


@dataclasses.dataclass
class VisibleCheck:
    grade_id: str
    func: Callable[..., Any]
    hint: str | None

    @property
    def title(self) -> str:
        doc = (self.func.__doc__ or "").strip().split("\n")[0].strip()
        return doc or self.func.__name__.replace("_", " ")


def visible(
    grade_id: str, *, hint: str | None = None, lesson: str | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a visible check for exercise ``grade_id`` (decorator)."""

    def deco(func: Callable[..., Any]) -> Callable[..., Any]:
        name = lesson
        if name is None:
            m = _MODULE_RE.search(func.__module__ or "")
            if m is None:
                raise ValueError(
                    f"@visible({grade_id!r}) in module {func.__module__!r}: pass lesson='NN_topic' "
                    "(or define checks in nnlite/checks/lNN_topic.py)"
                )
            name = m.group(1)
        checks = _REGISTRY.setdefault(name, {}).setdefault(grade_id, [])
        # Re-running a module (importlib.reload) replaces checks of the same name.
        checks[:] = [c for c in checks if c.func.__qualname__ != func.__qualname__]
        checks.append(VisibleCheck(grade_id, func, hint))
        return func

    return deco


def registered(lesson_name: str) -> dict[str, list[VisibleCheck]]:
    """The visible checks of a lesson, by grade_id (importing ``nnlite.checks.lNN_topic``)."""
    if lesson_name not in _REGISTRY:
        try:
            importlib.import_module(f"nnlite.checks.l{lesson_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"nnlite.checks.l{lesson_name}":
                raise
    return _REGISTRY.get(lesson_name, {})


@dataclasses.dataclass(frozen=True)
class _Verdict:
    objs: tuple[Any, ...]  # held, so their ids cannot be reused while the verdict is kept
    passed: bool
    missing: bool  # a stub still raises NotImplementedError


class Checker:
    """``check(grade_id, obj, ...)`` and ``check.use(...)`` for one lesson."""

    def __init__(self, lesson_name: str, out: Any = None):
        self.lesson = lesson_name
        self._out = out
        self._verdicts: dict[str, _Verdict] = {}

    def _print(self, text: str, out: Any = None) -> None:
        out = out or self._out or sys.stdout
        try:
            print(text, file=out)
        except UnicodeEncodeError:
            print(text.replace("✓", "ok").replace("✗", "X"), file=out)

    def _checks(self, grade_id: str) -> list[VisibleCheck]:
        checks = registered(self.lesson).get(grade_id)
        if not checks:
            known = ", ".join(sorted(registered(self.lesson))) or "none"
            raise ValueError(
                f"lesson {self.lesson} has no visible checks for {grade_id!r} (known: {known})"
            )
        return checks

    def _run(self, grade_id: str, objs: tuple[Any, ...], out: Any) -> bool:
        """Run the checks of ``grade_id`` on ``objs``, printing to ``out``; keep the verdict."""
        checks = self._checks(grade_id)
        failures = 0
        missing = False
        for c in checks:
            try:
                c.func(*objs)
            except NotImplementedError:
                # A stub: the other checks would only say the same.
                missing = True
                self._print(f"✗ {c.title}: not implemented yet", out)
                break
            except Exception as exc:  # noqa: BLE001 - the student's code, in their own kernel
                failures += 1
                text = str(exc)
                if isinstance(exc, AssertionError):
                    line = f"✗ {c.title}: {text}" if text else f"✗ {c.title}"
                else:
                    line = f"✗ {c.title}: raised {type(exc).__name__}" + (
                        f": {text}" if text else ""
                    )
                self._print(line, out)
                if c.hint:
                    self._print(f"    hint: {c.hint}", out)
            else:
                self._print(f"✓ {c.title}", out)
        if missing:
            self._print(f"{grade_id!r} is not implemented yet.", out)
        elif failures:
            self._print(f"{failures} of {len(checks)} checks failed for {grade_id!r}.", out)
        else:
            self._print(f"All {len(checks)} checks passed for {grade_id!r}.", out)
        passed = not (missing or failures)
        self._verdicts[grade_id] = _Verdict(objs, passed, missing)
        return passed

    def __call__(self, grade_id: str, *objs: Any) -> bool:
        """Run the visible checks of ``grade_id`` on ``objs``, print them; never raises."""
        return self._run(grade_id, objs, None)

    def use(self, grade_id: str, *objs: Any, fallback: Any, name: str | None = None) -> Any:
        """``objs`` if exercise ``grade_id`` passes its visible checks, else ``fallback``.

        One object in, one out; several in, a tuple out (then ``fallback`` is a tuple of as
        many). When the fallback is used, one notice says which and why (module doc).
        """
        if not objs:
            raise TypeError(f"check.use({grade_id!r}, ...) needs the object(s) to check")
        if len(objs) > 1 and not (isinstance(fallback, tuple) and len(fallback) == len(objs)):
            raise TypeError(
                f"check.use({grade_id!r}, ...) got {len(objs)} objects: fallback must be a "
                f"tuple of {len(objs)}"
            )
        verdict = self._verdicts.get(grade_id)
        if verdict is None or not _same(verdict.objs, objs):
            sink = io.StringIO()
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                self._run(grade_id, objs, sink)
            verdict = self._verdicts[grade_id]
        if verdict.passed:
            return objs[0] if len(objs) == 1 else objs
        if name is None:
            name = " and ".join(f"`{getattr(o, '__name__', grade_id)}`" for o in objs)
        several = len(objs) > 1
        why = (
            ("yours are missing" if several else "yours is missing")
            if verdict.missing
            else f"yours did not pass {'their' if several else 'its'} check"
        )
        version = "versions" if several else "version"
        self._print(f'Using nnlite\'s {version} of {name}: {why} (exercise "{grade_id}").')
        return fallback

    def __repr__(self) -> str:
        return f"<nnlite checks for lesson {self.lesson}>"


def _same(kept: tuple[Any, ...], objs: tuple[Any, ...]) -> bool:
    """Whether a kept verdict applies: the same hashable objects (a dict may have changed)."""
    return len(kept) == len(objs) and all(
        a is b and isinstance(b, Hashable) for a, b in zip(kept, objs, strict=True)
    )


def lesson(lesson_name: str) -> Checker:
    """The ``check`` function of a lesson: ``check = lesson("01_autograd")``."""
    if not re.fullmatch(r"\d\d_[A-Za-z0-9_]+", lesson_name):
        raise ValueError(f"lesson names look like '01_autograd', not {lesson_name!r}")
    registered(lesson_name)
    return Checker(lesson_name)
