"""What the autograder test cells of the nbgrader export call (``course nbgrader``).

Each exercise gets one nbgrader test cell worth the exercise's points::

    ### BEGIN HIDDEN TESTS
    hidden_score("01_autograd", "rel_error", In)
    ### END HIDDEN TESTS
    visible_or_score(check, "rel_error", rel_error)

Students see only the last line. It runs the lesson's visible checks and raises when they fail,
so ``nbgrader validate`` fails an unsolved lesson. When ``nbgrader autograde`` runs the cell with
its hidden part, :func:`hidden_score` first grades the exercise with the course's own graders
(sandboxed, exactly as ``python -m nnlite grade`` does) on the code the kernel has run so far,
and :func:`visible_or_score` then returns that score instead of raising: nbgrader takes a
number as the cell's partial credit, so its points equal ``nnlite grade``'s.

Nothing here writes to stderr: nbgrader gives a test cell no credit for any stderr output.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from pathlib import Path
from typing import Any

_scores: dict[str, float] = {}


def _notebook_from_history(history: list[str], lesson: str, path: Path) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell(src) for src in history if src.strip()])
    nb.metadata["nnlite"] = {"lesson": lesson}
    nbformat.write(nb, path)


def hidden_score(lesson: str, grade_id: str, history: list[str]) -> float:
    """Grade one exercise on the cells run so far (``In``); prints what went wrong and returns
    the points, which :func:`visible_or_score` hands to nbgrader."""
    from nnlite.grading.runner import grade_notebook

    with contextlib.redirect_stderr(sys.stdout), tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{lesson}.ipynb"
        _notebook_from_history(list(history), lesson, path)
        report = grade_notebook(path, lesson=lesson, only=[grade_id], student="nbgrader")
    exercise = next((e for e in report["exercises"] if e["name"] == grade_id), None)
    if exercise is None or report["grader_faults"]:
        print(f"The hidden tests of {grade_id!r} could not run; tell your instructor.")
        score = 0.0
    else:
        score = float(exercise["score"])
        print(f"Hidden tests of {grade_id!r}: {score:g} / {exercise['max_score']:g} points")
        for cause in exercise.get("causes", []):
            print(f"  ✗ {cause['message']} (-{cause['points_lost']:g})")
            if cause.get("hint"):
                print(f"    hint: {cause['hint']}")
    _scores[grade_id] = score
    return score


def visible_or_score(check: Any, grade_id: str, *objs: Any) -> float | None:
    """Run the exercise's visible checks; return the hidden score when one was computed,
    else raise AssertionError if the checks fail (None, full credit, if they pass)."""
    passed = check(grade_id, *objs)
    if grade_id in _scores:
        return _scores.pop(grade_id)
    if not passed:
        raise AssertionError(f"exercise {grade_id!r} does not pass its checks yet (see above)")
    return None
