"""Helpers for testing graders: grade the solution notebook with mutants swapped in.

A mutant is source code appended as a last cell of a copy of the solution notebook; since the
last definition of a name wins, it replaces the solution's definition for grading::

    from nnlite.grading.testing import grade_with

    def test_rel_error_mutant_forgets_b():
        rep = grade_with("01_autograd", {"rel_error": '''
    def rel_error(a, b, eps=1e-12):
        return float(np.max(np.abs(a - b) / np.maximum(np.abs(a), eps)))
    '''})
        ex = rep.exercise("rel_error")
        assert ex["score"] < ex["max_score"]
        assert any("divide" in (t["hint"] or "") for t in ex["tests"] if t["status"] != "passed")
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from nnlite.grading.runner import default_graders_dir, grade_notebook


class GradeResult(dict):
    """A report dict with lookups: ``.exercise(name)``, ``.test(name)``."""

    def exercise(self, name: str) -> dict[str, Any]:
        for ex in self["exercises"]:
            if ex["name"] == name:
                return ex
        raise KeyError(name)

    def test(self, name: str) -> dict[str, Any]:
        for ex in self["exercises"]:
            for t in ex["tests"]:
                if t["name"] == name:
                    return t
        raise KeyError(name)

    def statuses(self) -> dict[str, str]:
        return {ex["name"]: ex["status"] for ex in self["exercises"]}


def solution_path(lesson: str, graders_dir: str | Path | None = None) -> Path:
    graders = Path(graders_dir) if graders_dir else default_graders_dir()
    from nnlite.grading.plugin import find_solution

    sol = find_solution(graders / f"test_{lesson}.py", lesson)
    if sol is None:
        raise FileNotFoundError(f"no solutions/{lesson}.ipynb near {graders}")
    return sol


def notebook_with(base: str | Path, cells: list[str]) -> dict[str, Any]:
    """The JSON of notebook ``base`` with code cells appended."""
    nb = json.loads(Path(base).read_text(encoding="utf-8"))
    for i, src in enumerate(cells):
        nb["cells"].append(
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"mutant-{i}",
                "metadata": {},
                "outputs": [],
                "source": textwrap.dedent(src).strip("\n"),
            }
        )
    return nb


def grade_with(
    lesson: str,
    replacements: dict[str, str] | list[str] | None = None,
    *,
    graders_dir: str | Path | None = None,
    base: str | Path | None = None,
    **kwargs: Any,
) -> GradeResult:
    """Grade the lesson's solution notebook (or ``base``) with mutant cells appended."""
    graders = Path(graders_dir) if graders_dir else default_graders_dir()
    src = Path(base) if base else solution_path(lesson, graders)
    cells = (
        list(replacements.values()) if isinstance(replacements, dict) else list(replacements or [])
    )
    tmp = Path(tempfile.mkdtemp(prefix="nnlite-mutant-"))
    try:
        path = tmp / f"{lesson}.ipynb"
        path.write_text(json.dumps(notebook_with(src, cells)), encoding="utf-8")
        rep = grade_notebook(path, lesson=lesson, graders_dir=graders, **kwargs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return GradeResult(rep)


def exercise_source(lesson: str, grade_id: str) -> str:
    """The source of an exercise's solution cell in the lesson's solution notebook, without the
    solution markers: the starting point of a mutant."""
    nb = json.loads(solution_path(lesson).read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "code" and meta.get("grade_id") == grade_id:
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            return "\n".join(
                line for line in src.splitlines() if not re.search(r"(BEGIN|END) SOLUTION", line)
            )
    raise KeyError(grade_id)


def mutate(lesson: str, grade_id: str, *edits: tuple[str, str]) -> str:
    """The exercise cell with each (old, new) replacement applied; every ``old`` must occur."""
    src = exercise_source(lesson, grade_id)
    for old, new in edits:
        assert old in src, f"mutant of {grade_id!r}: {old!r} not found in the solution"
        src = src.replace(old, new)
    return src


def grade_cells(lesson: str, cells: dict[str, str], only: list[str] | None = None) -> GradeResult:
    """:func:`grade_with`, asserting that the grader itself had no fault."""
    rep = grade_with(lesson, cells, only=only)
    assert not rep.get("grader_faults"), rep.get("grader_faults")
    return rep
