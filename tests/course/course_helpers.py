"""Helpers for the pipeline tests: a small fixture course with one valid, executed solution.

(A module with a unique name rather than ``conftest`` so test files can import it safely; the
pytest fixtures are registered by ``conftest.py``.)
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

FIXTURES = Path(__file__).parent / "fixtures"

EXERCISE_SOURCE = '''\
def numerical_grad(f, x, h=1e-6):
    """Central differences of a scalar function f at x (any shape); x is left unchanged."""
    grad = np.zeros(x.shape, dtype=float)
    ### BEGIN SOLUTION
    for i in range(x.size):
        old = x.flat[i]
        x.flat[i] = old + h
        up = f(x)
        x.flat[i] = old - h
        down = f(x)
        x.flat[i] = old
        grad.flat[i] = (up - down) / (2 * h)
    ### END SOLUTION
    return grad'''

METHOD_SOURCE = '''\
class Scaler:
    def __init__(self, factor):
        self.factor = factor

    def __call__(self, x):
        """Multiply x by the factor."""
        ### BEGIN SOLUTION
        scaled_value = x * self.factor
        return scaled_value
        ### END SOLUTION'''

TEST_SOURCE = """\
assert numerical_grad(lambda v: v.sum(), np.ones(3)).shape == (3,)
### BEGIN HIDDEN TESTS
assert np.allclose(numerical_grad(lambda v: (v**3).sum(), np.array([2.0])), [12.0])
### END HIDDEN TESTS"""

ANSWER_SOURCE = """\
Why central rather than forward differences?

### BEGIN SOLUTION
Their truncation error shrinks like h squared instead of h.
### END SOLUTION"""


def nbgrader(
    grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False, **extra
) -> dict:
    """nbgrader v3 cell metadata."""
    meta = {"schema_version": 3, "grade": grade, "solution": solution, "locked": locked}
    meta["grade_id"] = grade_id
    meta.update(extra)
    return {"nbgrader": meta}


def stdout(text: str) -> NotebookNode:
    """A stdout stream output."""
    return new_output("stream", name="stdout", text=text)


def demo_solution() -> NotebookNode:
    """A complete, 'executed' solution notebook (outputs written by hand, ids fixed)."""
    cells = [
        new_markdown_cell(
            "# Demo: gradients you can trust\n\nWhich derivative is right?", id="title"
        ),
        new_markdown_cell(
            "## Learning goals\n\n- compute central differences\n- check a gradient", id="goals"
        ),
        new_code_cell("import numpy as np", id="imports", execution_count=1),
        new_code_cell(
            EXERCISE_SOURCE,
            id="exercise",
            execution_count=2,
            metadata=nbgrader("numerical_grad", solution=True),
        ),
        new_code_cell(
            "print(numerical_grad(lambda v: (v**2).sum(), np.array([1.0, 2.0])).round(6))",
            id="use",
            execution_count=3,
            outputs=[stdout("[2. 4.]\n")],
        ),
        new_code_cell(
            METHOD_SOURCE,
            id="method",
            execution_count=4,
            metadata=nbgrader("scaler", solution=True),
        ),
        new_code_cell(
            TEST_SOURCE,
            id="tests",
            execution_count=5,
            metadata=nbgrader("test_numerical_grad", grade=True, locked=True, points=2),
        ),
        new_markdown_cell(
            ANSWER_SOURCE,
            id="answer",
            metadata=nbgrader("why_central", grade=True, solution=True, points=1),
        ),
        new_code_cell(
            "print('the end')", id="end", execution_count=6, outputs=[stdout("the end\n")]
        ),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return nb


def write_notebook(path: Path, nb: NotebookNode) -> Path:
    """Write a notebook in the canonical format."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8", newline="")
    return path


def make_course(root: Path, solutions: dict[str, NotebookNode] | None = None) -> Path:
    """A course root: solutions/, a tiny nnlite/ package, requirements and pyproject."""
    if solutions is None:
        solutions = {"01_demo.ipynb": demo_solution()}
    (root / "solutions").mkdir(parents=True, exist_ok=True)
    for name, nb in solutions.items():
        write_notebook(root / "solutions" / name, nb)
    package = root / "nnlite"
    (package / "datafiles").mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text('"""A stand-in for nnlite."""\n', encoding="utf-8")
    (package / "datafiles" / "DATA.md").write_text("# Data notice\n", encoding="utf-8")
    (package / "__pycache__").mkdir(exist_ok=True)
    (package / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\x00cache")
    (root / "requirements.txt").write_text("numpy>=1.24\n", encoding="utf-8")
    (root / "pyproject.toml").write_text('[project]\nname = "nnlite"\n', encoding="utf-8")
    graders = root / "tests" / "graders"
    graders.mkdir(parents=True, exist_ok=True)
    (graders / "test_01_demo.py").write_text(
        "def test_hidden(student):\n    assert student.numerical_grad is not None\n",
        encoding="utf-8",
    )
    return root


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A fixture course with one valid solution and no lessons yet."""
    return make_course(tmp_path / "course")


@pytest.fixture
def course_with(tmp_path: Path) -> Callable[..., Path]:
    """Factory: a course whose solutions/01_demo.ipynb is the given fixture file or notebook."""

    def make(source: str | NotebookNode, name: str = "01_demo.ipynb") -> Path:
        root = make_course(tmp_path / "course", solutions={})
        target = root / "solutions" / name
        if isinstance(source, str):
            shutil.copyfile(FIXTURES / source, target)
        else:
            write_notebook(target, source)
        return root

    return make
