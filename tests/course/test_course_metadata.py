"""nbgrader v3 cell metadata validation."""

from __future__ import annotations

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from nnlite.course.metadata import cell_problems, notebook_problems


def meta(**kw) -> dict:
    base = {"schema_version": 3, "grade": False, "solution": False, "locked": False}
    base.update(kw)
    return {"nbgrader": base}


@pytest.mark.parametrize(
    "metadata",
    [
        {},
        meta(),  # an ordinary cell nbgrader has seen
        meta(solution=True, grade_id="ex1"),  # autograded answer
        meta(grade=True, locked=True, grade_id="t-1", points=2),  # autograder tests
        meta(grade=True, solution=True, grade_id="manual", points=0.5),  # manually graded code
        meta(locked=True, grade_id="readonly"),
        meta(grade=True, grade_id="g", points=1, cell_type="code", checksum="abc"),
    ],
)
def test_valid_code_cell_metadata(metadata):
    assert cell_problems(new_code_cell("x", metadata=metadata)) == []


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"nbgrader": []}, ["metadata.nbgrader must be an object, not list"]),
        (
            {"nbgrader": {"grade_id": "a"}},
            ["nbgrader metadata lacks 'schema_version', 'grade', 'solution', 'locked'"],
        ),  # fmt: skip
        (
            meta(grade_id="a", max_points=1),
            ["unknown nbgrader metadata key 'max_points' (schema version 3 has no such key)"],
        ),
        (meta(schema_version=2), ["nbgrader schema_version is 2; it must be 3"]),
        (meta(schema_version=True), ["nbgrader schema_version is True; it must be 3"]),
        (meta(grade="yes"), ["nbgrader 'grade' must be true or false, not 'yes'"]),
        (
            meta(solution=True, grade_id="a b"),
            [
                "grade_id 'a b' is invalid: use only letters, digits, '_' and '-' "
                "(nbgrader's pattern ^[a-zA-Z0-9_\\-]*$)"
            ],
        ),
        (meta(grade_id=7), ["grade_id must be a string, not 7"]),
        (
            meta(solution=True),
            ["a grade, solution or locked cell needs a non-empty grade_id"],
        ),
        (
            meta(locked=True, grade_id=""),
            ["a grade, solution or locked cell needs a non-empty grade_id"],
        ),
        (meta(grade=True, grade_id="g"), ["a grade cell needs points (a number >= 0)"]),
        (
            meta(grade=True, grade_id="g", points=None),
            ["a grade cell needs points (a number >= 0)"],
        ),
        (meta(grade=True, grade_id="g", points=-1), ["points must be a number >= 0, not -1"]),
        (meta(grade=True, grade_id="g", points=True), ["points must be a number >= 0, not True"]),
        (meta(grade=True, grade_id="g", points="2"), ["points must be a number >= 0, not '2'"]),
        (
            meta(solution=True, locked=True, grade_id="s"),
            ["a solution cell cannot be locked: students must edit it (set locked to false)"],
        ),
        (
            meta(cell_type="markdown"),
            [
                "nbgrader cell_type is 'markdown' but the cell is 'code' "
                "(the cell's type was changed)"
            ],
        ),
        (meta(task=True, locked=True, grade_id="t"), ["a task cell must be a markdown cell"]),
        (meta(checksum=1), ["nbgrader 'checksum' must be a string"]),
    ],
)
def test_invalid_code_cell_metadata(metadata, expected):
    assert cell_problems(new_code_cell("x", metadata=metadata)) == expected


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        (meta(grade=True, solution=True, grade_id="a", points=1), []),
        (meta(task=True, locked=True, grade_id="task1", points=3), []),
        (
            meta(grade=True, grade_id="a", points=1),
            ["a markdown grade cell must also be a solution cell"],
        ),  # fmt: skip
        (
            meta(solution=True, grade_id="a"),
            [
                "a markdown solution cell must also be a grade cell (with points): "
                "nbgrader grades written answers manually"
            ],
        ),
        (meta(task=True, grade_id="t"), ["a task cell must be locked"]),
        (
            meta(task=True, locked=True, solution=True, grade_id="t"),
            [
                "a task cell cannot be a grade or solution cell",
                "a solution cell cannot be locked: students must edit it (set locked to false)",
            ],
        ),
    ],
)
def test_markdown_cell_rules(metadata, expected):
    assert cell_problems(new_markdown_cell("x", metadata=metadata)) == expected


def test_grade_ids_are_unique_among_graded_solution_and_locked_cells():
    nb = new_notebook(
        cells=[
            new_code_cell("a", metadata=meta(solution=True, grade_id="ex")),
            new_code_cell("b", metadata=meta(grade_id="ex")),  # none of the flags: not counted
            new_code_cell("c", metadata=meta(grade=True, locked=True, grade_id="ex", points=1)),
        ]
    )
    [problem] = notebook_problems(nb, "solutions/01_x.ipynb")
    assert str(problem) == (
        "solutions/01_x.ipynb: cell 2 (grade_id 'ex'): duplicate grade_id 'ex' (also cell 0); "
        "grade_ids must be unique"
    )
