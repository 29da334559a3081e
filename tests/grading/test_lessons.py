"""Every lesson with a grader: its solution scores full marks and its generated lesson notebook
(stubs) scores 0 with status "missing" on every exercise, through the real CLI path."""

from __future__ import annotations

from pathlib import Path

import pytest
from gradingkit import Grader

from nnlite.grading.runner import known_lessons

REPO = Path(__file__).resolve().parents[2]
GRADERS = REPO / "tests" / "graders"
LESSONS = known_lessons(GRADERS)


@pytest.mark.parametrize(
    "lesson", LESSONS or [pytest.param(None, marks=pytest.mark.skip("no lessons yet"))]
)
def test_solution_full_marks_and_stubs_missing(lesson, tmp_path):
    grade = Grader(tmp_path, timeout=10.0)
    sol = REPO / "solutions" / f"{lesson}.ipynb"
    rep = grade(sol, graders_dir=GRADERS)
    assert rep["grader_faults"] == []
    bad = [
        (e["name"], t["name"], t["message"])
        for e in rep["exercises"]
        for t in e["tests"]
        if t["status"] != "passed"
    ]
    assert bad == []
    assert rep["score"] == rep["max_score"] > 0
    stub = REPO / "lessons" / f"{lesson}.ipynb"
    if not stub.exists():
        pytest.skip(f"lessons/{lesson}.ipynb not generated")
    rep = grade(stub, graders_dir=GRADERS)
    assert rep["grader_faults"] == []
    assert rep["score"] == 0
    assert {e["name"]: e["status"] for e in rep["exercises"]} == {
        e["name"]: "missing" for e in rep["exercises"]
    }
