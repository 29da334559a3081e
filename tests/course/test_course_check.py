"""``course check``: every rule, each with its exact message, on small fixture notebooks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from course_helpers import FIXTURES, demo_solution, make_course, write_notebook

from nnlite.course.build import build_course
from nnlite.course.check import check_command, check_course, occurs, significant
from nnlite.course.cli import main

SOL = "solutions/01_demo.ipynb"
LES = "lessons/01_demo.ipynb"


def quiet_build(root: Path) -> int:
    return build_course(root, echo=lambda _: None)


def problems(root: Path) -> list[str]:
    return [str(p) for p in check_course(root).problems]


def test_valid_course_passes(course, capsys):
    assert quiet_build(course) == 0
    assert check_command(course) == 0
    assert capsys.readouterr().out == "OK: 1 lessons\n"


def test_valid_fixture_passes(course_with):
    root = course_with("valid.json")
    assert quiet_build(root) == 0
    assert problems(root) == []


# Each fixture is solutions/01_demo.ipynb of an otherwise valid course; `build` runs first.
CASES = {
    "unclosed_marker.json": [
        f"{SOL}: cell 2 (grade_id 'double'): line 3: ### BEGIN SOLUTION is never closed "
        "(no ### END SOLUTION after it)"
    ],
    "nested_markers.json": [
        f"{SOL}: cell 2 (grade_id 'double'): line 4: nested ### BEGIN SOLUTION inside the region "
        "opened by ### BEGIN SOLUTION at line 3; close it first (regions cannot be nested)"
    ],
    "stray_end_marker.json": [
        f"{SOL}: cell 2 (grade_id 'double'): line 7: ### END SOLUTION without a matching "
        "### BEGIN SOLUTION before it"
    ],
    "untidy_marker.json": [
        f"{SOL}: cell 2 (grade_id 'double'): line 3: a marker line must hold only the marker, "
        "not 'x = x  ### BEGIN SOLUTION' (the whole line is dropped from the lesson)"
    ],
    "bad_grade_id.json": [
        f"{SOL}: cell 2: grade_id 'double it!' is invalid: use only letters, digits, '_' and "
        "'-' (nbgrader's pattern ^[a-zA-Z0-9_\\-]*$)"
    ],
    "duplicate_grade_id.json": [
        f"{SOL}: cell 3 (grade_id 'double'): duplicate grade_id 'double' (also cell 2); "
        "grade_ids must be unique"
    ],
    "missing_points.json": [
        f"{SOL}: cell 2 (grade_id 'double'): a grade cell needs points (a number >= 0)"
    ],
    "locked_solution.json": [
        f"{SOL}: cell 2 (grade_id 'double'): a solution cell cannot be locked: students must "
        "edit it (set locked to false)"
    ],
    "schema_version_2.json": [
        f"{SOL}: cell 2 (grade_id 'double'): nbgrader schema_version is 2; it must be 3"
    ],
    "no_markers_solution.json": [
        f"{SOL}: cell 2 (grade_id 'double'): is a solution cell without a ### BEGIN SOLUTION / "
        "### END SOLUTION region; mark the code students must write"
    ],
    "region_in_plain_cell.json": [
        f"{SOL}: cell 2: has a ### BEGIN SOLUTION region but is not an nbgrader solution cell; "
        "give it metadata nbgrader {solution: true, grade_id: ...}"
    ],
    "hidden_tests_in_plain_cell.json": [
        f"{SOL}: cell 3: has a ### BEGIN HIDDEN TESTS region but is not an nbgrader grade "
        "cell; give it metadata nbgrader {grade: true, points: ..., grade_id: ...}"
    ],
    "missing_title.json": [
        f"{SOL}: cell 0: has no title: the first cell must be markdown starting with '# Title'"
    ],
    "missing_goals.json": [
        f"{SOL}: has no learning-goals cell: add a markdown cell with a heading containing "
        "'Learning goals' followed by a list, before the first exercise cell"
    ],
    "no_outputs.json": [
        f"{SOL}: has no outputs: execute it top to bottom and save it "
        f"(python -m nnlite course execute {SOL})"
    ],
    "stored_error.json": [
        f"{SOL}: cell 3: has a stored error output (NameError: name 'dubble' is not defined)"
    ],
    "leaked_line.json": [
        f"{LES}: cell 4: leaks line 'doubled_value = 2 * x' of a solution region "
        f"({SOL} cell 2 (grade_id 'double'), line 4)"
    ],
    "not_json.json": [
        f"{SOL}: is not valid JSON: Expecting property name enclosed in double quotes "
        "(line 3, column 28)"
    ],
    "bom.json": [
        f"{SOL}: starts with a UTF-8 byte-order mark (BOM); save it as UTF-8 without a BOM"
    ],
    "latin1.json": [f"{SOL}: is not UTF-8 text (invalid byte at offset 115); save it as UTF-8"],
    "nbformat3.json": [
        f"{SOL}: has nbformat 3; this course needs nbformat 4 (save it with Jupyter)"
    ],
    "missing_outputs_key.json": [
        f"{SOL}: cell 3: invalid notebook (nbformat): 'outputs' is a required property"
    ],
    "duplicate_cell_id.json": [f"{SOL}: cell 3: duplicate cell id 'use' (also cell 2)"],
}


@pytest.mark.parametrize("fixture", sorted(CASES))
def test_fixture_problem_is_reported_exactly(course_with, fixture, capsys):
    root = course_with(fixture)
    quiet_build(root)
    assert problems(root) == CASES[fixture]
    assert check_command(root) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "FAILED: 1 problem(s) in 1 file(s)"


def test_every_fixture_file_is_used():
    used = set(CASES) | {"valid.json", "lesson_with_outputs.json"}
    assert {p.name for p in FIXTURES.glob("*.json")} == used


def test_broken_source_builds_nothing(course_with, capsys):
    root = course_with("unclosed_marker.json")
    assert build_course(root) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "build: nothing written; fix the 1 problem(s) above"
    assert not (root / "lessons").exists()


def test_lesson_with_outputs(course_with):
    root = course_with("valid.json")
    quiet_build(root)
    shutil.copyfile(FIXTURES / "lesson_with_outputs.json", root / LES)
    assert problems(root) == [
        f"{LES}: is out of date with {SOL} (first difference: cell 3, its outputs); "
        "run python -m nnlite course build (never edit lessons/ by hand)",
        f"{LES}: cell 3: has outputs; lessons are generated without outputs "
        "(python -m nnlite course build)",
    ]


def test_hand_edited_lesson_is_out_of_date_and_a_pasted_answer_leaks(course):
    quiet_build(course)
    text = (course / LES).read_text(encoding="utf-8")
    pasted = text.replace(
        'raise NotImplementedError(\\"numerical_grad: replace this line with your code\\")',
        "grad.flat[i] = (up - down) / (2 * h)",
    )
    assert pasted != text
    (course / LES).write_text(pasted, encoding="utf-8")
    assert problems(course) == [
        f"{LES}: is out of date with {SOL} (first difference: cell 3 (grade_id "
        "'numerical_grad'), its source); run python -m nnlite course build (never edit "
        "lessons/ by hand)",
        f"{LES}: cell 3 (grade_id 'numerical_grad'): leaks line 'grad.flat[i] = (up - down) / "
        f"(2 * h)' of a solution region ({SOL} cell 3 (grade_id 'numerical_grad'), line 12)",
    ]


def test_hidden_test_lines_count_as_leaks(course):
    nb = demo_solution()
    nb.cells[1].source += "\n\nSee `assert np.allclose(numerical_grad(lambda v: (v**3).sum(), "
    nb.cells[1].source += "np.array([2.0])), [12.0])`."
    write_notebook(course / SOL, nb)
    quiet_build(course)
    [problem] = problems(course)
    assert problem.startswith(f"{LES}: cell 1: leaks line 'assert np.allclose(")
    assert problem.endswith(f"of a hidden-tests region ({SOL} cell 6 (grade_id "
                            "'test_numerical_grad'), line 3)")  # fmt: skip


def test_formatting_only_difference_is_named(course):
    quiet_build(course)
    text = (course / LES).read_text(encoding="utf-8")
    (course / LES).write_text(text.rstrip("\n"), encoding="utf-8")
    assert problems(course) == [
        f"{LES}: is out of date with {SOL} (same content, different JSON formatting); "
        "run python -m nnlite course build (never edit lessons/ by hand)"
    ]


def test_missing_and_orphan_lessons(course):
    quiet_build(course)
    shutil.copyfile(course / LES, course / "lessons" / "02_gone.ipynb")
    (course / LES).unlink()
    assert problems(course) == [
        f"{LES}: is missing: run python -m nnlite course build",
        "lessons/02_gone.ipynb: has no source solutions/02_gone.ipynb; run python -m nnlite "
        "course build to remove it (or restore the solution)",
    ]


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (
            ["01_demo.ipynb", "1_intro.ipynb"],
            [
                "solutions/1_intro.ipynb: file name must be NN_snake_case.ipynb: two digits, '_', "
                "then lowercase words joined by '_' (for example 01_autograd.ipynb)"
            ],
        ),
        (
            ["01_demo.ipynb", "02_Big-Name.ipynb"],
            [
                "solutions/02_Big-Name.ipynb: file name must be NN_snake_case.ipynb: two digits, "
                "'_', then lowercase words joined by '_' (for example 01_autograd.ipynb)"
            ],
        ),
        (
            ["01_demo.ipynb", "03_third.ipynb"],
            ["solutions: lesson numbers must run 01, 02, ... without gaps: 02 missing"],
        ),
        (
            ["02_demo.ipynb"],
            ["solutions: lesson numbers must run 01, 02, ... without gaps: 01 missing"],
        ),
        (
            ["01_demo.ipynb", "01_again.ipynb"],
            [
                "solutions: lesson number 01 is used twice: solutions/01_again.ipynb and "
                "solutions/01_demo.ipynb"
            ],
        ),
    ],
)
def test_naming_and_numbering(tmp_path, names, expected):
    root = make_course(tmp_path / "c", {name: demo_solution() for name in names})
    assert [p for p in problems(root) if "lessons/" not in p] == expected


def test_empty_course_is_not_ok(tmp_path):
    root = make_course(tmp_path / "c", solutions={})
    assert problems(root) == [
        "solutions: has no lesson notebooks (expected solutions/01_topic.ipynb, ...)"
    ]


def test_cli_check_and_build_exit_codes(course, capsys):
    assert main(["check", "--root", str(course)]) == 1
    assert main(["build", "--root", str(course)]) == 0
    assert main(["check", "--root", str(course)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "OK: 1 lessons"
    assert main(["build", "--root", str(course / "nowhere")]) == 2


@pytest.mark.parametrize(
    "line",
    [
        "",
        "   ",
        ")",
        "]):",
        "x = 0",
        "i += 1",
        "pass",
        "return",
        "return out",
        "return -x",
        "return self.data",
        "return None",
        "self.lr = lr",
        "raise ValueError(",
        "loss.backward()",
        "if grad is None:",
        "else:",
        "...",
    ],
)
def test_trivial_lines_are_not_leak_candidates(line):
    assert not significant(line)


@pytest.mark.parametrize(
    "line",
    [
        "out = x @ W.T + b",
        "grad = g * (x > 0)",
        "return (f(x + h) - f(x - h)) / (2 * h)",
        "# divide by both norms",
        "n = len(x)",
        "doubled_value = 2 * x",
        "Their truncation error shrinks like h squared.",
    ],
)
def test_substantive_lines_are_leak_candidates(line):
    assert significant(line)


def test_a_lesson_may_not_show_another_lessons_answer(tmp_path):
    second = demo_solution()
    second.cells[1].source += "\n\nRecall: `grad.flat[i] = (up - down) / (2 * h)`."
    second.cells[3].source = (
        "def numerical_grad(f, x, h=1e-6):\n    ### BEGIN SOLUTION\n"
        "    return nnlite_reference(f, x, h)\n    ### END SOLUTION"
    )
    root = make_course(tmp_path / "c", {"01_demo.ipynb": demo_solution(), "02_next.ipynb": second})
    quiet_build(root)
    assert problems(root) == [
        "lessons/02_next.ipynb: cell 1: leaks line 'grad.flat[i] = (up - down) / (2 * h)' of a "
        "solution region (solutions/01_demo.ipynb cell 3 (grade_id 'numerical_grad'), line 12)"
    ]


def test_occurs_respects_identifier_boundaries():
    assert occurs("total = x.sum()", "    total = x.sum()  # ok")
    assert not occurs("total = x.sum()", "subtotal = x.sum()")
    assert not occurs("n = len(x)", "n = len(xs)")
    assert occurs("(a + b)", "y=(a + b)*2")
    assert occurs("n = len(x)", "n = len(xs); n = len(x)")
