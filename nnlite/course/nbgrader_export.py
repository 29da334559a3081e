"""``python -m nnlite course nbgrader OUT/``: the course as an nbgrader course directory.

The lessons students open directly (``lessons/``) never raise in a check cell, so Run All always
finishes. nbgrader's model is different: an *autograded answer* cell holds the student's code
and an *autograder tests* cell after it earns its points by running without an error. This
export turns each solution notebook into nbgrader's ``source/NN_topic/NN_topic.ipynb``:

* each exercise cell becomes an autograded answer (``solution: true``, ``grade: false``);
* the exercise's ``check(...)`` cell becomes its autograder test cell, worth the exercise's
  points, whose hidden part grades the exercise with the course's own graders
  (:mod:`nnlite.grading.nbgrader_cells`), so ``nbgrader autograde`` gives the points
  ``python -m nnlite grade`` gives, and whose visible part raises while the checks fail, so
  ``nbgrader validate`` fails an unsolved lesson.

OUT also gets ``nbgrader_config.py`` and, under ``graders/``, the graders and solutions the hidden
parts use (``NNLITE_GRADERS`` points there). What nbgrader's model gives up: student code and
tests share one kernel, so a submission can tamper with what the test cells see; the sandbox of
``nnlite grade`` still isolates each exercise's grading, but not the kernel around it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell

from nnlite.checks.cli import check_calls
from nnlite.course.build import SOLUTIONS, notebook_files
from nnlite.course.bundle import write_grading_tree
from nnlite.course.notebooks import clear_outputs, grade_id, is_solution

NBGRADER_CONFIG = """\
# nbgrader configuration written by `python -m nnlite course nbgrader`.
import os

c = get_config()  # noqa: F821 (nbgrader provides it)
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
# The hidden tests grade with the course's graders, kept beside this file.
os.environ["NNLITE_GRADERS"] = os.path.join(c.CourseDirectory.root, "graders", "tests", "graders")
# Grading an exercise runs the course's graders in a sandbox; allow for it.
c.ExecutePreprocessor.timeout = 600
"""


def _test_cell(lesson: str, gid: str, points: float, args: list[str]) -> NotebookNode:
    source = "\n".join(
        [
            f'# Tests of exercise "{gid}" ({points:g} points): the checks, and hidden tests.',
            "from nnlite.grading.nbgrader_cells import visible_or_score",
            "### BEGIN HIDDEN TESTS",
            "from nnlite.grading.nbgrader_cells import hidden_score",
            f'hidden_score("{lesson}", "{gid}", In)',
            "### END HIDDEN TESTS",
            f'visible_or_score(check, "{gid}", {", ".join(args)})',
        ]
    )
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                 "points": points, "grade_id": f"test_{gid}",
                                 "schema_version": 3}  # fmt: skip
    return cell


def nbgrader_notebook(solution: NotebookNode, lesson: str) -> NotebookNode:
    """The nbgrader source notebook of one solution notebook (a new notebook)."""
    nb = copy.deepcopy(solution)
    clear_outputs(nb)
    points: dict[str, float] = {}
    for cell in nb.cells:
        if is_solution(cell) and cell.cell_type == "code" and grade_id(cell):
            meta = cell.metadata["nbgrader"]
            points[meta["grade_id"]] = float(meta.get("points", 0))
            meta.update({"solution": True, "grade": False, "locked": False})
            meta.pop("points", None)
    done: set[str] = set()
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or is_solution(cell):
            continue
        calls = [(gid, args) for gid, args in check_calls(cell.source) if gid in points]
        if len(calls) == 1 and calls[0][0] not in done:
            gid, args = calls[0]
            replacement = _test_cell(lesson, gid, points[gid], args)
            replacement.id = cell.get("id") or f"test-{gid}"
            nb.cells[i] = replacement
            done.add(gid)
    missing = sorted(set(points) - done)
    if missing:
        raise ValueError(f"{lesson}: no check(...) cell for exercise(s) {', '.join(missing)}")
    return nb


def nbgrader_command(root: Path, out: Path, echo: Callable[[str], object] = print) -> int:
    """Write the nbgrader course directory for every lesson of ``root`` into ``out``."""
    root, out = Path(root), Path(out)
    if out.exists() and any(out.iterdir()):
        echo(f"nbgrader: refused: {out} is not empty")
        return 1
    lessons = []
    for path in notebook_files(root / SOLUTIONS):
        lesson = path.stem
        try:
            nb = nbgrader_notebook(nbformat.read(path, as_version=4), lesson)
        except ValueError as exc:
            echo(f"nbgrader: {exc}")
            return 1
        target = out / "source" / lesson / f"{lesson}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        lessons.append(lesson)
    write_grading_tree(root, out / "graders", lessons)
    (out / "nbgrader_config.py").write_text(NBGRADER_CONFIG, encoding="utf-8")
    echo(f"nbgrader: wrote {out} ({len(lessons)} assignments in source/; then, inside it: "
         "nbgrader generate_assignment NN_topic, nbgrader autograde NN_topic)")  # fmt: skip
    return 0
