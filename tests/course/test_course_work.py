"""A student's work is never overwritten by ``course build``; ``course reset`` restores a lesson."""

from __future__ import annotations

import shutil

import nbformat
from course_helpers import demo_solution, write_notebook
from nbformat.v4 import new_code_cell

from nnlite.course.build import build_course
from nnlite.course.cli import main as course_main
from nnlite.course.release import release_course
from nnlite.course.work import ORIGINALS, edited_cells, reset_lesson

SOL = "solutions/01_demo.ipynb"
LES = "lessons/01_demo.ipynb"
SOLVED = "    for i in range(x.size):\n        grad.flat[i] = 1.0\n    return grad"


def build(root, force=False):
    lines: list[str] = []
    status = build_course(root, echo=lines.append, force=force)
    return status, lines


def solve(root, text=SOLVED):
    """What a student does: replace the stub of the exercise cell, and save."""
    nb = nbformat.read(root / LES, as_version=4)
    cell = next(c for c in nb.cells if c.id == "exercise")
    cell.source = cell.source.split("    # YOUR CODE HERE")[0] + text
    nbformat.write(nb, root / LES)
    return (root / LES).read_bytes()


def change_solution(root):
    """What an author does: edit a solution notebook, then build again."""
    nb = nbformat.read(root / SOL, as_version=4)
    nb.cells[0].source += "\n\nA new sentence."
    write_notebook(root / SOL, nb)


def test_an_untouched_lesson_is_rebuilt_when_its_solution_changes(course):
    assert build(course)[0] == 0
    change_solution(course)
    status, lines = build(course)
    assert status == 0 and lines[0] == "wrote lessons/01_demo.ipynb"
    assert "A new sentence." in (course / LES).read_text(encoding="utf-8")


def test_a_solved_lesson_is_kept_and_named(course):
    build(course)
    mine = solve(course)
    change_solution(course)
    status, lines = build(course)
    assert status == 1
    assert (course / LES).read_bytes() == mine
    assert lines[0].startswith("kept lessons/01_demo.ipynb: it was edited since it was built")
    assert "(exercise 'numerical_grad')" in lines[0] and "course reset 01_demo" in lines[0]
    assert lines[-1].endswith("1 kept because they hold someone's work)")


def test_force_overwrites_it(course):
    build(course)
    solve(course)
    status, _ = build(course, force=True)
    assert status == 0
    assert "YOUR CODE HERE" in (course / LES).read_text(encoding="utf-8")


def test_added_and_deleted_cells_count_as_work(course):
    build(course)
    nb = nbformat.read(course / LES, as_version=4)
    nb.cells.append(new_code_cell("my_notes = 1", id="mine"))
    del nb.cells[1]
    found = edited_cells(nb)
    assert f"cell {len(nb.cells) - 1} (added)" in found and "1 deleted cell(s)" in found


def test_a_stale_lesson_with_work_is_not_removed(course):
    build(course)
    solve(course)
    shutil.move(course / SOL, course / "solutions.bak.ipynb")
    (course / "solutions" / "01_demo.ipynb").unlink(missing_ok=True)
    write_notebook(course / "solutions" / "01_other.ipynb", demo_solution())
    status, lines = build(course)
    assert status == 1 and (course / LES).exists()
    assert any(line.startswith("kept lessons/01_demo.ipynb") for line in lines)


def test_lessons_built_before_fingerprints_count_as_work_only_when_solved(course):
    build(course)
    nb = nbformat.read(course / LES, as_version=4)
    del nb.metadata["nnlite"]["built"]
    assert edited_cells(nb) == []  # still the stubs
    cell = next(c for c in nb.cells if c.id == "exercise")
    cell.source = cell.source.replace("raise NotImplementedError", "return grad  #")
    assert edited_cells(nb) == ["cell 3 (exercise 'numerical_grad')"]


def test_reset_restores_the_original_and_keeps_the_students_version(course):
    build(course)
    original = (course / LES).read_bytes()
    mine = solve(course)
    lines: list[str] = []
    assert reset_lesson(course, "01", echo=lines.append) == 0
    assert (course / LES).read_bytes() == original
    assert (course / "lessons" / "01_demo.ipynb.bak").read_bytes() == mine
    assert lines == [
        "kept your version as lessons/01_demo.ipynb.bak",
        "reset: lessons/01_demo.ipynb is the original lesson again",
    ]
    solve(course)
    assert reset_lesson(course, "lessons/01_demo.ipynb", echo=lines.append) == 0
    assert (course / "lessons" / "01_demo.ipynb.bak2").read_bytes() == mine
    assert reset_lesson(course, "01_demo", echo=lines.append) == 0
    assert lines[-1] == "reset: lessons/01_demo.ipynb is already the original; nothing changed"


def test_reset_of_an_unknown_lesson_lists_the_lessons(course, capsys):
    build(course)
    assert course_main(["reset", "07", "--root", str(course)]) == 2
    out = capsys.readouterr().out
    assert "no original of '07.ipynb' here" in out and "lessons: 01_demo.ipynb" in out


def test_reset_in_a_handout_uses_its_original_copies(course, tmp_path):
    build(course)
    out = tmp_path / "handout"
    assert release_course(course, out, echo=lambda _: None) == 0
    assert (out / ORIGINALS / "01_demo.ipynb").read_bytes() == (out / LES).read_bytes()
    original = (out / LES).read_bytes()
    solve(out)
    assert reset_lesson(out, "01", echo=lambda _: None) == 0
    assert (out / LES).read_bytes() == original
