"""``course build``: what a generated lesson contains, stable bytes, idempotence."""

from __future__ import annotations

import json
import os

import nbformat
from course_helpers import demo_solution, make_course, nbgrader, write_notebook
from nbformat.v4 import new_markdown_cell

from nnlite.course.build import build_course
from nnlite.course.check import check_course
from nnlite.course.markers import TEXT_STUB

SOL = "solutions/01_demo.ipynb"
LES = "lessons/01_demo.ipynb"


def build(root, lines=None):
    return build_course(root, echo=(lines.append if lines is not None else lambda _: None))


def lesson(root):
    return nbformat.read(root / LES, as_version=4)


def test_lesson_content(course):
    assert build(course) == 0
    solution = nbformat.read(course / SOL, as_version=4)
    nb = lesson(course)
    assert [c.id for c in nb.cells] == [c.id for c in solution.cells]
    built = nb.metadata["nnlite"].pop("built")  # fingerprints of the built cells (work.py)
    assert set(built) == {c.id for c in nb.cells}
    if not nb.metadata["nnlite"]:
        del nb.metadata["nnlite"]
    assert nb.metadata == solution.metadata
    for sc, lc in zip(solution.cells, nb.cells, strict=True):
        assert lc.metadata == sc.metadata  # nbgrader metadata kept for instructors
        if lc.cell_type == "code":
            assert lc.outputs == [] and lc.execution_count is None
    by_id = {c.id: c for c in nb.cells}
    assert "for i in range(x.size):" not in by_id["exercise"].source
    assert by_id["exercise"].source.endswith(
        '    # YOUR CODE HERE\n    raise NotImplementedError("numerical_grad: replace this line '
        'with your code")\n    return grad'
    )
    assert "scaled_value" not in by_id["method"].source
    assert 'NotImplementedError("scaler: replace' in by_id["method"].source
    assert by_id["tests"].source == (
        "assert numerical_grad(lambda v: v.sum(), np.ones(3)).shape == (3,)"
    )
    assert by_id["answer"].source.endswith("\n\nYOUR ANSWER HERE")
    for untouched in ("title", "goals", "imports", "use", "end"):
        assert by_id[untouched].source == {c.id: c for c in solution.cells}[untouched].source
    nbformat.validate(nb)


def test_build_is_idempotent_and_byte_stable(course):
    lines: list[str] = []
    assert build(course, lines) == 0
    assert lines == ["wrote lessons/01_demo.ipynb", "build: 1 lessons (1 written, 0 unchanged, "
                     "0 removed)"]  # fmt: skip
    first = (course / LES).read_bytes()
    os.utime(course / LES, (1, 1))
    lines.clear()
    assert build(course, lines) == 0
    assert lines == ["build: 1 lessons (0 written, 1 unchanged, 0 removed)"]
    assert (course / LES).read_bytes() == first
    assert (course / LES).stat().st_mtime == 1  # not even rewritten
    (course / LES).unlink()
    build(course)
    assert (course / LES).read_bytes() == first


def test_format_is_jupyters(course):
    build(course)
    text = (course / LES).read_text(encoding="utf-8")
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text.startswith('{\n "cells": [\n  {\n')
    assert text == nbformat.writes(nbformat.reads(text, as_version=4)) + "\n"
    assert list(json.loads(text)) == sorted(json.loads(text))


def test_build_does_not_touch_solutions(course):
    before = (course / SOL).read_bytes()
    build(course)
    assert (course / SOL).read_bytes() == before


def test_run_metadata_is_dropped(course):
    nb = demo_solution()
    nb.cells[2].metadata["execution"] = {"iopub.execute_input": "2024-01-01T00:00:00Z"}
    nb.cells[2].metadata["collapsed"] = False
    nb.cells[2].metadata["tags"] = ["keep-me"]
    write_notebook(course / SOL, nb)
    build(course)
    assert lesson(course).cells[2].metadata == {"tags": ["keep-me"]}


def test_markdown_answer_cell_without_markers(course):
    nb = demo_solution()
    meta = nbgrader("essay", grade=True, solution=True, points=2)
    nb.cells.append(new_markdown_cell("The reference answer, in full.", id="essay", metadata=meta))
    write_notebook(course / SOL, nb)
    build(course)
    assert lesson(course).cells[-1].source == TEXT_STUB


def test_stale_lessons_are_removed_with_a_message(course):
    build(course)
    stale = (course / LES).read_text(encoding="utf-8")  # an untouched built lesson
    (course / "lessons" / "02_old.ipynb").write_text(stale, encoding="utf-8")
    (course / "lessons" / "notes.txt").write_text("not a notebook", encoding="utf-8")
    lines: list[str] = []
    build(course, lines)
    assert lines == [
        "removed lessons/02_old.ipynb (its source solutions/02_old.ipynb no longer exists)",
        "build: 1 lessons (0 written, 1 unchanged, 1 removed)",
    ]
    assert (course / "lessons" / "notes.txt").exists()


def test_notebook_without_cell_ids_gets_none_invented(tmp_path):
    nb = demo_solution()
    nb.nbformat_minor = 4
    for cell in nb.cells:
        del cell["id"]
    root = make_course(tmp_path / "c", {})
    (root / SOL).write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")
    build(root)
    first = (root / LES).read_bytes()
    assert b'"id"' not in first
    (root / LES).unlink()
    build(root)
    assert (root / LES).read_bytes() == first


def test_missing_solutions_folder(tmp_path):
    lines: list[str] = []
    assert build(tmp_path, lines) == 2
    assert lines == [
        f"build: no solutions/ folder in {tmp_path}; run it from the course root or pass --root"
    ]


def test_a_whole_markdown_answer_counts_as_a_solution_region(course):
    nb = demo_solution()
    meta = nbgrader("essay", grade=True, solution=True, points=2)
    nb.cells.append(new_markdown_cell("Intro.\n\nThe reference answer, in full.", id="essay",
                                      metadata=meta))  # fmt: skip
    nb.cells[1].source += "\n- The reference answer, in full."
    write_notebook(course / SOL, nb)
    build(course)
    [problem] = check_course(course).problems
    assert str(problem) == (
        f"{LES}: cell 1: leaks line 'The reference answer, in full.' of a solution region "
        f"({SOL} cell 9 (grade_id 'essay'), line 3)"
    )


def test_written_lessons_have_ordinary_permissions(course):
    old = os.umask(0o022)
    try:
        build(course)
    finally:
        os.umask(old)
    assert (course / LES).stat().st_mode & 0o777 == 0o644
