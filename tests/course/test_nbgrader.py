"""The nbgrader round trip with nbgrader itself: ``course nbgrader`` → ``nbgrader
generate_assignment`` → students answer → ``nbgrader autograde`` gives the points
``python -m nnlite grade`` gives; ``nbgrader validate`` fails an unsolved lesson."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from nnlite.course.nbgrader_export import nbgrader_command, nbgrader_notebook
from nnlite.grading.runner import grade_notebook

pytest.importorskip("nbgrader")

REPO = Path(__file__).resolve().parents[2]
LESSON = "01_autograd"


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # nbgrader runs alembic
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=900)  # fmt: skip


def answered(released: nbformat.NotebookNode, source: nbformat.NotebookNode, broken=None):
    """The released notebook with every answer filled in from the source, as a student who
    solved it would; ``broken`` names an exercise answered wrongly (an early return)."""
    nb = copy.deepcopy(released)
    answers = {c.id: c.source for c in source.cells}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            lines = answers[cell.id].split("\n")
            code = "\n".join(ln for ln in lines if "BEGIN SOLUTION" not in ln
                             and "END SOLUTION" not in ln)  # fmt: skip
            if meta["grade_id"] == broken:
                code = code.replace("    grad = np.asarray(grad)", "    return grad", 1)
            cell.source = code
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("nbgrader") / "course"
    assert nbgrader_command(REPO, out, echo=lambda _: None) == 0
    done = nbgrader(out, "generate_assignment", LESSON, "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_every_exercise_becomes_an_autograded_answer_and_a_test_cell():
    nb = nbgrader_notebook(nbformat.read(REPO / "solutions" / f"{LESSON}.ipynb", 4), LESSON)
    answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert all(not c.metadata["nbgrader"]["grade"] for c in answers)  # autograded, not manual
    assert [c.metadata["nbgrader"]["grade_id"] for c in tests] == [
        "test_" + c.metadata["nbgrader"]["grade_id"] for c in answers
    ]
    assert sum(c.metadata["nbgrader"]["points"] for c in tests) == 22
    assert all("### BEGIN HIDDEN TESTS" in c.source for c in tests)


@pytest.fixture(scope="module")
def autograded(course) -> tuple[Path, list[str]]:
    """The course after ``nbgrader autograde`` of a solved, an unsolved and a partly wrong
    notebook (unbroadcast returns early); returns the course folder and the students."""
    released = nbformat.read(course / "release" / LESSON / f"{LESSON}.ipynb", 4)
    source = nbformat.read(course / "source" / LESSON / f"{LESSON}.ipynb", 4)
    submissions = {"solved": answered(released, source), "unsolved": released,
                   "partly": answered(released, source, broken="unbroadcast")}  # fmt: skip
    for student, nb in submissions.items():
        path = course / "submitted" / student / LESSON / f"{LESSON}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nb, path)
    done = nbgrader(course, "autograde", LESSON, "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    return course, list(submissions)


@pytest.mark.slow
def test_autograde_gives_the_points_nnlite_grade_gives(autograded):
    from nbgrader.api import Gradebook

    course, submissions = autograded
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in submissions:
            graded = gb.find_submission_notebook(LESSON, LESSON, student)
            by_nbgrader = {g.name.removeprefix("test_"): g.score for g in graded.grades}
            assert not any(g.needs_manual_grade for g in graded.grades)
            path = course / "submitted" / student / LESSON / f"{LESSON}.ipynb"
            report = grade_notebook(path, lesson=LESSON)
            by_nnlite = {e["name"]: e["score"] for e in report["exercises"]}
            assert by_nbgrader == pytest.approx(by_nnlite), student
    assert sum(by_nnlite.values()) == 19.25  # "partly": unbroadcast keeps 0.25 of its 3 points


@pytest.mark.slow
def test_class_insights_of_the_autograde_run(autograded):
    # `python -m nnlite report` on the nbgrader course: the gradebook's scores and the causes
    # the hidden part of each test cell printed, the same as nnlite grade's report.
    from nnlite.grading.insights import load_class, pattern, summarize

    course, _ = autograded
    summary = summarize(load_class(course), names=True)
    assert summary["sources"] == ["nbgrader"] and summary["graded"] == 3
    [lesson] = summary["lessons"]
    by_name = {e["name"]: e for e in lesson["exercises"]}
    assert by_name["unbroadcast"]["full_marks"] == 1 and by_name["unbroadcast"]["mean"] == 3.25 / 3
    assert all(e["not_attempted"] == 1 for e in lesson["exercises"])  # the unsolved notebook
    report = grade_notebook(course / "submitted" / "partly" / LESSON / f"{LESSON}.ipynb",
                            lesson=LESSON)  # fmt: skip
    [ex] = [e for e in report["exercises"] if e["name"] == "unbroadcast"]
    # Causes that differ only in a shape are one misconception ("wrong shape, expected (…)").
    hints = {}
    for c in ex["causes"]:
        hints.setdefault(pattern(c["message"]), set()).add(c["hint"])
    assert {m["pattern"] for m in lesson["misconceptions"]} == set(hints)
    for m in lesson["misconceptions"]:
        assert m["names"] == ["partly"] and m["hint"] in hints[m["pattern"]]


@pytest.mark.slow
def test_validate_fails_an_unsolved_lesson_and_passes_a_solved_one(course, tmp_path):
    released = course / "release" / LESSON / f"{LESSON}.ipynb"
    done = nbgrader(course, "validate", str(released))
    assert "VALIDATION FAILED ON 6 CELL(S)" in done.stdout, done.stdout + done.stderr
    solved = tmp_path / f"{LESSON}.ipynb"
    source = nbformat.read(course / "source" / LESSON / f"{LESSON}.ipynb", 4)
    nbformat.write(answered(nbformat.read(released, 4), source), solved)
    assert (
        "Success! Your notebook passes all the tests."
        in nbgrader(course, "validate", str(solved)).stdout
    )
