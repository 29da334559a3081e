"""Shared helper of the claim tests: load a solution notebook's definitions like the grader."""

from __future__ import annotations

from pathlib import Path

from nnlite.grading.notebook import Program, read_notebook
from nnlite.grading.proxy import Reference

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"


def solution_definitions(notebook: str, names: list[str]) -> dict:
    """The namespace holding `names` (and what they need) from ``solutions/<notebook>``."""
    path = SOLUTIONS / notebook
    nb = read_notebook(path)
    assert nb.error is None, nb.error
    return Reference(Program(nb.cells), names, path.name).ns
