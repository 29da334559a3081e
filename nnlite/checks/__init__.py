"""Visible checks: immediate feedback inside a lesson notebook.

In a lesson::

    from nnlite.checks import lesson
    check = lesson("01_autograd")
    ...
    check("rel_error", rel_error)      # after the exercise cell

``check`` runs the visible tests registered for that exercise, prints one line per test
(``✓``/``✗``, the message, the hint) and raises ``AssertionError`` summarising the failures, so
the cell turns red. A stub that still raises ``NotImplementedError`` is re-raised as is, so the
cell shows the stub's own error. These checks run **in the student's kernel**: they are
feedback, not a verdict (the verdict comes from ``python -m nnlite grade``, which runs the
hidden graders against a sandboxed copy of the notebook). They may show values.

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

import dataclasses
import importlib
import re
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["visible", "lesson", "Checker", "CheckFailed", "registered"]

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


class CheckFailed(AssertionError):
    """Raised by ``check(...)`` when at least one visible check failed."""


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


class Checker:
    """``check(grade_id, obj, ...)`` for one lesson."""

    def __init__(self, lesson_name: str, out: Any = None):
        self.lesson = lesson_name
        self._out = out

    def _print(self, text: str) -> None:
        out = self._out or sys.stdout
        try:
            print(text, file=out)
        except UnicodeEncodeError:
            print(text.replace("✓", "ok").replace("✗", "X"), file=out)

    def __call__(self, grade_id: str, *objs: Any) -> None:
        checks = registered(self.lesson).get(grade_id)
        if not checks:
            known = ", ".join(sorted(registered(self.lesson))) or "none"
            raise ValueError(
                f"lesson {self.lesson} has no visible checks for {grade_id!r} (known: {known})"
            )
        failures = 0
        for c in checks:
            try:
                c.func(*objs)
            except NotImplementedError:
                self._print(f"✗ {c.title}: not implemented yet")
                raise
            except AssertionError as exc:
                failures += 1
                self._print(f"✗ {c.title}: {exc}" if str(exc) else f"✗ {c.title}")
                if c.hint:
                    self._print(f"    hint: {c.hint}")
            except Exception as exc:  # noqa: BLE001 - the student's code, in their own kernel
                failures += 1
                text = str(exc)
                self._print(
                    f"✗ {c.title}: raised {type(exc).__name__}" + (f": {text}" if text else "")
                )
                if c.hint:
                    self._print(f"    hint: {c.hint}")
            else:
                self._print(f"✓ {c.title}")
        if failures:
            raise CheckFailed(f"{failures} of {len(checks)} checks failed for {grade_id!r}")
        self._print(f"All {len(checks)} checks passed for {grade_id!r}.")

    def __repr__(self) -> str:
        return f"<nnlite checks for lesson {self.lesson}>"


def lesson(lesson_name: str) -> Checker:
    """The ``check`` function of a lesson: ``check = lesson("01_autograd")``."""
    if not re.fullmatch(r"\d\d_[A-Za-z0-9_]+", lesson_name):
        raise ValueError(f"lesson names look like '01_autograd', not {lesson_name!r}")
    registered(lesson_name)
    return Checker(lesson_name)
